#include "analyses/caches.h"

#include "base/log.h"
#include "base/progress.h"

#include <stdlib.h>
#include <string.h>

#include "base/vector.h"

/* Containers below this retained size are not suspects of anything. */
static const uint64_t min_container_retained = 64 * 1024;
static const size_t max_containers = 100000; /* a bound on hostile input */
static const size_t max_reported = 500;

/* Whether id is held where a cache lives: a value of a module's or a class's
 * namespace, or a running frame's local. Namespaces themselves are not
 * caches. */
static bool long_lived_holder(struct pca_objects *o, const struct pca_heap *h,
			      const struct pca_refgraph *g, uint32_t id)
{
	uint32_t p = g->parent[id];
	if (p == PCA_GRAPH_VIRTUAL_ROOT)
		return g->root_kind[id] == PCA_ROOT_FRAME;
	if (p == PCA_GRAPH_UNREACHABLE)
		return false;
	enum pca_kind pk = o->infos[h->type[p]].kind;
	if (pk == PCA_KIND_MODULE || pk == PCA_KIND_TYPE)
		return false; /* id is the namespace itself */
	if (pk != PCA_KIND_DICT)
		return pk == PCA_KIND_FRAME;
	uint32_t pp = g->parent[p];
	if (pp == PCA_GRAPH_VIRTUAL_ROOT || pp == PCA_GRAPH_UNREACHABLE)
		return false;
	enum pca_kind ppk = o->infos[h->type[pp]].kind;
	return ppk == PCA_KIND_MODULE || ppk == PCA_KIND_TYPE;
}

static int by_retained(const void *a, const void *b)
{
	const struct pca_cache *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool push(struct pca_caches *c, size_t *cap, const struct pca_cache *item)
{
	if (!PCA_VECTOR_GROW(&c->items, cap, c->count + 1, 64))
		return false;
	c->items[c->count++] = *item;
	return true;
}

struct pca_error *pca_caches_compute(struct pca_objects *o, const struct pca_heap *h,
				     const struct pca_refgraph *g, struct pca_caches *ret)
{
	memset(ret, 0, sizeof(*ret));
	double t0 = pca_now_seconds();
	size_t cap = 0, containers = 0;
	for (uint32_t v = 0; v < h->count; v++) {
		const struct pca_type_info *t = &o->infos[h->type[v]];
		uint64_t a = h->addr[v];
		struct pca_cache c = {.id = v, .retained = g->retained[v], .maxsize = -1, .kind = t->name};
		switch (t->kind) {
		case PCA_KIND_LRU_CACHE: {
			struct pca_lru_info lru;
			pca_objects_lru(o, a, &lru);
			c.lru = true;
			c.kind = "lru_cache";
			c.maxsize = lru.maxsize;
			c.typed = lru.typed;
			c.hits = lru.hits;
			c.misses = lru.misses;
			c.entries = lru.entries;
			/* lru_cache_new: maxsize=None is stored as -1 */
			c.unbounded = c.maxsize < 0;
			if (lru.func)
				c.function = pca_objects_function_name(o, lru.func);
			if (!push(ret, &cap, &c)) {
				free(c.function);
				goto nomem;
			}
			continue;
		}
		case PCA_KIND_DICT:
		case PCA_KIND_ODICT:
		case PCA_KIND_LIST:
		case PCA_KIND_SET:
			pca_objects_len(o, a, t, &c.entries);
			c.unbounded = true;
			break;
		case PCA_KIND_DEQUE: {
			int64_t maxlen;
			pca_objects_len(o, a, t, &c.entries);
			c.unbounded = pca_objects_deque_maxlen(o, a, &maxlen) && maxlen < 0;
			break;
		}
		default:
			continue;
		}
		if (c.retained < min_container_retained || containers >= max_containers ||
		    !long_lived_holder(o, h, g, v))
			continue;
		containers++;
		if (!push(ret, &cap, &c))
			goto nomem;
	}
	pca_sort(ret->items, ret->count, sizeof(*ret->items), by_retained);
	/* The report names each suspect's owner (a walk per row): keep the
	 * biggest, a person reads no further. */
	while (ret->count > max_reported) {
		ret->count--;
		free(ret->items[ret->count].function);
	}
	pca_log_timing("caches: %.3f s (%zu)\n", pca_now_seconds() - t0, ret->count);
	return NULL;
nomem:
	pca_caches_deinit(ret);
	return &pca_error_nomem;
}

void pca_caches_deinit(struct pca_caches *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->items[i].function);
	free(c->items);
	memset(c, 0, sizeof(*c));
}

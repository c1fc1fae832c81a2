#include "analyses/caches.h"

#include <stdlib.h>
#include <string.h>

/* Containers below this retained size are not suspects of anything. */
static const uint64_t min_container_retained = 64 * 1024;
static const size_t max_containers = 100000; /* a bound on hostile input */
static const size_t max_reported = 500;

static bool rd(struct pca_objects *o, uint64_t base, enum pca_field f, uint64_t *ret)
{
	return pca_interp_read_field(o->interp, base, f, ret);
}

static char *read_str(struct pca_objects *o, uint64_t addr)
{
	char *s = NULL;
	struct pca_error *err = pca_interp_read_str(o->interp, addr, 200, &s);
	pca_error_destroy(err);
	return s;
}

/* "module.qualname" of a function object, as the contract names functions. */
static char *function_name(struct pca_objects *o, uint64_t func)
{
	uint64_t qualname = 0, module = 0;
	rd(o, func, PCA_F_FUNC_QUALNAME, &qualname);
	rd(o, func, PCA_F_FUNC_MODULE, &module);
	char *q = qualname ? read_str(o, qualname) : NULL;
	char *m = module ? read_str(o, module) : NULL;
	char *name = NULL;
	if (q && m && strcmp(m, "builtins") != 0)
		name = pca_asprintf("%s.%s", m, q);
	else if (q)
		name = strdup(q);
	free(q);
	free(m);
	return name;
}

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
	if (c->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct pca_cache *items = realloc(c->items, ncap * sizeof(*items));
		if (!items)
			return false;
		c->items = items;
		*cap = ncap;
	}
	c->items[c->count++] = *item;
	return true;
}

struct pca_error *pca_caches_compute(struct pca_objects *o, const struct pca_heap *h,
				     const struct pca_refgraph *g, struct pca_caches *ret)
{
	memset(ret, 0, sizeof(*ret));
	size_t cap = 0, containers = 0;
	for (uint32_t v = 0; v < h->count; v++) {
		const struct pca_type_info *t = &o->infos[h->type[v]];
		uint64_t a = h->addr[v], x;
		struct pca_cache c = {.id = v, .retained = g->retained[v], .maxsize = -1, .kind = t->name};
		switch (t->kind) {
		case PCA_KIND_LRU_CACHE: {
			uint64_t func = 0, cache = 0;
			c.lru = true;
			c.kind = "lru_cache";
			if (rd(o, a, PCA_F_LRU_MAXSIZE, &x))
				c.maxsize = (int64_t)x;
			if (rd(o, a, PCA_F_LRU_TYPED, &x))
				c.typed = (x & 0xffffffffu) != 0;
			rd(o, a, PCA_F_LRU_HITS, &c.hits);
			rd(o, a, PCA_F_LRU_MISSES, &c.misses);
			if (rd(o, a, PCA_F_LRU_CACHE, &cache) && cache)
				rd(o, cache, PCA_F_DICT_USED, &c.entries);
			/* lru_cache_new: maxsize=None is stored as -1 */
			c.unbounded = c.maxsize < 0;
			if (rd(o, a, PCA_F_LRU_FUNC, &func) && func)
				c.function = function_name(o, func);
			if (!push(ret, &cap, &c)) {
				free(c.function);
				goto nomem;
			}
			continue;
		}
		case PCA_KIND_DICT:
		case PCA_KIND_ODICT:
			rd(o, a, PCA_F_DICT_USED, &c.entries);
			c.unbounded = true;
			break;
		case PCA_KIND_LIST:
			rd(o, a, PCA_F_OB_SIZE, &c.entries);
			c.unbounded = true;
			break;
		case PCA_KIND_SET:
			rd(o, a, PCA_F_SET_USED, &c.entries);
			c.unbounded = true;
			break;
		case PCA_KIND_DEQUE:
			rd(o, a, PCA_F_OB_SIZE, &c.entries);
			c.unbounded = rd(o, a, PCA_F_DEQUE_MAXLEN, &x) && (int64_t)x < 0;
			break;
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

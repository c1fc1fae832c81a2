#include "analyses/diff.h"

#include <stdlib.h>
#include <string.h>

static int delta_by_name(const void *a, const void *b)
{
	return strcmp(((const struct pca_type_delta *)a)->name, ((const struct pca_type_delta *)b)->name);
}

static int delta_by_growth(const void *a, const void *b)
{
	const struct pca_type_delta *x = a, *y = b;
	int64_t dx = x->size - x->size_before, dy = y->size - y->size_before;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A cache's identity across two cores: the lru_cache's function, or the
 * container's owner path. */
static const char *cache_key(const struct pca_diff_side *side, size_t i)
{
	const struct pca_cache *c = &side->caches->items[i];
	if (c->lru && c->function)
		return c->function;
	return side->cache_owners && side->cache_owners[i] ? side->cache_owners[i] : "";
}

struct pca_error *pca_diff_compute(const struct pca_diff_side *a, const struct pca_diff_side *b,
				   struct pca_diff *ret)
{
	*ret = (struct pca_diff){0};
	size_t n = a->summary->nrows + b->summary->nrows;
	struct pca_type_delta *d = calloc(n ? n : 1, sizeof(*d));
	ret->caches = calloc(b->caches->count ? b->caches->count : 1, sizeof(*ret->caches));
	if (!d || !ret->caches) {
		free(d);
		pca_diff_deinit(ret);
		return &pca_error_nomem;
	}
	size_t k = 0;
	for (size_t i = 0; i < a->summary->nrows; i++)
		d[k++] = (struct pca_type_delta){a->summary->rows[i].name, (int64_t)a->summary->rows[i].count,
						 (int64_t)a->summary->rows[i].size, 0, 0};
	for (size_t i = 0; i < b->summary->nrows; i++)
		d[k++] = (struct pca_type_delta){b->summary->rows[i].name, 0, 0,
						 (int64_t)b->summary->rows[i].count,
						 (int64_t)b->summary->rows[i].size};
	pca_sort(d, k, sizeof(*d), delta_by_name);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && strcmp(d[m - 1].name, d[i].name) == 0) {
			d[m - 1].count_before += d[i].count_before;
			d[m - 1].size_before += d[i].size_before;
			d[m - 1].count += d[i].count;
			d[m - 1].size += d[i].size;
			continue;
		}
		d[m++] = d[i];
	}
	pca_sort(d, m, sizeof(*d), delta_by_growth);
	/* only the types that changed */
	size_t changed = 0;
	for (size_t i = 0; i < m; i++)
		if (d[i].count != d[i].count_before || d[i].size != d[i].size_before)
			d[changed++] = d[i];
	ret->types = d;
	ret->ntypes = changed;
	ret->objects = (int64_t)b->summary->objects - (int64_t)a->summary->objects;
	ret->size = (int64_t)b->summary->size - (int64_t)a->summary->size;
	/* the caches of the second core that have more entries or retain more
	 * than in the first */
	for (size_t i = 0; i < b->caches->count; i++) {
		const struct pca_cache *c = &b->caches->items[i];
		const char *key = cache_key(b, i);
		const struct pca_cache *before = NULL;
		for (size_t x = 0; x < a->caches->count && !before; x++)
			if (strcmp(cache_key(a, x), key) == 0)
				before = &a->caches->items[x];
		uint64_t entries_before = before ? before->entries : 0;
		uint64_t retained_before = before ? before->retained : 0;
		if (c->entries <= entries_before && c->retained <= retained_before)
			continue;
		ret->caches[ret->ncaches++] = (struct pca_cache_growth){c, key, entries_before, retained_before};
	}
	return NULL;
}

void pca_diff_deinit(struct pca_diff *d)
{
	free(d->types);
	free(d->caches);
	*d = (struct pca_diff){0};
}

#include "analyses/suspects.h"

static bool is_suspect(const struct pca_cache *k, uint64_t heap_size)
{
	return k->unbounded && k->held_by == PCA_HELD_BY_PROGRAM && k->entries >= PCA_SUSPECT_MIN_ENTRIES &&
	       k->retained * 100 >= heap_size;
}

void pca_suspects_find(const struct pca_summary *summary, const struct pca_caches *caches,
		       const struct pca_refgraph *g, struct pca_suspects *ret)
{
	ret->heap_size = summary->size ? summary->size : 1;
	ret->ncaches = 0;
	for (size_t i = 0; i < caches->count && ret->ncaches < PCA_SUSPECT_CACHES_MAX; i++)
		if (is_suspect(&caches->items[i], ret->heap_size))
			ret->caches[ret->ncaches++] = i;
	ret->garbage_objects = g->unreachable_count;
	ret->garbage_size = g->unreachable_size;
}

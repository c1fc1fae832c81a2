#include "analyses/suspects.h"

void pca_suspects_find(const struct pca_summary *summary, const struct pca_caches *caches,
		       const struct pca_refgraph *g, struct pca_suspects *ret)
{
	ret->heap_size = summary->size ? summary->size : 1;
	ret->ncaches = 0;
	for (size_t i = 0; i < caches->count && ret->ncaches < PCA_SUSPECT_CACHES_MAX; i++) {
		const struct pca_cache *k = &caches->items[i];
		/* below 1% of the heap, or bounded: not a suspect */
		if (!k->unbounded || k->retained * 100 < ret->heap_size)
			continue;
		ret->caches[ret->ncaches++] = i;
	}
	ret->garbage_objects = g->unreachable_count;
	ret->garbage_size = g->unreachable_size;
}

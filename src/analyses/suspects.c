#include "analyses/suspects.h"

/* The share of the heap (in percent) a container must retain to be a
 * suspect, by whose it is. The program's: 1%. A third-party library's or a
 * standard library module's (not one of the listed tables): 10%. A library
 * fills its tables at import (idna's joining types, chardet's language
 * models: hundreds of KiB each, a few % of a small program's heap) and they
 * keep that fixed size; a leak in a library (logging's loggerDict given a
 * logger per request) grows until it dominates the core of a process that
 * ran out of memory, far above 10%. The interpreter's state and the listed
 * standard library tables: never. */
static unsigned min_share_percent(const struct pca_cache *k)
{
	if (k->listed || k->held_by == PCA_HELD_BY_INTERPRETER)
		return 0;
	return k->held_by == PCA_HELD_BY_PROGRAM ? 1 : PCA_SUSPECT_LIBRARY_SHARE;
}

static bool is_suspect(const struct pca_cache *k, uint64_t heap_size)
{
	unsigned share = min_share_percent(k);
	return share && k->unbounded && k->entries >= PCA_SUSPECT_MIN_ENTRIES && k->retained * 100 >= heap_size * share;
}

void pca_suspects_find(const struct pca_summary *summary, const struct pca_caches *caches,
		       const struct pca_refgraph *g, const struct pca_gc_state *gc,
		       struct pca_suspects *ret)
{
	ret->heap_size = summary->size ? summary->size : 1;
	ret->ncaches = 0;
	for (size_t i = 0; i < caches->count && ret->ncaches < PCA_SUSPECT_CACHES_MAX; i++)
		if (is_suspect(&caches->items[i], ret->heap_size))
			ret->caches[ret->ncaches++] = i;
	ret->garbage_objects = g->unreachable_count;
	ret->garbage_size = g->unreachable_size;
	ret->collector_enabled = gc ? gc->enabled : -1;
	ret->garbage_suspect = ret->garbage_objects &&
			       (ret->collector_enabled == 0 ||
				ret->garbage_size * 100 >= ret->heap_size * PCA_SUSPECT_GARBAGE_SHARE);
}

/* suspects.h: leak suspects, for a person opening a core: the unbounded
 * caches that retain at least 1% of the heap (at most five, most retained
 * first), then the unreachable garbage the collector has not freed. It only
 * selects from the caches and garbage analyses; no printing. */
#ifndef PCA_ANALYSES_SUSPECTS_H
#define PCA_ANALYSES_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/caches.h"
#include "analyses/refgraph.h"
#include "analyses/summary.h"

enum { PCA_SUSPECT_CACHES_MAX = 5 };

struct pca_suspects {
	uint64_t heap_size;                       /* at least 1: shares are of it */
	size_t caches[PCA_SUSPECT_CACHES_MAX];    /* indexes into the caches */
	size_t ncaches;
	uint64_t garbage_objects, garbage_size;   /* uncollected garbage; 0: none */
};

void pca_suspects_find(const struct pca_summary *summary, const struct pca_caches *caches,
		       const struct pca_refgraph *g, struct pca_suspects *ret);

#endif

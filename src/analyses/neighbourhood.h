/* neighbourhood.h: what surrounds one object in the reference graph, for
 * show (referents and referrers, value preview, owner), path (the chain of
 * references from a root) and graph (the referents, the referrers and
 * theirs, each list cut so that a drawing stays readable). Every list is
 * bounded; the totals say how much was cut. Data in, result out. */
#ifndef PCA_ANALYSES_NEIGHBOURHOOD_H
#define PCA_ANALYSES_NEIGHBOURHOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyses/refgraph.h"

enum {
	PCA_OBJECT_LISTED = 64,    /* referents, referrers shown by show */
	PCA_PATH_MAX = 256,        /* steps of a path */
	PCA_HOOD_MAX_NODES = 80,   /* graph: nodes in all */
	PCA_HOOD_FANOUT = 25,      /* graph: referents, referrers of the object */
	PCA_HOOD_FANIN2 = 8,       /* graph: referrers of each referrer */
	PCA_OWNER_MAX = 512,
};

/* show */
struct pca_object_view {
	uint32_t id;
	char owner[PCA_OWNER_MAX];  /* "" when none */
	char preview[256];
	uint32_t referents[PCA_OBJECT_LISTED];
	size_t nreferents;
	uint64_t referents_total;   /* those in the census */
	uint32_t referrers[PCA_OBJECT_LISTED];
	size_t nreferrers;
	uint64_t referrers_total;
};
void pca_object_view_compute(struct pca_objects *objects, const struct pca_heap *heap,
			     const struct pca_refgraph *g, uint32_t id, struct pca_object_view *ret);

/* path: chain[n - 1] is the root end, chain[0] the object. */
struct pca_object_path {
	uint32_t id;
	uint32_t chain[PCA_PATH_MAX];
	size_t n;
	bool reachable;             /* the chain starts at a root */
	char owner[PCA_OWNER_MAX];
};
void pca_object_path_compute(struct pca_objects *objects, const struct pca_heap *heap,
			     const struct pca_refgraph *g, uint32_t id, struct pca_object_path *ret);

/* graph: ids[0] is the object; owners[i] for ids[i]. */
struct pca_neighbourhood {
	uint32_t id;
	uint32_t ids[PCA_HOOD_MAX_NODES];
	char owners[PCA_HOOD_MAX_NODES][PCA_OWNER_MAX];
	size_t n;
};
void pca_neighbourhood_compute(struct pca_objects *objects, const struct pca_heap *heap,
			       const struct pca_refgraph *g, uint32_t id, struct pca_neighbourhood *ret);
bool pca_neighbourhood_has(const struct pca_neighbourhood *h, uint32_t id);

#endif

/* top.h: the largest objects by size (sys.getsizeof), largest first, ties
 * by lower id, each with its owner path. The first k of a top n are the
 * top k. Data in, result out; no printing. */
#ifndef PCA_ANALYSES_TOP_H
#define PCA_ANALYSES_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/refgraph.h"
#include "base/error.h"

struct pca_top {
	uint32_t *ids;  /* count */
	char **owners;  /* per row: owner path, "" when none (garbage) */
	size_t count;
};

struct pca_error *pca_top_compute(struct pca_objects *objects, const struct pca_heap *heap,
				  const struct pca_refgraph *g, size_t n, struct pca_top *ret);
void pca_top_deinit(struct pca_top *t);

#endif

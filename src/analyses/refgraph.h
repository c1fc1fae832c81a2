/* refgraph.h: the reference graph of the census and what is computed on it:
 * the collector's verdict (which tracked objects a full collection would
 * free), the roots, dominators and retained sizes, and shortest paths from
 * the roots for owner paths.
 *
 * Edges are the references objects hold (objects/ says which; the static
 * type of an instance and other reached-but-not-referenced objects are left
 * out). Roots, in the order owner paths prefer them: module objects, what
 * running frames hold, then every object whose reference count exceeds the
 * references the graph has to it (held by C code: what the collector treats
 * as externally referenced). It computes; report/ prints.
 */
#ifndef PCA_ANALYSES_REFGRAPH_H
#define PCA_ANALYSES_REFGRAPH_H

#include "base/error.h"
#include "base/progress.h"
#include "graph/graph.h"
#include "heap/heap.h"
#include "objects/objects.h"

enum pca_root_kind {
	PCA_ROOT_NONE = 0,
	PCA_ROOT_MODULE,
	PCA_ROOT_FRAME,     /* held by a running frame (3.11+) or a running frame object */
	PCA_ROOT_EXTERNAL,  /* reference count above the graph's in-degree */
};

/* A frame-held root: which local of which function holds it (3.11+). */
struct pca_frame_root {
	uint32_t id;
	uint64_t code;      /* code object of the frame */
	uint64_t globals;   /* its globals dict */
	int64_t slot;       /* index in localsplus, -1 for the frame's own references */
};

struct pca_refgraph {
	struct pca_graph graph;
	uint32_t *roots;
	size_t nroots;
	uint8_t *root_kind;       /* per id: enum pca_root_kind */
	bool *unreachable;        /* per id: the collector would free it */
	uint64_t unreachable_count, unreachable_size;
	uint64_t *retained;       /* the dominator tree is freed once these are summed */
	uint32_t *parent;         /* shortest-path tree from the roots */
	struct pca_frame_root *frame_roots;
	size_t nframe_roots;
};

/* Takes the heap's recorded references (PCA_HEAP_EDGES) when it has them. */
struct pca_error *pca_refgraph_build(struct pca_objects *objects, struct pca_heap *heap,
				     struct pca_refgraph *ret);
void pca_refgraph_deinit(struct pca_refgraph *g);

#endif

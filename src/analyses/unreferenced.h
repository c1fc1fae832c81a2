/* unreferenced.h: "unreferenced objects" — pymalloc blocks in use that hold a
 * valid-looking object the enumeration did not reach: a reference leaked by
 * C code, or an object only C code holds (a static cache). They are reported
 * beside the census, never added to its type table.
 *
 * A block holds an object when, at the block's start (non-GC types) or after
 * the GC head (GC types, and the 3.11+ pre-header), there is a valid type
 * pointer and a live reference count (> 0 and below 2^40: objects on a
 * type's free list have a count of 0, and pointer arrays that look like an
 * object have a pointer there). Larger allocations (above pymalloc's
 * threshold) are not seen: only pymalloc records its blocks.
 *
 * Three names, never mixed: "unreferenced objects" are these; "unreachable"
 * (garbage) is what the cycle collector would free (contract word,
 * totals.unreachable, analyses/refgraph.h); "leak suspects" are the report's
 * short list (analyses/suspects.h). The JSON key of this section keeps its
 * schema 1 name, "unreachable_allocations".
 */
#ifndef PCA_ANALYSES_UNREFERENCED_H
#define PCA_ANALYSES_UNREFERENCED_H

#include "base/error.h"
#include "heap/arenas.h"
#include "heap/heap.h"
#include "objects/objects.h"

struct pca_unreferenced_row {
	const char *name; /* stable, as in pca_summary_row */
	uint64_t count, size;
};

struct pca_unreferenced {
	struct pca_unreferenced_row *rows; /* by size, descending */
	size_t nrows;
	uint64_t objects, size;
	uint64_t blocks_checked;
};

struct pca_error *pca_unreferenced_compute(struct pca_objects *objects, const struct pca_heap *heap,
				    const struct pca_arenas *arenas, struct pca_unreferenced *ret);
void pca_unreferenced_deinit(struct pca_unreferenced *l);

#endif

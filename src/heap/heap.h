/* heap.h: object enumeration -> one dense object index.
 *
 * Objects are found by walking the cycle collector's lists (every generation
 * and the permanent one, of every interpreter), each walk bounded and
 * checked (each node's prev must point back). The index is struct-of-arrays
 * sorted by address, ids are dense uint32_t. Invalid objects (unreadable, bad
 * type pointer) are counted and skipped, never guessed.
 * Then the closure: every object referred to (objects/ says what each
 * type refers to) joins the index once, found through a set of addresses.
 */
#ifndef PCA_HEAP_HEAP_H
#define PCA_HEAP_HEAP_H

#include <stdint.h>

#include "base/error.h"
#include "objects/objects.h"

struct pca_heap {
	uint32_t count;
	uint64_t *addr;     /* sorted ascending */
	uint32_t *type;     /* index into objects->infos */
	uint64_t *size;     /* sys.getsizeof */
	uint64_t gc_tracked;/* objects found in the collector's lists */
	uint64_t skipped;   /* candidates that were not valid objects */
	uint64_t lists_cut; /* GC lists whose walk ended on a broken link */
};

struct pca_error *pca_heap_build(struct pca_objects *objects, struct pca_warnings *warnings,
				 struct pca_heap *ret);
void pca_heap_deinit(struct pca_heap *h);

#endif

/* lookup.h: address -> object for a user's address (show/path/graph ADDR).
 * pca_heap_find only answers for an object's start; this also answers for
 * an address inside an object's body or in the collector's header (or the
 * 3.11+ pre-header) just before it. It reads the item count of var-sized
 * objects from the core; it does not enumerate or validate objects.
 */
#ifndef PCA_HEAP_LOOKUP_H
#define PCA_HEAP_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "heap/heap.h"
#include "objects/objects.h"

/* The object that contains addr: the last object starting at or below it
 * whose body (basicsize + items) covers it, or the one whose collector
 * header or pre-header it falls in. */
bool pca_heap_object_at(const struct pca_heap *h, const struct pca_objects *objects,
			uint64_t addr, uint32_t *ret);

#endif

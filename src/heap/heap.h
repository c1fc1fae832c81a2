/* heap.h: object enumeration -> one dense object index.
 *
 * Objects are found by walking the cycle collector's lists (every generation
 * and the permanent one, of every interpreter), each walk bounded and
 * checked (each node's prev must point back). The index is struct-of-arrays
 * with dense uint32_t ids; address order and address -> id lookups come
 * from a bitmap of object starts (see struct pca_heap). Invalid objects (unreadable, bad
 * type pointer) are counted and skipped, never guessed.
 * Then the closure: every object referred to (objects/ says what each
 * type refers to) joins the index once, found through a bitmap of object
 * starts. The closure runs on several threads on a large heap (PCA_THREADS
 * sets how many); the result is the same on any number.
 */
#ifndef PCA_HEAP_HEAP_H
#define PCA_HEAP_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/progress.h"
#include "objects/objects.h"

struct pca_heap {
	uint32_t count;
	/* By id. Ids: the collector's objects first (below gc_tracked), then
	 * the others, each group in address order: they depend on the core
	 * alone, not on the order in which the census' threads met them. */
	uint64_t *addr;
	uint32_t *type;     /* index into objects->infos */
	/* sys.getsizeof through pca_heap_size: 4 bytes per object, and the
	 * rare size >= 4 GiB (a huge list or bytes) in `big`, by id */
	uint32_t *size32;
	struct pca_heap_big {
		uint32_t id;
		uint64_t size;
	} *big;
	size_t nbig, big_capacity;
	/* address -> id (pca_heap_find): one bit per 8 bytes of saved memory,
	 * set for each object (`bits`) and for the collector's
	 * (`tracked_bits`), counted per 64-bit word in `prefix` and
	 * `tracked_prefix`; an object's id is its rank in its group (the first
	 * other object's id is untracked_base). Objects outside saved memory
	 * in `outside`, sorted, with their ids in `outside_id`. */
	struct pca_target *target;
	uint64_t *bits, *tracked_bits, *seg_bit, *outside;
	uint32_t *prefix, *tracked_prefix, *outside_id;
	uint32_t untracked_base;
	size_t nsegments, noutside;
	/* With PCA_HEAP_EDGES: the references found during the closure, as a
	 * forward graph by id (what pca_graph_adopt takes). */
	uint64_t *edge_start; /* count + 1 */
	uint32_t *edges;
	uint64_t nedges;
	uint64_t gc_tracked;/* objects found in the collector's lists */
	uint64_t skipped;   /* candidates that were not valid objects */
	uint64_t lists_cut; /* GC lists whose walk ended on a broken link */
	/* The collector's state (the main interpreter's), read beside its
	 * lists: whether garbage in cycles is collected at all. */
	struct pca_gc_state {
		int enabled;          /* 1, 0 (gc.disable()), -1 unknown (3.6, no layout) */
		bool generations_known;
		int64_t count[3], threshold[3];
	} gc;
};

enum pca_heap_flags {
	PCA_HEAP_EDGES = 1, /* keep the references (8 bytes per reference while building) */
};
struct pca_error *pca_heap_build(struct pca_objects *objects, struct pca_warnings *warnings,
				 struct pca_progress *progress, unsigned flags, struct pca_heap *ret);
void pca_heap_deinit(struct pca_heap *h);
/* Whether any object starts at the bitmap's bits [first, end) (bit = the
 * segment's seg_bit + offset / 8). */
bool pca_heap_any_bit(const struct pca_heap *h, uint64_t first, uint64_t end);
/* Whether any object starts in [addr, addr + len) (saved memory only). */
bool pca_heap_any_in(const struct pca_heap *h, uint64_t addr, uint64_t len);
/* The id of the object that starts at addr. */
bool pca_heap_find(const struct pca_heap *h, uint64_t addr, uint32_t *ret);

/* Call visit(ctx, addr, bit) for each object that starts in share `part`
 * of `nparts` of saved memory (split by h->bits), in address order: a pass
 * over the objects split over threads (base/parallel.h). Inline, so that
 * visit is inlined too. */
static inline __attribute__((always_inline)) void
pca_heap_for_each_in_share(const struct pca_heap *h, unsigned part, unsigned nparts,
			   void (*visit)(void *ctx, uint64_t addr, uint64_t bit), void *ctx)
{
	uint64_t total = h->seg_bit[h->nsegments];
	uint64_t begin = total * part / nparts, stop = total * (part + 1) / nparts;
	for (size_t seg = 0; seg < h->nsegments; seg++) {
		if (h->seg_bit[seg + 1] <= begin || h->seg_bit[seg] >= stop)
			continue;
		uint64_t vaddr, saved, end = h->seg_bit[seg + 1] < stop ? h->seg_bit[seg + 1] : stop;
		pca_target_segment(h->target, seg, &vaddr, &saved);
		for (uint64_t bit = h->seg_bit[seg] > begin ? h->seg_bit[seg] : begin; bit < end;) {
			uint64_t word = h->bits[bit / 64] >> (bit & 63);
			if (!word) {
				bit = (bit | 63) + 1;
				continue;
			}
			bit += (uint64_t)__builtin_ctzll(word);
			if (bit >= end)
				break;
			visit(ctx, vaddr + (bit - h->seg_bit[seg]) * 8, bit);
			bit++;
		}
	}
}

/* size32's mark of a size kept in `big`. */
#define PCA_HEAP_BIG_SIZE UINT32_MAX
uint64_t pca_heap_big_size(const struct pca_heap *h, uint32_t id);
/* sys.getsizeof of object id. */
static inline uint64_t pca_heap_size(const struct pca_heap *h, uint32_t id)
{
	uint32_t s = h->size32[id];
	return s != PCA_HEAP_BIG_SIZE ? s : pca_heap_big_size(h, id);
}

#endif

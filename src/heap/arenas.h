/* arenas.h: pymalloc's arenas, pools and size classes, read from the core:
 * what sys._debugmallocstats() would have printed for the main interpreter
 * at the moment the process died, plus the addresses of every allocated
 * block for cross-checks.
 *
 * The walk mirrors _PyObject_DebugMallocStats (Objects/obmalloc.c, 3.6-3.13):
 * every arena_object with an address, every pool carved from it (below
 * pool_address); a pool with ref.count > 0 is in use. Each pool is also
 * checked against its own free list: the blocks below nextoffset that are not
 * on the freeblock list must number ref.count, and the never-used blocks plus
 * the free list must fill the pool. Every walk is bounded (arenas by
 * maxarenas, pools by the arena size, free lists by the pool's capacity, each
 * pointer checked to lie on a block boundary inside its pool); anything
 * inconsistent is counted, skipped when it cannot be trusted, and reported as
 * one warning per kind.
 *
 * Constants are not assumed: the pool size and the alignment are derived from
 * the headers of the partly used pools on usedpools[] (maxnextoffset =
 * POOL_SIZE - block size, block size = (szidx + 1) * ALIGNMENT) and checked
 * against every pool walked; the arena size is MAX_POOLS_IN_ARENA (DWARF /
 * symbol size of nfp2lasta[], 3.8+) or, for 3.6-3.7, each arena's ntotalpools
 * (+1 when the arena is not pool-aligned), all arenas agreeing. The source of
 * each is recorded.
 *
 * Not covered: allocations above the small-request threshold (the C
 * allocator's), other interpreters with their own obmalloc state (3.12+),
 * free-threaded builds (mimalloc).
 */
#ifndef PCA_HEAP_ARENAS_H
#define PCA_HEAP_ARENAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "interp/interp.h"
#include "layout/obmalloc_layout.h"

struct pca_arenas_class {
	uint32_t size;        /* bytes per block: (index + 1) * alignment */
	uint64_t pools;       /* pools of this class in use (ref.count > 0) */
	uint64_t blocks_used; /* sum of ref.count */
	uint64_t blocks_free; /* never used (nextoffset..maxnextoffset) + free list */
};

struct pca_arenas {
	struct pca_obmalloc_layout layout;
	uint64_t state_address;       /* 0 for the 3.6-3.11 statics */
	uint64_t interp;              /* the interpreter whose state this is */

	/* Constants and where each came from. */
	uint64_t arena_size, pool_size, alignment, pool_overhead;
	const char *arena_size_source, *pool_size_source, *alignment_source,
		*pool_overhead_source, *classes_source;
	uint64_t pool_size_votes;     /* partly used pools that agreed on pool_size/alignment */
	uint64_t arena_size_votes;    /* arenas whose ntotalpools agreed on arena_size */

	/* pymalloc's own counters. */
	uint64_t maxarenas;
	uint64_t narenas_currently_allocated, ntimes_arena_allocated, narenas_highwater;
	bool have_raw_allocated_blocks;
	uint64_t raw_allocated_blocks; /* 3.9+: blocks from the C allocator (> threshold) */

	/* What the walk found (the _debugmallocstats numbers). */
	uint64_t arenas;              /* arena objects with an address */
	uint64_t arenas_reclaimed;    /* ntimes_arena_allocated - arenas */
	uint64_t pools_used;          /* ref.count > 0 */
	uint64_t pools_free;          /* sum of nfreepools: empty + never carved */
	uint64_t pools_empty;         /* carved, ref.count == 0 */
	uint64_t bytes_in_arenas;     /* arenas * arena_size */
	uint64_t bytes_used;          /* blocks in use */
	uint64_t bytes_free;          /* free blocks in used pools (fragmentation) */
	uint64_t bytes_free_pools;    /* pools_free * pool_size */
	uint64_t bytes_pool_headers;  /* pools_used * pool_overhead */
	uint64_t bytes_quantization;  /* per used pool: (pool_size - overhead) % size */
	uint64_t bytes_arena_alignment; /* pool_size per arena not pool-aligned */
	uint64_t blocks_used, blocks_free;

	uint32_t nclasses;            /* entries of classes: usedpools[] length / 2 */
	struct pca_arenas_class *classes;

	/* Pools in use that passed validation, sorted by address. */
	uint64_t *pools;
	size_t npools;

	/* Problems, each also one warning line. */
	uint64_t arenas_bad;          /* pools not walked: pool_address out of range */
	uint64_t arenas_inconsistent; /* ntotalpools/nfreepools/freepools disagree */
	uint64_t pools_unreadable;    /* not in the core: not counted */
	uint64_t pools_bad;           /* header fails validation: not counted */
	uint64_t pools_inconsistent;  /* free list disagrees with ref.count: counted by ref.count */
	bool complete;                /* no problem at all: the numbers are exact */
};

/* Walk the main interpreter's pymalloc state. Errors: no pymalloc in this
 * build, state not in the core, constants not derivable; problems with single
 * arenas or pools become warnings and counts instead. */
struct pca_error *pca_arenas_compute(struct pca_interp *in, struct pca_warnings *w,
				     struct pca_arenas *ret);
void pca_arenas_deinit(struct pca_arenas *a);

/* Called for each allocated block (below nextoffset and not on its pool's
 * free list) of each pool in a->pools, in address order; return false to
 * stop. */
typedef bool (*pca_arenas_block_fn)(void *ctx, uint64_t block, uint32_t size);
/* Re-reads the pools from the core; a pool that cannot be read again or
 * fails validation is skipped and counted in *ret_skipped. */
struct pca_error *pca_arenas_for_each_used_block(struct pca_interp *in,
						 const struct pca_arenas *a,
						 pca_arenas_block_fn fn, void *ctx,
						 uint64_t *ret_skipped);
/* The same for the pools a->pools[first_pool] to a->pools[end_pool - 1]
 * (a share of the work for one thread: it may run beside others). */
struct pca_error *pca_arenas_for_each_used_block_in(struct pca_interp *in, const struct pca_arenas *a,
						    size_t first_pool, size_t end_pool,
						    pca_arenas_block_fn fn, void *ctx,
						    uint64_t *ret_skipped);
/* Index in a->pools of the used pool holding addr, or false. */
bool pca_arenas_find_pool(const struct pca_arenas *a, uint64_t addr, size_t *ret);

#endif

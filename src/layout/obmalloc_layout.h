/* obmalloc_layout.h: pymalloc's structures and where its state lives, from
 * the DWARF and symbol table of the exact build (Objects/obmalloc.c,
 * Include/internal/pycore_obmalloc.h at each tag).
 *
 * Resolves, by name, the members of struct arena_object and struct
 * pool_header, and the location of the allocator state:
 *   3.6-3.11  file statics of Objects/obmalloc.c (`arenas`, `maxarenas`,
 *             `usedpools`, ...): ELF symbols, sizes from st_size;
 *   3.12      `interp->obmalloc`, an embedded struct _obmalloc_state (the
 *             main interpreter always has its own: has_own_state());
 *             `_PyRuntime.obmalloc` holds only dump_debug_stats and leaks;
 *   3.13      `interp->obmalloc`, a pointer (to the static
 *             obmalloc_state_main for the main interpreter).
 * The constants that DWARF can give are given here with where they came
 * from: the length of usedpools[] (an upper bound on the number of size
 * classes) and, from 3.8, MAX_POOLS_IN_ARENA (nfp2lasta[] has one more
 * entry). The pool size, the alignment and (3.6-3.7) the arena size are not
 * in the debug info: heap/arenas.c derives them from the pools and arenas in
 * the core and validates them. This module does not read the target.
 */
#ifndef PCA_LAYOUT_OBMALLOC_LAYOUT_H
#define PCA_LAYOUT_OBMALLOC_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "layout/layout.h"
#include "symbols/symbols.h"

enum pca_obm_struct {
	PCA_OBM_S_ARENA,    /* struct arena_object */
	PCA_OBM_S_POOL,     /* struct pool_header */
	PCA_OBM_S_STATE,    /* struct _obmalloc_state (3.12+) */
	PCA_OBM_S_INTERP,   /* PyInterpreterState */
	PCA_OBM_S_RUNTIME,  /* _PyRuntimeState (3.7+) */
	PCA_OBM_STRUCT_COUNT
};

/* Members by role. The PCA_OBM_V_* roles are the allocator's variables: for
 * statics (3.6-3.11) `offset` is the variable's address and the state base is
 * 0; for 3.12+ it is the offset inside struct _obmalloc_state. `size` is the
 * variable's byte size in both cases. */
enum pca_obm_field {
	PCA_OBM_AO_ADDRESS,
	PCA_OBM_AO_POOL_ADDRESS,
	PCA_OBM_AO_NFREEPOOLS,
	PCA_OBM_AO_NTOTALPOOLS,
	PCA_OBM_AO_FREEPOOLS,
	PCA_OBM_AO_NEXTARENA,
	PCA_OBM_AO_PREVARENA,
	PCA_OBM_PH_COUNT,          /* ref.count */
	PCA_OBM_PH_FREEBLOCK,
	PCA_OBM_PH_NEXTPOOL,
	PCA_OBM_PH_PREVPOOL,
	PCA_OBM_PH_ARENAINDEX,
	PCA_OBM_PH_SZIDX,
	PCA_OBM_PH_NEXTOFFSET,
	PCA_OBM_PH_MAXNEXTOFFSET,
	PCA_OBM_INTERP_OBMALLOC,   /* 3.12+: PyInterpreterState.obmalloc */
	PCA_OBM_RUNTIME_MAIN,      /* 3.7+: _PyRuntime.interpreters.main */
	PCA_OBM_V_ARENAS,
	PCA_OBM_V_MAXARENAS,
	PCA_OBM_V_USEDPOOLS,
	PCA_OBM_V_UNUSED_ARENA_OBJECTS,
	PCA_OBM_V_USABLE_ARENAS,
	PCA_OBM_V_NFP2LASTA,                   /* 3.8+ */
	PCA_OBM_V_NARENAS_CURRENTLY_ALLOCATED,
	PCA_OBM_V_NTIMES_ARENA_ALLOCATED,
	PCA_OBM_V_NARENAS_HIGHWATER,
	PCA_OBM_V_RAW_ALLOCATED_BLOCKS,        /* 3.9+ */
	PCA_OBM_FIELD_COUNT
};

enum pca_obm_state_kind {
	PCA_OBM_STATICS,          /* 3.6-3.11 */
	PCA_OBM_INTERP_EMBEDDED,  /* 3.12 */
	PCA_OBM_INTERP_POINTER,   /* 3.13+ */
};

struct pca_obmalloc_layout {
	enum pca_obm_state_kind kind;
	const char *kind_source;           /* how the kind was decided, for reports */
	uint64_t sizes[PCA_OBM_STRUCT_COUNT]; /* 0 = not in this version */
	struct pca_layout_field fields[PCA_OBM_FIELD_COUNT];
	/* Entries of usedpools[]: 2 * ((NB_SMALL_SIZE_CLASSES + 7) / 8) * 8, so
	 * there are at most usedpools_len / 2 size classes. */
	uint64_t usedpools_len;
	/* MAX_POOLS_IN_ARENA (ARENA_SIZE / POOL_SIZE) from the length of
	 * nfp2lasta[] minus one (3.8+); 0 when the build has no nfp2lasta. */
	uint64_t max_pools_in_arena;
	const char *max_pools_source;
};

/* Resolve everything for the build behind `symbols`; `layout` gives the
 * version for messages. Errors: pymalloc's structures or state are missing
 * from the debug info (a build --without-pymalloc, or a free-threaded build
 * that uses mimalloc). */
struct pca_error *pca_obmalloc_layout_resolve(struct pca_symbols *symbols,
					      const struct pca_layout *layout,
					      struct pca_obmalloc_layout *ret);

/* Value of a field from a buffer holding the structure (little-endian,
 * narrower integers zero-extended). */
uint64_t pca_obmalloc_field_get(const struct pca_obmalloc_layout *ol, enum pca_obm_field f,
				const void *buf);

#endif

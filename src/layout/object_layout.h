/* object_layout.h: what objects/ needs from the build beyond struct offsets:
 * the C types it knows by tp_name with the object members their tp_traverse
 * visits (offsets resolved from the DWARF, by member names that differ by
 * version), the runtime's static objects it compares against, and the
 * object header and type-flag constants of this version.
 *
 * Resolved once when objects/ starts (like pca_obmalloc_layout_resolve for
 * heap/), so commands that never look at objects never pay for it. A C type
 * whose struct is missing from the debug info keeps no members: its objects
 * are still counted, only its references are not followed. It does not read
 * the target and knows nothing about how objects are sized or walked.
 */
#ifndef PCA_LAYOUT_OBJECT_LAYOUT_H
#define PCA_LAYOUT_OBJECT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "layout/layout.h"
#include "symbols/symbols.h"

enum { PCA_C_TYPE_MAX_MEMBERS = 16 };

/* A C type by tp_name and the offsets of the PyObject * members its
 * tp_traverse visits (8-byte members only; absent ones dropped). */
struct pca_c_type {
	const char *tp_name;
	uint32_t nmembers;
	uint32_t member_offsets[PCA_C_TYPE_MAX_MEMBERS];
	/* bit i: member i is visited only once the C type is a heap type
	 * (a "+member" of the table: its traverse changed with the move). */
	uint32_t heap_only;
	/* Nonzero: the members are fixed offsets recorded for this version
	 * (an extension module's private struct), valid only for a C type
	 * whose tp_basicsize is this struct size. */
	uint32_t basicsize;
};

struct pca_object_layout {
	struct pca_c_type *c_types;       /* owned (a test may point at its own array) */
	size_t nc_types;
	uint64_t type_type;               /* &PyType_Type */
	uint64_t object_type;             /* &PyBaseObject_Type */
	uint64_t subtype_traverse;        /* tp_traverse of Python classes, 0 unknown */
	/* The deleted-entry marker of sets (Objects/setobject.c _dummy_struct),
	 * or, when only exported through a pointer, the pointer's address
	 * (3.6+ _PySet_Dummy); 0 when unknown. */
	uint64_t set_dummy, set_dummy_ptr;
	/* Include/object.h type flags, stable across 3.6-3.13 (3.11+ for the
	 * managed-dict and inline-values bits, 0 before). */
	uint64_t tpflags_heaptype, tpflags_have_gc, tpflags_managed_dict, tpflags_inline_values;
	/* Bytes before the object that sys.getsizeof counts for types with a
	 * flag of pca_layout.tpflags_preheader (3.11+: two pointers), 0 before;
	 * the managed dict sits at obj - managed_dict_back, the 3.11 values
	 * pointer at obj - managed_values_back. */
	uint64_t preheader_size, managed_dict_back, managed_values_back;
	/* Include/structmember.h T_OBJECT_EX (3.12: Py_T_OBJECT_EX). */
	uint64_t member_t_object_ex;
};

/* Resolve for the build behind `symbols`; `layout` gives the version.
 * Errors: PyType_Type or PyBaseObject_Type missing from the symbols. */
struct pca_error *pca_object_layout_resolve(struct pca_symbols *symbols,
					    const struct pca_layout *layout,
					    struct pca_object_layout *ret);
/* Frees c_types (only pass what pca_object_layout_resolve filled). */
void pca_object_layout_deinit(struct pca_object_layout *ol);

/* The index in ol->c_types of tp_name, or -1. */
int pca_object_layout_c_type(const struct pca_object_layout *ol, const char *tp_name);

#endif

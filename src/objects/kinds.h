/* kinds.h (private to objects/): the rules of one builtin kind, one
 * `struct pca_kind_ops` per kind, defined in the file of its family, as
 * drgn's `struct drgn_architecture_info` has one instance per arch_*.c.
 * objects.c maps tp_names to ops and dispatches; adding a kind is one ops
 * instance in its family's file and one row of objects.c's kind table.
 *
 * Also the helpers the families share (field reads, bounded array visits,
 * dict tables). Nothing here is for other layers.
 */
#ifndef PCA_OBJECTS_KINDS_H
#define PCA_OBJECTS_KINDS_H

#include "objects/objects.h"

struct pca_kind_ops {
	enum pca_kind kind;
	/* __sizeof__ of obj (sys.getsizeof without the GC head and the
	 * pre-header, which objects.c adds); false when unreadable. */
	bool (*size)(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		     uint64_t *ret);
	/* What the kind's tp_traverse visits beyond what every object gets
	 * (its type, __slots__, __dict__ and the C type's members, visited first
	 * by objects.c); NULL for nothing more. */
	void (*referents)(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			  pca_visit_fn visit, void *ctx);
	/* A short preview into buf (left empty when unreadable); NULL for the
	 * default ("<name object>", bytes shown). */
	void (*preview)(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			char *buf, size_t size);
	/* len(obj); NULL when the kind has no length we model. */
	bool (*len)(struct pca_objects *o, uint64_t obj, uint64_t *ret);
	/* tp_is_gc: whether this object is collected although its type has
	 * Py_TPFLAGS_HAVE_GC; NULL when every instance is. */
	bool (*is_gc)(struct pca_objects *o, uint64_t obj);
	/* The C type's members are visited by `referents` (type_traverse runs
	 * for heap types only), not by objects.c. */
	bool own_members;
	/* Its owner's tp_traverse visits its references (pca_type_info). */
	bool traversed_by_owner;
	/* The rules when this C type has no __sizeof__ in its method table
	 * (ctypes' StgDict before 3.7: a plain dict's size); NULL: always these. */
	const struct pca_kind_ops *without_sizeof;
};

/* The kinds, by family. */
extern const struct pca_kind_ops pca_object_ops, pca_type_ops, pca_dict_ops, pca_odict_ops,
	pca_list_ops, pca_tuple_ops, pca_set_ops, pca_frozenset_ops, pca_deque_ops, pca_code_ops,
	pca_frame_ops, pca_generator_ops, pca_int_ops, pca_str_ops, pca_bytearray_ops,
	pca_module_ops, pca_lru_cache_ops, pca_lru_link_ops, pca_function_ops, pca_buffered_ops,
	pca_struct_ops, pca_stgdict_ops, pca_ctype_type_ops, pca_bytesio_ops, pca_array_ops,
	pca_element_ops, pca_decimal_ops, pca_combinations_ops, pca_permutations_ops,
	pca_product_ops, pca_hamt_sized_ops, pca_hamt_array_ops, pca_ndarray_ops,
	pca_numpy_scalar_ops, pca_pandas_cython_ops, pca_cyfunction_ops, pca_ext_words_ops,
	pca_multidict_ops, pca_regex_pattern_ops, pca_regex_owner_ops;

/* Bounds: no real type hierarchy is deeper; no real object larger; more
 * entries than this in one table is a corrupt core. */
static const int pca_max_base_depth = 64;
static const uint64_t pca_max_basicsize = 1u << 20;
static const uint64_t pca_max_dict_entries = 1ull << 32;
/* Bound on items visited in one container: more than any real heap holds in
 * one object, and keeps a corrupt length from spinning. */
static const uint64_t pca_max_items = 1ull << 32;

static inline __attribute__((always_inline)) bool pca_rd(struct pca_objects *o, uint64_t base, enum pca_field f,
							 uint64_t *ret)
{
	return pca_interp_read_field(o->interp, base, f, ret);
}

/* object___sizeof___impl (Objects/typeobject.c): basicsize + itemsize * |ob_size|. */
bool pca_objects_default_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			      uint64_t *ret);
/* visit(ctx, p) for each non-NULL pointer of n at items (bounded). */
void pca_objects_visit_array(struct pca_objects *o, uint64_t items, uint64_t n, pca_visit_fn visit,
			     void *ctx);
/* Resolve once per type what its traverse visits (objects.c). */
void pca_objects_prepare(struct pca_objects *o, struct pca_type_info *t);
/* The C type's members (offsets resolved per type). */
void pca_objects_visit_members(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			       pca_visit_fn visit, void *ctx);
/* "len N" from ops->len. */
void pca_objects_preview_len(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			     char *buf, size_t size);
/* The default preview: bytes shown, else "<name object>". */
void pca_objects_preview_default(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
				 char *buf, size_t size);

/* dict.c: the keys table's size (_PyDict_KeysSize) and the value slots of a
 * split table on it; d[key] for a str key (small dicts: type namespaces). */
bool pca_dict_keys_size(struct pca_objects *o, uint64_t keys, uint64_t *size_ret,
			uint64_t *value_slots);
uint64_t pca_dict_get_str(struct pca_objects *o, uint64_t dict, const char *key);
/* dict.c: what ctypes' __sizeof__ adds for a type's storage info at `info`
 * (StgDictObject 3.6-3.12, 3.13 StgInfo), given its members' offsets. */
bool pca_ctypes_stginfo_extra(struct pca_objects *o, uint64_t info, uint64_t length_at,
			      uint64_t elements_at, uint64_t format_at, uint64_t ndim_at, uint64_t *ret);

/* instances.c: what a Python class's instances hold (__slots__, __dict__,
 * 3.11+ managed values), resolved once per type. */
void pca_instances_prepare(struct pca_objects *o, struct pca_type_info *t);
void pca_instances_referents(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			     pca_visit_fn visit, void *ctx);

#endif

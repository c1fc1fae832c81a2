/* types.c: type objects as objects (Objects/typeobject.c): their size, and
 * what type_traverse visits. Naming and validating types is the registry's
 * (objects.c). */
#include "objects/kinds.h"

static bool is_heap_type(struct pca_objects *o, uint64_t type)
{
	uint64_t flags;
	return pca_rd(o, type, PCA_F_TP_FLAGS, &flags) && (flags & o->ol.tpflags_heaptype);
}

/* Objects/typeobject.c type___sizeof___impl: PyHeapTypeObject plus the
 * cached keys of its instances for heap types; PyTypeObject for static ones. */
static bool type_size(struct pca_objects *o, uint64_t type, const struct pca_type_info *t,
		      uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t flags, keys, keys_size, slots;
	(void)t;
	if (!pca_rd(o, type, PCA_F_TP_FLAGS, &flags))
		return false;
	if (!(flags & o->ol.tpflags_heaptype)) {
		*res = l->sizes[PCA_S_TYPE];
		return true;
	}
	*res = l->sizes[PCA_S_HEAPTYPE];
	if (pca_rd(o, type, PCA_F_HT_CACHED_KEYS, &keys) && keys) {
		if (!pca_dict_keys_size(o, keys, &keys_size, &slots))
			return false;
		*res += keys_size;
	}
	return true;
}

/* type_traverse runs for heap types only. A static type holds references
 * too, that the collector never sees: its tp_bases and tp_mro tuples
 * (made by PyType_Ready; untracked by the first collection on 3.6-3.10, as
 * they hold only static types, so nothing else reaches them). They are in
 * the census but not edges of the graph (PCA_REFERENT_EXTRA): a static
 * type and its mro would otherwise show as a reference cycle, one per
 * builtin type, and no static type is ever freed. */
static void type_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   pca_visit_fn visit, void *ctx)
{
	static const enum pca_field held[] = {PCA_F_TP_BASES, PCA_F_TP_MRO};
	uint64_t p;
	if (is_heap_type(o, obj)) {
		pca_objects_visit_members(o, obj, t, visit, ctx);
		return;
	}
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (pca_rd(o, obj, held[i], &p) && p)
			visit(ctx, p | PCA_REFERENT_EXTRA);
}

/* type_is_gc: only heap types are collected. */
static bool type_is_gc(struct pca_objects *o, uint64_t obj)
{
	return is_heap_type(o, obj);
}

const struct pca_kind_ops pca_type_ops = {
	.kind = PCA_KIND_TYPE,
	.size = type_size,
	.referents = type_referents,
	.is_gc = type_is_gc,
	.own_members = true,
};

/* 3.13's ctypes metatypes (Modules/_ctypes/_ctypes.c, CType_Type and its
 * subclasses PyCStructType, PyCArrayType ...): a heap type with the C
 * type's storage info (StgInfo, ctypes.h) in the metatype's type data,
 * right after the PyHeapTypeObject aligned to 16 (PyObject_GetTypeData).
 * StgInfo is private to the _ctypes extension module (x86-64, ptype/o of
 * pyenv 3.13.0's _ctypes debug info): `int initialized` at 0, `length` at
 * 24, `ffi_type_pointer.elements` at 48, the references CType_Type_traverse
 * visits (proto, argtypes, converters, restype, checker, module) at 56 and
 * 88-120, `format` at 136, `ndim` at 144, 160 bytes in all. The metatype's
 * basicsize must leave room for it, else the size is the plain formula. */
enum { stginfo_length = 24, stginfo_elements = 48, stginfo_format = 136, stginfo_ndim = 144,
       stginfo_size = 160 };
static const uint32_t stginfo_refs[] = {56, 88, 96, 104, 112, 120};

static bool stginfo_at(struct pca_objects *o, uint64_t type, const struct pca_type_info *t,
		       uint64_t *ret)
{
	uint64_t off = (o->interp->layout->sizes[PCA_S_HEAPTYPE] + 15) & ~15ull;
	uint32_t initialized;
	if (t->basicsize < off + stginfo_size ||
	    !pca_target_try_read(o->interp->target, type + off, &initialized, sizeof(initialized)) ||
	    initialized != 1)
		return false;
	*ret = type + off;
	return true;
}

/* _ctypes_CType_Type___sizeof___impl: the metatype's basicsize and items
 * (not type.__sizeof__'s PyHeapTypeObject and cached keys), plus what the
 * storage info holds beside it once initialized. */
static bool ctype_type_size(struct pca_objects *o, uint64_t type, const struct pca_type_info *t,
			    uint64_t *res)
{
	uint64_t nitems, info, extra;
	if (!pca_rd(o, type, PCA_F_OB_SIZE, &nitems) || nitems > pca_max_basicsize)
		return false;
	*res = t->basicsize + t->itemsize * nitems;
	if (stginfo_at(o, type, t, &info) &&
	    pca_ctypes_stginfo_extra(o, info, stginfo_length, stginfo_elements, stginfo_format,
				     stginfo_ndim, &extra))
		*res += extra;
	return true;
}

static void ctype_type_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				 pca_visit_fn visit, void *ctx)
{
	uint64_t info, p;
	type_referents(o, obj, t, visit, ctx);
	if (!stginfo_at(o, obj, t, &info))
		return;
	for (size_t i = 0; i < sizeof(stginfo_refs) / sizeof(stginfo_refs[0]); i++)
		if (pca_target_try_read_u64(o->interp->target, info + stginfo_refs[i], &p) && p)
			visit(ctx, p);
}

/* A type in every other respect. */
const struct pca_kind_ops pca_ctype_type_ops = {
	.kind = PCA_KIND_TYPE,
	.size = ctype_type_size,
	.referents = ctype_type_referents,
	.is_gc = type_is_gc,
	.own_members = true,
};

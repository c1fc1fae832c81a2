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

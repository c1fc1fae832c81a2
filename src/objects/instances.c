/* instances.c: instances of Python classes and objects with no kind of
 * their own (Objects/typeobject.c object___sizeof___impl, subtype_traverse):
 * the default size, __slots__, __dict__ (tp_dictoffset, 3.11+ managed dicts
 * and their split values), and the names under which they hold values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vector.h"
#include "objects/kinds.h"

static const uint64_t max_slots = 4096;

bool pca_objects_default_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			      uint64_t *res)
{
	uint64_t v;
	*res = t->basicsize;
	if (t->itemsize) {
		if (!pca_rd(o, obj, PCA_F_OB_SIZE, &v))
			return false;
		int64_t n = (int64_t)v;
		*res += (uint64_t)(n < 0 ? -n : n) * t->itemsize;
	}
	return true;
}

const struct pca_kind_ops pca_object_ops = {
	.kind = PCA_KIND_OBJECT,
	.size = pca_objects_default_size,
};

/* Values of a split table held by the object (3.11-3.13 managed dicts). */
static void visit_split_values(struct pca_objects *o, uint64_t values_array, uint64_t type,
			       pca_visit_fn visit, void *ctx)
{
	uint64_t keys, n;
	if (!pca_rd(o, type, PCA_F_HT_CACHED_KEYS, &keys) || !keys ||
	    !pca_rd(o, keys, PCA_F_DK_NENTRIES, &n))
		return;
	pca_objects_visit_array(o, values_array, n, visit, ctx);
}

static bool slot_name(struct pca_objects *o, const struct pca_type_info *t, uint32_t offset,
		      char *buf, size_t size);

/* Where a 3.11+ instance keeps its attributes: the values array of its
 * class's shared keys (3.11 at obj[-4]; 3.12 obj[-3] tagged with values - 1;
 * 3.13 inline after tp_basicsize while `valid`) and/or a dict (obj[-3]). */
static void managed_attrs(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			  uint64_t *values_array, uint64_t *dict)
{
	const struct pca_layout *l = o->interp->layout;
	struct pca_target *tg = o->interp->target;
	uint64_t values = 0, p, valid;
	uint64_t values_off = pca_layout_offset(l, PCA_F_DICT_VALUES_VALUES);
	*values_array = 0;
	*dict = 0;
	switch (l->managed_dict) {
	case PCA_MANAGED_DICT_NONE:
		return;
	case PCA_MANAGED_DICT_311:
		pca_target_try_read_u64(tg, obj - o->ol.managed_values_back, &values);
		pca_target_try_read_u64(tg, obj - o->ol.managed_dict_back, dict);
		if (values)
			*values_array = values + values_off;
		return;
	case PCA_MANAGED_DICT_312:
		if (pca_target_try_read_u64(tg, obj - o->ol.managed_dict_back, &p)) {
			if (p & 1) /* _PyDictOrValues_GetValues: the tag is values - 1 (odd) */
				*values_array = p + 1 + values_off;
			else
				*dict = p;
		}
		return;
	case PCA_MANAGED_DICT_313:
		pca_target_try_read_u64(tg, obj - o->ol.managed_dict_back, dict);
		/* Py_TPFLAGS_INLINE_VALUES */
		if ((t->flags & o->ol.tpflags_inline_values) && pca_rd(o, obj + t->basicsize, PCA_F_DICT_VALUES_VALID, &valid) &&
		    valid)
			*values_array = obj + t->basicsize + values_off;
		return;
	}
}

/* subtype_traverse for 3.11+ managed dicts: the values, one slot per entry
 * of the class's shared keys (_PyObject_VisitInstanceAttributes: dk_nentries
 * slots, not the 3.13 `size`, which counts the attributes set), and the
 * dict. */
static void visit_managed_dict(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			       pca_visit_fn visit, void *ctx)
{
	uint64_t values, dict;
	managed_attrs(o, obj, t, &values, &dict);
	if (values)
		visit_split_values(o, values, t->addr, visit, ctx);
	if (dict)
		visit(ctx, dict);
}

bool pca_objects_attr_name(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   uint64_t value, char *buf, size_t size)
{
	struct pca_target *tg = o->interp->target;
	if (!t->traverse_ready)
		pca_objects_prepare(o, t);
	uint64_t values, dict, keys, n, p, key;
	managed_attrs(o, obj, t, &values, &dict);
	if (values && pca_rd(o, t->addr, PCA_F_HT_CACHED_KEYS, &keys) && keys &&
	    pca_rd(o, keys, PCA_F_DK_NENTRIES, &n)) {
		for (uint64_t i = 0; i < n && i < 4096; i++) {
			if (!pca_target_try_read_u64(tg, values + i * 8, &p) || p != value)
				continue;
			char *s = NULL;
			if (pca_objects_keys_key(o, keys, i, &key)) {
				struct pca_error *err = pca_interp_read_str(o->interp, key, 200, &s);
				pca_error_destroy(err);
			}
			if (!s)
				return false;
			snprintf(buf, size, "%s", s);
			free(s);
			return true;
		}
	}
	/* __slots__: the member whose offset holds the value */
	for (uint32_t i = 0; i < t->nslots; i++) {
		if (!pca_target_try_read_u64(tg, obj + t->slot_offsets[i], &p) || p != value)
			continue;
		return slot_name(o, t, t->slot_offsets[i], buf, size);
	}
	return false;
}

/* The name of the __slots__ member at `offset` of instances of t (the
 * PyMemberDef after each Python class up the chain). */
static bool slot_name(struct pca_objects *o, const struct pca_type_info *t, uint32_t offset,
		      char *buf, size_t size)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t cur = t->addr;
	for (int depth = 0; cur && depth < pca_max_base_depth; depth++) {
		uint64_t nmembers, meta, meta_basicsize, traverse, base;
		if (!pca_rd(o, cur, PCA_F_TP_TRAVERSE, &traverse) || traverse != o->ol.subtype_traverse)
			return false;
		if (pca_rd(o, cur, PCA_F_OB_SIZE, &nmembers) && nmembers < max_slots &&
		    pca_rd(o, cur, PCA_F_OB_TYPE, &meta) && pca_rd(o, meta, PCA_F_TP_BASICSIZE, &meta_basicsize)) {
			for (uint64_t i = 0; i < nmembers; i++) {
				uint64_t m = cur + meta_basicsize + i * l->sizes[PCA_S_MEMBERDEF], off, name;
				if (pca_rd(o, m, PCA_F_MEMBERDEF_OFFSET, &off) && off == offset &&
				    pca_rd(o, m, PCA_F_MEMBERDEF_NAME, &name))
					return pca_target_read_cstr(o->interp->target, name, buf, size);
			}
		}
		if (!pca_rd(o, cur, PCA_F_TP_BASE, &base))
			return false;
		cur = base;
	}
	return false;
}

/* Resolve once per type what subtype_traverse visits: the T_OBJECT_EX
 * __slots__ of every Python class up the chain, and whether the instance
 * __dict__ is one of them. */
void pca_instances_prepare(struct pca_objects *o, struct pca_type_info *t)
{
	const struct pca_layout *l = o->interp->layout;
	/* Python classes up the chain: their T_OBJECT_EX slots, stored after the
	 * heap type (PyHeapType_GET_MEMBERS), Py_SIZE(type) of them. */
	uint64_t cur = t->addr, traverse = 0, base_dictoffset = 0;
	size_t slots_capacity = 0;
	for (int depth = 0; cur && depth < pca_max_base_depth; depth++) {
		uint64_t nmembers, meta, meta_basicsize, base;
		if (!pca_rd(o, cur, PCA_F_TP_TRAVERSE, &traverse) || traverse != o->ol.subtype_traverse)
			break;
		if (pca_rd(o, cur, PCA_F_OB_SIZE, &nmembers) && nmembers && nmembers < max_slots &&
		    pca_rd(o, cur, PCA_F_OB_TYPE, &meta) && pca_rd(o, meta, PCA_F_TP_BASICSIZE, &meta_basicsize)) {
			uint64_t members = cur + meta_basicsize;
			for (uint64_t i = 0; i < nmembers; i++) {
				uint64_t m = members + i * l->sizes[PCA_S_MEMBERDEF], type, offset;
				if (!pca_rd(o, m, PCA_F_MEMBERDEF_TYPE, &type) ||
				    !pca_rd(o, m, PCA_F_MEMBERDEF_OFFSET, &offset))
					break;
				if ((type & 0xffffffffu) != o->ol.member_t_object_ex || offset >= pca_max_basicsize)
					continue;
				if (!PCA_VECTOR_GROW(&t->slot_offsets, &slots_capacity, t->nslots + 1, 8))
					break;
				t->slot_offsets[t->nslots++] = (uint32_t)offset;
			}
		}
		if (!pca_rd(o, cur, PCA_F_TP_BASE, &base))
			break;
		cur = base;
	}
	/* `cur` is now the first type not traversed by subtype_traverse. */
	if (cur && cur != t->addr && pca_rd(o, cur, PCA_F_TP_DICTOFFSET, &base_dictoffset))
		t->visits_dict = t->dictoffset != (int64_t)base_dictoffset;
}

/* subtype_traverse for instances of Python classes: __slots__, then the
 * __dict__ by tp_dictoffset or the 3.11+ managed dict and values. */
void pca_instances_referents(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			     pca_visit_fn visit, void *ctx)
{
	for (uint32_t i = 0; i < t->nslots; i++) {
		uint64_t p;
		if (pca_target_try_read_u64(o->interp->target, obj + t->slot_offsets[i], &p) && p)
			visit(ctx, p);
	}
	/* 3.11+ managed dicts keep a meaningless tp_dictoffset (-1 on 3.12). */
	bool managed = (t->flags & o->ol.tpflags_managed_dict) &&
		       o->interp->layout->managed_dict != PCA_MANAGED_DICT_NONE;
	if (t->visits_dict && !managed) {
		if (t->dictoffset > 0) {
			uint64_t p;
			if (pca_target_try_read_u64(o->interp->target, obj + (uint64_t)t->dictoffset, &p) && p)
				visit(ctx, p);
		} else if (t->dictoffset < 0) {
			/* _PyObject_GetDictPtr: from the end of a variable-size object. */
			uint64_t n, size;
			if (pca_rd(o, obj, PCA_F_OB_SIZE, &n)) {
				int64_t items = (int64_t)n < 0 ? -(int64_t)n : (int64_t)n;
				size = (t->basicsize + (uint64_t)items * t->itemsize + 7) & ~7ull;
				uint64_t p;
				if (pca_target_try_read_u64(o->interp->target,
							    obj + size + (uint64_t)t->dictoffset, &p) && p)
					visit(ctx, p);
			}
		}
	}
	if (managed) /* Py_TPFLAGS_MANAGED_DICT (3.11+) */
		visit_managed_dict(o, obj, t, visit, ctx);
}

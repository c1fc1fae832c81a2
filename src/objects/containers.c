/* containers.c: list, tuple, set, frozenset and collections.deque
 * (Objects/listobject.c, tupleobject.c, setobject.c,
 * Modules/_collectionsmodule.c): sizes, items, lengths. */
#include <string.h>

#include "objects/kinds.h"

void pca_objects_visit_array(struct pca_objects *o, uint64_t items, uint64_t n, pca_visit_fn visit,
			     void *ctx)
{
	struct pca_target *t = o->interp->target;
	if (n > pca_max_items)
		return;
	/* a corrupt core may give an unaligned array: load bytes, not words */
	const uint8_t *view = pca_target_view(t, items, n * 8);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p;
		if (view)
			memcpy(&p, view + i * 8, 8);
		else if (!pca_target_try_read_u64(t, items + i * 8, &p))
			return;
		if (p)
			visit(ctx, p);
	}
}

static bool ob_size_len(struct pca_objects *o, uint64_t obj, uint64_t *ret)
{
	return pca_rd(o, obj, PCA_F_OB_SIZE, ret);
}

/* ---- list ---- */

/* list___sizeof___impl: allocated slots */
static bool list_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		      uint64_t *res)
{
	uint64_t v;
	if (!pca_rd(o, obj, PCA_F_LIST_ALLOCATED, &v) || (int64_t)v < 0)
		return false;
	*res = t->basicsize + v * 8;
	return true;
}

static void list_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   pca_visit_fn visit, void *ctx)
{
	uint64_t items, n;
	(void)t;
	if (pca_rd(o, obj, PCA_F_OB_SIZE, &n) && pca_rd(o, obj, PCA_F_LIST_ITEMS, &items) && items)
		pca_objects_visit_array(o, items, n, visit, ctx);
}

const struct pca_kind_ops pca_list_ops = {
	.kind = PCA_KIND_LIST,
	.size = list_size,
	.referents = list_referents,
	.preview = pca_objects_preview_len,
	.len = ob_size_len,
};

/* ---- tuple ---- */

static void tuple_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			    pca_visit_fn visit, void *ctx)
{
	uint64_t n;
	(void)t;
	if (pca_rd(o, obj, PCA_F_OB_SIZE, &n))
		pca_objects_visit_array(o, obj + pca_layout_offset(o->interp->layout, PCA_F_TUPLE_ITEMS), n,
					visit, ctx);
}

const struct pca_kind_ops pca_tuple_ops = {
	.kind = PCA_KIND_TUPLE,
	.size = pca_objects_default_size,
	.referents = tuple_referents,
	.preview = pca_objects_preview_len,
	.len = ob_size_len,
};

/* ---- set, frozenset ---- */

/* set_sizeof: the table when not the small table */
static bool set_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		     uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t table, mask;
	if (!pca_rd(o, obj, PCA_F_SET_TABLE, &table) || !pca_rd(o, obj, PCA_F_SET_MASK, &mask))
		return false;
	*res = t->basicsize;
	if (table != obj + pca_layout_offset(l, PCA_F_SET_SMALLTABLE))
		*res += (mask + 1) * l->sizes[PCA_S_SET_ENTRY];
	return true;
}

static void visit_set(struct pca_objects *o, uint64_t set, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t table, mask;
	if (!pca_rd(o, set, PCA_F_SET_TABLE, &table) || !pca_rd(o, set, PCA_F_SET_MASK, &mask) ||
	    mask >= pca_max_items)
		return;
	uint64_t entry = l->sizes[PCA_S_SET_ENTRY];
	for (uint64_t i = 0; i <= mask; i++) {
		uint64_t key;
		if (!pca_target_try_read_u64(o->interp->target, table + i * entry, &key))
			return;
		if (key && key != o->set_dummy)
			visit(ctx, key);
	}
}

static void set_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			  pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_set(o, obj, visit, ctx);
}

static bool set_len(struct pca_objects *o, uint64_t set, uint64_t *ret)
{
	return pca_rd(o, set, PCA_F_SET_USED, ret);
}

const struct pca_kind_ops pca_set_ops = {
	.kind = PCA_KIND_SET,
	.size = set_size,
	.referents = set_referents,
	.preview = pca_objects_preview_len,
	.len = set_len,
};

const struct pca_kind_ops pca_frozenset_ops = {
	.kind = PCA_KIND_FROZENSET,
	.size = set_size,
	.referents = set_referents,
	.preview = pca_objects_preview_len,
	.len = set_len,
};

/* ---- deque ---- */

/* deque_sizeof: whole blocks of BLOCKLEN items */
static bool deque_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		       uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t leftindex, size;
	uint64_t block = l->sizes[PCA_S_DEQUE_BLOCK];
	if (!block || block <= 16 || !pca_rd(o, obj, PCA_F_DEQUE_LEFTINDEX, &leftindex) ||
	    !pca_rd(o, obj, PCA_F_OB_SIZE, &size))
		return false;
	uint64_t blocklen = (block - 16) / 8;
	*res = t->basicsize + ((leftindex + size + blocklen - 1) / blocklen) * block;
	return true;
}

/* deque_traverse: ob_size items from leftblock[leftindex], BLOCKLEN a block. */
static void visit_deque(struct pca_objects *o, uint64_t deque, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t block, index, n;
	uint64_t blocklen = (l->sizes[PCA_S_DEQUE_BLOCK] - 16) / 8;
	if (!pca_rd(o, deque, PCA_F_DEQUE_LEFTBLOCK, &block) ||
	    !pca_rd(o, deque, PCA_F_DEQUE_LEFTINDEX, &index) || !pca_rd(o, deque, PCA_F_OB_SIZE, &n) ||
	    n > pca_max_items || index >= blocklen)
		return;
	while (n > 0 && block) {
		uint64_t take = blocklen - index < n ? blocklen - index : n;
		pca_objects_visit_array(o, block + pca_layout_offset(l, PCA_F_BLOCK_DATA) + index * 8, take, visit,
			    ctx);
		n -= take;
		index = 0;
		if (n && !pca_rd(o, block, PCA_F_BLOCK_RIGHTLINK, &block))
			return;
	}
}

static void deque_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			    pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_deque(o, obj, visit, ctx);
}

bool pca_objects_deque_maxlen(struct pca_objects *o, uint64_t deque, int64_t *ret)
{
	uint64_t x;
	if (!pca_rd(o, deque, PCA_F_DEQUE_MAXLEN, &x))
		return false;
	*ret = (int64_t)x;
	return true;
}

const struct pca_kind_ops pca_deque_ops = {
	.kind = PCA_KIND_DEQUE,
	.size = deque_size,
	.referents = deque_referents,
	.preview = pca_objects_preview_len,
	.len = ob_size_len,
};

/* Python/hamt.c (3.7+), the immutable mapping of contextvars.Context: a
 * bitmap node holds Py_SIZE keys and values (b_array at 32), a collision
 * node Py_SIZE keys and values (c_array at 32), an array node 32 child
 * nodes (a_array at 16); the same in 3.7-3.13 (ptype/o). Each node's
 * traverse visits every non-NULL slot. */
enum { hamt_bitmap_array = 32, hamt_array_array = 16, hamt_array_slots = 32 };

static void hamt_sized_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				 pca_visit_fn visit, void *ctx)
{
	uint64_t n;
	/* tp_basicsize is the struct without its one-element array */
	if (t->basicsize >= hamt_bitmap_array && pca_rd(o, obj, PCA_F_OB_SIZE, &n))
		pca_objects_visit_array(o, obj + hamt_bitmap_array, n, visit, ctx);
}

static void hamt_array_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				 pca_visit_fn visit, void *ctx)
{
	if (t->basicsize >= hamt_array_array + hamt_array_slots * 8)
		pca_objects_visit_array(o, obj + hamt_array_array, hamt_array_slots, visit, ctx);
}

/* Default sizes (no __sizeof__); bitmap and collision nodes share the layout. */
const struct pca_kind_ops pca_hamt_sized_ops = {
	.kind = PCA_KIND_OBJECT,
	.size = pca_objects_default_size,
	.referents = hamt_sized_referents,
};

const struct pca_kind_ops pca_hamt_array_ops = {
	.kind = PCA_KIND_OBJECT,
	.size = pca_objects_default_size,
	.referents = hamt_array_referents,
};

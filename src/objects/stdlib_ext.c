/* stdlib_ext.c: C types of the standard library's modules whose __sizeof__ counts memory
 * beside the object: the _io buffered classes (their buffer), _io.BytesIO
 * (its bytes), _struct.Struct (its format codes), array.array (its items),
 * ElementTree's Element (its children), decimal.Decimal (its coefficient)
 * and itertools' combinatoric iterators (their index arrays); Element's
 * references too. Their structs are private to their modules and the same
 * in 3.6-3.13 (x86-64, ptype/o of each pyenv version's debug info:
 * Modules/_io/bufferedio.c `buffered`, bytesio.c `bytesio`,
 * Modules/_struct.c `PyStructObject` and `formatcode`, arraymodule.c
 * `arrayobject` and `arraydescr`, _elementtree.c `ElementObject` and
 * `ElementObjectExtra`, _decimal.c `PyDecObject` and libmpdec's `mpd_t`,
 * itertoolsmodule.c), and most live in extension modules whose debug info
 * the layout does not read, so the offsets are fixed here and each read is
 * checked against the struct's own invariants; an object that fails them
 * gets the default size (basicsize). */
#include <string.h>

#include "objects/kinds.h"

/* buffered: char *buffer at 56, Py_ssize_t buffer_size at 120 and
 * buffer_mask at 128 (x86-64, ptype/o of 3.11's debug info). */
enum { buffered_buffer = 56, buffered_buffer_size = 120, buffered_buffer_mask = 128 };
/* A buffer larger than this is not one io.open makes (bounds a corrupt read). */
static const uint64_t max_buffer_size = 1ull << 31;

/* buffered_sizeof (Modules/_io/bufferedio.c):
 * _PyObject_SIZE(Py_TYPE(self)) + (self->buffer ? self->buffer_size : 0). */
static bool buffered_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t buffer, size, mask;
	*ret = t->basicsize;
	if (t->basicsize < buffered_buffer_mask + 8 || !pca_target_try_read_u64(tg, obj + buffered_buffer, &buffer) ||
	    !buffer || !pca_target_try_read_u64(tg, obj + buffered_buffer_size, &size) ||
	    !pca_target_try_read_u64(tg, obj + buffered_buffer_mask, &mask))
		return true;
	/* _bufferedreader_init sets buffer_mask to buffer_size - 1 for a power
	 * of two, else 0 */
	if (size == 0 || size > max_buffer_size || (mask != 0 && mask != size - 1))
		return true;
	*ret += size;
	return true;
}

const struct pca_kind_ops pca_buffered_ops = {
	.kind = PCA_KIND_BUFFERED,
	.size = buffered_size,
};

/* PyStructObject: formatcode *s_codes at 32; formatcode is 32 bytes, its
 * first member (fmtdef) NULL in the terminating entry. */
enum { struct_s_codes = 32, formatcode_size = 32 };
/* More codes than this is not a format string (bounds a corrupt array). */
static const uint64_t max_codes = 1u << 20;

/* s_sizeof (Modules/_struct.c): _PyObject_SIZE(Py_TYPE(self)) plus one
 * formatcode per code and one for the terminator. */
static bool struct_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t codes, fmtdef;
	*ret = t->basicsize;
	if (t->basicsize < struct_s_codes + 8 || !pca_target_try_read_u64(tg, obj + struct_s_codes, &codes) || !codes)
		return true;
	for (uint64_t n = 0; n < max_codes; n++) {
		if (!pca_target_try_read_u64(tg, codes + n * formatcode_size, &fmtdef))
			return true;
		if (!fmtdef) {
			*ret += (n + 1) * formatcode_size;
			return true;
		}
	}
	return true;
}

const struct pca_kind_ops pca_struct_ops = {
	.kind = PCA_KIND_STRUCT,
	.size = struct_size,
};

/* bytesio: PyObject *buf (a bytes object) at 16. */
enum { bytesio_buf = 16, bytesio_size = 64 };

/* _io_BytesIO___sizeof___impl: _PyObject_SIZE(Py_TYPE(self)) plus
 * sys.getsizeof(buf) unless the buffer is shared (SHARED_BUF: its
 * reference count above 1, e.g. after getvalue()). */
static bool bytesio_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	uint64_t buf, refcnt, buf_type, size;
	struct pca_type_info *bt;
	*ret = t->basicsize;
	if (t->basicsize < bytesio_size || !pca_target_try_read_u64(o->interp->target, obj + bytesio_buf, &buf) ||
	    !buf || !pca_rd(o, buf, PCA_F_OB_REFCNT, &refcnt) || !pca_rd(o, buf, PCA_F_OB_TYPE, &buf_type) ||
	    !(bt = pca_objects_type(o, buf_type)) || strcmp(bt->name, "bytes") != 0)
		return true;
	/* 3.12+ reference counts are 32 bits (immortal ones saturate) */
	if ((uint32_t)refcnt == 1 && pca_objects_sizeof(o, buf, bt, &size))
		*ret += size;
	return true;
}

const struct pca_kind_ops pca_bytesio_ops = {
	.kind = PCA_KIND_BYTESIO,
	.size = bytesio_size_of,
};

/* arrayobject: char *ob_item at 24, Py_ssize_t allocated at 32, const
 * struct arraydescr *ob_descr at 40; arraydescr: int itemsize at 4. */
enum { array_allocated = 32, array_descr = 40, array_size = 64, arraydescr_itemsize = 4 };
/* More items than this is not an array a process holds (bounds a corrupt read). */
static const uint64_t max_array_items = 1ull << 40;

/* array_array___sizeof___impl: _PyObject_SIZE(Py_TYPE(self)) +
 * allocated * itemsize. */
static bool array_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t allocated, descr, n;
	uint32_t itemsize;
	*ret = t->basicsize;
	if (t->basicsize < array_size || !pca_target_try_read_u64(tg, obj + array_allocated, &allocated) ||
	    !pca_target_try_read_u64(tg, obj + array_descr, &descr) || !descr ||
	    !pca_target_try_read(tg, descr + arraydescr_itemsize, &itemsize, sizeof(itemsize)) ||
	    !pca_rd(o, obj, PCA_F_OB_SIZE, &n))
		return true;
	/* the item sizes of the type codes, and room for every item */
	if ((itemsize != 1 && itemsize != 2 && itemsize != 4 && itemsize != 8) || allocated < n ||
	    allocated > max_array_items)
		return true;
	*ret += allocated * itemsize;
	return true;
}

const struct pca_kind_ops pca_array_ops = {
	.kind = PCA_KIND_ARRAY,
	.size = array_size_of,
};

/* ElementObject: tag at 16, text at 24, tail at 32 (text and tail tagged
 * with bit 0: JOIN_OBJ), ElementObjectExtra *extra at 40, 56 bytes.
 * ElementObjectExtra: attrib at 0, length at 8, allocated at 16, PyObject
 * **children at 24, then 4 static children, 64 bytes. */
enum { element_tag = 16, element_text = 24, element_tail = 32, element_extra = 40, element_size = 56,
       extra_attrib = 0, extra_length = 8, extra_allocated = 16, extra_children = 24,
       extra_static_children = 32, extra_size = 64 };
/* More children than this is not an element a process holds. */
static const uint64_t max_children = 1ull << 32;

struct element_extra {
	uint64_t attrib, length, allocated, children;
};

static bool read_element_extra(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			       uint64_t *extra, struct element_extra *ret)
{
	struct pca_target *tg = o->interp->target;
	if (t->basicsize < element_size || !pca_target_try_read_u64(tg, obj + element_extra, extra))
		return false;
	if (!*extra)
		return true;
	return pca_target_try_read_u64(tg, *extra + extra_attrib, &ret->attrib) &&
	       pca_target_try_read_u64(tg, *extra + extra_length, &ret->length) &&
	       pca_target_try_read_u64(tg, *extra + extra_allocated, &ret->allocated) &&
	       pca_target_try_read_u64(tg, *extra + extra_children, &ret->children) &&
	       ret->length <= ret->allocated && ret->allocated <= max_children;
}

/* _elementtree_Element___sizeof___impl: _PyObject_SIZE(Py_TYPE(self)),
 * plus the extra block and, once the children outgrew its static array,
 * the allocated children array. */
static bool element_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	uint64_t extra;
	struct element_extra e;
	*ret = t->basicsize;
	if (!read_element_extra(o, obj, t, &extra, &e) || !extra)
		return true;
	*ret += extra_size;
	if (e.children != extra + extra_static_children)
		*ret += e.allocated * 8;
	return true;
}

/* element_gc_traverse: tag, text, tail, and with the extra block the
 * attributes and each child. */
static void element_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			      pca_visit_fn visit, void *ctx)
{
	static const uint32_t members[] = {element_tag, element_text, element_tail};
	uint64_t p, extra;
	struct element_extra e;
	if (t->basicsize < element_size)
		return;
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (pca_target_try_read_u64(o->interp->target, obj + members[i], &p) && (p & ~1ull))
			visit(ctx, p & ~1ull);
	if (!read_element_extra(o, obj, t, &extra, &e) || !extra)
		return;
	if (e.attrib)
		visit(ctx, e.attrib);
	pca_objects_visit_array(o, e.children, e.length, visit, ctx);
}

const struct pca_kind_ops pca_element_ops = {
	.kind = PCA_KIND_ELEMENT,
	.size = element_size_of,
	.referents = element_referents,
};

/* PyDecObject: mpd_t dec at 24 (uint8_t flags at 24, mpd_ssize_t alloc at
 * 56, mpd_uint_t *data at 64), the static coefficient words at 72, 104
 * bytes. libmpdec's MPD_STATIC_DATA | MPD_SHARED_DATA | MPD_CONST_DATA:
 * the coefficient is not the object's own allocation. */
enum { dec_flags = 24, dec_alloc = 56, dec_data = 64, dec_static_data = 72, dec_size = 104 };
static const uint8_t mpd_dataflags = 32 | 64 | 128, mpd_static_data = 32;
/* More words than this is not a decimal a process holds. */
static const uint64_t max_dec_words = 1ull << 40;

/* dec_sizeof (Modules/_decimal/_decimal.c): _PyObject_SIZE(Py_TYPE(v)),
 * plus alloc words when the coefficient is dynamic (mpd_isdynamic_data). */
static bool decimal_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint8_t flags;
	uint64_t alloc, data;
	*ret = t->basicsize;
	if (t->basicsize < dec_size || !pca_target_try_read(tg, obj + dec_flags, &flags, 1) ||
	    !pca_target_try_read_u64(tg, obj + dec_alloc, &alloc) ||
	    !pca_target_try_read_u64(tg, obj + dec_data, &data) || alloc > max_dec_words)
		return true;
	/* a static coefficient is the object's own words */
	if ((flags & mpd_static_data) && data != obj + dec_static_data)
		return true;
	if (!(flags & mpd_dataflags))
		*ret += alloc * 8;
	return true;
}

const struct pca_kind_ops pca_decimal_ops = {
	.kind = PCA_KIND_DECIMAL,
	.size = decimal_size_of,
};

/* itertools (Modules/itertoolsmodule.c): combinationsobject and cwrobject
 * `Py_ssize_t r` at 40 (56 bytes); permutationsobject `pool` (a tuple) at
 * 16 and `r` at 48 (64 bytes); productobject `pools` (a tuple) at 16 (48
 * bytes). Their __sizeof__ counts one Py_ssize_t per index. */
enum { comb_r = 40, comb_size = 56, perm_pool = 16, perm_r = 48, perm_size = 64, product_pools = 16,
       product_size = 48 };
static const uint64_t max_indices = 1ull << 32;

/* len() of the tuple at obj + at (the iterator's pool), bounded. */
static bool pool_len(struct pca_objects *o, uint64_t obj, uint64_t at, uint64_t *ret)
{
	uint64_t pool;
	return pca_target_try_read_u64(o->interp->target, obj + at, &pool) && pool &&
	       pca_rd(o, pool, PCA_F_OB_SIZE, ret) && *ret <= max_indices;
}

/* combinations_sizeof, cwr_sizeof: basicsize + r indices. */
static bool combinations_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	uint64_t r;
	*ret = t->basicsize;
	if (t->basicsize >= comb_size && pca_target_try_read_u64(o->interp->target, obj + comb_r, &r) &&
	    r <= max_indices)
		*ret += r * 8;
	return true;
}

/* permutations_sizeof: basicsize + len(pool) indices + r cycles. */
static bool permutations_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	uint64_t r, n;
	*ret = t->basicsize;
	if (t->basicsize >= perm_size && pca_target_try_read_u64(o->interp->target, obj + perm_r, &r) &&
	    r <= max_indices && pool_len(o, obj, perm_pool, &n))
		*ret += (n + r) * 8;
	return true;
}

/* product_sizeof: basicsize + len(pools) indices. */
static bool product_size_of(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	uint64_t n;
	*ret = t->basicsize;
	if (t->basicsize >= product_size && pool_len(o, obj, product_pools, &n))
		*ret += n * 8;
	return true;
}

const struct pca_kind_ops pca_combinations_ops = {
	.kind = PCA_KIND_ITERTOOLS_INDICES,
	.size = combinations_size_of,
};

const struct pca_kind_ops pca_permutations_ops = {
	.kind = PCA_KIND_ITERTOOLS_INDICES,
	.size = permutations_size_of,
};

const struct pca_kind_ops pca_product_ops = {
	.kind = PCA_KIND_ITERTOOLS_INDICES,
	.size = product_size_of,
};

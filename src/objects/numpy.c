/* numpy.c: numpy's ndarray (and every class derived from it: matrix,
 * memmap, MaskedArray, recarray, user subclasses) and numpy's scalar types
 * (numpy.float64, int32, bool_, datetime64, bytes_, void, ...), whose
 * __sizeof__ counts memory beside the object: an array's dimensions,
 * strides and, when it owns them, its data, malloc'd outside pymalloc (the
 * memory of most Python OOMs); a scalar its item size.
 *
 * PyArrayObject_fields and PyArray_Descr are numpy's public ABI
 * (numpy/core/include/numpy/ndarraytypes.h), so their offsets are fixed
 * here, as stdlib_ext.c does for the standard library's private structs. The
 * array's fields are the same in numpy 1.x and 2.x; the descr's elsize is an
 * int at 32 in 1.x and an npy_intp at 40 in 2.x (2.0 changed the layout).
 * Which layout a core holds is read from numpy itself: the basicsize of
 * numpy.dtype is sizeof(PyArray_Descr), 96 in every 1.x, 88 in 2.x (its
 * header). Only 1.x is tested (Debian's 1.24); 2.x is modelled from its
 * header. Every read is checked against numpy's own invariants (ndim at most
 * NPY_MAXDIMS, the descr a numpy.dtype, a C-contiguous owner's last stride
 * its elsize); an object that fails them gets its basicsize and its type is
 * marked approximate (a note), never a wrong exact size.
 *
 * numpy.str_ is not here: str comes first in its MRO, so its size is str's
 * (scalars.c) through its tp_base. */
#include <stdio.h>
#include <string.h>

#include "objects/kinds.h"

/* PyArrayObject_fields (x86-64): data 16, int nd 24, dimensions 32, strides
 * 40, base 48, descr 56, int flags 64, weakreflist 72, _buffer_info 80
 * (1.20+), mem_handler 88 (1.22+). */
enum { arr_data = 16, arr_nd = 24, arr_dimensions = 32, arr_strides = 40, arr_base = 48, arr_descr = 56, arr_flags = 64,
       arr_mem_handler = 88 };
/* sizeof(PyArrayObject_fields) once _buffer_info was added (1.20): before,
 * array_sizeof counted NPY_SIZEOF_PYARRAYOBJECT, not the subclass's
 * tp_basicsize; and once mem_handler was added (1.22). */
enum { arr_fields_1_20 = 88, arr_fields_1_22 = 96 };
/* NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_OWNDATA */
enum { npy_c_contiguous = 0x1, npy_owndata = 0x4 };
/* NPY_MAXDIMS: 32 in 1.x, 64 in 2.x. */
static const int64_t npy_maxdims = 64;
/* PyArray_Descr: int type_num at 28 in 1.x and 2.x, NPY_OBJECT its value
 * for object arrays; sizeof and where elsize is, per major version. */
enum { descr_type_num = 28, npy_object = 17 };
enum { descr1_size = 96, descr1_elsize = 32, descr2_size = 88, descr2_elsize = 40 };
/* PyVoidScalarObject: PyObject_VAR_HEAD, obval, descr 32, int flags 40, base 48. */
enum { void_descr = 32, void_base = 48 };
/* An element larger than this is not a dtype numpy makes (elsize was an
 * int); more bytes than this is not an array of an x86-64 process. */
static const int64_t max_elsize = INT32_MAX;
static const uint64_t max_nbytes = 1ull << 47;

/* Mark t approximate: an instance failed numpy's invariants, so its size is
 * the default formula. t is the registry's own entry (objects.c's infos,
 * which never move); the summary's note names the type. */
static void mark_approximate(struct pca_objects *o, const struct pca_type_info *t)
{
	uintptr_t p = (uintptr_t)t, first = (uintptr_t)o->infos;
	if (p >= first && p < (uintptr_t)(o->infos + o->ninfos))
		o->infos[(p - first) / sizeof(*t)].size_exact = false;
}

/* The first type named `name` on type's tp_base chain, NULL if none. */
static const struct pca_type_info *numpy_base(struct pca_objects *o, uint64_t type, const char *name)
{
	for (int depth = 0; type && depth < pca_max_base_depth; depth++) {
		const struct pca_type_info *t = pca_objects_type(o, type);
		if (!t)
			return NULL;
		if (strcmp(t->name, name) == 0)
			return t;
		if (!pca_rd(o, type, PCA_F_TP_BASE, &type))
			return NULL;
	}
	return NULL;
}

/* The first static type up t's chain: the C type a Python class derives
 * from (t itself when static); NULL when the chain is unreadable. */
static const struct pca_type_info *static_base(struct pca_objects *o, const struct pca_type_info *t)
{
	uint64_t type = t->addr;
	for (int depth = 0; t && (t->flags & o->ol.tpflags_heaptype); depth++) {
		if (depth == pca_max_base_depth || !pca_rd(o, type, PCA_F_TP_BASE, &type))
			return NULL;
		t = pca_objects_type(o, type);
	}
	return t;
}

static bool read_i32(struct pca_objects *o, uint64_t addr, int32_t *ret)
{
	return pca_target_try_read(o->interp->target, addr, ret, sizeof(*ret));
}

/* descr->elsize, by the layout of the numpy that made descr (a numpy.dtype
 * instance); false when descr is not one or its elsize is absurd. */
static bool descr_elsize(struct pca_objects *o, uint64_t descr, int64_t *ret)
{
	uint64_t type;
	if (!descr || !pca_rd(o, descr, PCA_F_OB_TYPE, &type))
		return false;
	const struct pca_type_info *dtype = numpy_base(o, type, "numpy.dtype");
	if (!dtype)
		return false;
	if (dtype->basicsize == descr1_size) {
		int32_t v;
		if (!read_i32(o, descr + descr1_elsize, &v))
			return false;
		*ret = v;
	} else if (dtype->basicsize == descr2_size) {
		uint64_t v;
		if (!pca_target_try_read_u64(o->interp->target, descr + descr2_elsize, &v))
			return false;
		*ret = (int64_t)v;
	} else {
		return false;
	}
	return *ret >= 0 && *ret <= max_elsize;
}

/* ---- ndarray ---- */

struct ndarray {
	int32_t nd, flags;
	uint64_t dimensions, strides, descr;
};

static bool ndarray_read(struct pca_objects *o, uint64_t obj, struct ndarray *a)
{
	struct pca_target *tg = o->interp->target;
	return read_i32(o, obj + arr_nd, &a->nd) && read_i32(o, obj + arr_flags, &a->flags) &&
	       a->nd >= 0 && a->nd <= npy_maxdims &&
	       pca_target_try_read_u64(tg, obj + arr_dimensions, &a->dimensions) &&
	       pca_target_try_read_u64(tg, obj + arr_strides, &a->strides) &&
	       pca_target_try_read_u64(tg, obj + arr_descr, &a->descr) && a->descr &&
	       (a->nd == 0 || (a->dimensions && a->strides));
}

/* array_sizeof (numpy/core/src/multiarray/methods.c): tp_basicsize (1.20+;
 * sizeof(PyArrayObject_fields) before) + 2 * nd * sizeof(npy_intp) (its
 * dimensions and strides, one allocation) + nbytes when it owns its data.
 * False when the array fails numpy's invariants. */
static bool ndarray_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	struct ndarray a;
	const struct pca_type_info *nd_type = numpy_base(o, t->addr, "numpy.ndarray");
	if (!nd_type || nd_type->basicsize < arr_flags + 4 || !ndarray_read(o, obj, &a))
		return false;
	uint64_t size = (nd_type->basicsize < arr_fields_1_20 ? nd_type->basicsize : t->basicsize) +
			(uint64_t)a.nd * 2 * 8;
	if (a.flags & npy_owndata) {
		int64_t elsize;
		if (!descr_elsize(o, a.descr, &elsize))
			return false;
		uint64_t n = 1, dim = 0;
		for (int32_t i = 0; i < a.nd; i++) {
			if (!pca_target_try_read_u64(tg, a.dimensions + (uint64_t)i * 8, &dim) || (int64_t)dim < 0 ||
			    (dim && n > max_nbytes / dim))
				return false;
			n *= dim;
		}
		if (elsize && n > max_nbytes / (uint64_t)elsize)
			return false;
		/* The check that elsize was read where this numpy keeps it: a
		 * C-contiguous owner's last stride is its elsize (a length-1
		 * axis, or any axis of an empty array, may have any stride). */
		uint64_t stride;
		if ((a.flags & npy_c_contiguous) && a.nd > 0 && dim > 1 && n &&
		    (!pca_target_try_read_u64(tg, a.strides + (uint64_t)(a.nd - 1) * 8, &stride) ||
		     stride != (uint64_t)elsize))
			return false;
		size += n * (uint64_t)elsize;
	}
	*ret = size;
	return true;
}

static bool ndarray_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	if (ndarray_sizeof(o, obj, t, ret))
		return true;
	mark_approximate(o, t);
	*ret = t->basicsize;
	return true;
}

/* What an array holds a reference to: its base (a view keeps the array, or
 * buffer, whose memory it shows alive: that is what holds the data), its
 * descr, (1.22+) the allocator capsule of an array that allocated its data,
 * and, for an object array that owns its data, each element (its buffer
 * holds one reference per item: pandas' strings live there). The array is
 * not collected (no tp_traverse): these hold memory without the collector
 * seeing them. */
static void ndarray_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t, pca_visit_fn visit,
			      void *ctx)
{
	struct pca_target *tg = o->interp->target;
	const struct pca_type_info *nd_type = numpy_base(o, t->addr, "numpy.ndarray");
	uint64_t p;
	if (!nd_type || nd_type->basicsize < arr_flags + 4)
		return;
	if (pca_target_try_read_u64(tg, obj + arr_base, &p) && p)
		visit(ctx, p);
	if (pca_target_try_read_u64(tg, obj + arr_descr, &p) && p)
		visit(ctx, p);
	if (nd_type->basicsize >= arr_fields_1_22 && pca_target_try_read_u64(tg, obj + arr_mem_handler, &p) && p)
		visit(ctx, p);
	struct ndarray a;
	int32_t type_num;
	uint64_t data, n = 1, dim;
	if (!ndarray_read(o, obj, &a) || !(a.flags & npy_owndata) || !read_i32(o, a.descr + descr_type_num, &type_num) ||
	    type_num != npy_object || !pca_target_try_read_u64(tg, obj + arr_data, &data) || !data)
		return;
	/* The owner's buffer holds its n items contiguously, whatever its
	 * strides (C or Fortran order). */
	for (int32_t i = 0; i < a.nd; i++) {
		if (!pca_target_try_read_u64(tg, a.dimensions + (uint64_t)i * 8, &dim) || (dim && n > max_nbytes / 8 / dim))
			return;
		n *= dim;
	}
	/* A corrupt count is not walked item by item: the last item must be
	 * in the core. */
	if (n && pca_target_try_read_u64(tg, data + (n - 1) * 8, &dim))
		pca_objects_visit_array(o, data, n, visit, ctx);
}

/* "float64 (1000, 3)": the scalar type of its dtype and its shape. */
static void ndarray_preview(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, char *buf,
			    size_t size)
{
	struct ndarray a;
	uint64_t typeobj;
	(void)t;
	if (!ndarray_read(o, obj, &a))
		return;
	const struct pca_type_info *st = NULL;
	if (pca_target_try_read_u64(o->interp->target, a.descr + 16, &typeobj))
		st = pca_objects_type(o, typeobj);
	const char *name = st ? st->name : "?";
	if (strncmp(name, "numpy.", 6) == 0)
		name += 6;
	size_t pos = (size_t)snprintf(buf, size, "%s (", name);
	for (int32_t i = 0; i < a.nd && pos + 24 < size; i++) {
		uint64_t dim;
		if (!pca_target_try_read_u64(o->interp->target, a.dimensions + (uint64_t)i * 8, &dim))
			break;
		pos += (size_t)snprintf(buf + pos, size - pos, "%s%llu", i ? ", " : "", (unsigned long long)dim);
	}
	if (pos + 3 < size)
		snprintf(buf + pos, size - pos, a.nd == 1 ? ",)" : ")");
}

const struct pca_kind_ops pca_ndarray_ops = {
	.kind = PCA_KIND_NDARRAY,
	.size = ndarray_size,
	.referents = ndarray_referents,
	.preview = ndarray_preview,
};

/* ---- scalars ---- */

/* The item size of each fixed-size scalar type, by tp_name (x86-64 Linux:
 * numpy names integers by their bits; the second 64-bit C integer type is
 * longlong). numpy.bool is 2.x's name of bool_. */
static const struct {
	const char *name;
	uint8_t elsize;
} scalar_elsizes[] = {
	{"numpy.bool_", 1},      {"numpy.bool", 1},        {"numpy.int8", 1},        {"numpy.uint8", 1},
	{"numpy.int16", 2},      {"numpy.uint16", 2},      {"numpy.int32", 4},       {"numpy.uint32", 4},
	{"numpy.int64", 8},      {"numpy.uint64", 8},      {"numpy.longlong", 8},    {"numpy.ulonglong", 8},
	{"numpy.float16", 2},    {"numpy.float32", 4},     {"numpy.float64", 8},     {"numpy.float128", 16},
	{"numpy.complex64", 8},  {"numpy.complex128", 16}, {"numpy.complex256", 32}, {"numpy.datetime64", 8},
	{"numpy.timedelta64", 8},
};

/* gentype_sizeof (numpy/core/src/multiarray/scalartypes.c.src): the item
 * size of the scalar's dtype (PyArray_DescrFromScalar) + tp_basicsize +
 * Py_SIZE * tp_itemsize. The item size is the type's for fixed types, the
 * length for bytes_, the scalar's descr's for void. */
static bool scalar_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	/* numpy's own type (a Python subclass of numpy.float64 is a float64) */
	const struct pca_type_info *own = static_base(o, t);
	if (!own)
		return false;
	uint64_t ob_size = 0;
	if (t->itemsize && !pca_rd(o, obj, PCA_F_OB_SIZE, &ob_size))
		return false;
	int64_t elsize = -1;
	if (strcmp(own->name, "numpy.bytes_") == 0) {
		elsize = (int64_t)ob_size;
	} else if (strcmp(own->name, "numpy.void") == 0) {
		uint64_t descr;
		if (own->basicsize < void_base + 8 ||
		    !pca_target_try_read_u64(o->interp->target, obj + void_descr, &descr) ||
		    !descr_elsize(o, descr, &elsize))
			return false;
	} else {
		for (size_t i = 0; i < sizeof(scalar_elsizes) / sizeof(scalar_elsizes[0]); i++)
			if (strcmp(own->name, scalar_elsizes[i].name) == 0)
				elsize = scalar_elsizes[i].elsize;
		/* the value (obval) follows the object header */
		if (elsize < 0 || own->basicsize < 16 + (uint64_t)elsize)
			return false;
	}
	if (elsize < 0 || ob_size > max_nbytes)
		return false;
	*ret = (uint64_t)elsize + t->basicsize + ob_size * t->itemsize;
	return true;
}

static bool scalar_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	if (scalar_sizeof(o, obj, t, ret))
		return true;
	mark_approximate(o, t);
	return pca_objects_default_size(o, obj, t, ret);
}

/* A void scalar holds its descr and the array (or other object) whose
 * memory it shows. */
static void scalar_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t, pca_visit_fn visit,
			     void *ctx)
{
	struct pca_target *tg = o->interp->target;
	if (!numpy_base(o, t->addr, "numpy.void") || t->basicsize < void_base + 8)
		return;
	uint64_t p;
	if (pca_target_try_read_u64(tg, obj + void_descr, &p) && p)
		visit(ctx, p);
	if (pca_target_try_read_u64(tg, obj + void_base, &p) && p)
		visit(ctx, p);
}

const struct pca_kind_ops pca_numpy_scalar_ops = {
	.kind = PCA_KIND_NUMPY_SCALAR,
	.size = scalar_size,
	.referents = scalar_referents,
};

/* ---- pandas' Cython containers ---- */

/* pandas keeps a DataFrame's columns in Cython classes (pandas/_libs/
 * internals.pyx: BlockManager.blocks, a tuple of blocks; each block's
 * `values`, the ndarray holding the data): `cdef` members whose offsets
 * depend on the Cython and pandas versions and that only their tp_traverse
 * visits, so without them a frame's data is not in the census. Each word of
 * the C struct (the first static type up the chain: NumpyBlock, not
 * SharedBlock) after the object header is a guess the caller validates as
 * an object (an int or a vtable pointer is dropped). The size is the
 * default formula (these classes define no __sizeof__). */
static void cython_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t, pca_visit_fn visit,
			     void *ctx)
{
	const struct pca_type_info *c = static_base(o, t);
	uint64_t words[32];
	if (!c || c->basicsize < 16)
		return;
	uint64_t n = (c->basicsize - 16) / 8;
	if (n > sizeof(words) / sizeof(words[0]) || !pca_target_try_read(o->interp->target, obj + 16, words, n * 8))
		return;
	for (uint64_t i = 0; i < n; i++)
		if (words[i] && !(words[i] & 7))
			visit(ctx, words[i] | PCA_REFERENT_GUESS);
}

const struct pca_kind_ops pca_pandas_cython_ops = {
	.kind = PCA_KIND_PANDAS_CYTHON,
	.size = pca_objects_default_size,
	.referents = cython_referents,
};

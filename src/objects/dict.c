/* dict.c: dict and collections.OrderedDict (Objects/dictobject.c,
 * Objects/odictobject.c): the keys tables of every version's layout, sizes,
 * items. defaultdict and dict subclasses are dicts (their C type's members
 * come from the object layout). */
#include <stdlib.h>
#include <string.h>

#include "objects/kinds.h"

/* 3.6-3.10 DK_IXSIZE (Objects/dictobject.c): index width by table size. */
static uint64_t dk_index_size(uint64_t size)
{
	return size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffu ? 4 : 8;
}

/* Dict entries in any of the versions' layouts. */
struct dict_view {
	uint64_t entries, entry_size, key_off, value_off, nentries;
	uint64_t values; /* split table: the values array, else 0 */
	uint64_t keys;
};

/* The entries of a keys object, and the values array of a split table
 * (`values` as stored in the dict or instance, 0 for a combined table). */
static bool keys_view(struct pca_objects *o, uint64_t keys, uint64_t values, struct dict_view *v)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t kind = 0;
	memset(v, 0, sizeof(*v));
	v->keys = keys;
	if (!pca_rd(o, v->keys, PCA_F_DK_NENTRIES, &v->nentries) || v->nentries > pca_max_dict_entries)
		return false;
	uint64_t indices = v->keys + pca_layout_offset(l, PCA_F_DK_INDICES);
	v->entry_size = l->sizes[PCA_S_DICT_ENTRY];
	v->key_off = pca_layout_offset(l, PCA_F_DK_ENTRY_KEY);
	v->value_off = pca_layout_offset(l, PCA_F_DK_ENTRY_VALUE);
	if (pca_layout_has(l, PCA_F_DK_LOG2_INDEX_BYTES)) {
		/* 3.11+ Objects/dictobject.c DK_ENTRIES: indices take 1 << dk_log2_index_bytes;
		 * tables of str keys (dk_kind != DICT_KEYS_GENERAL) hold PyDictUnicodeEntry. */
		uint64_t log2_index_bytes;
		if (!pca_rd(o, v->keys, PCA_F_DK_LOG2_INDEX_BYTES, &log2_index_bytes) ||
		    log2_index_bytes > 40 || !pca_rd(o, v->keys, PCA_F_DK_KIND, &kind))
			return false;
		v->entries = indices + (1ull << log2_index_bytes);
		if (kind != 0) {
			v->entry_size = l->sizes[PCA_S_DICT_UNICODE_ENTRY];
			v->key_off = pca_layout_offset(l, PCA_F_DK_UENTRY_KEY);
			v->value_off = pca_layout_offset(l, PCA_F_DK_UENTRY_VALUE);
		}
		if (values)
			v->values = values + pca_layout_offset(l, PCA_F_DICT_VALUES_VALUES);
	} else {
		uint64_t size;
		if (!pca_rd(o, v->keys, PCA_F_DK_SIZE, &size) || size > pca_max_dict_entries * 2)
			return false;
		v->entries = indices + size * dk_index_size(size);
		v->values = values;
	}
	return true;
}

static bool dict_entry(struct pca_objects *o, const struct dict_view *v, uint64_t i, uint64_t *key,
		       uint64_t *value);

static bool dict_view(struct pca_objects *o, uint64_t dict, struct dict_view *v)
{
	uint64_t keys, values;
	return pca_rd(o, dict, PCA_F_DICT_KEYS, &keys) && pca_rd(o, dict, PCA_F_DICT_VALUES, &values) &&
	       keys_view(o, keys, values, v);
}

bool pca_objects_dict_items(struct pca_objects *o, uint64_t dict, pca_dict_fn fn, void *ctx)
{
	struct dict_view v;
	if (!dict_view(o, dict, &v))
		return false;
	for (uint64_t i = 0; i < v.nentries; i++) {
		uint64_t key, value;
		if (!dict_entry(o, &v, i, &key, &value))
			return false;
		if (value && !fn(ctx, key, value))
			break;
	}
	return true;
}

bool pca_objects_keys_key(struct pca_objects *o, uint64_t keys, uint64_t i, uint64_t *ret)
{
	struct dict_view v;
	uint64_t value;
	return keys_view(o, keys, 0, &v) && i < v.nentries && dict_entry(o, &v, i, ret, &value);
}

static bool dict_entry(struct pca_objects *o, const struct dict_view *v, uint64_t i, uint64_t *key,
		       uint64_t *value)
{
	struct pca_target *t = o->interp->target;
	uint64_t e = v->entries + i * v->entry_size;
	if (!pca_target_try_read_u64(t, e + v->key_off, key))
		return false;
	if (v->values)
		return pca_target_try_read_u64(t, v->values + i * 8, value);
	return pca_target_try_read_u64(t, e + v->value_off, value);
}

/* d[key] for a str key, by comparing contents (type dicts are small). */
uint64_t pca_dict_get_str(struct pca_objects *o, uint64_t dict, const char *key)
{
	struct dict_view v;
	if (!dict || !dict_view(o, dict, &v))
		return 0;
	for (uint64_t i = 0; i < v.nentries && i < 4096; i++) {
		uint64_t k, val;
		char *s = NULL;
		if (!dict_entry(o, &v, i, &k, &val) || !k || !val)
			continue;
		struct pca_error *err = pca_interp_read_str(o->interp, k, 64, &s);
		if (err) {
			pca_error_destroy(err);
			continue;
		}
		bool match = strcmp(s, key) == 0;
		free(s);
		if (match)
			return val;
	}
	return 0;
}

/* Objects/dictobject.c _PyDict_KeysSize, and the number of value slots a
 * split table built on these keys has (shared_keys_usable_size 3.11+,
 * USABLE_FRACTION(dk_size) before). */
bool pca_dict_keys_size(struct pca_objects *o, uint64_t keys, uint64_t *size_ret,
			uint64_t *value_slots)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t nentries, usable;
	if (!pca_rd(o, keys, PCA_F_DK_NENTRIES, &nentries) || !pca_rd(o, keys, PCA_F_DK_USABLE, &usable))
		return false;
	if (pca_layout_has(l, PCA_F_DK_LOG2_SIZE)) {
		uint64_t log2_size, log2_index_bytes, kind;
		if (!pca_rd(o, keys, PCA_F_DK_LOG2_SIZE, &log2_size) || log2_size > 40 ||
		    !pca_rd(o, keys, PCA_F_DK_LOG2_INDEX_BYTES, &log2_index_bytes) ||
		    log2_index_bytes > 40 || !pca_rd(o, keys, PCA_F_DK_KIND, &kind))
			return false;
		uint64_t size = 1ull << log2_size;
		uint64_t entry = kind ? l->sizes[PCA_S_DICT_UNICODE_ENTRY] : l->sizes[PCA_S_DICT_ENTRY];
		*size_ret = l->sizes[PCA_S_DICT_KEYS] + (1ull << log2_index_bytes) + (2 * size / 3) * entry;
		*value_slots = nentries + usable;
		return true;
	}
	/* 3.6-3.10: USABLE_FRACTION(dk_size) entries after dk_size indices of
	 * DK_IXSIZE bytes; the header is everything before dk_indices. */
	uint64_t size;
	if (!pca_rd(o, keys, PCA_F_DK_SIZE, &size) || size > pca_max_dict_entries * 2)
		return false;
	*size_ret = pca_layout_offset(l, PCA_F_DK_INDICES) + dk_index_size(size) * size +
		    (2 * size / 3) * l->sizes[PCA_S_DICT_ENTRY];
	*value_slots = 2 * size / 3;
	return true;
}

/* Objects/dictobject.c _PyDict_SizeOf. The keys table counts only when this
 * dict owns it (dk_refcnt == 1; shared split keys belong to the class);
 * split values count their slots, except 3.13 values embedded in the
 * object, which are the object's. */
static bool dict_sizeof(struct pca_objects *o, uint64_t dict, const struct pca_type_info *t,
			uint64_t *res)
{
	uint64_t keys, values, refcnt, keys_size, value_slots, embedded = 0;
	if (!pca_rd(o, dict, PCA_F_DICT_KEYS, &keys) || !pca_rd(o, dict, PCA_F_DICT_VALUES, &values) ||
	    !pca_rd(o, keys, PCA_F_DK_REFCNT, &refcnt) ||
	    !pca_dict_keys_size(o, keys, &keys_size, &value_slots))
		return false;
	if (values && pca_rd(o, values, PCA_F_DICT_VALUES_EMBEDDED, &embedded) && embedded)
		value_slots = 0;
	*res = t->basicsize + (values ? value_slots * 8 : 0) + (refcnt == 1 ? keys_size : 0);
	return true;
}

/* Objects/odictobject.c odict_sizeof: the dict, the fast-lookup node array,
 * and one linked-list node per item. */
static bool odict_sizeof(struct pca_objects *o, uint64_t od, const struct pca_type_info *t,
			 uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t fast, first, used;
	if (!dict_sizeof(o, od, t, res) || !pca_rd(o, od, PCA_F_ODICT_FAST_SIZE, &fast) ||
	    !pca_rd(o, od, PCA_F_ODICT_FIRST, &first) || !pca_rd(o, od, PCA_F_DICT_USED, &used))
		return false;
	*res += fast * 8 + (first ? used * l->sizes[PCA_S_ODICT_NODE] : 0);
	return true;
}

/* dict_traverse visits values (and keys of non-str tables); we visit every
 * key too: a str key holds memory whether or not it can form a cycle. */
static void visit_dict(struct pca_objects *o, uint64_t dict, pca_visit_fn visit, void *ctx)
{
	struct dict_view v;
	if (!dict_view(o, dict, &v))
		return;
	for (uint64_t i = 0; i < v.nentries && i < pca_max_items; i++) {
		uint64_t key, value;
		if (!dict_entry(o, &v, i, &key, &value))
			return;
		if (!value)
			continue;
		if (key)
			visit(ctx, key);
		visit(ctx, value);
	}
}

static void dict_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_dict(o, obj, visit, ctx);
}

static bool dict_len(struct pca_objects *o, uint64_t dict, uint64_t *ret)
{
	return pca_rd(o, dict, PCA_F_DICT_USED, ret);
}

const struct pca_kind_ops pca_dict_ops = {
	.kind = PCA_KIND_DICT,
	.size = dict_sizeof,
	.referents = dict_referents,
	.preview = pca_objects_preview_len,
	.len = dict_len,
};

const struct pca_kind_ops pca_odict_ops = {
	.kind = PCA_KIND_ODICT,
	.size = odict_sizeof,
	.referents = dict_referents,
	.preview = pca_objects_preview_len,
	.len = dict_len,
};

/* ctypes' type dicts, 3.6-3.12 (Modules/_ctypes/stgdict.c, StgDictObject
 * in ctypes.h): a dict with the C type's storage info after it. The struct
 * is private to the _ctypes extension module and the same in 3.6-3.12
 * (x86-64, ptype/o of pyenv's _ctypes debug info): `Py_ssize_t length` at
 * 64, `ffi_type_pointer.elements` at 88, `char *format` at 168, `int ndim`
 * at 176, 192 bytes in all. Each read is checked against the struct's own
 * invariants; a dict that fails them gets the plain dict's size (a floor). */
enum { stg_length = 64, stg_elements = 88, stg_format = 168, stg_ndim = 176, stg_size = 192 };
/* Beyond these a ctypes type is not one a program made (bounds corrupt reads). */
static const uint64_t stg_max_fields = 1u << 20, stg_max_format = 1u << 16, stg_max_ndim = 64;

/* The format string's strlen + 1, bounded; false when unreadable. */
static bool cstr_size(struct pca_objects *o, uint64_t addr, uint64_t max, uint64_t *ret)
{
	char buf[256];
	for (uint64_t done = 0; done < max; done += sizeof(buf) - 1) {
		if (pca_target_read_cstr(o->interp->target, addr + done, buf, sizeof(buf))) {
			*ret = done + strlen(buf) + 1;
			return true;
		}
		/* no NUL in this chunk, or unreadable */
		if (!pca_target_try_read(o->interp->target, addr + done, buf, sizeof(buf) - 1))
			return false;
	}
	return false;
}

/* The memory beside a ctypes type's storage info that its __sizeof__
 * counts: the PEP 3118 format string, the shape (ndim Py_ssize_t) and the
 * ffi elements array (length + 1 pointers). Shared with types.c (3.13's
 * StgInfo has the same members at other offsets). */
bool pca_ctypes_stginfo_extra(struct pca_objects *o, uint64_t info, uint64_t length_at,
			      uint64_t elements_at, uint64_t format_at, uint64_t ndim_at, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t length, elements, format, flen = 0;
	uint32_t ndim;
	if (!pca_target_try_read_u64(tg, info + length_at, &length) ||
	    !pca_target_try_read_u64(tg, info + elements_at, &elements) ||
	    !pca_target_try_read_u64(tg, info + format_at, &format) ||
	    !pca_target_try_read(tg, info + ndim_at, &ndim, sizeof(ndim)) || length > stg_max_fields ||
	    ndim > stg_max_ndim || (format && !cstr_size(o, format, stg_max_format, &flen)))
		return false;
	*ret = flen + ndim * 8 + (elements ? (length + 1) * 8 : 0);
	return true;
}

/* PyCStgDict_sizeof: _PyDict_SizeOf (whose object part is the StgDict's
 * basicsize) plus sizeof(StgDictObject) - sizeof(PyDictObject) once more,
 * plus the memory beside it. */
static bool stgdict_sizeof(struct pca_objects *o, uint64_t dict, const struct pca_type_info *t,
			   uint64_t *res)
{
	uint64_t extra;
	if (!dict_sizeof(o, dict, t, res))
		return false;
	if (t->basicsize < stg_size ||
	    !pca_ctypes_stginfo_extra(o, dict, stg_length, stg_elements, stg_format, stg_ndim, &extra))
		return true;
	*res += stg_size - o->interp->layout->sizes[PCA_S_DICT] + extra;
	return true;
}

/* A dict in every other respect (kind, referents, length); 3.6's StgDict
 * has no __sizeof__ (PyCStgDict_sizeof came in 3.7): a dict's size. */
const struct pca_kind_ops pca_stgdict_ops = {
	.kind = PCA_KIND_DICT,
	.size = stgdict_sizeof,
	.referents = dict_referents,
	.preview = pca_objects_preview_len,
	.len = dict_len,
	.without_sizeof = &pca_dict_ops,
};

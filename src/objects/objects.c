#include "objects/objects.h"

#include <stdlib.h>
#include <string.h>

/* Include/object.h, stable across 3.6-3.13. */
static const uint64_t tpflags_heaptype = 1u << 9;
static const uint64_t tpflags_have_gc = 1u << 14;
/* Bounds: no real type hierarchy is deeper, no metaclass chain longer. */
static const int max_base_depth = 64;
static const uint64_t max_basicsize = 1u << 20;
static const size_t max_type_name = 512;
static const uint64_t max_dict_entries = 1ull << 32;

static bool rd(struct pca_objects *o, uint64_t base, enum pca_field f, uint64_t *ret)
{
	return pca_interp_read_field(o->interp, base, f, ret);
}

static const struct {
	enum pca_kind kind;
	const char *tp_name;
} kind_names[] = {
	{PCA_KIND_TYPE, "type"},
	{PCA_KIND_DICT, "dict"},
	{PCA_KIND_LIST, "list"},
	{PCA_KIND_TUPLE, "tuple"},
	{PCA_KIND_SET, "set"},
	{PCA_KIND_FROZENSET, "frozenset"},
	{PCA_KIND_DEQUE, "collections.deque"},
	{PCA_KIND_ODICT, "collections.OrderedDict"},
	{PCA_KIND_CODE, "code"},
	{PCA_KIND_FRAME, "frame"},
	{PCA_KIND_GENERATOR, "generator"},
	{PCA_KIND_INT, "int"},
	{PCA_KIND_STR, "str"},
};

struct pca_error *pca_objects_init(struct pca_objects *o, struct pca_interp *interp)
{
	memset(o, 0, sizeof(*o));
	o->interp = interp;
	if (!pca_symbols_lookup(interp->symbols, "PyType_Type", &o->type_type))
		return pca_error_create(PCA_ERROR_DEBUGINFO, "no symbol PyType_Type in %s",
					pca_symbols_python_file(interp->symbols));
	o->map_capacity = 1024;
	o->map_keys = calloc(o->map_capacity, sizeof(*o->map_keys));
	o->map_values = calloc(o->map_capacity, sizeof(*o->map_values));
	if (!o->map_keys || !o->map_values)
		return &pca_error_nomem;
	return NULL;
}

void pca_objects_deinit(struct pca_objects *o)
{
	for (size_t i = 0; i < o->ninfos; i++)
		free(o->infos[i].name);
	free(o->infos);
	free(o->map_keys);
	free(o->map_values);
	memset(o, 0, sizeof(*o));
}

static size_t map_slot(const struct pca_objects *o, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	size_t mask = o->map_capacity - 1;
	size_t i = (size_t)(h >> 20) & mask;
	while (o->map_keys[i] && o->map_keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static bool map_grow(struct pca_objects *o)
{
	size_t old_cap = o->map_capacity;
	uint64_t *old_keys = o->map_keys;
	uint32_t *old_values = o->map_values;
	o->map_capacity *= 2;
	o->map_keys = calloc(o->map_capacity, sizeof(*o->map_keys));
	o->map_values = calloc(o->map_capacity, sizeof(*o->map_values));
	if (!o->map_keys || !o->map_values) {
		free(o->map_keys);
		free(o->map_values);
		o->map_keys = old_keys;
		o->map_values = old_values;
		o->map_capacity = old_cap;
		return false;
	}
	for (size_t i = 0; i < old_cap; i++) {
		if (!old_keys[i])
			continue;
		size_t s = map_slot(o, old_keys[i]);
		o->map_keys[s] = old_keys[i];
		o->map_values[s] = old_values[i];
	}
	free(old_keys);
	free(old_values);
	return true;
}

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

static bool dict_view(struct pca_objects *o, uint64_t dict, struct dict_view *v)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t values, kind = 0;
	memset(v, 0, sizeof(*v));
	if (!rd(o, dict, PCA_F_DICT_KEYS, &v->keys) || !rd(o, dict, PCA_F_DICT_VALUES, &values) ||
	    !rd(o, v->keys, PCA_F_DK_NENTRIES, &v->nentries) || v->nentries > max_dict_entries)
		return false;
	uint64_t indices = v->keys + pca_layout_offset(l, PCA_F_DK_INDICES);
	v->entry_size = l->sizes[PCA_S_DICT_ENTRY];
	v->key_off = pca_layout_offset(l, PCA_F_DK_ENTRY_KEY);
	v->value_off = pca_layout_offset(l, PCA_F_DK_ENTRY_VALUE);
	if (pca_layout_has(l, PCA_F_DK_LOG2_INDEX_BYTES)) {
		/* 3.11+ Objects/dictobject.c DK_ENTRIES: indices take 1 << dk_log2_index_bytes;
		 * tables of str keys (dk_kind != DICT_KEYS_GENERAL) hold PyDictUnicodeEntry. */
		uint64_t log2_index_bytes;
		if (!rd(o, v->keys, PCA_F_DK_LOG2_INDEX_BYTES, &log2_index_bytes) ||
		    log2_index_bytes > 40 || !rd(o, v->keys, PCA_F_DK_KIND, &kind))
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
		if (!rd(o, v->keys, PCA_F_DK_SIZE, &size) || size > max_dict_entries * 2)
			return false;
		v->entries = indices + size * dk_index_size(size);
		v->values = values;
	}
	return true;
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
static uint64_t dict_get_str(struct pca_objects *o, uint64_t dict, const char *key)
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

/* Objects/typeobject.c type_qualname/type_module: heap types name themselves
 * by ht_qualname and their dict's __module__; static types by tp_name;
 * "builtins" is left out. */
static char *type_name(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	struct pca_interp *in = o->interp;
	if (flags & tpflags_heaptype) {
		uint64_t qualname, dict;
		char *q = NULL, *m = NULL;
		if (rd(o, type, PCA_F_HT_QUALNAME, &qualname)) {
			struct pca_error *err = pca_interp_read_str(in, qualname, max_type_name, &q);
			pca_error_destroy(err);
		}
		if (!q)
			return NULL;
		if (rd(o, type, PCA_F_TP_DICT, &dict)) {
			uint64_t mod = dict_get_str(o, dict, "__module__");
			if (mod) {
				struct pca_error *err = pca_interp_read_str(in, mod, max_type_name, &m);
				pca_error_destroy(err);
			}
		}
		if (!m || strcmp(m, "builtins") == 0) {
			free(m);
			return q;
		}
		char *full = pca_asprintf("%s.%s", m, q);
		free(m);
		free(q);
		return full;
	}
	uint64_t name_ptr;
	char buf[512];
	if (!rd(o, type, PCA_F_TP_NAME, &name_ptr) ||
	    !pca_target_read_cstr(in->target, name_ptr, buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

/* The builtin kind this very type is (not its bases), or PCA_KIND_OBJECT.
 * Static types, and C heap types (3.12+ collections.deque), whose tp_name is
 * dotted; a Python class's tp_name never is, so a user class called `list`
 * is not taken for the builtin. */
static enum pca_kind own_kind(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	uint64_t name_ptr;
	char buf[64];
	if (!rd(o, type, PCA_F_TP_NAME, &name_ptr) ||
	    !pca_target_read_cstr(o->interp->target, name_ptr, buf, sizeof(buf)) ||
	    ((flags & tpflags_heaptype) && !strchr(buf, '.')))
		return PCA_KIND_OBJECT;
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(buf, kind_names[i].tp_name) == 0)
			return kind_names[i].kind;
	return PCA_KIND_OBJECT;
}

static enum pca_kind type_kind(struct pca_objects *o, uint64_t type)
{
	uint64_t cur = type;
	for (int depth = 0; cur && depth < max_base_depth; depth++) {
		uint64_t flags, base;
		if (!rd(o, cur, PCA_F_TP_FLAGS, &flags))
			break;
		enum pca_kind kind = own_kind(o, cur, flags);
		if (kind != PCA_KIND_OBJECT)
			return kind;
		if (!rd(o, cur, PCA_F_TP_BASE, &base))
			break;
		cur = base;
	}
	return PCA_KIND_OBJECT;
}

static bool methods_define_sizeof(struct pca_objects *o, uint64_t type)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t methods, name_ptr;
	char buf[16];
	if (!rd(o, type, PCA_F_TP_METHODS, &methods) || !methods)
		return false;
	/* PyMethodDef arrays end with a NULL ml_name; 1024 bounds a corrupt one. */
	for (int i = 0; i < 1024; i++) {
		if (!pca_target_try_read_u64(o->interp->target, methods + (uint64_t)i * l->sizes[PCA_S_METHODDEF],
					     &name_ptr) || !name_ptr)
			return false;
		if (pca_target_read_cstr(o->interp->target, name_ptr, buf, sizeof(buf)) &&
		    strcmp(buf, "__sizeof__") == 0)
			return true;
	}
	return false;
}

/* Whether sys.getsizeof of instances runs a __sizeof__ we do not model: one
 * defined in C (tp_methods) or in Python (the class dict) on the way up the
 * bases before the builtin kind whose __sizeof__ we model. */
static bool sizeof_is_modelled(struct pca_objects *o, uint64_t type, enum pca_kind kind)
{
	uint64_t cur = type;
	for (int depth = 0; cur && depth < max_base_depth; depth++) {
		uint64_t flags, dict, base;
		if (!rd(o, cur, PCA_F_TP_FLAGS, &flags))
			return false;
		if (kind != PCA_KIND_OBJECT && own_kind(o, cur, flags) == kind)
			return true;
		if (methods_define_sizeof(o, cur))
			return false;
		if ((flags & tpflags_heaptype) && rd(o, cur, PCA_F_TP_DICT, &dict) &&
		    dict_get_str(o, dict, "__sizeof__"))
			return false;
		if (!rd(o, cur, PCA_F_TP_BASE, &base))
			return false;
		cur = base;
	}
	return true;
}

/* A type object's own type is `type` or a metaclass whose type is `type`
 * (ABCMeta, EnumMeta); two steps cover every real program. */
static bool is_type_object(struct pca_objects *o, uint64_t addr)
{
	uint64_t meta, metameta;
	if (!rd(o, addr, PCA_F_OB_TYPE, &meta))
		return false;
	if (meta == o->type_type)
		return true;
	return rd(o, meta, PCA_F_OB_TYPE, &metameta) &&
	       (metameta == o->type_type ||
		(rd(o, metameta, PCA_F_OB_TYPE, &metameta) && metameta == o->type_type));
}

const struct pca_type_info *pca_objects_type(struct pca_objects *o, uint64_t type_addr)
{
	if (!type_addr || (type_addr & 7))
		return NULL;
	size_t slot = map_slot(o, type_addr);
	if (o->map_keys[slot]) {
		uint32_t idx = o->map_values[slot];
		return idx == UINT32_MAX ? NULL : &o->infos[idx];
	}
	struct pca_type_info info = {.addr = type_addr, .size_exact = true};
	bool valid = is_type_object(o, type_addr) && rd(o, type_addr, PCA_F_TP_FLAGS, &info.flags) &&
		     rd(o, type_addr, PCA_F_TP_BASICSIZE, &info.basicsize) &&
		     rd(o, type_addr, PCA_F_TP_ITEMSIZE, &info.itemsize) &&
		     info.basicsize >= o->interp->layout->sizes[PCA_S_OBJECT] &&
		     info.basicsize < max_basicsize && info.itemsize < max_basicsize;
	if (valid) {
		info.name = type_name(o, type_addr, info.flags);
		valid = info.name != NULL;
	}
	uint32_t idx = UINT32_MAX;
	if (valid) {
		info.kind = type_kind(o, type_addr);
		/* Kinds with their own __sizeof__ that we do not model yet. */
		info.size_exact = info.kind != PCA_KIND_TYPE && info.kind != PCA_KIND_ODICT &&
				  info.kind != PCA_KIND_CODE && info.kind != PCA_KIND_FRAME &&
				  info.kind != PCA_KIND_GENERATOR &&
				  sizeof_is_modelled(o, type_addr, info.kind);
		if (o->ninfos == o->infos_capacity) {
			size_t cap = o->infos_capacity ? o->infos_capacity * 2 : 256;
			struct pca_type_info *infos = realloc(o->infos, cap * sizeof(*infos));
			if (!infos) {
				free(info.name);
				return NULL;
			}
			o->infos = infos;
			o->infos_capacity = cap;
		}
		idx = (uint32_t)o->ninfos;
		o->infos[o->ninfos++] = info;
	}
	if ((o->map_used + 1) * 2 > o->map_capacity) {
		if (!map_grow(o))
			return idx == UINT32_MAX ? NULL : &o->infos[idx];
		slot = map_slot(o, type_addr);
	}
	o->map_keys[slot] = type_addr;
	o->map_values[slot] = idx;
	o->map_used++;
	return idx == UINT32_MAX ? NULL : &o->infos[idx];
}

/* Objects/dictobject.c _PyDict_SizeOf. The keys table counts only when this
 * dict owns it (dk_refcnt == 1; shared split keys belong to the class);
 * split values count their slots. */
static bool dict_sizeof(struct pca_objects *o, uint64_t dict, uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t keys, values, refcnt, nentries, usable;
	if (!rd(o, dict, PCA_F_DICT_KEYS, &keys) || !rd(o, dict, PCA_F_DICT_VALUES, &values) ||
	    !rd(o, keys, PCA_F_DK_REFCNT, &refcnt) || !rd(o, keys, PCA_F_DK_NENTRIES, &nentries) ||
	    !rd(o, keys, PCA_F_DK_USABLE, &usable))
		return false;
	uint64_t keys_size, values_slots;
	if (pca_layout_has(l, PCA_F_DK_LOG2_SIZE)) {
		/* 3.11+: _PyDict_KeysSize; split values hold nentries + usable slots
		 * (shared_keys_usable_size); 3.13 values embedded in the object
		 * are the object's, not the dict's. */
		uint64_t log2_size, log2_index_bytes, kind;
		if (!rd(o, keys, PCA_F_DK_LOG2_SIZE, &log2_size) || log2_size > 40 ||
		    !rd(o, keys, PCA_F_DK_LOG2_INDEX_BYTES, &log2_index_bytes) ||
		    log2_index_bytes > 40 || !rd(o, keys, PCA_F_DK_KIND, &kind))
			return false;
		uint64_t size = 1ull << log2_size;
		uint64_t entry = kind ? l->sizes[PCA_S_DICT_UNICODE_ENTRY] : l->sizes[PCA_S_DICT_ENTRY];
		keys_size = l->sizes[PCA_S_DICT_KEYS] + (1ull << log2_index_bytes) + (2 * size / 3) * entry;
		values_slots = nentries + usable;
		uint64_t embedded = 0;
		if (values && rd(o, values, PCA_F_DICT_VALUES_EMBEDDED, &embedded) && embedded)
			values_slots = 0;
	} else {
		/* 3.6-3.10: USABLE_FRACTION(dk_size) entries after dk_size indices of
		 * DK_IXSIZE bytes; the header is everything before dk_indices. */
		uint64_t size;
		if (!rd(o, keys, PCA_F_DK_SIZE, &size) || size > max_dict_entries * 2)
			return false;
		keys_size = pca_layout_offset(l, PCA_F_DK_INDICES) + dk_index_size(size) * size +
			    (2 * size / 3) * l->sizes[PCA_S_DICT_ENTRY];
		values_slots = 2 * size / 3;
	}
	uint64_t type, basicsize;
	if (!rd(o, dict, PCA_F_OB_TYPE, &type) || !rd(o, type, PCA_F_TP_BASICSIZE, &basicsize))
		return false;
	*res = basicsize + (values ? values_slots * 8 : 0) + (refcnt == 1 ? keys_size : 0);
	return true;
}

/* Objects/longobject.c int___sizeof___impl: the digits from the fixed
 * offset, whatever the subclass's basicsize. 3.12+ keep the digit count in
 * lv_tag >> 3 (_PyLong_NON_SIZE_BITS); before, |ob_size|. */
static bool long_sizeof(struct pca_objects *o, uint64_t obj, uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t v, ndigits;
	if (pca_layout_has(l, PCA_F_LONG_TAG)) {
		if (!rd(o, obj, PCA_F_LONG_TAG, &v))
			return false;
		ndigits = v >> 3;
	} else {
		if (!rd(o, obj, PCA_F_OB_SIZE, &v))
			return false;
		ndigits = (int64_t)v < 0 ? (uint64_t)(-(int64_t)v) : v;
	}
	if (ndigits == 0 && l->long_min_one_digit)
		ndigits = 1;
	*res = pca_layout_offset(l, PCA_F_LONG_DIGITS) + ndigits * 4;
	return true;
}

/* Objects/unicodeobject.c unicode_sizeof_impl: compact ASCII, compact, or
 * legacy (subclass instances) with a separate data block; plus a separate
 * UTF-8 copy, and 3.6-3.11 a separate wchar_t copy. */
static bool str_sizeof(struct pca_objects *o, uint64_t obj, uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t length, kind, compact, ascii, data = 0;
	if (!rd(o, obj, PCA_F_UNICODE_LENGTH, &length) || !rd(o, obj, PCA_F_UNICODE_KIND, &kind) ||
	    !rd(o, obj, PCA_F_UNICODE_COMPACT, &compact) || !rd(o, obj, PCA_F_UNICODE_ASCII, &ascii))
		return false;
	uint64_t size;
	if (compact && ascii) {
		*res = l->sizes[PCA_S_ASCII] + length + 1;
		data = obj + l->sizes[PCA_S_ASCII];
	} else if (compact) {
		size = l->sizes[PCA_S_COMPACT_UNICODE] + (length + 1) * kind;
		data = obj + l->sizes[PCA_S_COMPACT_UNICODE];
		*res = size;
	} else {
		*res = l->sizes[PCA_S_UNICODE];
		if (!rd(o, obj, PCA_F_UNICODE_DATA, &data))
			return false;
		if (data)
			*res += (length + 1) * kind;
	}
	if (!(compact && ascii)) {
		uint64_t utf8, utf8_length;
		if (rd(o, obj, PCA_F_UNICODE_UTF8, &utf8) && utf8 && utf8 != data &&
		    rd(o, obj, PCA_F_UNICODE_UTF8_LENGTH, &utf8_length))
			*res += utf8_length + 1;
	}
	uint64_t wstr;
	if (rd(o, obj, PCA_F_UNICODE_WSTR, &wstr) && wstr && wstr != data) {
		/* compact ASCII strings keep no wstr_length: it equals length */
		uint64_t wlen = length;
		if (!(compact && ascii) && !rd(o, obj, PCA_F_UNICODE_WSTR_LENGTH, &wlen))
			return false;
		*res += (wlen + 1) * 4;
	}
	return true;
}

static bool kind_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t v;
	switch (t->kind) {
	case PCA_KIND_INT:
		return long_sizeof(o, obj, res);
	case PCA_KIND_STR:
		return str_sizeof(o, obj, res);
	case PCA_KIND_DICT:
		return dict_sizeof(o, obj, res);
	case PCA_KIND_LIST: /* list___sizeof___impl: allocated slots */
		if (!rd(o, obj, PCA_F_LIST_ALLOCATED, &v) || (int64_t)v < 0)
			return false;
		*res = t->basicsize + v * 8;
		return true;
	case PCA_KIND_SET:
	case PCA_KIND_FROZENSET: { /* set_sizeof: the table when not the small table */
		uint64_t table, mask;
		if (!rd(o, obj, PCA_F_SET_TABLE, &table) || !rd(o, obj, PCA_F_SET_MASK, &mask))
			return false;
		*res = t->basicsize;
		if (table != obj + pca_layout_offset(l, PCA_F_SET_SMALLTABLE))
			*res += (mask + 1) * l->sizes[PCA_S_SET_ENTRY];
		return true;
	}
	case PCA_KIND_DEQUE: { /* deque_sizeof: whole blocks of BLOCKLEN items */
		uint64_t leftindex, size;
		uint64_t block = l->sizes[PCA_S_DEQUE_BLOCK];
		if (!block || block <= 16 || !rd(o, obj, PCA_F_DEQUE_LEFTINDEX, &leftindex) ||
		    !rd(o, obj, PCA_F_OB_SIZE, &size))
			return false;
		uint64_t blocklen = (block - 16) / 8;
		*res = t->basicsize + ((leftindex + size + blocklen - 1) / blocklen) * block;
		return true;
	}
	default: { /* object___sizeof___impl: basicsize + itemsize * |ob_size| */
		*res = t->basicsize;
		if (t->itemsize) {
			if (!rd(o, obj, PCA_F_OB_SIZE, &v))
				return false;
			int64_t n = (int64_t)v;
			*res += (uint64_t)(n < 0 ? -n : n) * t->itemsize;
		}
		return true;
	}
	}
}

/* Python/sysmodule.c _PySys_GetSizeOf: __sizeof__ plus the GC head (by the
 * object's tp_is_gc, or by the type flag on 3.11-3.12) plus, 3.11+, the
 * managed dict/weakref pre-header. */
bool pca_objects_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			uint64_t *ret)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t size;
	if (!kind_sizeof(o, obj, t, &size))
		return false;
	bool gc = (t->flags & tpflags_have_gc) != 0;
	if (gc && !l->sizeof_gc_by_type_flag && t->kind == PCA_KIND_TYPE) {
		/* type_is_gc: only heap types are collected. */
		uint64_t flags;
		gc = rd(o, obj, PCA_F_TP_FLAGS, &flags) && (flags & tpflags_heaptype);
	}
	if (gc)
		size += l->sizes[PCA_S_GC_HEAD];
	if (t->flags & l->tpflags_preheader)
		size += 16;
	*ret = size;
	return true;
}

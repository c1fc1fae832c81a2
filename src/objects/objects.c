#include "objects/objects.h"

#include <stdio.h>
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
/* More type objects than this in one heap is a hostile or corrupt core. */
static const size_t max_types = 1u << 20;

static bool rd(struct pca_objects *o, uint64_t base, enum pca_field f, uint64_t *ret)
{
	return pca_interp_read_field(o->interp, base, f, ret);
}

/* C types we know by tp_name (static types, and C heap types with dotted
 * names): their kind, and for the simple ones the PyObject * members their
 * tp_traverse visits, by struct and member name (absent members are ignored:
 * the set differs by version, e.g. func_builtins from 3.10). */
const struct pca_c_type pca_c_types[] = {
	{"type", PCA_KIND_TYPE, "_heaptypeobject", {"ht_type.tp_dict", "ht_type.tp_cache", "ht_type.tp_mro", "ht_type.tp_bases", "ht_type.tp_base", "ht_module"}},
	{"dict", PCA_KIND_DICT, NULL, {NULL}},
	{"list", PCA_KIND_LIST, NULL, {NULL}},
	{"tuple", PCA_KIND_TUPLE, NULL, {NULL}},
	{"set", PCA_KIND_SET, NULL, {NULL}},
	{"frozenset", PCA_KIND_FROZENSET, NULL, {NULL}},
	{"collections.deque", PCA_KIND_DEQUE, NULL, {NULL}},
	{"collections.OrderedDict", PCA_KIND_ODICT, "_odictobject", {"od_inst_dict"}},
	{"collections.defaultdict", PCA_KIND_DICT, "defdictobject", {"default_factory"}},
	/* Not visited by the collector, but held (docs/usage.md): every object
	 * member of the code object, by version. */
	{"code", PCA_KIND_CODE, "PyCodeObject", {"co_consts", "co_names", "co_filename", "co_name", "co_qualname",
		"co_code", "co_varnames", "co_freevars", "co_cellvars", "co_lnotab", "co_linetable",
		"co_exceptiontable", "co_localsplusnames", "co_localspluskinds"}},
	{"frame", PCA_KIND_FRAME, "_frame", {"f_back", "f_code", "f_builtins", "f_globals", "f_locals", "f_trace", "f_exc_type", "f_exc_value", "f_exc_traceback", "f_extra_locals", "f_locals_cache"}},
	/* gen_traverse; coroutines and async generators share the layout. */
	{"generator", PCA_KIND_GENERATOR, "PyGenObject", {"gi_frame", "gi_code", "gi_name", "gi_qualname", "gi_exc_state.exc_type", "gi_exc_state.exc_value", "gi_exc_state.exc_traceback"}},
	{"coroutine", PCA_KIND_GENERATOR, "PyGenObject", {"gi_frame", "gi_code", "gi_name", "gi_qualname", "gi_exc_state.exc_type", "gi_exc_state.exc_value", "gi_exc_state.exc_traceback"}},
	{"async_generator", PCA_KIND_GENERATOR, "PyGenObject", {"gi_frame", "gi_code", "gi_name", "gi_qualname", "gi_exc_state.exc_type", "gi_exc_state.exc_value", "gi_exc_state.exc_traceback"}},
	{"int", PCA_KIND_INT, NULL, {NULL}},
	{"bool", PCA_KIND_INT, NULL, {NULL}},
	{"str", PCA_KIND_STR, NULL, {NULL}},
	{"bytearray", PCA_KIND_BYTEARRAY, NULL, {NULL}},
	{"function", PCA_KIND_FUNCTION, "PyFunctionObject", {"func_code", "func_globals", "func_builtins", "func_module", "func_defaults", "func_kwdefaults", "func_doc", "func_name", "func_dict", "func_closure", "func_annotations", "func_qualname", "func_typeparams"}},
	{"cell", PCA_KIND_OBJECT, "PyCellObject", {"ob_ref"}},
	{"method", PCA_KIND_OBJECT, "PyMethodObject", {"im_func", "im_self"}},
	{"builtin_function_or_method", PCA_KIND_OBJECT, "PyCFunctionObject", {"m_self", "m_module"}},
	{"method_descriptor", PCA_KIND_OBJECT, "PyDescrObject", {"d_type"}},
	{"classmethod_descriptor", PCA_KIND_OBJECT, "PyDescrObject", {"d_type"}},
	{"member_descriptor", PCA_KIND_OBJECT, "PyDescrObject", {"d_type"}},
	{"getset_descriptor", PCA_KIND_OBJECT, "PyDescrObject", {"d_type"}},
	{"wrapper_descriptor", PCA_KIND_OBJECT, "PyDescrObject", {"d_type"}},
	{"method-wrapper", PCA_KIND_OBJECT, "wrapperobject", {"descr", "self"}},
	{"property", PCA_KIND_OBJECT, "propertyobject", {"prop_get", "prop_set", "prop_del", "prop_doc", "prop_name"}},
	{"classmethod", PCA_KIND_OBJECT, "classmethod", {"cm_callable", "cm_dict"}},
	{"staticmethod", PCA_KIND_OBJECT, "staticmethod", {"sm_callable", "sm_dict"}},
	{"mappingproxy", PCA_KIND_OBJECT, "mappingproxyobject", {"mapping"}},
	{"weakref", PCA_KIND_OBJECT, "_PyWeakReference", {"wr_callback"}},
	{"weakproxy", PCA_KIND_OBJECT, "_PyWeakReference", {"wr_callback"}},
	{"weakcallableproxy", PCA_KIND_OBJECT, "_PyWeakReference", {"wr_callback"}},
	{"module", PCA_KIND_MODULE, "PyModuleObject", {"md_dict"}},
	{"functools.partial", PCA_KIND_OBJECT, "partialobject", {"fn", "args", "kw", "dict"}},
	{"functools._lru_cache_wrapper", PCA_KIND_LRU_CACHE, "lru_cache_object", {"maxsize_O", "cache", "func", "kwd_mark", "lru_list_elem_type", "cache_info_type", "dict"}},
	/* tp_name moved from _collections to collections in 3.12 */
	{"collections._tuplegetter", PCA_KIND_OBJECT, "_tuplegetterobject", {"doc"}},
	{"_collections._tuplegetter", PCA_KIND_OBJECT, "_tuplegetterobject", {"doc"}},
	{"types.GenericAlias", PCA_KIND_OBJECT, "gaobject", {"origin", "args", "parameters"}},
	{"types.UnionType", PCA_KIND_OBJECT, "unionobject", {"args", "parameters"}},
	/* "+memo": visited only since the type became a heap type (3.9). */
	{"_json.Scanner", PCA_KIND_OBJECT, "PyScannerObject", {"strict", "object_hook", "object_pairs_hook", "parse_float", "parse_int", "parse_constant", "+memo"}},
	{"types.SimpleNamespace", PCA_KIND_OBJECT, "_PyNamespaceObject", {"ns_dict"}},
	{"_io.TextIOWrapper", PCA_KIND_OBJECT, "textio", {"buffer", "encoding", "encoder", "decoder", "readnl", "errors", "decoded_chars", "pending_bytes", "snapshot", "dict"}},
	{"_io.BufferedReader", PCA_KIND_OBJECT, "buffered", {"raw", "dict"}},
	{"_io.BufferedWriter", PCA_KIND_OBJECT, "buffered", {"raw", "dict"}},
	{"_io.BufferedRandom", PCA_KIND_OBJECT, "buffered", {"raw", "dict"}},
	{"_io.FileIO", PCA_KIND_OBJECT, "fileio", {"dict"}},
	{"_io.StringIO", PCA_KIND_OBJECT, "stringio", {"decoder", "readnl", "writenl", "dict"}},
	{"_io.BytesIO", PCA_KIND_OBJECT, "bytesio", {"dict"}},
	{"re.Pattern", PCA_KIND_OBJECT, "PatternObject", {"groupindex", "indexgroup", "pattern"}},
	{"_abc._abc_data", PCA_KIND_OBJECT, "_abc_data", {"_abc_registry", "_abc_cache", "_abc_negative_cache"}},
	{"_struct.Struct", PCA_KIND_OBJECT, "PyStructObject", {"s_format"}},
	{"operator.attrgetter", PCA_KIND_OBJECT, "attrgetterobject", {"attr"}},
	{"operator.itemgetter", PCA_KIND_OBJECT, "itemgetterobject", {"item"}},
	{"operator.methodcaller", PCA_KIND_OBJECT, "methodcallerobject", {"name", "args", "kwds"}},
	{NULL, PCA_KIND_OBJECT, NULL, {NULL}},
};

struct pca_error *pca_objects_init(struct pca_objects *o, struct pca_interp *interp)
{
	memset(o, 0, sizeof(*o));
	o->interp = interp;
	if (!pca_symbols_lookup(interp->symbols, "PyBaseObject_Type", &o->object_type) ||
	    !pca_symbols_lookup(interp->symbols, "PyType_Type", &o->type_type))
		return pca_error_create(PCA_ERROR_DEBUGINFO, "no symbol PyType_Type or PyBaseObject_Type in %s",
					pca_symbols_python_file(interp->symbols));
	/* Python classes' tp_traverse, and the marker of deleted set entries
	 * (Objects/setobject.c _dummy_struct; 3.6+ exports _PySet_Dummy). */
	pca_symbols_lookup(interp->symbols, "subtype_traverse", &o->subtype_traverse);
	uint64_t dummy_ptr;
	if (!pca_symbols_lookup(interp->symbols, "_dummy_struct", &o->set_dummy) &&
	    pca_symbols_lookup(interp->symbols, "_PySet_Dummy", &dummy_ptr))
		pca_target_try_read_u64(interp->target, dummy_ptr, &o->set_dummy);
	/* Type infos never move (callers keep pointers across lookups that
	 * register new types): one allocation of the largest count we accept;
	 * pages never touched cost nothing. */
	o->infos_capacity = max_types;
	o->infos = calloc(o->infos_capacity, sizeof(*o->infos));
	if (!o->infos)
		return &pca_error_nomem;
	o->map_capacity = 1024;
	o->map_keys = calloc(o->map_capacity, sizeof(*o->map_keys));
	o->map_values = calloc(o->map_capacity, sizeof(*o->map_values));
	if (!o->map_keys || !o->map_values)
		return &pca_error_nomem;
	return NULL;
}

void pca_objects_deinit(struct pca_objects *o)
{
	for (size_t i = 0; i < o->ninfos; i++) {
		free(o->infos[i].name);
		free(o->infos[i].slot_offsets);
	}
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

/* The entries of a keys object, and the values array of a split table
 * (`values` as stored in the dict or instance, 0 for a combined table). */
static bool keys_view(struct pca_objects *o, uint64_t keys, uint64_t values, struct dict_view *v)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t kind = 0;
	memset(v, 0, sizeof(*v));
	v->keys = keys;
	if (!rd(o, v->keys, PCA_F_DK_NENTRIES, &v->nentries) || v->nentries > max_dict_entries)
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
		       uint64_t *value);

static bool dict_view(struct pca_objects *o, uint64_t dict, struct dict_view *v)
{
	uint64_t keys, values;
	return rd(o, dict, PCA_F_DICT_KEYS, &keys) && rd(o, dict, PCA_F_DICT_VALUES, &values) &&
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
static int own_c_type(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	uint64_t name_ptr;
	char buf[64];
	if (!rd(o, type, PCA_F_TP_NAME, &name_ptr) ||
	    !pca_target_read_cstr(o->interp->target, name_ptr, buf, sizeof(buf)) ||
	    ((flags & tpflags_heaptype) && !strchr(buf, '.')))
		return -1;
	for (int i = 0; pca_c_types[i].tp_name; i++)
		if (strcmp(buf, pca_c_types[i].tp_name) == 0)
			return i;
	return -1;
}

static enum pca_kind own_kind(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	int c = own_c_type(o, type, flags);
	return c < 0 ? PCA_KIND_OBJECT : pca_c_types[c].kind;
}

/* The first known C type up the tp_base chain (the builtin a class derives
 * from), or -1. */
static int type_c_base(struct pca_objects *o, uint64_t type)
{
	uint64_t cur = type;
	for (int depth = 0; cur && depth < max_base_depth; depth++) {
		uint64_t flags, base;
		if (!rd(o, cur, PCA_F_TP_FLAGS, &flags))
			break;
		int c = own_c_type(o, cur, flags);
		if (c >= 0)
			return c;
		if (!rd(o, cur, PCA_F_TP_BASE, &base))
			break;
		cur = base;
	}
	return -1;
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
		/* object.__sizeof__ is the default formula we model. */
		if (cur == o->object_type)
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

struct pca_type_info *pca_objects_type(struct pca_objects *o, uint64_t type_addr)
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
		     rd(o, type_addr, PCA_F_TP_DICTOFFSET, (uint64_t *)&info.dictoffset) &&
		     info.basicsize >= o->interp->layout->sizes[PCA_S_OBJECT] &&
		     info.basicsize < max_basicsize && info.itemsize < max_basicsize;
	if (valid) {
		info.name = type_name(o, type_addr, info.flags);
		valid = info.name != NULL;
	}
	uint32_t idx = UINT32_MAX;
	if (valid) {
		info.c_base = type_c_base(o, type_addr);
		info.kind = info.c_base < 0 ? PCA_KIND_OBJECT : pca_c_types[info.c_base].kind;
		/* Kinds with their own __sizeof__ that we do not model yet. */
		info.size_exact = sizeof_is_modelled(o, type_addr, info.kind);
		if (o->ninfos == o->infos_capacity) {
			/* full: later types are not objects we can describe */
			free(info.name);
			o->types_refused++;
			return NULL;
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

/* Objects/dictobject.c _PyDict_KeysSize, and the number of value slots a
 * split table built on these keys has (shared_keys_usable_size 3.11+,
 * USABLE_FRACTION(dk_size) before). */
static bool dict_keys_size(struct pca_objects *o, uint64_t keys, uint64_t *size_ret,
			   uint64_t *value_slots)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t nentries, usable;
	if (!rd(o, keys, PCA_F_DK_NENTRIES, &nentries) || !rd(o, keys, PCA_F_DK_USABLE, &usable))
		return false;
	if (pca_layout_has(l, PCA_F_DK_LOG2_SIZE)) {
		uint64_t log2_size, log2_index_bytes, kind;
		if (!rd(o, keys, PCA_F_DK_LOG2_SIZE, &log2_size) || log2_size > 40 ||
		    !rd(o, keys, PCA_F_DK_LOG2_INDEX_BYTES, &log2_index_bytes) ||
		    log2_index_bytes > 40 || !rd(o, keys, PCA_F_DK_KIND, &kind))
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
	if (!rd(o, keys, PCA_F_DK_SIZE, &size) || size > max_dict_entries * 2)
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
	if (!rd(o, dict, PCA_F_DICT_KEYS, &keys) || !rd(o, dict, PCA_F_DICT_VALUES, &values) ||
	    !rd(o, keys, PCA_F_DK_REFCNT, &refcnt) ||
	    !dict_keys_size(o, keys, &keys_size, &value_slots))
		return false;
	if (values && rd(o, values, PCA_F_DICT_VALUES_EMBEDDED, &embedded) && embedded)
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
	if (!dict_sizeof(o, od, t, res) || !rd(o, od, PCA_F_ODICT_FAST_SIZE, &fast) ||
	    !rd(o, od, PCA_F_ODICT_FIRST, &first) || !rd(o, od, PCA_F_DICT_USED, &used))
		return false;
	*res += fast * 8 + (first ? used * l->sizes[PCA_S_ODICT_NODE] : 0);
	return true;
}

/* Objects/typeobject.c type___sizeof___impl: PyHeapTypeObject plus the
 * cached keys of its instances for heap types; PyTypeObject for static ones. */
static bool type_sizeof(struct pca_objects *o, uint64_t type, uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t flags, keys, keys_size, slots;
	if (!rd(o, type, PCA_F_TP_FLAGS, &flags))
		return false;
	if (!(flags & tpflags_heaptype)) {
		*res = l->sizes[PCA_S_TYPE];
		return true;
	}
	*res = l->sizes[PCA_S_HEAPTYPE];
	if (rd(o, type, PCA_F_HT_CACHED_KEYS, &keys) && keys) {
		if (!dict_keys_size(o, keys, &keys_size, &slots))
			return false;
		*res += keys_size;
	}
	return true;
}

static bool tuple_len(struct pca_objects *o, uint64_t tuple, uint64_t *ret)
{
	return tuple && rd(o, tuple, PCA_F_OB_SIZE, ret) && *ret < max_dict_entries;
}

/* Objects/codeobject.c code_sizeof. 3.11+: _PyObject_VAR_SIZE (rounded to
 * 8) of the variable-size object. 3.6-3.10: the object, the cell-to-argument
 * map, and 3.8-3.10 the opcache (one map byte per code unit and an entry per
 * cache). co_extra (set by debuggers, rare) is not counted: flagged. */
static bool code_sizeof(struct pca_objects *o, uint64_t code, const struct pca_type_info *t,
			uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t n;
	if (pca_layout_has(l, PCA_F_CODE_ADAPTIVE)) {
		if (!rd(o, code, PCA_F_OB_SIZE, &n) || n > max_dict_entries)
			return false;
		*res = (t->basicsize + n * t->itemsize + 7) & ~7ull;
		return true;
	}
	uint64_t cell2arg, cellvars, ncells, opcache, opcache_size, bytecode, ncode;
	*res = t->basicsize;
	if (rd(o, code, PCA_F_CODE_CELL2ARG, &cell2arg) && cell2arg &&
	    rd(o, code, PCA_F_CODE_CELLVARS, &cellvars) && tuple_len(o, cellvars, &ncells))
		*res += ncells * 8;
	if (rd(o, code, PCA_F_CODE_OPCACHE, &opcache) && opcache &&
	    rd(o, code, PCA_F_CODE_OPCACHE_SIZE, &opcache_size) &&
	    rd(o, code, PCA_F_CODE_CODE, &bytecode) && rd(o, bytecode, PCA_F_OB_SIZE, &ncode))
		*res += ncode / 2 + opcache_size * l->sizes[PCA_S_OPCACHE];
	return true;
}

/* Objects/frameobject.c frame_sizeof. 3.11+: the object up to its frame
 * data plus the frame's slots for its code; 3.6-3.10: PyFrameObject with
 * its one-slot array grown to locals, cells, frees and the value stack. */
static bool frame_sizeof(struct pca_objects *o, uint64_t frame, uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t code, nlocals, stacksize;
	if (pca_layout_has(l, PCA_F_FRAMEOBJ_FRAME)) {
		uint64_t iframe;
		if (!rd(o, frame, PCA_F_FRAMEOBJ_FRAME, &iframe) || !rd(o, iframe, PCA_F_IFRAME_CODE, &code) ||
		    !rd(o, code, PCA_F_CODE_NLOCALSPLUS, &nlocals) ||
		    !rd(o, code, PCA_F_CODE_STACKSIZE, &stacksize))
			return false;
		*res = pca_layout_offset(l, PCA_F_FRAMEOBJ_DATA) + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS) +
		       ((nlocals & 0xffffffffu) + (stacksize & 0xffffffffu)) * 8;
		return true;
	}
	uint64_t cellvars, freevars, ncells, nfrees;
	if (!rd(o, frame, PCA_F_FRAME_CODE, &code) || !rd(o, code, PCA_F_CODE_NLOCALS, &nlocals) ||
	    !rd(o, code, PCA_F_CODE_STACKSIZE, &stacksize) ||
	    !rd(o, code, PCA_F_CODE_CELLVARS, &cellvars) || !tuple_len(o, cellvars, &ncells) ||
	    !rd(o, code, PCA_F_CODE_FREEVARS, &freevars) || !tuple_len(o, freevars, &nfrees))
		return false;
	uint64_t extras = (stacksize & 0xffffffffu) + (nlocals & 0xffffffffu) + ncells + nfrees;
	*res = l->sizes[PCA_S_FRAME] + (extras ? extras - 1 : 0) * 8;
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

/* Objects/genobject.c gen_sizeof (3.11+): the object up to its embedded
 * frame, plus the frame's slots for the code (co_nlocalsplus +
 * co_stacksize). Before 3.11 generators use the default formula. */
static bool gen_sizeof(struct pca_objects *o, uint64_t gen, const struct pca_type_info *t,
		       uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	if (!pca_layout_has(l, PCA_F_GEN_IFRAME)) {
		*res = t->basicsize;
		return true;
	}
	uint64_t iframe = gen + pca_layout_offset(l, PCA_F_GEN_IFRAME), code, nlocalsplus, stacksize;
	if (!rd(o, iframe, PCA_F_IFRAME_CODE, &code) ||
	    !rd(o, code, PCA_F_CODE_NLOCALSPLUS, &nlocalsplus) ||
	    !rd(o, code, PCA_F_CODE_STACKSIZE, &stacksize))
		return false;
	*res = pca_layout_offset(l, PCA_F_GEN_IFRAME) + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS) +
	       ((nlocalsplus & 0xffffffffu) + (stacksize & 0xffffffffu)) * 8;
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
	case PCA_KIND_GENERATOR:
		return gen_sizeof(o, obj, t, res);
	case PCA_KIND_BYTEARRAY: /* bytearray_sizeof_impl: the allocated buffer */
		if (!rd(o, obj, PCA_F_BYTEARRAY_ALLOC, &v))
			return false;
		*res = t->basicsize + v;
		return true;
	case PCA_KIND_STR:
		return str_sizeof(o, obj, res);
	case PCA_KIND_DICT:
		return dict_sizeof(o, obj, t, res);
	case PCA_KIND_ODICT:
		return odict_sizeof(o, obj, t, res);
	case PCA_KIND_TYPE:
		return type_sizeof(o, obj, res);
	case PCA_KIND_CODE:
		return code_sizeof(o, obj, t, res);
	case PCA_KIND_FRAME:
		return frame_sizeof(o, obj, res);
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

/* ---- references (what tp_traverse visits, plus what holds memory) ---- */

/* Include/structmember.h (3.12: Include/descrobject.h Py_T_OBJECT_EX). */
static const uint64_t member_t_object_ex = 16;
/* Bound on items visited in one container: more than any real heap holds in
 * one object, and keeps a corrupt length from spinning. */
static const uint64_t max_items = 1ull << 32;
static const uint64_t max_slots = 4096;

static void visit_array(struct pca_objects *o, uint64_t items, uint64_t n, pca_visit_fn visit,
			void *ctx)
{
	struct pca_target *t = o->interp->target;
	if (n > max_items)
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

/* dict_traverse visits values (and keys of non-str tables); we visit every
 * key too: a str key holds memory whether or not it can form a cycle. */
static void visit_dict(struct pca_objects *o, uint64_t dict, pca_visit_fn visit, void *ctx)
{
	struct dict_view v;
	if (!dict_view(o, dict, &v))
		return;
	for (uint64_t i = 0; i < v.nentries && i < max_items; i++) {
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

static void visit_set(struct pca_objects *o, uint64_t set, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t table, mask;
	if (!rd(o, set, PCA_F_SET_TABLE, &table) || !rd(o, set, PCA_F_SET_MASK, &mask) ||
	    mask >= max_items)
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

/* deque_traverse: ob_size items from leftblock[leftindex], BLOCKLEN a block. */
static void visit_deque(struct pca_objects *o, uint64_t deque, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t block, index, n;
	uint64_t blocklen = (l->sizes[PCA_S_DEQUE_BLOCK] - 16) / 8;
	if (!rd(o, deque, PCA_F_DEQUE_LEFTBLOCK, &block) ||
	    !rd(o, deque, PCA_F_DEQUE_LEFTINDEX, &index) || !rd(o, deque, PCA_F_OB_SIZE, &n) ||
	    n > max_items || index >= blocklen)
		return;
	while (n > 0 && block) {
		uint64_t take = blocklen - index < n ? blocklen - index : n;
		visit_array(o, block + pca_layout_offset(l, PCA_F_BLOCK_DATA) + index * 8, take, visit,
			    ctx);
		n -= take;
		index = 0;
		if (n && !rd(o, block, PCA_F_BLOCK_RIGHTLINK, &block))
			return;
	}
}

/* 3.6-3.10 frame_traverse: the locals and cells (f_localsplus up to
 * f_valuestack) and the value stack (3.6-3.9: up to f_stacktop when set;
 * 3.10: f_stackdepth entries). */
static void visit_frame_slots(struct pca_objects *o, uint64_t frame, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t valuestack, top, depth;
	if (!pca_layout_has(l, PCA_F_FRAME_LOCALSPLUS) ||
	    !rd(o, frame, PCA_F_FRAME_VALUESTACK, &valuestack))
		return;
	uint64_t locals = frame + pca_layout_offset(l, PCA_F_FRAME_LOCALSPLUS);
	if (valuestack < locals || (valuestack - locals) / 8 > max_items)
		return;
	int64_t n = (int64_t)((valuestack - locals) / 8);
	if (rd(o, frame, PCA_F_FRAME_STACKDEPTH, &depth))
		/* 3.10 sets f_stackdepth to -1 while the frame runs, and
		 * frame_nslots then counts one slot less: so do we. */
		n += (int32_t)(uint32_t)depth;
	else if (rd(o, frame, PCA_F_FRAME_STACKTOP, &top) && top >= valuestack)
		n += (int64_t)((top - valuestack) / 8);
	if (n > 0)
		visit_array(o, locals, (uint64_t)n, visit, ctx);
}

/* Values of a split table held by the object (3.11-3.13 managed dicts). */
static void visit_split_values(struct pca_objects *o, uint64_t values_array, uint64_t type,
			       pca_visit_fn visit, void *ctx)
{
	uint64_t keys, n;
	if (!rd(o, type, PCA_F_HT_CACHED_KEYS, &keys) || !keys ||
	    !rd(o, keys, PCA_F_DK_NENTRIES, &n))
		return;
	visit_array(o, values_array, n, visit, ctx);
}

/* subtype_traverse (Objects/typeobject.c) for instances of Python classes:
 * the managed dict or its inline/split values (3.11+). */
static void prepare_traverse(struct pca_objects *o, struct pca_type_info *t);
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
		pca_target_try_read_u64(tg, obj - 32, &values);
		pca_target_try_read_u64(tg, obj - 24, dict);
		if (values)
			*values_array = values + values_off;
		return;
	case PCA_MANAGED_DICT_312:
		if (pca_target_try_read_u64(tg, obj - 24, &p)) {
			if (p & 1) /* _PyDictOrValues_GetValues: the tag is values - 1 (odd) */
				*values_array = p + 1 + values_off;
			else
				*dict = p;
		}
		return;
	case PCA_MANAGED_DICT_313:
		pca_target_try_read_u64(tg, obj - 24, dict);
		/* Py_TPFLAGS_INLINE_VALUES (1 << 2) */
		if ((t->flags & (1u << 2)) && rd(o, obj + t->basicsize, PCA_F_DICT_VALUES_VALID, &valid) &&
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
		prepare_traverse(o, t);
	uint64_t values, dict, keys, n, p, key;
	managed_attrs(o, obj, t, &values, &dict);
	if (values && rd(o, t->addr, PCA_F_HT_CACHED_KEYS, &keys) && keys &&
	    rd(o, keys, PCA_F_DK_NENTRIES, &n)) {
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

/* _PyFrame_Traverse (Include/internal/pycore_frame.h, 3.11+): the frame's
 * own references and its locals and value stack up to stacktop. */
static void visit_iframe(struct pca_objects *o, uint64_t iframe, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	static const enum pca_field fields[] = {PCA_F_IFRAME_FRAME_OBJ, PCA_F_IFRAME_LOCALS,
						PCA_F_IFRAME_FUNC, PCA_F_IFRAME_CODE};
	uint64_t p, stacktop;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (rd(o, iframe, fields[i], &p) && p)
			visit(ctx, p);
	if (rd(o, iframe, PCA_F_IFRAME_STACKTOP, &stacktop))
		visit_array(o, iframe + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS),
			    stacktop & 0x7fffffffu, visit, ctx);
}

/* 3.11+ generators traverse their embedded frame until it is cleared. */
static void visit_generator_frame(struct pca_objects *o, uint64_t gen, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t state;
	if (!pca_layout_has(l, PCA_F_GEN_IFRAME) || l->frame_cleared < 0 ||
	    !rd(o, gen, PCA_F_GEN_FRAME_STATE, &state) || (int8_t)state >= l->frame_cleared)
		return;
	visit_iframe(o, gen + pca_layout_offset(l, PCA_F_GEN_IFRAME), visit, ctx);
}

/* 3.11+ frame objects: what frame_traverse visits (f_back, f_trace, ...)
 * plus, as the truth in tests/e2e/test_summary.py defines, the code, globals
 * and builtins of the frame they show. */
static void visit_frame_object_frame(struct pca_objects *o, uint64_t frame, pca_visit_fn visit,
				     void *ctx)
{
	static const enum pca_field fields[] = {PCA_F_IFRAME_CODE, PCA_F_IFRAME_GLOBALS,
						PCA_F_IFRAME_BUILTINS};
	uint64_t iframe, p;
	if (!rd(o, frame, PCA_F_FRAMEOBJ_FRAME, &iframe) || !iframe)
		return;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (rd(o, iframe, fields[i], &p) && p)
			visit(ctx, p);
}

/* module_traverse calls the module's m_traverse on its C state, a struct
 * private to each extension module (types, exceptions, cached objects). We
 * cannot know each struct, so every aligned word of the state is offered as
 * a candidate; the caller keeps only valid objects. Bounded by m_size. */
static void visit_module_state(struct pca_objects *o, uint64_t module, pca_visit_fn visit, void *ctx)
{
	uint64_t def, state, size, traverse;
	if (!rd(o, module, PCA_F_MODULE_DEF, &def) || !def || !rd(o, module, PCA_F_MODULE_STATE, &state) ||
	    !state || !rd(o, def, PCA_F_MODULEDEF_SIZE, &size) ||
	    !rd(o, def, PCA_F_MODULEDEF_TRAVERSE, &traverse) || !traverse ||
	    (int64_t)size <= 0 || size > (64u << 10))
		return;
	for (uint64_t i = 0; i < size / 8; i++) {
		uint64_t p;
		if (!pca_target_try_read_u64(o->interp->target, state + i * 8, &p))
			return;
		if (p && !(p & 7))
			visit(ctx, p | PCA_REFERENT_GUESS);
	}
}

/* lru_cache_tp_traverse (Modules/_functoolsmodule.c): the key and result
 * of every link of the wrapper's circular list (the links are the cache's
 * values, but they are not traversed themselves). Bounded by the cache. */
static void visit_lru_links(struct pca_objects *o, uint64_t wrapper, pca_visit_fn visit, void *ctx)
{
	uint64_t root = wrapper, link, cache, used = 0, p;
	if (!rd(o, wrapper, PCA_F_LRU_ROOT_NEXT, &link))
		return;
	if (rd(o, wrapper, PCA_F_LRU_CACHE, &cache) && cache)
		rd(o, cache, PCA_F_DICT_USED, &used);
	for (uint64_t n = 0; link && link != root && n <= used; n++) {
		if (rd(o, link, PCA_F_LRU_ELEM_KEY, &p) && p)
			visit(ctx, p);
		if (rd(o, link, PCA_F_LRU_ELEM_RESULT, &p) && p)
			visit(ctx, p);
		if (!rd(o, link, PCA_F_LRU_ELEM_NEXT, &link))
			return;
	}
}

/* The name of the __slots__ member at `offset` of instances of t (the
 * PyMemberDef after each Python class up the chain). */
static bool slot_name(struct pca_objects *o, const struct pca_type_info *t, uint32_t offset,
		      char *buf, size_t size)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t cur = t->addr;
	for (int depth = 0; cur && depth < max_base_depth; depth++) {
		uint64_t nmembers, meta, meta_basicsize, traverse, base;
		if (!rd(o, cur, PCA_F_TP_TRAVERSE, &traverse) || traverse != o->subtype_traverse)
			return false;
		if (rd(o, cur, PCA_F_OB_SIZE, &nmembers) && nmembers < max_slots &&
		    rd(o, cur, PCA_F_OB_TYPE, &meta) && rd(o, meta, PCA_F_TP_BASICSIZE, &meta_basicsize)) {
			for (uint64_t i = 0; i < nmembers; i++) {
				uint64_t m = cur + meta_basicsize + i * l->sizes[PCA_S_MEMBERDEF], off, name;
				if (rd(o, m, PCA_F_MEMBERDEF_OFFSET, &off) && off == offset &&
				    rd(o, m, PCA_F_MEMBERDEF_NAME, &name))
					return pca_target_read_cstr(o->interp->target, name, buf, size);
			}
		}
		if (!rd(o, cur, PCA_F_TP_BASE, &base))
			return false;
		cur = base;
	}
	return false;
}

/* Resolve once per type what its traverse visits. */
static void prepare_traverse(struct pca_objects *o, struct pca_type_info *t)
{
	const struct pca_layout *l = o->interp->layout;
	t->traverse_ready = true;
	/* Python classes up the chain: their T_OBJECT_EX slots, stored after the
	 * heap type (PyHeapType_GET_MEMBERS), Py_SIZE(type) of them. */
	uint64_t cur = t->addr, traverse = 0, base_dictoffset = 0;
	for (int depth = 0; cur && depth < max_base_depth; depth++) {
		uint64_t nmembers, meta, meta_basicsize, base;
		if (!rd(o, cur, PCA_F_TP_TRAVERSE, &traverse) || traverse != o->subtype_traverse)
			break;
		if (rd(o, cur, PCA_F_OB_SIZE, &nmembers) && nmembers && nmembers < max_slots &&
		    rd(o, cur, PCA_F_OB_TYPE, &meta) && rd(o, meta, PCA_F_TP_BASICSIZE, &meta_basicsize)) {
			uint64_t members = cur + meta_basicsize;
			for (uint64_t i = 0; i < nmembers; i++) {
				uint64_t m = members + i * l->sizes[PCA_S_MEMBERDEF], type, offset;
				if (!rd(o, m, PCA_F_MEMBERDEF_TYPE, &type) ||
				    !rd(o, m, PCA_F_MEMBERDEF_OFFSET, &offset))
					break;
				if ((type & 0xffffffffu) != member_t_object_ex || offset >= max_basicsize)
					continue;
				uint32_t *slots = realloc(t->slot_offsets, (t->nslots + 1) * sizeof(*slots));
				if (!slots)
					break;
				t->slot_offsets = slots;
				slots[t->nslots++] = (uint32_t)offset;
			}
		}
		if (!rd(o, cur, PCA_F_TP_BASE, &base))
			break;
		cur = base;
	}
	/* `cur` is now the first type not traversed by subtype_traverse. */
	if (cur && cur != t->addr && rd(o, cur, PCA_F_TP_DICTOFFSET, &base_dictoffset))
		t->visits_dict = t->dictoffset != (int64_t)base_dictoffset;
	if (t->c_base < 0)
		return;
	const struct pca_c_type *c = &pca_c_types[t->c_base];
	if (!c->struct_name)
		return;
	Dwarf_Die die;
	bool found;
	const char *name = c->struct_name;
	if (pca_symbols_find_types(o->interp->symbols, &name, 1, &die, &found) || !found)
		return;
	/* The C type itself: is it a heap type (for "+" members)? */
	uint64_t c_type = t->addr, flags = 0;
	for (int depth = 0; c_type && depth < max_base_depth; depth++) {
		if (!rd(o, c_type, PCA_F_TP_FLAGS, &flags) || own_c_type(o, c_type, flags) == t->c_base)
			break;
		if (!rd(o, c_type, PCA_F_TP_BASE, &c_type))
			break;
	}
	for (size_t i = 0; i < PCA_C_TYPE_MAX_MEMBERS && c->members[i]; i++) {
		const char *member = c->members[i];
		if (member[0] == '+') {
			if (!(flags & tpflags_heaptype))
				continue;
			member++;
		}
		struct pca_dwarf_member m;
		if (pca_dwarf_member(&die, member, &m) && m.size == 8)
			t->member_offsets[t->nmembers++] = (uint32_t)m.offset;
	}
}

void pca_objects_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	if (!t->traverse_ready)
		prepare_traverse(o, t);
	/* Instances of heap types hold a reference to their type, and
	 * subtype_traverse visits it; static types are not referenced. */
	visit(ctx, t->addr | ((t->flags & tpflags_heaptype) ? 0 : PCA_REFERENT_EXTRA));
	for (uint32_t i = 0; i < t->nslots; i++) {
		uint64_t p;
		if (pca_target_try_read_u64(o->interp->target, obj + t->slot_offsets[i], &p) && p)
			visit(ctx, p);
	}
	/* 3.11+ managed dicts keep a meaningless tp_dictoffset (-1 on 3.12). */
	bool managed = (t->flags & (1u << 4)) && l->managed_dict != PCA_MANAGED_DICT_NONE;
	if (t->visits_dict && !managed) {
		if (t->dictoffset > 0) {
			uint64_t p;
			if (pca_target_try_read_u64(o->interp->target, obj + (uint64_t)t->dictoffset, &p) && p)
				visit(ctx, p);
		} else if (t->dictoffset < 0) {
			/* _PyObject_GetDictPtr: from the end of a variable-size object. */
			uint64_t n, size;
			if (rd(o, obj, PCA_F_OB_SIZE, &n)) {
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
	bool heap_type_object = false;
	if (t->kind == PCA_KIND_TYPE) {
		uint64_t flags;
		heap_type_object = rd(o, obj, PCA_F_TP_FLAGS, &flags) && (flags & tpflags_heaptype);
	}
	/* type_traverse runs for heap types only. */
	if (t->kind != PCA_KIND_TYPE || heap_type_object)
		for (uint32_t i = 0; i < t->nmembers; i++) {
			uint64_t p;
			if (pca_target_try_read_u64(o->interp->target, obj + t->member_offsets[i], &p) && p)
				visit(ctx, p);
		}
	uint64_t items, n;
	switch (t->kind) {
	case PCA_KIND_TUPLE:
		if (rd(o, obj, PCA_F_OB_SIZE, &n))
			visit_array(o, obj + pca_layout_offset(l, PCA_F_TUPLE_ITEMS), n, visit, ctx);
		break;
	case PCA_KIND_LIST:
		if (rd(o, obj, PCA_F_OB_SIZE, &n) && rd(o, obj, PCA_F_LIST_ITEMS, &items) && items)
			visit_array(o, items, n, visit, ctx);
		break;
	case PCA_KIND_DICT:
	case PCA_KIND_ODICT:
		visit_dict(o, obj, visit, ctx);
		break;
	case PCA_KIND_SET:
	case PCA_KIND_FROZENSET:
		visit_set(o, obj, visit, ctx);
		break;
	case PCA_KIND_DEQUE:
		visit_deque(o, obj, visit, ctx);
		break;
	case PCA_KIND_FRAME:
		visit_frame_slots(o, obj, visit, ctx);
		visit_frame_object_frame(o, obj, visit, ctx);
		break;
	case PCA_KIND_GENERATOR:
		visit_generator_frame(o, obj, visit, ctx);
		break;
	case PCA_KIND_MODULE:
		visit_module_state(o, obj, visit, ctx);
		break;
	case PCA_KIND_LRU_CACHE:
		visit_lru_links(o, obj, visit, ctx);
		break;
	default:
		break;
	}
}

void pca_preview(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, char *buf,
		 size_t size)
{
	enum { CHARS = 60 };
	uint64_t n = 0;
	buf[0] = '\0';
	switch (t->kind) {
	case PCA_KIND_STR: {
		char *s = NULL;
		uint64_t len = 0;
		struct pca_error *err = pca_interp_read_str(o->interp, obj, CHARS, &s);
		pca_error_destroy(err);
		rd(o, obj, PCA_F_UNICODE_LENGTH, &len);
		if (s)
			snprintf(buf, size, "'%s'%s (%llu characters)", s, len > CHARS ? "..." : "",
				 (unsigned long long)len);
		free(s);
		return;
	}
	case PCA_KIND_INT: {
		uint64_t tag;
		uint32_t digit = 0;
		const struct pca_layout *l = o->interp->layout;
		int64_t ndigits;
		bool negative;
		if (pca_layout_has(l, PCA_F_LONG_TAG)) {
			if (!rd(o, obj, PCA_F_LONG_TAG, &tag))
				return;
			ndigits = (int64_t)(tag >> 3);
			negative = (tag & 3) == 2;
		} else {
			if (!rd(o, obj, PCA_F_OB_SIZE, &n))
				return;
			ndigits = (int64_t)n;
			negative = ndigits < 0;
			if (negative)
				ndigits = -ndigits;
		}
		if (ndigits <= 1 && pca_target_try_read(o->interp->target,
							obj + pca_layout_offset(l, PCA_F_LONG_DIGITS), &digit, 4))
			snprintf(buf, size, "%s%u", negative ? "-" : "", ndigits ? digit : 0);
		else
			snprintf(buf, size, "an int of %lld digits (30 bits each)", (long long)ndigits);
		return;
	}
	case PCA_KIND_DICT:
	case PCA_KIND_ODICT:
		if (rd(o, obj, PCA_F_DICT_USED, &n))
			snprintf(buf, size, "len %llu", (unsigned long long)n);
		return;
	case PCA_KIND_SET:
	case PCA_KIND_FROZENSET:
		if (rd(o, obj, PCA_F_SET_USED, &n))
			snprintf(buf, size, "len %llu", (unsigned long long)n);
		return;
	case PCA_KIND_LIST:
	case PCA_KIND_TUPLE:
	case PCA_KIND_DEQUE:
		if (rd(o, obj, PCA_F_OB_SIZE, &n))
			snprintf(buf, size, "len %llu", (unsigned long long)n);
		return;
	default:
		break;
	}
	if (strcmp(t->name, "bytes") == 0) {
		uint8_t *bytes = NULL;
		size_t len = 0;
		uint64_t total = 0;
		rd(o, obj, PCA_F_OB_SIZE, &total);
		struct pca_error *err = pca_interp_read_bytes(o->interp, obj, total < CHARS ? total : 0,
							      &bytes, &len);
		pca_error_destroy(err);
		if (bytes) {
			size_t pos = (size_t)snprintf(buf, size, "b'");
			for (size_t i = 0; i < len && pos + 5 < size; i++)
				pos += (size_t)snprintf(buf + pos, size - pos,
							bytes[i] >= 32 && bytes[i] < 127 && bytes[i] != '\'' && bytes[i] != '\\' ? "%c" : "\\x%02x",
							bytes[i]);
			snprintf(buf + pos, size - pos, "'");
			free(bytes);
		} else {
			snprintf(buf, size, "%llu bytes", (unsigned long long)total);
		}
		return;
	}
	snprintf(buf, size, "<%s object>", t->name);
}

/* The type registry (validated type objects by address, their names and
 * kinds) and the dispatch of size, referents, preview and length through
 * each type's kind ops (objects/kinds.h). */
#include "objects/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "objects/kinds.h"

/* See registry_version in objects.h. */
static uint64_t registry_versions;
/* Per thread: type address -> its info (or NULL: not a type), for one
 * registry state, direct-mapped (objects.h). */
_Thread_local struct pca_type_cache_entry pca_type_cache[PCA_TYPE_CACHE_SIZE];

/* More type objects than this in one heap is a hostile or corrupt core. */
static const size_t max_types = 1u << 20;

/* The builtin kinds by tp_name: static types, and C heap types with dotted
 * names. Subclasses get their builtin base's kind through the tp_base chain
 * (OrderedDict, defaultdict, class X(dict)). */
static const struct {
	const char *tp_name;
	const struct pca_kind_ops *ops;
} kinds[] = {
	{"type", &pca_type_ops},
	{"dict", &pca_dict_ops},
	{"list", &pca_list_ops},
	{"tuple", &pca_tuple_ops},
	{"set", &pca_set_ops},
	{"frozenset", &pca_frozenset_ops},
	{"collections.deque", &pca_deque_ops},
	{"collections.OrderedDict", &pca_odict_ops},
	{"collections.defaultdict", &pca_dict_ops},
	{"code", &pca_code_ops},
	{"frame", &pca_frame_ops},
	{"generator", &pca_generator_ops},
	{"coroutine", &pca_generator_ops},
	{"async_generator", &pca_generator_ops},
	{"int", &pca_int_ops},
	{"bool", &pca_int_ops},
	{"str", &pca_str_ops},
	{"bytearray", &pca_bytearray_ops},
	{"function", &pca_function_ops},
	{"module", &pca_module_ops},
	{"functools._lru_cache_wrapper", &pca_lru_cache_ops},
	{"functools._lru_list_elem", &pca_lru_link_ops},
	{"_io.BufferedReader", &pca_buffered_ops},
	{"_io.BufferedWriter", &pca_buffered_ops},
	{"_io.BufferedRandom", &pca_buffered_ops},
	{"Struct", &pca_struct_ops}, /* 3.6-3.8: a static type without its module */
	{"_struct.Struct", &pca_struct_ops},
	{"StgDict", &pca_stgdict_ops},                /* 3.6-3.12: ctypes' type dicts */
	{"_ctypes.CType_Type", &pca_ctype_type_ops},  /* 3.13: ctypes' metatypes' base */
	{"_io.BytesIO", &pca_bytesio_ops},
	{"array.array", &pca_array_ops},
	{"xml.etree.ElementTree.Element", &pca_element_ops},
	{"decimal.Decimal", &pca_decimal_ops},
	{"itertools.combinations", &pca_combinations_ops},
	{"itertools.combinations_with_replacement", &pca_combinations_ops},
	{"itertools.permutations", &pca_permutations_ops},
	{"itertools.product", &pca_product_ops},
	{"hamt_bitmap_node", &pca_hamt_sized_ops},
	{"hamt_collision_node", &pca_hamt_sized_ops},
	{"hamt_array_node", &pca_hamt_array_ops},
	{"numpy.ndarray", &pca_ndarray_ops},
	{"numpy.generic", &pca_numpy_scalar_ops},
	{"numpy.bytes_", &pca_numpy_scalar_ops}, /* its tp_base is bytes, generic comes later in its MRO */
	{"pandas._libs.internals.BlockManager", &pca_pandas_cython_ops},
	{"pandas._libs.internals.SharedBlock", &pca_pandas_cython_ops},
	{"pandas._libs.internals.BlockPlacement", &pca_pandas_cython_ops},
	/* third-party packages' C types (extensions.c); Cython classes are
	 * found by their marks (is_cython_class), these have none */
	{"cython_function_or_method", &pca_cyfunction_ops}, /* Cython 0.29 (shared by modules) */
	{"multidict._multidict.MultiDict", &pca_multidict_ops},
	{"multidict._multidict.MultiDictProxy", &pca_ext_words_ops},
	{"multidict._multidict.CIMultiDictProxy", &pca_ext_words_ops},
	{"multidict._multidict._KeysView", &pca_ext_words_ops},
	{"multidict._multidict._ItemsView", &pca_ext_words_ops},
	{"multidict._multidict._ValuesView", &pca_ext_words_ops},
	{"lxml.etree._Element", &pca_ext_words_ops}, /* public: lxml/etree.h LxmlElement */
	{"lxml.etree._Document", &pca_ext_words_ops},
	{"lxml.etree._ElementTree", &pca_ext_words_ops},
	{"aiohttp._helpers.reify", &pca_ext_words_ops},
	{"aiohttp._http_parser.RawRequestMessage", &pca_ext_words_ops},
	{"aiohttp._http_parser.RawResponseMessage", &pca_ext_words_ops},
	{"sqlalchemy.cimmutabledict.immutabledict", &pca_ext_words_ops},
	{"sqlalchemy.cresultproxy.BaseRow", &pca_ext_words_ops},
	{"sqlalchemy.engine.util.tuplegetter", &pca_ext_words_ops},
	{"simplejson._speedups.Scanner", &pca_ext_words_ops},
	{"simplejson._speedups.Encoder", &pca_ext_words_ops},
	{"_regex.Pattern", &pca_regex_pattern_ops},
	{"_regex.Match", &pca_regex_owner_ops},
	{"_regex.Scanner", &pca_regex_owner_ops},
	{"_regex.Splitter", &pca_regex_owner_ops},
};

static struct pca_error *objects_start(struct pca_objects *o, struct pca_interp *interp)
{
	o->interp = interp;
	/* Sets mark deleted entries with _dummy_struct; some builds export it
	 * only through the pointer _PySet_Dummy. */
	o->set_dummy = o->ol.set_dummy;
	if (!o->set_dummy && o->ol.set_dummy_ptr)
		pca_target_try_read_u64(interp->target, o->ol.set_dummy_ptr, &o->set_dummy);
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
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	int rc = pthread_mutex_init(&o->registry_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0)
		return pca_error_create(PCA_ERROR_OS, "cannot create a lock: %s", strerror(rc));
	o->registry_lock_ready = true;
	o->registry_version = __atomic_add_fetch(&registry_versions, 1, __ATOMIC_RELAXED);
	return NULL;
}

struct pca_error *pca_objects_init(struct pca_objects *o, struct pca_interp *interp)
{
	memset(o, 0, sizeof(*o));
	struct pca_error *err = pca_object_layout_resolve(interp->symbols, interp->layout, &o->ol);
	if (err)
		return err;
	o->owns_ol = true;
	return objects_start(o, interp);
}

struct pca_error *pca_objects_init_layout(struct pca_objects *o, struct pca_interp *interp,
					  const struct pca_object_layout *ol)
{
	memset(o, 0, sizeof(*o));
	o->ol = *ol;
	return objects_start(o, interp);
}

static inline size_t traverse_hash(uint64_t addr) { return pca_hash_u64(addr >> 4, 54); }
/* tp_traverse address -> how many heap types have it */
PCA_DEFINE_HASH_MAP(traverse_votes, uint64_t, uint32_t, traverse_hash, 0)

bool pca_objects_learn_subtype_traverse(struct pca_objects *o, const uint64_t *objs, size_t n)
{
	/* Objects/typeobject.c type_new: a class statement gives its type
	 * tp_traverse = subtype_traverse (3.6-3.10 when the class has GC; 3.11+
	 * always), while each C heap type has its own; a process holds far more
	 * classes than C heap types. Py_TPFLAGS_TYPE_SUBCLASS (1 << 31, every
	 * version) marks a type's metatype, so metaclasses count too. */
	static const uint64_t tpflags_type_subclass = 1ull << 31;
	struct traverse_votes votes;
	traverse_votes_init(&votes);
	uint64_t best = 0, best_count = 0, second = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t meta, meta_flags, flags, traverse;
		if (!pca_rd(o, objs[i], PCA_F_OB_TYPE, &meta) ||
		    !pca_rd(o, meta, PCA_F_TP_FLAGS, &meta_flags) ||
		    !(meta_flags & tpflags_type_subclass) ||
		    !pca_rd(o, objs[i], PCA_F_TP_FLAGS, &flags) || !(flags & o->ol.tpflags_heaptype) ||
		    !pca_rd(o, objs[i], PCA_F_TP_TRAVERSE, &traverse) || !traverse)
			continue;
		uint32_t *count = traverse_votes_search(&votes, traverse);
		uint32_t c = count ? *count + 1 : 1;
		if (!traverse_votes_insert(&votes, traverse, c))
			break;
		if (traverse == best) {
			best_count = c;
		} else if (c > best_count) {
			second = best_count;
			best = traverse;
			best_count = c;
		} else if (c > second) {
			second = c;
		}
	}
	traverse_votes_deinit(&votes);
	/* A clear winner only: a handful of classes could tie with C types. */
	if (best_count < 8 || best_count <= 2 * second)
		return false;
	o->ol.subtype_traverse = best;
	return true;
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
	if (o->registry_lock_ready)
		pthread_mutex_destroy(&o->registry_lock);
	if (o->owns_ol)
		pca_object_layout_deinit(&o->ol);
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

/* A str of a type's name, cut at PCA_TYPE_NAME_MAX characters with a
 * visible "…" (U+2026) and counted, so that a cut name is never taken for
 * the whole one (a hostile core can claim 2^30 characters). */
static char *read_type_name(struct pca_objects *o, uint64_t str)
{
	char *s = NULL;
	uint64_t length;
	struct pca_error *err = pca_interp_read_str(o->interp, str, PCA_TYPE_NAME_MAX, &s);
	pca_error_destroy(err);
	if (!s || !pca_interp_read_field(o->interp, str, PCA_F_UNICODE_LENGTH, &length) ||
	    length <= PCA_TYPE_NAME_MAX)
		return s;
	char *cut = pca_asprintf("%s\xe2\x80\xa6", s);
	free(s);
	if (cut)
		o->names_cut++;
	return cut;
}

/* Objects/typeobject.c type_qualname/type_module: heap types name themselves
 * by ht_qualname and their dict's __module__; static types by tp_name;
 * "builtins" is left out. */
static char *type_name(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	struct pca_interp *in = o->interp;
	if (flags & o->ol.tpflags_heaptype) {
		uint64_t qualname, dict;
		char *q = NULL, *m = NULL;
		if (pca_rd(o, type, PCA_F_HT_QUALNAME, &qualname))
			q = read_type_name(o, qualname);
		if (!q)
			return NULL;
		if (pca_rd(o, type, PCA_F_TP_DICT, &dict)) {
			uint64_t mod = pca_dict_get_str(o, dict, "__module__");
			if (mod)
				m = read_type_name(o, mod);
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
	if (!pca_rd(o, type, PCA_F_TP_NAME, &name_ptr) ||
	    !pca_target_read_cstr(in->target, name_ptr, buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

/* What this very type is (not its bases): its builtin kind and its entry in
 * the object layout's C types, each or both absent. Static types, and C heap
 * types (3.12+ collections.deque), whose tp_name is dotted; a Python class's
 * tp_name never is, so a user class called `list` is not taken for the
 * builtin. False when it is neither. */
static bool own_c_type(struct pca_objects *o, uint64_t type, uint64_t flags,
		       const struct pca_kind_ops **ops, int *c_type)
{
	uint64_t name_ptr;
	char buf[64];
	*ops = NULL;
	*c_type = -1;
	if (!pca_rd(o, type, PCA_F_TP_NAME, &name_ptr) ||
	    !pca_target_read_cstr(o->interp->target, name_ptr, buf, sizeof(buf)) ||
	    ((flags & o->ol.tpflags_heaptype) && !strchr(buf, '.')))
		return false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(buf, kinds[i].tp_name) == 0) {
			*ops = kinds[i].ops;
			break;
		}
	/* Cython 3 names its function type by its version:
	 * "_cython_3_0_11.cython_function_or_method" */
	static const char cyfunction[] = ".cython_function_or_method";
	size_t len = strlen(buf);
	if (!*ops && strncmp(buf, "_cython_", 8) == 0 && len > sizeof(cyfunction) - 1 &&
	    strcmp(buf + len - (sizeof(cyfunction) - 1), cyfunction) == 0)
		*ops = &pca_cyfunction_ops;
	*c_type = pca_object_layout_c_type(&o->ol, buf);
	return *ops || *c_type >= 0;
}

static enum pca_kind own_kind(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	const struct pca_kind_ops *ops;
	int c_type;
	own_c_type(o, type, flags, &ops, &c_type);
	return ops ? ops->kind : PCA_KIND_OBJECT;
}

static bool methods_define_sizeof(struct pca_objects *o, uint64_t type);

/* A Cython extension class (`cdef class`, a static type with GC): Cython
 * puts __reduce_cython__ (auto-pickling, 0.26+) or __pyx_vtable__ (cdef
 * methods) in its dict; its members are guessed (extensions.c). */
static bool is_cython_class(struct pca_objects *o, uint64_t type, uint64_t flags)
{
	uint64_t dict;
	if ((flags & o->ol.tpflags_heaptype) || !(flags & o->ol.tpflags_have_gc) ||
	    !pca_rd(o, type, PCA_F_TP_DICT, &dict) || !dict)
		return false;
	return pca_dict_get_str(o, dict, "__reduce_cython__") || pca_dict_get_str(o, dict, "__pyx_vtable__");
}

/* The first known C type up the tp_base chain (the builtin a class derives
 * from): its kind ops (the default ones when it has no kind) and its C type
 * index and flags. */
static void type_c_base(struct pca_objects *o, struct pca_type_info *t)
{
	uint64_t cur = t->addr;
	t->ops = &pca_object_ops;
	t->c_base = -1;
	for (int depth = 0; cur && depth < pca_max_base_depth; depth++) {
		uint64_t flags, base;
		const struct pca_kind_ops *ops;
		if (!pca_rd(o, cur, PCA_F_TP_FLAGS, &flags))
			break;
		if (own_c_type(o, cur, flags, &ops, &t->c_base)) {
			if (ops && ops->without_sizeof && !methods_define_sizeof(o, cur))
				ops = ops->without_sizeof;
			if (ops)
				t->ops = ops;
			t->c_base_flags = flags;
			if (!pca_rd(o, cur, PCA_F_TP_BASICSIZE, &t->c_base_basicsize))
				t->c_base_basicsize = 0;
			break;
		}
		if (is_cython_class(o, cur, flags)) {
			t->ops = &pca_ext_words_ops;
			break;
		}
		if (!pca_rd(o, cur, PCA_F_TP_BASE, &base))
			break;
		cur = base;
	}
	t->kind = t->ops->kind;
	t->traversed_by_owner = t->ops->traversed_by_owner;
}

static bool methods_define_sizeof(struct pca_objects *o, uint64_t type)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t methods, name_ptr;
	char buf[16];
	if (!pca_rd(o, type, PCA_F_TP_METHODS, &methods) || !methods)
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
	for (int depth = 0; cur && depth < pca_max_base_depth; depth++) {
		uint64_t flags, dict, base;
		if (!pca_rd(o, cur, PCA_F_TP_FLAGS, &flags))
			return false;
		/* (guessed C structs are sized by the default formula: their
		 * own __sizeof__, if any, is not modelled) */
		if (kind != PCA_KIND_OBJECT && kind != PCA_KIND_EXT_WORDS && own_kind(o, cur, flags) == kind)
			return true;
		/* object.__sizeof__ is the default formula we model. */
		if (cur == o->ol.object_type)
			return true;
		if (methods_define_sizeof(o, cur))
			return false;
		if ((flags & o->ol.tpflags_heaptype) && pca_rd(o, cur, PCA_F_TP_DICT, &dict) &&
		    pca_dict_get_str(o, dict, "__sizeof__"))
			return false;
		if (!pca_rd(o, cur, PCA_F_TP_BASE, &base))
			return false;
		cur = base;
	}
	return true;
}

/* A type object's own type is `type` or a metaclass: a subclass of `type`
 * (ABCMeta, EnumMeta), found on its tp_base chain. Being an instance of an
 * instance of `type` is not enough: every object's type's type is `type`
 * (a function's type is `function`, whose type is `type`), so a looser test
 * takes any object for a type object (a function showed as a type of the
 * unreferenced objects). */
static bool is_type_object(struct pca_objects *o, uint64_t addr)
{
	uint64_t meta;
	if (!pca_rd(o, addr, PCA_F_OB_TYPE, &meta))
		return false;
	for (int depth = 0; meta && depth < pca_max_base_depth; depth++) {
		if (meta == o->ol.type_type)
			return true;
		if (!pca_rd(o, meta, PCA_F_TP_BASE, &meta))
			return false;
	}
	return false;
}

static struct pca_type_info *register_type(struct pca_objects *o, uint64_t type_addr)
{
	if (!type_addr || (type_addr & 7))
		return NULL;
	size_t slot = map_slot(o, type_addr);
	if (o->map_keys[slot]) {
		uint32_t idx = o->map_values[slot];
		return idx == UINT32_MAX ? NULL : &o->infos[idx];
	}
	struct pca_type_info info = {.addr = type_addr, .size_exact = true};
	bool valid = is_type_object(o, type_addr) && pca_rd(o, type_addr, PCA_F_TP_FLAGS, &info.flags) &&
		     pca_rd(o, type_addr, PCA_F_TP_BASICSIZE, &info.basicsize) &&
		     pca_rd(o, type_addr, PCA_F_TP_ITEMSIZE, &info.itemsize) &&
		     pca_rd(o, type_addr, PCA_F_TP_DICTOFFSET, (uint64_t *)&info.dictoffset) &&
		     info.basicsize >= o->interp->layout->sizes[PCA_S_OBJECT] &&
		     info.basicsize < pca_max_basicsize && info.itemsize < pca_max_basicsize;
	if (valid) {
		info.name = type_name(o, type_addr, info.flags);
		valid = info.name != NULL;
	}
	if (valid && o->registry_frozen) {
		free(info.name);
		/* atomic: threads of the frozen pass read it without the lock */
		__atomic_add_fetch(&o->types_frozen_out, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	uint32_t idx = UINT32_MAX;
	if (valid) {
		type_c_base(o, &info);
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
		if (o->prepare_on_register)
			pca_objects_prepare(o, &o->infos[idx]);
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

struct pca_type_info *pca_objects_type_slow(struct pca_objects *o, uint64_t type_addr)
{
	if (!type_addr || (type_addr & 7))
		return NULL;
	struct pca_type_cache_entry *e = &pca_type_cache[(type_addr >> 4) % PCA_TYPE_CACHE_SIZE];
	pthread_mutex_lock(&o->registry_lock);
	uint64_t left_out = o->types_frozen_out;
	struct pca_type_info *t = register_type(o, type_addr);
	/* a type left out is asked for again (each time counted) */
	if (o->types_frozen_out == left_out)
		*e = (struct pca_type_cache_entry){o->registry_version, type_addr, t};
	pthread_mutex_unlock(&o->registry_lock);
	return t;
}

void pca_objects_freeze_registry(struct pca_objects *o, bool frozen)
{
	pthread_mutex_lock(&o->registry_lock);
	o->registry_frozen = frozen;
	if (!frozen)
		o->registry_version = __atomic_add_fetch(&registry_versions, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&o->registry_lock);
}

void pca_objects_prepare_all(struct pca_objects *o)
{
	pthread_mutex_lock(&o->registry_lock);
	o->prepare_on_register = true;
	for (size_t i = 0; i < o->ninfos; i++)
		if (!o->infos[i].traverse_ready)
			pca_objects_prepare(o, &o->infos[i]);
	pthread_mutex_unlock(&o->registry_lock);
}

static int info_by_address(const void *a, const void *b)
{
	const struct pca_type_info *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct pca_error *pca_objects_sort_types(struct pca_objects *o, uint32_t **ret_remap)
{
	size_t n = o->ninfos;
	uint32_t *remap = malloc((n ? n : 1) * sizeof(*remap));
	struct pca_type_info *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!remap || !sorted) {
		free(remap);
		free(sorted);
		return &pca_error_nomem;
	}
	memcpy(sorted, o->infos, n * sizeof(*sorted));
	pca_sort(sorted, n, sizeof(*sorted), info_by_address);
	/* addresses are distinct: each old index is found by its address */
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (sorted[mid].addr < o->infos[i].addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		remap[i] = (uint32_t)lo;
	}
	for (size_t i = 0; i < o->map_capacity; i++)
		if (o->map_keys[i] && o->map_values[i] != UINT32_MAX)
			o->map_values[i] = remap[o->map_values[i]];
	memcpy(o->infos, sorted, n * sizeof(*sorted));
	free(sorted);
	o->registry_version = __atomic_add_fetch(&registry_versions, 1, __ATOMIC_RELAXED);
	*ret_remap = remap;
	return NULL;
}

/* Python/sysmodule.c _PySys_GetSizeOf: __sizeof__ plus the GC head (by the
 * object's tp_is_gc, or by the type flag on 3.11-3.12) plus, 3.11+, the
 * managed dict/weakref pre-header. */
bool pca_objects_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			uint64_t *ret)
{
	const struct pca_layout *l = o->interp->layout;
	const struct pca_kind_ops *ops = t->ops;
	uint64_t size;
	if (!ops->size(o, obj, t, &size))
		return false;
	bool gc = (t->flags & o->ol.tpflags_have_gc) != 0;
	if (gc && !l->sizeof_gc_by_type_flag && ops->is_gc)
		gc = ops->is_gc(o, obj);
	if (gc)
		size += l->sizes[PCA_S_GC_HEAD];
	if (t->flags & l->tpflags_preheader)
		size += o->ol.preheader_size;
	*ret = size;
	return true;
}

/* ---- references (what tp_traverse visits, plus what holds memory) ---- */

void pca_objects_prepare(struct pca_objects *o, struct pca_type_info *t)
{
	t->traverse_ready = true;
	pca_instances_prepare(o, t);
	if (t->c_base < 0)
		return;
	/* The C type's members; "heap only" ones when the C type itself is a
	 * heap type. */
	const struct pca_c_type *c = &o->ol.c_types[t->c_base];
	/* recorded offsets of another struct than this build's: none */
	if (c->basicsize && c->basicsize != t->c_base_basicsize)
		return;
	for (uint32_t i = 0; i < c->nmembers; i++)
		if (!(c->heap_only & (1u << i)) || (t->c_base_flags & o->ol.tpflags_heaptype))
			t->member_offsets[t->nmembers++] = c->member_offsets[i];
}

void pca_objects_visit_members(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			       pca_visit_fn visit, void *ctx)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		uint64_t p;
		if (pca_target_try_read_u64(o->interp->target, obj + t->member_offsets[i], &p) && p)
			visit(ctx, p);
	}
}

void pca_objects_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   pca_visit_fn visit, void *ctx)
{
	const struct pca_kind_ops *ops = t->ops;
	if (!t->traverse_ready)
		pca_objects_prepare(o, t);
	/* Instances of heap types hold a reference to their type, and
	 * subtype_traverse visits it; static types are not referenced. */
	visit(ctx, t->addr | ((t->flags & o->ol.tpflags_heaptype) ? 0 : PCA_REFERENT_EXTRA));
	pca_instances_referents(o, obj, t, visit, ctx);
	if (!ops->own_members)
		pca_objects_visit_members(o, obj, t, visit, ctx);
	if (ops->referents)
		ops->referents(o, obj, t, visit, ctx);
}

void pca_objects_preview_len(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			     char *buf, size_t size)
{
	uint64_t n;
	if (pca_objects_len(o, obj, t, &n))
		snprintf(buf, size, "len %llu", (unsigned long long)n);
}

void pca_preview(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, char *buf,
		 size_t size)
{
	buf[0] = '\0';
	if (t->ops->preview)
		t->ops->preview(o, obj, t, buf, size);
	else
		pca_objects_preview_default(o, obj, t, buf, size);
}

bool pca_objects_len(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		     uint64_t *ret)
{
	return t->ops->len && t->ops->len(o, obj, ret);
}

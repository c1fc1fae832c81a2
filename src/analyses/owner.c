#include "analyses/owner.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A path this deep is not something a person reads; the tail is kept. */
enum { MAX_STEPS = 64, KEY_CHARS = 40 };

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

static enum pca_kind kind_of(struct pca_objects *objects, const struct pca_heap *heap, uint32_t id)
{
	return objects->infos[heap->type[id]].kind;
}

static void put_scalar_repr(struct pca_objects *objects, uint64_t key, struct out *o, bool items);

/* repr() of a dict key as the contract wants it: strings quoted, ints as
 * numbers, cut at 40 characters; a tuple (an lru_cache's key of several
 * arguments, a list subclass there) by its first items; other keys by type. */
static void put_key_repr(struct pca_objects *objects, uint64_t key, struct out *o)
{
	put_scalar_repr(objects, key, o, true);
}

enum { KEY_ITEMS = 4 };

static void put_scalar_repr(struct pca_objects *objects, uint64_t key, struct out *o, bool items)
{
	struct pca_interp *in = objects->interp;
	uint64_t type_addr;
	if (!pca_interp_read_field(in, key, PCA_F_OB_TYPE, &type_addr)) {
		put(o, "?");
		return;
	}
	struct pca_type_info *t = pca_objects_type(objects, type_addr);
	char *s = NULL;
	if (t && t->kind == PCA_KIND_STR) {
		struct pca_error *err = pca_interp_read_str(in, key, KEY_CHARS + 1, &s);
		pca_error_destroy(err);
		if (s) {
			if (strlen(s) > KEY_CHARS)
				strcpy(s + KEY_CHARS - 3, "...");
			put(o, "'%s'", s);
			free(s);
			return;
		}
	}
	/* small ints (one 30-bit digit) cover the keys people use */
	struct pca_int_value v;
	if (t && t->kind == PCA_KIND_INT && pca_objects_int(objects, key, &v) && v.small) {
		put(o, "%s%u", v.negative ? "-" : "", v.digit);
		return;
	}
	uint64_t n, base = 0;
	if (items && t && (t->kind == PCA_KIND_TUPLE || t->kind == PCA_KIND_LIST) &&
	    pca_interp_read_field(in, key, PCA_F_OB_SIZE, &n) && n <= KEY_ITEMS &&
	    (t->kind == PCA_KIND_TUPLE ? (base = key + pca_layout_offset(in->layout, PCA_F_TUPLE_ITEMS), true)
				       : pca_interp_read_field(in, key, PCA_F_LIST_ITEMS, &base))) {
		put(o, "(");
		for (uint64_t i = 0; i < n; i++) {
			uint64_t item;
			if (i)
				put(o, ", ");
			if (pca_target_try_read_u64(in->target, base + i * 8, &item))
				put_scalar_repr(objects, item, o, false); /* one level: bounded */
			else
				put(o, "?");
		}
		put(o, n == 1 ? ",)" : ")");
		return;
	}
	put(o, "<%s>", t ? t->name : "?");
}

struct find_value {
	uint64_t value, key;
	bool found, is_key;
};

static bool match_value(void *ctx, uint64_t key, uint64_t value)
{
	struct find_value *f = ctx;
	if (value == f->value || key == f->value) {
		f->key = key;
		f->found = true;
		f->is_key = value != f->value;
		return false;
	}
	return true;
}

/* A dict's key for value; *is_key when value is a key itself. */
static bool dict_key_of(struct pca_objects *objects, uint64_t dict, uint64_t value, uint64_t *key,
			bool *is_key)
{
	struct find_value f = {.value = value};
	pca_objects_dict_items(objects, dict, match_value, &f);
	*key = f.key;
	*is_key = f.is_key;
	return f.found;
}

static void put_str_field(struct pca_objects *objects, uint64_t dict, const char *name, struct out *o,
			  const char *fallback);

struct find_str {
	struct pca_objects *objects;
	const char *name;
	uint64_t value;
};

static bool match_str_key(void *ctx, uint64_t key, uint64_t value)
{
	struct find_str *f = ctx;
	char *s = NULL;
	struct pca_error *err = pca_interp_read_str(f->objects->interp, key, 64, &s);
	pca_error_destroy(err);
	bool match = s && strcmp(s, f->name) == 0;
	free(s);
	if (match)
		f->value = value;
	return !match;
}

/* The str value of dict[name] (a module's __name__), or fallback. */
static void put_str_field(struct pca_objects *objects, uint64_t dict, const char *name, struct out *o,
			  const char *fallback)
{
	struct find_str f = {objects, name, 0};
	char *s = NULL;
	if (dict)
		pca_objects_dict_items(objects, dict, match_str_key, &f);
	if (f.value) {
		struct pca_error *err = pca_interp_read_str(objects->interp, f.value, 200, &s);
		pca_error_destroy(err);
	}
	put(o, "%s", s ? s : fallback);
	free(s);
}

/* The name of a local: 3.11+ co_localsplusnames[slot]; 3.6-3.10
 * co_varnames, then co_cellvars, then co_freevars. */
static void put_local_name(struct pca_objects *objects, uint64_t code, int64_t slot, struct out *o)
{
	struct pca_interp *in = objects->interp;
	const enum pca_field tuples[] = {PCA_F_CODE_LOCALSPLUSNAMES, PCA_F_CODE_VARNAMES,
					 PCA_F_CODE_CELLVARS, PCA_F_CODE_FREEVARS};
	int64_t i = slot;
	for (size_t k = 0; k < sizeof(tuples) / sizeof(tuples[0]) && i >= 0; k++) {
		uint64_t tuple, n, name;
		if (!pca_interp_read_field(in, code, tuples[k], &tuple) || !tuple ||
		    !pca_interp_read_field(in, tuple, PCA_F_OB_SIZE, &n))
			continue;
		if ((uint64_t)i < n) {
			char *s = NULL;
			if (pca_target_try_read_u64(in->target, tuple + pca_layout_offset(in->layout, PCA_F_TUPLE_ITEMS) + (uint64_t)i * 8, &name)) {
				struct pca_error *err = pca_interp_read_str(in, name, 200, &s);
				pca_error_destroy(err);
			}
			put(o, "%s", s ? s : "?");
			free(s);
			return;
		}
		i -= (int64_t)n;
	}
	put(o, "<stack>");
}

static void put_function(struct pca_objects *objects, uint64_t code, uint64_t globals, struct out *o)
{
	uint64_t name;
	char *s = NULL;
	put_str_field(objects, globals, "__name__", o, "?");
	if (pca_interp_read_field(objects->interp, code, PCA_F_CODE_NAME, &name)) {
		struct pca_error *err = pca_interp_read_str(objects->interp, name, 200, &s);
		pca_error_destroy(err);
	}
	put(o, ".%s:", s ? s : "?");
	free(s);
}

/* Slot index of `value` in an array of n pointers, or -1. */
static int64_t index_in(struct pca_interp *in, uint64_t items, uint64_t n, uint64_t value)
{
	for (uint64_t i = 0; i < n && i < (1u << 24); i++) {
		uint64_t p;
		if (!pca_target_try_read_u64(in->target, items + i * 8, &p))
			return -1;
		if (p == value)
			return (int64_t)i;
	}
	return -1;
}

/* The name of the C member of u (at an offset of its fixed part) that
 * holds v, as Python names it: the PyMemberDef of u's type or of a type up
 * its tp_base chain (`__closure__`, `__self__`, `__func__`, `co_consts`,
 * `__mro__`, ...). */
enum { MAX_MEMBERDEFS = 256 };
/* Include/structmember.h T_OBJECT (3.12: Py_T_OBJECT), 3.6-3.13. */
static const uint64_t member_t_object = 6;

static bool member_name(struct pca_objects *objects, uint64_t ua, uint64_t va, char *buf, size_t size)
{
	struct pca_interp *in = objects->interp;
	const struct pca_layout *l = in->layout;
	uint64_t cur, ms = l->sizes[PCA_S_MEMBERDEF];
	if (!ms || !pca_layout_has(l, PCA_F_TP_MEMBERS) || !pca_interp_read_field(in, ua, PCA_F_OB_TYPE, &cur))
		return false;
	for (int depth = 0; cur && depth < 64; depth++) {
		uint64_t members, base;
		if (pca_interp_read_field(in, cur, PCA_F_TP_MEMBERS, &members) && members) {
			for (uint64_t i = 0; i < MAX_MEMBERDEFS; i++) {
				uint64_t m = members + i * ms, name, off, p;
				if (!pca_interp_read_field(in, m, PCA_F_MEMBERDEF_NAME, &name) || !name)
					break;
				uint64_t type;
				if (!pca_interp_read_field(in, m, PCA_F_MEMBERDEF_TYPE, &type) ||
				    (type != member_t_object && type != objects->ol.member_t_object_ex))
					continue;
				if (pca_interp_read_field(in, m, PCA_F_MEMBERDEF_OFFSET, &off) && off < (1u << 16) &&
				    pca_target_try_read_u64(in->target, ua + off, &p) && p == va)
					return pca_target_read_cstr(in->target, name, buf, size);
			}
		}
		if (!pca_interp_read_field(in, cur, PCA_F_TP_BASE, &base))
			return false;
		cur = base;
	}
	return false;
}

/* Members Python reaches through a getter, not a PyMemberDef. */
struct getter {
	enum pca_kind kind;   /* PCA_KIND_COUNT: by `type_name` */
	const char *type_name; /* or NULL: any exception (tp_flags) */
	enum pca_field field;
	const char *name;
};

static const struct getter getters[] = {
	{PCA_KIND_FUNCTION, NULL, PCA_F_FUNC_CODE, "__code__"},
	{PCA_KIND_FUNCTION, NULL, PCA_F_FUNC_DEFAULTS, "__defaults__"},
	{PCA_KIND_FUNCTION, NULL, PCA_F_FUNC_KWDEFAULTS, "__kwdefaults__"},
	{PCA_KIND_FUNCTION, NULL, PCA_F_FUNC_NAME, "__name__"},
	{PCA_KIND_FUNCTION, NULL, PCA_F_FUNC_QUALNAME, "__qualname__"},
	{PCA_KIND_FUNCTION, NULL, PCA_F_FUNC_ANNOTATIONS, "__annotations__"},
	{PCA_KIND_TYPE, NULL, PCA_F_TP_BASES, "__bases__"},
	{PCA_KIND_TYPE, NULL, PCA_F_HT_NAME, "__name__"},
	{PCA_KIND_TYPE, NULL, PCA_F_HT_QUALNAME, "__qualname__"},
	{PCA_KIND_COUNT, "cell", PCA_F_CELL_REF, "cell_contents"},
	{PCA_KIND_COUNT, "builtin_function_or_method", PCA_F_CFUNC_SELF, "__self__"},
	{PCA_KIND_COUNT, "traceback", PCA_F_TB_NEXT, "tb_next"},
	{PCA_KIND_COUNT, NULL, PCA_F_EXC_ARGS, "args"},
	{PCA_KIND_COUNT, NULL, PCA_F_EXC_TRACEBACK, "__traceback__"},
	{PCA_KIND_COUNT, NULL, PCA_F_EXC_CONTEXT, "__context__"},
	{PCA_KIND_COUNT, NULL, PCA_F_EXC_CAUSE, "__cause__"},
};

/* Include/object.h Py_TPFLAGS_BASE_EXC_SUBCLASS (3.6-3.13). */
static const uint64_t tpflags_base_exc_subclass = 1ull << 30;

static const char *getter_name(struct pca_objects *objects, uint64_t ua, const struct pca_type_info *t,
			       uint64_t va)
{
	struct pca_interp *in = objects->interp;
	for (size_t i = 0; i < sizeof(getters) / sizeof(getters[0]); i++) {
		const struct getter *g = &getters[i];
		bool match = g->kind != PCA_KIND_COUNT ? t->kind == g->kind
			     : g->type_name	       ? strcmp(t->name, g->type_name) == 0
						       : (t->flags & tpflags_base_exc_subclass) != 0;
		uint64_t p;
		if (match && pca_interp_read_field(in, ua, g->field, &p) && p == va)
			return g->name;
	}
	return NULL;
}

/* The key of an lru_cache link, as the cache dict has it. */
static void put_link_key(struct pca_objects *objects, uint64_t link, struct out *o)
{
	uint64_t key;
	if (pca_interp_read_field(objects->interp, link, PCA_F_LRU_ELEM_KEY, &key))
		put_key_repr(objects, key, o);
	else
		put(o, "?");
}

/* Whether the dict va is the __dict__ of ua (of type t): at tp_dictoffset,
 * or, where that offset is from the end (negative) or the dict is managed
 * (3.11+), the only dict left unnamed. */
static bool is_instance_dict(struct pca_objects *objects, uint64_t ua, const struct pca_type_info *t, uint64_t va)
{
	uint64_t p;
	if (t->dictoffset > 0)
		return pca_target_try_read_u64(objects->interp->target, ua + (uint64_t)t->dictoffset, &p) && p == va;
	return t->dictoffset < 0 || (t->flags & objects->ol.tpflags_managed_dict);
}

/* How u refers to v, as the next piece of the path. `prev_kind` is what
 * referred to u (a module's dict and a class's dict name their keys as
 * attributes). */
static void put_step(struct pca_objects *objects, const struct pca_heap *heap, uint32_t u, uint32_t v,
		     enum pca_kind prev_kind, bool u_is_instance_dict, struct out *o, bool *namespace)
{
	*namespace = false;
	struct pca_interp *in = objects->interp;
	uint64_t ua = heap->addr[u], va = heap->addr[v], key, n, items;
	enum pca_kind k = kind_of(objects, heap, u);
	switch (k) {
	case PCA_KIND_MODULE: {
		/* A C module reaches objects through its state too (the `_ssl`
		 * module's err_codes_to_names): name them by the global that
		 * holds the same object, if one does. */
		uint64_t md_dict = 0, gkey;
		bool gis_key;
		pca_interp_read_field(in, ua, PCA_F_MODULE_DICT, &md_dict);
		if (va == md_dict)
			return; /* the namespace: its keys follow as attributes */
		if (md_dict && dict_key_of(objects, md_dict, va, &gkey, &gis_key) && !gis_key) {
			char *name = NULL;
			struct pca_error *err = pca_interp_read_str(in, gkey, 200, &name);
			pca_error_destroy(err);
			if (name) {
				put(o, ".%s", name);
				free(name);
				return;
			}
		}
		if (kind_of(objects, heap, v) == PCA_KIND_DICT)
			return;
		break;
	}
	case PCA_KIND_TYPE:
		if (kind_of(objects, heap, v) == PCA_KIND_DICT)
			return; /* the namespace: its keys follow as attributes */
		break;
	case PCA_KIND_LRU_CACHE: {
		/* The wrapper's C members have no Python name: say which
		 * (`f.cache_info()` is how a user knows the cache). A bounded
		 * cache's links are its entries: cache[key] is the link, whose
		 * result is what f(key) returned (pca_owner_path names the
		 * link's key and result from here). */
		uint64_t cache;
		if (pca_interp_read_field(in, ua, PCA_F_LRU_CACHE, &cache) && cache == va) {
			put(o, " (lru_cache).cache");
			return;
		}
		uint64_t func;
		if (pca_interp_read_field(in, ua, PCA_F_LRU_FUNC, &func) && func == va) {
			put(o, ".__wrapped__"); /* update_wrapper() sets it to the same function */
			return;
		}
		if (kind_of(objects, heap, v) == PCA_KIND_LRU_LINK) {
			put(o, " (lru_cache) entry ");
			put_link_key(objects, va, o);
			return;
		}
		break;
	}
	case PCA_KIND_DICT:
	case PCA_KIND_ODICT:; /* C11: a label cannot precede a declaration (clang) */
		bool is_key;
		if (dict_key_of(objects, ua, va, &key, &is_key)) {
			if (is_key) { /* the object is a key: no name reaches it */
				put(o, " key ");
				put_key_repr(objects, key, o);
				return;
			}
			uint64_t kt;
			struct pca_type_info *t = pca_interp_read_field(in, key, PCA_F_OB_TYPE, &kt)
							  ? pca_objects_type(objects, kt)
							  : NULL;
			bool attr = (prev_kind == PCA_KIND_MODULE || prev_kind == PCA_KIND_TYPE ||
				     u_is_instance_dict) && t && t->kind == PCA_KIND_STR;
			if (attr) {
				char *s = NULL;
				struct pca_error *err = pca_interp_read_str(in, key, 200, &s);
				pca_error_destroy(err);
				put(o, ".%s", s ? s : "?");
				free(s);
			} else {
				put(o, "[");
				put_key_repr(objects, key, o);
				put(o, "]");
			}
			return;
		}
		break;
	case PCA_KIND_LIST:
		if (pca_interp_read_field(in, ua, PCA_F_OB_SIZE, &n) &&
		    pca_interp_read_field(in, ua, PCA_F_LIST_ITEMS, &items)) {
			int64_t i = index_in(in, items, n, va);
			if (i >= 0) {
				put(o, "[%" PRId64 "]", i);
				return;
			}
		}
		break;
	case PCA_KIND_TUPLE:
		if (pca_interp_read_field(in, ua, PCA_F_OB_SIZE, &n)) {
			int64_t i = index_in(in, ua + pca_layout_offset(in->layout, PCA_F_TUPLE_ITEMS), n, va);
			if (i >= 0) {
				put(o, "[%" PRId64 "]", i);
				return;
			}
		}
		break;
	case PCA_KIND_FRAME: {
		uint64_t code = 0, globals = 0;
		pca_interp_read_field(in, ua, PCA_F_FRAME_CODE, &code);
		pca_interp_read_field(in, ua, PCA_F_FRAME_GLOBALS, &globals);
		if (pca_layout_has(in->layout, PCA_F_FRAME_LOCALSPLUS)) {
			int64_t i = index_in(in, ua + pca_layout_offset(in->layout, PCA_F_FRAME_LOCALSPLUS), 1u << 16, va);
			if (i >= 0) {
				/* a running frame object is a root that names nothing by
				 * itself: the path starts here */
				o->len = 0;
				o->buf[0] = '\0';
				put_function(objects, code, globals, o);
				put_local_name(objects, code, i, o);
				return;
			}
		}
		break;
	}
	default:
		break;
	}
	/* Instances: a managed values slot, a __slots__ member or the __dict__;
	 * C objects: a member or a getter Python names; anything else is shown
	 * by the type it leads to. */
	char attr[128];
	struct pca_type_info *ut_info = &objects->infos[heap->type[u]];
	if (pca_objects_attr_name(objects, ua, ut_info, va, attr, sizeof(attr))) {
		put(o, ".%s", attr);
		return;
	}
	const char *getter = getter_name(objects, ua, ut_info, va);
	if (getter) {
		put(o, ".%s", getter);
		return;
	}
	if (member_name(objects, ua, va, attr, sizeof(attr))) {
		put(o, ".%s", attr);
		return;
	}
	if (kind_of(objects, heap, v) == PCA_KIND_DICT && is_instance_dict(objects, ua, ut_info, va)) {
		*namespace = true; /* an instance's or function's __dict__: its keys follow */
		return;
	}
	/* a heap type's instance holds its class */
	uint64_t ut;
	if (pca_interp_read_field(in, ua, PCA_F_OB_TYPE, &ut) && ut == va) {
		put(o, ".__class__");
		return;
	}
	/* a class reached by no name (a C module's state holds it): the path
	 * starts again at its name, as type(x) prints it */
	struct pca_type_info *cls = kind_of(objects, heap, v) == PCA_KIND_TYPE ? pca_objects_type(objects, va) : NULL;
	if (cls) {
		o->len = 0;
		put(o, "%s", cls->name);
		return;
	}
	put(o, "->%s", objects->infos[heap->type[v]].name);
}

/* Which class a dict held only by C is the tp_subclasses of (add_subclass,
 * Objects/typeobject.c, 3.6-3.13: {id(subclass): weakref to it}; 3.12+
 * keeps a static builtin type's in the interpreter, not in the type): the
 * one base every listed subclass has in its __bases__. Looks at the first
 * few entries; no name when they are not weak references to classes or
 * share more than one base. */
enum { SUBCLASS_SAMPLE = 8, MAX_BASES = 16 };

struct subclasses {
	struct pca_objects *objects;
	uint64_t bases[MAX_BASES];
	size_t nbases, seen;
	bool bad;
};

static bool weakref_type(const char *name)
{
	/* 3.6-3.11 "weakref", 3.12+ "weakref.ReferenceType" */
	return strcmp(name, "weakref") == 0 || strcmp(name, "weakref.ReferenceType") == 0;
}

static bool match_subclass(void *ctx, uint64_t key, uint64_t value)
{
	(void)key;
	struct subclasses *sc = ctx;
	struct pca_interp *in = sc->objects->interp;
	uint64_t wt, cls, ct, bases, n;
	struct pca_type_info *t;
	if (!pca_interp_read_field(in, value, PCA_F_OB_TYPE, &wt) ||
	    !(t = pca_objects_type(sc->objects, wt)) || !weakref_type(t->name) ||
	    !pca_interp_read_field(in, value, PCA_F_WEAKREF_OBJECT, &cls) ||
	    !pca_interp_read_field(in, cls, PCA_F_OB_TYPE, &ct) ||
	    !(t = pca_objects_type(sc->objects, ct)) || t->kind != PCA_KIND_TYPE ||
	    !pca_interp_read_field(in, cls, PCA_F_TP_BASES, &bases) || !bases ||
	    !pca_interp_read_field(in, bases, PCA_F_OB_SIZE, &n)) {
		sc->bad = true;
		return false;
	}
	uint64_t items = bases + pca_layout_offset(in->layout, PCA_F_TUPLE_ITEMS);
	if (sc->seen++ == 0) {
		for (uint64_t i = 0; i < n && sc->nbases < MAX_BASES; i++)
			if (pca_target_try_read_u64(in->target, items + i * 8, &sc->bases[sc->nbases]))
				sc->nbases++;
	} else {
		size_t kept = 0;
		for (size_t b = 0; b < sc->nbases; b++)
			if (index_in(in, items, n, sc->bases[b]) >= 0)
				sc->bases[kept++] = sc->bases[b];
		sc->nbases = kept;
	}
	return sc->seen < SUBCLASS_SAMPLE && sc->nbases > 0;
}

static bool put_subclasses_owner(struct pca_objects *objects, uint64_t dict, struct out *o)
{
	if (!pca_layout_has(objects->interp->layout, PCA_F_WEAKREF_OBJECT))
		return false;
	struct subclasses sc = {.objects = objects};
	pca_objects_dict_items(objects, dict, match_subclass, &sc);
	/* a subclass of several bases is in each one's registry: the base
	 * whose tp_subclasses is this dict (3.12+ static builtin types keep
	 * theirs in the interpreter: content alone decides for them) */
	if (!sc.bad && sc.nbases > 1) {
		size_t kept = 0;
		for (size_t b = 0; b < sc.nbases; b++) {
			uint64_t p;
			if (pca_interp_read_field(objects->interp, sc.bases[b], PCA_F_TP_SUBCLASSES, &p) && p == dict)
				sc.bases[kept++] = sc.bases[b];
		}
		sc.nbases = kept;
	}
	if (sc.bad || !sc.seen || sc.nbases != 1)
		return false;
	struct pca_type_info *base = pca_objects_type(objects, sc.bases[0]);
	if (!base)
		return false;
	put(o, "%s.__subclasses__", base->name);
	return true;
}

/* Which class a dict only C holds is the namespace of (3.12+ keep a static
 * builtin type's tp_dict in the interpreter, not in the type): the one
 * d_type of the descriptors among its first entries, a class whose
 * tp_dict is this dict or none. */
enum { DESCR_SAMPLE = 8 };

struct namespace_of {
	struct pca_objects *objects;
	uint64_t type;
	size_t seen;
	bool bad;
};

static bool is_descriptor(const char *name)
{
	static const char *const names[] = {"method_descriptor", "wrapper_descriptor", "getset_descriptor",
					    "member_descriptor", "classmethod_descriptor"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static bool match_descriptor(void *ctx, uint64_t key, uint64_t value)
{
	(void)key;
	struct namespace_of *ns = ctx;
	struct pca_interp *in = ns->objects->interp;
	uint64_t vt, dt;
	struct pca_type_info *t;
	if (!pca_interp_read_field(in, value, PCA_F_OB_TYPE, &vt) || !(t = pca_objects_type(ns->objects, vt)) ||
	    !is_descriptor(t->name))
		return true;
	if (!pca_interp_read_field(in, value, PCA_F_DESCR_TYPE, &dt) || !dt || (ns->seen && dt != ns->type)) {
		ns->bad = true;
		return false;
	}
	ns->type = dt;
	return ++ns->seen < DESCR_SAMPLE;
}

static struct pca_type_info *namespace_owner(struct pca_objects *objects, uint64_t dict)
{
	if (!pca_layout_has(objects->interp->layout, PCA_F_DESCR_TYPE))
		return NULL;
	struct namespace_of ns = {.objects = objects};
	pca_objects_dict_items(objects, dict, match_descriptor, &ns);
	uint64_t tp_dict;
	if (ns.bad || !ns.seen || !pca_interp_read_field(objects->interp, ns.type, PCA_F_TP_DICT, &tp_dict) ||
	    (tp_dict && tp_dict != dict))
		return NULL;
	uint64_t meta;
	struct pca_type_info *mt;
	if (!pca_interp_read_field(objects->interp, ns.type, PCA_F_OB_TYPE, &meta) ||
	    !(mt = pca_objects_type(objects, meta)) || mt->kind != PCA_KIND_TYPE)
		return NULL;
	return pca_objects_type(objects, ns.type);
}

/* The interpreter's own references (what it holds in PyInterpreterState
 * and its static data), as a Python user knows them. A dict whose entries
 * have a Python spelling names them that way from the first step: an
 * interned string is `sys.intern('x')`, a cached codec
 * `codecs.lookup('utf_8')`, an error handler
 * `codecs.lookup_error('strict')`; sys's and builtins' namespaces name
 * their keys as attributes. */
enum root_form {
	FORM_ITEMS,      /* [key] / [i] as any dict or list */
	FORM_NAMESPACE,  /* .key */
	FORM_CALL,       /* `call('key')` replaces the path */
};

struct interp_root {
	enum pca_field field; /* PCA_FIELD_COUNT: the static `interned` (3.6-3.11) */
	const char *name;
	enum root_form form;
	const char *call;
};

static const struct interp_root interp_roots[] = {
	{PCA_F_INTERP_MODULES, "sys.modules", FORM_ITEMS, NULL},
	{PCA_F_INTERP_SYSDICT, "sys", FORM_NAMESPACE, NULL},
	{PCA_F_INTERP_BUILTINS, "builtins", FORM_NAMESPACE, NULL},
	{PCA_F_INTERP_INTERNED, "(interned strings)", FORM_CALL, "sys.intern"},
	{PCA_FIELD_COUNT, "(interned strings)", FORM_CALL, "sys.intern"},
	{PCA_F_INTERP_CODEC_SEARCH_CACHE, "(codecs.lookup cache)", FORM_CALL, "codecs.lookup"},
	{PCA_F_INTERP_CODEC_ERROR_REGISTRY, "(codecs error handlers)", FORM_CALL, "codecs.lookup_error"},
	{PCA_F_INTERP_CODEC_SEARCH_PATH, "(codecs search functions)", FORM_ITEMS, NULL},
	{PCA_F_INTERP_MODULES_BY_INDEX, "(extension modules by index)", FORM_ITEMS, NULL},
	{PCA_F_INTERP_IMPORT_FUNC, "(builtins.__import__ at start-up)", FORM_ITEMS, NULL},
	{PCA_F_INTERP_DICT, "(interpreter state dict)", FORM_ITEMS, NULL},
	{PCA_F_INTERP_SYSDICT_COPY, "(sys.__dict__ at start-up)", FORM_ITEMS, NULL},
	{PCA_F_INTERP_BUILTINS_COPY, "(builtins.__dict__ at start-up)", FORM_ITEMS, NULL},
	{PCA_F_INTERP_AUDIT_HOOKS, "(sys.addaudithook hooks)", FORM_ITEMS, NULL},
};

/* Which of the interpreter's references addr is, or NULL. */
static const struct interp_root *interp_root_of(struct pca_objects *objects, uint64_t addr)
{
	struct pca_interp *in = objects->interp;
	const struct pca_layout *l = in->layout;
	for (size_t i = 0; i < sizeof(interp_roots) / sizeof(interp_roots[0]); i++) {
		const struct interp_root *r = &interp_roots[i];
		uint64_t p;
		bool read = r->field == PCA_FIELD_COUNT
				    ? l->interned_static && pca_target_try_read_u64(in->target, l->interned_static, &p)
				    : in->first_interp && pca_interp_read_field(in, in->first_interp, r->field, &p);
		if (read && p == addr)
			return r;
	}
	return NULL;
}

struct find_module {
	uint64_t module, key;
};

static bool match_module(void *ctx, uint64_t key, uint64_t value)
{
	struct find_module *f = ctx;
	if (value != f->module)
		return true;
	f->key = key;
	return false;
}

/* A single-phase extension module's copy of its namespace, kept for a
 * re-import (Python/import.c: PyModuleDef.m_base.m_copy): which module's,
 * among sys.modules. */
struct find_copy {
	struct pca_objects *objects;
	uint64_t dict, key;
};

static bool match_copy(void *ctx, uint64_t key, uint64_t value)
{
	struct find_copy *f = ctx;
	uint64_t def, copy;
	if (!pca_interp_read_field(f->objects->interp, value, PCA_F_MODULE_DEF, &def) || !def ||
	    !pca_interp_read_field(f->objects->interp, def, PCA_F_MODULEDEF_COPY, &copy) || copy != f->dict)
		return true;
	f->key = key;
	return false;
}

static bool put_module_copy(struct pca_objects *objects, uint64_t dict, struct out *o)
{
	struct pca_interp *in = objects->interp;
	uint64_t modules;
	struct find_copy f = {objects, dict, 0};
	if (!in->first_interp || !pca_interp_read_field(in, in->first_interp, PCA_F_INTERP_MODULES, &modules) ||
	    !modules)
		return false;
	pca_objects_dict_items(objects, modules, match_copy, &f);
	char *s = NULL;
	if (f.key) {
		struct pca_error *err = pca_interp_read_str(in, f.key, 200, &s);
		pca_error_destroy(err);
	}
	if (!s)
		return false;
	put(o, "(copy of %s.__dict__)", s);
	free(s);
	return true;
}

/* A module whose namespace has no __name__: its key in sys.modules. */
static bool put_sys_modules_key(struct pca_objects *objects, uint64_t module, struct out *o)
{
	struct pca_interp *in = objects->interp;
	uint64_t modules;
	struct find_module f = {module, 0};
	if (!in->first_interp || !pca_interp_read_field(in, in->first_interp, PCA_F_INTERP_MODULES, &modules) ||
	    !modules)
		return false;
	pca_objects_dict_items(objects, modules, match_module, &f);
	if (!f.key)
		return false;
	put(o, "sys.modules[");
	put_key_repr(objects, f.key, o);
	put(o, "]");
	return true;
}

/* Whether the str at addr is interned (state.interned: 1 mortal, 2-3
 * immortal, by version). */
static bool is_interned(struct pca_objects *objects, uint64_t addr)
{
	uint64_t v;
	return pca_interp_read_field(objects->interp, addr, PCA_F_UNICODE_INTERNED, &v) && v != 0;
}

void pca_owner_path(struct pca_objects *objects, const struct pca_heap *heap,
		    const struct pca_refgraph *g, uint32_t id, char *buf, size_t size)
{
	struct out o = {buf, size, 0};
	buf[0] = '\0';
	uint32_t chain[MAX_STEPS];
	size_t n = 0;
	uint32_t v = id;
	while (n < MAX_STEPS) {
		chain[n++] = v;
		uint32_t p = g->parent[v];
		if (p == PCA_GRAPH_VIRTUAL_ROOT || p == PCA_GRAPH_UNREACHABLE)
			break;
		v = p;
	}
	uint32_t root = chain[n - 1];
	if (g->parent[root] == PCA_GRAPH_UNREACHABLE)
		return;
	struct pca_interp *in = objects->interp;
	/* A path through one of the interpreter's own containers starts
	 * there, as the user names it: `sys.modules['x']` whichever global the
	 * graph reached sys.modules by. */
	const struct interp_root *named = NULL;
	for (size_t i = 0; i < n && !named; i++) {
		enum pca_kind k = kind_of(objects, heap, chain[i]);
		if ((k == PCA_KIND_DICT || k == PCA_KIND_LIST || i == n - 1) &&
		    (named = interp_root_of(objects, heap->addr[chain[i]])))
			n = i + 1;
	}
	root = chain[n - 1];
	enum pca_kind prev = PCA_KIND_COUNT;
	if (named) {
		put(&o, "%s", named->name);
		if (named->form == FORM_NAMESPACE)
			prev = PCA_KIND_MODULE;
	} else switch (g->root_kind[root]) {
	case PCA_ROOT_MODULE: {
		uint64_t md_dict = 0;
		pca_interp_read_field(in, heap->addr[root], PCA_F_MODULE_DICT, &md_dict);
		struct find_str f = {objects, "__name__", 0};
		if (md_dict)
			pca_objects_dict_items(objects, md_dict, match_str_key, &f);
		if (f.value || !put_sys_modules_key(objects, heap->addr[root], &o))
			put_str_field(objects, md_dict, "__name__", &o, "?");
		break;
	}
	case PCA_ROOT_FRAME: {
		const struct pca_frame_root *f = NULL;
		for (size_t i = 0; i < g->nframe_roots; i++)
			if (g->frame_roots[i].id == root)
				f = &g->frame_roots[i];
		if (f && f->slot >= 0) {
			put_function(objects, f->code, f->globals, &o);
			put_local_name(objects, f->code, f->slot, &o);
		} else if (f && kind_of(objects, heap, root) != PCA_KIND_FRAME) {
			put_function(objects, f->code, f->globals, &o);
			put(&o, "<frame>");
		}
		break;
	}
	default: {
		enum pca_kind rk = kind_of(objects, heap, root);
		uint64_t ra = heap->addr[root];
		if (rk == PCA_KIND_DICT && put_subclasses_owner(objects, ra, &o))
			break;
		if (rk == PCA_KIND_DICT && put_module_copy(objects, ra, &o))
			break;
		struct pca_type_info *cls = rk == PCA_KIND_DICT ? namespace_owner(objects, ra) : NULL;
		if (cls) {
			put(&o, n == 1 ? "%s.__dict__" : "%s", cls->name);
			prev = PCA_KIND_TYPE;
			break;
		}
		/* a string only C holds that is interned: the interned dict holds
		 * it too (it is not in the census: nothing Python reaches holds
		 * it) */
		if (rk == PCA_KIND_STR && is_interned(objects, ra)) {
			put(&o, "sys.intern(");
			put_key_repr(objects, ra, &o);
			put(&o, ")");
			break;
		}
		/* a class only C holds (a static type no module exports): its
		 * name, as type(x) prints it */
		struct pca_type_info *t = rk == PCA_KIND_TYPE ? pca_objects_type(objects, ra) : NULL;
		if (t) {
			put(&o, "%s", t->name);
			break;
		}
		put(&o, "<%s 0x%" PRIx64 ">", objects->infos[heap->type[root]].name, ra);
		break;
	}
	}
	bool prev_namespace = false;
	size_t link_step = 0; /* where the step into an lru_cache link began */
	for (size_t i = n - 1; i > 0; i--) {
		uint32_t u = chain[i], w = chain[i - 1];
		enum pca_kind uk = kind_of(objects, heap, u);
		size_t before = o.len;
		if (i == n - 1 && named && named->form == FORM_CALL && uk == PCA_KIND_DICT) {
			uint64_t key;
			bool is_key;
			if (dict_key_of(objects, heap->addr[u], heap->addr[w], &key, &is_key)) {
				o.len = 0;
				put(&o, "%s(", named->call);
				put_key_repr(objects, key, &o);
				put(&o, ")");
				prev_namespace = false;
				prev = uk;
				continue;
			}
		}
		if (uk == PCA_KIND_LRU_LINK && prev == PCA_KIND_LRU_CACHE) {
			/* the link is cache[key]; what the user knows is its result
			 * under that key, and the key itself */
			uint64_t result = 0, key = 0, wa = heap->addr[w];
			pca_interp_read_field(in, heap->addr[u], PCA_F_LRU_ELEM_RESULT, &result);
			pca_interp_read_field(in, heap->addr[u], PCA_F_LRU_ELEM_KEY, &key);
			if (wa == result || wa == key) {
				o.len = link_step;
				o.buf[o.len] = '\0';
				put(&o, wa == result ? " (lru_cache).cache[" : " (lru_cache).cache key ");
				put_link_key(objects, heap->addr[u], &o);
				if (wa == result)
					put(&o, "]");
				prev_namespace = false;
				prev = uk;
				continue;
			}
		}
		/* a dict an instance or function reached as its __dict__: its
		 * keys are attributes */
		bool instance_dict = uk == PCA_KIND_DICT && prev_namespace;
		put_step(objects, heap, u, w, prev, instance_dict, &o, &prev_namespace);
		link_step = before;
		prev = uk;
	}
}

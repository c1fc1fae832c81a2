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

/* repr() of a dict key as the contract wants it: strings quoted, ints as
 * numbers, cut at 40 characters; other keys by type. */
static void put_key_repr(struct pca_objects *objects, uint64_t key, struct out *o)
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

/* How u refers to v, as the next piece of the path. `prev_kind` is what
 * referred to u (a module's dict and a class's dict name their keys as
 * attributes). */
static void put_step(struct pca_objects *objects, const struct pca_heap *heap, uint32_t u, uint32_t v,
		     enum pca_kind prev_kind, bool u_is_instance_dict, struct out *o)
{
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
		 * (`f.cache_info()` is how a user knows the cache). */
		uint64_t cache;
		if (pca_interp_read_field(in, ua, PCA_F_LRU_CACHE, &cache) && cache == va) {
			put(o, " (lru_cache).cache");
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
	 * anything else is shown by the type it leads to. */
	char attr[128];
	if (pca_objects_attr_name(objects, ua, &objects->infos[heap->type[u]], va, attr, sizeof(attr))) {
		put(o, ".%s", attr);
		return;
	}
	if (kind_of(objects, heap, v) == PCA_KIND_DICT &&
	    (k == PCA_KIND_OBJECT || k == PCA_KIND_FUNCTION))
		return; /* an instance's or function's __dict__: its keys follow */
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
	if (sc.bad || !sc.seen || sc.nbases != 1)
		return false;
	struct pca_type_info *base = pca_objects_type(objects, sc.bases[0]);
	if (!base)
		return false;
	put(o, "%s.__subclasses__", base->name);
	return true;
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
	switch (g->root_kind[root]) {
	case PCA_ROOT_MODULE: {
		uint64_t md_dict = 0;
		pca_interp_read_field(in, heap->addr[root], PCA_F_MODULE_DICT, &md_dict);
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
	default:
		if (kind_of(objects, heap, root) == PCA_KIND_DICT &&
		    put_subclasses_owner(objects, heap->addr[root], &o))
			break;
		put(&o, "<%s 0x%" PRIx64 ">", objects->infos[heap->type[root]].name, heap->addr[root]);
		break;
	}
	enum pca_kind prev = PCA_KIND_COUNT;
	bool prev_silent = false;
	for (size_t i = n - 1; i > 0; i--) {
		uint32_t u = chain[i], w = chain[i - 1];
		enum pca_kind uk = kind_of(objects, heap, u);
		/* a dict an instance or function reached silently (not as one of
		 * its attributes) is its __dict__: its keys are attributes */
		bool instance_dict = uk == PCA_KIND_DICT && prev == PCA_KIND_OBJECT && prev_silent;
		size_t before = o.len;
		put_step(objects, heap, u, w, prev, instance_dict, &o);
		prev_silent = o.len == before;
		prev = uk;
	}
}

#include "analyses/caches.h"

#include "base/log.h"
#include "base/progress.h"

#include <stdlib.h>
#include <string.h>

#include "base/vector.h"

/* Containers below this retained size are not suspects of anything. */
static const uint64_t min_container_retained = 64 * 1024;
static const size_t max_containers = 100000; /* a bound on hostile input */
static const size_t max_reported = 500;
/* A namespace read further is not one a program made (a bound on hostile
 * input: a row's classification reads its namespace once). */
static const size_t max_namespace_items = 100000;

/* Modules whose namespaces hold the interpreter's own state: the import
 * system (sys.modules, sys.path_importer_cache, sys.meta_path, importlib's
 * module locks), abc's and typing's caches, the codec search cache,
 * warnings' filters, linecache's source lines. A program does not keep its
 * data there, and what they hold grows with the program's modules and
 * files, not with its work: never a leak suspect. A class of one of them
 * holds its state for it too ("typing._GenericAlias.x"). */
static const char *const interpreter_modules[] = {
	"sys", "builtins", "_imp", "importlib", "_frozen_importlib", "_frozen_importlib_external",
	"zipimport", "site", "abc", "_abc", "_py_abc", "typing", "codecs", "encodings", "copyreg",
	"warnings", "linecache",
};

/* Standard library modules whose module-level containers are their own
 * tables: constant data made at import (html's 2231 HTML5 entities,
 * stringprep's, locale's aliases, mimetypes', the help topics), or caches
 * of what the program's modules and patterns are (inspect's file maps,
 * re's compiled patterns). Not leak suspects either. Registries that grow
 * with the program's own objects (weakref.finalize._registry,
 * multiprocessing.util._finalizer_registry) stay the program's. */
static const char *const stdlib_modules[] = {
	"html", "stringprep", "locale", "mimetypes", "pydoc_data", "unicodedata", "keyword", "token",
	"opcode", "inspect", "re", "sre_compile", "sre_parse", "sre_constants", "tokenize", "ssl", "_ssl",
};

/* Standard library caches that evict or clear themselves beyond a limit
 * kept beside them in the module. The bound is read from the core: a
 * module of that name without it bounds nothing. */
static const struct library_bound {
	const char *module, *cache, *limit, *shown;
} library_bounds[] = {
	{"re", "_cache", "_MAXCACHE", "re._MAXCACHE"},      /* re _compile, 3.6+ */
	{"re", "_cache2", "_MAXCACHE2", "re._MAXCACHE2"},   /* 3.12+ */
	{"_strptime", "_regex_cache", "_CACHE_MAX_SIZE", "_strptime._CACHE_MAX_SIZE"},
	{"urllib.parse", "_parse_cache", "MAX_CACHE_SIZE", "urllib.parse.MAX_CACHE_SIZE"}, /* 3.6-3.10 */
};

/* Whether id is held where a cache lives: a value of a module's or a class's
 * namespace, or a running frame's local. Namespaces themselves are not
 * caches. */
static bool long_lived_holder(struct pca_objects *o, const struct pca_heap *h,
			      const struct pca_refgraph *g, uint32_t id)
{
	uint32_t p = g->parent[id];
	if (p == PCA_GRAPH_VIRTUAL_ROOT)
		return g->root_kind[id] == PCA_ROOT_FRAME;
	if (p == PCA_GRAPH_UNREACHABLE)
		return false;
	enum pca_kind pk = o->infos[h->type[p]].kind;
	if (pk == PCA_KIND_MODULE || pk == PCA_KIND_TYPE)
		return false; /* id is the namespace itself */
	if (pk != PCA_KIND_DICT)
		return pk == PCA_KIND_FRAME;
	uint32_t pp = g->parent[p];
	if (pp == PCA_GRAPH_VIRTUAL_ROOT || pp == PCA_GRAPH_UNREACHABLE)
		return false;
	enum pca_kind ppk = o->infos[h->type[pp]].kind;
	return ppk == PCA_KIND_MODULE || ppk == PCA_KIND_TYPE;
}

/* Whether name is module `module` or something in it ("typing",
 * "typing._caches", "typing._GenericAlias"). */
static bool in_module(const char *name, const char *module)
{
	size_t n = strlen(module);
	return strncmp(name, module, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

static bool in_any(const char *name, const char *const *modules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (in_module(name, modules[i]))
			return true;
	return false;
}

/* A str object into buf; false when it is not one or does not fit. */
static bool read_name(struct pca_objects *o, uint64_t str, char *buf, size_t size)
{
	char *text = NULL;
	struct pca_error *err = pca_interp_read_str(o->interp, str, size, &text);
	pca_error_destroy(err);
	size_t n = text ? strlen(text) : size;
	if (n < size)
		memcpy(buf, text, n + 1);
	free(text);
	return n < size;
}

/* Where the modules of the core live: each module's __name__ and
 * __file__, read once from every module object of the heap, and the
 * standard library's directory (the directory of a top-level module known
 * to be one, e.g. os.py). The name lists above cannot cover every library:
 * where a module lives says whose it is. */
struct module_file {
	char *name, *file;
};

struct module_files {
	bool read;
	struct module_file *items;
	size_t count, cap;
	char *stdlib_dir; /* NULL: not found (no such module has a __file__) */
};

/* Top-level modules of the standard library that are one .py file (not a
 * package) in every supported version: their directory is the library's. */
static const char *const stdlib_markers[] = {"os", "functools", "types", "weakref", "threading", "keyword"};

enum { max_path = 1024 };

struct module_scan {
	struct pca_objects *o;
	char name[128];
	char file[max_path];
	size_t items;
};

/* Stops at both names: a module's namespace starts with them. */
static bool module_item(void *ctx, uint64_t key, uint64_t value)
{
	struct module_scan *s = ctx;
	char name[16];
	if (read_name(s->o, key, name, sizeof(name))) {
		if (!s->name[0] && strcmp(name, "__name__") == 0)
			read_name(s->o, value, s->name, sizeof(s->name));
		else if (!s->file[0] && strcmp(name, "__file__") == 0)
			read_name(s->o, value, s->file, sizeof(s->file));
	}
	return !(s->name[0] && s->file[0]) && ++s->items < max_namespace_items;
}

static void module_files_read(struct pca_objects *o, const struct pca_heap *h, struct module_files *m)
{
	m->read = true;
	for (uint32_t v = 0; v < h->count && m->count < max_containers; v++) {
		uint64_t dict;
		if (o->infos[h->type[v]].kind != PCA_KIND_MODULE ||
		    !pca_interp_read_field(o->interp, h->addr[v], PCA_F_MODULE_DICT, &dict) || !dict)
			continue;
		struct module_scan s = {.o = o};
		pca_objects_dict_items(o, dict, module_item, &s);
		/* a built-in or frozen module has no __file__: the lists decide */
		if (!s.name[0] || !s.file[0])
			continue;
		if (!m->stdlib_dir && !strstr(s.file, "-packages/")) {
			for (size_t i = 0; i < sizeof(stdlib_markers) / sizeof(stdlib_markers[0]); i++) {
				const char *slash = strrchr(s.file, '/');
				if (strcmp(s.name, stdlib_markers[i]) != 0 || !slash || slash == s.file)
					continue;
				m->stdlib_dir = strndup(s.file, (size_t)(slash - s.file));
				break;
			}
		}
		if (!PCA_VECTOR_GROW(&m->items, &m->cap, m->count + 1, 64))
			return;
		struct module_file f = {strdup(s.name), strdup(s.file)};
		if (!f.name || !f.file) {
			free(f.name);
			free(f.file);
			return;
		}
		m->items[m->count++] = f;
	}
}

static void module_files_deinit(struct module_files *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->items[i].name);
		free(m->items[i].file);
	}
	free(m->items);
	free(m->stdlib_dir);
	memset(m, 0, sizeof(*m));
}

/* Whose a module's file is: a site-packages or dist-packages directory
 * holds third-party libraries (pip's, Debian's python3-* packages, a
 * virtualenv's); the standard library's directory, the interpreter's own
 * modules; anything else the program's. */
static enum pca_cache_holder holder_of_file(const struct module_files *m, const char *file)
{
	if (strstr(file, "/site-packages/") || strstr(file, "/dist-packages/"))
		return PCA_HELD_BY_LIBRARY;
	size_t n = m->stdlib_dir ? strlen(m->stdlib_dir) : 0;
	if (n && strncmp(file, m->stdlib_dir, n) == 0 && file[n] == '/')
		return PCA_HELD_BY_STDLIB;
	return PCA_HELD_BY_PROGRAM;
}

/* Whose a namespace `name` is: a module, or a class or function in one
 * ("module.qualname"). The explicit lists first (listed: the interpreter's
 * state and the standard library's own tables, never suspects), then the
 * file of the longest module whose name it starts with. */
static enum pca_cache_holder holder_of(const struct module_files *m, const char *name, bool *listed)
{
	*listed = false;
	if (!name || !name[0])
		return PCA_HELD_BY_PROGRAM;
	*listed = true;
	if (in_any(name, interpreter_modules, sizeof(interpreter_modules) / sizeof(interpreter_modules[0])))
		return PCA_HELD_BY_INTERPRETER;
	if (in_any(name, stdlib_modules, sizeof(stdlib_modules) / sizeof(stdlib_modules[0])))
		return PCA_HELD_BY_STDLIB;
	*listed = false;
	/* the script run is the program's wherever it lives (python -m of a
	 * package in site-packages runs its __main__.py there) */
	if (in_module(name, "__main__"))
		return PCA_HELD_BY_PROGRAM;
	const struct module_file *best = NULL;
	for (size_t i = 0; i < m->count; i++)
		if (in_module(name, m->items[i].name) &&
		    (!best || strlen(m->items[i].name) > strlen(best->name)))
			best = &m->items[i];
	return best ? holder_of_file(m, best->file) : PCA_HELD_BY_PROGRAM;
}

const char *pca_cache_holder_name(enum pca_cache_holder h)
{
	switch (h) {
	case PCA_HELD_BY_INTERPRETER:
		return "interpreter";
	case PCA_HELD_BY_STDLIB:
		return "stdlib";
	case PCA_HELD_BY_LIBRARY:
		return "library";
	case PCA_HELD_BY_PROGRAM:
		break;
	}
	return "program";
}

/* One pass over a namespace dict: the name it holds `value` under, its
 * __name__ (a module's), and the value of the name `want`. */
struct namespace_scan {
	struct pca_objects *o;
	uint64_t value;
	const char *want;
	uint64_t wanted;
	size_t items;
	char key[64];
	char module[128];
};

static bool scan_item(void *ctx, uint64_t key, uint64_t value)
{
	struct namespace_scan *s = ctx;
	char name[64];
	if (!read_name(s->o, key, name, sizeof(name)))
		return ++s->items < max_namespace_items;
	if (value == s->value && !s->key[0])
		strcpy(s->key, name);
	if (!s->module[0] && strcmp(name, "__name__") == 0)
		read_name(s->o, value, s->module, sizeof(s->module));
	if (s->want && strcmp(name, s->want) == 0)
		s->wanted = value;
	return ++s->items < max_namespace_items;
}

static void scan_namespace(struct pca_objects *o, uint64_t dict, uint64_t value, const char *want,
			   struct namespace_scan *ret)
{
	*ret = (struct namespace_scan){.o = o, .value = value, .want = want};
	pca_objects_dict_items(o, dict, scan_item, ret);
}

/* A non-negative int of one digit (the limits are small constants). */
static bool small_int(struct pca_objects *o, uint64_t obj, int64_t *ret)
{
	uint64_t type;
	struct pca_type_info *t;
	struct pca_int_value v;
	if (!obj || !pca_interp_read_field(o->interp, obj, PCA_F_OB_TYPE, &type) ||
	    !(t = pca_objects_type(o, type)) || t->kind != PCA_KIND_INT || !pca_objects_int(o, obj, &v) ||
	    !v.small || v.negative)
		return false;
	*ret = v.digit;
	return true;
}

/* Whose a container is, by the namespace that holds it (long_lived_holder
 * found it in a module's or a class's): the interpreter's, the standard
 * library's or the program's, and a library cache's limit. A frame's local is the program's. */
static void classify_container(struct pca_objects *o, const struct pca_heap *h,
			       const struct pca_refgraph *g, const struct module_files *m,
			       struct pca_cache *c)
{
	uint32_t p = g->parent[c->id];
	if (p >= h->count || o->infos[h->type[p]].kind != PCA_KIND_DICT)
		return;
	uint32_t pp = g->parent[p];
	if (pp >= h->count)
		return;
	struct namespace_scan s;
	scan_namespace(o, h->addr[p], h->addr[c->id], NULL, &s);
	const char *holder = s.module;
	if (o->infos[h->type[pp]].kind == PCA_KIND_TYPE) {
		struct pca_type_info *cls = pca_objects_type(o, h->addr[pp]);
		holder = cls && cls->name ? cls->name : "";
	} else if (o->infos[h->type[pp]].kind != PCA_KIND_MODULE) {
		return;
	}
	c->held_by = holder_of(m, holder, &c->listed);
	if (holder != s.module || !s.key[0])
		return;
	for (size_t i = 0; i < sizeof(library_bounds) / sizeof(library_bounds[0]); i++) {
		const struct library_bound *b = &library_bounds[i];
		if (strcmp(s.module, b->module) != 0 || strcmp(s.key, b->cache) != 0)
			continue;
		struct namespace_scan limit;
		scan_namespace(o, h->addr[p], 0, b->limit, &limit);
		if (small_int(o, limit.wanted, &c->bound)) {
			c->bounded_by = b->shown;
			c->unbounded = false;
		}
		return;
	}
}

static int by_retained(const void *a, const void *b)
{
	const struct pca_cache *x = a, *y = b;
	if (x->retained != y->retained)
		return x->retained > y->retained ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool push(struct pca_caches *c, size_t *cap, const struct pca_cache *item)
{
	if (!PCA_VECTOR_GROW(&c->items, cap, c->count + 1, 64))
		return false;
	c->items[c->count++] = *item;
	return true;
}

struct pca_error *pca_caches_compute(struct pca_objects *o, const struct pca_heap *h,
				     const struct pca_refgraph *g, struct pca_caches *ret)
{
	memset(ret, 0, sizeof(*ret));
	double t0 = pca_now_seconds();
	size_t cap = 0, containers = 0;
	for (uint32_t v = 0; v < h->count; v++) {
		const struct pca_type_info *t = &o->infos[h->type[v]];
		uint64_t a = h->addr[v];
		struct pca_cache c = {.id = v, .retained = g->retained[v], .maxsize = -1, .kind = t->name};
		switch (t->kind) {
		case PCA_KIND_LRU_CACHE: {
			struct pca_lru_info lru;
			pca_objects_lru(o, a, &lru);
			c.lru = true;
			c.kind = "lru_cache";
			c.maxsize = lru.maxsize;
			c.typed = lru.typed;
			c.hits = lru.hits;
			c.misses = lru.misses;
			c.entries = lru.entries;
			/* lru_cache_new: maxsize=None is stored as -1 */
			c.unbounded = c.maxsize < 0;
			if (lru.func)
				c.function = pca_objects_function_name(o, lru.func);
			if (!push(ret, &cap, &c)) {
				free(c.function);
				goto nomem;
			}
			continue;
		}
		case PCA_KIND_DICT:
		case PCA_KIND_ODICT:
		case PCA_KIND_LIST:
		case PCA_KIND_SET:
			pca_objects_len(o, a, t, &c.entries);
			c.unbounded = true;
			break;
		case PCA_KIND_DEQUE: {
			int64_t maxlen;
			pca_objects_len(o, a, t, &c.entries);
			c.unbounded = pca_objects_deque_maxlen(o, a, &maxlen) && maxlen < 0;
			break;
		}
		default:
			continue;
		}
		if (c.retained < min_container_retained || containers >= max_containers ||
		    !long_lived_holder(o, h, g, v))
			continue;
		containers++;
		if (!push(ret, &cap, &c))
			goto nomem;
	}
	pca_sort(ret->items, ret->count, sizeof(*ret->items), by_retained);
	/* The report names each suspect's owner (a walk per row): keep the
	 * biggest, a person reads no further. */
	while (ret->count > max_reported) {
		ret->count--;
		free(ret->items[ret->count].function);
	}
	struct module_files modules = {0};
	if (ret->count)
		module_files_read(o, h, &modules);
	for (size_t i = 0; i < ret->count; i++) {
		struct pca_cache *k = &ret->items[i];
		if (k->lru)
			k->held_by = holder_of(&modules, k->function, &k->listed);
		else
			classify_container(o, h, g, &modules, k);
	}
	module_files_deinit(&modules);
	pca_log_timing("caches: %.3f s (%zu)\n", pca_now_seconds() - t0, ret->count);
	return NULL;
nomem:
	pca_caches_deinit(ret);
	return &pca_error_nomem;
}

void pca_caches_deinit(struct pca_caches *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->items[i].function);
	free(c->items);
	memset(c, 0, sizeof(*c));
}

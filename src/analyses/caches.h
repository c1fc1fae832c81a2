/* caches.h: leaking-cache suspects. Every functools.lru_cache wrapper
 * (function, maxsize, typed, entries, hits, misses, read from the C
 * structure of the running version), and the big containers (dict, list,
 * set, deque, OrderedDict) that a module global, a class attribute or a
 * running frame's local holds, by retained size. Unbounded: an lru_cache
 * without maxsize, any dict/list/set, a deque without maxlen, unless the
 * library that owns it bounds it (re._cache by re._MAXCACHE: the bound is
 * read from the module). Each row says whose it is: the interpreter's own
 * state (sys, the import system, abc, typing, ...), a standard library
 * module's tables, or the program's, by the module or class that holds it
 * (docs/usage.md lists the modules). */
#ifndef PCA_ANALYSES_CACHES_H
#define PCA_ANALYSES_CACHES_H

#include "analyses/refgraph.h"

struct pca_cache {
	uint32_t id;
	const char *kind;   /* "lru_cache", or the container's type name */
	bool lru;
	char *function;     /* lru: "module.qualname" of the wrapped function */
	int64_t maxsize;    /* lru: -1 unbounded */
	bool typed;
	uint64_t entries, hits, misses;
	bool unbounded;
	/* whose it is, by the namespace that holds it (caches.c lists the
	 * modules): the program's, the interpreter's own state (sys.modules,
	 * sys.path_importer_cache, typing's caches) or a standard library
	 * module's tables (html5 entities, re's compiled patterns). Only the
	 * program's can be leak suspects. */
	enum pca_cache_holder {
		PCA_HELD_BY_PROGRAM,
		PCA_HELD_BY_INTERPRETER,
		PCA_HELD_BY_STDLIB,
		/* a module under a site-packages or dist-packages directory:
		 * a third-party library's */
		PCA_HELD_BY_LIBRARY,
	} held_by;
	/* held_by by the explicit lists of caches.c (the interpreter's state,
	 * the standard library's own tables), not by where the module lives */
	bool listed;
	/* the library's limit that bounds this container ("re._MAXCACHE") and
	 * its value read from the core; NULL: none */
	const char *bounded_by;
	int64_t bound;
	uint64_t retained;
};

struct pca_caches {
	struct pca_cache *items; /* by retained size, descending */
	size_t count;
};

struct pca_error *pca_caches_compute(struct pca_objects *objects, const struct pca_heap *heap,
				     const struct pca_refgraph *g, struct pca_caches *ret);
void pca_caches_deinit(struct pca_caches *c);
/* "program", "interpreter", "stdlib", "library" (the JSON's held_by) */
const char *pca_cache_holder_name(enum pca_cache_holder h);

#endif

/* unreferenced.h: "unreferenced objects" — pymalloc blocks in use that hold a
 * valid-looking object the enumeration did not reach: a reference leaked by
 * C code, or an object only C code holds (a static cache). They are reported
 * beside the census, never added to its type table.
 *
 * A block holds an object when, at the block's start (non-GC types) or after
 * the GC head (GC types, and the 3.11+ pre-header), there is a valid type
 * pointer and a live reference count (> 0 and below 2^40: objects on a
 * type's free list have a count of 0, and pointer arrays that look like an
 * object have a pointer there). Larger allocations (above pymalloc's
 * threshold) are not seen: only pymalloc records its blocks.
 *
 * Not every such object is a leak: the interpreter holds objects through
 * pointers the census does not follow (a heap type's __slots__ tuple and
 * names, the interned strings, caches in its static data, the C state of
 * extension modules). Those words are scanned (census objects' fixed parts,
 * the interpreter's writable data, module states) and each object they
 * point at, and what it refers to, is "held by the interpreter"; what
 * remains is "held by C code or leaked".
 *
 * Three names, never mixed: "unreferenced objects" are these; "unreachable"
 * (garbage) is what the cycle collector would free (contract word,
 * totals.unreachable, analyses/refgraph.h); "leak suspects" are the report's
 * short list (analyses/suspects.h). The JSON key of this section keeps its
 * schema 1 name, "unreachable_allocations".
 */
#ifndef PCA_ANALYSES_UNREFERENCED_H
#define PCA_ANALYSES_UNREFERENCED_H

#include "base/error.h"
#include "heap/arenas.h"
#include "heap/heap.h"
#include "objects/objects.h"

struct pca_unreferenced_row {
	const char *name; /* stable, as in pca_summary_row */
	uint64_t count, size;
};

/* What holds an unreferenced object that is not a leak: the interpreter
 * itself, through a pointer the census does not follow. */
enum pca_holder_kind {
	PCA_HOLDER_FIELD,        /* a field of a census object the collector does not visit
				    (a heap type's __slots__ and names, ...); name: its type */
	PCA_HOLDER_STATIC,       /* the interpreter's static data (interned strings,
				    caches, singletons); name: the file */
	PCA_HOLDER_MODULE_STATE, /* the C state of an extension module; name: the module's type */
	PCA_HOLDER_KIND_COUNT
};

struct pca_unreferenced_holder {
	enum pca_holder_kind kind;
	const char *name; /* stable for the session */
	uint64_t count, size;
};

struct pca_unreferenced {
	/* every unreferenced object (schema 1 "types") */
	struct pca_unreferenced_row *rows; /* by size, descending */
	size_t nrows;
	uint64_t objects, size;
	uint64_t blocks_checked;
	/* those the interpreter holds (directly, or through another of them) */
	struct pca_unreferenced_holder *holders; /* by size, descending */
	size_t nholders;
	/* the rest: "held by C code or leaked" */
	struct pca_unreferenced_row *unexplained; /* by size, descending */
	size_t nunexplained;
	uint64_t unexplained_objects, unexplained_size;
	/* of those, how many no other unreferenced object refers to: each is a
	 * reference nothing in the core explains */
	uint64_t unexplained_roots;
};

struct pca_error *pca_unreferenced_compute(struct pca_objects *objects, const struct pca_heap *heap,
				    const struct pca_arenas *arenas, struct pca_unreferenced *ret);
const char *pca_holder_kind_name(enum pca_holder_kind kind);
void pca_unreferenced_deinit(struct pca_unreferenced *l);

#endif

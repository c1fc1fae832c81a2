/* summary.h: the per-type census (count and sys.getsizeof total per type)
 * from the heap index. Data in, result out; no printing. */
#ifndef PCA_ANALYSES_SUMMARY_H
#define PCA_ANALYSES_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "heap/heap.h"
#include "objects/objects.h"

struct pca_summary_row {
	/* The type name (owned by objects/, stable: type infos may move as
	 * types are registered later, their names do not). */
	const char *name;
	uint64_t count, size;
	bool size_exact;                  /* for every type of this name */
};

struct pca_summary {
	struct pca_summary_row *rows; /* by size, descending; ties by name */
	size_t nrows;
	uint64_t objects, size;
	uint64_t gc_tracked;
};

struct pca_error *pca_summary_compute(const struct pca_heap *heap,
				      const struct pca_objects *objects, struct pca_summary *ret);
void pca_summary_deinit(struct pca_summary *s);

#endif

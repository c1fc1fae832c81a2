/* diff.h: growth from one core to another: every type by name (both
 * per-type tables merged), and the caches of the second core matched to the
 * first by identity (an lru_cache's function, else the container's owner
 * path) that have more entries or retain more. Data in, result out. */
#ifndef PCA_ANALYSES_DIFF_H
#define PCA_ANALYSES_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "analyses/caches.h"
#include "analyses/summary.h"
#include "base/error.h"

/* One core's side: its census and its caches with their owner paths. */
struct pca_diff_side {
	const struct pca_summary *summary;
	const struct pca_caches *caches;
	char *const *cache_owners; /* per cache, or NULL */
};

struct pca_type_delta {
	const char *name; /* owned by either side's objects/ */
	int64_t count_before, size_before, count, size;
};

struct pca_cache_growth {
	const struct pca_cache *cache; /* in the second core */
	const char *key;               /* function or owner path */
	uint64_t entries_before, retained_before;
};

struct pca_diff {
	int64_t objects, size;          /* totals, second minus first */
	struct pca_type_delta *types;   /* types whose count or size changed, most growth first */
	size_t ntypes;
	struct pca_cache_growth *caches;
	size_t ncaches;
};

/* The result points into both sides: keep them until pca_diff_deinit. */
struct pca_error *pca_diff_compute(const struct pca_diff_side *before,
				   const struct pca_diff_side *after, struct pca_diff *ret);
void pca_diff_deinit(struct pca_diff *d);

#endif

#include "analyses/top.h"

#include <stdlib.h>
#include <string.h>

#include "analyses/owner.h"
#include "base/log.h"
#include "base/progress.h"

/* The n largest objects by size, largest first (ties: lower id first). */
static size_t largest_ids(const struct pca_heap *heap, size_t n, uint32_t *out)
{
	size_t have = 0;
	for (uint32_t v = 0; v < heap->count; v++) {
		uint64_t sz = pca_heap_size(heap, v);
		if (have == n && (n == 0 || sz <= pca_heap_size(heap, out[have - 1])))
			continue;
		size_t pos = have < n ? have++ : n - 1;
		while (pos > 0 && pca_heap_size(heap, out[pos - 1]) < sz) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = v;
	}
	return have;
}

struct pca_error *pca_top_compute(struct pca_objects *objects, const struct pca_heap *heap,
				  const struct pca_refgraph *g, size_t n, struct pca_top *ret)
{
	*ret = (struct pca_top){0};
	double t0 = pca_now_seconds();
	ret->ids = malloc((n ? n : 1) * sizeof(*ret->ids));
	if (!ret->ids)
		return &pca_error_nomem;
	ret->count = largest_ids(heap, n, ret->ids);
	ret->owners = calloc(ret->count ? ret->count : 1, sizeof(*ret->owners));
	if (!ret->owners) {
		pca_top_deinit(ret);
		return &pca_error_nomem;
	}
	for (size_t i = 0; i < ret->count; i++) {
		char owner[512];
		pca_owner_path(objects, heap, g, ret->ids[i], owner, sizeof(owner));
		ret->owners[i] = strdup(owner);
		if (!ret->owners[i]) {
			pca_top_deinit(ret);
			return &pca_error_nomem;
		}
	}
	pca_log_timing("largest objects and owners: %.3f s\n", pca_now_seconds() - t0);
	return NULL;
}

void pca_top_deinit(struct pca_top *t)
{
	for (size_t i = 0; t->owners && i < t->count; i++)
		free(t->owners[i]);
	free(t->owners);
	free(t->ids);
	*t = (struct pca_top){0};
}

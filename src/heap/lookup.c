#include "heap/lookup.h"

#include "interp/interp.h"
#include "layout/layout.h"

bool pca_heap_object_at(const struct pca_heap *h, const struct pca_objects *objects,
			uint64_t addr, uint32_t *ret)
{
	/* the nearest objects below (or at) and above addr: one pass, as ids
	 * are not in address order (the collector's objects come first) */
	uint32_t below = UINT32_MAX, above = UINT32_MAX;
	for (uint32_t id = 0; id < h->count; id++) {
		uint64_t a = h->addr[id];
		if (a <= addr) {
			if (below == UINT32_MAX || a > h->addr[below])
				below = id;
		} else if (above == UINT32_MAX || a < h->addr[above]) {
			above = id;
		}
	}
	if (below != UINT32_MAX) {
		uint32_t id = below;
		const struct pca_type_info *t = &objects->infos[h->type[id]];
		uint64_t n = 0, body = t->basicsize;
		if (t->itemsize && pca_interp_read_field(objects->interp, h->addr[id], PCA_F_OB_SIZE, &n))
			body += ((int64_t)n < 0 ? (uint64_t)-(int64_t)n : n) * t->itemsize;
		if (addr - h->addr[id] < body) {
			*ret = id;
			return true;
		}
	}
	/* in the collector's header or the pre-header before the next object */
	uint64_t pre = objects->interp->layout->sizes[PCA_S_GC_HEAD] + 16;
	if (above != UINT32_MAX && h->addr[above] - addr <= pre) {
		*ret = above;
		return true;
	}
	return false;
}

#include "heap/lookup.h"

#include "interp/interp.h"
#include "layout/layout.h"

bool pca_heap_object_at(const struct pca_heap *h, const struct pca_objects *objects,
			uint64_t addr, uint32_t *ret)
{
	uint32_t lo = 0, hi = h->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->addr[h->by_address[mid]] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		uint32_t id = h->by_address[lo - 1];
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
	if (lo < h->count && h->addr[h->by_address[lo]] - addr <= pre) {
		*ret = h->by_address[lo];
		return true;
	}
	return false;
}

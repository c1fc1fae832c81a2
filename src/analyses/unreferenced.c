#include "analyses/unreferenced.h"

#include <stdlib.h>
#include <string.h>

/* Include/object.h: Py_TPFLAGS_HAVE_GC. */
static const uint64_t tpflags_have_gc = 1u << 14;
/* A reference count this large is a pointer, not a count (3.12+ immortal
 * counts are below 2^32). */
static const uint64_t max_refcnt = 1ull << 40;

struct scan {
	struct pca_objects *objects;
	const struct pca_heap *heap;
	uint64_t *count, *size; /* per type index */
	uint64_t checked;
	size_t capacity; /* of count and size */
};

/* The object a block holds, if any: its address and type. */
static bool block_object(struct scan *s, uint64_t block, uint32_t block_size, uint64_t *ret_addr,
			 struct pca_type_info **ret_type)
{
	struct pca_interp *in = s->objects->interp;
	const struct pca_layout *l = in->layout;
	uint64_t gc = l->sizes[PCA_S_GC_HEAD];
	const uint64_t offsets[] = {0, gc, gc + 16};
	for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
		uint64_t addr = block + offsets[k], refcnt, type_addr;
		if (offsets[k] + l->sizes[PCA_S_OBJECT] > block_size)
			break;
		if (!pca_interp_read_field(in, addr, PCA_F_OB_REFCNT, &refcnt) ||
		    !pca_interp_read_field(in, addr, PCA_F_OB_TYPE, &type_addr))
			continue;
		if (refcnt == 0 || refcnt >= max_refcnt)
			continue;
		struct pca_type_info *t = pca_objects_type(s->objects, type_addr);
		if (!t)
			continue;
		bool is_gc = (t->flags & tpflags_have_gc) != 0;
		bool preheader = (t->flags & l->tpflags_preheader) != 0;
		/* the offset must be where this type's objects start */
		if ((k == 0 && is_gc) || (k == 1 && (!is_gc || preheader)) || (k == 2 && !preheader))
			continue;
		*ret_addr = addr;
		*ret_type = t;
		return true;
	}
	return false;
}

static bool check_block(void *ctx, uint64_t block, uint32_t block_size)
{
	struct scan *s = ctx;
	s->checked++;
	uint64_t addr, size;
	struct pca_type_info *t;
	uint32_t id;
	/* Most blocks hold an object of the census: one look at the bitmap of
	 * object starts, without touching the block. */
	if (pca_heap_any_in(s->heap, block, block_size))
		return true;
	if (!block_object(s, block, block_size, &addr, &t) || pca_heap_find(s->heap, addr, &id))
		return true;
	if (!pca_objects_sizeof(s->objects, addr, t, &size))
		return true;
	size_t idx = (size_t)(t - s->objects->infos);
	if (idx >= s->capacity)
		return true;
	s->count[idx]++;
	s->size[idx] += size;
	return true;
}

static int by_size_desc(const void *a, const void *b)
{
	const struct pca_unreferenced_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct pca_error *pca_unreferenced_compute(struct pca_objects *objects, const struct pca_heap *heap,
				    const struct pca_arenas *arenas, struct pca_unreferenced *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* Types may be registered during the scan: size the tables generously
	 * and grow never; a type beyond them is not counted. */
	size_t cap = objects->ninfos + 4096;
	struct scan s = {.objects = objects, .heap = heap, .capacity = cap};
	s.count = calloc(cap, sizeof(*s.count));
	s.size = calloc(cap, sizeof(*s.size));
	if (!s.count || !s.size) {
		free(s.count);
		free(s.size);
		return &pca_error_nomem;
	}
	uint64_t skipped = 0;
	struct pca_error *err = NULL;
	/* objects->infos may move when types are added: indices, not pointers */
	err = pca_arenas_for_each_used_block(objects->interp, arenas, check_block, &s, &skipped);
	size_t n = 0;
	for (size_t i = 0; i < objects->ninfos && i < cap; i++)
		n += s.count[i] != 0;
	ret->rows = calloc(n ? n : 1, sizeof(*ret->rows));
	if (!err && !ret->rows)
		err = &pca_error_nomem;
	if (!err) {
		for (size_t i = 0; i < objects->ninfos && i < cap; i++) {
			if (!s.count[i])
				continue;
			ret->rows[ret->nrows++] = (struct pca_unreferenced_row){objects->infos[i].name, s.count[i], s.size[i]};
			ret->objects += s.count[i];
			ret->size += s.size[i];
		}
		pca_sort(ret->rows, ret->nrows, sizeof(*ret->rows), by_size_desc);
		ret->blocks_checked = s.checked;
	}
	free(s.count);
	free(s.size);
	if (err)
		pca_unreferenced_deinit(ret);
	return err;
}

void pca_unreferenced_deinit(struct pca_unreferenced *l)
{
	free(l->rows);
	memset(l, 0, sizeof(*l));
}

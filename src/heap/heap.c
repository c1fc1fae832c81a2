#include "heap/heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The collector keeps three generations (Modules/gcmodule.c NUM_GENERATIONS,
 * 3.6-3.13). */
enum { NUM_GENERATIONS = 3 };
/* A GC list cannot hold more objects than this (a 1 TiB heap of 32-byte
 * objects); a longer walk is a cycle in corrupt data. */
static const uint64_t max_list_length = 1ull << 35;

struct builder {
	struct pca_objects *objects;
	struct pca_heap *heap;
	size_t capacity;
	/* open-addressing set of every address already examined (objects and
	 * rejected candidates alike): each is looked at once */
	uint64_t *seen;
	size_t seen_capacity, seen_count;
	struct pca_error *err; /* first allocation failure */
	uint64_t current;      /* object whose references are being offered */
	FILE *parents_out;     /* debugging aid: PCA_DUMP_PARENTS */
};

static size_t seen_slot(const struct builder *b, uint64_t addr)
{
	size_t mask = b->seen_capacity - 1;
	size_t i = (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> 17) & mask;
	while (b->seen[i] && b->seen[i] != addr)
		i = (i + 1) & mask;
	return i;
}

static bool seen_grow(struct builder *b)
{
	size_t old_cap = b->seen_capacity;
	uint64_t *old = b->seen;
	size_t cap = old_cap ? old_cap * 2 : 1u << 16;
	b->seen = calloc(cap, sizeof(*b->seen));
	if (!b->seen) {
		b->seen = old;
		return false;
	}
	b->seen_capacity = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			b->seen[seen_slot(b, old[i])] = old[i];
	free(old);
	return true;
}

/* True the first time `addr` is offered. */
static bool first_sight(struct builder *b, uint64_t addr)
{
	if ((b->seen_count + 1) * 2 > b->seen_capacity && !seen_grow(b)) {
		b->err = &pca_error_nomem;
		return false;
	}
	size_t i = seen_slot(b, addr);
	if (b->seen[i])
		return false;
	b->seen[i] = addr;
	b->seen_count++;
	return true;
}

static bool append(struct builder *b, uint64_t addr, uint32_t type, uint64_t size)
{
	struct pca_heap *h = b->heap;
	if (h->count == b->capacity) {
		size_t cap = b->capacity ? b->capacity * 2 : 1u << 16;
		if (cap > UINT32_MAX) {
			b->err = pca_error_create(PCA_ERROR_OTHER, "more than 2^32 objects");
			return false;
		}
		uint64_t *a = realloc(h->addr, cap * sizeof(*a));
		if (a)
			h->addr = a;
		uint32_t *t = realloc(h->type, cap * sizeof(*t));
		if (t)
			h->type = t;
		uint64_t *s = realloc(h->size, cap * sizeof(*s));
		if (s)
			h->size = s;
		if (!a || !t || !s) {
			b->err = &pca_error_nomem;
			return false;
		}
		b->capacity = cap;
	}
	h->addr[h->count] = addr;
	h->type[h->count] = type;
	h->size[h->count] = size;
	h->count++;
	return true;
}

/* Examine a candidate object once: a valid one joins the index. */
static bool offer(struct builder *b, uint64_t obj)
{
	if (!obj || (obj & 7) || b->err || !first_sight(b, obj))
		return false;
	struct pca_interp *in = b->objects->interp;
	uint64_t type_addr, size;
	struct pca_type_info *t = NULL;
	if (pca_interp_read_field(in, obj, PCA_F_OB_TYPE, &type_addr))
		t = pca_objects_type(b->objects, type_addr);
	if (!t || !pca_objects_sizeof(b->objects, obj, t, &size)) {
		b->heap->skipped++;
		return false;
	}
	if (b->parents_out)
		fprintf(b->parents_out, "%lx %lx\n", (unsigned long)obj, (unsigned long)b->current);
	return append(b, obj, (uint32_t)(t - b->objects->infos), size);
}

static void visit_referent(void *ctx, uint64_t referent)
{
	struct builder *b = ctx;
	if (!(referent & PCA_REFERENT_GUESS)) {
		offer(b, referent);
		return;
	}
	uint64_t skipped = b->heap->skipped;
	offer(b, referent & ~(uint64_t)PCA_REFERENT_GUESS);
	b->heap->skipped = skipped; /* a guess that is no object is no problem */
}

/* One circular list with sentinel `head`. */
static void walk_list(struct builder *b, uint64_t head, struct pca_warnings *w)
{
	struct pca_interp *in = b->objects->interp;
	const struct pca_layout *l = in->layout;
	uint64_t gc_size = l->sizes[PCA_S_GC_HEAD];
	uint64_t prev = head, node;
	if (!pca_interp_read_field(in, head, PCA_F_GC_NEXT, &node)) {
		pca_warnings_add(w, "a collector list head at 0x%llx is not in the core",
				 (unsigned long long)head);
		b->heap->lists_cut++;
		return;
	}
	for (uint64_t steps = 0; node != head && !b->err; steps++) {
		uint64_t back, next;
		if (steps > max_list_length || !node ||
		    !pca_interp_read_field(in, node, PCA_F_GC_PREV, &back) ||
		    (back & ~l->gc_prev_flag_mask) != prev ||
		    !pca_interp_read_field(in, node, PCA_F_GC_NEXT, &next)) {
			b->heap->lists_cut++;
			return;
		}
		if (offer(b, node + gc_size))
			b->heap->gc_tracked++;
		prev = node;
		node = next;
	}
}

/* Where the generations live: 3.6 the static `generations` array of
 * Modules/gcmodule.c; 3.7-3.8 _PyRuntime.gc; 3.9+ each interpreter's gc. */
static void walk_state(struct builder *b, uint64_t generations, uint64_t permanent,
		       struct pca_warnings *w)
{
	const struct pca_layout *l = b->objects->interp->layout;
	uint64_t gen_size = l->sizes[PCA_S_GC_GENERATION];
	for (int g = 0; g < NUM_GENERATIONS; g++)
		walk_list(b, generations + (uint64_t)g * gen_size, w);
	if (permanent)
		walk_list(b, permanent, w);
}

static struct pca_error *walk_collector(struct builder *b, struct pca_warnings *w)
{
	struct pca_interp *in = b->objects->interp;
	const struct pca_layout *l = in->layout;
	uint64_t addr;
	if (pca_layout_has(l, PCA_F_INTERP_GC_GENERATIONS)) {
		uint64_t interp = in->first_interp;
		for (int n = 0; interp && n < 4096; n++) {
			uint64_t next = 0;
			walk_state(b, interp + pca_layout_offset(l, PCA_F_INTERP_GC_GENERATIONS),
				   pca_layout_has(l, PCA_F_INTERP_GC_PERMANENT)
					   ? interp + pca_layout_offset(l, PCA_F_INTERP_GC_PERMANENT)
					   : 0,
				   w);
			if (!pca_interp_read_field(in, interp, PCA_F_INTERP_NEXT, &next))
				break;
			interp = next;
		}
	} else if (pca_layout_has(l, PCA_F_RUNTIME_GC_GENERATIONS) &&
		   pca_symbols_lookup(in->symbols, "_PyRuntime", &addr)) {
		walk_state(b, addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_GENERATIONS),
			   pca_layout_has(l, PCA_F_RUNTIME_GC_PERMANENT)
				   ? addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_PERMANENT)
				   : 0,
			   w);
	} else if (pca_symbols_lookup(in->symbols, "generations", &addr)) {
		walk_state(b, addr, 0, w);
	} else {
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"cannot find the collector's generations in %s",
					pca_symbols_python_file(in->symbols));
	}
	return NULL;
}

static int by_address(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return *x < *y ? -1 : *x > *y;
}

/* Sort the three arrays by address through a permutation. */
static struct pca_error *sort_heap(struct pca_heap *h)
{
	uint64_t *pairs = malloc((size_t)h->count * 2 * sizeof(*pairs));
	uint32_t *types = malloc((size_t)h->count * sizeof(*types));
	uint64_t *sizes = malloc((size_t)h->count * sizeof(*sizes));
	if (!pairs || !types || !sizes) {
		free(pairs);
		free(types);
		free(sizes);
		return &pca_error_nomem;
	}
	for (uint32_t i = 0; i < h->count; i++) {
		pairs[2 * i] = h->addr[i];
		pairs[2 * i + 1] = i;
	}
	qsort(pairs, h->count, 2 * sizeof(*pairs), by_address);
	for (uint32_t i = 0; i < h->count; i++) {
		uint32_t from = (uint32_t)pairs[2 * i + 1];
		h->addr[i] = pairs[2 * i];
		types[i] = h->type[from];
		sizes[i] = h->size[from];
	}
	free(pairs);
	free(h->type);
	free(h->size);
	h->type = types;
	h->size = sizes;
	return NULL;
}

/* Running frames are roots the collector's lists may not hold: 3.6-3.10
 * frame objects of fast calls are untracked while they run
 * (_PyFrame_New_NoTrack in Python/ceval.c), and 3.11+ frame objects of
 * running frames are made untracked and hang off the interpreter frame. */
static void offer_frame_object(void *ctx, uint64_t frame)
{
	struct builder *b = ctx;
	struct pca_interp *in = b->objects->interp;
	uint64_t frame_obj;
	if (in->layout->frame_model == PCA_FRAMES_OBJECTS)
		offer(b, frame);
	else if (pca_interp_read_field(in, frame, PCA_F_IFRAME_FRAME_OBJ, &frame_obj))
		offer(b, frame_obj);
}

struct pca_error *pca_heap_build(struct pca_objects *objects, struct pca_warnings *w,
				 struct pca_heap *ret)
{
	struct pca_heap *h = ret;
	memset(h, 0, sizeof(*h));
	struct builder b = {.objects = objects, .heap = h};
	const char *parents = getenv("PCA_DUMP_PARENTS");
	if (parents)
		b.parents_out = fopen(parents, "w");
	struct pca_error *err = walk_collector(&b, w);
	pca_interp_for_each_frame(objects->interp, offer_frame_object, &b);
	/* The closure: the index itself is the work list. */
	for (uint32_t i = 0; !err && !b.err && i < h->count; i++) {
		b.current = h->addr[i];
		pca_objects_referents(objects, h->addr[i], &objects->infos[h->type[i]],
				      visit_referent, &b);
	}
	free(b.seen);
	if (b.parents_out)
		fclose(b.parents_out);
	if (!err)
		err = b.err;
	if (!err)
		err = sort_heap(h);
	const char *dump = getenv("PCA_DUMP_OBJECTS"); /* debugging aid */
	if (!err && dump) {
		FILE *f = fopen(dump, "w");
		for (uint32_t i = 0; f && i < h->count; i++)
			fprintf(f, "%lx %s\n", (unsigned long)h->addr[i], objects->infos[h->type[i]].name);
		if (f)
			fclose(f);
	}
	if (err) {
		pca_heap_deinit(h);
		return err;
	}
	if (h->skipped)
		pca_warnings_add(w, "%llu references skipped: they point to memory that is not a valid object (unreadable or with an invalid type)",
				 (unsigned long long)h->skipped);
	if (h->lists_cut)
		pca_warnings_add(w, "%llu collector lists end on a broken link (corrupt or truncated core): objects after it are missing",
				 (unsigned long long)h->lists_cut);
	return NULL;
}

void pca_heap_deinit(struct pca_heap *h)
{
	free(h->addr);
	free(h->type);
	free(h->size);
	memset(h, 0, sizeof(*h));
}

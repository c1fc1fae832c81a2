#include "heap/heap.h"

#include "base/hashmap.h"
#include "base/log.h"
#include "base/vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

/* The collector keeps three generations (Modules/gcmodule.c NUM_GENERATIONS,
 * 3.6-3.13). */
enum { NUM_GENERATIONS = 3 };
/* A GC list cannot hold more objects than this (a 1 TiB heap of 32-byte
 * objects); a longer walk is a cycle in corrupt data. */
static const uint64_t max_list_length = 1ull << 35;

/* Ranks count bits: with the popcnt instruction where the CPU has it (a
 * baseline x86-64 build calls a libgcc loop instead; 1.5% of `summary`). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PCA_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define PCA_POPCNT_CLONES
#endif

static inline size_t address_hash(uint64_t addr) { return pca_hash_u64(addr >> 3, 17); }
/* Addresses: 0 is never an object, so it marks an empty slot. */
PCA_DEFINE_HASH_SET(address_set, uint64_t, address_hash, 0)

struct builder {
	struct pca_objects *objects;
	struct pca_heap *heap;
	size_t capacity;
	/* Every address examined once. Objects are 8-byte aligned and live in
	 * the core's saved segments: one bit per 8 bytes of saved memory (1/64
	 * of the core), a bit set for each valid object; `seg_bit[i]` is the
	 * first bit of segment i. Addresses outside saved memory (rare: pages
	 * read from attached files) go to a small open-addressing set. */
	uint64_t *bits;
	uint64_t *seg_bit;
	size_t nsegments;
	uint64_t last_vaddr, last_saved, last_bit; /* cache of bit_of */
	/* bit_of's second cache: the segment last found in each 2 MiB granule
	 * of the address space, direct-mapped (references jump between the
	 * arenas of a large heap; the last segment alone mostly misses). */
	struct {
		uint64_t granule, vaddr, saved, bit;
	} granules[1024];
	/* type address -> its info, direct-mapped: the registry's hash map
	 * costs more than the rest of an offer */
	struct {
		uint64_t addr;
		struct pca_type_info *info;
	} types[256];
	struct address_set outside;
	struct pca_error *err; /* first allocation failure */
	uint64_t current;      /* object whose references are being offered */
	bool record_edges;
	uint64_t *edge_addr;   /* targets by address, in source id order */
	uint64_t nedges;
	size_t edges_capacity;
	size_t edge_start_capacity;
	/* Every reference is a pointer somewhere in saved memory; tables that
	 * objects share (split dicts' keys) at most double that. More is a core
	 * that points many objects at one table to claim edges it does not
	 * hold: the graph's memory stays bounded by the core's size. */
	uint64_t max_edges, edges_dropped;
	/* The same for the time spent: references offered at all (4 per word
	 * of saved memory); past it the closure stops following references. */
	uint64_t visits, max_visits;
	bool dump_parents;     /* debugging aid: PCA_DUMP_PARENTS (base/log) */
};

static struct pca_error *bits_init(struct builder *b)
{
	struct pca_target *t = b->objects->interp->target;
	b->nsegments = pca_target_segment_count(t);
	b->seg_bit = calloc(b->nsegments + 1, sizeof(*b->seg_bit));
	if (!b->seg_bit)
		return &pca_error_nomem;
	uint64_t total = 0;
	for (size_t i = 0; i < b->nsegments; i++) {
		uint64_t vaddr, saved;
		pca_target_segment(t, i, &vaddr, &saved);
		b->seg_bit[i] = total;
		total += (saved + 7) / 8;
	}
	b->seg_bit[b->nsegments] = total;
	b->max_edges = 2 * total + (1u << 20);
	b->max_visits = 4 * total + (1u << 20);
	b->bits = calloc(total / 64 + 1, sizeof(*b->bits));
	return b->bits ? NULL : &pca_error_nomem;
}

/* bit_of past its caches: the segment of addr, searched, into its
 * granule's slot. */
static __attribute__((noinline)) uint64_t bit_of_search(struct builder *b, uint64_t addr)
{
	uint64_t granule = addr >> 21;
	size_t slot = (size_t)(granule % (sizeof(b->granules) / sizeof(b->granules[0])));
	struct pca_target *t = b->objects->interp->target;
	int64_t seg = pca_target_segment_index(t, addr);
	if (seg < 0)
		return UINT64_MAX;
	b->granules[slot].granule = granule;
	pca_target_segment(t, (size_t)seg, &b->granules[slot].vaddr, &b->granules[slot].saved);
	b->granules[slot].bit = b->seg_bit[seg];
	b->last_vaddr = b->granules[slot].vaddr;
	b->last_saved = b->granules[slot].saved;
	b->last_bit = b->granules[slot].bit;
	return b->last_bit + (addr - b->last_vaddr) / 8;
}

/* Bit of addr, or UINT64_MAX when addr is not in saved memory. The last
 * segment found is tried first (neighbours share segments), then the one
 * last found in addr's 2 MiB granule. Inline: it runs for every reference
 * offered, and a call cost as much as the test. */
static inline __attribute__((always_inline)) uint64_t bit_of(struct builder *b, uint64_t addr)
{
	if (addr - b->last_vaddr < b->last_saved)
		return b->last_bit + (addr - b->last_vaddr) / 8;
	uint64_t granule = addr >> 21;
	size_t slot = (size_t)(granule % (sizeof(b->granules) / sizeof(b->granules[0])));
	if (b->granules[slot].granule != granule || addr - b->granules[slot].vaddr >= b->granules[slot].saved)
		return bit_of_search(b, addr);
	b->last_vaddr = b->granules[slot].vaddr;
	b->last_saved = b->granules[slot].saved;
	b->last_bit = b->granules[slot].bit;
	return b->last_bit + (addr - b->last_vaddr) / 8;
}

/* Mark addr seen; true the first time. */
static bool first_sight(struct builder *b, uint64_t addr)
{
	uint64_t bit = bit_of(b, addr);
	if (bit != UINT64_MAX) {
		uint64_t mask = 1ull << (bit & 63);
		if (b->bits[bit / 64] & mask)
			return false;
		b->bits[bit / 64] |= mask;
		return true;
	}
	bool inserted;
	if (!address_set_insert(&b->outside, addr, &inserted)) {
		b->err = &pca_error_nomem;
		return false;
	}
	return inserted;
}

/* A rejected candidate leaves the bitmap, so that bits are objects only
 * (the sort below ranks objects by their bit). It may be offered again;
 * each offer costs one failed validation. */
static void forget(struct builder *b, uint64_t addr)
{
	uint64_t bit = bit_of(b, addr);
	if (bit != UINT64_MAX)
		b->bits[bit / 64] &= ~(1ull << (bit & 63));
}

static bool append(struct builder *b, uint64_t addr, uint32_t type, uint64_t size)
{
	struct pca_heap *h = b->heap;
	if (h->count == b->capacity) {
		/* the three columns share one capacity, doubled */
		size_t cap = b->capacity ? b->capacity * 2 : 1u << 16;
		if (cap > UINT32_MAX) {
			b->err = pca_error_create(PCA_ERROR_OTHER, "more than 2^32 objects");
			return false;
		}
		bool a = PCA_ARRAY_RESIZE(&h->addr, cap);
		bool t = PCA_ARRAY_RESIZE(&h->type, cap);
		bool s = PCA_ARRAY_RESIZE(&h->size32, cap);
		if (!a || !t || !s) {
			b->err = &pca_error_nomem;
			return false;
		}
		b->capacity = cap;
	}
	h->addr[h->count] = addr;
	h->type[h->count] = type;
	h->size32[h->count] = size < PCA_HEAP_BIG_SIZE ? (uint32_t)size : PCA_HEAP_BIG_SIZE;
	if (size >= PCA_HEAP_BIG_SIZE) {
		if (!PCA_VECTOR_GROW(&h->big, &h->big_capacity, h->nbig + 1, 16)) {
			b->err = &pca_error_nomem;
			return false;
		}
		/* ids only grow: `big` stays sorted by id */
		h->big[h->nbig++] = (struct pca_heap_big){h->count, size};
	}
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
	if (pca_interp_read_field(in, obj, PCA_F_OB_TYPE, &type_addr)) {
		size_t slot = (size_t)(type_addr >> 4) % (sizeof(b->types) / sizeof(b->types[0]));
		if (type_addr && b->types[slot].addr == type_addr) {
			t = b->types[slot].info;
		} else if ((t = pca_objects_type(b->objects, type_addr))) {
			b->types[slot].addr = type_addr;
			b->types[slot].info = t;
		}
	}
	if (!t || !pca_objects_sizeof(b->objects, obj, t, &size)) {
		forget(b, obj);
		b->heap->skipped++;
		return false;
	}
	if (b->dump_parents)
		pca_log_dump(PCA_LOG_DUMP_PARENTS, "%lx %lx\n", (unsigned long)obj,
			     (unsigned long)b->current);
	return append(b, obj, (uint32_t)(t - b->objects->infos), size);
}

/* Keep a reference for the graph: the target is an object of the census
 * (its bit is set; one outside saved memory is checked when converted). */
static void record_edge(struct builder *b, uint64_t obj)
{
	uint64_t bit = bit_of(b, obj);
	if (bit != UINT64_MAX && !(b->bits[bit / 64] & (1ull << (bit & 63))))
		return;
	if (b->nedges >= b->max_edges) {
		b->edges_dropped++;
		return;
	}
	if (!PCA_VECTOR_GROW(&b->edge_addr, &b->edges_capacity, b->nedges + 1, 1u << 16)) {
		b->err = &pca_error_nomem;
		return;
	}
	b->edge_addr[b->nedges++] = obj;
}

static void visit_referent(void *ctx, uint64_t referent)
{
	struct builder *b = ctx;
	if (++b->visits > b->max_visits)
		return;
	uint64_t obj = referent & ~(uint64_t)PCA_REFERENT_FLAGS;
	if (!obj || (obj & 7))
		return;
	if (!(referent & PCA_REFERENT_GUESS)) {
		offer(b, obj);
	} else {
		uint64_t skipped = b->heap->skipped;
		offer(b, obj);
		b->heap->skipped = skipped; /* a guess that is no object is no problem */
	}
	/* the graph leaves out what the object reaches but does not reference */
	if (b->record_edges && !(referent & PCA_REFERENT_EXTRA) && !b->err)
		record_edge(b, obj);
}

/* Offsets of each source's references; grown with the index. */
static bool edge_start_set(struct builder *b, uint32_t i)
{
	struct pca_heap *h = b->heap;
	/* room for edge_start[i + 1], the end written after the last source */
	if (!PCA_VECTOR_GROW(&h->edge_start, &b->edge_start_capacity, (size_t)i + 2, 1u << 16)) {
		b->err = &pca_error_nomem;
		return false;
	}
	h->edge_start[i] = b->nedges;
	return true;
}

/* The recorded references by id, converted in place: a uint32 id is written
 * at index k of the same buffer whose 8-byte address k was just read (4k <
 * 8k), then the buffer shrinks. Targets that are no object are dropped. */
static struct pca_error *edges_to_ids(struct builder *b)
{
	struct pca_heap *h = b->heap;
	uint32_t *ids = (uint32_t *)b->edge_addr;
	uint64_t kept = 0, k = 0;
	for (uint32_t v = 0; v < h->count; v++) {
		uint64_t end = h->edge_start[v + 1];
		h->edge_start[v] = kept;
		for (; k < end; k++) {
			uint32_t id;
			if (pca_heap_find(h, b->edge_addr[k], &id))
				ids[kept++] = id;
		}
	}
	h->edge_start[h->count] = kept;
	/* a failed shrink keeps the larger buffer */
	PCA_ARRAY_RESIZE(&ids, kept ? kept : 1);
	h->edges = ids;
	h->nedges = kept;
	b->edge_addr = NULL;
	return NULL;
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

/* The collector's state of one _gc_runtime_state at `state` (the
 * interpreter or _PyRuntime), its `generations` array at `generations`. */
static void read_gc_state(struct builder *b, uint64_t state, enum pca_field enabled, uint64_t generations)
{
	struct pca_interp *in = b->objects->interp;
	const struct pca_layout *l = in->layout;
	struct pca_gc_state *gc = &b->heap->gc;
	uint64_t v;
	if (state && pca_interp_read_field(in, state, enabled, &v))
		gc->enabled = (uint32_t)v != 0;
	uint64_t gen_size = l->sizes[PCA_S_GC_GENERATION];
	gc->generations_known = true;
	for (int g = 0; g < NUM_GENERATIONS && gc->generations_known; g++) {
		uint64_t count, threshold, gen = generations + (uint64_t)g * gen_size;
		gc->generations_known = pca_interp_read_field(in, gen, PCA_F_GC_GENERATION_COUNT, &count) &&
					pca_interp_read_field(in, gen, PCA_F_GC_GENERATION_THRESHOLD, &threshold);
		/* both are C ints */
		gc->count[g] = (int32_t)(uint32_t)count;
		gc->threshold[g] = (int32_t)(uint32_t)threshold;
	}
}

static struct pca_error *walk_collector(struct builder *b, struct pca_warnings *w)
{
	struct pca_interp *in = b->objects->interp;
	const struct pca_layout *l = in->layout;
	uint64_t addr;
	if (pca_layout_has(l, PCA_F_INTERP_GC_GENERATIONS)) {
		uint64_t *interps;
		size_t count;
		struct pca_error *err = pca_interp_list(in, &interps, &count);
		if (err)
			return err;
		for (size_t n = 0; n < count; n++)
			walk_state(b, interps[n] + pca_layout_offset(l, PCA_F_INTERP_GC_GENERATIONS),
				   pca_layout_has(l, PCA_F_INTERP_GC_PERMANENT)
					   ? interps[n] + pca_layout_offset(l, PCA_F_INTERP_GC_PERMANENT)
					   : 0,
				   w);
		if (count)
			read_gc_state(b, interps[0], PCA_F_INTERP_GC_ENABLED,
				      interps[0] + pca_layout_offset(l, PCA_F_INTERP_GC_GENERATIONS));
		free(interps);
	} else if (pca_layout_has(l, PCA_F_RUNTIME_GC_GENERATIONS) &&
		   pca_symbols_lookup(in->symbols, "_PyRuntime", &addr)) {
		walk_state(b, addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_GENERATIONS),
			   pca_layout_has(l, PCA_F_RUNTIME_GC_PERMANENT)
				   ? addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_PERMANENT)
				   : 0,
			   w);
		read_gc_state(b, addr, PCA_F_RUNTIME_GC_ENABLED,
			      addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_GENERATIONS));
	} else if (pca_symbols_lookup(in->symbols, "generations", &addr)) {
		walk_state(b, addr, 0, w);
		read_gc_state(b, 0, PCA_F_RUNTIME_GC_ENABLED, addr);
		/* 3.6: Modules/gcmodule.c's static int enabled, beside it */
		uint64_t enabled;
		const uint8_t *p;
		if (pca_symbols_lookup(in->symbols, "enabled", &enabled) &&
		    (p = pca_target_view(in->target, enabled, 4))) {
			int32_t x;
			memcpy(&x, p, 4);
			b->heap->gc.enabled = x != 0;
		}
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

/* Number of segments that start at or below addr (addr is in none of them
 * or past their saved bytes). */
static size_t segments_below(const struct pca_heap *h, uint64_t addr)
{
	struct pca_target *t = h->target;
	size_t lo = 0, hi = h->nsegments;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t vaddr, saved;
		pca_target_segment(t, mid, &vaddr, &saved);
		if (vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many of the sorted values are below v. */
static size_t count_below(const uint64_t *sorted, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Rank of an object among all objects by address, given its bit (or
 * UINT64_MAX for an object outside saved memory): the object bits before it
 * plus the outside objects below it. */
static inline __attribute__((always_inline)) uint64_t heap_rank(const struct pca_heap *h, uint64_t addr, uint64_t bit)
{
	if (bit == UINT64_MAX) /* outside saved memory: the bits of all segments below addr */
		bit = h->seg_bit[segments_below(h, addr)];
	return h->prefix[bit / 64] +
	       (uint64_t)__builtin_popcountll(h->bits[bit / 64] & ((1ull << (bit & 63)) - 1)) +
	       count_below(h->outside, h->noutside, addr);
}

/* Address order without moving the arrays: an object's rank among all
 * objects by address is the number of object bits before its own (prefix
 * counts per bitmap word) plus the objects outside saved memory with a
 * lower address (few; kept sorted). by_address[rank] = id. Only 4 bytes per
 * object are written at scattered places, instead of moving 20. */
PCA_POPCNT_CLONES static struct pca_error *index_by_address(struct builder *b)
{
	struct pca_heap *h = b->heap;
	uint64_t nwords = b->seg_bit[b->nsegments] / 64 + 1;
	h->prefix = malloc(nwords * sizeof(*h->prefix));
	h->outside = malloc((b->outside.count ? b->outside.count : 1) * sizeof(*h->outside));
	h->by_address = malloc(((size_t)h->count ? h->count : 1) * sizeof(*h->by_address));
	if (!h->prefix || !h->outside || !h->by_address)
		return &pca_error_nomem;
	uint32_t running = 0;
	for (uint64_t w = 0; w < nwords; w++) {
		h->prefix[w] = running;
		running += (uint32_t)__builtin_popcountll(b->bits[w]);
	}
	size_t nout = 0;
	for (uint32_t i = 0; i < h->count && nout < b->outside.count; i++)
		if (bit_of(b, h->addr[i]) == UINT64_MAX)
			h->outside[nout++] = h->addr[i];
	pca_sort(h->outside, nout, sizeof(*h->outside), by_address);
	h->noutside = nout;
	for (uint32_t i = 0; i < h->count; i++) {
		uint64_t rank = heap_rank(h, h->addr[i], bit_of(b, h->addr[i]));
		/* ALWAYS: ranks are a permutation (distinct objects, distinct bits). */
		if (rank >= h->count)
			return pca_error_create(PCA_ERROR_OTHER, "internal error: object rank %llu of %u",
						(unsigned long long)rank, h->count);
		h->by_address[rank] = i;
	}
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
	if (in->layout->frame_model == PCA_FRAMES_OBJECTS) {
		offer(b, frame);
		return;
	}
	/* 3.11+: what the interpreter frame holds: its frame object, locals
	 * dict, function, code, globals, builtins and its local variables
	 * (co_nlocalsplus slots: locals, cells, free variables; not the value
	 * stack's temporaries). */
	static const enum pca_field own[] = {PCA_F_IFRAME_FRAME_OBJ, PCA_F_IFRAME_LOCALS,
					     PCA_F_IFRAME_FUNC, PCA_F_IFRAME_CODE,
					     PCA_F_IFRAME_GLOBALS, PCA_F_IFRAME_BUILTINS};
	uint64_t p, code = 0, nlocalsplus = 0, owner;
	/* 3.12+ C-stack shim frames run the interpreter's own static code */
	if (pca_interp_read_field(in, frame, PCA_F_IFRAME_OWNER, &owner) &&
	    (int64_t)owner == in->layout->owner_cstack)
		return;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (pca_interp_read_field(in, frame, own[i], &p))
			offer(b, p);
	if (pca_interp_read_field(in, frame, PCA_F_IFRAME_CODE, &code) &&
	    pca_interp_read_field(in, code, PCA_F_CODE_NLOCALSPLUS, &nlocalsplus)) {
		uint64_t base = frame + pca_layout_offset(in->layout, PCA_F_IFRAME_LOCALSPLUS);
		for (uint64_t i = 0; i < (nlocalsplus & 0xffffffffu) && i < (1u << 16); i++)
			if (pca_target_try_read_u64(in->target, base + i * 8, &p))
				offer(b, p);
	}
}

struct pca_error *pca_heap_build(struct pca_objects *objects, struct pca_warnings *w,
				 struct pca_progress *progress, unsigned flags, struct pca_heap *ret)
{
	struct pca_heap *h = ret;
	memset(h, 0, sizeof(*h));
	h->gc.enabled = -1;
	struct builder b = {.objects = objects, .heap = h, .record_edges = flags & PCA_HEAP_EDGES};
	struct pca_error *err = bits_init(&b);
	if (err) {
		free(b.seg_bit);
		free(b.bits);
		return err;
	}
	b.dump_parents = pca_log_dump_begin(PCA_LOG_DUMP_PARENTS);
	double t0 = pca_now_seconds();
	err = walk_collector(&b, w);
	/* Before any reference is followed: what Python classes' instances
	 * refer to depends on it. */
	if (!err && !objects->ol.subtype_traverse &&
	    !pca_objects_learn_subtype_traverse(objects, h->addr, h->count))
		pca_warnings_add(w, "the attributes of instances of Python classes are not followed: %s has no symbol subtype_traverse and its type objects do not show it",
				 pca_symbols_python_file(objects->interp->symbols));
	double t1 = pca_now_seconds();
	pca_interp_for_each_frame(objects->interp, offer_frame_object, &b);
	/* The closure: the index itself is the work list. */
	struct pca_target *target = objects->interp->target;
	uint32_t next = 0; /* the first object whose references were not followed */
	for (uint32_t i = 0; !err && !b.err && i < h->count && b.visits <= b.max_visits; i = ++next) {
		/* The object traversed a few steps from now is far from this one:
		 * start loading its header while this one is worked on. */
		enum { PREFETCH_AHEAD = 8 };
		if (i + PREFETCH_AHEAD < h->count) {
			const void *ahead = pca_target_view(target, h->addr[i + PREFETCH_AHEAD], 16);
			if (ahead)
				__builtin_prefetch(ahead);
		}
		b.current = h->addr[i];
		if (b.record_edges) {
			/* sources are processed in id order: their edges follow one another */
			if (!edge_start_set(&b, i))
				break;
		}
		if (!(i & 0xffff)) /* the progress line changes every 64Ki objects */
			pca_progress_update(progress, "census", i);
		pca_objects_referents(objects, h->addr[i], &objects->infos[h->type[i]],
				      visit_referent, &b);
	}
	/* Stopped by the visit budget: the objects left have no references. */
	for (; !err && !b.err && b.record_edges && next < h->count; next++)
		if (!edge_start_set(&b, next))
			break;
	pca_log_dump_end(PCA_LOG_DUMP_PARENTS);
	if (!err)
		err = b.err;
	if (!err && b.record_edges && edge_start_set(&b, h->count))
		h->edge_start[h->count] = b.nedges;
	if (!err)
		err = b.err;
	pca_progress_clear(progress);
	double t2 = pca_now_seconds();
	/* The bitmap and segment bits stay with the heap for address lookups. */
	h->bits = b.bits;
	h->seg_bit = b.seg_bit;
	h->nsegments = b.nsegments;
	h->target = objects->interp->target;
	if (!err)
		err = index_by_address(&b);
	if (!err && b.record_edges)
		err = edges_to_ids(&b);
	free(b.edge_addr);
	/* Self-check of the address index, on demand (tests set it). */
	if (!err && pca_log_config()->check_index) {
		for (uint32_t r = 0; r < h->count && !err; r++) {
			uint32_t id;
			if ((r && h->addr[h->by_address[r - 1]] >= h->addr[h->by_address[r]]) ||
			    !pca_heap_find(h, h->addr[h->by_address[r]], &id) || id != h->by_address[r])
				err = pca_error_create(PCA_ERROR_OTHER, "internal error: address index wrong at rank %u", r);
		}
	}
	pca_log_timing("heap: collector lists %.3f s (%llu objects), closure %.3f s (%u objects), address index %.3f s\n",
		       t1 - t0, (unsigned long long)h->gc_tracked, t2 - t1, h->count, pca_now_seconds() - t2);
	address_set_deinit(&b.outside);
	if (!err && pca_log_dump_begin(PCA_LOG_DUMP_OBJECTS)) { /* debugging aid */
		for (uint32_t i = 0; i < h->count; i++)
			pca_log_dump(PCA_LOG_DUMP_OBJECTS, "%lx %s\n", (unsigned long)h->addr[i],
				     objects->infos[h->type[i]].name);
		pca_log_dump_end(PCA_LOG_DUMP_OBJECTS);
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
	if (b.visits > b.max_visits)
		pca_warnings_add(w, "the census stopped following references after %llu: the core claims more than its %llu bytes of saved memory can hold; objects and references are missing",
				 (unsigned long long)b.max_visits, (unsigned long long)(h->seg_bit[h->nsegments] * 8));
	if (b.edges_dropped)
		pca_warnings_add(w, "%llu references dropped: the core claims more than its %llu bytes of saved memory can hold (objects sharing one table?); the graph is partial",
				 (unsigned long long)b.edges_dropped, (unsigned long long)(h->seg_bit[h->nsegments] * 8));
	return NULL;
}

void pca_heap_deinit(struct pca_heap *h)
{
	free(h->addr);
	free(h->type);
	free(h->size32);
	free(h->big);
	free(h->by_address);
	free(h->bits);
	free(h->seg_bit);
	free(h->prefix);
	free(h->outside);
	free(h->edge_start);
	free(h->edges);
	memset(h, 0, sizeof(*h));
}

PCA_POPCNT_CLONES bool pca_heap_find(const struct pca_heap *h, uint64_t addr, uint32_t *ret)
{
	int64_t seg = pca_target_segment_index(h->target, addr);
	uint64_t bit = UINT64_MAX;
	if (seg >= 0) {
		uint64_t vaddr, saved;
		pca_target_segment(h->target, (size_t)seg, &vaddr, &saved);
		bit = h->seg_bit[seg] + (addr - vaddr) / 8;
		if ((addr & 7) || !(h->bits[bit / 64] & (1ull << (bit & 63))))
			return false;
	} else {
		size_t k = count_below(h->outside, h->noutside, addr);
		if (k >= h->noutside || h->outside[k] != addr)
			return false;
	}
	uint64_t rank = heap_rank(h, addr, bit);
	if (rank >= h->count)
		return false;
	*ret = h->by_address[rank];
	return true;
}

bool pca_heap_any_bit(const struct pca_heap *h, uint64_t first, uint64_t end)
{
	for (uint64_t bit = first; bit < end;) {
		uint64_t word = h->bits[bit / 64] >> (bit & 63);
		uint64_t span = 64 - (bit & 63);
		if (span > end - bit)
			span = end - bit;
		if (span < 64)
			word &= (1ull << span) - 1;
		if (word)
			return true;
		bit += span;
	}
	return false;
}

bool pca_heap_any_in(const struct pca_heap *h, uint64_t addr, uint64_t len)
{
	int64_t seg = pca_target_segment_index(h->target, addr);
	if (seg < 0 || len == 0)
		return false;
	uint64_t vaddr, saved;
	pca_target_segment(h->target, (size_t)seg, &vaddr, &saved);
	if (addr - vaddr + len > saved)
		len = saved - (addr - vaddr);
	uint64_t first = h->seg_bit[seg] + (addr - vaddr + 7) / 8;
	uint64_t end = h->seg_bit[seg] + (addr - vaddr + len + 7) / 8; /* exclusive */
	return pca_heap_any_bit(h, first, end);
}

uint64_t pca_heap_big_size(const struct pca_heap *h, uint32_t id)
{
	size_t lo = 0, hi = h->nbig;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->big[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ALWAYS found: only append marks a size as big */
	return lo < h->nbig && h->big[lo].id == id ? h->big[lo].size : PCA_HEAP_BIG_SIZE;
}

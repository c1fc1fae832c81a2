#include "heap/heap.h"

#include "base/hashmap.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/vector.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The collector keeps three generations (Modules/gcmodule.c NUM_GENERATIONS,
 * 3.6-3.13). */
enum { NUM_GENERATIONS = 3 };
/* A GC list cannot hold more objects than this (a 1 TiB heap of 32-byte
 * objects); a longer walk is a cycle in corrupt data. */
static const uint64_t max_list_length = 1ull << 35;
/* Threads of the closure at most, and the seeds below which one thread is
 * as fast (starting threads and merging their finds cost more than they
 * save on a small heap). PCA_THREADS=N overrides both. */
enum { MAX_WORKERS = PCA_PARALLEL_MAX };
static const uint32_t min_parallel_seeds = 50000;

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

/* Objects in the order one thread found them (struct of arrays, one
 * capacity). */
struct found {
	uint64_t *addr;
	uint32_t *type;   /* index into objects->infos */
	uint32_t *size32; /* as pca_heap's, with `big` by index in this list */
	struct pca_heap_big *big;
	size_t nbig, big_capacity;
	uint32_t count;
	size_t capacity;
};

/* What the threads of a census share. The closure runs on several threads
 * (workers): each follows the references of its share of the seeds (the
 * collector's objects and the frames', found first), then
 * of the objects it found itself, in order. An object joins the census
 * once: its bit in `bits` is set with an atomic OR by the worker that
 * validated it first. Validation comes before the claim, so that a
 * rejected address is offered, validated and counted the same way
 * whatever the threads' timing. Object ids are assigned afterwards by
 * address (pca_heap), so the result does not depend on the timing either. */
struct census {
	struct pca_objects *objects;
	struct pca_heap *heap;
	uint64_t *bits;   /* one bit per 8 bytes of saved memory: object starts */
	uint64_t *seg_bit;
	size_t nsegments;
	uint64_t nwords;  /* of bits */
	/* Addresses outside saved memory (rare: pages read from attached
	 * files) offered so far, valid or not. */
	pthread_mutex_t outside_lock;
	struct address_set outside;
	bool record_edges;
	bool dump_parents;
	unsigned nworkers;
	struct found seeds;
	/* Every reference is a pointer somewhere in saved memory; tables that
	 * objects share (split dicts' keys) at most double that. More is a core
	 * that points many objects at one table to claim edges it does not
	 * hold: the graph's memory stays bounded by the core's size. The same
	 * for the time spent: references offered at all (4 per word of saved
	 * memory); past it the closure stops following references. Each of
	 * nworkers workers gets its share. */
	uint64_t max_edges, max_visits;
	int stop; /* atomic: a worker of a parallel closure gave up */
	struct pca_progress *progress;
};

/* One thread of the closure, with its own caches. Cache-line aligned: a
 * worker's counters beside the next worker's fields made both threads
 * slower than one. */
struct worker {
	_Alignas(64) struct census *c;
	struct pca_objects *objects;
	struct pca_heap *heap;
	unsigned index;
	struct found found;
	uint64_t last_vaddr, last_saved, last_bit; /* cache of bit_of */
	/* bit_of's second cache: the segment last found in each 2 MiB granule
	 * of the address space, direct-mapped (references jump between the
	 * arenas of a large heap; the last segment alone mostly misses). */
	struct {
		uint64_t granule, vaddr, saved, bit;
	} granules[1024];
	struct pca_error *err; /* first allocation failure */
	uint64_t current;      /* object whose references are being offered */
	/* References kept for the graph: targets by address, in the order the
	 * sources were processed; edge_start[p] is where the p-th processed
	 * object's begin (processed + 1 entries). */
	uint64_t *edge_addr;
	uint64_t nedges;
	size_t edges_capacity;
	uint64_t *edge_start;
	size_t edge_start_capacity;
	uint64_t processed;
	uint64_t visits, edges_dropped, skipped;
};

/* bit_of past its caches: the segment of addr, searched, into its
 * granule's slot. */
static __attribute__((noinline)) uint64_t bit_of_search(struct worker *b, uint64_t addr)
{
	uint64_t granule = addr >> 21;
	size_t slot = (size_t)(granule % (sizeof(b->granules) / sizeof(b->granules[0])));
	struct pca_target *t = b->objects->interp->target;
	int64_t seg = pca_target_segment_index(t, addr);
	if (seg < 0)
		return UINT64_MAX;
	b->granules[slot].granule = granule;
	pca_target_segment(t, (size_t)seg, &b->granules[slot].vaddr, &b->granules[slot].saved);
	b->granules[slot].bit = b->c->seg_bit[seg];
	b->last_vaddr = b->granules[slot].vaddr;
	b->last_saved = b->granules[slot].saved;
	b->last_bit = b->granules[slot].bit;
	return b->last_bit + (addr - b->last_vaddr) / 8;
}

/* Bit of addr, or UINT64_MAX when addr is not in saved memory. The last
 * segment found is tried first (neighbours share segments), then the one
 * last found in addr's 2 MiB granule. Inline: it runs for every reference
 * offered, and a call cost as much as the test. */
static inline __attribute__((always_inline)) uint64_t bit_of(struct worker *b, uint64_t addr)
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

static bool bit_is_set(const uint64_t *bits, uint64_t bit)
{
	return __atomic_load_n(&bits[bit / 64], __ATOMIC_RELAXED) >> (bit & 63) & 1;
}

static bool found_append(struct worker *b, struct found *f, uint64_t addr, uint32_t type, uint64_t size)
{
	if (f->count == f->capacity) {
		/* the three columns share one capacity, doubled */
		size_t cap = f->capacity ? f->capacity * 2 : 1u << 12;
		if (cap > UINT32_MAX) {
			b->err = pca_error_create(PCA_ERROR_OTHER, "more than 2^32 objects");
			return false;
		}
		bool a = PCA_ARRAY_RESIZE(&f->addr, cap);
		bool t = PCA_ARRAY_RESIZE(&f->type, cap);
		bool s = PCA_ARRAY_RESIZE(&f->size32, cap);
		if (!a || !t || !s) {
			b->err = &pca_error_nomem;
			return false;
		}
		f->capacity = cap;
	}
	f->addr[f->count] = addr;
	f->type[f->count] = type;
	f->size32[f->count] = size < PCA_HEAP_BIG_SIZE ? (uint32_t)size : PCA_HEAP_BIG_SIZE;
	if (size >= PCA_HEAP_BIG_SIZE) {
		if (!PCA_VECTOR_GROW(&f->big, &f->big_capacity, f->nbig + 1, 16)) {
			b->err = &pca_error_nomem;
			return false;
		}
		/* indices only grow: `big` stays sorted by index */
		f->big[f->nbig++] = (struct pca_heap_big){f->count, size};
	}
	f->count++;
	return true;
}

static void found_deinit(struct found *f)
{
	free(f->addr);
	free(f->type);
	free(f->size32);
	free(f->big);
	memset(f, 0, sizeof(*f));
}

/* Examine a candidate object: a valid one joins the census once. An
 * address outside saved memory is examined the first time only. */
static bool offer(struct worker *b, uint64_t obj)
{
	if (!obj || (obj & 7) || b->err)
		return false;
	struct census *c = b->c;
	uint64_t bit = bit_of(b, obj);
	if (bit != UINT64_MAX) {
		if (bit_is_set(c->bits, bit))
			return false;
	} else {
		bool inserted;
		pthread_mutex_lock(&c->outside_lock);
		bool ok = address_set_insert(&c->outside, obj, &inserted);
		pthread_mutex_unlock(&c->outside_lock);
		if (!ok) {
			b->err = &pca_error_nomem;
			return false;
		}
		if (!inserted)
			return false;
	}
	struct pca_interp *in = b->objects->interp;
	uint64_t type_addr, size;
	struct pca_type_info *t = NULL;
	if (pca_interp_read_field(in, obj, PCA_F_OB_TYPE, &type_addr))
		t = pca_objects_type(b->objects, type_addr);
	if (!t || !pca_objects_sizeof(b->objects, obj, t, &size)) {
		b->skipped++;
		return false;
	}
	if (bit != UINT64_MAX) {
		uint64_t mask = 1ull << (bit & 63);
		if (__atomic_fetch_or(&c->bits[bit / 64], mask, __ATOMIC_RELAXED) & mask)
			return false; /* another worker validated it first */
	}
	if (c->dump_parents)
		pca_log_dump(PCA_LOG_DUMP_PARENTS, "%lx %lx\n", (unsigned long)obj,
			     (unsigned long)b->current);
	return found_append(b, &b->found, obj, (uint32_t)(t - b->objects->infos), size);
}

/* Keep a reference for the graph: the target is an object of the census
 * (its bit is set by now; one outside saved memory is checked when
 * converted). */
static void record_edge(struct worker *b, uint64_t obj)
{
	uint64_t bit = bit_of(b, obj);
	if (bit != UINT64_MAX && !bit_is_set(b->c->bits, bit))
		return;
	if (b->nedges >= b->c->max_edges) {
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
	struct worker *b = ctx;
	if (++b->visits > b->c->max_visits)
		return;
	uint64_t obj = referent & ~(uint64_t)PCA_REFERENT_FLAGS;
	if (!obj || (obj & 7))
		return;
	if (!(referent & PCA_REFERENT_GUESS)) {
		offer(b, obj);
	} else {
		uint64_t skipped = b->skipped;
		offer(b, obj);
		b->skipped = skipped; /* a guess that is no object is no problem */
	}
	/* the graph leaves out what the object reaches but does not reference */
	if (b->c->record_edges && !(referent & PCA_REFERENT_EXTRA) && !b->err)
		record_edge(b, obj);
}

/* Where the p-th processed object's references begin (grown with them). */
static bool edge_start_set(struct worker *b, uint64_t p)
{
	/* room for edge_start[p + 1], the end written after the last source */
	if (!PCA_VECTOR_GROW(&b->edge_start, &b->edge_start_capacity, (size_t)p + 2, 1u << 12)) {
		b->err = &pca_error_nomem;
		return false;
	}
	b->edge_start[p] = b->nedges;
	return true;
}

/* Follow the references of one object (the closure's step). False when
 * the worker must stop: out of memory or past its budget. */
static bool process(struct worker *b, uint64_t addr, uint32_t type)
{
	struct census *c = b->c;
	if (c->record_edges && !edge_start_set(b, b->processed))
		return false;
	b->processed++;
	b->current = addr;
	pca_objects_referents(b->objects, addr, &b->objects->infos[type], visit_referent, b);
	/* a parallel closure that drops references is run again on one thread */
	return !b->err && b->visits <= c->max_visits && !(b->edges_dropped && c->nworkers > 1);
}

static bool stopped(struct census *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_RELAXED) != 0;
}

/* The object processed a few steps from now is far from this one: start
 * loading its header while this one is worked on. */
static void prefetch_object(struct pca_target *target, uint64_t addr)
{
	const void *ahead = pca_target_view(target, addr, 16);
	if (ahead)
		__builtin_prefetch(ahead);
}

/* Worker t's seeds: the t-th of nworkers contiguous runs. Contiguous,
 * not interleaved: neighbours in the collector's lists were allocated
 * together, and two threads working on the same cache lines and bitmap
 * words were slower than one. */
static uint32_t seeds_begin(const struct census *c, unsigned t)
{
	return (uint32_t)((uint64_t)c->seeds.count * t / c->nworkers);
}

/* One worker's closure: its run of the seeds, then what it found, in
 * order (the list grows as it goes). */
static void worker_run(void *ctx, unsigned part, unsigned nparts)
{
	struct worker *b = &((struct worker *)ctx)[part];
	struct census *c = b->c;
	(void)nparts;
	struct pca_target *target = b->objects->interp->target;
	enum { PREFETCH_AHEAD = 8 };
	uint32_t step = c->nworkers, end = seeds_begin(c, b->index + 1);
	bool go_on = true;
	for (uint32_t i = seeds_begin(c, b->index); go_on && i < end; i++) {
		if (i + PREFETCH_AHEAD < end)
			prefetch_object(target, c->seeds.addr[i + PREFETCH_AHEAD]);
		go_on = process(b, c->seeds.addr[i], c->seeds.type[i]) && !stopped(c);
		if (b->index == 0 && !(b->processed & 0xffff)) /* every 64Ki objects */
			pca_progress_update(c->progress, "census", b->processed * step);
	}
	for (uint32_t k = 0; go_on && k < b->found.count; k++) {
		if (k + PREFETCH_AHEAD < b->found.count)
			prefetch_object(target, b->found.addr[k + PREFETCH_AHEAD]);
		go_on = process(b, b->found.addr[k], b->found.type[k]) && !stopped(c);
		if (b->index == 0 && !(b->processed & 0xffff))
			pca_progress_update(c->progress, "census", b->processed * step);
	}
	if (c->record_edges && !b->err)
		edge_start_set(b, b->processed);
	if (!go_on)
		__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
}

static void worker_init(struct worker *b, struct census *c, unsigned index)
{
	memset(b, 0, sizeof(*b));
	b->c = c;
	b->objects = c->objects;
	b->heap = c->heap;
	b->index = index;
}

static void worker_deinit(struct worker *b)
{
	found_deinit(&b->found);
	free(b->edge_addr);
	free(b->edge_start);
	b->edge_addr = b->edge_start = NULL;
	b->nedges = b->edges_capacity = b->edge_start_capacity = 0;
}

/* One end of the walk of a collector list. */
struct list_end {
	uint64_t node; /* the next node from this end */
	uint64_t done; /* the last node this end processed (atomic: read by the other end) */
	enum pca_field ahead, behind; /* the link followed, the link checked */
	uint64_t tracked; /* objects this end added to the census */
	bool cut;         /* stopped on a broken link */
};

/* A circular list with sentinel `head`, walked from both ends: from one
 * end the walk is a serial pointer chase, one cache or TLB miss after
 * another, while two ends are two independent chains of loads (on one
 * thread, interleaved; or one thread each). */
struct gc_list {
	uint64_t head;
	struct list_end end[2]; /* from the head's next, from its prev */
};
PCA_DEFINE_VECTOR(gc_list_vector, struct gc_list)

/* One step from one end: the object of the end's next node joins the
 * census if the node links back to the last node this end processed. False
 * when this end is through: it met the other end (the node is the last one
 * the other processed, other_done, or its object is claimed), or a broken
 * link. Each end checks the links it crosses, so a broken link stops only
 * the end that meets it: the other still gets up to it. Inline, on a copy
 * of the end in registers: the walk is the census' least parallel part. */
static inline __attribute__((always_inline)) bool list_end_step(struct worker *b, struct list_end *e,
								 uint64_t other_done, bool threads, uint64_t steps)
{
	struct pca_interp *in = b->objects->interp;
	const struct pca_layout *l = in->layout;
	uint64_t node = e->node, next, prev;
	if (node == other_done)
		return false;
	/* both links, by constant fields (inline reads) */
	if (steps > max_list_length || !node || !pca_interp_read_field(in, node, PCA_F_GC_NEXT, &next) ||
	    !pca_interp_read_field(in, node, PCA_F_GC_PREV, &prev)) {
		e->cut = true;
		return false;
	}
	prev &= ~l->gc_prev_flag_mask;
	bool forward = e->ahead == PCA_F_GC_NEXT;
	if ((forward ? prev : next) != e->done) {
		e->cut = true;
		return false;
	}
	uint64_t obj = node + l->sizes[PCA_S_GC_HEAD], bit;
	if (threads && (bit = bit_of(b, obj)) != UINT64_MAX && bit_is_set(b->c->bits, bit))
		return false; /* the other end got here first */
	e->tracked += offer(b, obj);
	e->done = node;
	e->node = forward ? next : prev;
	return true;
}

/* Add the list with sentinel `head` to be walked. */
static void add_list(struct worker *b, struct gc_list_vector *lists, uint64_t head, struct pca_warnings *w)
{
	struct pca_interp *in = b->objects->interp;
	uint64_t next, prev;
	if (!pca_interp_read_field(in, head, PCA_F_GC_NEXT, &next) ||
	    !pca_interp_read_field(in, head, PCA_F_GC_PREV, &prev)) {
		if (w) /* NULL: the census' second run */
			pca_warnings_add(w, "a collector list head at 0x%llx is not in the core",
					 (unsigned long long)head);
		b->heap->lists_cut++;
		return;
	}
	struct gc_list g = {
		.head = head,
		.end = {{.node = next, .done = head, .ahead = PCA_F_GC_NEXT, .behind = PCA_F_GC_PREV},
			{.node = prev & ~in->layout->gc_prev_flag_mask, .done = head, .ahead = PCA_F_GC_PREV,
			 .behind = PCA_F_GC_NEXT}},
	};
	if (!gc_list_vector_append(lists, &g))
		b->err = &pca_error_nomem;
}

/* Where the generations live: 3.6 the static `generations` array of
 * Modules/gcmodule.c; 3.7-3.8 _PyRuntime.gc; 3.9+ each interpreter's gc. */
static void add_lists_of_state(struct worker *b, struct gc_list_vector *lists, uint64_t generations,
			       uint64_t permanent, struct pca_warnings *w)
{
	const struct pca_layout *l = b->objects->interp->layout;
	uint64_t gen_size = l->sizes[PCA_S_GC_GENERATION];
	for (int g = 0; g < NUM_GENERATIONS; g++)
		add_list(b, lists, generations + (uint64_t)g * gen_size, w);
	if (permanent)
		add_list(b, lists, permanent, w);
}

struct list_walk {
	struct worker *workers;
	struct gc_list_vector *lists;
};

/* Part p of 2 walks every list from end p; one part walks both ends,
 * interleaved. Two threads tell each other how far they got every
 * `publish` steps only: a shared cache line written on every step cost more
 * than the second thread saved. Meanwhile an end stops at the first object
 * the other claimed. */
static void walk_lists_part(void *ctx, unsigned part, unsigned nparts)
{
	enum { publish = 256 };
	struct list_walk *lw = ctx;
	struct worker *b = &lw->workers[part];
	for (size_t i = 0; i < lw->lists->size; i++) {
		struct list_end *shared = lw->lists->data[i].end;
		if (nparts == 2) {
			struct list_end me = shared[part];
			uint64_t other_done = 0;
			for (uint64_t steps = 0; !b->err; steps++) {
				if (!(steps % publish)) {
					__atomic_store_n(&shared[part].done, me.done, __ATOMIC_RELAXED);
					other_done = __atomic_load_n(&shared[1 - part].done, __ATOMIC_RELAXED);
				}
				if (!list_end_step(b, &me, other_done, true, steps))
					break;
			}
			shared[part] = me;
			continue;
		}
		struct list_end e[2] = {shared[0], shared[1]};
		bool on[2] = {true, true};
		for (uint64_t steps = 0; (on[0] || on[1]) && !b->err; steps++) {
			if (on[0])
				on[0] = list_end_step(b, &e[0], e[1].done, false, steps);
			if (on[1])
				on[1] = list_end_step(b, &e[1], e[0].done, false, steps);
		}
		shared[0] = e[0];
		shared[1] = e[1];
	}
}

/* src's objects appended to dst. */
static bool found_take(struct worker *b, struct found *dst, struct found *src)
{
	size_t big = 0;
	for (uint32_t k = 0; k < src->count; k++) {
		uint64_t size = big < src->nbig && src->big[big].id == k ? src->big[big++].size : src->size32[k];
		if (!found_append(b, dst, src->addr[k], src->type[k], size))
			return false;
	}
	found_deinit(src);
	return true;
}

/* Walk the lists on `threads` threads (1 or 2): their objects end up in
 * workers[0]'s found list, first. */
static void walk_lists(struct census *c, struct worker *workers, struct gc_list_vector *lists, unsigned threads)
{
	unsigned n = threads >= 2 ? 2 : 1;
	if (n == 2)
		worker_init(&workers[1], c, 1);
	struct list_walk lw = {workers, lists};
	pca_parallel_run(n, walk_lists_part, &lw);
	if (n == 2 && !workers[0].err && !workers[1].err)
		found_take(&workers[0], &workers[0].found, &workers[1].found);
	if (n == 2) {
		workers[0].skipped += workers[1].skipped;
		if (workers[1].err && !workers[0].err)
			workers[0].err = workers[1].err;
		else
			pca_error_destroy(workers[1].err);
		worker_deinit(&workers[1]);
		workers[1].err = NULL;
	}
	for (size_t i = 0; i < lists->size; i++) {
		const struct list_end *e = lists->data[i].end;
		c->heap->gc_tracked += e[0].tracked + e[1].tracked;
		c->heap->lists_cut += e[0].cut || e[1].cut;
	}
}

/* The collector's state of one _gc_runtime_state at `state` (the
 * interpreter or _PyRuntime), its `generations` array at `generations`. */
static void read_gc_state(struct worker *b, uint64_t state, enum pca_field enabled, uint64_t generations)
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

/* The collector's lists, to be walked, and its state. */
static struct pca_error *find_collector_lists(struct worker *b, struct gc_list_vector *lists,
					      struct pca_warnings *w)
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
			add_lists_of_state(b, lists, interps[n] + pca_layout_offset(l, PCA_F_INTERP_GC_GENERATIONS),
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
		add_lists_of_state(b, lists, addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_GENERATIONS),
			   pca_layout_has(l, PCA_F_RUNTIME_GC_PERMANENT)
				   ? addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_PERMANENT)
				   : 0,
			   w);
		read_gc_state(b, addr, PCA_F_RUNTIME_GC_ENABLED,
			      addr + pca_layout_offset(l, PCA_F_RUNTIME_GC_GENERATIONS));
	} else if (pca_symbols_lookup(in->symbols, "generations", &addr)) {
		add_lists_of_state(b, lists, addr, 0, w);
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

/* Running frames are roots the collector's lists may not hold: 3.6-3.10
 * frame objects of fast calls are untracked while they run
 * (_PyFrame_New_NoTrack in Python/ceval.c), and 3.11+ frame objects of
 * running frames are made untracked and hang off the interpreter frame. */
static void offer_frame_object(void *ctx, uint64_t frame)
{
	struct worker *b = ctx;
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

static struct pca_error *census_init(struct census *c)
{
	struct pca_target *t = c->objects->interp->target;
	c->nsegments = pca_target_segment_count(t);
	c->seg_bit = calloc(c->nsegments + 1, sizeof(*c->seg_bit));
	if (!c->seg_bit)
		return &pca_error_nomem;
	uint64_t total = 0;
	for (size_t i = 0; i < c->nsegments; i++) {
		uint64_t vaddr, saved;
		pca_target_segment(t, i, &vaddr, &saved);
		c->seg_bit[i] = total;
		total += (saved + 7) / 8;
	}
	c->seg_bit[c->nsegments] = total;
	c->nwords = total / 64 + 1;
	c->bits = calloc(c->nwords, sizeof(*c->bits));
	if (!c->bits)
		return &pca_error_nomem;
	int rc = pthread_mutex_init(&c->outside_lock, NULL);
	if (rc != 0)
		return pca_error_create(PCA_ERROR_OS, "cannot create a lock: %s", strerror(rc));
	return NULL;
}

/* Budgets of the whole census (see struct census). */
static uint64_t census_max_edges(const struct census *c)
{
	return 2 * c->seg_bit[c->nsegments] + (1u << 20);
}

static uint64_t census_max_visits(const struct census *c)
{
	return 4 * c->seg_bit[c->nsegments] + (1u << 20);
}

/* Back to before census_run, to run it again on one thread. */
static void census_reset(struct census *c, struct worker *workers)
{
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		worker_deinit(&workers[i]);
	found_deinit(&c->seeds);
	memset(c->bits, 0, c->nwords * sizeof(*c->bits));
	address_set_deinit(&c->outside);
	memset(&c->outside, 0, sizeof(c->outside));
	c->heap->gc_tracked = 0;
	c->heap->lists_cut = 0;
	c->stop = 0;
}

/* The census: the collector's lists (on two threads when `threads` allows,
 * one per end) and the running frames, which become the seeds; then the
 * closure on `threads` threads (0: as many as pca_parallel_threads says).
 * *retry: a parallel closure gave up (out of memory, a budget, a type
 * beyond the registry's capacity), whose partial result would depend on
 * the threads' timing: run it again on one thread, whose result does not. */
static struct pca_error *census_run(struct census *c, struct worker *workers, unsigned threads,
				    struct pca_warnings *w, bool *retry, double *t_lists)
{
	struct worker *w0 = &workers[0];
	*retry = false;
	worker_init(w0, c, 0);
	c->max_edges = census_max_edges(c);
	c->max_visits = census_max_visits(c);
	struct gc_list_vector lists;
	gc_list_vector_init(&lists);
	struct pca_error *err = find_collector_lists(w0, &lists, w);
	if (!err && !w0->err)
		walk_lists(c, workers, &lists, threads ? threads : pca_parallel_threads(1, 0));
	gc_list_vector_deinit(&lists);
	/* Before any reference is followed: what Python classes' instances
	 * refer to depends on it. */
	if (!err && w && !c->objects->ol.subtype_traverse &&
	    !pca_objects_learn_subtype_traverse(c->objects, w0->found.addr, w0->found.count))
		pca_warnings_add(w, "the attributes of instances of Python classes are not followed: %s has no symbol subtype_traverse and its type objects do not show it",
				 pca_symbols_python_file(c->objects->interp->symbols));
	*t_lists = pca_now_seconds();
	if (!err)
		pca_interp_for_each_frame(c->objects->interp, offer_frame_object, w0);
	if (!err)
		err = w0->err;
	if (err)
		return err;
	c->seeds = w0->found;
	memset(&w0->found, 0, sizeof(w0->found));
	pca_objects_prepare_all(c->objects);
	unsigned n = threads ? threads : pca_parallel_threads(c->seeds.count, min_parallel_seeds);
	if (c->dump_parents)
		n = 1;
	c->nworkers = n;
	c->max_edges /= n;
	c->max_visits /= n;
	uint64_t refused = c->objects->types_refused;
	for (unsigned i = 1; i < n; i++)
		worker_init(&workers[i], c, i);
	pca_parallel_run(n, worker_run, workers);
	if (n == 1)
		return w0->err;
	bool gave_up = c->objects->types_refused != refused;
	for (unsigned i = 0; i < n; i++)
		gave_up |= workers[i].err || workers[i].visits > c->max_visits || workers[i].edges_dropped;
	if (gave_up) {
		for (unsigned i = 0; i < n; i++)
			pca_error_destroy(workers[i].err);
		*retry = true;
	}
	return NULL;
}

/* The id of the object whose bit is `bit` (set): the collector's objects
 * first, in address order, then the others. */
static inline __attribute__((always_inline)) uint32_t id_of_bit(const struct pca_heap *h, uint64_t bit)
{
	uint64_t word = bit / 64, below = (1ull << (bit & 63)) - 1, tracked = h->tracked_bits[word];
	if (tracked >> (bit & 63) & 1)
		return h->tracked_prefix[word] + (uint32_t)__builtin_popcountll(tracked & below);
	return h->untracked_base + (h->prefix[word] - h->tracked_prefix[word]) +
	       (uint32_t)__builtin_popcountll(h->bits[word] & ~tracked & below);
}

/* Index of addr in the sorted h->outside, or noutside. */
static size_t outside_index(const struct pca_heap *h, uint64_t addr)
{
	size_t i = pca_lower_bound_u64(h->outside, h->noutside, addr);
	return i < h->noutside && h->outside[i] == addr ? i : h->noutside;
}

struct outside_object {
	uint64_t addr;
	bool tracked;
};

static int outside_by_address(const void *a, const void *b)
{
	const struct outside_object *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int big_by_id(const void *a, const void *b)
{
	const struct pca_heap_big *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The address -> id index: which objects are the collector's, bits
 * counted per word, objects outside saved memory with their ids. */
static struct pca_error *index_ids(struct census *c, struct worker *w0, struct found *const *lists,
				   size_t nlists, uint32_t n)
{
	struct pca_heap *h = c->heap;
	uint64_t tracked_seeds = h->gc_tracked;
	h->tracked_bits = calloc(c->nwords, sizeof(*h->tracked_bits));
	h->prefix = malloc(c->nwords * sizeof(*h->prefix));
	h->tracked_prefix = malloc(c->nwords * sizeof(*h->tracked_prefix));
	if (!h->tracked_bits || !h->prefix || !h->tracked_prefix)
		return &pca_error_nomem;
	struct outside_object *out = NULL;
	size_t nout = 0, out_capacity = 0;
	for (size_t l = 0; l < nlists; l++) {
		const struct found *f = lists[l];
		for (uint32_t k = 0; k < f->count; k++) {
			bool tracked = l == 0 && k < tracked_seeds;
			if (!tracked && !c->outside.count)
				break;
			uint64_t bit = bit_of(w0, f->addr[k]);
			if (bit != UINT64_MAX) {
				if (tracked)
					h->tracked_bits[bit / 64] |= 1ull << (bit & 63);
				continue;
			}
			if (!PCA_VECTOR_GROW(&out, &out_capacity, nout + 1, 16)) {
				free(out);
				return &pca_error_nomem;
			}
			out[nout++] = (struct outside_object){f->addr[k], tracked};
		}
	}
	uint32_t all = 0, tracked = 0;
	for (uint64_t wd = 0; wd < c->nwords; wd++) {
		h->prefix[wd] = all;
		h->tracked_prefix[wd] = tracked;
		all += (uint32_t)__builtin_popcountll(c->bits[wd]);
		tracked += (uint32_t)__builtin_popcountll(h->tracked_bits[wd]);
	}
	pca_sort(out, nout, sizeof(*out), outside_by_address);
	h->outside = malloc((nout ? nout : 1) * sizeof(*h->outside));
	h->outside_id = malloc((nout ? nout : 1) * sizeof(*h->outside_id));
	if (!h->outside || !h->outside_id) {
		free(out);
		return &pca_error_nomem;
	}
	uint32_t tracked_out = 0;
	for (size_t i = 0; i < nout; i++)
		tracked_out += out[i].tracked;
	/* ids: [tracked in bits][tracked outside][the other bits][the other outside] */
	h->untracked_base = tracked + tracked_out;
	uint32_t next_tracked = tracked, next_other = h->untracked_base + (all - tracked);
	for (size_t i = 0; i < nout; i++) {
		h->outside[i] = out[i].addr;
		h->outside_id[i] = out[i].tracked ? next_tracked++ : next_other++;
	}
	h->noutside = nout;
	free(out);
	/* ALWAYS: every object has one bit or one outside entry, the collector's
	 * objects are distinct */
	if ((uint64_t)all + nout != n || h->untracked_base != tracked_seeds)
		return pca_error_create(PCA_ERROR_OTHER, "internal error: %u + %zu objects indexed of %u, %u of %llu tracked",
					all, nout, n, h->untracked_base, (unsigned long long)tracked_seeds);
	return NULL;
}

/* The id of the object at addr, found by bit_of's caches. */
static inline uint32_t census_id(const struct pca_heap *h, struct worker *w0, uint64_t addr)
{
	uint64_t bit = bit_of(w0, addr);
	return bit != UINT64_MAX ? id_of_bit(h, bit) : h->outside_id[outside_index(h, addr)];
}

/* The steps of assemble that touch every object or reference, each run on
 * the census' threads, each thread on its part: its run of the seeds and
 * its own finds (whose references it recorded). Every write goes to the
 * object's own id, so parts never write the same place. */
enum assemble_step { STEP_IDS, STEP_CONVERT, STEP_COPY, STEP_TYPE, STEP_SIZE };
struct assemble_part {
	struct census *c;
	struct worker *b;
	unsigned t;
	enum assemble_step step;
	uint32_t **ids;        /* by list (the seeds, then each worker's finds), by index */
	const uint32_t *remap; /* old type index -> new */
};

/* The p-th object worker t processed, by id. */
static uint32_t processed_id(const struct assemble_part *a, uint64_t p)
{
	uint32_t first = seeds_begin(a->c, a->t), share = seeds_begin(a->c, a->t + 1) - first;
	return p < share ? a->ids[0][first + p] : a->ids[1 + a->t][p - share];
}

/* Worker t's references as ids, converted in place (a uint32 id over the
 * 8-byte address it replaces; targets that are no object dropped), and
 * how many each of its sources has, at the source's id + 1. */
static void convert_edges(struct assemble_part *a)
{
	struct pca_heap *h = a->c->heap;
	struct worker *b = a->b;
	uint32_t *converted = (uint32_t *)(void *)b->edge_addr;
	uint64_t kept = 0, k = 0;
	for (uint64_t p = 0; p < b->processed; p++) {
		uint64_t end = b->edge_start[p + 1], begin = kept;
		for (; k < end; k++) {
			uint32_t id;
			if (pca_heap_find(h, b->edge_addr[k], &id))
				converted[kept++] = id;
		}
		b->edge_start[p] = begin;
		h->edge_start[processed_id(a, p) + 1] = kept - begin;
	}
	b->edge_start[b->processed] = kept;
	/* a failed shrink keeps the larger buffer */
	PCA_ARRAY_RESIZE(&converted, kept ? kept : 1);
	b->edge_addr = (uint64_t *)(void *)converted;
}

static void copy_edges(struct assemble_part *a)
{
	struct pca_heap *h = a->c->heap;
	struct worker *b = a->b;
	const uint32_t *converted = (const uint32_t *)(void *)b->edge_addr;
	for (uint64_t p = 0; p < b->processed; p++)
		memcpy(&h->edges[h->edge_start[processed_id(a, p)]], converted + b->edge_start[p],
		       (b->edge_start[p + 1] - b->edge_start[p]) * sizeof(*h->edges));
	free(b->edge_addr);
	free(b->edge_start);
	b->edge_addr = b->edge_start = NULL;
}

PCA_POPCNT_CLONES static void assemble_part_run(void *ctx, unsigned part, unsigned nparts)
{
	struct assemble_part *a = &((struct assemble_part *)ctx)[part];
	(void)nparts;
	struct census *c = a->c;
	struct pca_heap *h = c->heap;
	const struct found *lists[2] = {&c->seeds, &a->b->found};
	uint32_t *ids[2] = {a->ids[0], a->ids[1 + a->t]};
	uint32_t first[2] = {seeds_begin(c, a->t), 0}, end[2] = {seeds_begin(c, a->t + 1), a->b->found.count};
	if (a->step == STEP_CONVERT) {
		convert_edges(a);
		return;
	}
	if (a->step == STEP_COPY) {
		copy_edges(a);
		return;
	}
	for (int r = 0; r < 2; r++) {
		const struct found *f = lists[r];
		for (uint32_t k = first[r]; k < end[r]; k++) {
			switch (a->step) {
			case STEP_IDS:
				ids[r][k] = census_id(h, a->b, f->addr[k]);
				break;
			case STEP_TYPE:
				h->type[ids[r][k]] = a->remap[f->type[k]];
				break;
			case STEP_SIZE:
				h->size32[ids[r][k]] = f->size32[k];
				break;
			default:
				break;
			}
		}
	}
}

static inline __attribute__((always_inline)) void set_address(void *ctx, uint64_t addr, uint64_t bit)
{
	struct pca_heap *h = ctx;
	h->addr[id_of_bit(h, bit)] = addr;
}

/* h->addr[id] for the objects whose bits are in part's share of the
 * bitmap: ids follow addresses within each group, so the writes are two
 * ascending runs. */
PCA_POPCNT_CLONES static void addresses_part(void *ctx, unsigned part, unsigned nparts)
{
	pca_heap_for_each_in_share(ctx, part, nparts, set_address, ctx);
}

static void assemble_step_run(struct assemble_part *parts, unsigned n, enum assemble_step step)
{
	for (unsigned t = 0; t < n; t++)
		parts[t].step = step;
	pca_parallel_run(n, assemble_part_run, parts);
}

/* The census' finds as struct pca_heap, by id: the collector's objects
 * first (ids below gc_tracked, which refgraph.c's collector verdict
 * needs), then the others, each group in address order. Ids so depend on
 * the core alone, not on the order in which threads found the objects;
 * and address -> id is a count of bits, with no table. The lists' columns
 * move one at a time to keep the peak low. */
static struct pca_error *assemble(struct census *c, struct worker *workers)
{
	struct pca_heap *h = c->heap;
	unsigned nw = c->nworkers;
	struct found *lists[1 + MAX_WORKERS];
	size_t nlists = 0;
	uint64_t total = 0;
	lists[nlists++] = &c->seeds;
	for (unsigned i = 0; i < nw; i++)
		lists[nlists++] = &workers[i].found;
	for (size_t l = 0; l < nlists; l++)
		total += lists[l]->count;
	if (total > UINT32_MAX)
		return pca_error_create(PCA_ERROR_OTHER, "more than 2^32 objects");
	uint32_t n = (uint32_t)total;
	/* the lists grew by doubling: their unused tails go before the index
	 * takes its memory (a failed shrink keeps the larger block; nothing is
	 * appended any more) */
	for (size_t l = 0; l < nlists; l++) {
		struct found *f = lists[l];
		size_t cap = f->count ? f->count : 1;
		PCA_ARRAY_RESIZE(&f->addr, cap);
		PCA_ARRAY_RESIZE(&f->type, cap);
		PCA_ARRAY_RESIZE(&f->size32, cap);
		f->capacity = f->count;
	}
	struct pca_error *err = index_ids(c, &workers[0], lists, nlists, n);
	uint32_t *remap = NULL, *ids[1 + MAX_WORKERS] = {0};
	if (!err)
		err = pca_objects_sort_types(c->objects, &remap);
	for (size_t l = 0; l < nlists && !err; l++) {
		ids[l] = malloc((lists[l]->count ? lists[l]->count : 1) * sizeof(*ids[l]));
		if (!ids[l])
			err = &pca_error_nomem;
	}
	struct assemble_part parts[MAX_WORKERS];
	for (unsigned t = 0; t < nw; t++)
		parts[t] = (struct assemble_part){.c = c, .b = &workers[t], .t = t, .ids = ids, .remap = remap};
	h->count = n;
	if (!err)
		assemble_step_run(parts, nw, STEP_IDS);
	if (!err && c->record_edges) {
		h->edge_start = calloc((size_t)n + 1, sizeof(*h->edge_start));
		err = h->edge_start ? NULL : &pca_error_nomem;
		if (!err)
			assemble_step_run(parts, nw, STEP_CONVERT);
		for (uint32_t v = 0; !err && v < n; v++)
			h->edge_start[v + 1] += h->edge_start[v];
		if (!err) {
			h->nedges = h->edge_start[n];
			h->edges = malloc((h->nedges ? h->nedges : 1) * sizeof(*h->edges));
			err = h->edges ? NULL : &pca_error_nomem;
		}
		if (!err)
			assemble_step_run(parts, nw, STEP_COPY);
	}
	/* Addresses come from the bitmaps: the lists' go first, and the
	 * column is written in order, not scattered. */
	for (size_t l = 0; l < nlists && !err; l++) {
		free(lists[l]->addr);
		lists[l]->addr = NULL;
	}
	if (!err) {
		h->addr = malloc(((size_t)n ? n : 1) * sizeof(*h->addr));
		err = h->addr ? NULL : &pca_error_nomem;
		if (!err)
			pca_parallel_run(nw, addresses_part, h);
		for (size_t k = 0; !err && k < h->noutside; k++)
			h->addr[h->outside_id[k]] = h->outside[k];
	}
	if (!err) {
		h->type = malloc(((size_t)n ? n : 1) * sizeof(*h->type));
		err = h->type ? NULL : &pca_error_nomem;
		if (!err)
			assemble_step_run(parts, nw, STEP_TYPE);
		for (size_t l = 0; l < nlists && !err; l++) {
			free(lists[l]->type);
			lists[l]->type = NULL;
		}
	}
	if (!err) {
		h->size32 = malloc(((size_t)n ? n : 1) * sizeof(*h->size32));
		err = h->size32 ? NULL : &pca_error_nomem;
		if (!err)
			assemble_step_run(parts, nw, STEP_SIZE);
		for (size_t l = 0; l < nlists && !err; l++) {
			const struct found *f = lists[l];
			for (size_t i = 0; i < f->nbig && !err; i++) {
				if (!PCA_VECTOR_GROW(&h->big, &h->big_capacity, h->nbig + 1, 16))
					err = &pca_error_nomem;
				else
					h->big[h->nbig++] = (struct pca_heap_big){ids[l][f->big[i].id], f->big[i].size};
			}
		}
		pca_sort(h->big, h->nbig, sizeof(*h->big), big_by_id);
	}
	for (size_t l = 0; l < nlists; l++)
		free(ids[l]);
	free(remap);
	return err;
}

struct pca_error *pca_heap_build(struct pca_objects *objects, struct pca_warnings *w,
				 struct pca_progress *progress, unsigned flags, struct pca_heap *ret)
{
	struct pca_heap *h = ret;
	memset(h, 0, sizeof(*h));
	h->gc.enabled = -1;
	struct census c = {.objects = objects, .heap = h, .record_edges = flags & PCA_HEAP_EDGES,
			   .progress = progress};
	struct worker *workers = aligned_alloc(_Alignof(struct worker), MAX_WORKERS * sizeof(*workers));
	if (workers)
		memset(workers, 0, MAX_WORKERS * sizeof(*workers));
	struct pca_error *err = workers ? census_init(&c) : &pca_error_nomem;
	if (err) {
		free(workers);
		free(c.seg_bit);
		free(c.bits);
		return err;
	}
	c.dump_parents = pca_log_dump_begin(PCA_LOG_DUMP_PARENTS);
	double t0 = pca_now_seconds(), t1;
	bool retry;
	err = census_run(&c, workers, 0, w, &retry, &t1);
	unsigned threads = c.nworkers;
	if (!err && retry) {
		census_reset(&c, workers);
		err = census_run(&c, workers, 1, NULL, &retry, &t1);
	}
	pca_log_dump_end(PCA_LOG_DUMP_PARENTS);
	pca_progress_clear(progress);
	double t2 = pca_now_seconds();
	/* The bitmap and segment bits stay with the heap for address lookups. */
	h->bits = c.bits;
	h->seg_bit = c.seg_bit;
	h->nsegments = c.nsegments;
	h->target = objects->interp->target;
	if (!err)
		err = assemble(&c, workers);
	uint64_t visits_over = 0, edges_dropped = 0;
	for (unsigned i = 0; i < c.nworkers && c.nworkers > 1; i++)
		pca_log_timing("  thread %u: %llu objects followed, %u found\n", i,
			       (unsigned long long)workers[i].processed, workers[i].found.count);
	for (unsigned i = 0; i < c.nworkers; i++) {
		h->skipped += workers[i].skipped;
		edges_dropped += workers[i].edges_dropped;
		if (workers[i].visits > c.max_visits)
			visits_over++;
	}
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		worker_deinit(&workers[i]);
	free(workers);
	found_deinit(&c.seeds);
	address_set_deinit(&c.outside);
	pthread_mutex_destroy(&c.outside_lock);
	/* Self-check of the address index, on demand (tests set it): every
	 * object found at its address, each group of ids in address order. */
	if (!err && pca_log_config()->check_index) {
		uint32_t tracked_out = 0;
		for (size_t k = 0; k < h->noutside; k++)
			tracked_out += h->outside_id[k] < h->untracked_base;
		uint32_t group_end[4] = {h->untracked_base - tracked_out, h->untracked_base,
					 h->count - ((uint32_t)h->noutside - tracked_out), h->count};
		for (uint32_t id = 0, g = 0; id < h->count && !err; id++) {
			uint32_t found;
			while (g < 3 && id >= group_end[g])
				g++;
			bool ordered = id == 0 || (g && id == group_end[g - 1]) || h->addr[id - 1] < h->addr[id];
			if (!ordered || !pca_heap_find(h, h->addr[id], &found) || found != id)
				err = pca_error_create(PCA_ERROR_OTHER, "internal error: address index wrong at id %u", id);
		}
	}
	pca_log_timing("heap: collector lists %.3f s (%llu objects), closure %.3f s (%u objects, %u threads), address index %.3f s\n",
		       t1 - t0, (unsigned long long)h->gc_tracked, t2 - t1, h->count, threads,
		       pca_now_seconds() - t2);
	if (threads != c.nworkers)
		pca_log_timing("heap: the parallel closure gave up (a budget or memory): run again on one thread\n");
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
	if (visits_over)
		pca_warnings_add(w, "the census stopped following references after %llu: the core claims more than its %llu bytes of saved memory can hold; objects and references are missing",
				 (unsigned long long)c.max_visits, (unsigned long long)(h->seg_bit[h->nsegments] * 8));
	if (edges_dropped)
		pca_warnings_add(w, "%llu references dropped: the core claims more than its %llu bytes of saved memory can hold (objects sharing one table?); the graph is partial",
				 (unsigned long long)edges_dropped, (unsigned long long)(h->seg_bit[h->nsegments] * 8));
	return NULL;
}

void pca_heap_deinit(struct pca_heap *h)
{
	free(h->addr);
	free(h->type);
	free(h->size32);
	free(h->big);
	free(h->bits);
	free(h->tracked_bits);
	free(h->seg_bit);
	free(h->prefix);
	free(h->tracked_prefix);
	free(h->outside);
	free(h->outside_id);
	free(h->edge_start);
	free(h->edges);
	memset(h, 0, sizeof(*h));
}

PCA_POPCNT_CLONES bool pca_heap_find(const struct pca_heap *h, uint64_t addr, uint32_t *ret)
{
	int64_t seg = pca_target_segment_index(h->target, addr);
	if (seg < 0) {
		size_t k = outside_index(h, addr);
		if (k >= h->noutside)
			return false;
		*ret = h->outside_id[k];
		return true;
	}
	uint64_t vaddr, saved;
	pca_target_segment(h->target, (size_t)seg, &vaddr, &saved);
	uint64_t bit = h->seg_bit[seg] + (addr - vaddr) / 8;
	if ((addr & 7) || !(h->bits[bit / 64] & (1ull << (bit & 63))))
		return false;
	*ret = id_of_bit(h, bit);
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

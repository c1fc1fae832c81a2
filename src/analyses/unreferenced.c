#include "analyses/unreferenced.h"

#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/vector.h"
#include "objects/kinds.h"

/* Include/object.h: Py_TPFLAGS_HAVE_GC. */
static const uint64_t tpflags_have_gc = 1u << 14;
/* A reference count this large is a pointer, not a count (3.12+ immortal
 * counts are below 2^32). */
static const uint64_t max_refcnt = 1ull << 40;
/* Below these, one thread is as fast as several. */
static const uint64_t min_parallel_objects = 200000, min_parallel_pools = 1024;

/* An unreferenced object found in a block; holder -1 until something
 * explains it. */
struct candidate {
	uint64_t addr, size;
	uint32_t type;    /* index into objects->infos */
	int32_t holder;   /* index into the holder table, -1: none */
	bool referred;    /* another candidate refers to it */
};
PCA_DEFINE_VECTOR(candidate_vector, struct candidate)
PCA_DEFINE_VECTOR(holder_vector, struct pca_unreferenced_holder)
PCA_DEFINE_VECTOR(index_vector, uint32_t)
struct block {
	uint64_t addr;
	uint32_t size;
};
PCA_DEFINE_VECTOR(block_vector, struct block)
static inline size_t candidate_hash(uint64_t addr) { return pca_hash_u64(addr >> 3, 17); }
/* address -> index + 1 into the candidates (0 is never an object address) */
PCA_DEFINE_HASH_MAP(candidate_map, uint64_t, uint32_t, candidate_hash, 0)

struct scan {
	struct pca_objects *objects;
	const struct pca_heap *heap;
	uint64_t checked;
	size_t capacity; /* types beyond this index are not counted */
	struct candidate_vector found;
	bool nomem;
	/* the segment of the last block (blocks come pool by pool) */
	uint64_t seg_vaddr, seg_saved, seg_bit;
	/* On a thread, with the registry frozen: the blocks during whose
	 * check a type was left out (by this thread or, rarely, another: a
	 * block checked again for nothing), to be checked again, thawed. */
	bool watch;
	struct block_vector left_out;
};

/* pca_heap_any_in for a block, the segment kept from the previous block's:
 * one look at the heap's bitmap, without a segment search. */
static bool any_object_in(struct scan *s, uint64_t addr, uint64_t len)
{
	const struct pca_heap *h = s->heap;
	if (addr - s->seg_vaddr >= s->seg_saved || len > s->seg_saved - (addr - s->seg_vaddr)) {
		int64_t seg = pca_target_segment_index(h->target, addr);
		if (seg < 0)
			return pca_heap_any_in(h, addr, len);
		pca_target_segment(h->target, (size_t)seg, &s->seg_vaddr, &s->seg_saved);
		s->seg_bit = h->seg_bit[seg];
		if (len > s->seg_saved - (addr - s->seg_vaddr))
			return pca_heap_any_in(h, addr, len);
	}
	uint64_t first = s->seg_bit + (addr - s->seg_vaddr + 7) / 8;
	uint64_t end = s->seg_bit + (addr - s->seg_vaddr + len + 7) / 8; /* exclusive */
	return pca_heap_any_bit(h, first, end);
}

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

/* Whether an object of type t at addr can be what the block holds: its
 * fixed part must fit, and so must its size when the variable part is inline
 * (itemsize != 0: tuple, int, bytes, struct sequences; str). sys.getsizeof
 * of a GC object counts the GC head and pre-header, which start the block.
 * Other kinds' sizes may count separate buffers (a list's items, a dict's
 * keys). A stale or random word that passes the type test fails this (a
 * struct sequence whose "ob_size" was a pointer claimed 2.7 GiB). */
static bool fits_block(const struct scan *s, uint64_t block, uint32_t block_size, uint64_t addr,
		       const struct pca_type_info *t, uint64_t size)
{
	if (addr - block + t->basicsize > block_size)
		return false;
	if (t->itemsize || t->kind == PCA_KIND_STR)
		return size <= block_size;
	(void)s;
	return true;
}

/* The candidate a block holds, if any. */
static bool block_candidate(struct scan *s, uint64_t block, uint32_t block_size, struct candidate *ret)
{
	uint64_t addr, size;
	struct pca_type_info *t;
	uint32_t id;
	/* Most blocks hold an object of the census: one look at the bitmap of
	 * object starts, without touching the block. */
	if (any_object_in(s, block, block_size))
		return false;
	if (!block_object(s, block, block_size, &addr, &t) || pca_heap_find(s->heap, addr, &id))
		return false;
	if (!pca_objects_sizeof(s->objects, addr, t, &size) || !fits_block(s, block, block_size, addr, t, size))
		return false;
	size_t idx = (size_t)(t - s->objects->infos);
	if (idx >= s->capacity)
		return false;
	*ret = (struct candidate){.addr = addr, .size = size, .type = (uint32_t)idx, .holder = -1};
	return true;
}

static bool check_block(void *ctx, uint64_t block, uint32_t block_size)
{
	struct scan *s = ctx;
	uint64_t *left_out = &s->objects->types_frozen_out;
	uint64_t before = s->watch ? __atomic_load_n(left_out, __ATOMIC_RELAXED) : 0;
	struct candidate c;
	bool found = block_candidate(s, block, block_size, &c);
	if (s->watch && __atomic_load_n(left_out, __ATOMIC_RELAXED) != before) {
		struct block b = {block, block_size};
		s->nomem |= !block_vector_append(&s->left_out, &b);
		return !s->nomem;
	}
	s->checked++;
	if (found && !candidate_vector_append(&s->found, &c)) {
		s->nomem = true;
		return false;
	}
	return true;
}

/* The blocks of the pools from first to end (a share of the work). */
struct scan_part {
	struct scan s;
	const struct pca_arenas *arenas;
	size_t first, end;
	struct pca_error *err;
};

static void scan_part_run(void *ctx, unsigned part, unsigned nparts)
{
	struct scan_part *p = &((struct scan_part *)ctx)[part];
	(void)nparts;
	p->err = pca_arenas_for_each_used_block_in(p->s.objects->interp, p->arenas, p->first, p->end,
						  check_block, &p->s, NULL);
	if (!p->err && p->s.nomem)
		p->err = &pca_error_nomem;
}

/* Check every used block: on threads, each a run of pools, the candidates
 * joined in pool order (as one thread finds them). A type not registered
 * yet would get its number in the order of the threads' timing: the
 * registry is frozen meanwhile, and the blocks whose check left a type out
 * are checked again afterwards, in address order, thawed. A block whose
 * check left nothing out found what one thread would have found: a type
 * that one thread would have registered before (at a lower block) is one
 * such a block would have left out. Candidates keep their type as an index
 * into objects->infos (4 bytes). */
static struct pca_error *scan_blocks(struct pca_objects *objects,
				     const struct pca_arenas *arenas, struct scan *s)
{
	unsigned n = pca_parallel_threads(arenas->npools, min_parallel_pools);
	if (n <= 1) {
		struct pca_error *err = pca_arenas_for_each_used_block(objects->interp, arenas, check_block, s, NULL);
		return err ? err : s->nomem ? &pca_error_nomem : NULL;
	}
	struct scan_part parts[PCA_PARALLEL_MAX];
	for (unsigned i = 0; i < n; i++) {
		parts[i] = (struct scan_part){.s = *s, .arenas = arenas, .first = arenas->npools * i / n,
					      .end = arenas->npools * (i + 1) / n};
		parts[i].s.watch = true;
		candidate_vector_init(&parts[i].s.found);
		block_vector_init(&parts[i].s.left_out);
	}
	pca_objects_freeze_registry(objects, true);
	pca_parallel_run(n, scan_part_run, parts);
	pca_objects_freeze_registry(objects, false);
	struct pca_error *err = NULL;
	struct scan again = *s; /* the blocks checked again, thawed */
	candidate_vector_init(&again.found);
	for (unsigned i = 0; i < n; i++) {
		if (!err) {
			err = parts[i].err;
			parts[i].err = NULL;
			s->checked += parts[i].s.checked;
			for (size_t k = 0; !err && k < parts[i].s.found.size; k++)
				if (!candidate_vector_append(&s->found, &parts[i].s.found.data[k]))
					err = &pca_error_nomem;
			for (size_t k = 0; !err && k < parts[i].s.left_out.size; k++)
				if (!check_block(&again, parts[i].s.left_out.data[k].addr, parts[i].s.left_out.data[k].size))
					err = &pca_error_nomem;
		}
		pca_error_destroy(parts[i].err);
		candidate_vector_deinit(&parts[i].s.found);
		block_vector_deinit(&parts[i].s.left_out);
	}
	s->checked += again.checked;
	if (!err && again.found.size) {
		pca_log_timing("unreferenced: %zu candidates from blocks checked again (types new to the census)\n",
			       again.found.size);
		/* both in address order: merged */
		struct candidate_vector merged;
		candidate_vector_init(&merged);
		size_t i = 0, j = 0;
		while (!err && (i < s->found.size || j < again.found.size)) {
			bool first = j == again.found.size ||
				     (i < s->found.size && s->found.data[i].addr < again.found.data[j].addr);
			if (!candidate_vector_append(&merged, first ? &s->found.data[i++] : &again.found.data[j++]))
				err = &pca_error_nomem;
		}
		candidate_vector_deinit(&s->found);
		s->found = merged;
	}
	candidate_vector_deinit(&again.found);
	return err;
}

/* Explaining the candidates: which words of the core the interpreter holds
 * point at them. */
struct explain {
	struct pca_objects *objects;
	struct candidate_vector *c;
	struct candidate_map map;
	struct holder_vector holders;
	struct index_vector work;
	int32_t holder; /* the one being assigned; -2: pending_*, resolved at the first claim */
	enum pca_holder_kind pending_kind;
	const char *pending_name;
	bool nomem;
};

static int32_t holder_of(struct explain *e, enum pca_holder_kind kind, const char *name)
{
	for (size_t i = 0; i < e->holders.size; i++)
		if (e->holders.data[i].kind == kind && strcmp(e->holders.data[i].name, name) == 0)
			return (int32_t)i;
	struct pca_unreferenced_holder h = {.kind = kind, .name = name};
	if (!holder_vector_append(&e->holders, &h)) {
		e->nomem = true;
		return -1;
	}
	return (int32_t)(e->holders.size - 1);
}

static struct candidate *candidate_at(const struct explain *e, uint64_t addr)
{
	const uint32_t *i = addr && !(addr & 7) ? candidate_map_search(&e->map, addr) : NULL;
	return i ? &e->c->data[*i - 1] : NULL;
}

static void claim(struct explain *e, uint64_t word)
{
	struct candidate *c = candidate_at(e, word);
	if (!c || c->holder >= 0)
		return;
	if (e->holder == -2)
		e->holder = holder_of(e, e->pending_kind, e->pending_name);
	if (e->holder < 0)
		return;
	c->holder = e->holder;
	uint32_t idx = (uint32_t)(c - e->c->data);
	if (!index_vector_append(&e->work, &idx))
		e->nomem = true;
}

/* Every aligned word of [addr, addr + len) that points at a candidate.
 * Read in place (pca_target_view) when a chunk lies in one segment; a copy
 * otherwise (a chunk across adjacent segments or in an attached file), and
 * a chunk that is not all saved is skipped either way. */
static void scan_words(struct explain *e, uint64_t addr, uint64_t len)
{
	struct pca_target *t = e->objects->interp->target;
	uint64_t buf[512];
	for (uint64_t off = 0; off < len; off += sizeof(buf)) {
		uint64_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		const void *p = pca_target_view(t, addr + off, (size_t)n);
		if (!p) {
			if (!pca_target_try_read(t, addr + off, buf, (size_t)n))
				continue;
			p = buf;
		}
		for (uint64_t k = 0; k < n / 8; k++) {
			uint64_t w;
			memcpy(&w, (const uint8_t *)p + k * 8, 8);
			if (w && !(w & 7))
				claim(e, w);
		}
	}
}

static void visit_claim(void *ctx, uint64_t referent)
{
	claim(ctx, referent & ~(uint64_t)PCA_REFERENT_FLAGS);
}

/* What a claimed candidate refers to is held by the same holder. */
static void propagate(struct explain *e)
{
	while (e->work.size && !e->nomem) {
		struct candidate *c = &e->c->data[*index_vector_pop(&e->work)];
		e->holder = c->holder;
		pca_objects_referents(e->objects, c->addr, &e->objects->infos[c->type], visit_claim, e);
	}
}

static void visit_mark(void *ctx, uint64_t referent)
{
	struct candidate *c = candidate_at(ctx, referent & ~(uint64_t)PCA_REFERENT_FLAGS);
	if (c)
		c->referred = true;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* A static area larger than this is not data of a module (bounds the scan). */
static const uint64_t max_static_scan = 64ull << 20;
/* nor a module state larger than this */
static const uint64_t max_state_scan = 1ull << 20;
/* Fixed parts of census objects are scanned up to this many bytes. */
static const uint64_t max_field_scan = 4096;

/* The interpreter's file and its extension modules: other libraries (libc,
 * libm) hold no Python object, and a stale word there would pass a leak off
 * as held. */
static bool is_python_file(const char *path)
{
	const char *base = basename_of(path);
	return strstr(base, "python") || strstr(path, "lib-dynload") || strstr(base, ".cpython-") ||
	       strstr(base, ".abi3.");
}

static void holder_pending(struct explain *e, enum pca_holder_kind kind, const char *name)
{
	e->holder = -2;
	e->pending_kind = kind;
	e->pending_name = name;
}

/* str's basicsize runs into its inline characters, and variable objects
 * (tuple, int, bytes) hold no hidden pointers; type objects (itemsize:
 * their PyMemberDefs) do. */
static bool scans_fields(const struct pca_type_info *t)
{
	return t->kind != PCA_KIND_STR && (!t->itemsize || t->kind == PCA_KIND_TYPE);
}

static uint64_t field_scan_bytes(const struct pca_type_info *t)
{
	return t->basicsize < max_field_scan ? t->basicsize : max_field_scan;
}

/* Candidates at a glance, before the map: their address range and a
 * 2^16-bit filter of their addresses. */
struct glance {
	uint64_t lo, hi;
	uint64_t bits[1024];
};

static inline uint32_t glance_bit(uint64_t addr)
{
	return (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> 48);
}

static void glance_init(struct glance *g, const struct candidate_vector *c)
{
	memset(g, 0, sizeof(*g));
	g->lo = UINT64_MAX;
	for (size_t i = 0; i < c->size; i++) {
		uint64_t a = c->data[i].addr;
		g->lo = a < g->lo ? a : g->lo;
		g->hi = a > g->hi ? a : g->hi;
		g->bits[glance_bit(a) / 64] |= 1ull << (glance_bit(a) & 63);
	}
}

/* Whether one of the words at p points at a candidate. */
static bool words_hit(const struct explain *e, const struct glance *g, const uint8_t *p, uint64_t nwords)
{
	for (uint64_t k = 0; k < nwords; k++) {
		uint64_t w;
		memcpy(&w, p + k * 8, 8);
		if (w - g->lo > g->hi - g->lo || (w & 7))
			continue;
		uint32_t b = glance_bit(w);
		if ((g->bits[b / 64] >> (b & 63)) & 1 && candidate_at(e, w))
			return true;
	}
	return false;
}

/* Set hit[id] for every census object whose scanned fields (as step 3 of
 * explain scans them) hold a word that points at a candidate, and for every
 * module (whose state step 2 scans). Reads the objects in address order,
 * in place, from the heap's bitmap of object starts; the type from the
 * object's own ob_type, as the census did. Whatever cannot be decided so
 * (an object across segments, one outside saved memory) is marked: step 3
 * scans it the usual way. Marking more than needed changes nothing but
 * time. On threads, each a share of the bitmap; hit[] words are shared
 * (ids follow addresses), hence the atomic OR. */
struct marking {
	struct explain *e;
	const struct pca_heap *heap;
	const struct glance *g;
	uint64_t *hit;
	uint64_t type_off; /* of ob_type */
};

static void mark_id(const struct pca_heap *heap, uint64_t addr, uint64_t *hit)
{
	uint32_t id;
	if (pca_heap_find(heap, addr, &id))
		__atomic_fetch_or(&hit[id / 64], 1ull << (id & 63), __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void mark_object(void *ctx, uint64_t addr, uint64_t bit)
{
	const struct marking *m = ctx;
	const struct pca_heap *heap = m->heap;
	struct pca_objects *o = m->e->objects;
	struct pca_target *t = o->interp->target;
	uint64_t type_off = m->type_off;
	(void)bit;
	const uint8_t *p = pca_target_view(t, addr, type_off + 8);
	if (!p) {
		mark_id(heap, addr, m->hit);
		return;
	}
	uint64_t type_addr;
	memcpy(&type_addr, p + type_off, 8);
	const struct pca_type_info *ti = pca_objects_type(o, type_addr);
	if (!ti || ti->kind == PCA_KIND_MODULE) {
		mark_id(heap, addr, m->hit);
		return;
	}
	uint64_t len = scans_fields(ti) ? field_scan_bytes(ti) : 0;
	if (len < 8)
		return;
	p = pca_target_view(t, addr, (size_t)len);
	if (!p || words_hit(m->e, m->g, p, len / 8))
		mark_id(heap, addr, m->hit);
}

static void mark_part(void *ctx, unsigned part, unsigned nparts)
{
	const struct marking *m = ctx;
	pca_heap_for_each_in_share(m->heap, part, nparts, mark_object, ctx);
}

static void mark_census_hits(struct explain *e, const struct pca_heap *heap, uint64_t *hit)
{
	struct glance *g = malloc(sizeof(*g));
	if (!g) {
		e->nomem = true;
		return;
	}
	glance_init(g, e->c);
	struct marking m = {e, heap, g, hit, pca_layout_offset(e->objects->interp->layout, PCA_F_OB_TYPE)};
	/* frozen: a census object's type is registered (a lookup that fails
	 * only marks the object) */
	pca_objects_freeze_registry(e->objects, true);
	pca_parallel_run(pca_parallel_threads(heap->count, min_parallel_objects), mark_part, &m);
	pca_objects_freeze_registry(e->objects, false);
	/* outside saved memory (pages of attached files): few */
	for (size_t k = 0; k < heap->noutside; k++)
		mark_id(heap, heap->outside[k], hit);
	free(g);
}

static void explain(struct explain *e, const struct pca_heap *heap)
{
	struct pca_objects *o = e->objects;
	/* Nothing to explain: nothing below would claim anything. */
	if (!e->c->size)
		return;
	/* 1. The interpreter's static data and that of the extension modules:
	 * every saved file mapping, and the anonymous one right after a file's
	 * last (its .bss). Only saved memory is read; text is not in a core. */
	size_t nmaps = pca_target_mapping_count(o->interp->target);
	const struct pca_target_mapping *maps = pca_target_mappings(o->interp->target);
	for (size_t i = 0; i < nmaps && !e->nomem; i++) {
		if (!maps[i].path || maps[i].end - maps[i].start > max_static_scan || !is_python_file(maps[i].path))
			continue;
		holder_pending(e, PCA_HOLDER_STATIC, basename_of(maps[i].path));
		scan_words(e, maps[i].start, maps[i].end - maps[i].start);
		bool last = i + 1 == nmaps || !maps[i + 1].path || strcmp(maps[i + 1].path, maps[i].path) != 0;
		int64_t seg = last ? pca_target_segment_index(o->interp->target, maps[i].end) : -1;
		if (seg >= 0) {
			uint64_t vaddr, saved;
			pca_target_segment(o->interp->target, (size_t)seg, &vaddr, &saved);
			bool is_file = i + 1 < nmaps && maps[i + 1].start <= vaddr;
			if (vaddr == maps[i].end && !is_file && saved <= max_static_scan)
				scan_words(e, vaddr, saved);
		}
	}
	/* The main interpreter's state (3.8-3.10 keep the small ints there,
	 * allocated by pymalloc). */
	uint64_t is = o->interp->first_interp, is_size = o->interp->layout->sizes[PCA_S_INTERP];
	if (is && is_size && is_size <= max_static_scan) {
		holder_pending(e, PCA_HOLDER_STATIC, "the interpreter state");
		scan_words(e, is, is_size);
	}
	propagate(e);
	/* 2. Module states (PyModuleDef.m_size bytes at md_state) and 3. the
	 * fixed part of every census object: fields the collector does not
	 * visit (a heap type's __slots__, name and qualname). In id order, as
	 * the first claim decides a candidate's holder; but only the objects
	 * that mark_census_hits found pointing at a candidate (and the
	 * modules): the others claim nothing here. */
	uint64_t *hit = calloc((size_t)heap->count / 64 + 1, sizeof(*hit));
	if (!hit) {
		e->nomem = true;
		return;
	}
	mark_census_hits(e, heap, hit);
	for (uint32_t w = 0; w <= heap->count / 64 && !e->nomem; w++) {
		for (uint64_t bits = hit[w]; bits && !e->nomem; bits &= bits - 1) {
			uint32_t v = w * 64 + (uint32_t)__builtin_ctzll(bits);
			const struct pca_type_info *t = &o->infos[heap->type[v]];
			uint64_t def, state, size;
			if (t->kind == PCA_KIND_MODULE && pca_rd(o, heap->addr[v], PCA_F_MODULE_DEF, &def) && def &&
			    pca_rd(o, heap->addr[v], PCA_F_MODULE_STATE, &state) && state &&
			    pca_rd(o, def, PCA_F_MODULEDEF_SIZE, &size) && size > 0 && size <= max_state_scan) {
				holder_pending(e, PCA_HOLDER_MODULE_STATE, "extension modules");
				scan_words(e, state, size);
			}
			if (scans_fields(t)) {
				holder_pending(e, PCA_HOLDER_FIELD, t->name);
				scan_words(e, heap->addr[v], field_scan_bytes(t));
			}
			propagate(e);
		}
	}
	free(hit);
	/* 4. Of the rest, which another candidate refers to. */
	for (size_t i = 0; i < e->c->size && !e->nomem; i++)
		pca_objects_referents(o, e->c->data[i].addr, &o->infos[e->c->data[i].type], visit_mark, e);
}

static int by_size_desc(const void *a, const void *b)
{
	const struct pca_unreferenced_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int holder_by_size_desc(const void *a, const void *b)
{
	const struct pca_unreferenced_holder *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

const char *pca_holder_kind_name(enum pca_holder_kind kind)
{
	static const char *const names[PCA_HOLDER_KIND_COUNT] = {
		[PCA_HOLDER_FIELD] = "field",
		[PCA_HOLDER_STATIC] = "static",
		[PCA_HOLDER_MODULE_STATE] = "module_state",
	};
	return kind < PCA_HOLDER_KIND_COUNT ? names[kind] : "?";
}

/* Rows per type of the candidates that pass `keep` (all: holder -2). */
static bool type_rows(const struct pca_objects *objects, const struct candidate_vector *c, size_t cap,
		      bool unexplained_only, struct pca_unreferenced_row **ret_rows, size_t *ret_n,
		      uint64_t *ret_objects, uint64_t *ret_size)
{
	uint64_t *count = calloc(cap ? cap : 1, sizeof(*count)), *size = calloc(cap ? cap : 1, sizeof(*size));
	if (!count || !size) {
		free(count);
		free(size);
		return false;
	}
	for (size_t i = 0; i < c->size; i++) {
		if (unexplained_only && c->data[i].holder >= 0)
			continue;
		count[c->data[i].type]++;
		size[c->data[i].type] += c->data[i].size;
	}
	size_t n = 0;
	for (size_t i = 0; i < cap; i++)
		n += count[i] != 0;
	struct pca_unreferenced_row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		free(count);
		free(size);
		return false;
	}
	n = 0;
	for (size_t i = 0; i < cap; i++) {
		if (!count[i])
			continue;
		rows[n++] = (struct pca_unreferenced_row){objects->infos[i].name, count[i], size[i]};
		*ret_objects += count[i];
		*ret_size += size[i];
	}
	pca_sort(rows, n, sizeof(*rows), by_size_desc);
	free(count);
	free(size);
	*ret_rows = rows;
	*ret_n = n;
	return true;
}

struct pca_error *pca_unreferenced_compute(struct pca_objects *objects, const struct pca_heap *heap,
				    const struct pca_arenas *arenas, struct pca_unreferenced *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* Types may be registered during the scan: a type beyond those known
	 * now plus a margin is not counted. */
	size_t cap = objects->ninfos + 4096;
	struct scan s = {.objects = objects, .heap = heap, .capacity = cap};
	candidate_vector_init(&s.found);
	double t0 = pca_now_seconds();
	struct pca_error *err = scan_blocks(objects, arenas, &s);
	double t1 = pca_now_seconds();
	struct explain e = {.objects = objects, .c = &s.found};
	candidate_map_init(&e.map);
	holder_vector_init(&e.holders);
	index_vector_init(&e.work);
	if (!err && !candidate_map_reserve(&e.map, s.found.size))
		err = &pca_error_nomem;
	for (size_t i = 0; !err && i < s.found.size; i++)
		if (!candidate_map_insert(&e.map, s.found.data[i].addr, (uint32_t)(i + 1)))
			err = &pca_error_nomem;
	if (!err) {
		explain(&e, heap);
		if (e.nomem)
			err = &pca_error_nomem;
	}
	pca_log_timing("unreferenced: blocks %.3f s (%llu checked, %zu candidates), holders %.3f s\n", t1 - t0,
		       (unsigned long long)s.checked, s.found.size, pca_now_seconds() - t1);
	if (cap > objects->ninfos)
		cap = objects->ninfos;
	if (!err && (!type_rows(objects, &s.found, cap, false, &ret->rows, &ret->nrows, &ret->objects, &ret->size) ||
		     !type_rows(objects, &s.found, cap, true, &ret->unexplained, &ret->nunexplained,
				&ret->unexplained_objects, &ret->unexplained_size)))
		err = &pca_error_nomem;
	if (!err) {
		for (size_t i = 0; i < s.found.size; i++) {
			const struct candidate *c = &s.found.data[i];
			if (c->holder >= 0) {
				e.holders.data[c->holder].count++;
				e.holders.data[c->holder].size += c->size;
			} else if (!c->referred) {
				ret->unexplained_roots++;
			}
		}
		size_t n = 0;
		for (size_t i = 0; i < e.holders.size; i++)
			if (e.holders.data[i].count)
				e.holders.data[n++] = e.holders.data[i];
		e.holders.size = n;
		pca_sort(e.holders.data, e.holders.size, sizeof(*e.holders.data), holder_by_size_desc);
		ret->holders = holder_vector_steal(&e.holders, &ret->nholders);
		ret->blocks_checked = s.checked;
	}
	index_vector_deinit(&e.work);
	holder_vector_deinit(&e.holders);
	candidate_map_deinit(&e.map);
	candidate_vector_deinit(&s.found);
	if (err)
		pca_unreferenced_deinit(ret);
	return err;
}

void pca_unreferenced_deinit(struct pca_unreferenced *l)
{
	free(l->rows);
	free(l->unexplained);
	free(l->holders);
	memset(l, 0, sizeof(*l));
}

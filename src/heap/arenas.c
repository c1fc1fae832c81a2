/* pymalloc's arenas and pools from the core (see arenas.h). The walk and the
 * numbers mirror _PyObject_DebugMallocStats / pymalloc_print_stats in
 * Objects/obmalloc.c (v3.6.15 ... v3.13.0: the same loop in every version). */
#include "heap/arenas.h"

#include "base/vector.h"

#include <stdlib.h>
#include <string.h>

/* Sanity limits for sizes read from the core. maxarenas doubles from 16
 * (INITIAL_ARENA_OBJECTS); 2^24 arena objects are 4 TiB of 256 KiB arenas. */
static const uint64_t max_arena_objects = 1u << 24;
/* Pools are 4 KiB (3.6-3.9) or 16 KiB (3.10+); a pool size outside these
 * bounds is not pymalloc's. */
static const uint64_t min_pool_size = 1u << 10;
static const uint64_t max_pool_size = 1u << 20;
/* Arena objects read per chunk. */
enum { ARENA_CHUNK = 1024 };

struct arena_rec {
	uint32_t index;
	uint32_t nfreepools, ntotalpools;
	uint64_t address, pool_address;
};

/* A pool header, decoded and checked. */
struct pool_info {
	uint32_t count, szidx, arenaindex, nextoffset, maxnextoffset;
	uint64_t freeblock;
	uint32_t size, capacity;
	uint32_t carved, virgin, listed; /* blocks below nextoffset, above it, on the free list */
};

struct walk {
	struct pca_interp *in;
	struct pca_arenas *a;
	uint8_t *pool_buf;   /* pool_size bytes, when the core cannot give a view */
	uint8_t *free_map;   /* one byte per block of a pool */
};

static uint64_t get(const struct pca_arenas *a, enum pca_obm_field f, const void *buf)
{
	return pca_obmalloc_field_get(&a->layout, f, buf);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* A variable of the allocator state: a static (base 0) or a member of
 * struct _obmalloc_state at a->state_address. */
static bool read_var(struct pca_interp *in, const struct pca_arenas *a, enum pca_obm_field f,
		     uint64_t *ret)
{
	const struct pca_layout_field *fl = &a->layout.fields[f];
	uint64_t v = 0;
	if (!fl->present || fl->size > 8 ||
	    !pca_target_try_read(in->target, a->state_address + fl->offset, &v, fl->size))
		return false;
	*ret = v;
	return true;
}

static uint64_t var_address(const struct pca_arenas *a, enum pca_obm_field f)
{
	return a->state_address + a->layout.fields[f].offset;
}

/* The main interpreter: _PyRuntime.interpreters.main (3.7+; `head` is the
 * newest interpreter, not the main one), else the first interpreter. */
static uint64_t main_interp(struct pca_interp *in, const struct pca_arenas *a)
{
	uint64_t runtime, v;
	const struct pca_layout_field *f = &a->layout.fields[PCA_OBM_RUNTIME_MAIN];
	if (f->present && pca_symbols_lookup(in->symbols, "_PyRuntime", &runtime) &&
	    pca_target_try_read_u64(in->target, runtime + f->offset, &v) && v)
		return v;
	return in->first_interp;
}

static struct pca_error *locate_state(struct pca_interp *in, struct pca_arenas *a)
{
	const struct pca_obmalloc_layout *ol = &a->layout;
	if (ol->kind == PCA_OBM_STATICS)
		return NULL;
	a->interp = main_interp(in, a);
	uint64_t member = a->interp + ol->fields[PCA_OBM_INTERP_OBMALLOC].offset;
	if (ol->kind == PCA_OBM_INTERP_EMBEDDED) {
		a->state_address = member;
		return NULL;
	}
	if (!pca_target_try_read_u64(in->target, member, &a->state_address))
		return pca_error_create(PCA_ERROR_CORRUPT,
					"PyInterpreterState.obmalloc at 0x%llx is not in the core",
					(unsigned long long)member);
	if (!a->state_address)
		return pca_error_create(PCA_ERROR_CORRUPT,
					"the main interpreter has no obmalloc state (interp->obmalloc is NULL): not initialised or already finalised");
	return NULL;
}

/* Pool size and alignment from the heads of usedpools[]: a list that is not
 * empty starts at a real pool of that size class, whose maxnextoffset is
 * POOL_SIZE - size with size = (szidx + 1) * ALIGNMENT <= 512 (obmalloc.c:
 * "ALIGNMENT <= SMALL_REQUEST_THRESHOLD <= 512") and POOL_SIZE a power of
 * two above 1 KiB: so POOL_SIZE is the power of two just above maxnextoffset.
 * Every head votes; the pool must be aligned to its pool size. An empty list
 * head points at itself minus offsetof(pool_header, nextpool) (PT() in
 * obmalloc.c). */
static struct pca_error *derive_pool_size(struct walk *wk, struct pca_warnings *w)
{
	struct pca_arenas *a = wk->a;
	const struct pca_obmalloc_layout *ol = &a->layout;
	uint64_t word = ol->fields[PCA_OBM_AO_ADDRESS].size;
	uint64_t hsize = ol->sizes[PCA_OBM_S_POOL];
	uint64_t base = var_address(a, PCA_OBM_V_USEDPOOLS);
	struct vote {
		uint64_t pool_size, alignment, count;
	} votes[8];
	size_t nvotes = 0;
	uint64_t dissent = 0;
	uint8_t hdr[256];
	if (hsize > sizeof(hdr))
		return pca_error_create(PCA_ERROR_DEBUGINFO, "struct pool_header has %llu bytes",
					(unsigned long long)hsize);
	for (uint32_t i = 0; i < a->nclasses; i++) {
		uint64_t slot = base + 2 * i * word, head = 0;
		if (!pca_target_try_read(wk->in->target, slot, &head, word))
			return pca_error_create(PCA_ERROR_CORRUPT,
						"pymalloc's usedpools[] at 0x%llx is not in the core",
						(unsigned long long)base);
		if (head == slot - ol->fields[PCA_OBM_PH_NEXTPOOL].offset)
			continue; /* empty list */
		if (!pca_target_try_read(wk->in->target, head, hdr, hsize)) {
			dissent++;
			continue;
		}
		uint64_t m = get(a, PCA_OBM_PH_MAXNEXTOFFSET, hdr);
		uint64_t szidx = get(a, PCA_OBM_PH_SZIDX, hdr);
		uint64_t pool_size = 1;
		while (pool_size <= m && pool_size < max_pool_size)
			pool_size <<= 1;
		uint64_t size = pool_size - m;
		if (szidx != i || pool_size < min_pool_size || pool_size > max_pool_size ||
		    m <= pool_size / 2 || size % (i + 1) || !is_pow2(size / (i + 1)) ||
		    head % pool_size) {
			dissent++;
			continue;
		}
		uint64_t alignment = size / (i + 1);
		size_t v = 0;
		while (v < nvotes && (votes[v].pool_size != pool_size || votes[v].alignment != alignment))
			v++;
		if (v == nvotes) {
			if (nvotes == sizeof(votes) / sizeof(votes[0])) {
				dissent++;
				continue;
			}
			votes[nvotes++] = (struct vote){pool_size, alignment, 0};
		}
		votes[v].count++;
	}
	size_t best = 0;
	for (size_t v = 1; v < nvotes; v++)
		if (votes[v].count > votes[best].count)
			best = v;
	if (nvotes == 0)
		return pca_error_create(PCA_ERROR_CORRUPT,
					"cannot learn pymalloc's pool size: no size class in usedpools[] has a readable, valid pool (the core is damaged or pymalloc was never used)");
	for (size_t v = 0; v < nvotes; v++)
		if (v != best)
			dissent += votes[v].count;
	a->pool_size = votes[best].pool_size;
	a->alignment = votes[best].alignment;
	a->pool_size_votes = votes[best].count;
	a->pool_size_source =
		"pool headers: maxnextoffset + block size of the partly used pools on usedpools[]";
	a->alignment_source = "pool headers: block size / (szidx + 1) of the same pools";
	if (dissent)
		pca_warnings_add(w,
				 "pymalloc: %llu partly used pools disagree on the pool size; %llu bytes (%llu pools) was used",
				 (unsigned long long)dissent, (unsigned long long)a->pool_size,
				 (unsigned long long)a->pool_size_votes);
	/* POOL_OVERHEAD = _Py_SIZE_ROUND_UP(sizeof(struct pool_header), ALIGNMENT). */
	a->pool_overhead = (hsize + a->alignment - 1) / a->alignment * a->alignment;
	a->pool_overhead_source = "sizeof(struct pool_header) (DWARF) rounded up to the alignment";
	return NULL;
}

/* The in-use arena objects (address != 0), bounded by maxarenas. */
static struct pca_error *read_arenas(struct walk *wk, struct arena_rec **ret, size_t *ret_count)
{
	struct pca_arenas *a = wk->a;
	uint64_t table;
	if (!read_var(wk->in, a, PCA_OBM_V_ARENAS, &table) ||
	    !read_var(wk->in, a, PCA_OBM_V_MAXARENAS, &a->maxarenas))
		return pca_error_create(PCA_ERROR_CORRUPT,
					"pymalloc's arenas/maxarenas at 0x%llx are not in the core",
					(unsigned long long)var_address(a, PCA_OBM_V_ARENAS));
	if (a->maxarenas > max_arena_objects)
		return pca_error_create(PCA_ERROR_CORRUPT,
					"pymalloc's maxarenas is %llu: implausible, the core is damaged",
					(unsigned long long)a->maxarenas);
	*ret = NULL;
	*ret_count = 0;
	if (!a->maxarenas)
		return NULL;
	if (!table)
		return pca_error_create(PCA_ERROR_CORRUPT,
					"pymalloc's arenas is NULL with maxarenas %llu",
					(unsigned long long)a->maxarenas);
	uint64_t aosize = a->layout.sizes[PCA_OBM_S_ARENA];
	uint8_t *chunk = malloc(ARENA_CHUNK * aosize);
	struct arena_rec *recs = NULL;
	size_t count = 0, cap = 0;
	struct pca_error *err = NULL;
	if (!chunk)
		return &pca_error_nomem;
	for (uint64_t i = 0; i < a->maxarenas && !err; i += ARENA_CHUNK) {
		uint64_t n = a->maxarenas - i < ARENA_CHUNK ? a->maxarenas - i : ARENA_CHUNK;
		err = pca_target_read(wk->in->target, table + i * aosize, chunk, n * aosize);
		if (err) {
			err = pca_error_wrap(err, "reading pymalloc's arena objects");
			break;
		}
		for (uint64_t k = 0; k < n; k++) {
			const uint8_t *ao = chunk + k * aosize;
			uint64_t address = get(a, PCA_OBM_AO_ADDRESS, ao);
			if (!address)
				continue;
			if (!PCA_VECTOR_GROW(&recs, &cap, count + 1, 64)) {
				err = &pca_error_nomem;
				break;
			}
			recs[count++] = (struct arena_rec){
				.index = (uint32_t)(i + k),
				.address = address,
				.pool_address = get(a, PCA_OBM_AO_POOL_ADDRESS, ao),
				.nfreepools = (uint32_t)get(a, PCA_OBM_AO_NFREEPOOLS, ao),
				.ntotalpools = (uint32_t)get(a, PCA_OBM_AO_NTOTALPOOLS, ao),
			};
		}
	}
	free(chunk);
	if (err) {
		free(recs);
		return err;
	}
	*ret = recs;
	*ret_count = count;
	return NULL;
}

static bool arena_excess(const struct pca_arenas *a, const struct arena_rec *r)
{
	return (r->address & (a->pool_size - 1)) != 0;
}

/* ARENA_SIZE: MAX_POOLS_IN_ARENA (3.8+, from the debug info) times the pool
 * size; else (3.6-3.7) what each arena's ntotalpools says: new_arena() sets
 * it to ARENA_SIZE / POOL_SIZE, one less when the arena's address is not
 * pool-aligned. The value most arenas agree on wins. */
static struct pca_error *derive_arena_size(struct pca_arenas *a, const struct arena_rec *recs,
					   size_t count)
{
	if (a->layout.max_pools_in_arena) {
		a->arena_size = a->layout.max_pools_in_arena * a->pool_size;
		a->arena_size_source = a->layout.max_pools_source;
		for (size_t i = 0; i < count; i++)
			if (recs[i].ntotalpools + arena_excess(a, &recs[i]) ==
			    a->layout.max_pools_in_arena)
				a->arena_size_votes++;
		return NULL;
	}
	a->arena_size_source =
		"arena_object.ntotalpools (+1 when not pool-aligned) x pool size, most arenas agreeing";
	/* Boyer-Moore majority vote (linear in the arenas), then the count. */
	uint64_t best = 0, lead = 0, best_votes = 0;
	for (size_t i = 0; i < count; i++) {
		uint64_t pools = (uint64_t)recs[i].ntotalpools + arena_excess(a, &recs[i]);
		if (lead == 0)
			best = pools;
		if (pools == best)
			lead++;
		else
			lead--;
	}
	for (size_t i = 0; i < count; i++)
		if ((uint64_t)recs[i].ntotalpools + arena_excess(a, &recs[i]) == best)
			best_votes++;
	best *= a->pool_size;
	if (count && (!best || best / a->pool_size > (1u << 16)))
		return pca_error_create(PCA_ERROR_CORRUPT,
					"cannot learn pymalloc's arena size: the arenas' pool counts are implausible");
	a->arena_size = best;
	a->arena_size_votes = best_votes;
	return NULL;
}

/* Decode and check a pool header: the size class exists, maxnextoffset is
 * POOL_SIZE - size, nextoffset lies on a block boundary between the second
 * block and the end, ref.count fits, the arena index is the arena's. */
static bool pool_header_ok(const struct pca_arenas *a, const uint8_t *hdr, uint32_t arenaindex,
			   struct pool_info *pi)
{
	pi->count = (uint32_t)get(a, PCA_OBM_PH_COUNT, hdr);
	pi->szidx = (uint32_t)get(a, PCA_OBM_PH_SZIDX, hdr);
	pi->arenaindex = (uint32_t)get(a, PCA_OBM_PH_ARENAINDEX, hdr);
	pi->nextoffset = (uint32_t)get(a, PCA_OBM_PH_NEXTOFFSET, hdr);
	pi->maxnextoffset = (uint32_t)get(a, PCA_OBM_PH_MAXNEXTOFFSET, hdr);
	pi->freeblock = get(a, PCA_OBM_PH_FREEBLOCK, hdr);
	if (pi->szidx >= a->nclasses || pi->arenaindex != arenaindex)
		return false;
	pi->size = (uint32_t)((pi->szidx + 1) * a->alignment);
	pi->capacity = (uint32_t)((a->pool_size - a->pool_overhead) / pi->size);
	if (pi->maxnextoffset != a->pool_size - pi->size || pi->nextoffset < a->pool_overhead + pi->size ||
	    pi->nextoffset > pi->maxnextoffset + pi->size ||
	    (pi->nextoffset - a->pool_overhead) % pi->size || pi->count > pi->capacity)
		return false;
	pi->carved = (uint32_t)((pi->nextoffset - a->pool_overhead) / pi->size);
	pi->virgin = pi->capacity - pi->carved;
	return true;
}

/* Walk the free list inside the pool's bytes, bounded by the carved blocks
 * (each visited once): every pointer must be a carved block of this pool.
 * map[i] becomes 1 for free blocks (listed or never used). False when the
 * list is broken or does not leave exactly ref.count blocks in use. */
static bool pool_free_list(const struct pca_arenas *a, uint64_t pool, const uint8_t *buf,
			   struct pool_info *pi, uint8_t *map)
{
	uint64_t word = a->layout.fields[PCA_OBM_AO_ADDRESS].size;
	memset(map, 0, pi->carved);
	memset(map + pi->carved, 1, pi->virgin);
	pi->listed = 0;
	uint64_t p = pi->freeblock;
	while (p) {
		if (p < pool + a->pool_overhead || p >= pool + pi->nextoffset)
			return false;
		uint64_t off = p - pool, idx = (off - a->pool_overhead) / pi->size;
		if ((off - a->pool_overhead) % pi->size || map[idx])
			return false; /* misaligned, or a cycle */
		map[idx] = 1;
		pi->listed++;
		p = 0;
		memcpy(&p, buf + off, word);
	}
	return pi->carved - pi->listed == pi->count;
}

/* The pool's bytes: a view into the core, else a copy; NULL if not saved. */
static const uint8_t *pool_bytes(struct walk *wk, uint64_t pool, uint64_t len)
{
	const uint8_t *v = pca_target_view(wk->in->target, pool, len);
	if (v)
		return v;
	return pca_target_try_read(wk->in->target, pool, wk->pool_buf, len) ? wk->pool_buf : NULL;
}

static struct pca_error *push_pool(struct pca_arenas *a, size_t *cap, uint64_t pool)
{
	if (!PCA_VECTOR_GROW(&a->pools, cap, a->npools + 1, 256))
		return &pca_error_nomem;
	a->pools[a->npools++] = pool;
	return NULL;
}

/* One arena, as _PyObject_DebugMallocStats visits it. */
static struct pca_error *walk_arena(struct walk *wk, const struct arena_rec *r, size_t *pools_cap)
{
	struct pca_arenas *a = wk->a;
	a->arenas++;
	a->pools_free += r->nfreepools;
	bool excess = arena_excess(a, r);
	uint64_t base = (r->address + a->pool_size - 1) & ~(a->pool_size - 1);
	if (excess)
		a->bytes_arena_alignment += a->pool_size;
	uint64_t max_pools = a->arena_size / a->pool_size - excess;
	if (r->pool_address < base || r->pool_address > base + max_pools * a->pool_size ||
	    (r->pool_address - base) % a->pool_size) {
		a->arenas_bad++;
		return NULL;
	}
	uint64_t carved = (r->pool_address - base) / a->pool_size, empty = 0;
	for (uint64_t k = 0; k < carved; k++) {
		uint64_t pool = base + k * a->pool_size;
		const uint8_t *hdr = pool_bytes(wk, pool, a->layout.sizes[PCA_OBM_S_POOL]);
		if (!hdr) {
			a->pools_unreadable++;
			continue;
		}
		struct pool_info pi;
		if (get(a, PCA_OBM_PH_COUNT, hdr) == 0) {
			empty++; /* on the arena's freepools list */
			continue;
		}
		if (!pool_header_ok(a, hdr, r->index, &pi)) {
			a->pools_bad++;
			continue;
		}
		const uint8_t *buf = pool_bytes(wk, pool, a->pool_size);
		if (!buf) {
			a->pools_unreadable++;
			continue;
		}
		if (!pool_free_list(a, pool, buf, &pi, wk->free_map))
			a->pools_inconsistent++;
		struct pca_arenas_class *c = &a->classes[pi.szidx];
		c->pools++;
		c->blocks_used += pi.count;
		c->blocks_free += pi.capacity - pi.count;
		a->pools_used++;
		struct pca_error *err = push_pool(a, pools_cap, pool);
		if (err)
			return err;
	}
	a->pools_empty += empty;
	/* nfreepools counts the freepools list (the empty carved pools) and the
	 * pools not carved yet; ntotalpools is what new_arena() gave it. */
	if (r->ntotalpools != max_pools || r->nfreepools != empty + (max_pools - carved))
		a->arenas_inconsistent++;
	return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void totals(struct pca_arenas *a)
{
	for (uint32_t i = 0; i < a->nclasses; i++) {
		struct pca_arenas_class *c = &a->classes[i];
		c->size = (uint32_t)((i + 1) * a->alignment);
		a->blocks_used += c->blocks_used;
		a->blocks_free += c->blocks_free;
		a->bytes_used += c->blocks_used * c->size;
		a->bytes_free += c->blocks_free * c->size;
		a->bytes_pool_headers += c->pools * a->pool_overhead;
		a->bytes_quantization += c->pools * ((a->pool_size - a->pool_overhead) % c->size);
	}
	a->bytes_free_pools = a->pools_free * a->pool_size;
	a->bytes_in_arenas = a->arenas * a->arena_size;
	a->arenas_reclaimed = a->ntimes_arena_allocated - a->arenas;
}

static void report_problems(struct pca_arenas *a, struct pca_warnings *w)
{
	/* One line per kind of problem; the texts say what the numbers leave out. */
	const struct {
		uint64_t count;
		const char *text;
	} kinds[] = {
		{a->pools_unreadable, "pools are not in the core and are not counted"},
		{a->pools_bad,
		 "pools have headers that fail validation (size class, offsets, arena index) and are not counted"},
		{a->pools_inconsistent,
		 "pools' free lists disagree with their ref.count; they are counted by ref.count and their blocks are not listed"},
		{a->arenas_bad, "arenas have a pool_address outside the arena; their pools are not counted"},
		{a->arenas_inconsistent,
		 "arenas' ntotalpools/nfreepools disagree with their pools and the arena size"},
	};
	bool problems = false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!kinds[i].count)
			continue;
		pca_warnings_add(w, "pymalloc: %llu %s", (unsigned long long)kinds[i].count,
				 kinds[i].text);
		problems = true;
	}
	if (a->arenas != a->narenas_currently_allocated) {
		pca_warnings_add(w,
				 "pymalloc: narenas_currently_allocated is %llu but %llu arena objects have an address",
				 (unsigned long long)a->narenas_currently_allocated,
				 (unsigned long long)a->arenas);
		problems = true;
	}
	a->complete = !problems;
	uint64_t sum = a->bytes_used + a->bytes_free + a->bytes_free_pools + a->bytes_pool_headers +
		       a->bytes_quantization + a->bytes_arena_alignment;
	if (a->complete && sum != a->bytes_in_arenas) {
		pca_warnings_add(w,
				 "pymalloc: the arenas' bytes (%llu) do not add up to blocks, free pools, headers, quantization and alignment (%llu)",
				 (unsigned long long)a->bytes_in_arenas, (unsigned long long)sum);
		a->complete = false;
	}
}

struct pca_error *pca_arenas_compute(struct pca_interp *in, struct pca_warnings *w,
				     struct pca_arenas *ret)
{
	struct pca_arenas a;
	memset(&a, 0, sizeof(a));
	struct walk wk = {.in = in, .a = &a};
	struct arena_rec *recs = NULL;
	size_t nrecs = 0, pools_cap = 0;
	struct pca_error *err = pca_obmalloc_layout_resolve(in->symbols, in->layout, &a.layout);
	if (!err)
		err = locate_state(in, &a);
	if (err)
		return err;
	a.nclasses = (uint32_t)(a.layout.usedpools_len / 2);
	a.classes_source = "usedpools[] length / 2 (an upper bound on the size classes)";
	a.classes = calloc(a.nclasses, sizeof(*a.classes));
	if (!a.classes)
		return &pca_error_nomem;
	err = derive_pool_size(&wk, w);
	if (!err)
		err = read_arenas(&wk, &recs, &nrecs);
	if (!err)
		err = derive_arena_size(&a, recs, nrecs);
	if (err)
		goto out;
	read_var(in, &a, PCA_OBM_V_NARENAS_CURRENTLY_ALLOCATED, &a.narenas_currently_allocated);
	read_var(in, &a, PCA_OBM_V_NTIMES_ARENA_ALLOCATED, &a.ntimes_arena_allocated);
	read_var(in, &a, PCA_OBM_V_NARENAS_HIGHWATER, &a.narenas_highwater);
	a.have_raw_allocated_blocks =
		read_var(in, &a, PCA_OBM_V_RAW_ALLOCATED_BLOCKS, &a.raw_allocated_blocks);
	wk.pool_buf = malloc(a.pool_size);
	wk.free_map = malloc(a.pool_size / a.alignment + 1);
	if (!wk.pool_buf || !wk.free_map) {
		err = &pca_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < nrecs && !err; i++)
		err = walk_arena(&wk, &recs[i], &pools_cap);
	if (err)
		goto out;
	if (a.npools)
		pca_sort(a.pools, a.npools, sizeof(*a.pools), cmp_u64);
	totals(&a);
	report_problems(&a, w);
out:
	free(recs);
	free(wk.pool_buf);
	free(wk.free_map);
	if (err) {
		pca_arenas_deinit(&a);
		return err;
	}
	*ret = a;
	return NULL;
}

void pca_arenas_deinit(struct pca_arenas *a)
{
	free(a->classes);
	free(a->pools);
	a->classes = NULL;
	a->pools = NULL;
	a->npools = 0;
}

bool pca_arenas_find_pool(const struct pca_arenas *a, uint64_t addr, size_t *ret)
{
	if (!a->pool_size)
		return false;
	uint64_t pool = addr & ~(a->pool_size - 1);
	size_t i = pca_lower_bound_u64(a->pools, a->npools, pool);
	if (i == a->npools || a->pools[i] != pool)
		return false;
	*ret = i;
	return true;
}

struct pca_error *pca_arenas_for_each_used_block(struct pca_interp *in,
						 const struct pca_arenas *a,
						 pca_arenas_block_fn fn, void *ctx,
						 uint64_t *ret_skipped)
{
	return pca_arenas_for_each_used_block_in(in, a, 0, a->npools, fn, ctx, ret_skipped);
}

struct pca_error *pca_arenas_for_each_used_block_in(struct pca_interp *in, const struct pca_arenas *a,
						    size_t first_pool, size_t end_pool,
						    pca_arenas_block_fn fn, void *ctx,
						    uint64_t *ret_skipped)
{
	uint64_t skipped = 0;
	struct walk wk = {.in = in, .a = (struct pca_arenas *)a};
	wk.pool_buf = malloc(a->pool_size ? a->pool_size : 1);
	wk.free_map = malloc(a->alignment ? a->pool_size / a->alignment + 1 : 1);
	if (!wk.pool_buf || !wk.free_map) {
		free(wk.pool_buf);
		free(wk.free_map);
		return &pca_error_nomem;
	}
	bool go_on = true;
	for (size_t i = first_pool; i < end_pool && i < a->npools && go_on; i++) {
		uint64_t pool = a->pools[i];
		const uint8_t *buf = pool_bytes(&wk, pool, a->pool_size);
		struct pool_info pi;
		if (!buf ||
		    !pool_header_ok(a, buf, (uint32_t)get(a, PCA_OBM_PH_ARENAINDEX, buf), &pi) ||
		    !pool_free_list(a, pool, buf, &pi, wk.free_map)) {
			skipped++;
			continue;
		}
		for (uint32_t b = 0; b < pi.carved && go_on; b++)
			if (!wk.free_map[b])
				go_on = fn(ctx, pool + a->pool_overhead + (uint64_t)b * pi.size, pi.size);
	}
	free(wk.pool_buf);
	free(wk.free_map);
	if (ret_skipped)
		*ret_skipped = skipped;
	return NULL;
}

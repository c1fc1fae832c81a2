#include "analyses/refgraph.h"

#include "base/log.h"
#include "base/progress.h"
#include "base/vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct edge_ctx {
	struct pca_objects *objects;
	const struct pca_heap *heap;
	pca_graph_emit_fn emit;
	void *emit_ctx;
};

static void edge_visit(void *ctx, uint64_t referent)
{
	struct edge_ctx *e = ctx;
	uint32_t id;
	if (referent & PCA_REFERENT_EXTRA)
		return;
	if (pca_heap_find(e->heap, referent & ~(uint64_t)PCA_REFERENT_FLAGS, &id))
		e->emit(e->emit_ctx, id);
}

static void node_edges(void *ctx, uint32_t node, pca_graph_emit_fn emit, void *emit_ctx)
{
	struct edge_ctx *e = ctx;
	e->emit = emit;
	e->emit_ctx = emit_ctx;
	pca_objects_referents(e->objects, e->heap->addr[node], &e->objects->infos[e->heap->type[node]],
			      edge_visit, e);
}

/* What tracked object u's tp_traverse visits, as ids, into *out (a
 * vector): its tracked referents, and the tracked referents of the
 * untracked objects it owns whose references its traverse visits for them
 * (an lru_cache wrapper visits its links' keys and results). */
static bool traversed(const struct pca_objects *objects, const struct pca_heap *heap,
		      const struct pca_graph *graph, uint32_t u, uint32_t **out, size_t *n,
		      size_t *cap)
{
	uint32_t tracked = (uint32_t)heap->gc_tracked;
	*n = 0;
	for (uint64_t e = graph->out_start[u]; e < graph->out_start[u + 1]; e++) {
		uint32_t v = graph->out[e];
		bool through = v >= tracked && objects->infos[heap->type[v]].traversed_by_owner;
		uint64_t from = through ? graph->out_start[v] : e, to = through ? graph->out_start[v + 1] : e + 1;
		for (uint64_t f = from; f < to; f++) {
			uint32_t w = through ? graph->out[f] : v;
			if (w >= tracked)
				continue;
			if (!PCA_VECTOR_GROW(out, cap, *n + 1, 64))
				return false;
			(*out)[(*n)++] = w;
		}
	}
	return true;
}

/* Modules/gcmodule.c (3.6-3.13), the full collection: every tracked object
 * starts with its reference count, minus the references from other tracked
 * objects (what their tp_traverse visits); those left above zero are
 * referenced from outside; what they reach is alive; the rest is
 * unreachable. Ids below gc_tracked are the objects of the collector's
 * lists (heap/ adds them first). */
static struct pca_error *collector_verdict(struct pca_objects *objects, const struct pca_heap *heap,
					   struct pca_refgraph *g)
{
	uint32_t tracked = (uint32_t)heap->gc_tracked;
	int64_t *gc_refs = malloc(((size_t)tracked + 1) * sizeof(*gc_refs));
	uint32_t *queue = malloc(((size_t)tracked + 1) * sizeof(*queue));
	uint32_t *seen = NULL;
	size_t nseen = 0, seen_cap = 0;
	g->unreachable = calloc((size_t)heap->count + 1, sizeof(*g->unreachable));
	if (!gc_refs || !queue || !g->unreachable) {
		free(gc_refs);
		free(queue);
		return &pca_error_nomem;
	}
	for (uint32_t v = 0; v < tracked; v++) {
		uint64_t refcnt = 0;
		pca_interp_read_field(objects->interp, heap->addr[v], PCA_F_OB_REFCNT, &refcnt);
		gc_refs[v] = (int64_t)refcnt;
	}
	struct pca_error *err = NULL;
	for (uint32_t u = 0; u < tracked && !err; u++) {
		if (!traversed(objects, heap, &g->graph, u, &seen, &nseen, &seen_cap))
			err = &pca_error_nomem;
		for (size_t i = 0; i < nseen && !err; i++)
			gc_refs[seen[i]]--;
	}
	size_t head = 0, tail = 0;
	for (uint32_t v = 0; v < tracked; v++) {
		g->unreachable[v] = true;
		if (gc_refs[v] > 0) {
			g->unreachable[v] = false;
			queue[tail++] = v;
		}
	}
	while (head < tail && !err) {
		uint32_t u = queue[head++];
		if (!traversed(objects, heap, &g->graph, u, &seen, &nseen, &seen_cap))
			err = &pca_error_nomem;
		for (size_t i = 0; i < nseen && !err; i++) {
			uint32_t v = seen[i];
			if (g->unreachable[v]) {
				g->unreachable[v] = false;
				queue[tail++] = v;
			}
		}
	}
	for (uint32_t v = 0; v < tracked; v++)
		if (g->unreachable[v]) {
			g->unreachable_count++;
			g->unreachable_size += pca_heap_size(heap, v);
		}
	free(gc_refs);
	free(queue);
	free(seen);
	return err;
}

struct root_builder {
	struct pca_refgraph *g;
	struct pca_objects *objects;
	const struct pca_heap *heap;
	size_t capacity;
	size_t frame_capacity;
	struct pca_error *err;
};

static void add_root(struct root_builder *rb, uint32_t id, enum pca_root_kind kind)
{
	struct pca_refgraph *g = rb->g;
	if (g->root_kind[id] || rb->err)
		return;
	if (!PCA_VECTOR_GROW(&g->roots, &rb->capacity, g->nroots + 1, 1024)) {
		rb->err = &pca_error_nomem;
		return;
	}
	g->root_kind[id] = (uint8_t)kind;
	g->roots[g->nroots++] = id;
}

static void add_frame_root(struct root_builder *rb, uint64_t addr, uint64_t code, uint64_t globals,
			   int64_t slot)
{
	uint32_t id;
	if (!addr || !pca_heap_find(rb->heap, addr, &id) || rb->g->root_kind[id])
		return;
	struct pca_refgraph *g = rb->g;
	if (!PCA_VECTOR_GROW(&g->frame_roots, &rb->frame_capacity, g->nframe_roots + 1, 256)) {
		rb->err = &pca_error_nomem;
		return;
	}
	g->frame_roots[g->nframe_roots++] = (struct pca_frame_root){id, code, globals, slot};
	add_root(rb, id, PCA_ROOT_FRAME);
}

/* What a running frame holds: 3.6-3.10 the frame object itself (its locals
 * are its references); 3.11+ the interpreter frame's local variables
 * (co_nlocalsplus slots) and its own references, one root each. */
static void frame_roots(void *ctx, uint64_t frame)
{
	struct root_builder *rb = ctx;
	struct pca_interp *in = rb->objects->interp;
	const struct pca_layout *l = in->layout;
	if (l->frame_model == PCA_FRAMES_OBJECTS) {
		uint64_t code = 0, globals = 0;
		pca_interp_read_field(in, frame, PCA_F_FRAME_CODE, &code);
		pca_interp_read_field(in, frame, PCA_F_FRAME_GLOBALS, &globals);
		add_frame_root(rb, frame, code, globals, -1);
		return;
	}
	uint64_t code = 0, globals = 0, nlocalsplus = 0, p, owner;
	if (pca_interp_read_field(in, frame, PCA_F_IFRAME_OWNER, &owner) && (int64_t)owner == l->owner_cstack)
		return; /* 3.12+ C-stack shim frame */
	pca_interp_read_field(in, frame, PCA_F_IFRAME_CODE, &code);
	pca_interp_read_field(in, frame, PCA_F_IFRAME_GLOBALS, &globals);
	pca_interp_read_field(in, code, PCA_F_CODE_NLOCALSPLUS, &nlocalsplus);
	static const enum pca_field own[] = {PCA_F_IFRAME_FRAME_OBJ, PCA_F_IFRAME_LOCALS,
					     PCA_F_IFRAME_FUNC, PCA_F_IFRAME_CODE,
					     PCA_F_IFRAME_GLOBALS, PCA_F_IFRAME_BUILTINS};
	uint64_t base = frame + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS);
	for (uint64_t i = 0; i < (nlocalsplus & 0xffffffffu) && i < 1u << 16; i++)
		if (pca_target_try_read_u64(in->target, base + i * 8, &p))
			add_frame_root(rb, p, code, globals, (int64_t)i);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (pca_interp_read_field(in, frame, own[i], &p))
			add_frame_root(rb, p, code, globals, -1);
}

/* indegree: the graph's in-degree of each object (scratch of the caller). */
static struct pca_error *find_roots(struct pca_objects *objects, const struct pca_heap *heap,
				    struct pca_refgraph *g, const uint32_t *indegree)
{
	struct root_builder rb = {.g = g, .objects = objects, .heap = heap};
	g->root_kind = calloc((size_t)heap->count + 1, 1);
	if (!g->root_kind)
		return &pca_error_nomem;
	for (uint32_t v = 0; v < heap->count && !rb.err; v++)
		if (objects->infos[heap->type[v]].kind == PCA_KIND_MODULE)
			add_root(&rb, v, PCA_ROOT_MODULE);
	pca_interp_for_each_frame(objects->interp, frame_roots, &rb);
	/* The references nothing in the graph explains (tests/e2e/
	 * test_external.py sums them per type: each must be something named). */
	bool dump = pca_log_dump_begin(PCA_LOG_DUMP_EXTERNAL);
	for (uint32_t v = 0; v < heap->count && !rb.err; v++) {
		uint64_t refcnt = 0;
		if (pca_interp_read_field(objects->interp, heap->addr[v], PCA_F_OB_REFCNT, &refcnt) &&
		    (int64_t)refcnt > (int64_t)indegree[v]) {
			add_root(&rb, v, PCA_ROOT_EXTERNAL);
			if (dump)
				pca_log_dump(PCA_LOG_DUMP_EXTERNAL, "%llx %s %lld\n",
					     (unsigned long long)heap->addr[v],
					     objects->infos[heap->type[v]].name,
					     (long long)refcnt - (long long)indegree[v]);
		}
	}
	if (dump)
		pca_log_dump_end(PCA_LOG_DUMP_EXTERNAL);
	return rb.err;
}

/* Shortest paths from the roots, by phases, so that a module global names
 * an object before a frame local does, and both before something only C
 * holds: each phase's breadth-first search claims what it reaches first.
 * Frame roots that are a frame's own references come before those that are
 * its locals' slots (stack temporaries last). */
static struct pca_error *owner_tree(struct pca_refgraph *g)
{
	uint32_t n = g->graph.n;
	uint32_t *queue = malloc(((size_t)n + 1) * sizeof(*queue));
	if (!queue)
		return &pca_error_nomem;
	for (uint32_t v = 0; v < n; v++)
		g->parent[v] = PCA_GRAPH_UNREACHABLE;
	static const enum pca_root_kind phases[] = {PCA_ROOT_MODULE, PCA_ROOT_FRAME, PCA_ROOT_EXTERNAL};
	for (size_t ph = 0; ph < sizeof(phases) / sizeof(phases[0]); ph++) {
		size_t head = 0, tail = 0;
		for (size_t i = 0; i < g->nroots; i++) {
			uint32_t r = g->roots[i];
			if (g->root_kind[r] == phases[ph] && g->parent[r] == PCA_GRAPH_UNREACHABLE) {
				g->parent[r] = PCA_GRAPH_VIRTUAL_ROOT;
				queue[tail++] = r;
			}
		}
		while (head < tail) {
			uint32_t u = queue[head++];
			for (uint64_t e = g->graph.out_start[u]; e < g->graph.out_start[u + 1]; e++) {
				uint32_t v = g->graph.out[e];
				if (g->parent[v] == PCA_GRAPH_UNREACHABLE) {
					g->parent[v] = u;
					queue[tail++] = v;
				}
			}
		}
	}
	free(queue);
	return NULL;
}

struct pca_error *pca_refgraph_build(struct pca_objects *objects, struct pca_heap *heap,
				     struct pca_refgraph *ret)
{
	struct pca_refgraph *g = ret;
	memset(g, 0, sizeof(*g));
	struct edge_ctx ctx = {.objects = objects, .heap = heap};
	double t0 = pca_now_seconds();
	/* The census kept the references it followed: adopt them; else walk
	 * every object again. */
	struct pca_error *err;
	if (heap->edge_start) {
		err = pca_graph_adopt(heap->count, heap->edge_start, heap->edges, &g->graph);
		heap->edge_start = NULL;
		heap->edges = NULL;
	} else {
		err = pca_graph_build(heap->count, node_edges, &ctx, &g->graph);
	}
	double t1 = pca_now_seconds();
	if (!err)
		err = collector_verdict(objects, heap, g);
	double t2 = pca_now_seconds();
	size_t n = (size_t)heap->count + 1;
	uint32_t *idom = NULL;
	if (!err) {
		g->retained = malloc(n * sizeof(*g->retained));
		g->parent = malloc(n * sizeof(*g->parent));
		if (!g->retained || !g->parent)
			err = &pca_error_nomem;
	}
	/* parent[] holds the in-degrees until the roots are found */
	if (!err) {
		pca_graph_in_degrees(&g->graph, g->parent);
		err = find_roots(objects, heap, g, g->parent);
	}
	if (!err) {
		idom = malloc(n * sizeof(*idom));
		if (!idom)
			err = &pca_error_nomem;
	}
	double t3 = pca_now_seconds();
	/* Until they are filled, retained and parent are the dominator
	 * algorithm's scratch (three of its five arrays), and parent that of
	 * the retained sums: memory reused across phases, not added. */
	struct pca_graph_lent lent = {{g->retained, g->parent}, {n * sizeof(*g->retained), n * sizeof(*g->parent)}, 2};
	if (!err)
		err = pca_graph_dominators_lent(&g->graph, g->roots, g->nroots, idom, &lent);
	double t4 = pca_now_seconds();
	struct pca_graph_lent lent_parent = {{g->parent}, {n * sizeof(*g->parent)}, 1};
	/* the sizes, widened in place: the dominators' scratch is done with it */
	for (uint32_t v = 0; !err && v < heap->count; v++)
		g->retained[v] = pca_heap_size(heap, v);
	if (!err)
		err = pca_graph_retained_lent(&g->graph, idom, g->retained, g->retained, &lent_parent);
	free(idom);
	double t5 = pca_now_seconds();
	if (!err)
		err = owner_tree(g);
	pca_log_timing("graph: edges %.3f s (%llu), collector %.3f s, roots %.3f s (%zu), dominators %.3f s, retained %.3f s, paths %.3f s\n",
		       t1 - t0, (unsigned long long)g->graph.nedges, t2 - t1, t3 - t2, g->nroots,
		       t4 - t3, t5 - t4, pca_now_seconds() - t5);
	if (err)
		pca_refgraph_deinit(g);
	return err;
}

void pca_refgraph_deinit(struct pca_refgraph *g)
{
	pca_graph_deinit(&g->graph);
	free(g->roots);
	free(g->root_kind);
	free(g->unreachable);
	free(g->retained);
	free(g->parent);
	free(g->frame_roots);
	memset(g, 0, sizeof(*g));
}

/* csr.c: building the compressed sparse row arrays (forward edges only),
 * and the reverse questions answered by scanning them. */
#include "graph/graph.h"

#include "base/vector.h"

#include <stdlib.h>
#include <string.h>

void *pca_graph_alloc_array(uint64_t count, size_t size)
{
	size_t bytes;
	if (count > SIZE_MAX || __builtin_mul_overflow((size_t)count, size, &bytes))
		return NULL;
	return malloc(bytes ? bytes : 1);
}

bool pca_graph_scratch(const struct pca_graph_lent *lent, uint64_t count, size_t size,
		       size_t narrays, void **out, bool *owned)
{
	size_t bytes;
	if (count > SIZE_MAX || __builtin_mul_overflow((size_t)count, size, &bytes))
		return false;
	size_t buf = 0, used = 0, i = 0;
	for (; lent && i < narrays && buf < lent->count;) {
		if (lent->mem[buf] && used + bytes <= lent->bytes[buf]) {
			out[i] = (unsigned char *)lent->mem[buf] + used;
			owned[i++] = false;
			used += bytes;
		} else {
			buf++;
			used = 0;
		}
	}
	for (; i < narrays; i++) {
		owned[i] = true;
		out[i] = pca_graph_alloc_array(count, size);
		if (!out[i]) {
			pca_graph_scratch_free(i, out, owned);
			return false;
		}
	}
	return true;
}

void pca_graph_scratch_free(size_t narrays, void **arrays, const bool *owned)
{
	for (size_t i = 0; i < narrays; i++)
		if (owned[i])
			free(arrays[i]);
}

struct pca_error *pca_graph_check_roots(const struct pca_graph *g, const uint32_t *roots,
					size_t nroots)
{
	for (size_t i = 0; i < nroots; i++) {
		if (roots[i] >= g->n)
			return pca_error_create(PCA_ERROR_OTHER,
						"graph root %zu is node %u, but the graph has %u nodes",
						i, roots[i], g->n);
	}
	return NULL;
}

/* Count pass: out-degree of the current node; bad targets counted apart. */
struct count_ctx {
	uint32_t n;
	uint64_t count;
	uint64_t dropped;
};

static void count_emit(void *emit_ctx, uint32_t target)
{
	struct count_ctx *c = emit_ctx;
	if (target < c->n)
		c->count++;
	else
		c->dropped++;
}

/* Fill pass: out[pos..end) is the room the count pass promised this node.
 * Edges beyond it are refused (and flagged), never written past the array. */
struct fill_ctx {
	uint32_t n;
	uint32_t *out;
	uint64_t pos, end;
	bool overflow;
};

static void fill_emit(void *emit_ctx, uint32_t target)
{
	struct fill_ctx *f = emit_ctx;
	if (target >= f->n)
		return;
	if (f->pos == f->end) {
		f->overflow = true;
		return;
	}
	f->out[f->pos++] = target;
}

void pca_graph_deinit(struct pca_graph *g)
{
	free(g->out_start);
	free(g->out);
	memset(g, 0, sizeof(*g));
}

void pca_graph_in_degrees(const struct pca_graph *g, uint32_t *ret)
{
	memset(ret, 0, (size_t)g->n * sizeof(*ret));
	for (uint64_t e = 0; e < g->nedges; e++)
		ret[g->out[e]]++;
}

uint64_t pca_graph_referrers(const struct pca_graph *g, uint32_t target, uint32_t *ret,
			     size_t max)
{
	uint64_t total = 0;
	for (uint32_t v = 0; v < g->n; v++)
		for (uint32_t e = g->out_start[v]; e < g->out_start[v + 1]; e++)
			if (g->out[e] == target && total++ < max)
				ret[total - 1] = v;
	return total;
}

static struct pca_error *too_many_edges(uint64_t m)
{
	return pca_error_create(PCA_ERROR_OTHER,
				"graph of %llu references: at most %llu supported (32-bit edge offsets)",
				(unsigned long long)m, (unsigned long long)PCA_GRAPH_MAX_EDGES);
}

struct target_slot {
	uint32_t target;
	size_t index;
};

static int by_target(const void *a, const void *b)
{
	const struct target_slot *x = a, *y = b;
	return x->target < y->target ? -1 : x->target > y->target;
}

bool pca_graph_referrers_many(const struct pca_graph *g, const uint32_t *targets, size_t ntargets,
			      uint32_t *ret, size_t max, uint64_t *totals)
{
	struct target_slot *slots = pca_graph_alloc_array(ntargets, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < ntargets; i++) {
		slots[i] = (struct target_slot){targets[i], i};
		totals[i] = 0;
	}
	pca_sort(slots, ntargets, sizeof(*slots), by_target);
	for (uint32_t v = 0; v < g->n; v++) {
		for (uint32_t e = g->out_start[v]; e < g->out_start[v + 1]; e++) {
			size_t lo = 0, hi = ntargets;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (slots[mid].target < g->out[e])
					lo = mid + 1;
				else
					hi = mid;
			}
			/* every slot of this target (a target may be asked twice) */
			for (; lo < ntargets && slots[lo].target == g->out[e]; lo++) {
				size_t i = slots[lo].index;
				if (totals[i]++ < max)
					ret[i * max + totals[i] - 1] = v;
			}
		}
	}
	free(slots);
	return true;
}

struct pca_error *pca_graph_adopt(uint32_t n, uint64_t *out_start, uint32_t *out,
				  struct pca_graph *ret)
{
	struct pca_graph g = {.n = n, .out = out};
	if (n > PCA_GRAPH_MAX_NODES || out_start[n] > PCA_GRAPH_MAX_EDGES) {
		struct pca_error *err = n > PCA_GRAPH_MAX_NODES
			? pca_error_create(PCA_ERROR_OTHER, "graph of %u nodes: at most %u supported",
					   n, PCA_GRAPH_MAX_NODES)
			: too_many_edges(out_start[n]);
		free(out_start);
		pca_graph_deinit(&g);
		return err;
	}
	g.nedges = out_start[n];
	/* The offsets to 32 bits in place: entry i is read (8 bytes at 8i)
	 * before it is written (4 bytes at 4i <= 8i), then the array shrinks
	 * to half (a failed shrink keeps the larger block). */
	unsigned char *bytes = (unsigned char *)out_start;
	for (uint64_t v = 0; v <= n; v++) {
		uint64_t wide;
		memcpy(&wide, bytes + 8 * v, sizeof(wide)); /* memcpy: no aliasing of types */
		uint32_t offset = (uint32_t)wide;
		memcpy(bytes + 4 * v, &offset, sizeof(offset));
	}
	g.out_start = (uint32_t *)(void *)bytes;
	PCA_ARRAY_RESIZE(&g.out_start, (size_t)n + 1); /* a failed shrink keeps the block */
	for (uint64_t e = 0; e < g.nedges; e++) {
		if (out[e] >= n) { /* ALWAYS: the caller's ids are in range */
			pca_graph_deinit(&g);
			return pca_error_create(PCA_ERROR_OTHER, "graph edge to node %u of %u", out[e], n);
		}
	}
	*ret = g;
	return NULL;
}

struct pca_error *pca_graph_build(uint32_t n, pca_graph_edges_fn edges, void *ctx,
				  struct pca_graph *ret)
{
	struct pca_graph g = { .n = n };
	struct pca_error *err;

	if (n > PCA_GRAPH_MAX_NODES)
		return pca_error_create(PCA_ERROR_OTHER, "graph of %u nodes: at most %u supported",
					n, PCA_GRAPH_MAX_NODES);

	g.out_start = pca_graph_alloc_array((uint64_t)n + 1, sizeof(*g.out_start));
	if (!g.out_start)
		goto nomem;

	/* Count pass: out_start[v + 1] = out-degree of v, then prefix sums. */
	g.out_start[0] = 0;
	uint64_t total = 0;
	for (uint32_t v = 0; v < n; v++) {
		struct count_ctx c = { .n = n };
		edges(ctx, v, count_emit, &c);
		total += c.count;
		if (total > PCA_GRAPH_MAX_EDGES) {
			err = too_many_edges(total);
			goto fail;
		}
		g.out_start[v + 1] = (uint32_t)total;
		g.dropped += c.dropped;
	}
	g.nedges = total;

	g.out = pca_graph_alloc_array(g.nedges, sizeof(*g.out));
	if (!g.out)
		goto nomem;

	/* Fill pass. */
	for (uint32_t v = 0; v < n; v++) {
		struct fill_ctx f = {
			.n = n,
			.out = g.out,
			.pos = g.out_start[v],
			.end = g.out_start[v + 1],
		};
		edges(ctx, v, fill_emit, &f);
		if (f.overflow || f.pos != f.end) {
			err = pca_error_create(PCA_ERROR_OTHER,
					       "graph edge source gave node %u %s edges on its second pass than on its first (%llu)",
					       v, f.overflow ? "more" : "fewer",
					       (unsigned long long)(f.end - g.out_start[v]));
			goto fail;
		}
	}

	*ret = g;
	return NULL;

nomem:
	err = &pca_error_nomem;
fail:
	pca_graph_deinit(&g);
	return err;
}

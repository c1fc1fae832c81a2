/* dominators.c: dominator tree (Lengauer-Tarjan, simple path compression)
 * and retained sizes.
 *
 * Lengauer-Tarjan rather than Cooper-Harvey-Kennedy: CHK intersects along
 * idom chains and needs many passes on deep graphs (a heap's long linked
 * structures), while LT is O(m log n) whatever the shape. The simple
 * (unbalanced) linking is faster than the balanced one in practice
 * (Georgiadis, Tarjan, Werneck, "Finding dominators in practice", 2006).
 *
 * Everything runs on DFS preorder numbers; number 0 is the virtual root,
 * whose children are the roots. Five arrays of N = reached + 1 entries
 * (the caller may lend the memory: pca_graph_dominators_lent), and each is
 * reused where its first use is over:
 *   vertex[i]   number -> node; after the DFS, the offsets of the "back"
 *               predecessor lists below; rebuilt from dfnum at the end.
 *   anc[i]      DFS-tree parent, then the path-compressed forest ancestor.
 *               Vertices are linked in decreasing number, so while number
 *               i is processed, "x is linked" is "x > i" and the parent
 *               needs no copy of its own.
 *   semi[i]     the head of the bucket of vertices whose semidominator is
 *               i, until i is processed; then i's semidominator.
 *   label[i]    the high half of i's DFS edge cursor during the DFS; then
 *               i's least predecessor numbered below i, until i is
 *               processed; then the vertex of least semi on i's path.
 *   next[i]     the low half of the DFS edge cursor; then the bucket link;
 *               then i's (relative) dominator.
 * The node -> number map (dfnum) lives in the caller's idom array, which is
 * rewritten at the end; unnumbered nodes are UINT32_MAX, which is already
 * PCA_GRAPH_UNREACHABLE.
 *
 * No reverse graph: semi(w) needs every predecessor v of w, but for v < w
 * only the least one counts (one number, in label[w]), and only those
 * with v > w go through eval. Those "back" predecessors are listed by
 * target from two passes over the forward edges (4 bytes each, at most one
 * per edge; about half the edges of a heap), where a reverse graph costs 4
 * bytes per edge and per node for as long as it is kept.
 *
 * Buckets are processed when their vertex p itself comes up, before p is
 * linked, instead of after each link to p: every vertex in p's bucket is a
 * descendant of p, its path to p already linked, p still the root of that
 * tree, so eval gives the same answer and no bucket is walked twice.
 * Path compression is iterative by pointer reversal (up the path turning
 * anc around, down again restoring it compressed), so it needs no stack.
 */
#include "graph/graph.h"

#include <stdlib.h>
#include <string.h>

static const uint32_t NONE = UINT32_MAX;

struct lt {
	uint32_t *vertex, *anc, *semi, *label, *next;
};

static uint64_t cursor_get(const struct lt *lt, uint32_t i)
{
	return (uint64_t)lt->label[i] << 32 | lt->next[i];
}

static void cursor_set(struct lt *lt, uint32_t i, uint64_t pos)
{
	lt->label[i] = (uint32_t)(pos >> 32);
	lt->next[i] = (uint32_t)pos;
}

/* The vertex of least semi on the path from v up to, not including, the
 * root of its tree in the forest of vertices > `linked_above`. */
static uint32_t eval(struct lt *lt, uint32_t v, uint32_t linked_above)
{
	uint32_t *anc = lt->anc, *label = lt->label;
	const uint32_t *semi = lt->semi;
	uint32_t prev = NONE, x = v;

	/* Up, while x's ancestor is itself linked (not the root). */
	while (anc[x] > linked_above) {
		uint32_t up = anc[x];
		anc[x] = prev;
		prev = x;
		x = up;
	}
	/* Down: each vertex takes the better label of the one above it and
	 * points at the root directly. */
	uint32_t root = anc[x], above = x;
	while (prev != NONE) {
		uint32_t y = prev;
		prev = anc[y];
		if (semi[label[above]] < semi[label[y]])
			label[y] = label[above];
		anc[y] = root;
		above = y;
	}
	return label[v];
}

/* Relative dominators of the vertices whose semidominator is p. */
static void process_bucket(struct lt *lt, uint32_t p)
{
	uint32_t v = lt->semi[p];
	while (v != NONE) {
		uint32_t following = lt->next[v];
		uint32_t y = eval(lt, v, p);
		lt->next[v] = lt->semi[y] < lt->semi[v] ? y : p;
		v = following;
	}
}

static bool bit_test(const uint64_t *bits, uint32_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

/* DFS from the virtual root: preorder numbers, tree parents. Walks back up
 * by the parent pointers, so the only per-vertex state is the edge cursor.
 * Returns N, the number of vertices numbered (the virtual root included). */
static uint32_t number_vertices(const struct pca_graph *g, const uint32_t *roots,
				size_t nroots, struct lt *lt, uint32_t *dfnum)
{
	uint32_t count = 1, cur = 0;
	size_t next_root = 0;

	lt->vertex[0] = NONE;
	for (;;) {
		uint32_t t;
		if (cur == 0) {
			while (next_root < nroots && dfnum[roots[next_root]] != NONE)
				next_root++;
			if (next_root == nroots)
				break;
			t = roots[next_root++];
		} else {
			uint32_t node = lt->vertex[cur];
			uint64_t pos = cursor_get(lt, cur), end = g->out_start[node + 1];
			while (pos < end && dfnum[g->out[pos]] != NONE)
				pos++;
			if (pos == end) {
				cur = lt->anc[cur];
				continue;
			}
			t = g->out[pos];
			cursor_set(lt, cur, pos + 1);
		}
		dfnum[t] = count;
		lt->vertex[count] = t;
		lt->anc[count] = cur;
		cursor_set(lt, count, g->out_start[t]);
		cur = count++;
	}
	return count;
}

struct pca_error *pca_graph_dominators(const struct pca_graph *g, const uint32_t *roots,
				       size_t nroots, uint32_t *idom)
{
	return pca_graph_dominators_lent(g, roots, nroots, idom, NULL);
}

struct pca_error *pca_graph_dominators_lent(const struct pca_graph *g, const uint32_t *roots,
					    size_t nroots, uint32_t *idom,
					    const struct pca_graph_lent *lent)
{
	const uint32_t n = g->n;
	uint32_t *dfnum = idom;
	struct pca_error *err = pca_graph_check_roots(g, roots, nroots);
	if (err)
		return err;

	enum { NARRAYS = 5 };
	void *arrays[NARRAYS];
	bool owned[NARRAYS];
	if (!pca_graph_scratch(lent, (uint64_t)n + 1, sizeof(uint32_t), NARRAYS, arrays, owned))
		return &pca_error_nomem;
	struct lt lt = {arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]};
	uint64_t *is_root = calloc((size_t)n / 64 + 1, sizeof(*is_root));
	if (!is_root) {
		err = &pca_error_nomem;
		goto out;
	}

	for (uint32_t v = 0; v < n; v++)
		dfnum[v] = NONE;
	for (size_t i = 0; i < nroots; i++)
		is_root[roots[i] / 64] |= UINT64_C(1) << (roots[i] % 64);
	const uint32_t count = number_vertices(g, roots, nroots, &lt, dfnum);

	/* Predecessors, from the forward edges. Of those numbered below w only
	 * the least counts: it goes to label[w] (unused until w is linked).
	 * Those numbered above w ("back" predecessors: fewer than the edges)
	 * are listed by target number in `back`, their offsets in vertex[],
	 * free until the end: off[w - 1] .. off[w] for w >= 1 (count entries).
	 * The virtual root (0) precedes every root. */
	uint32_t *minpred = lt.label, *off = lt.vertex;
	for (uint32_t w = 1; w < count; w++)
		minpred[w] = bit_test(is_root, lt.vertex[w]) ? 0 : lt.anc[w];
	free(is_root);
	is_root = NULL;
	memset(off, 0, (size_t)count * sizeof(*off));
	uint64_t nback = 0;
	for (uint32_t u = 0; u < n; u++) {
		uint32_t du = dfnum[u];
		if (du == NONE)
			continue; /* what no root reaches dominates nothing */
		for (uint32_t e = g->out_start[u]; e < g->out_start[u + 1]; e++) {
			uint32_t dt = dfnum[g->out[e]]; /* reached: u is */
			if (du < dt) {
				if (du < minpred[dt])
					minpred[dt] = du;
			} else if (du > dt) {
				off[dt]++; /* counted at off[(dt - 1) + 1] */
				nback++;
			}
		}
	}
	for (uint32_t i = 1; i < count; i++)
		off[i] += off[i - 1];
	uint32_t *back = pca_graph_alloc_array(nback, sizeof(*back));
	if (!back) {
		err = &pca_error_nomem;
		goto out;
	}
	/* Fill: off[dt - 1] is dt's cursor and ends at dt's end, which is
	 * where dt + 1 starts; a shift by one restores the starts. */
	for (uint32_t u = 0; u < n; u++) {
		uint32_t du = dfnum[u];
		if (du == NONE)
			continue;
		for (uint32_t e = g->out_start[u]; e < g->out_start[u + 1]; e++) {
			uint32_t dt = dfnum[g->out[e]];
			if (du > dt)
				back[off[dt - 1]++] = du;
		}
	}
	for (uint32_t i = count - 1; i > 0; i--)
		off[i] = off[i - 1];
	off[0] = 0;

	for (uint32_t i = 0; i < count; i++)
		lt.semi[i] = NONE; /* every bucket empty */
	for (uint32_t w = count - 1; w > 0; w--) {
		process_bucket(&lt, w);

		/* semi(w) = least of: a predecessor numbered below w, and
		 * semi(eval(v)) for a predecessor v numbered above it. */
		uint32_t s = minpred[w];
		for (uint32_t p = off[w - 1]; p < off[w] && s > 0; p++) {
			uint32_t candidate = lt.semi[eval(&lt, back[p], w)];
			if (candidate < s)
				s = candidate;
		}
		lt.semi[w] = s;
		lt.next[w] = lt.semi[s];
		lt.semi[s] = w;
		lt.label[w] = w; /* w is linked from now on: its parent is anc[w] */
	}
	process_bucket(&lt, 0);
	free(back);

	/* Relative dominators to immediate ones, in preorder so that
	 * next[next[w]] is final when read. */
	for (uint32_t w = 1; w < count; w++) {
		if (lt.next[w] != lt.semi[w])
			lt.next[w] = lt.next[lt.next[w]];
	}
	/* number -> node again, from dfnum (the offsets took vertex[]) */
	for (uint32_t v = 0; v < n; v++)
		if (dfnum[v] != NONE)
			lt.vertex[dfnum[v]] = v;
	for (uint32_t w = 1; w < count; w++) {
		uint32_t d = lt.next[w];
		idom[lt.vertex[w]] = d == 0 ? PCA_GRAPH_VIRTUAL_ROOT : lt.vertex[d];
	}

out:
	pca_graph_scratch_free(NARRAYS, arrays, owned);
	free(is_root);
	return err;
}

struct pca_error *pca_graph_retained(const struct pca_graph *g, const uint32_t *idom,
				     const uint64_t *size, uint64_t *retained)
{
	return pca_graph_retained_lent(g, idom, size, retained, NULL);
}

struct pca_error *pca_graph_retained_lent(const struct pca_graph *g, const uint32_t *idom,
					  const uint64_t *size, uint64_t *retained,
					  const struct pca_graph_lent *lent)
{
	static const uint32_t DONE = UINT32_MAX;
	const uint32_t n = g->n;

	/* pending[v] = children of v in the dominator tree not yet added. */
	void *array;
	bool owned;
	if (!pca_graph_scratch(lent, (uint64_t)n + 1, sizeof(uint32_t), 1, &array, &owned))
		return &pca_error_nomem;
	uint32_t *pending = array;
	memset(pending, 0, ((size_t)n + 1) * sizeof(*pending));
	for (uint32_t v = 0; v < n; v++) {
		uint32_t d = idom[v];
		if (d == PCA_GRAPH_VIRTUAL_ROOT || d == PCA_GRAPH_UNREACHABLE)
			continue;
		if (d >= n) {
			pca_graph_scratch_free(1, &array, &owned);
			return pca_error_create(PCA_ERROR_OTHER,
						"dominator of node %u is %u, but the graph has %u nodes",
						v, d, n);
		}
		pending[d]++;
	}
	for (uint32_t v = 0; v < n; v++)
		retained[v] = size[v];

	/* Start at each leaf and climb while the node above has every child
	 * in; a node is added to its parent exactly once. */
	uint32_t done = 0;
	for (uint32_t v = 0; v < n; v++) {
		uint32_t u = v;
		while (pending[u] == 0) {
			pending[u] = DONE;
			done++;
			uint32_t d = idom[u];
			if (d >= n)
				break;
			retained[d] += retained[u];
			pending[d]--;
			u = d;
		}
	}
	pca_graph_scratch_free(1, &array, &owned);
	if (done != n)
		return pca_error_create(PCA_ERROR_OTHER,
					"dominator array has a cycle: %u of %u nodes never reach a root",
					n - done, n);
	return NULL;
}

/* paths.c: breadth-first shortest paths from an ordered list of roots.
 *
 * One multi-source BFS: the roots enter the queue in their order of
 * preference, so each level of the queue is grouped by root in that order
 * and a node is first reached (and keeps its parent) from the earliest root
 * at its distance. parent[] doubles as the visited set.
 */
#include "graph/graph.h"

#include <stdlib.h>

struct pca_error *pca_graph_shortest_paths_filtered(const struct pca_graph *g,
						    const uint32_t *roots, size_t nroots,
						    pca_graph_edge_ok_fn edge_ok, void *ctx,
						    uint32_t *parent)
{
	const uint32_t n = g->n;
	struct pca_error *err = pca_graph_check_roots(g, roots, nroots);
	if (err)
		return err;
	/* Each node enters the queue at most once. */
	uint32_t *queue = pca_graph_alloc_array(n, sizeof(*queue));
	if (!queue)
		return &pca_error_nomem;

	for (uint32_t v = 0; v < n; v++)
		parent[v] = PCA_GRAPH_UNREACHABLE;
	uint32_t head = 0, tail = 0;
	for (size_t i = 0; i < nroots; i++) {
		if (parent[roots[i]] == PCA_GRAPH_UNREACHABLE) {
			parent[roots[i]] = PCA_GRAPH_VIRTUAL_ROOT;
			queue[tail++] = roots[i];
		}
	}
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint64_t p = g->out_start[u]; p < g->out_start[u + 1]; p++) {
			uint32_t v = g->out[p];
			if (parent[v] != PCA_GRAPH_UNREACHABLE)
				continue;
			if (edge_ok && !edge_ok(ctx, u, v))
				continue;
			parent[v] = u;
			queue[tail++] = v;
		}
	}
	free(queue);
	return NULL;
}

struct pca_error *pca_graph_shortest_paths(const struct pca_graph *g, const uint32_t *roots,
					   size_t nroots, uint32_t *parent)
{
	return pca_graph_shortest_paths_filtered(g, roots, nroots, NULL, NULL, parent);
}

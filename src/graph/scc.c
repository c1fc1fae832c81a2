/* scc.c: strongly connected components, Pearce's algorithm, iterative.
 *
 * Pearce (IPL 2016, PEA_FIND_SCC2) keeps one number per node, rindex, in
 * place of Tarjan's index + lowlink + on-stack flag: while a node is active
 * it holds the lowest DFS index reachable (Tarjan's lowlink); once its
 * component completes it holds the component id. Component ids count down
 * from n - 1 and DFS indices count up from 0, and `index` is given back as
 * nodes complete, so every active index stays below every component id:
 * "rindex[w] < rindex[v]" is then false for a completed w with no separate
 * on-stack test. We keep rindex in the caller's component[] array and
 * renumber at the end.
 *
 * A node is on at most one of the DFS call stack and Pearce's component
 * stack, so the two share one array of n, growing from either end. Each call
 * frame also needs its edge cursor (64 bits, the top bit holds Pearce's
 * `root` flag), indexed by depth.
 */
#include "graph/graph.h"

#include <stdlib.h>

static const uint32_t UNVISITED = UINT32_MAX;
static const uint64_t ROOT_FLAG = UINT64_C(1) << 63;

struct pca_error *pca_graph_scc(const struct pca_graph *g, uint32_t *component,
				uint32_t *ret_count)
{
	const uint32_t n = g->n;
	uint32_t *rindex = component;

	if (n == 0) {
		*ret_count = 0;
		return NULL;
	}
	/* call stack: stack[0 .. depth); component stack: stack[bottom .. n),
	 * its top at stack[bottom]. */
	uint32_t *stack = pca_graph_alloc_array(n, sizeof(*stack));
	uint64_t *cursor = pca_graph_alloc_array(n, sizeof(*cursor));
	if (!stack || !cursor) {
		free(stack);
		free(cursor);
		return &pca_error_nomem;
	}

	for (uint32_t v = 0; v < n; v++)
		rindex[v] = UNVISITED;

	uint32_t index = 0;   /* next DFS index == number of active nodes */
	uint32_t ncomps = 0;  /* the next component id is n - 1 - ncomps */
	uint32_t bottom = n;
	for (uint32_t start = 0; start < n; start++) {
		if (rindex[start] != UNVISITED)
			continue;
		uint32_t depth = 0;
		rindex[start] = index++;
		stack[depth] = start;
		cursor[depth] = g->out_start[start] | ROOT_FLAG;
		depth++;
		while (depth > 0) {
			uint32_t v = stack[depth - 1];
			uint64_t pos = cursor[depth - 1] & ~ROOT_FLAG;
			uint64_t root = cursor[depth - 1] & ROOT_FLAG;
			uint64_t end = g->out_start[v + 1];
			uint32_t child = UNVISITED;
			for (; pos < end; pos++) {
				uint32_t w = g->out[pos];
				if (rindex[w] == UNVISITED) {
					child = w;
					pos++;
					break;
				}
				if (rindex[w] < rindex[v]) {
					rindex[v] = rindex[w];
					root = 0;
				}
			}
			cursor[depth - 1] = pos | root;
			if (child != UNVISITED) {
				rindex[child] = index++;
				stack[depth] = child;
				cursor[depth] = g->out_start[child] | ROOT_FLAG;
				depth++;
				continue;
			}

			/* v is finished. */
			depth--;
			if (root) {
				uint32_t id = n - 1 - ncomps;
				index--;
				while (bottom < n && rindex[v] <= rindex[stack[bottom]]) {
					rindex[stack[bottom++]] = id;
					index--;
				}
				rindex[v] = id;
				ncomps++;
			} else {
				stack[--bottom] = v;
			}
			/* Back in the caller: what v reaches, its parent reaches. */
			if (depth > 0) {
				uint32_t u = stack[depth - 1];
				if (rindex[v] < rindex[u]) {
					rindex[u] = rindex[v];
					cursor[depth - 1] &= ~ROOT_FLAG;
				}
			}
		}
	}

	/* Ids n-1, n-2, ... in completion order become 0, 1, ... */
	for (uint32_t v = 0; v < n; v++)
		component[v] = n - 1 - component[v];
	free(stack);
	free(cursor);
	*ret_count = ncomps;
	return NULL;
}

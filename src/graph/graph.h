/* graph.h: the object graph as compressed arrays, and the algorithms over it:
 * strongly connected components, dominators and retained sizes, breadth-first
 * shortest paths.
 *
 * Nodes are dense uint32_t ids 0..n-1; the module knows nothing of Python or
 * cores (heap/ gives the ids, objects/ the edges). Sized for n up to ~200
 * million and ~1 billion edges: every array is allocated once at its final
 * size (never one allocation per node), every size is checked for overflow
 * before malloc, and every traversal is iterative with explicit stacks or
 * parent pointers, so a chain of any length cannot overflow the C stack.
 * Stack-like scratch arrays are allocated at their worst-case size (n); Linux
 * only makes resident the pages a traversal touches, so their real cost
 * follows the depth reached. The module does not validate what an edge means
 * or whether the graph is complete: callers decide what an edge is and say in
 * their output when a graph may be missing edges.
 *
 * Invariants: ids n-1 < PCA_GRAPH_VIRTUAL_ROOT, so the two sentinels below
 * are never node ids (pca_graph_build refuses n > PCA_GRAPH_MAX_NODES).
 * Edge lists keep duplicates and self-loops, in the order the edge source
 * gave them.
 *
 * Cost beyond the caller's output arrays (n = nodes, m = edges kept),
 * measured (peak RSS above the resident set before the call; -O2) on random
 * graphs of 10M nodes / 30M edges, 1000 roots, by `test_graph --bench`
 * (2026-12-03, times on a loaded machine: 5-10x a quiet one):
 *   pca_graph_build         4 B/node + 4 B/edge, kept (16 B/node here;
 *                           no reverse edges); no scratch.     3.1-5.6 s
 *   pca_graph_scc           4 B/node stack + 8 B per level of DFS depth
 *                           (at most 12 B/node; 7.3 B/node here). 30-50 s
 *   pca_graph_dominators    20 B per reached node + 4 B per back
 *                           predecessor + 1 bit/node (24.1 B/node here;
 *                           less with lent memory).            90 s
 *   pca_graph_retained      4 B/node (or lent).                1.4-1.8 s
 *   pca_graph_shortest_paths 4 B per reached node.             7-9 s
 * These random graphs are the worst case (every DFS jumps across the whole
 * id space); on heaps the same work is 5-20x faster. All of it is
 * dominated by cache and TLB misses on random ids, not by instruction
 * count.
 */
#ifndef PCA_GRAPH_GRAPH_H
#define PCA_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum {
	PCA_GRAPH_UNREACHABLE = UINT32_MAX,
	PCA_GRAPH_VIRTUAL_ROOT = UINT32_MAX - 1,
};

/* Largest n: ids 0..n-1 stay below both sentinels, and the dominator
 * algorithm numbers n + 1 vertices (the virtual root is one) without
 * reaching UINT32_MAX. */
static const uint32_t PCA_GRAPH_MAX_NODES = UINT32_MAX - 2;
/* Largest m: edge offsets are 32 bits (4 bytes per node and direction
 * instead of 8). A heap holds about 2 references per object, so this is
 * some 2 billion objects, a core of 100+ GiB; a graph beyond it is refused
 * with an error, never truncated. */
static const uint64_t PCA_GRAPH_MAX_EDGES = UINT32_MAX;

/* What the graph commands (report, top, cycles, caches, show, path, graph,
 * diff) cost at their peak beyond the census's own index (heap/), for an
 * estimate before a big core is opened (n objects, m references): peak =
 * PER_NODE * n + PER_EDGE * m. The peak is the dominator phase:
 *   kept for the output: forward edges 4 B/node + 4 B/edge (no reverse
 *     edges), retained 8 + owner-path parent 4 + root kind 1 + unreachable
 *     flag 1 = 18 B/node and 4 B/edge;
 *   dominators (Lengauer-Tarjan): 6 arrays of 4 B/node, 3 of them carved
 *     from retained and parent before those are filled, so 12 B/node more;
 *     the predecessors numbered above their target, 4 B each: at most one
 *     per edge (half of them on make_core.py heaps).
 * The census recording the references (heap/ PCA_HEAP_EDGES) costs 8 B/node
 * + 8 B/edge at its end, less than this. Measured on bench/make_core.py
 * heaps (3.12, m = 1.96 n): 62 B/object of anonymous memory in all at 10M
 * objects, 22 of them the census's index (docs/performance.md). */
static const uint64_t PCA_GRAPH_PEAK_BYTES_PER_NODE = 30;
static const uint64_t PCA_GRAPH_PEAK_BYTES_PER_EDGE = 8;
/* References per object, for an estimate before the census has counted
 * them: 1.96 on make_core.py heaps (records of instances, dicts, lists,
 * tuples, strs, ints, floats); containers of atoms hold more, strs none. */
static const uint64_t PCA_GRAPH_TYPICAL_EDGES_PER_NODE = 2;

struct pca_graph {
	uint32_t n;
	uint64_t nedges;
	uint32_t *out_start;  /* n + 1: edges of v are out[out_start[v] .. out_start[v+1]) */
	uint32_t *out;
	uint64_t dropped;     /* edges whose target was >= n, not kept */
};

/* Memory a caller lends to an algorithm for the length of one call: arrays
 * it has allocated but does not need yet (their contents are overwritten).
 * The algorithm carves its scratch arrays out of them first and allocates
 * only what does not fit, so the caller's peak is not the sum of both. */
enum { PCA_GRAPH_LENT_MAX = 4 };
struct pca_graph_lent {
	void *mem[PCA_GRAPH_LENT_MAX];
	size_t bytes[PCA_GRAPH_LENT_MAX];
	size_t count;
};

/* The edge source is called twice per node (count pass, fill pass) and must
 * give the same edges both times. If a node gets a different number of edges
 * the second time, pca_graph_build fails (it never writes past what the
 * count pass sized); different targets in equal number go undetected. */
typedef void (*pca_graph_emit_fn)(void *emit_ctx, uint32_t target);
typedef void (*pca_graph_edges_fn)(void *ctx, uint32_t node, pca_graph_emit_fn emit,
				   void *emit_ctx);

/* Two passes over the edge source (count, then fill), one allocation per
 * array. Targets >= n are dropped and counted in ret->dropped. No reverse
 * edges are kept (they would cost as much again): the dominator algorithm
 * groups the few predecessors it needs itself, and the reverse questions
 * of one object are answered by a scan (pca_graph_referrers). */
struct pca_error *pca_graph_build(uint32_t n, pca_graph_edges_fn edges, void *ctx,
				  struct pca_graph *ret);
void pca_graph_deinit(struct pca_graph *g);
/* A graph from forward arrays the caller built (out_start: n + 1 offsets,
 * out: out_start[n] targets, each < n), malloc'd; they become the graph's
 * (freed with it, also on error). The offsets are narrowed to 32 bits in
 * place. */
struct pca_error *pca_graph_adopt(uint32_t n, uint64_t *out_start, uint32_t *out,
				  struct pca_graph *ret);

/* ret[v] = number of edges into v (n entries). */
void pca_graph_in_degrees(const struct pca_graph *g, uint32_t *ret);
/* The number of edges into target; the sources of the first `max` of them,
 * in increasing order (a source twice for two edges), into ret. One scan of
 * every edge: for the questions about one object, not for loops. */
uint64_t pca_graph_referrers(const struct pca_graph *g, uint32_t target, uint32_t *ret,
			     size_t max);
/* The same for several targets in one scan: totals[i] edges into
 * targets[i], the sources of the first `max` of them at ret[i * max ...].
 * False if out of memory. */
bool pca_graph_referrers_many(const struct pca_graph *g, const uint32_t *targets, size_t ntargets,
			      uint32_t *ret, size_t max, uint64_t *totals);

/* Strongly connected components, Pearce's space-efficient variant of Tarjan
 * ("A space-efficient algorithm for finding strongly connected components",
 * IPL 2016), iterative. component[v] is in 0..*ret_count-1, numbered in the
 * order components complete, which is a reverse topological order: for an
 * edge u->v between two components, component[u] > component[v]. */
struct pca_error *pca_graph_scc(const struct pca_graph *g, uint32_t *component,
				uint32_t *ret_count);

/* Dominator tree from a virtual root whose children are `roots`
 * (Lengauer-Tarjan with simple path compression, iterative; O(m log n)).
 * idom[v] = immediate dominator of v, PCA_GRAPH_VIRTUAL_ROOT when only the
 * virtual root dominates it (every root, and every node reachable from two
 * roots through no shared node), PCA_GRAPH_UNREACHABLE when v is not
 * reachable from any root. Roots may repeat; a root >= n is an error. */
struct pca_error *pca_graph_dominators(const struct pca_graph *g, const uint32_t *roots,
				       size_t nroots, uint32_t *idom);
/* The same, with scratch carved from `lent` first (may be NULL): it needs
 * five arrays of n + 1 uint32_t. */
struct pca_error *pca_graph_dominators_lent(const struct pca_graph *g, const uint32_t *roots,
					    size_t nroots, uint32_t *idom,
					    const struct pca_graph_lent *lent);

/* retained[v] = size[v] + sum of retained of the nodes v immediately
 * dominates (size may be retained itself, holding the sizes on entry)
 * dominates (unreachable nodes: retained = size). One pass bottom-up over
 * the dominator tree, each node added to its idom once all of its own
 * children are in; no recursion. Fails if idom is not a forest (a cycle, or
 * an id >= n that is not a sentinel). Sums are not checked for overflow:
 * sizes are bytes of one address space. */
struct pca_error *pca_graph_retained(const struct pca_graph *g, const uint32_t *idom,
				     const uint64_t *size, uint64_t *retained);
/* The same with its one scratch array (n + 1 uint32_t) from `lent`. */
struct pca_error *pca_graph_retained_lent(const struct pca_graph *g, const uint32_t *idom,
					  const uint64_t *size, uint64_t *retained,
					  const struct pca_graph_lent *lent);

/* Breadth-first shortest paths from `roots`, in their order of preference: a
 * node reached at the same distance from an earlier root keeps that root.
 * parent[v] = previous node on a shortest path, PCA_GRAPH_VIRTUAL_ROOT for
 * roots, PCA_GRAPH_UNREACHABLE if unreached. Roots may repeat; a root >= n
 * is an error. */
struct pca_error *pca_graph_shortest_paths(const struct pca_graph *g, const uint32_t *roots,
					   size_t nroots, uint32_t *parent);

/* The same, following an edge u->v only when edge_ok(ctx, u, v) (NULL
 * follows every edge), e.g. to find a path that avoids weak references. */
typedef bool (*pca_graph_edge_ok_fn)(void *ctx, uint32_t from, uint32_t to);
struct pca_error *pca_graph_shortest_paths_filtered(const struct pca_graph *g,
						    const uint32_t *roots, size_t nroots,
						    pca_graph_edge_ok_fn edge_ok, void *ctx,
						    uint32_t *parent);

/* For the files of src/graph only. */

/* malloc(count * size), or NULL if that overflows size_t or malloc fails.
 * A count of 0 still returns a distinct pointer. */
void *pca_graph_alloc_array(uint64_t count, size_t size);
/* Scratch arrays of `count` elements of `size` bytes: carved from lent
 * buffers while they last (each buffer gives as many as fit), the rest
 * malloc'd. out[i] is the i-th array; owned[i] says whether it must be
 * freed. On failure (false) nothing stays allocated. */
bool pca_graph_scratch(const struct pca_graph_lent *lent, uint64_t count, size_t size,
		       size_t narrays, void **out, bool *owned);
void pca_graph_scratch_free(size_t narrays, void **arrays, const bool *owned);
/* An error naming the first root >= g->n, or NULL. */
struct pca_error *pca_graph_check_roots(const struct pca_graph *g, const uint32_t *roots,
					size_t nroots);

#endif

/* test_graph.c: the graph module (src/graph) on toy graphs with known
 * answers, on long chains and cycles run with a 64 KiB thread stack, and on
 * random graphs cross-checked against slow reference implementations
 * written here from the definitions:
 *   - SCC: u and v share a component iff each reaches the other (BFS from
 *     every node);
 *   - dominators: the data-flow definition Dom(v) = {v} + the intersection
 *     of Dom(p) over predecessors p, iterated to a fixed point with bitsets;
 *   - retained sizes: remove v, sum the sizes of what no root reaches any
 *     more;
 *   - shortest paths: one BFS per root; a node's path must end at the first
 *     root (in the given order) at its least distance.
 * The references read the test's own adjacency lists, not the CSR arrays
 * under test (whose build is checked against those lists separately).
 *
 * Run by hand, `test_graph --bench [nodes [edges [local]]]` times build,
 * scc, dominators, retained and paths on a random graph (default 10M nodes,
 * 30M edges; `local`: most edges between nearby ids, as in a heap indexed by
 * address) and prints each phase's peak RSS above what was resident before
 * it. Build it with -O2 and without sanitizers for meaningful figures. */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "graph/graph.h"

static const uint32_t VROOT = PCA_GRAPH_VIRTUAL_ROOT;
static const uint32_t UNREACH = PCA_GRAPH_UNREACHABLE;

/* ---- test graphs: edge pairs, grouped by source --------------------------- */

struct test_graph {
    uint32_t n;
    size_t m;
    size_t *start;  /* n + 1 */
    uint32_t *dst;  /* m, edges of v at dst[start[v] .. start[v+1]) */
    size_t *rstart; /* n + 1, reverse */
    uint32_t *rsrc;
};

struct pair {
    uint32_t from, to;
};

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    assert_non_null(p);
    return p;
}

/* Pairs keep their order within each source (counting sort). */
static void test_graph_init(struct test_graph *t, uint32_t n, const struct pair *pairs,
                            size_t m)
{
    t->n = n;
    t->m = m;
    t->start = xcalloc(n + 1, sizeof(*t->start));
    t->dst = xcalloc(m, sizeof(*t->dst));
    t->rstart = xcalloc(n + 1, sizeof(*t->rstart));
    t->rsrc = xcalloc(m, sizeof(*t->rsrc));
    for (size_t i = 0; i < m; i++) {
        assert_true(pairs[i].from < n && pairs[i].to < n);
        t->start[pairs[i].from + 1]++;
        t->rstart[pairs[i].to + 1]++;
    }
    for (uint32_t v = 0; v < n; v++) {
        t->start[v + 1] += t->start[v];
        t->rstart[v + 1] += t->rstart[v];
    }
    size_t *fill = xcalloc(n + 1, sizeof(*fill));
    size_t *rfill = xcalloc(n + 1, sizeof(*rfill));
    memcpy(fill, t->start, (n + 1) * sizeof(*fill));
    memcpy(rfill, t->rstart, (n + 1) * sizeof(*rfill));
    for (size_t i = 0; i < m; i++)
        t->dst[fill[pairs[i].from]++] = pairs[i].to;
    /* Reverse lists by source, so each target's sources are sorted. */
    for (uint32_t v = 0; v < n; v++) {
        for (size_t i = t->start[v]; i < t->start[v + 1]; i++)
            t->rsrc[rfill[t->dst[i]]++] = v;
    }
    free(fill);
    free(rfill);
}

static void test_graph_deinit(struct test_graph *t)
{
    free(t->start);
    free(t->dst);
    free(t->rstart);
    free(t->rsrc);
}

static void test_graph_edges(void *ctx, uint32_t node, pca_graph_emit_fn emit, void *emit_ctx)
{
    const struct test_graph *t = ctx;
    for (size_t i = t->start[node]; i < t->start[node + 1]; i++)
        emit(emit_ctx, t->dst[i]);
}

static void build(const struct test_graph *t, struct pca_graph *g)
{
    assert_null(pca_graph_build(t->n, test_graph_edges, (void *)t, g));
}

/* ---- random graphs --------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t rand_below(uint64_t *state, uint32_t bound)
{
    return (uint32_t)(splitmix64(state) % bound);
}

/* Random edges over a skeleton, and a few duplicates and self-loops. */
enum shape {
    SHAPE_NONE,  /* edges only */
    SHAPE_CHAIN, /* a path 0->1->...->n-1: a deep DFS */
    SHAPE_TREE,  /* each node under one of the 8 before it, like nested
                    containers: a tall, bushy dominator tree */
};

static void random_graph(struct test_graph *t, uint64_t seed, uint32_t n, size_t m,
                         enum shape shape)
{
    uint64_t state = seed;
    size_t cap = m + n + 8, count = 0;
    struct pair *pairs = xcalloc(cap, sizeof(*pairs));
    for (uint32_t v = 1; v < n && shape != SHAPE_NONE; v++) {
        uint32_t back = shape == SHAPE_CHAIN ? 1 : 1 + rand_below(&state, v < 8 ? v : 8);
        pairs[count++] = (struct pair){ v - back, v };
    }
    for (size_t i = 0; i < m; i++) {
        uint32_t from = rand_below(&state, n);
        uint32_t to = rand_below(&state, n);
        /* Mostly local edges, so components and dominator subtrees are
         * neither trivial nor one giant blob. */
        if (i % 3 != 0) {
            uint32_t span = 1 + rand_below(&state, 16);
            to = (uint32_t)(((uint64_t)from + n - span / 2 + rand_below(&state, span)) % n);
        }
        pairs[count++] = (struct pair){ from, to };
    }
    if (n > 0) {
        pairs[count++] = (struct pair){ 0, 0 };
        pairs[count++] = (struct pair){ n / 2, n / 3 };
        pairs[count++] = (struct pair){ n / 2, n / 3 };
    }
    test_graph_init(t, n, pairs, count);
    free(pairs);
}

static void random_roots(uint64_t seed, uint32_t n, uint32_t *roots, size_t nroots)
{
    uint64_t state = seed ^ 0x5eed;
    for (size_t i = 0; i < nroots; i++)
        roots[i] = rand_below(&state, n);
}

/* ---- reference implementations ------------------------------------------- */

/* BFS from `roots`, never entering `banned` (UNREACH: none), following only
 * edges edge_ok accepts. dist[v] = distance or UINT32_MAX. */
static void ref_bfs(const struct test_graph *t, const uint32_t *roots, size_t nroots,
                    uint32_t banned, pca_graph_edge_ok_fn edge_ok, void *ctx, uint32_t *dist)
{
    uint32_t *queue = xcalloc(t->n, sizeof(*queue));
    size_t head = 0, tail = 0;
    for (uint32_t v = 0; v < t->n; v++)
        dist[v] = UINT32_MAX;
    for (size_t i = 0; i < nroots; i++) {
        if (roots[i] != banned && dist[roots[i]] == UINT32_MAX) {
            dist[roots[i]] = 0;
            queue[tail++] = roots[i];
        }
    }
    while (head < tail) {
        uint32_t u = queue[head++];
        for (size_t i = t->start[u]; i < t->start[u + 1]; i++) {
            uint32_t v = t->dst[i];
            if (v == banned || dist[v] != UINT32_MAX)
                continue;
            if (edge_ok && !edge_ok(ctx, u, v))
                continue;
            dist[v] = dist[u] + 1;
            queue[tail++] = v;
        }
    }
    free(queue);
}

static void check_build(const struct test_graph *t, const struct pca_graph *g)
{
    assert_int_equal(g->n, t->n);
    assert_int_equal(g->nedges, t->m);
    assert_int_equal(g->out_start[0], 0);
    for (uint32_t v = 0; v < t->n; v++) {
        assert_int_equal(g->out_start[v + 1], t->start[v + 1]);
        for (size_t i = t->start[v]; i < t->start[v + 1]; i++)
            assert_int_equal(g->out[i], t->dst[i]);
        /* Sources of in-edges in increasing order, as in the reference. */
        uint64_t indeg = t->rstart[v + 1] - t->rstart[v];
        uint32_t *src = xcalloc(indeg + 1, sizeof(*src));
        assert_int_equal(pca_graph_referrers(g, v, src, indeg), indeg);
        for (size_t i = t->rstart[v]; i < t->rstart[v + 1]; i++)
            assert_int_equal(src[i - t->rstart[v]], t->rsrc[i]);
        free(src);
    }
}

/* SCC by pairwise reachability; also checks the reverse topological order
 * of component ids. */
static void check_scc(const struct test_graph *t, const uint32_t *component, uint32_t count)
{
    uint32_t n = t->n;
    size_t words = n / 64 + 1;
    uint64_t *reach = xcalloc((size_t)n * words, sizeof(*reach));
    uint32_t *dist = xcalloc(n, sizeof(*dist));
    for (uint32_t u = 0; u < n; u++) {
        ref_bfs(t, &u, 1, UNREACH, NULL, NULL, dist);
        for (uint32_t v = 0; v < n; v++) {
            if (dist[v] != UINT32_MAX)
                reach[(size_t)u * words + v / 64] |= UINT64_C(1) << (v % 64);
        }
    }
    uint32_t *first = xcalloc(count, sizeof(*first)); /* a member of each id */
    bool *seen = xcalloc(count, sizeof(*seen));
    uint32_t distinct = 0;
    for (uint32_t v = 0; v < n; v++) {
        assert_true(component[v] < count);
        if (!seen[component[v]]) {
            seen[component[v]] = true;
            first[component[v]] = v;
            distinct++;
        }
    }
    assert_int_equal(distinct, count);
    for (uint32_t v = 0; v < n; v++) {
        uint32_t u = first[component[v]];
        bool uv = reach[(size_t)u * words + v / 64] >> (v % 64) & 1;
        bool vu = reach[(size_t)v * words + u / 64] >> (u % 64) & 1;
        assert_true(uv && vu);
    }
    for (uint32_t u = 0; u < count; u++) {
        for (uint32_t w = u + 1; w < count; w++) {
            uint32_t a = first[u], b = first[w];
            bool ab = reach[(size_t)a * words + b / 64] >> (b % 64) & 1;
            bool ba = reach[(size_t)b * words + a / 64] >> (a % 64) & 1;
            assert_false(ab && ba);
        }
    }
    for (uint32_t u = 0; u < n; u++) {
        for (size_t i = t->start[u]; i < t->start[u + 1]; i++)
            assert_true(component[u] >= component[t->dst[i]]);
    }
    free(reach);
    free(dist);
    free(first);
    free(seen);
}

/* Dominators by the iterative data-flow definition over bitsets. Vertex n is
 * the virtual root, predecessor of every root. */
static void ref_dominators(const struct test_graph *t, const uint32_t *roots, size_t nroots,
                           uint32_t *idom)
{
    uint32_t n = t->n;
    size_t words = (n + 1) / 64 + 1;
    uint64_t *dom = xcalloc((size_t)(n + 1) * words, sizeof(*dom));
    uint64_t *tmp = xcalloc(words, sizeof(*tmp));
    bool *is_root = xcalloc(n, sizeof(*is_root));
    uint32_t *dist = xcalloc(n, sizeof(*dist));
    ref_bfs(t, roots, nroots, UNREACH, NULL, NULL, dist);
    for (size_t i = 0; i < nroots; i++)
        is_root[roots[i]] = true;
    dom[(size_t)n * words + n / 64] = UINT64_C(1) << (n % 64);
    for (uint32_t v = 0; v < n; v++) {
        for (size_t k = 0; k < words; k++)
            dom[(size_t)v * words + k] = UINT64_MAX;
    }
    bool changed = true;
    while (changed) {
        changed = false;
        for (uint32_t v = 0; v < n; v++) {
            if (dist[v] == UINT32_MAX)
                continue;
            for (size_t k = 0; k < words; k++)
                tmp[k] = UINT64_MAX;
            if (is_root[v]) {
                for (size_t k = 0; k < words; k++)
                    tmp[k] &= dom[(size_t)n * words + k];
            }
            for (size_t i = t->rstart[v]; i < t->rstart[v + 1]; i++) {
                uint32_t p = t->rsrc[i];
                if (dist[p] == UINT32_MAX)
                    continue;
                for (size_t k = 0; k < words; k++)
                    tmp[k] &= dom[(size_t)p * words + k];
            }
            tmp[v / 64] |= UINT64_C(1) << (v % 64);
            if (memcmp(tmp, &dom[(size_t)v * words], words * sizeof(*tmp)) != 0) {
                memcpy(&dom[(size_t)v * words], tmp, words * sizeof(*tmp));
                changed = true;
            }
        }
    }
    /* idom(v): the strict dominator that all the others dominate, i.e. the
     * one whose own set is exactly one smaller. */
    uint32_t *set_size = xcalloc(n + 1, sizeof(*set_size));
    for (uint32_t v = 0; v <= n; v++) {
        for (size_t k = 0; k < words; k++)
            set_size[v] += (uint32_t)__builtin_popcountll(dom[(size_t)v * words + k]);
    }
    for (uint32_t v = 0; v < n; v++) {
        if (dist[v] == UINT32_MAX) {
            idom[v] = UNREACH;
            continue;
        }
        idom[v] = UNREACH - 2; /* not found: fails the comparison */
        for (uint32_t d = 0; d <= n; d++) {
            if (d != v && (dom[(size_t)v * words + d / 64] >> (d % 64) & 1) &&
                set_size[d] + 1 == set_size[v])
                idom[v] = d == n ? VROOT : d;
        }
    }
    free(set_size);
    free(dom);
    free(tmp);
    free(is_root);
    free(dist);
}

/* retained[v] = sizes of the nodes the roots no longer reach without v. */
static void ref_retained(const struct test_graph *t, const uint32_t *roots, size_t nroots,
                         const uint64_t *size, uint64_t *retained)
{
    uint32_t n = t->n;
    uint32_t *all = xcalloc(n, sizeof(*all));
    uint32_t *without = xcalloc(n, sizeof(*without));
    ref_bfs(t, roots, nroots, UNREACH, NULL, NULL, all);
    for (uint32_t v = 0; v < n; v++) {
        if (all[v] == UINT32_MAX) {
            retained[v] = size[v];
            continue;
        }
        ref_bfs(t, roots, nroots, v, NULL, NULL, without);
        retained[v] = 0;
        for (uint32_t u = 0; u < n; u++) {
            if (all[u] != UINT32_MAX && without[u] == UINT32_MAX)
                retained[v] += size[u];
        }
    }
    free(all);
    free(without);
}

static bool has_edge(const struct test_graph *t, uint32_t u, uint32_t v)
{
    for (size_t i = t->start[u]; i < t->start[u + 1]; i++) {
        if (t->dst[i] == v)
            return true;
    }
    return false;
}

/* parent[] from pca_graph_shortest_paths*: distances exact, each step an
 * accepted edge, each path ending at the first root at that distance. */
static void check_paths(const struct test_graph *t, const uint32_t *roots, size_t nroots,
                        pca_graph_edge_ok_fn edge_ok, void *ctx, const uint32_t *parent)
{
    uint32_t n = t->n;
    uint32_t *dist = xcalloc(n, sizeof(*dist));
    uint32_t *dist_i = xcalloc((size_t)n * (nroots ? nroots : 1), sizeof(*dist_i));
    ref_bfs(t, roots, nroots, UNREACH, edge_ok, ctx, dist);
    for (size_t i = 0; i < nroots; i++)
        ref_bfs(t, &roots[i], 1, UNREACH, edge_ok, ctx, &dist_i[i * n]);
    for (uint32_t v = 0; v < n; v++) {
        if (dist[v] == UINT32_MAX) {
            assert_int_equal(parent[v], UNREACH);
            continue;
        }
        size_t expected_root = 0;
        while (dist_i[expected_root * n + v] != dist[v])
            expected_root++;
        uint32_t u = v, steps = 0;
        while (parent[u] != VROOT) {
            uint32_t p = parent[u];
            assert_true(p < n);
            assert_true(has_edge(t, p, u));
            assert_true(!edge_ok || edge_ok(ctx, p, u));
            assert_int_equal(dist[p] + 1, dist[u]);
            u = p;
            steps++;
        }
        assert_int_equal(steps, dist[v]);
        assert_int_equal(u, roots[expected_root]);
    }
    free(dist);
    free(dist_i);
}

/* ---- toy graphs with known answers --------------------------------------- */

#define PAIRS(...) ((const struct pair[]){ __VA_ARGS__ })

/* Same-component relation given as a label per node (any numbering). */
static void expect_scc(uint32_t n, const struct pair *pairs, size_t m, const uint32_t *labels,
                       uint32_t expected_count)
{
    struct test_graph t;
    struct pca_graph g;
    test_graph_init(&t, n, pairs, m);
    build(&t, &g);
    check_build(&t, &g);
    uint32_t *component = xcalloc(n, sizeof(*component));
    uint32_t count = 12345;
    assert_null(pca_graph_scc(&g, component, &count));
    assert_int_equal(count, expected_count);
    for (uint32_t u = 0; u < n; u++) {
        for (uint32_t v = 0; v < n; v++)
            assert_int_equal(component[u] == component[v], labels[u] == labels[v]);
    }
    check_scc(&t, component, count);
    free(component);
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

static void test_scc_toys(void **state)
{
    (void)state;
    /* self-loop, and a node with none */
    expect_scc(2, PAIRS({ 0, 0 }), 1, (const uint32_t[]){ 0, 1 }, 2);
    /* 2-cycle fed by a third node */
    expect_scc(3, PAIRS({ 0, 1 }, { 1, 0 }, { 2, 0 }), 3, (const uint32_t[]){ 0, 0, 1 }, 2);
    /* nested cycles: 0-1-2 and 1-3-4 share 1; 5-6 below them */
    expect_scc(7,
               PAIRS({ 0, 1 }, { 1, 2 }, { 2, 0 }, { 1, 3 }, { 3, 4 }, { 4, 1 }, { 4, 5 },
                     { 5, 6 }, { 6, 5 }),
               9, (const uint32_t[]){ 0, 0, 0, 0, 0, 1, 1 }, 2);
    /* DAG: every node alone */
    expect_scc(4, PAIRS({ 0, 1 }, { 0, 2 }, { 1, 3 }, { 2, 3 }), 4,
               (const uint32_t[]){ 0, 1, 2, 3 }, 4);
    /* disconnected: two cycles, an isolated node, duplicate edges */
    expect_scc(6, PAIRS({ 0, 1 }, { 1, 0 }, { 1, 0 }, { 2, 3 }, { 3, 4 }, { 4, 2 }), 6,
               (const uint32_t[]){ 0, 0, 1, 1, 1, 2 }, 3);
    /* a component reached twice from the DFS, through a node finished
     * earlier */
    expect_scc(5, PAIRS({ 0, 1 }, { 1, 2 }, { 2, 1 }, { 0, 3 }, { 3, 2 }, { 3, 4 }, { 4, 3 }),
               7, (const uint32_t[]){ 0, 1, 1, 2, 2 }, 3);
}

static void test_scc_empty(void **state)
{
    (void)state;
    struct pca_graph g;
    struct test_graph t;
    test_graph_init(&t, 0, NULL, 0);
    build(&t, &g);
    uint32_t count = 7, dummy = 0;
    assert_null(pca_graph_scc(&g, &dummy, &count));
    assert_int_equal(count, 0);
    assert_null(pca_graph_dominators(&g, NULL, 0, &dummy));
    uint64_t size = 0, retained = 0;
    assert_null(pca_graph_retained(&g, &dummy, &size, &retained));
    assert_null(pca_graph_shortest_paths(&g, NULL, 0, &dummy));
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

static void expect_dominators(uint32_t n, const struct pair *pairs, size_t m,
                              const uint32_t *roots, size_t nroots, const uint32_t *expected)
{
    struct test_graph t;
    struct pca_graph g;
    test_graph_init(&t, n, pairs, m);
    build(&t, &g);
    uint32_t *idom = xcalloc(n, sizeof(*idom));
    uint32_t *ref = xcalloc(n, sizeof(*ref));
    assert_null(pca_graph_dominators(&g, roots, nroots, idom));
    ref_dominators(&t, roots, nroots, ref);
    for (uint32_t v = 0; v < n; v++) {
        assert_int_equal(idom[v], expected[v]);
        assert_int_equal(ref[v], expected[v]); /* the reference agrees too */
    }
    free(idom);
    free(ref);
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

static void test_dominators_toys(void **state)
{
    (void)state;
    /* diamond */
    expect_dominators(4, PAIRS({ 0, 1 }, { 0, 2 }, { 1, 3 }, { 2, 3 }), 4,
                      (const uint32_t[]){ 0 }, 1, (const uint32_t[]){ VROOT, 0, 0, 0 });
    /* loop 1-2-3 entered at 1, exit from 2; a self-loop on 4 */
    expect_dominators(5, PAIRS({ 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 1 }, { 2, 4 }, { 4, 4 }), 6,
                      (const uint32_t[]){ 0 }, 1, (const uint32_t[]){ VROOT, 0, 1, 2, 2 });
    /* loop entered at two places: neither entry dominates the other */
    expect_dominators(4, PAIRS({ 0, 1 }, { 0, 2 }, { 1, 2 }, { 2, 1 }, { 2, 3 }), 5,
                      (const uint32_t[]){ 0 }, 1, (const uint32_t[]){ VROOT, 0, 0, 2 });
    /* two roots meeting at 2; 1 only under root 0 */
    expect_dominators(4, PAIRS({ 0, 1 }, { 1, 2 }, { 3, 2 }), 3, (const uint32_t[]){ 0, 3 }, 2,
                      (const uint32_t[]){ VROOT, 0, VROOT, VROOT });
    /* reachable from two roots only through shared node 2: 2 dominates
     * 3 and 4, and nothing but the virtual root dominates 2 */
    expect_dominators(5, PAIRS({ 0, 2 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 2, 4 }), 5,
                      (const uint32_t[]){ 0, 1 }, 2,
                      (const uint32_t[]){ VROOT, VROOT, VROOT, 2, 2 });
    /* unreachable nodes, one with an edge into the reachable part; a root
     * that another root also reaches; a repeated root */
    expect_dominators(6, PAIRS({ 0, 1 }, { 1, 2 }, { 4, 2 }, { 5, 4 }, { 0, 3 }), 5,
                      (const uint32_t[]){ 0, 1, 0 }, 3,
                      (const uint32_t[]){ VROOT, VROOT, 1, 0, UNREACH, UNREACH });
    /* no roots: nothing reachable */
    expect_dominators(2, PAIRS({ 0, 1 }), 1, NULL, 0, (const uint32_t[]){ UNREACH, UNREACH });
}

static void test_retained_toys(void **state)
{
    (void)state;
    /* diamond under 0, plus unreachable 4 -> 3 */
    struct test_graph t;
    struct pca_graph g;
    const struct pair pairs[] = { { 0, 1 }, { 0, 2 }, { 1, 3 }, { 2, 3 }, { 4, 3 }, { 3, 5 } };
    test_graph_init(&t, 6, pairs, 6);
    build(&t, &g);
    const uint32_t roots[] = { 0 };
    const uint64_t size[] = { 1, 10, 100, 1000, 10000, 100000 };
    uint32_t idom[6];
    uint64_t retained[6];
    assert_null(pca_graph_dominators(&g, roots, 1, idom));
    assert_null(pca_graph_retained(&g, idom, size, retained));
    const uint64_t expected[] = { 101111, 10, 100, 101000, 10000, 100000 };
    for (int v = 0; v < 6; v++)
        assert_int_equal(retained[v], expected[v]);

    /* not a tree: errors, not a hang */
    uint32_t cyclic[6] = { VROOT, 2, 1, 0, UNREACH, 3 };
    struct pca_error *err = pca_graph_retained(&g, cyclic, size, retained);
    assert_non_null(err);
    assert_int_equal(err->code, PCA_ERROR_OTHER);
    assert_non_null(strstr(err->message, "cycle"));
    pca_error_destroy(err);
    uint32_t bad[6] = { VROOT, 0, 0, 0, 17, 0 };
    err = pca_graph_retained(&g, bad, size, retained);
    assert_non_null(err);
    assert_non_null(strstr(err->message, "node 4 is 17"));
    pca_error_destroy(err);
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

static bool skip_odd_sum(void *ctx, uint32_t from, uint32_t to)
{
    (void)ctx;
    return (from + to) % 2 == 0;
}

static void test_paths_toys(void **state)
{
    (void)state;
    struct test_graph t;
    struct pca_graph g;
    /* 0 -> 1 -> 2 -> 3, 4 -> 3, 4 -> 5 -> 2; 6 unreachable */
    const struct pair pairs[] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 4, 3 }, { 4, 5 }, { 5, 2 }, { 6, 0 } };
    test_graph_init(&t, 7, pairs, 7);
    build(&t, &g);
    uint32_t parent[7];

    /* Root 4 first: 2 is at distance 2 from both roots, and goes to 4's. */
    assert_null(pca_graph_shortest_paths(&g, (const uint32_t[]){ 4, 0 }, 2, parent));
    const uint32_t expect_40[] = { VROOT, 0, 5, 4, VROOT, 4, UNREACH };
    for (int v = 0; v < 7; v++)
        assert_int_equal(parent[v], expect_40[v]);
    /* Root 0 first: 2 goes to 0's side. */
    assert_null(pca_graph_shortest_paths(&g, (const uint32_t[]){ 0, 4 }, 2, parent));
    const uint32_t expect_04[] = { VROOT, 0, 1, 4, VROOT, 4, UNREACH };
    for (int v = 0; v < 7; v++)
        assert_int_equal(parent[v], expect_04[v]);
    /* Only edges with an even sum of ends: 0->1 (odd) is refused. */
    assert_null(pca_graph_shortest_paths_filtered(&g, (const uint32_t[]){ 0 }, 1, skip_odd_sum,
                                                  NULL, parent));
    for (int v = 1; v < 7; v++)
        assert_int_equal(parent[v], UNREACH);
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

static void test_bad_roots(void **state)
{
    (void)state;
    struct test_graph t;
    struct pca_graph g;
    test_graph_init(&t, 3, PAIRS({ 0, 1 }), 1);
    build(&t, &g);
    uint32_t out[3];
    const uint32_t roots[] = { 0, 3 };
    struct pca_error *err = pca_graph_dominators(&g, roots, 2, out);
    assert_non_null(err);
    assert_int_equal(err->code, PCA_ERROR_OTHER);
    assert_string_equal(err->message, "graph root 1 is node 3, but the graph has 3 nodes");
    pca_error_destroy(err);
    err = pca_graph_shortest_paths(&g, roots, 2, out);
    assert_non_null(err);
    assert_string_equal(err->message, "graph root 1 is node 3, but the graph has 3 nodes");
    pca_error_destroy(err);
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

/* ---- build: dropped targets, inconsistent sources ------------------------- */

static void dropping_edges(void *ctx, uint32_t node, pca_graph_emit_fn emit, void *emit_ctx)
{
    (void)ctx;
    emit(emit_ctx, node);       /* self-loop, kept */
    emit(emit_ctx, node + 100); /* out of range, dropped */
    emit(emit_ctx, UINT32_MAX); /* out of range, dropped */
    emit(emit_ctx, 0);          /* duplicate for node 0, kept */
}

/* Gives node 1 one more (or one fewer) edge on the second pass. */
struct flaky {
    int calls_for_1;
    int change;
};

static void flaky_edges(void *ctx, uint32_t node, pca_graph_emit_fn emit, void *emit_ctx)
{
    struct flaky *f = ctx;
    int count = 2;
    if (node == 1 && f->calls_for_1++ == 1)
        count += f->change;
    for (int i = 0; i < count; i++)
        emit(emit_ctx, (node + (uint32_t)i) % 3);
}

static void test_build_edges(void **state)
{
    (void)state;
    struct pca_graph g;
    assert_null(pca_graph_build(3, dropping_edges, NULL, &g));
    assert_int_equal(g.nedges, 6);
    assert_int_equal(g.dropped, 6);
    const uint32_t out[] = { 0, 0, 1, 0, 2, 0 };
    for (int i = 0; i < 6; i++)
        assert_int_equal(g.out[i], out[i]);
    /* node 0 is the target of (0,0) twice, (1,0), (2,0): sources sorted */
    const uint32_t in0[] = { 0, 0, 1, 2 };
    uint32_t src[4], indeg[3];
    assert_int_equal(pca_graph_referrers(&g, 0, src, 4), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(src[i], in0[i]);
    /* at most `max` listed, all counted */
    assert_int_equal(pca_graph_referrers(&g, 0, src, 1), 4);
    assert_int_equal(src[0], 0);
    /* several targets in one scan, the first `max` sources of each */
    const uint32_t targets[] = { 2, 0 };
    uint32_t many[4];
    uint64_t totals[2];
    assert_true(pca_graph_referrers_many(&g, targets, 2, many, 2, totals));
    assert_int_equal(totals[0], 1);
    assert_int_equal(totals[1], 4);
    assert_int_equal(many[0], 2);
    assert_int_equal(many[2], 0);
    assert_int_equal(many[3], 0);
    pca_graph_in_degrees(&g, indeg);
    assert_int_equal(indeg[0], 4);
    assert_int_equal(indeg[1], 1);
    assert_int_equal(indeg[2], 1);
    pca_graph_deinit(&g);

    for (int change = -1; change <= 1; change += 2) {
        struct flaky f = { .change = change };
        struct pca_error *err = pca_graph_build(3, flaky_edges, &f, &g);
        assert_non_null(err);
        assert_int_equal(err->code, PCA_ERROR_OTHER);
        assert_non_null(strstr(err->message, change > 0 ? "node 1 more edges" : "node 1 fewer edges"));
        pca_error_destroy(err);
    }
}

/* ---- deep graphs on a small stack ------------------------------------------ */

enum { DEEP_N = 1000000 };

/* 0 -> 1 -> ... -> n-1, closed into a cycle (n-1 -> 0) and given back
 * edges i -> i/2 when `cycle`: one component, and long compressed paths in
 * the dominator computation. */
static void deep_edges(void *ctx, uint32_t node, pca_graph_emit_fn emit, void *emit_ctx)
{
    bool cycle = *(const bool *)ctx;
    if (node + 1 < DEEP_N)
        emit(emit_ctx, node + 1);
    else if (cycle)
        emit(emit_ctx, 0);
    if (cycle && node > 0)
        emit(emit_ctx, node / 2);
}

struct deep_run {
    bool cycle;
    struct pca_error *err[5];
    uint32_t count;
    uint32_t *component, *idom, *parent;
    uint64_t *size, *retained;
};

static void *deep_thread(void *arg)
{
    struct deep_run *r = arg;
    struct pca_graph g;
    uint32_t root = 0;
    r->err[0] = pca_graph_build(DEEP_N, deep_edges, &r->cycle, &g);
    if (r->err[0])
        return NULL;
    r->err[1] = pca_graph_scc(&g, r->component, &r->count);
    r->err[2] = pca_graph_dominators(&g, &root, 1, r->idom);
    if (!r->err[2])
        r->err[3] = pca_graph_retained(&g, r->idom, r->size, r->retained);
    r->err[4] = pca_graph_shortest_paths(&g, &root, 1, r->parent);
    pca_graph_deinit(&g);
    return NULL;
}

static void run_deep(bool cycle)
{
    struct deep_run r = { .cycle = cycle };
    r.component = xcalloc(DEEP_N, sizeof(uint32_t));
    r.idom = xcalloc(DEEP_N, sizeof(uint32_t));
    r.parent = xcalloc(DEEP_N, sizeof(uint32_t));
    r.size = xcalloc(DEEP_N, sizeof(uint64_t));
    r.retained = xcalloc(DEEP_N, sizeof(uint64_t));
    for (uint32_t v = 0; v < DEEP_N; v++)
        r.size[v] = 1;

    /* The algorithms must not need the stack: give them 64 KiB. */
    pthread_attr_t attr;
    pthread_t thread;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
    assert_int_equal(pthread_create(&thread, &attr, deep_thread, &r), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    pthread_attr_destroy(&attr);

    for (int i = 0; i < 5; i++)
        assert_null(r.err[i]);
    assert_int_equal(r.count, cycle ? 1 : DEEP_N);
    for (uint32_t v = 0; v < DEEP_N; v++) {
        /* a chain completes from its end: node v is component n-1-v */
        assert_int_equal(r.component[v], cycle ? 0 : DEEP_N - 1 - v);
        assert_int_equal(r.idom[v], v == 0 ? VROOT : v - 1);
        assert_int_equal(r.parent[v], v == 0 ? VROOT : v - 1);
        assert_int_equal(r.retained[v], DEEP_N - v);
    }
    free(r.component);
    free(r.idom);
    free(r.parent);
    free(r.size);
    free(r.retained);
}

static void test_deep_chain(void **state)
{
    (void)state;
    run_deep(false);
}

static void test_deep_cycle(void **state)
{
    (void)state;
    run_deep(true);
}

/* ---- random graphs against the references -------------------------------- */

static bool edge_ok_hash(void *ctx, uint32_t from, uint32_t to)
{
    (void)ctx;
    return (from * 7 + to * 13) % 5 != 0;
}

static void check_random(uint64_t seed, uint32_t n, size_t m, enum shape shape, size_t nroots)
{
    struct test_graph t;
    struct pca_graph g;
    random_graph(&t, seed, n, m, shape);
    build(&t, &g);
    check_build(&t, &g);

    uint32_t *component = xcalloc(n, sizeof(*component));
    uint32_t count;
    assert_null(pca_graph_scc(&g, component, &count));
    check_scc(&t, component, count);

    uint32_t *roots = xcalloc(nroots, sizeof(*roots));
    random_roots(seed, n, roots, nroots);
    if (shape == SHAPE_TREE)
        roots[0] = 0; /* the top of the tree, so that most of it is reached */
    uint32_t *idom = xcalloc(n, sizeof(*idom));
    uint32_t *ref_idom = xcalloc(n, sizeof(*ref_idom));
    assert_null(pca_graph_dominators(&g, roots, nroots, idom));
    ref_dominators(&t, roots, nroots, ref_idom);
    for (uint32_t v = 0; v < n; v++)
        assert_int_equal(idom[v], ref_idom[v]);

    uint64_t *size = xcalloc(n, sizeof(*size));
    uint64_t *retained = xcalloc(n, sizeof(*retained));
    uint64_t *ref_ret = xcalloc(n, sizeof(*ref_ret));
    uint64_t state = seed * 3 + 1;
    for (uint32_t v = 0; v < n; v++)
        size[v] = 16 + rand_below(&state, 1000);
    assert_null(pca_graph_retained(&g, idom, size, retained));
    ref_retained(&t, roots, nroots, size, ref_ret);
    for (uint32_t v = 0; v < n; v++)
        assert_int_equal(retained[v], ref_ret[v]);

    uint32_t *parent = xcalloc(n, sizeof(*parent));
    assert_null(pca_graph_shortest_paths(&g, roots, nroots, parent));
    check_paths(&t, roots, nroots, NULL, NULL, parent);
    assert_null(pca_graph_shortest_paths_filtered(&g, roots, nroots, edge_ok_hash, NULL, parent));
    check_paths(&t, roots, nroots, edge_ok_hash, NULL, parent);

    free(component);
    free(roots);
    free(idom);
    free(ref_idom);
    free(size);
    free(retained);
    free(ref_ret);
    free(parent);
    pca_graph_deinit(&g);
    test_graph_deinit(&t);
}

static void test_random_small(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        uint64_t s = seed;
        uint32_t n = 1 + rand_below(&s, 40);
        size_t m = rand_below(&s, 3 * n + 1);
        check_random(seed, n, m, (enum shape)(seed % 3), 1 + seed % 4);
    }
}

static void test_random_large(void **state)
{
    (void)state;
    check_random(1001, 2000, 5000, SHAPE_NONE, 1);
    check_random(1002, 3000, 9000, SHAPE_NONE, 5);
    check_random(1003, 2500, 2500, SHAPE_CHAIN, 3);
    check_random(1004, 3000, 1500, SHAPE_NONE, 40); /* sparse: many small pieces */
    check_random(1005, 1500, 12000, SHAPE_CHAIN, 2); /* dense */
    check_random(1006, 3000, 300, SHAPE_TREE, 1);    /* tree, few cross edges */
    check_random(1007, 3000, 1500, SHAPE_TREE, 4);
}

/* ---- timing by hand ------------------------------------------------------- */

struct bench_graph {
    uint32_t n;
    uint32_t avg_degree2; /* degrees are uniform in 0 .. avg_degree2 */
    bool local;           /* 2 edges in 3 to ids within 64: objects
                             allocated together, as in a real heap */
};

static uint64_t mix(uint64_t x)
{
    uint64_t s = x;
    return splitmix64(&s);
}

static void bench_edges(void *ctx, uint32_t node, pca_graph_emit_fn emit, void *emit_ctx)
{
    const struct bench_graph *b = ctx;
    uint32_t degree = (uint32_t)(mix(node) % (b->avg_degree2 + 1));
    for (uint32_t k = 0; k < degree; k++) {
        uint64_t r = mix((uint64_t)node << 20 | k);
        if (b->local && r % 3 != 0)
            emit(emit_ctx, (uint32_t)(((uint64_t)node + b->n - 64 + (r >> 32) % 128) % b->n));
        else
            emit(emit_ctx, (uint32_t)(r % b->n));
    }
}

static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t len = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':')
            kib = strtol(line + len + 1, NULL, 10);
    }
    fclose(f);
    return kib;
}

struct phase {
    struct timespec t0;
    long rss0;
};

static void phase_start(struct phase *p)
{
    /* 5 resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+). */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
    p->rss0 = status_kib("VmRSS");
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

static void phase_end(const struct phase *p, const char *name, uint32_t n)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - p->t0.tv_sec) + (double)(t1.tv_nsec - p->t0.tv_nsec) / 1e9;
    long peak = status_kib("VmHWM");
    double extra = (double)(peak - p->rss0) * 1024;
    printf("%-12s %7.2f s  %6.1f ns/node  peak RSS %6ld MiB  (+%6.1f MiB = %5.1f B/node)\n",
           name, s, s * 1e9 / n, peak / 1024, extra / 1048576, extra / n);
}

static int bench(uint32_t n, uint64_t m, bool local)
{
    struct bench_graph b = { .n = n, .avg_degree2 = (uint32_t)(2 * m / n), .local = local };
    struct pca_graph g;
    struct phase p;
    size_t nroots = 1000;
    uint32_t *roots = malloc(nroots * sizeof(*roots));
    uint32_t *component = malloc((size_t)n * sizeof(*component));
    uint32_t *idom = malloc((size_t)n * sizeof(*idom));
    uint64_t *size = malloc((size_t)n * sizeof(*size));
    uint64_t *retained = malloc((size_t)n * sizeof(*retained));
    if (!roots || !component || !idom || !size || !retained)
        return 1;
    random_roots(7, n, roots, nroots);
    /* Make the outputs resident first, so the phases count only their own
     * scratch (not 0: malloc + memset 0 may become calloc, untouched). */
    memset(component, 0xff, (size_t)n * sizeof(*component));
    memset(idom, 0xff, (size_t)n * sizeof(*idom));
    memset(retained, 0xff, (size_t)n * sizeof(*retained));
    for (uint32_t v = 0; v < n; v++)
        size[v] = 16 + v % 512;

    phase_start(&p);
    if (pca_graph_build(n, bench_edges, &b, &g))
        return 1;
    phase_end(&p, "build", n);
    printf("             %u nodes, %" PRIu64 " edges\n", n, g.nedges);

    uint32_t count;
    phase_start(&p);
    if (pca_graph_scc(&g, component, &count))
        return 1;
    phase_end(&p, "scc", n);
    printf("             %u components\n", count);

    phase_start(&p);
    if (pca_graph_dominators(&g, roots, nroots, idom))
        return 1;
    phase_end(&p, "dominators", n);
    uint32_t reached = 0, under_vroot = 0;
    for (uint32_t v = 0; v < n; v++) {
        reached += idom[v] != UNREACH;
        under_vroot += idom[v] == VROOT;
    }
    printf("             %u reached, %u dominated by the virtual root only\n", reached, under_vroot);

    phase_start(&p);
    if (pca_graph_retained(&g, idom, size, retained))
        return 1;
    phase_end(&p, "retained", n);

    phase_start(&p);
    if (pca_graph_shortest_paths(&g, roots, nroots, component))
        return 1;
    phase_end(&p, "paths", n);

    pca_graph_deinit(&g);
    free(roots);
    free(component);
    free(idom);
    free(size);
    free(retained);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--bench") == 0) {
        uint32_t n = argc >= 3 ? (uint32_t)strtoul(argv[2], NULL, 10) : 10000000;
        uint64_t m = argc >= 4 ? strtoull(argv[3], NULL, 10) : 3 * (uint64_t)n;
        return bench(n, m, argc >= 5 && strcmp(argv[4], "local") == 0);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scc_toys),
        cmocka_unit_test(test_scc_empty),
        cmocka_unit_test(test_dominators_toys),
        cmocka_unit_test(test_retained_toys),
        cmocka_unit_test(test_paths_toys),
        cmocka_unit_test(test_bad_roots),
        cmocka_unit_test(test_build_edges),
        cmocka_unit_test(test_deep_chain),
        cmocka_unit_test(test_deep_cycle),
        cmocka_unit_test(test_random_small),
        cmocka_unit_test(test_random_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

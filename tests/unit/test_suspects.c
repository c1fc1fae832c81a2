/* test_suspects.c: which rows of the caches are leak suspects
 * (src/analyses/suspects.c), on hand-made rows: the program's unbounded
 * containers of 50 entries or more that retain 1% of the heap, at most
 * five, in the caches' order; never the interpreter's own, never one its
 * library bounds, never a table of a few entries whatever it retains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "analyses/suspects.h"

static const uint64_t heap = 100000;

static void select_rows(struct pca_cache *rows, size_t n, struct pca_suspects *ret)
{
	struct pca_summary summary = {.size = heap};
	struct pca_caches caches = {.items = rows, .count = n};
	struct pca_refgraph g = {.unreachable_count = 3, .unreachable_size = 96};
	struct pca_gc_state gc = {.enabled = 1};
	pca_suspects_find(&summary, &caches, &g, &gc, ret);
}

static void test_rules(void **state)
{
	(void)state;
	struct pca_cache rows[] = {
		/* sys.path_importer_cache: the interpreter's, however big */
		{.kind = "dict", .unbounded = true, .held_by = PCA_HELD_BY_INTERPRETER, .entries = 5000, .retained = 50000},
		/* html._html5: a table of the standard library */
		{.kind = "dict", .unbounded = true, .held_by = PCA_HELD_BY_STDLIB, .listed = true, .entries = 2231,
		 .retained = 50000},
		/* 8 entries: not growing, whatever it retains */
		{.kind = "dict", .unbounded = true, .entries = 8, .retained = 40000},
		/* re._cache: bounded by re._MAXCACHE */
		{.kind = "dict", .unbounded = false, .bounded_by = "re._MAXCACHE", .bound = 512, .entries = 512, .retained = 30000},
		/* the leak: 50 entries, 1% of the heap exactly */
		{.kind = "dict", .unbounded = true, .entries = 50, .retained = 1000},
		/* 49 entries: one short */
		{.kind = "list", .unbounded = true, .entries = 49, .retained = 1000},
		/* under 1% of the heap */
		{.kind = "list", .unbounded = true, .entries = 5000, .retained = 999},
		/* an lru_cache(maxsize=None) of the program */
		{.kind = "lru_cache", .lru = true, .unbounded = true, .entries = 2000, .retained = 900},
	};
	struct pca_suspects s;
	select_rows(rows, sizeof(rows) / sizeof(rows[0]), &s);
	assert_int_equal(s.ncaches, 1);
	assert_int_equal(s.caches[0], 4);
	assert_int_equal(s.heap_size, heap);
	assert_int_equal(s.garbage_objects, 3);
	assert_int_equal(s.garbage_size, 96);
	rows[7].retained = 1000;
	select_rows(rows, sizeof(rows) / sizeof(rows[0]), &s);
	assert_int_equal(s.ncaches, 2);
	assert_int_equal(s.caches[1], 7);
}

static void test_at_most_five(void **state)
{
	(void)state;
	struct pca_cache rows[8];
	for (size_t i = 0; i < 8; i++)
		rows[i] = (struct pca_cache){.kind = "dict", .unbounded = true, .entries = 100,
					     .retained = 10000 - i};
	struct pca_suspects s;
	select_rows(rows, 8, &s);
	assert_int_equal(s.ncaches, PCA_SUSPECT_CACHES_MAX);
	for (size_t i = 0; i < s.ncaches; i++)
		assert_int_equal(s.caches[i], i);
}

/* A library's containers (a third-party one, or a standard library module
 * not listed as a table) are suspects from 10% of the heap only: its
 * import-time tables keep a few %, a leak grows to dominate. */
static void test_library(void **state)
{
	(void)state;
	struct pca_cache rows[] = {
		/* idna.idnadata.joining_types: 2882 entries, 2% */
		{.kind = "dict", .unbounded = true, .held_by = PCA_HELD_BY_LIBRARY, .entries = 2882, .retained = 2000},
		/* logging.Logger.manager.loggerDict, 9.999% */
		{.kind = "dict", .unbounded = true, .held_by = PCA_HELD_BY_STDLIB, .entries = 5000, .retained = 9999},
		/* a listed table, half the heap */
		{.kind = "dict", .unbounded = true, .held_by = PCA_HELD_BY_STDLIB, .listed = true, .entries = 5000,
		 .retained = 50000},
		/* a library's leak: 10% */
		{.kind = "dict", .unbounded = true, .held_by = PCA_HELD_BY_LIBRARY, .entries = 5000, .retained = 10000},
	};
	struct pca_suspects s;
	select_rows(rows, sizeof(rows) / sizeof(rows[0]), &s);
	assert_int_equal(s.ncaches, 1);
	assert_int_equal(s.caches[0], 3);
	rows[1].retained = 10000;
	select_rows(rows, sizeof(rows) / sizeof(rows[0]), &s);
	assert_int_equal(s.ncaches, 2);
	assert_int_equal(s.caches[0], 1);
}

/* Garbage in cycles: a suspect when the collector is disabled, or when it
 * is 10% of the heap; a little garbage of a running collector is normal. */
static void test_garbage(void **state)
{
	(void)state;
	struct pca_summary summary = {.size = heap};
	struct pca_caches caches = {0};
	struct pca_refgraph g = {.unreachable_count = 22, .unreachable_size = 3900};
	struct pca_gc_state gc = {.enabled = 1};
	struct pca_suspects s;
	pca_suspects_find(&summary, &caches, &g, &gc, &s);
	assert_false(s.garbage_suspect);
	assert_int_equal(s.garbage_objects, 22);
	gc.enabled = 0;
	pca_suspects_find(&summary, &caches, &g, &gc, &s);
	assert_true(s.garbage_suspect);
	assert_int_equal(s.collector_enabled, 0);
	gc.enabled = 1;
	g.unreachable_size = heap / 10;
	pca_suspects_find(&summary, &caches, &g, &gc, &s);
	assert_true(s.garbage_suspect);
	gc.enabled = -1;
	g.unreachable_size = heap / 10 - 1;
	pca_suspects_find(&summary, &caches, &g, &gc, &s);
	assert_false(s.garbage_suspect);
	g.unreachable_count = 0;
	g.unreachable_size = 0;
	gc.enabled = 0;
	pca_suspects_find(&summary, &caches, &g, &gc, &s);
	assert_false(s.garbage_suspect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_at_most_five),
		cmocka_unit_test(test_library),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

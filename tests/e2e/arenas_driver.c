/* arenas_driver: print {"allocator": {...}} for a core, with the warnings,
 * until `pycore-analyze --json summary` carries the "allocator" key.
 * Build: gcc -D_GNU_SOURCE -Isrc tests/e2e/arenas_driver.c build/libpca.a \
 *          $(pkg-config --libs libdw libelf) -o /tmp/arenas_driver
 * Exit: 0 complete, 1 with warnings, 2 no result (as pycore-analyze). */
#include <stdio.h>
#include <stdlib.h>

#include "heap/arenas.h"
#include "interp/interp.h"
#include "layout/layout.h"
#include "report/allocator.h"
#include "report/json.h"
#include "symbols/symbols.h"
#include "target/target.h"

/* The block iterator's cross-check: every block lies in a pool of the index,
 * addresses ascend, and the count equals the pools' ref.count sum. */
struct listing {
	const struct pca_arenas *a;
	uint64_t count, last, misplaced;
};

static bool count_block(void *ctx, uint64_t block, uint32_t size)
{
	struct listing *l = ctx;
	size_t idx;
	if (!pca_arenas_find_pool(l->a, block, &idx) || block <= l->last || !size)
		l->misplaced++;
	l->last = block;
	l->count++;
	return true;
}

static int fail(struct pca_error *err)
{
	fprintf(stderr, "arenas_driver: %s\n", err->message);
	pca_error_destroy(err);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: arenas_driver CORE [--text]\n");
		return 64;
	}
	struct pca_warnings w;
	pca_warnings_init(&w);
	struct pca_target *t = NULL;
	struct pca_symbols *s = NULL;
	struct pca_layout l;
	struct pca_interp in;
	struct pca_arenas a;
	struct pca_symbols_options so = {0};
	struct pca_error *err = pca_target_open_core(argv[1], &t);
	if (!err)
		err = pca_symbols_open(t, &so, &w, &s);
	if (!err)
		err = pca_layout_resolve(s, t, &l);
	if (!err)
		err = pca_interp_init(&in, t, s, &l);
	if (!err)
		err = pca_arenas_compute(&in, &w, &a);
	if (err) {
		pca_symbols_destroy(s);
		pca_target_destroy(t);
		pca_warnings_deinit(&w);
		return fail(err);
	}
	struct listing listing = {.a = &a};
	uint64_t skipped = 0;
	err = pca_arenas_for_each_used_block(&in, &a, count_block, &listing, &skipped);
	if (err) {
		pca_arenas_deinit(&a);
		pca_symbols_destroy(s);
		pca_target_destroy(t);
		pca_warnings_deinit(&w);
		return fail(err);
	}
	if (argc == 3) {
		pca_report_arenas_text(stdout, &a);
		for (size_t i = 0; i < w.count; i++)
			printf("warning: %s\n", w.items[i]);
	} else {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_json_object_begin(&j);
		pca_report_json_arenas(&j, &a);
		pca_json_key(&j, "blocks_listed");
		pca_json_uint(&j, listing.count);
		pca_json_key(&j, "blocks_listed_misplaced");
		pca_json_uint(&j, listing.misplaced);
		pca_json_key(&j, "pools_skipped_listing");
		pca_json_uint(&j, skipped);
		pca_json_key(&j, "warnings");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < w.count; i++)
			pca_json_string(&j, w.items[i]);
		pca_json_array_end(&j);
		pca_json_object_end(&j);
	}
	int status = w.count ? 1 : 0;
	pca_arenas_deinit(&a);
	pca_symbols_destroy(s);
	pca_target_destroy(t);
	pca_warnings_deinit(&w);
	return status;
}

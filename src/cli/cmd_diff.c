/* cmd_diff.c: diff CORE CORE2, growth from one core to another. */
#include <stdlib.h>
#include <string.h>

#include "cli/session.h"
#include "report/report.h"

static const char *core2; /* the second core */

int pca_cmd_diff_args(const struct pca_command *cmd, int argc, char **argv, int pos,
		      struct pca_options *opts)
{
	int status = pca_cli_take_core(argc, argv, &pos, opts);
	if (status)
		return status;
	if (pos >= argc) {
		fprintf(stderr, "pycore-analyze: %s needs a second core: %s CORE CORE2\n", cmd->name, cmd->name);
		return PCA_EXIT_USAGE;
	}
	core2 = argv[pos++];
	return pca_cli_take_rest(argc, argv, pos, opts);
}

struct type_delta {
	const char *name;
	int64_t count_before, size_before, count, size;
};

static int delta_by_name(const void *a, const void *b)
{
	return strcmp(((const struct type_delta *)a)->name, ((const struct type_delta *)b)->name);
}

static int delta_by_growth(const void *a, const void *b)
{
	const struct type_delta *x = a, *y = b;
	int64_t dx = x->size - x->size_before, dy = y->size - y->size_before;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A cache's identity across two cores: the lru_cache's function, or the
 * container's owner path. */
static const char *cache_key(const struct pca_session *s, size_t i)
{
	const struct pca_cache *c = &s->caches.items[i];
	if (c->lru && c->function)
		return c->function;
	return s->cache_owners && s->cache_owners[i] ? s->cache_owners[i] : "";
}

/* Growth from this session's core to CORE2: every type by name (both
 * tables merged), the caches matched by function or owner. */
int pca_cmd_diff(struct pca_session *s)
{
	struct pca_options opts2 = *s->opts;
	opts2.core = core2;
	struct pca_session b = {.opts = &opts2, .progress = s->progress};
	pca_warnings_init(&b.warnings);
	struct pca_error *err = pca_session_open(&b, PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH);
	if (err) {
		int status = pca_cli_fail(&b, err);
		pca_session_close(&b);
		return status;
	}
	size_t n = s->summary.nrows + b.summary.nrows;
	struct type_delta *d = calloc(n ? n : 1, sizeof(*d));
	if (!d) {
		pca_session_close(&b);
		return pca_cli_fail(s, &pca_error_nomem);
	}
	size_t k = 0;
	for (size_t i = 0; i < s->summary.nrows; i++)
		d[k++] = (struct type_delta){s->summary.rows[i].name, (int64_t)s->summary.rows[i].count,
					     (int64_t)s->summary.rows[i].size, 0, 0};
	for (size_t i = 0; i < b.summary.nrows; i++)
		d[k++] = (struct type_delta){b.summary.rows[i].name, 0, 0, (int64_t)b.summary.rows[i].count,
					     (int64_t)b.summary.rows[i].size};
	pca_sort(d, k, sizeof(*d), delta_by_name);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && strcmp(d[m - 1].name, d[i].name) == 0) {
			d[m - 1].count_before += d[i].count_before;
			d[m - 1].size_before += d[i].size_before;
			d[m - 1].count += d[i].count;
			d[m - 1].size += d[i].size;
			continue;
		}
		d[m++] = d[i];
	}
	pca_sort(d, m, sizeof(*d), delta_by_growth);
	for (size_t i = 0; i < b.warnings.count; i++)
		pca_warnings_add(&s->warnings, "%s: %s", core2, b.warnings.items[i]);
	int64_t dobj = (int64_t)b.summary.objects - (int64_t)s->summary.objects;
	int64_t dsize = (int64_t)b.summary.size - (int64_t)s->summary.size;
	struct pca_json j;
	bool json = s->opts->json;
	if (json) {
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "diff");
		pca_json_object_begin(&j);
		pca_json_key(&j, "core2");
		pca_json_string(&j, core2);
		pca_json_key(&j, "objects");
		pca_json_int(&j, dobj);
		pca_json_key(&j, "size");
		pca_json_int(&j, dsize);
		pca_json_key(&j, "types");
		pca_json_array_begin(&j);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		char total[32];
		pca_format_bytes((uint64_t)(dsize < 0 ? -dsize : dsize), total, sizeof(total));
		printf("\ngrowth to %s: %+lld objects, %s%s\n\n", core2, (long long)dobj,
		       dsize < 0 ? "-" : "+", total);
		printf("%14s %14s  %s\n", "count delta", "size delta", "type");
	}
	long shown = 0;
	for (size_t i = 0; i < m; i++) {
		int64_t dc = d[i].count - d[i].count_before, ds = d[i].size - d[i].size_before;
		if (!dc && !ds)
			continue;
		if (json) {
			pca_json_object_begin(&j);
			pca_json_key(&j, "type");
			pca_json_string(&j, d[i].name);
			pca_json_key(&j, "count");
			pca_json_int(&j, d[i].count);
			pca_json_key(&j, "size");
			pca_json_int(&j, d[i].size);
			pca_json_key(&j, "count_delta");
			pca_json_int(&j, dc);
			pca_json_key(&j, "size_delta");
			pca_json_int(&j, ds);
			pca_json_object_end(&j);
		} else if (s->opts->limit < 0 || shown++ < s->opts->limit) {
			char size[32], signed_size[40];
			pca_format_bytes((uint64_t)(ds < 0 ? -ds : ds), size, sizeof(size));
			snprintf(signed_size, sizeof(signed_size), "%s%s", ds < 0 ? "-" : "+", size);
			printf("%+14lld %14s  %s\n", (long long)dc, signed_size, d[i].name);
		}
	}
	if (json) {
		pca_json_array_end(&j);
		pca_json_key(&j, "caches");
		pca_json_array_begin(&j);
	} else {
		printf("\ncaches that grew:\n");
	}
	/* the caches of CORE2 that have more entries or retain more than in CORE */
	for (size_t i = 0; i < b.caches.count; i++) {
		const struct pca_cache *c = &b.caches.items[i];
		const char *key = cache_key(&b, i);
		const struct pca_cache *before = NULL;
		for (size_t a = 0; a < s->caches.count && !before; a++)
			if (strcmp(cache_key(s, a), key) == 0)
				before = &s->caches.items[a];
		uint64_t entries_before = before ? before->entries : 0;
		uint64_t retained_before = before ? before->retained : 0;
		if (c->entries <= entries_before && c->retained <= retained_before)
			continue;
		if (json) {
			pca_json_object_begin(&j);
			pca_json_key(&j, "kind");
			pca_json_string(&j, c->kind);
			pca_json_key(&j, c->lru ? "function" : "owner");
			pca_json_string(&j, key);
			pca_json_key(&j, "entries_before");
			pca_json_uint(&j, entries_before);
			pca_json_key(&j, "entries");
			pca_json_uint(&j, c->entries);
			pca_json_key(&j, "retained_before");
			pca_json_uint(&j, retained_before);
			pca_json_key(&j, "retained");
			pca_json_uint(&j, c->retained);
			pca_json_object_end(&j);
		} else {
			char growth[32];
			int64_t dr = (int64_t)c->retained - (int64_t)retained_before;
			pca_format_bytes((uint64_t)(dr < 0 ? -dr : dr), growth, sizeof(growth));
			printf("  %s (%s): %llu -> %llu entries, retains %s%s\n", key, c->kind,
			       (unsigned long long)entries_before, (unsigned long long)c->entries,
			       dr < 0 ? "-" : "+", growth);
		}
	}
	if (json) {
		pca_json_array_end(&j);
		pca_json_object_end(&j);
		pca_report_json_end(&j, &s->warnings);
	}
	free(d);
	pca_session_close(&b);
	if (!json)
		pca_report_warnings_text(stdout, &s->warnings);
	return pca_cli_status(s);
}

/* cmd_report.c: the read-only commands over one core: report, summary, top,
 * cycles, caches, stacks. */
#include <stdlib.h>

#include "analyses/owner.h"
#include "cli/session.h"
#include "report/allocator.h"
#include "report/report.h"

static void print_largest(struct pca_session *s, struct pca_json *j, size_t limit);

/* totals.unreachable is part of "totals" (report/summary JSON); for other
 * commands it goes in a "totals" object of its own. */
static void print_totals_unreachable(struct pca_session *s, struct pca_json *j)
{
	if (!s->have_graph)
		return;
	pca_json_key(j, "totals");
	pca_json_object_begin(j);
	pca_json_key(j, "unreachable");
	pca_json_uint(j, s->graph.unreachable_count);
	pca_json_key(j, "unreachable_size");
	pca_json_uint(j, s->graph.unreachable_size);
	pca_json_object_end(j);
}

static void print_heap_json(struct pca_session *s, struct pca_json *j)
{
	pca_report_json_summary(j, &s->summary, s->have_graph ? &s->graph.unreachable_count : NULL);
	if (s->have_arenas)
		pca_report_json_arenas(j, &s->arenas);
	if (s->have_leaks)
		pca_report_json_leaks(j, &s->leaks);
}

int pca_cmd_summary(struct pca_session *s)
{
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		print_heap_json(s, &j);
		pca_report_json_end(&j, &s->warnings);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		pca_report_summary_text(stdout, &s->summary, s->opts->limit);
		if (s->have_arenas)
			pca_report_arenas_text(stdout, &s->arenas);
		if (s->have_leaks)
			pca_report_leaks_text(stdout, &s->leaks, s->opts->limit);
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return pca_cli_status(s);
}

/* Leak suspects, for a person: the caches nothing bounds that retain the
 * most, then garbage the collector has not freed. */
static void print_leak_suspects(struct pca_session *s)
{
	uint64_t heap_size = s->summary.size ? s->summary.size : 1;
	int shown = 0;
	printf("\nleak suspects:\n");
	for (size_t i = 0; i < s->caches.count && shown < 5; i++) {
		const struct pca_cache *k = &s->caches.items[i];
		if (!k->unbounded || k->retained * 100 < heap_size) /* below 1% of the heap: not a suspect */
			continue;
		char retained[32];
		pca_format_bytes(k->retained, retained, sizeof(retained));
		const char *owner = s->cache_owners && s->cache_owners[i] && s->cache_owners[i][0]
					    ? s->cache_owners[i] : "?";
		if (k->lru)
			printf("  %s lru_cache(maxsize=None): %llu entries, %llu hits / %llu misses, retains %s (%.0f%% of the heap)\n",
			       k->function ? k->function : owner, (unsigned long long)k->entries,
			       (unsigned long long)k->hits, (unsigned long long)k->misses, retained,
			       100.0 * (double)k->retained / (double)heap_size);
		else
			printf("  %s (%s, %llu entries) retains %s (%.0f%% of the heap); nothing bounds it\n",
			       owner, k->kind, (unsigned long long)k->entries, retained,
			       100.0 * (double)k->retained / (double)heap_size);
		shown++;
	}
	if (s->graph.unreachable_count) {
		char size[32];
		pca_format_bytes(s->graph.unreachable_size, size, sizeof(size));
		printf("  %llu objects (%s) are unreachable garbage in reference cycles the collector has not freed (is it disabled?)\n",
		       (unsigned long long)s->graph.unreachable_count, size);
		shown++;
	}
	if (!shown)
		printf("  none: no unbounded cache retains 1%% of the heap, no uncollected garbage\n");
}

/* Everything, for a person opening a core: the suspects first (the first
 * screen names the cache that leaks), then the heap by type, the largest
 * objects, caches, cycles, the allocator, leaks, the stacks. */
int pca_cmd_report(struct pca_session *s)
{
	struct pca_pythread *threads;
	size_t count;
	struct pca_error *err = pca_interp_threads(&s->interp, &s->warnings, &threads, &count);
	if (err)
		return pca_cli_fail(s, err);
	long limit = s->opts->limit;
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		print_heap_json(s, &j);
		print_largest(s, &j, limit >= 0 ? (size_t)limit : 20);
		pca_report_json_cycles(&j, &s->cycles, &s->heap);
		pca_report_json_caches(&j, &s->caches, &s->heap, s->cache_owners);
		pca_report_json_threads(&j, threads, count);
		pca_report_json_end(&j, &s->warnings);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		char total[32];
		pca_format_bytes(s->summary.size, total, sizeof(total));
		printf("heap:        %llu objects, %s\n", (unsigned long long)s->summary.objects, total);
		print_leak_suspects(s);
		pca_report_summary_text(stdout, &s->summary, limit < 10 ? limit : 10);
		print_largest(s, NULL, limit < 10 && limit >= 0 ? (size_t)limit : 10);
		pca_report_caches_text(stdout, &s->caches, &s->heap, s->cache_owners, limit < 10 ? limit : 10);
		pca_report_cycles_text(stdout, &s->cycles, &s->heap, limit < 10 ? limit : 10);
		if (s->have_arenas)
			pca_report_arenas_brief(stdout, &s->arenas);
		if (s->have_leaks)
			pca_report_leaks_text(stdout, &s->leaks, limit < 5 ? limit : 5);
		printf("\nthreads:     %zu\n", count);
		pca_report_stacks_text(stdout, threads, count);
		pca_report_warnings_text(stdout, &s->warnings);
	}
	pca_pythreads_free(threads, count);
	return pca_cli_status(s);
}

/* The n largest objects by size, largest first (ties: lower id first). */
static size_t largest_ids(const struct pca_heap *heap, size_t n, uint32_t *out)
{
	size_t have = 0;
	for (uint32_t v = 0; v < heap->count; v++) {
		uint64_t sz = heap->size[v];
		if (have == n && (n == 0 || sz <= heap->size[out[have - 1]]))
			continue;
		size_t pos = have < n ? have++ : n - 1;
		while (pos > 0 && heap->size[out[pos - 1]] < sz) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = v;
	}
	return have;
}

static void print_largest(struct pca_session *s, struct pca_json *j, size_t limit)
{
	uint32_t *ids = malloc((limit ? limit : 1) * sizeof(*ids));
	if (!ids)
		return;
	size_t n = largest_ids(&s->heap, limit, ids);
	char owner[512];
	if (j) {
		pca_json_key(j, "largest");
		pca_json_array_begin(j);
	} else {
		printf("\n%18s %12s %12s  %-28s %s\n", "address", "size", "retained", "type", "owner");
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v = ids[i];
		pca_owner_path(&s->objects, &s->heap, &s->graph, v, owner, sizeof(owner));
		const char *type = s->objects.infos[s->heap.type[v]].name;
		if (j) {
			pca_json_object_begin(j);
			pca_json_key(j, "address");
			pca_json_address(j, s->heap.addr[v]);
			pca_json_key(j, "type");
			pca_json_string(j, type);
			pca_json_key(j, "size");
			pca_json_uint(j, s->heap.size[v]);
			pca_json_key(j, "retained");
			pca_json_uint(j, s->graph.retained[v]);
			pca_json_key(j, "owner");
			pca_json_string(j, owner[0] ? owner : NULL);
			pca_json_object_end(j);
		} else {
			char size[32], retained[32];
			pca_format_bytes(s->heap.size[v], size, sizeof(size));
			pca_format_bytes(s->graph.retained[v], retained, sizeof(retained));
			printf("%#18llx %12s %12s  %-28s %s\n", (unsigned long long)s->heap.addr[v], size,
			       retained, type, owner[0] ? owner : "(unreachable)");
		}
	}
	if (j)
		pca_json_array_end(j);
	free(ids);
}

int pca_cmd_top(struct pca_session *s)
{
	size_t limit = s->opts->limit >= 0 ? (size_t)s->opts->limit : 20;
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		print_largest(s, &j, limit);
		pca_report_json_end(&j, &s->warnings);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		print_largest(s, NULL, limit);
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return pca_cli_status(s);
}

int pca_cmd_cycles(struct pca_session *s)
{
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		print_totals_unreachable(s, &j);
		pca_report_json_cycles(&j, &s->cycles, &s->heap);
		pca_report_json_end(&j, &s->warnings);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		pca_report_cycles_text(stdout, &s->cycles, &s->heap, s->opts->limit);
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return pca_cli_status(s);
}

int pca_cmd_caches(struct pca_session *s)
{
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_report_json_caches(&j, &s->caches, &s->heap, s->cache_owners);
		pca_report_json_end(&j, &s->warnings);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		pca_report_caches_text(stdout, &s->caches, &s->heap, s->cache_owners, s->opts->limit);
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return pca_cli_status(s);
}

int pca_cmd_stacks(struct pca_session *s)
{
	struct pca_pythread *threads;
	size_t count;
	struct pca_error *err = pca_interp_threads(&s->interp, &s->warnings, &threads, &count);
	if (err)
		return pca_cli_fail(s, err);
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_report_json_threads(&j, threads, count);
		pca_report_json_end(&j, &s->warnings);
	} else {
		pca_report_facts_text(stdout, &s->facts);
		pca_report_stacks_text(stdout, threads, count);
		pca_report_warnings_text(stdout, &s->warnings);
	}
	pca_pythreads_free(threads, count);
	return pca_cli_status(s);
}

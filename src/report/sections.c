/* The sections of the read-only commands, text and JSON side by side, and
 * the envelope. */
#include "report/sections.h"
#include "base/escape.h"

#include "report/arenas.h"

/* Rows of a text table: -n, and in the overview no more than cap. */
static long rows(const struct pca_report_model *m, long cap)
{
	return m->overview && m->limit >= cap ? cap : m->limit;
}

static void facts_text(FILE *out, const struct pca_report_model *m)
{
	pca_report_facts_text(out, m->facts);
}

static void warnings_text(FILE *out, const struct pca_report_model *m)
{
	pca_report_warnings_text(out, m->warnings);
	pca_report_notes_text(out, m->notes);
}

static void heap_text(FILE *out, const struct pca_report_model *m)
{
	char total[32];
	pca_format_bytes(m->summary->size, total, sizeof(total));
	fprintf(out, "heap:        %llu objects, %s\n", (unsigned long long)m->summary->objects, total);
}

/* A cache row's owner path, NULL when it has none. */
static const char *cache_owner(const struct pca_report_model *m, size_t i)
{
	return m->cache_owners && m->cache_owners[i] && m->cache_owners[i][0] ? m->cache_owners[i] : NULL;
}

/* Leak suspects, for a person: the program's caches nothing bounds that
 * retain the most, then garbage in cycles when the collector is disabled
 * or it is a large share of the heap (suspects.h). */
static void suspects_text(FILE *out, const struct pca_report_model *m)
{
	const struct pca_suspects *su = m->suspects;
	double heap_size = (double)su->heap_size;
	fprintf(out, "\nleak suspects:\n");
	for (size_t n = 0; n < su->ncaches; n++) {
		size_t i = su->caches[n];
		const struct pca_cache *k = &m->caches->items[i];
		char retained[32];
		pca_format_bytes(k->retained, retained, sizeof(retained));
		const char *owner = cache_owner(m, i) ? pca_text(cache_owner(m, i)) : "?";
		if (k->lru)
			fprintf(out, "  %s lru_cache(maxsize=None): %llu entries, %llu hits / %llu misses, retains %s (%.0f%% of the heap)\n",
				k->function ? pca_text(k->function) : owner, (unsigned long long)k->entries,
				(unsigned long long)k->hits, (unsigned long long)k->misses, retained,
				100.0 * (double)k->retained / heap_size);
		else
			fprintf(out, "  %s (%s, %llu entries) retains %s (%.0f%% of the heap); nothing bounds it\n",
				owner, k->kind, (unsigned long long)k->entries, retained,
				100.0 * (double)k->retained / heap_size);
	}
	if (su->garbage_suspect) {
		char size[32];
		pca_format_bytes(su->garbage_size, size, sizeof(size));
		if (su->collector_enabled == 0)
			fprintf(out, "  %llu objects (%s) are unreachable garbage in reference cycles: the collector is disabled (gc.disable()), nothing frees them\n",
				(unsigned long long)su->garbage_objects, size);
		else
			fprintf(out, "  %llu objects (%s, %.0f%% of the heap) are unreachable garbage in reference cycles, memory the next full collection would free\n",
				(unsigned long long)su->garbage_objects, size,
				100.0 * (double)su->garbage_size / heap_size);
	}
	if (!su->ncaches && !su->garbage_suspect)
		fprintf(out, "  none: no unbounded cache of the program with %d entries or more retains 1%% of the heap, no garbage the collector leaves\n",
			PCA_SUSPECT_MIN_ENTRIES);
}

/* The same in JSON: each suspect cache as its caches row names it, then
 * the garbage as {"kind": "garbage"}. */
static void suspects_json(struct pca_json *j, const struct pca_report_model *m)
{
	const struct pca_suspects *su = m->suspects;
	pca_json_key(j, "suspects");
	pca_json_array_begin(j);
	for (size_t n = 0; n < su->ncaches; n++) {
		size_t i = su->caches[n];
		const struct pca_cache *k = &m->caches->items[i];
		pca_json_object_begin(j);
		pca_json_key(j, "kind");
		pca_json_string(j, k->kind);
		pca_json_key(j, "address");
		pca_json_address(j, m->heap->addr[k->id]);
		pca_json_key(j, "owner");
		pca_json_string(j, cache_owner(m, i));
		if (k->lru) {
			pca_json_key(j, "function");
			pca_json_string(j, k->function);
		}
		pca_json_key(j, "entries");
		pca_json_uint(j, k->entries);
		pca_json_key(j, "retained");
		pca_json_uint(j, k->retained);
		pca_json_object_end(j);
	}
	if (su->garbage_suspect) {
		pca_json_object_begin(j);
		pca_json_key(j, "kind");
		pca_json_string(j, "garbage");
		pca_json_key(j, "objects");
		pca_json_uint(j, su->garbage_objects);
		pca_json_key(j, "size");
		pca_json_uint(j, su->garbage_size);
		pca_json_key(j, "collector_enabled");
		if (su->collector_enabled < 0)
			pca_json_null(j);
		else
			pca_json_bool(j, su->collector_enabled != 0);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

/* totals.unreachable is part of "totals" (report/summary JSON); for other
 * commands it goes in a "totals" object of its own. */
static void garbage_totals_json(struct pca_json *j, const struct pca_report_model *m)
{
	if (!m->graph)
		return;
	pca_json_key(j, "totals");
	pca_json_object_begin(j);
	pca_json_key(j, "unreachable");
	pca_json_uint(j, m->graph->unreachable_count);
	pca_json_key(j, "unreachable_size");
	pca_json_uint(j, m->graph->unreachable_size);
	pca_json_object_end(j);
}

static void types_text(FILE *out, const struct pca_report_model *m)
{
	pca_report_summary_text(out, m->summary, rows(m, 10));
}

static void types_json(struct pca_json *j, const struct pca_report_model *m)
{
	pca_report_json_summary(j, m->summary, m->graph ? &m->graph->unreachable_count : NULL);
}

static void arenas_text(FILE *out, const struct pca_report_model *m)
{
	if (!m->arenas)
		return;
	if (m->overview)
		pca_report_arenas_brief(out, m->arenas);
	else
		pca_report_arenas_text(out, m->arenas);
}

static void arenas_json(struct pca_json *j, const struct pca_report_model *m)
{
	if (m->arenas)
		pca_report_json_arenas(j, m->arenas);
}

static void unreferenced_text(FILE *out, const struct pca_report_model *m)
{
	if (m->unreferenced)
		pca_report_unreferenced_text(out, m->unreferenced, rows(m, 5));
}

static void unreferenced_json(struct pca_json *j, const struct pca_report_model *m)
{
	if (m->unreferenced)
		pca_report_json_unreferenced(j, m->unreferenced);
}

static void largest_text(FILE *out, const struct pca_report_model *m)
{
	const struct pca_top *t = m->top;
	size_t n = t->count;
	long limit = rows(m, 10);
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	fprintf(out, "\n%18s %12s %12s  %-28s %s\n", "address", "size", "retained", "type", "owner");
	for (size_t i = 0; i < n; i++) {
		uint32_t v = t->ids[i];
		char size[32], retained[32];
		pca_format_bytes(pca_heap_size(m->heap, v), size, sizeof(size));
		pca_format_bytes(m->graph->retained[v], retained, sizeof(retained));
		fprintf(out, "%#18llx %12s %12s  %-28s %s\n", (unsigned long long)m->heap->addr[v], size,
			retained, pca_text(m->objects->infos[m->heap->type[v]].name),
			t->owners[i][0] ? pca_text(t->owners[i]) : "(unreachable)");
	}
}

static void largest_json(struct pca_json *j, const struct pca_report_model *m)
{
	const struct pca_top *t = m->top;
	pca_json_key(j, "largest");
	pca_json_array_begin(j);
	for (size_t i = 0; i < t->count; i++) {
		uint32_t v = t->ids[i];
		pca_json_object_begin(j);
		pca_json_key(j, "address");
		pca_json_address(j, m->heap->addr[v]);
		pca_json_key(j, "type");
		pca_json_string(j, m->objects->infos[m->heap->type[v]].name);
		pca_json_key(j, "size");
		pca_json_uint(j, pca_heap_size(m->heap, v));
		pca_json_key(j, "retained");
		pca_json_uint(j, m->graph->retained[v]);
		pca_json_key(j, "owner");
		pca_json_string(j, t->owners[i][0] ? t->owners[i] : NULL);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

static void cycles_text(FILE *out, const struct pca_report_model *m)
{
	pca_report_cycles_text(out, m->cycles, m->heap, rows(m, 10), m->overview);
}

static void cycles_json(struct pca_json *j, const struct pca_report_model *m)
{
	pca_report_json_cycles(j, m->cycles, m->heap);
}

static void caches_text(FILE *out, const struct pca_report_model *m)
{
	pca_report_caches_text(out, m->caches, m->heap, m->cache_owners, rows(m, 10));
}

static void caches_json(struct pca_json *j, const struct pca_report_model *m)
{
	pca_report_json_caches(j, m->caches, m->heap, m->cache_owners);
}

static void threads_text(FILE *out, const struct pca_report_model *m)
{
	if (m->overview)
		fprintf(out, "\nthreads:     %zu\n", m->nthreads);
	pca_report_stacks_text(out, m->threads, m->nthreads);
}

static void threads_json(struct pca_json *j, const struct pca_report_model *m)
{
	pca_report_json_threads(j, m->threads, m->nthreads);
}

const struct pca_section pca_sections[PCA_SECTION_COUNT] = {
	[PCA_SECTION_FACTS] = {"facts", 0, facts_text, NULL},
	[PCA_SECTION_HEAP] = {"heap", 0, heap_text, NULL},
	[PCA_SECTION_SUSPECTS] = {"suspects", PCA_SECTION_NEEDS_SUSPECTS, suspects_text, suspects_json},
	[PCA_SECTION_GARBAGE_TOTALS] = {"garbage totals", 0, NULL, garbage_totals_json},
	[PCA_SECTION_TYPES] = {"types", 0, types_text, types_json},
	[PCA_SECTION_ARENAS] = {"arenas", 0, arenas_text, arenas_json},
	[PCA_SECTION_UNREFERENCED] = {"unreferenced objects", 0, unreferenced_text, unreferenced_json},
	[PCA_SECTION_LARGEST] = {"largest", PCA_SECTION_NEEDS_TOP, largest_text, largest_json},
	[PCA_SECTION_CYCLES] = {"cycles", 0, cycles_text, cycles_json},
	[PCA_SECTION_CACHES] = {"caches", 0, caches_text, caches_json},
	[PCA_SECTION_THREADS] = {"threads", PCA_SECTION_NEEDS_THREADS, threads_text, threads_json},
	[PCA_SECTION_DIFF] = {"diff", 0, pca_report_diff_text, pca_report_diff_json},
	[PCA_SECTION_OBJECT] = {"object", 0, pca_report_object_text, pca_report_object_json},
	[PCA_SECTION_PATH] = {"path", 0, pca_report_path_text, pca_report_path_json},
	[PCA_SECTION_GRAPH] = {"graph", 0, pca_report_graph_dot, pca_report_graph_json},
	[PCA_SECTION_WARNINGS] = {"warnings", 0, warnings_text, NULL},
};

unsigned pca_document_needs(const struct pca_document *doc)
{
	unsigned needs = 0;
	for (size_t i = 0; i < doc->count; i++)
		needs |= pca_sections[doc->sections[i]].needs;
	return needs;
}

void pca_report_render(FILE *out, bool json, const struct pca_document *doc,
		       const struct pca_report_model *m)
{
	if (!json) {
		for (size_t i = 0; i < doc->count; i++)
			if (pca_sections[doc->sections[i]].text)
				pca_sections[doc->sections[i]].text(out, m);
		return;
	}
	bool listed[PCA_SECTION_COUNT] = {false};
	for (size_t i = 0; i < doc->count; i++)
		listed[doc->sections[i]] = true;
	struct pca_json j;
	pca_json_init(&j, out);
	pca_report_json_begin(&j, m->facts);
	for (size_t s = 0; s < PCA_SECTION_COUNT; s++)
		if (listed[s] && pca_sections[s].json)
			pca_sections[s].json(&j, m);
	pca_report_json_end(&j, m->warnings, m->notes);
}

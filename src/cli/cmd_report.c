/* cmd_report.c: the read-only commands over one core, each a list of
 * report sections: report (all of them), summary, top, cycles, caches,
 * stacks. What the sections need beyond the session (threads, the largest
 * objects, leak suspects) is computed here by the analyses. */
#include <stdlib.h>

#include "cli/session.h"
#include "report/sections.h"

#define NSECTIONS(a) (sizeof(a) / sizeof((a)[0]))

static int run_sections(struct pca_session *s, const enum pca_section_id *sections, size_t count,
			bool overview)
{
	/* the graph would not fit (session.h graph_refused): what needs it is left out */
	enum pca_section_id kept[PCA_SECTION_COUNT];
	size_t nkept = 0;
	for (size_t i = 0; i < count && nkept < PCA_SECTION_COUNT; i++)
		if (s->have_graph || !(sections[i] == PCA_SECTION_LARGEST || sections[i] == PCA_SECTION_CACHES ||
				       sections[i] == PCA_SECTION_CYCLES || sections[i] == PCA_SECTION_SUSPECTS))
			kept[nkept++] = sections[i];
	struct pca_document doc = {kept, nkept};
	unsigned needs = pca_document_needs(&doc);
	struct pca_report_model m;
	pca_session_model(s, &m);
	m.overview = overview;
	struct pca_pythread *threads = NULL;
	size_t nthreads = 0;
	struct pca_top top = {0};
	struct pca_suspects suspects;
	struct pca_error *err = NULL;
	if (needs & PCA_SECTION_NEEDS_THREADS) {
		err = pca_interp_threads(&s->interp, &s->warnings, &threads, &nthreads);
		if (err)
			return pca_cli_fail(s, err);
		m.threads = threads;
		m.nthreads = nthreads;
	}
	if (needs & PCA_SECTION_NEEDS_TOP) {
		err = pca_top_compute(&s->objects, &s->heap, &s->graph,
				      s->opts->limit >= 0 ? (size_t)s->opts->limit : 20, &top);
		m.top = &top;
	}
	if (needs & PCA_SECTION_NEEDS_SUSPECTS) {
		pca_suspects_find(&s->summary, &s->caches, &s->graph, &s->heap.gc, &suspects);
		m.suspects = &suspects;
	}
	int status = err ? pca_cli_fail(s, err) : 0;
	if (!err) {
		pca_report_render(stdout, s->opts->json, &doc, &m);
		status = pca_cli_status(s);
	}
	pca_top_deinit(&top);
	pca_pythreads_free(threads, nthreads);
	return status;
}

/* Everything, for a person opening a core: the suspects first (the first
 * screen names the cache that leaks), then the heap by type, the largest
 * objects, caches, cycles, the pymalloc arenas, unreferenced objects, the
 * stacks. */
static const enum pca_section_id report_sections[] = {
	PCA_SECTION_FACTS,
	PCA_SECTION_HEAP,
	PCA_SECTION_SUSPECTS,
	PCA_SECTION_TYPES,
	PCA_SECTION_LARGEST,
	PCA_SECTION_CACHES,
	PCA_SECTION_CYCLES,
	PCA_SECTION_ARENAS,
	PCA_SECTION_UNREFERENCED,
	PCA_SECTION_THREADS,
	PCA_SECTION_WARNINGS,
};

int pca_cmd_report(struct pca_session *s)
{
	return run_sections(s, report_sections, NSECTIONS(report_sections), true);
}

static const enum pca_section_id summary_sections[] = {
	PCA_SECTION_FACTS,
	PCA_SECTION_TYPES,
	PCA_SECTION_ARENAS,
	PCA_SECTION_UNREFERENCED,
	PCA_SECTION_WARNINGS,
};

int pca_cmd_summary(struct pca_session *s)
{
	return run_sections(s, summary_sections, NSECTIONS(summary_sections), false);
}

static const enum pca_section_id top_sections[] = {
	PCA_SECTION_FACTS,
	PCA_SECTION_LARGEST,
	PCA_SECTION_WARNINGS,
};

int pca_cmd_top(struct pca_session *s)
{
	return run_sections(s, top_sections, NSECTIONS(top_sections), false);
}

static const enum pca_section_id cycles_sections[] = {
	PCA_SECTION_FACTS,
	PCA_SECTION_GARBAGE_TOTALS,
	PCA_SECTION_CYCLES,
	PCA_SECTION_WARNINGS,
};

int pca_cmd_cycles(struct pca_session *s)
{
	return run_sections(s, cycles_sections, NSECTIONS(cycles_sections), false);
}

static const enum pca_section_id caches_sections[] = {
	PCA_SECTION_FACTS,
	PCA_SECTION_CACHES,
	PCA_SECTION_WARNINGS,
};

int pca_cmd_caches(struct pca_session *s)
{
	return run_sections(s, caches_sections, NSECTIONS(caches_sections), false);
}

static const enum pca_section_id stacks_sections[] = {
	PCA_SECTION_FACTS,
	PCA_SECTION_THREADS,
	PCA_SECTION_WARNINGS,
};

int pca_cmd_stacks(struct pca_session *s)
{
	return run_sections(s, stacks_sections, NSECTIONS(stacks_sections), false);
}

/* sections.h: a read-only command's output is a list of report sections.
 * A section has a name, says what the command must compute for it, and has
 * its text and JSON renderers side by side; `report` is all the sections of
 * one core. The envelope is written once, here: in JSON the "schema",
 * "core", "python" keys before the sections and "warnings" after them; in
 * text the facts and warnings are sections a command lists or not (show
 * and path have no facts header; graph's DOT has neither).
 *
 * Text comes in the command's order; JSON keys always in the one document
 * order of the table (the contract's), whatever the command's order.
 * A section with no renderer for one form writes nothing there: its data is
 * carried by another section or the envelope (the "heap:" line is the JSON
 * "totals"). Rendering computes nothing beyond ratios for display.
 */
#ifndef PCA_REPORT_SECTIONS_H
#define PCA_REPORT_SECTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "analyses/caches.h"
#include "analyses/cycles.h"
#include "analyses/diff.h"
#include "analyses/unreferenced.h"
#include "analyses/neighbourhood.h"
#include "analyses/refgraph.h"
#include "analyses/summary.h"
#include "analyses/suspects.h"
#include "analyses/top.h"
#include "heap/arenas.h"
#include "report/json.h"
#include "report/report.h"

/* What the analyses computed, for the sections. NULL: not computed (a
 * section whose data is NULL writes nothing, unless said otherwise). */
struct pca_report_model {
	const struct pca_facts *facts;
	const struct pca_warnings *warnings;
	const struct pca_warnings *notes;   /* approximations that lose nothing; NULL: none */
	long limit;           /* rows per text table (-n) */
	bool overview;        /* report: tables cut shorter, the pymalloc arenas in one line */
	const struct pca_objects *objects;
	const struct pca_heap *heap;
	const struct pca_summary *summary;
	const struct pca_arenas *arenas;
	const struct pca_unreferenced *unreferenced;
	const struct pca_refgraph *graph;
	const struct pca_suspects *suspects;
	const struct pca_top *top;
	const struct pca_cycles *cycles;
	const struct pca_caches *caches;
	char *const *cache_owners;
	const struct pca_pythread *threads;
	size_t nthreads;
	const struct pca_diff *diff;
	const char *core2;
	const struct pca_object_view *object;
	const struct pca_object_path *path;
	const struct pca_neighbourhood *hood;
};

/* In document (JSON) order. */
enum pca_section_id {
	PCA_SECTION_FACTS,
	PCA_SECTION_HEAP,
	PCA_SECTION_SUSPECTS,
	PCA_SECTION_GARBAGE_TOTALS,
	PCA_SECTION_TYPES,
	PCA_SECTION_ARENAS,
	PCA_SECTION_UNREFERENCED,
	PCA_SECTION_LARGEST,
	PCA_SECTION_CYCLES,
	PCA_SECTION_CACHES,
	PCA_SECTION_THREADS,
	PCA_SECTION_DIFF,
	PCA_SECTION_OBJECT,
	PCA_SECTION_PATH,
	PCA_SECTION_GRAPH,
	PCA_SECTION_WARNINGS,
	PCA_SECTION_COUNT,
};

/* What a command computes for a section beyond the session. */
enum pca_section_needs {
	PCA_SECTION_NEEDS_THREADS = 1,
	PCA_SECTION_NEEDS_TOP = 2,
	PCA_SECTION_NEEDS_SUSPECTS = 4,
};

struct pca_section {
	const char *name;
	unsigned needs; /* enum pca_section_needs */
	void (*text)(FILE *out, const struct pca_report_model *m);
	void (*json)(struct pca_json *j, const struct pca_report_model *m);
};

extern const struct pca_section pca_sections[PCA_SECTION_COUNT];

/* A command's output: its sections in text order. */
struct pca_document {
	const enum pca_section_id *sections;
	size_t count;
};

/* The union of the document's sections' needs. */
unsigned pca_document_needs(const struct pca_document *doc);
void pca_report_render(FILE *out, bool json, const struct pca_document *doc,
		       const struct pca_report_model *m);

/* The renderers of the object and diff sections (report/object.c, diff.c). */
void pca_report_object_text(FILE *out, const struct pca_report_model *m);
void pca_report_object_json(struct pca_json *j, const struct pca_report_model *m);
void pca_report_path_text(FILE *out, const struct pca_report_model *m);
void pca_report_path_json(struct pca_json *j, const struct pca_report_model *m);
void pca_report_graph_dot(FILE *out, const struct pca_report_model *m);
void pca_report_graph_json(struct pca_json *j, const struct pca_report_model *m);
void pca_report_diff_text(FILE *out, const struct pca_report_model *m);
void pca_report_diff_json(struct pca_json *j, const struct pca_report_model *m);

#endif

/* report.h: rendering of results as text and as contract JSON. The only
 * writer to stdout. It computes nothing: analyses hand it their results. */
#ifndef PCA_REPORT_REPORT_H
#define PCA_REPORT_REPORT_H

#include <stdio.h>

#include "analyses/caches.h"
#include "analyses/cycles.h"
#include "analyses/unreferenced.h"
#include "analyses/summary.h"
#include "base/error.h"
#include "interp/interp.h"
#include "layout/layout.h"
#include "report/json.h"

/* Process and interpreter facts printed at the top of every report. */
struct pca_facts {
	const char *core_path;
	const char *compression;   /* "zstd"... when the file was compressed, else NULL */
	const char *executable;
	const char *python_file;
	int32_t pid;
	int32_t signal;
	bool live;                 /* read from a running process (-p) */
	bool live_stopped;         /* it was stopped for the read (not --no-stop) */
	bool live_already_stopped; /* --no-stop on a process a debugger held stopped */
	double paused_seconds;
	const struct pca_layout *layout; /* NULL when not resolved */
};

void pca_report_facts_text(FILE *out, const struct pca_facts *facts);
void pca_report_stacks_text(FILE *out, const struct pca_pythread *threads, size_t count);
void pca_report_warnings_text(FILE *out, const struct pca_warnings *w);
/* "notes:": approximations that lose nothing; nothing when notes is NULL or empty. */
void pca_report_notes_text(FILE *out, const struct pca_warnings *notes);

/* Per-type table: the first `limit` rows, then the totals. */
void pca_report_summary_text(FILE *out, const struct pca_summary *s, long limit);
/* unreachable: totals.unreachable when the graph was built, else NULL. */
void pca_report_json_summary(struct pca_json *j, const struct pca_summary *s, const uint64_t *unreachable);
void pca_report_unreferenced_text(FILE *out, const struct pca_unreferenced *l, long limit);
void pca_report_json_unreferenced(struct pca_json *j, const struct pca_unreferenced *l);
/* Cycles grouped by shape ("1000 cycles of 1 list, unreachable"). */
/* Cycles by class: garbage, the program's own, the interpreter's structure (one
 * summary line for those in the overview). */
void pca_report_cycles_text(FILE *out, const struct pca_cycles *c, const struct pca_heap *h, long limit,
			    bool overview);
void pca_report_json_cycles(struct pca_json *j, const struct pca_cycles *c, const struct pca_heap *h);
/* Caches: owners computed by the caller, one per item (NULL: none). */
void pca_report_caches_text(FILE *out, const struct pca_caches *c, const struct pca_heap *h,
			    char *const *owners, long limit);
void pca_report_json_caches(struct pca_json *j, const struct pca_caches *c, const struct pca_heap *h,
			    char *const *owners);
/* "1.2 GiB": exact bytes below 1 KiB. */
void pca_format_bytes(uint64_t bytes, char *buf, size_t size);

/* JSON document: begin writes "schema", "core", "python"; end writes "warnings". */
void pca_report_json_begin(struct pca_json *j, const struct pca_facts *facts);
void pca_report_json_threads(struct pca_json *j, const struct pca_pythread *threads,
			     size_t count);
/* "warnings" always; "notes" when notes is not NULL. */
void pca_report_json_end(struct pca_json *j, const struct pca_warnings *w,
			 const struct pca_warnings *notes);

#endif

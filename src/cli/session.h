/* session.h: everything a command may need, built in order as far as its
 * table row asks (target, symbols and layout, interpreter, heap census and
 * what is computed from it, the reference graph and its analyses), and the
 * mapping of errors to exit statuses. It prints nothing but error messages
 * (stderr).
 */
#ifndef PCA_CLI_SESSION_H
#define PCA_CLI_SESSION_H

#include "analyses/budget.h"
#include "analyses/caches.h"
#include "analyses/cycles.h"
#include "analyses/unreferenced.h"
#include "analyses/refgraph.h"
#include "analyses/summary.h"
#include "base/error.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "heap/arenas.h"
#include "heap/heap.h"
#include "interp/interp.h"
#include "layout/layout.h"
#include "objects/objects.h"
#include "report/report.h"
#include "report/sections.h"
#include "symbols/symbols.h"
#include "target/target.h"

struct pca_session {
	const struct pca_options *opts;
	struct pca_target *target;
	struct pca_symbols *symbols;
	struct pca_layout layout;
	bool have_layout;
	struct pca_interp interp;
	struct pca_warnings warnings;
	/* approximations that lose nothing (contract: `notes`, exit 0) */
	struct pca_warnings notes;
	struct pca_facts facts;
	struct pca_progress progress;
	/* PCA_NEED_HEAP */
	struct pca_objects objects;
	bool have_objects, have_arenas, have_unreferenced;
	struct pca_heap heap;
	struct pca_summary summary;
	struct pca_arenas arenas;
	struct pca_unreferenced unreferenced;
	/* PCA_NEED_GRAPH */
	struct pca_refgraph graph;
	bool have_graph;
	struct pca_cycles cycles;
	struct pca_caches caches;
	char **cache_owners;
	/* PCA_CMD_TWO_CORES: the session of opts->core2, its warnings copied
	 * into this one's, each prefixed by its core */
	struct pca_session *second;
	struct pca_options second_opts;
	bool shrink_warned; /* the shrunk-core warning is in `warnings` */
	/* PCA_NEED_GRAPH, but the graph would not fit in memory (budget.h):
	 * not built, and this says why and what to do (also a warning) */
	char *graph_refused;
};

/* Progress on stderr only when it is a terminal, never with --json. */
void pca_session_init(struct pca_session *s, const struct pca_options *opts);
struct pca_error *pca_session_open(struct pca_session *s, enum pca_need needs);
/* What pca_session_open builds after the symbols (layout, interpreter,
 * census, graph, as needs says), over the target's memory as it is now; and
 * pca_session_forget frees it and the warnings, keeping the target and the
 * symbols. For the census fuzz harness, which mutates the core's memory
 * between runs and would otherwise reload the DWARF each time. */
struct pca_error *pca_session_analyse(struct pca_session *s, enum pca_need needs);
void pca_session_forget(struct pca_session *s);
/* Opens s->opts->core2 as s->second with the same needs. On an error,
 * s->second (if not NULL) is the session that failed. */
struct pca_error *pca_session_open_second(struct pca_session *s, enum pca_need needs);
void pca_session_close(struct pca_session *s);
/* The session's results, for report/ (a command adds what it computed). */
void pca_session_model(struct pca_session *s, struct pca_report_model *ret);

/* Says what went wrong on stderr; the exit status for err. */
int pca_cli_fail(struct pca_session *s, struct pca_error *err);
/* The exit status of a command that printed its result. */
int pca_cli_status(const struct pca_session *s);

#endif

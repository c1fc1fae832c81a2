/* session.c: open a core and build what a command needs, in order. */
#include "cli/session.h"

#include "base/escape.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyses/owner.h"
#include "base/log.h"

static struct pca_error *session_open_symbols(struct pca_session *s);
static struct pca_error *session_build_heap(struct pca_session *s, bool edges);
static void session_free_heap(struct pca_session *s);

void pca_session_init(struct pca_session *s, const struct pca_options *opts)
{
	*s = (struct pca_session){.opts = opts};
	pca_progress_init(&s->progress, isatty(STDERR_FILENO) && !opts->no_progress && !opts->json);
	pca_warnings_init(&s->warnings);
	pca_warnings_init(&s->notes);
}

/* error.h's promise: each code maps to an exit status. A failed command
 * printed no result (2), except for a usage error found late (64). */
static int exit_status_of(enum pca_error_code code)
{
	switch (code) {
	case PCA_ERROR_USAGE:
		return PCA_EXIT_USAGE;
	case PCA_ERROR_OTHER:
	case PCA_ERROR_NOMEM:
	case PCA_ERROR_OS:
	case PCA_ERROR_FORMAT:
	case PCA_ERROR_FAULT:
	case PCA_ERROR_DEBUGINFO:
	case PCA_ERROR_NOT_PYTHON:
	case PCA_ERROR_CORRUPT:
		return PCA_EXIT_NO_RESULT;
	}
	return PCA_EXIT_NO_RESULT;
}

/* The core can shrink at any time while it is read (target/core.c turns
 * the SIGBUS into unsaved memory): checked last, after everything is read. */
static bool report_shrunk(const struct pca_session *s)
{
	bool shrunk = false;
	for (; s; s = s->second) {
		if (s->target && pca_target_shrunk(s->target)) {
			fprintf(stderr,
				"pycore-analyze: warning: %s shrank while it was read (truncated by another process?): the result is partial\n",
				s->opts->core);
			shrunk = true;
		}
	}
	return shrunk;
}

int pca_cli_fail(struct pca_session *s, struct pca_error *err)
{
	uint64_t missing = s->target ? pca_target_missing_bytes(s->target) : 0;
	/* A truncated core explains most later failures; say so first. */
	if (missing)
		fprintf(stderr, "pycore-analyze: %s (the core is truncated: %llu bytes missing)\n",
			pca_text(err->message), (unsigned long long)missing);
	else
		fprintf(stderr, "pycore-analyze: %s\n", pca_text(err->message));
	report_shrunk(s);
	int status = exit_status_of(err->code);
	pca_error_destroy(err);
	return status;
}

int pca_cli_status(const struct pca_session *s)
{
	bool shrunk = !s->shrink_warned && report_shrunk(s);
	return s->warnings.count || shrunk ? PCA_EXIT_PARTIAL : PCA_EXIT_COMPLETE;
}

struct pca_error *pca_session_open(struct pca_session *s, enum pca_need needs)
{
	struct pca_error *err =
		s->opts->live ? pca_target_open_process((int32_t)s->opts->pid, s->opts->no_stop, &s->target)
			      : pca_target_open_core(s->opts->core, &s->target);
	if (err)
		return err;
	s->facts.core_path = s->opts->core;
	const struct pca_target_live *live = pca_target_live(s->target);
	if (live) {
		s->facts.live = true;
		s->facts.live_stopped = live->stopped;
		s->facts.paused_seconds = live->paused_seconds;
		s->facts.live_already_stopped = live->already_stopped;
		if (!live->stopped && !live->already_stopped)
			pca_warnings_add(&s->warnings,
					 "process %d was read while it ran (--no-stop): the result may be torn",
					 live->pid);
		if (live->unreadable_bytes)
			pca_warnings_add(&s->warnings,
					 "%llu bytes of process %d could not be read (%s)",
					 (unsigned long long)live->unreadable_bytes, live->pid,
					 live->unreadable_omitted ? "left out of the snapshot" : "saved as zeros");
	}
	s->facts.compression = pca_target_compression(s->target);
	s->facts.pid = pca_target_pid(s->target);
	s->facts.signal = pca_target_signal(s->target);
	if (pca_target_compressed_truncated(s->target))
		pca_warnings_add(&s->warnings, "the %s stream of %s ends early: the core is cut short",
				 pca_target_compression(s->target), s->opts->core);
	uint64_t missing = pca_target_missing_bytes(s->target);
	if (missing)
		pca_warnings_add(&s->warnings,
				 "the core is truncated: %llu bytes of saved memory are missing from the file",
				 (unsigned long long)missing);
	if (!(needs & PCA_NEED_INTERP))
		return NULL;
	err = session_open_symbols(s);
	return err ? err : pca_session_analyse(s, needs);
}

static struct pca_error *session_open_symbols(struct pca_session *s)
{
	struct pca_symbols_options so = {
		.executable = s->opts->exe,
		.debug_dirs = s->opts->debug_dirs,
		.ndebug_dirs = s->opts->ndebug_dirs,
		.layout_from = s->opts->layout_from,
	};
	struct pca_error *err = pca_symbols_open(s->target, &so, &s->symbols);
	if (err)
		return err;
	s->facts.executable = pca_symbols_executable(s->symbols);
	s->facts.python_file = pca_symbols_python_file(s->symbols);
	/* A layout of another build: validated, but the user must know. */
	if (pca_symbols_layout_warning(s->symbols))
		pca_warnings_add(&s->warnings, "%s", pca_symbols_layout_warning(s->symbols));
	return NULL;
}

struct pca_error *pca_session_analyse(struct pca_session *s, enum pca_need needs)
{
	/* The layout reads the version from memory: resolved here, not with
	 * the symbols (DWARF answers are cached by symbols/, so this is cheap
	 * the second time). */
	struct pca_error *err = pca_layout_resolve(s->symbols, s->target, &s->layout);
	if (err)
		return err;
	s->have_layout = true;
	s->facts.layout = &s->layout;
	err = pca_interp_init(&s->interp, s->target, s->symbols, &s->layout);
	if (err || !(needs & PCA_NEED_HEAP))
		return err;
	if (needs & PCA_NEED_GRAPH) {
		/* an OOM core can be as large as this machine's memory: say so
		 * instead of being killed for it */
		struct pca_budget b;
		pca_budget_estimate(s->target, s->opts->max_memory, &b);
		if (b.census + b.graph > b.available) {
			free(s->graph_refused);
			s->graph_refused = pca_asprintf(
				"the reference graph was not built: with the census it would need about %llu MiB (an estimated %llu objects and %llu references in %llu MiB of saved memory), and %llu MiB are available (%s); pass --max-memory SIZE to allow more, use a machine with more memory, or run `summary`",
				(unsigned long long)((b.census + b.graph) >> 20), (unsigned long long)b.objects,
				(unsigned long long)b.references, (unsigned long long)(b.saved >> 20),
				(unsigned long long)(b.available >> 20), b.limited_by);
			if (s->graph_refused)
				pca_warnings_add(&s->warnings, "%s", s->graph_refused);
			needs &= ~PCA_NEED_GRAPH;
		}
	}
	err = session_build_heap(s, needs & PCA_NEED_GRAPH);
	if (err || !(needs & PCA_NEED_GRAPH))
		return err;
	err = pca_refgraph_build(&s->objects, &s->heap, &s->graph);
	s->have_graph = !err;
	if (!err)
		err = pca_cycles_compute(&s->objects, &s->heap, &s->graph, &s->cycles);
	if (!err)
		err = pca_caches_compute(&s->objects, &s->heap, &s->graph, &s->caches);
	if (!err && s->caches.count) {
		s->cache_owners = calloc(s->caches.count, sizeof(*s->cache_owners));
		for (size_t i = 0; s->cache_owners && i < s->caches.count; i++) {
			char owner[512];
			pca_owner_path(&s->objects, &s->heap, &s->graph, s->caches.items[i].id, owner,
				       sizeof(owner));
			s->cache_owners[i] = strdup(owner);
		}
	}
	return err;
}

struct pca_error *pca_session_open_second(struct pca_session *s, enum pca_need needs)
{
	struct pca_session *b = calloc(1, sizeof(*b));
	if (!b)
		return &pca_error_nomem;
	s->second = b;
	s->second_opts = *s->opts;
	s->second_opts.core = s->opts->core2;
	s->second_opts.live = s->opts->core2_live;
	b->opts = &s->second_opts;
	b->progress = s->progress;
	pca_warnings_init(&b->warnings);
	pca_warnings_init(&b->notes);
	struct pca_error *err = pca_session_open(b, needs);
	if (err)
		return err;
	for (size_t i = 0; i < b->warnings.count; i++)
		pca_warnings_add(&s->warnings, "%s: %s", s->opts->core2, b->warnings.items[i]);
	for (size_t i = 0; i < b->notes.count; i++)
		pca_warnings_add(&s->notes, "%s: %s", s->opts->core2, b->notes.items[i]);
	return NULL;
}

void pca_session_model(struct pca_session *s, struct pca_report_model *ret)
{
	/* A core that shrank while the analyses read it: say so in the
	 * result's warnings (a shrink while rendering: pca_cli_status). */
	for (struct pca_session *c = s; c && !s->shrink_warned; c = c->second) {
		if (c->target && pca_target_shrunk(c->target)) {
			pca_warnings_add(&s->warnings,
					 "%s shrank while it was read (truncated by another process?): memory beyond its new end is missing",
					 c->opts->core);
			s->shrink_warned = true;
		}
	}
	*ret = (struct pca_report_model){
		.facts = &s->facts,
		.warnings = &s->warnings,
		.notes = &s->notes,
		.limit = s->opts->limit,
		.objects = s->have_objects ? &s->objects : NULL,
		.heap = &s->heap,
		.summary = &s->summary,
		.arenas = s->have_arenas ? &s->arenas : NULL,
		.unreferenced = s->have_unreferenced ? &s->unreferenced : NULL,
		.graph = s->have_graph ? &s->graph : NULL,
		.cycles = &s->cycles,
		.caches = &s->caches,
		.cache_owners = s->cache_owners,
	};
}

void pca_session_forget(struct pca_session *s)
{
	session_free_heap(s);
	s->have_objects = s->have_arenas = s->have_unreferenced = s->have_graph = false;
	s->objects = (struct pca_objects){0};
	s->heap = (struct pca_heap){0};
	s->summary = (struct pca_summary){0};
	s->arenas = (struct pca_arenas){0};
	s->unreferenced = (struct pca_unreferenced){0};
	s->graph = (struct pca_refgraph){0};
	s->cycles = (struct pca_cycles){0};
	s->caches = (struct pca_caches){0};
	s->cache_owners = NULL;
	s->interp = (struct pca_interp){0};
	s->have_layout = false;
	s->facts.layout = NULL;
	pca_warnings_deinit(&s->warnings);
	pca_warnings_deinit(&s->notes);
	pca_warnings_init(&s->warnings);
	pca_warnings_init(&s->notes);
}

void pca_session_close(struct pca_session *s)
{
	if (s->second) {
		pca_session_close(s->second);
		free(s->second);
		s->second = NULL;
	}
	session_free_heap(s);
	pca_symbols_destroy(s->symbols);
	pca_target_destroy(s->target);
	pca_warnings_deinit(&s->warnings);
	pca_warnings_deinit(&s->notes);
	free(s->graph_refused);
}

/* The census and what is computed from it (PCA_NEED_HEAP). The allocator walk
 * is separate: a failure there leaves the census standing, with a warning. */
static struct pca_error *session_build_heap(struct pca_session *s, bool edges)
{
	struct pca_error *err = pca_objects_init(&s->objects, &s->interp);
	s->have_objects = !err;
	if (!err)
		err = pca_heap_build(&s->objects, &s->warnings, &s->progress,
				     edges ? PCA_HEAP_EDGES : 0, &s->heap);
	if (!err)
		err = pca_summary_compute(&s->heap, &s->objects, &s->summary);
	if (err)
		return err;
	/* the census' roots come from every frame (pca_interp_for_each_frame) */
	pca_interp_loop_warning(&s->interp, &s->warnings);
	if (s->objects.types_refused)
		pca_warnings_add(&s->warnings, "%llu more type objects than the %zu a heap may have: their objects are skipped (corrupt core?)",
				 (unsigned long long)s->objects.types_refused, s->objects.infos_capacity);
	/* A cut name loses no object: a note, and the name shows the cut. */
	if (s->objects.names_cut)
		pca_warnings_add(&s->notes, "%llu type names are longer than %d characters: they are shown cut, ending in \"\xe2\x80\xa6\"",
				 (unsigned long long)s->objects.names_cut, PCA_TYPE_NAME_MAX);
	/* An approximate size loses nothing: a note, not a warning (exit 0). */
	for (size_t i = 0; i < s->summary.nrows; i++)
		if (!s->summary.rows[i].size_exact)
			pca_warnings_add(&s->notes, "sizes of %s objects are approximate (their __sizeof__ is not modelled yet)",
					 s->summary.rows[i].name);
	double t0 = pca_now_seconds();
	struct pca_error *aerr = pca_arenas_compute(&s->interp, &s->warnings, &s->arenas);
	double t1 = pca_now_seconds();
	if (aerr) {
		pca_warnings_add(&s->warnings, "pymalloc section unavailable: %s", aerr->message);
		pca_error_destroy(aerr);
		return NULL;
	}
	s->have_arenas = true;
	struct pca_error *lerr = pca_unreferenced_compute(&s->objects, &s->heap, &s->arenas, &s->unreferenced);
	pca_log_timing("pymalloc arenas %.3f s, unreferenced objects %.3f s\n", t1 - t0,
		       pca_now_seconds() - t1);
	if (lerr) {
		pca_warnings_add(&s->warnings, "unreferenced objects unavailable: %s", lerr->message);
		pca_error_destroy(lerr);
	} else {
		s->have_unreferenced = true;
	}
	return NULL;
}

static void session_free_heap(struct pca_session *s)
{
	for (size_t i = 0; s->cache_owners && i < s->caches.count; i++)
		free(s->cache_owners[i]);
	free(s->cache_owners);
	pca_caches_deinit(&s->caches);
	pca_cycles_deinit(&s->cycles);
	if (s->have_graph)
		pca_refgraph_deinit(&s->graph);
	pca_unreferenced_deinit(&s->unreferenced);
	if (s->have_arenas)
		pca_arenas_deinit(&s->arenas);
	pca_summary_deinit(&s->summary);
	pca_heap_deinit(&s->heap);
	if (s->have_objects)
		pca_objects_deinit(&s->objects);
}

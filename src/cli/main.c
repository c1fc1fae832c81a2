/* pycore-analyze: command table, options, exit codes.
 * Each command declares what it needs; the session builds only that. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyses/caches.h"
#include "analyses/cycles.h"
#include "analyses/leaks.h"
#include "analyses/owner.h"
#include "analyses/refgraph.h"
#include "analyses/summary.h"
#include "base/error.h"
#include "base/progress.h"
#include "heap/arenas.h"
#include "heap/heap.h"
#include "report/allocator.h"
#include "objects/objects.h"
#include "interp/interp.h"
#include "layout/layout.h"
#include "report/report.h"
#include "symbols/symbols.h"
#include "target/cgroup.h"
#include "target/core_writer.h"
#include "target/target.h"

#ifndef PCA_VERSION
#define PCA_VERSION "0.1.0"
#endif

enum exit_status {
	EXIT_COMPLETE = 0,
	EXIT_PARTIAL = 1,
	EXIT_NO_RESULT = 2,
	EXIT_USAGE = 64,
};

enum { MAX_DEBUG_DIRS = 32 };

struct options {
	bool json;
	bool no_progress;
	const char *exe;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	size_t ndebug_dirs;
	long limit;
	const char *core;
	const char *command;
	bool have_address;
	uint64_t address;     /* show, path */
	const char *core2;    /* diff */
	long pid;             /* -p: capture, watch, or the process to read */
	bool live;            /* read process `pid` instead of `core` */
	bool core2_live;      /* diff CORE -p PID: the second is the process */
	bool no_stop;         /* --no-stop: read the process while it runs */
	bool use_gdb;         /* capture --gdb: gdb's gcore writes the core */
	const char *output;   /* -o: capture, watch */
	uint64_t rss_limit;   /* --rss: watch */
	double interval;      /* --interval: watch, seconds */
	double limit_pct;     /* --limit-pct: watch, share of the cgroup's memory limit */
	const char *cgroup;   /* --cgroup: watch a whole cgroup */
	long max_captures;    /* --max: watch */
	bool quiet;           /* --quiet: watch prints no summary */
};

/* Everything a command may need, built in order as far as it asks. */
struct session {
	struct options *opts;
	struct pca_target *target;
	struct pca_symbols *symbols;
	struct pca_layout layout;
	bool have_layout;
	struct pca_interp interp;
	struct pca_warnings warnings;
	struct pca_facts facts;
	struct pca_progress progress;
	/* NEED_HEAP */
	struct pca_objects objects;
	bool have_objects, have_arenas, have_leaks;
	struct pca_heap heap;
	struct pca_summary summary;
	struct pca_arenas arenas;
	struct pca_leaks leaks;
	/* NEED_GRAPH */
	struct pca_refgraph graph;
	bool have_graph;
	struct pca_cycles cycles;
	struct pca_caches caches;
	char **cache_owners;
};

enum need {
	NEED_TARGET = 1,
	NEED_INTERP = 2,
	NEED_HEAP = 4,
	NEED_GRAPH = 8,
};

struct command {
	const char *name;
	enum need needs;
	int (*run)(struct session *s);
	const char *help;
	bool takes_address;
	bool takes_second_core;
};

static int run_stacks(struct session *s);
static int run_summary(struct session *s);
static int run_report(struct session *s);
static void print_largest(struct session *s, struct pca_json *j, size_t limit);
static int run_top(struct session *s);
static int run_cycles(struct session *s);
static int run_show(struct session *s);
static int run_diff(struct session *s);
static int run_graph(struct session *s);
static int run_capture(const struct options *opts);
static int run_watch(const struct options *opts);
static bool parse_size(const char *text, uint64_t *ret);
static int need_object(struct session *s, uint32_t *id);
static void print_object_line(struct session *s, struct pca_json *j, uint32_t id, const char *indent);
static int run_path(struct session *s);
static int run_caches(struct session *s);
static struct pca_error *session_build_heap(struct session *s, bool edges);

static const struct command commands[] = {
	{"report", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_report,
	 "leak suspects, heap by type, largest objects, caches, cycles, allocator, stacks"},
	{"summary", NEED_INTERP | NEED_HEAP, run_summary,
	 "one row per type: count, total size (sys.getsizeof), share of the heap"},
	{"top", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_top,
	 "largest objects: address, type, size, retained size, owner path"},
	{"cycles", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_cycles,
	 "reference cycles, grouped by shape; those the collector would free marked unreachable"},
	{"caches", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_caches,
	 "lru_cache wrappers and big containers held by globals, class attributes or frames"},
	{"show", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_show,
	 "show ADDR: one object: type, size, preview, owner, referents and referrers", true},
	{"path", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_path,
	 "path ADDR: the shortest chain of references from a root to the object", true},
	{"diff", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_diff,
	 "diff CORE CORE2: growth from CORE to CORE2 per type, and caches that grew", false, true},
	{"graph", NEED_INTERP | NEED_HEAP | NEED_GRAPH, run_graph,
	 "graph ADDR: a DOT graph of the referrers and referents around the object (dot -Tsvg)", true},
	{"capture", 0, NULL,
	 "capture -p PID -o FILE: write a core of a running process (FILE.zst: compressed)"},
	{"watch", 0, NULL,
	 "watch -p PID -o FILE --rss SIZE | --limit-pct P: capture before the process runs out of memory"},
	{"stacks", NEED_INTERP, run_stacks,
	 "the Python stack of every thread, innermost frame first; the crashed thread marked"},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pycore-analyze [OPTIONS] CORE [EXECUTABLE]          (same as: report CORE)\n"
		"       pycore-analyze [OPTIONS] COMMAND CORE [EXECUTABLE]\n"
		"       pycore-analyze capture -p PID -o FILE | watch -p PID -o FILE --rss SIZE\n"
		"       pycore-analyze --help | --version\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\noptions:\n"
		"  --json            one JSON object on stdout (schema 1, see docs/contract)\n"
		"  --exe PATH        the executable the core was made with (default: found from the core)\n"
		"  --debug-dir DIR   also look for debug info in DIR (repeatable)\n"
		"  -n, --limit N     rows per table (default 20)\n"
		"  --no-progress     no progress on stderr\n"
		"  -p, --pid PID     read the running process PID instead of a core (read-only;\n"
		"                    stopped while its memory is copied); capture, watch: the process\n"
		"  --no-stop         -p: do not stop the process (the result may be torn)\n"
		"  --gdb             capture: have gdb's gcore write the core\n"
		"  -o, --output FILE capture, watch: where the core goes\n"
		"  --rss SIZE        watch: capture when resident memory reaches SIZE (2G, 500M)\n"
		"  --interval S      watch: seconds between looks (default 0.1)\n"
		"  --limit-pct P     watch: capture when the cgroup's memory use reaches P%% of its limit\n"
		"  --cgroup PATH     watch: a whole cgroup (container); its largest process is captured\n"
		"  --max N           watch: capture at most N times (default 1): FILE, FILE.2, ...\n"
		"  --quiet           watch: do not print the summary of each core taken\n"
		"\nenvironment:\n"
		"  DEBUGINFOD_URLS      fetch missing debug info from these debuginfod servers\n"
		"  PCA_DEBUGINFO_PATH   replaces the default debug-info root /usr/lib/debug\n"
		"\nexit status: 0 complete, 1 partial (see warnings), 2 no result, 64 bad usage\n");
}

static int fail(struct session *s, struct pca_error *err)
{
	uint64_t missing = s->target ? pca_target_missing_bytes(s->target) : 0;
	/* A truncated core explains most later failures; say so first. */
	if (missing)
		fprintf(stderr, "pycore-analyze: %s (the core is truncated: %llu bytes missing)\n",
			err->message, (unsigned long long)missing);
	else
		fprintf(stderr, "pycore-analyze: %s\n", err->message);
	pca_error_destroy(err);
	return EXIT_NO_RESULT;
}

static int finish_status(struct session *s)
{
	return s->warnings.count ? EXIT_PARTIAL : EXIT_COMPLETE;
}

static struct pca_error *session_open(struct session *s, enum need needs)
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
		if (!live->stopped)
			pca_warnings_add(&s->warnings,
					 "process %d was read while it ran (--no-stop): the result may be torn",
					 live->pid);
		if (live->unreadable_bytes)
			pca_warnings_add(&s->warnings,
					 "%llu bytes of process %d could not be read (saved as zeros)",
					 (unsigned long long)live->unreadable_bytes, live->pid);
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
	if (!(needs & NEED_INTERP))
		return NULL;
	struct pca_symbols_options so = {
		.executable = s->opts->exe,
		.debug_dirs = s->opts->debug_dirs,
		.ndebug_dirs = s->opts->ndebug_dirs,
	};
	err = pca_symbols_open(s->target, &so, &s->symbols);
	if (err)
		return err;
	s->facts.executable = pca_symbols_executable(s->symbols);
	s->facts.python_file = pca_symbols_python_file(s->symbols);
	err = pca_layout_resolve(s->symbols, s->target, &s->layout);
	if (err)
		return err;
	s->have_layout = true;
	s->facts.layout = &s->layout;
	err = pca_interp_init(&s->interp, s->target, s->symbols, &s->layout);
	if (err || !(needs & NEED_HEAP))
		return err;
	err = session_build_heap(s, needs & NEED_GRAPH);
	if (err || !(needs & NEED_GRAPH))
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

static void session_free_heap(struct session *s);

static void session_close(struct session *s)
{
	session_free_heap(s);
	pca_symbols_destroy(s->symbols);
	pca_target_destroy(s->target);
	pca_warnings_deinit(&s->warnings);
}

static int run_stacks(struct session *s)
{
	struct pca_pythread *threads;
	size_t count;
	struct pca_error *err = pca_interp_threads(&s->interp, &s->warnings, &threads, &count);
	if (err)
		return fail(s, err);
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
	return finish_status(s);
}

/* The census and what is computed from it (NEED_HEAP). The allocator walk
 * is separate: a failure there leaves the census standing, with a warning. */
static struct pca_error *session_build_heap(struct session *s, bool edges)
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
	if (s->objects.types_refused)
		pca_warnings_add(&s->warnings, "%llu more type objects than the %zu a heap may have: their objects are skipped (corrupt core?)",
				 (unsigned long long)s->objects.types_refused, s->objects.infos_capacity);
	for (size_t i = 0; i < s->summary.nrows; i++)
		if (!s->summary.rows[i].size_exact)
			pca_warnings_add(&s->warnings, "sizes of %s objects are approximate (their __sizeof__ is not modelled yet)",
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
	struct pca_error *lerr = pca_leaks_compute(&s->objects, &s->heap, &s->arenas, &s->leaks);
	if (getenv("PCA_TIMING")) /* debugging aid: phase times */
		fprintf(stderr, "pymalloc arenas %.3f s, unreachable allocations %.3f s\n", t1 - t0,
			pca_now_seconds() - t1);
	if (lerr) {
		pca_warnings_add(&s->warnings, "unreachable allocations unavailable: %s", lerr->message);
		pca_error_destroy(lerr);
	} else {
		s->have_leaks = true;
	}
	return NULL;
}

static void session_free_heap(struct session *s)
{
	for (size_t i = 0; s->cache_owners && i < s->caches.count; i++)
		free(s->cache_owners[i]);
	free(s->cache_owners);
	pca_caches_deinit(&s->caches);
	pca_cycles_deinit(&s->cycles);
	if (s->have_graph)
		pca_refgraph_deinit(&s->graph);
	pca_leaks_deinit(&s->leaks);
	if (s->have_arenas)
		pca_arenas_deinit(&s->arenas);
	pca_summary_deinit(&s->summary);
	pca_heap_deinit(&s->heap);
	if (s->have_objects)
		pca_objects_deinit(&s->objects);
}

/* totals.unreachable is part of "totals" (report/summary JSON); for other
 * commands it goes in a "totals" object of its own. */
static void print_totals_unreachable(struct session *s, struct pca_json *j)
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

static void print_heap_json(struct session *s, struct pca_json *j)
{
	pca_report_json_summary(j, &s->summary, s->have_graph ? &s->graph.unreachable_count : NULL);
	if (s->have_arenas)
		pca_report_json_arenas(j, &s->arenas);
	if (s->have_leaks)
		pca_report_json_leaks(j, &s->leaks);
}

static int run_summary(struct session *s)
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
	return finish_status(s);
}

/* Leak suspects, for a person: the caches nothing bounds that retain the
 * most, then garbage the collector has not freed. */
static void print_leak_suspects(struct session *s)
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
static int run_report(struct session *s)
{
	struct pca_pythread *threads;
	size_t count;
	struct pca_error *err = pca_interp_threads(&s->interp, &s->warnings, &threads, &count);
	if (err)
		return fail(s, err);
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
	return finish_status(s);
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

static void print_largest(struct session *s, struct pca_json *j, size_t limit)
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

static int run_top(struct session *s)
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
	return finish_status(s);
}

static int run_cycles(struct session *s)
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
	return finish_status(s);
}

static int run_caches(struct session *s)
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
	return finish_status(s);
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
static const char *cache_key(const struct session *s, size_t i)
{
	const struct pca_cache *c = &s->caches.items[i];
	if (c->lru && c->function)
		return c->function;
	return s->cache_owners && s->cache_owners[i] ? s->cache_owners[i] : "";
}

/* Growth from this session's core to CORE2: every type by name (both
 * tables merged), the caches matched by function or owner. */
static int run_diff(struct session *s)
{
	struct options opts2 = *s->opts;
	opts2.core = s->opts->core2;
	opts2.live = s->opts->core2_live;
	struct session b = {.opts = &opts2, .progress = s->progress};
	pca_warnings_init(&b.warnings);
	struct pca_error *err = session_open(&b, NEED_INTERP | NEED_HEAP | NEED_GRAPH);
	if (err) {
		int status = fail(&b, err);
		session_close(&b);
		return status;
	}
	size_t n = s->summary.nrows + b.summary.nrows;
	struct type_delta *d = calloc(n ? n : 1, sizeof(*d));
	if (!d) {
		session_close(&b);
		return fail(s, &pca_error_nomem);
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
		pca_warnings_add(&s->warnings, "%s: %s", s->opts->core2, b.warnings.items[i]);
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
		pca_json_string(&j, s->opts->core2);
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
		printf("\ngrowth to %s: %+lld objects, %s%s\n\n", s->opts->core2, (long long)dobj,
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
	session_close(&b);
	if (!json)
		pca_report_warnings_text(stdout, &s->warnings);
	return finish_status(s);
}

/* The neighbourhood drawn by `graph`: the object, what it refers to, what
 * refers to it and what refers to those, each list cut so that the picture
 * stays readable. */
enum { GRAPH_MAX_NODES = 80, GRAPH_FANOUT = 25, GRAPH_FANIN2 = 8 };

struct neighbourhood {
	uint32_t ids[GRAPH_MAX_NODES];
	size_t n;
};

static bool hood_add(struct neighbourhood *h, uint32_t id)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->ids[i] == id)
			return true;
	if (h->n == GRAPH_MAX_NODES)
		return false;
	h->ids[h->n++] = id;
	return true;
}

static bool hood_has(const struct neighbourhood *h, uint32_t id)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->ids[i] == id)
			return true;
	return false;
}

static void put_dot_string(const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
}

static int run_graph(struct session *s)
{
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	const struct pca_graph *g = &s->graph.graph;
	struct neighbourhood h = {.n = 0};
	hood_add(&h, id);
	for (uint64_t e = g->out_start[id]; e < g->out_start[id + 1] && e - g->out_start[id] < GRAPH_FANOUT; e++)
		hood_add(&h, g->out[e]);
	size_t first_referrer = h.n;
	for (uint64_t e = g->in_start[id]; e < g->in_start[id + 1] && e - g->in_start[id] < GRAPH_FANOUT; e++)
		hood_add(&h, g->in[e]);
	size_t referrers_end = h.n;
	for (size_t i = first_referrer; i < referrers_end; i++) {
		uint32_t r = h.ids[i];
		for (uint64_t e = g->in_start[r]; e < g->in_start[r + 1] && e - g->in_start[r] < GRAPH_FANIN2; e++)
			hood_add(&h, g->in[e]);
	}
	char owner[512];
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "graph");
		pca_json_object_begin(&j);
		pca_json_key(&j, "nodes");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < h.n; i++)
			print_object_line(s, &j, h.ids[i], "");
		pca_json_array_end(&j);
		pca_json_key(&j, "edges");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < h.n; i++)
			for (uint64_t e = g->out_start[h.ids[i]]; e < g->out_start[h.ids[i] + 1]; e++)
				if (hood_has(&h, g->out[e])) {
					pca_json_array_begin(&j);
					pca_json_address(&j, s->heap.addr[h.ids[i]]);
					pca_json_address(&j, s->heap.addr[g->out[e]]);
					pca_json_array_end(&j);
				}
		pca_json_array_end(&j);
		pca_json_object_end(&j);
		pca_report_json_end(&j, &s->warnings);
		return finish_status(s);
	}
	printf("digraph pycore {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"monospace\"];\n");
	for (size_t i = 0; i < h.n; i++) {
		uint32_t v = h.ids[i];
		char size[32];
		pca_format_bytes(s->heap.size[v], size, sizeof(size));
		pca_owner_path(&s->objects, &s->heap, &s->graph, v, owner, sizeof(owner));
		printf("\tn%u [label=\"", v);
		put_dot_string(s->objects.infos[s->heap.type[v]].name);
		printf("\\n%#llx\\n%s", (unsigned long long)s->heap.addr[v], size);
		if (owner[0]) {
			printf("\\n");
			put_dot_string(owner);
		}
		printf("\"%s];\n", v == id ? ", style=filled, fillcolor=lightyellow" : "");
	}
	for (size_t i = 0; i < h.n; i++)
		for (uint64_t e = g->out_start[h.ids[i]]; e < g->out_start[h.ids[i] + 1]; e++)
			if (hood_has(&h, g->out[e]))
				printf("\tn%u -> n%u;\n", h.ids[i], g->out[e]);
	printf("}\n");
	return finish_status(s);
}

static void print_captured(const struct options *opts, const char *path, uint64_t bytes,
			   size_t threads, double seconds, double paused)
{
	if (opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_json_object_begin(&j);
		pca_json_key(&j, "schema");
		pca_json_int(&j, 1);
		pca_json_key(&j, "capture");
		pca_json_object_begin(&j);
		pca_json_key(&j, "pid");
		pca_json_int(&j, opts->pid);
		pca_json_key(&j, "path");
		pca_json_string(&j, path);
		pca_json_key(&j, "bytes");
		pca_json_uint(&j, bytes);
		pca_json_key(&j, "threads");
		pca_json_uint(&j, threads);
		pca_json_key(&j, "seconds");
		pca_json_double(&j, seconds);
		pca_json_key(&j, "paused_seconds");
		pca_json_double(&j, paused);
		pca_json_object_end(&j);
		pca_json_key(&j, "warnings");
		pca_json_array_begin(&j);
		pca_json_array_end(&j);
		pca_json_object_end(&j);
	} else {
		char size[32];
		pca_format_bytes(bytes, size, sizeof(size));
		printf("captured process %ld (%zu threads) to %s: %s in %.1f s, paused %.2f s\n",
		       opts->pid, threads, path, size, seconds, paused);
	}
}

/* capture: gdb's gcore writes the core into a private directory next to
 * FILE (same file system, so the final rename is atomic); the result is
 * checked as a core before it takes FILE's name. The process is stopped
 * only while gcore copies it; nothing is written to it. */
static int run_capture_gdb(const struct options *opts)
{
	char *dir = pca_asprintf("%s.tmpXXXXXX", opts->output);
	if (!dir || !mkdtemp(dir)) {
		fprintf(stderr, "pycore-analyze: cannot create a directory next to %s: %s\n", opts->output,
			strerror(errno));
		free(dir);
		return EXIT_NO_RESULT;
	}
	char *prefix = pca_asprintf("%s/core", dir);
	char *made = pca_asprintf("%s/core.%ld", dir, opts->pid);
	char pid_text[32];
	snprintf(pid_text, sizeof(pid_text), "%ld", opts->pid);
	int status = EXIT_NO_RESULT;
	double t0 = pca_now_seconds();
	pid_t child = prefix && made ? fork() : -1;
	if (child == 0) {
		/* gdb's own chatter is noise here; our messages say what failed */
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("gcore", "gcore", "-o", prefix, pid_text, (char *)NULL);
		_exit(127);
	}
	int wstatus = 0;
	if (child < 0 || waitpid(child, &wstatus, 0) < 0) {
		fprintf(stderr, "pycore-analyze: cannot start gcore: %s\n", strerror(errno));
	} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127) {
		fprintf(stderr, "pycore-analyze: cannot run gcore: install gdb (it provides gcore)\n");
	} else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || access(made, R_OK) != 0) {
		fprintf(stderr, "pycore-analyze: gcore could not take a core of process %ld (exit %d): is it running, and may you ptrace it (kernel.yama.ptrace_scope, same user or root)?\n",
			opts->pid, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
	} else {
		/* gcore can report success with a useless file (gdb-design.md): check it */
		struct pca_target *t = NULL;
		struct pca_error *err = pca_target_open_core(made, &t);
		if (err) {
			fprintf(stderr, "pycore-analyze: gcore wrote no usable core: %s\n", err->message);
			pca_error_destroy(err);
		} else if (pca_target_missing_bytes(t)) {
			fprintf(stderr, "pycore-analyze: gcore wrote a truncated core (%llu bytes missing): is the disk full?\n",
				(unsigned long long)pca_target_missing_bytes(t));
		} else if (rename(made, opts->output) != 0) {
			fprintf(stderr, "pycore-analyze: cannot move the core to %s: %s\n", opts->output,
				strerror(errno));
		} else {
			struct stat st;
			uint64_t bytes = stat(opts->output, &st) == 0 ? (uint64_t)st.st_size : 0;
			double seconds = pca_now_seconds() - t0;
			/* gdb keeps the process stopped from attach to detach: all of it */
			print_captured(opts, opts->output, bytes, pca_target_thread_count(t), seconds,
				       seconds);
			status = EXIT_COMPLETE;
		}
		pca_target_destroy(t);
	}
	if (made)
		unlink(made);
	rmdir(dir);
	free(made);
	free(prefix);
	free(dir);
	return status;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* capture: our own core writer (target/core_writer.h); the process is
 * stopped only while its memory is copied. FILE.zst is written compressed.
 * --gdb: gdb's gcore instead. */
static int run_capture(const struct options *opts)
{
	if (opts->use_gdb)
		return run_capture_gdb(opts);
	struct pca_core_write_options wo = {
		.no_stop = opts->no_stop,
		.compress = ends_with(opts->output, ".zst"),
	};
	struct pca_core_write_result res;
	struct pca_error *err = pca_core_capture((int32_t)opts->pid, opts->output, &wo, &res);
	if (err) {
		fprintf(stderr, "pycore-analyze: %s\n", err->message);
		pca_error_destroy(err);
		return EXIT_NO_RESULT;
	}
	if (res.unreadable_bytes)
		fprintf(stderr, "pycore-analyze: warning: %llu bytes of process %ld could not be read (saved as zeros)\n",
			(unsigned long long)res.unreadable_bytes, opts->pid);
	print_captured(opts, opts->output, res.bytes, res.threads, res.seconds, res.paused_seconds);
	return res.unreadable_bytes ? EXIT_PARTIAL : EXIT_COMPLETE;
}

/* "2G", "500M", "800000K", "1048576": bytes. */
static bool parse_size(const char *text, uint64_t *ret)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || v <= 0)
		return false;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024.0 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')
		end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	if (*end || v > 1e18)
		return false;
	*ret = (uint64_t)v;
	return true;
}

/* The n-th core of a watch (n from 2): FILE.n, or FILE.n.zst for FILE.zst. */
static char *watch_output(const char *output, long n)
{
	if (n < 2)
		return strdup(output);
	if (ends_with(output, ".zst"))
		return pca_asprintf("%.*s.%ld.zst", (int)(strlen(output) - 4), output, n);
	return pca_asprintf("%s.%ld", output, n);
}

/* The summary of a core just taken, by this same program (a fresh process:
 * the watcher keeps no analysis state between captures). */
static void print_core_summary(const struct options *opts, const char *path)
{
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		char limit[32];
		snprintf(limit, sizeof(limit), "%ld", opts->limit);
		execl("/proc/self/exe", "pycore-analyze", "--no-progress", "-n", limit,
		      opts->json ? "--json" : "summary", opts->json ? "summary" : path,
		      opts->json ? path : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	int status;
	if (child > 0)
		waitpid(child, &status, 0);
}

/* watch: poll the process's resident memory (--rss), or the memory its
 * cgroup is charged against its limit (--limit-pct; --cgroup for a whole
 * container); when the threshold is reached, capture (before the OOM
 * killer's SIGKILL, which leaves no core). At most --max captures, one at a
 * time; after one, the next needs another 5% of the threshold of growth, or
 * a fall below the threshold first. Exit 2 when the process (or cgroup)
 * ends before any capture. */
static int run_watch(const struct options *opts)
{
	double interval = opts->interval > 0 ? opts->interval : 0.1;
	char cg[PATH_MAX] = "";
	struct pca_error *err = NULL;
	if (opts->cgroup)
		err = pca_cgroup_resolve(opts->cgroup, cg, sizeof(cg));
	else if (opts->limit_pct > 0)
		err = pca_cgroup_of_process((int32_t)opts->pid, cg, sizeof(cg));
	if (err) {
		fprintf(stderr, "pycore-analyze: %s\n", err->message);
		int status = err->code == PCA_ERROR_USAGE ? EXIT_USAGE : EXIT_NO_RESULT;
		pca_error_destroy(err);
		return status;
	}
	char what[PATH_MAX + 64];
	if (opts->pid > 0)
		snprintf(what, sizeof(what), "process %ld", opts->pid);
	else
		snprintf(what, sizeof(what), "cgroup %s", cg);
	long max = opts->max_captures > 0 ? opts->max_captures : 1, taken = 0;
	uint64_t rearm_at = 0; /* 0: armed at the threshold */
	bool announced = false;
	for (;;) {
		uint64_t value = 0, threshold = opts->rss_limit;
		struct pca_cgroup_memory mem;
		bool alive = opts->pid > 0 ? pca_process_rss((int32_t)opts->pid, &value) : true;
		if (alive && cg[0]) {
			err = pca_cgroup_memory_read(cg, &mem);
			if (err) {
				pca_error_destroy(err);
				alive = false; /* the cgroup went away with its container */
			} else if (opts->limit_pct > 0) {
				if (mem.limit == UINT64_MAX) {
					fprintf(stderr, "pycore-analyze: %s has no memory limit (%s): use --rss SIZE\n",
						what, cg);
					return EXIT_NO_RESULT;
				}
				threshold = (uint64_t)((double)mem.limit * opts->limit_pct / 100.0);
				value = mem.usage;
			} else if (opts->pid <= 0) {
				value = mem.usage;
			}
		}
		if (!alive) {
			if (taken)
				return EXIT_COMPLETE;
			char limit[32];
			pca_format_bytes(threshold, limit, sizeof(limit));
			fprintf(stderr, "pycore-analyze: %s ended before its memory reached %s: nothing captured\n",
				what, limit);
			return EXIT_NO_RESULT;
		}
		if (!announced && !opts->json && isatty(STDERR_FILENO)) {
			char limit[32];
			pca_format_bytes(threshold, limit, sizeof(limit));
			fprintf(stderr, "watching %s until its memory reaches %s\n", what, limit);
			announced = true;
		}
		if (value < threshold)
			rearm_at = 0;
		else if (value >= (rearm_at ? rearm_at : threshold)) {
			struct options one = *opts;
			if (one.pid <= 0)
				one.pid = pca_cgroup_largest_process(cg);
			char *path = watch_output(opts->output, taken + 1);
			if (!path)
				return EXIT_NO_RESULT;
			one.output = path;
			int status = one.pid > 0 ? run_capture(&one) : EXIT_NO_RESULT;
			if (status == EXIT_NO_RESULT) {
				free(path);
				return status;
			}
			if (!opts->quiet)
				print_core_summary(opts, path);
			free(path);
			if (++taken >= max)
				return EXIT_COMPLETE;
			rearm_at = value + threshold / 20;
		}
		struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

static bool parse_address(const char *text, uint64_t *ret)
{
	char *end;
	if (strncmp(text, "0x", 2) != 0 && strncmp(text, "0X", 2) != 0)
		return false;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 16);
	if (errno || *end || end == text + 2)
		return false;
	*ret = v;
	return true;
}

/* The object that contains addr: the last object starting at or below it
 * whose body (basicsize + items) covers it, or the one whose collector
 * header or pre-header it falls in. */
static bool object_at(struct session *s, uint64_t addr, uint32_t *ret)
{
	const struct pca_heap *h = &s->heap;
	uint32_t lo = 0, hi = h->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->addr[h->by_address[mid]] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		uint32_t id = h->by_address[lo - 1];
		const struct pca_type_info *t = &s->objects.infos[h->type[id]];
		uint64_t n = 0, body = t->basicsize;
		if (t->itemsize && pca_interp_read_field(&s->interp, h->addr[id], PCA_F_OB_SIZE, &n))
			body += ((int64_t)n < 0 ? (uint64_t)-(int64_t)n : n) * t->itemsize;
		if (addr - h->addr[id] < body) {
			*ret = id;
			return true;
		}
	}
	/* in the collector's header or the pre-header before the next object */
	uint64_t pre = s->layout.sizes[PCA_S_GC_HEAD] + 16;
	if (lo < h->count && h->addr[h->by_address[lo]] - addr <= pre) {
		*ret = h->by_address[lo];
		return true;
	}
	return false;
}

struct referent_list {
	struct session *s;
	uint32_t ids[64];
	size_t n, total;
};

static void collect_referent(void *ctx, uint64_t referent)
{
	struct referent_list *r = ctx;
	uint32_t id;
	if (!pca_heap_find(&r->s->heap, referent & ~(uint64_t)PCA_REFERENT_FLAGS, &id))
		return;
	r->total++;
	if (r->n < sizeof(r->ids) / sizeof(r->ids[0]))
		r->ids[r->n++] = id;
}

static void print_object_line(struct session *s, struct pca_json *j, uint32_t id, const char *indent)
{
	const char *type = s->objects.infos[s->heap.type[id]].name;
	if (j) {
		pca_json_object_begin(j);
		pca_json_key(j, "address");
		pca_json_address(j, s->heap.addr[id]);
		pca_json_key(j, "type");
		pca_json_string(j, type);
		pca_json_key(j, "size");
		pca_json_uint(j, s->heap.size[id]);
		pca_json_object_end(j);
	} else {
		printf("%s%#llx  %-28s %llu bytes\n", indent, (unsigned long long)s->heap.addr[id], type,
		       (unsigned long long)s->heap.size[id]);
	}
}

static int need_object(struct session *s, uint32_t *id)
{
	if (object_at(s, s->opts->address, id))
		return 0;
	fprintf(stderr, "pycore-analyze: no object of the census contains 0x%llx\n",
		(unsigned long long)s->opts->address);
	return EXIT_NO_RESULT;
}

static int run_show(struct session *s)
{
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	char owner[512], preview[256] = "";
	pca_owner_path(&s->objects, &s->heap, &s->graph, id, owner, sizeof(owner));
	pca_preview(&s->objects, s->heap.addr[id], &s->objects.infos[s->heap.type[id]], preview,
		    sizeof(preview));
	struct referent_list refs = {.s = s};
	pca_objects_referents(&s->objects, s->heap.addr[id], &s->objects.infos[s->heap.type[id]],
			      collect_referent, &refs);
	const struct pca_graph *g = &s->graph.graph;
	uint64_t in_count = g->in_start[id + 1] - g->in_start[id];
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "object");
		pca_json_object_begin(&j);
		pca_json_key(&j, "address");
		pca_json_address(&j, s->heap.addr[id]);
		pca_json_key(&j, "type");
		pca_json_string(&j, s->objects.infos[s->heap.type[id]].name);
		pca_json_key(&j, "size");
		pca_json_uint(&j, s->heap.size[id]);
		pca_json_key(&j, "retained");
		pca_json_uint(&j, s->graph.retained[id]);
		pca_json_key(&j, "owner");
		pca_json_string(&j, owner[0] ? owner : NULL);
		pca_json_key(&j, "unreachable");
		pca_json_bool(&j, s->graph.unreachable[id]);
		pca_json_key(&j, "preview");
		pca_json_string(&j, preview);
		pca_json_key(&j, "referents");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < refs.n; i++)
			print_object_line(s, &j, refs.ids[i], "");
		pca_json_array_end(&j);
		pca_json_key(&j, "referrers");
		pca_json_array_begin(&j);
		for (uint64_t e = g->in_start[id]; e < g->in_start[id + 1] && e - g->in_start[id] < 64; e++)
			print_object_line(s, &j, g->in[e], "");
		pca_json_array_end(&j);
		pca_json_object_end(&j);
		pca_report_json_end(&j, &s->warnings);
	} else {
		char size[32], retained[32];
		pca_format_bytes(s->heap.size[id], size, sizeof(size));
		pca_format_bytes(s->graph.retained[id], retained, sizeof(retained));
		printf("%#llx  %s\n", (unsigned long long)s->heap.addr[id],
		       s->objects.infos[s->heap.type[id]].name);
		printf("  size      %s (%llu bytes), retained %s\n", size,
		       (unsigned long long)s->heap.size[id], retained);
		printf("  owner     %s\n", owner[0] ? owner : s->graph.unreachable[id] ? "(unreachable garbage)" : "(none)");
		printf("  value     %s\n", preview);
		printf("  refers to %llu objects%s\n", (unsigned long long)refs.total,
		       refs.total > refs.n ? " (first 64)" : "");
		for (size_t i = 0; i < refs.n; i++)
			print_object_line(s, NULL, refs.ids[i], "    ");
		printf("  referred to by %llu objects%s\n", (unsigned long long)in_count,
		       in_count > 64 ? " (first 64)" : "");
		for (uint64_t e = g->in_start[id]; e < g->in_start[id + 1] && e - g->in_start[id] < 64; e++)
			print_object_line(s, NULL, g->in[e], "    ");
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return finish_status(s);
}

static int run_path(struct session *s)
{
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	uint32_t chain[256];
	size_t n = 0;
	for (uint32_t v = id; n < 256;) {
		chain[n++] = v;
		uint32_t p = s->graph.parent[v];
		if (p == PCA_GRAPH_VIRTUAL_ROOT || p == PCA_GRAPH_UNREACHABLE)
			break;
		v = p;
	}
	bool reachable = s->graph.parent[chain[n - 1]] == PCA_GRAPH_VIRTUAL_ROOT;
	char owner[512];
	pca_owner_path(&s->objects, &s->heap, &s->graph, id, owner, sizeof(owner));
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "owner");
		pca_json_string(&j, owner[0] ? owner : NULL);
		pca_json_key(&j, "path");
		pca_json_array_begin(&j);
		for (size_t i = n; reachable && i > 0; i--)
			print_object_line(s, &j, chain[i - 1], "");
		pca_json_array_end(&j);
		pca_report_json_end(&j, &s->warnings);
	} else {
		if (!reachable) {
			printf("%#llx (%s) is not reachable from any root%s\n",
			       (unsigned long long)s->heap.addr[id], s->objects.infos[s->heap.type[id]].name,
			       s->graph.unreachable[id] ? ": unreachable garbage the collector would free" : "");
		} else {
			printf("%s\n", owner);
			for (size_t i = n; i > 0; i--)
				print_object_line(s, NULL, chain[i - 1], "  ");
		}
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return finish_status(s);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct options opts = {.limit = 20};
	enum { OPT_JSON = 256, OPT_EXE, OPT_DEBUG_DIR, OPT_NO_PROGRESS, OPT_VERSION, OPT_RSS,
	       OPT_INTERVAL, OPT_NO_STOP, OPT_GDB, OPT_LIMIT_PCT, OPT_CGROUP, OPT_MAX, OPT_QUIET };
	opts.pid = -1;
	static const struct option long_options[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"exe", required_argument, NULL, OPT_EXE},
		{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
		{"limit", required_argument, NULL, 'n'},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"pid", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"rss", required_argument, NULL, OPT_RSS},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"no-stop", no_argument, NULL, OPT_NO_STOP},
		{"gdb", no_argument, NULL, OPT_GDB},
		{"limit-pct", required_argument, NULL, OPT_LIMIT_PCT},
		{"cgroup", required_argument, NULL, OPT_CGROUP},
		{"max", required_argument, NULL, OPT_MAX},
		{"quiet", no_argument, NULL, OPT_QUIET},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "hn:p:o:", long_options, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *end;
			opts.pid = strtol(optarg, &end, 10);
			if (*end || opts.pid <= 0) {
				fprintf(stderr, "pycore-analyze: -p needs a process id\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'o':
			opts.output = optarg;
			break;
		case OPT_RSS:
			if (!parse_size(optarg, &opts.rss_limit)) {
				fprintf(stderr, "pycore-analyze: --rss needs a size such as 2G, 500M or 800000K\n");
				return EXIT_USAGE;
			}
			break;
		case OPT_INTERVAL: {
			char *end;
			opts.interval = strtod(optarg, &end);
			if (*end || opts.interval <= 0 || opts.interval > 3600) {
				fprintf(stderr, "pycore-analyze: --interval needs seconds (0.1 ... 3600)\n");
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_LIMIT_PCT: {
			char *end;
			opts.limit_pct = strtod(optarg, &end);
			if (*end || !(opts.limit_pct > 0 && opts.limit_pct <= 100)) {
				fprintf(stderr, "pycore-analyze: --limit-pct needs a percentage (1 ... 100)\n");
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_CGROUP:
			opts.cgroup = optarg;
			break;
		case OPT_MAX: {
			char *end;
			opts.max_captures = strtol(optarg, &end, 10);
			if (*end || opts.max_captures < 1 || opts.max_captures > 1000) {
				fprintf(stderr, "pycore-analyze: --max needs a number of captures (1 ... 1000)\n");
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_QUIET:
			opts.quiet = true;
			break;
		case OPT_NO_STOP:
			opts.no_stop = true;
			break;
		case OPT_GDB:
			opts.use_gdb = true;
			break;
		case OPT_JSON:
			opts.json = true;
			break;
		case OPT_EXE:
			opts.exe = optarg;
			break;
		case OPT_DEBUG_DIR:
			if (opts.ndebug_dirs == MAX_DEBUG_DIRS) {
				fprintf(stderr, "pycore-analyze: at most %d --debug-dir\n", MAX_DEBUG_DIRS);
				return EXIT_USAGE;
			}
			opts.debug_dirs[opts.ndebug_dirs++] = optarg;
			break;
		case 'n': {
			char *end;
			opts.limit = strtol(optarg, &end, 10);
			if (*end || opts.limit < 0) {
				fprintf(stderr, "pycore-analyze: -n needs a non-negative number\n");
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_NO_PROGRESS:
			opts.no_progress = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_COMPLETE;
		case OPT_VERSION:
			printf("pycore-analyze %s\n", PCA_VERSION);
			return EXIT_COMPLETE;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	int pos = optind;
	const struct command *cmd = NULL;
	if (pos < argc)
		cmd = find_command(argv[pos]);
	if (cmd)
		pos++;
	else
		cmd = find_command("report");
	if (strcmp(cmd->name, "capture") == 0 || strcmp(cmd->name, "watch") == 0) {
		bool watch = cmd->name[0] == 'w';
		bool target = opts.pid > 0 || (watch && opts.cgroup);
		bool threshold = opts.rss_limit || opts.limit_pct > 0;
		if (!target || !opts.output || pos < argc || (watch && !threshold)) {
			fprintf(stderr, "pycore-analyze: usage: %s\n",
				watch ? "watch (-p PID | --cgroup PATH) -o FILE (--rss SIZE | --limit-pct P) [--max N] [--quiet] [--interval SECONDS]"
				      : "capture -p PID -o FILE [--no-stop] [--gdb]");
			return EXIT_USAGE;
		}
		return watch ? run_watch(&opts) : run_capture(&opts);
	}
	/* -p PID reads the running process where a core would be named;
	 * diff CORE -p PID compares a core with the process now. */
	char live_name[48];
	snprintf(live_name, sizeof(live_name), "process %ld", opts.pid);
	if (opts.pid > 0 && !cmd->takes_second_core) {
		opts.live = true;
		opts.core = live_name;
	}
	if (pos >= argc && !opts.live) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* show/path: ADDR before or after CORE (`show 0x7f.. core.1234`) */
	if (cmd->takes_address && pos < argc && parse_address(argv[pos], &opts.address)) {
		opts.have_address = true;
		pos++;
	}
	if (pos >= argc && !opts.live) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!opts.live)
		opts.core = argv[pos++];
	if (cmd->takes_address && !opts.have_address) {
		if (pos >= argc || !parse_address(argv[pos], &opts.address)) {
			fprintf(stderr, "pycore-analyze: %s needs an address (0x...)\n", cmd->name);
			return EXIT_USAGE;
		}
		opts.have_address = true;
		pos++;
	}
	if (cmd->takes_second_core && opts.pid > 0) {
		opts.core2 = live_name;
		opts.core2_live = true;
	} else if (cmd->takes_second_core) {
		if (pos >= argc) {
			fprintf(stderr, "pycore-analyze: %s needs a second core: %s CORE CORE2\n", cmd->name, cmd->name);
			return EXIT_USAGE;
		}
		opts.core2 = argv[pos++];
	}
	if (pos < argc && !opts.exe)
		opts.exe = argv[pos++];
	if (pos < argc) {
		fprintf(stderr, "pycore-analyze: unexpected argument '%s'\n", argv[pos]);
		return EXIT_USAGE;
	}
	opts.command = cmd->name;
	struct session s = {.opts = &opts};
	pca_progress_init(&s.progress, isatty(STDERR_FILENO) && !opts.no_progress && !opts.json);
	pca_warnings_init(&s.warnings);
	struct pca_error *err = session_open(&s, cmd->needs);
	int status = err ? fail(&s, err) : cmd->run(&s);
	session_close(&s);
	return status;
}

/* pycore-analyze: options, the command table, dispatch.
 * Each command declares what it needs; the session builds only that. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/cmd_gdb.h"
#include "analyses/budget.h"
#include "cli/session.h"

#ifndef PCA_VERSION
#define PCA_VERSION "0.1.0"
#endif

/* gdb's helper parses its own command line (cmd_gdb.c). */
static int run_gdb(const struct pca_options *opts, int argc, char **argv, int pos)
{
	(void)opts;
	return pca_cmd_gdb(argc - (pos - 1), argv + (pos - 1));
}

static const struct pca_command commands[] = {
	{"report", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, PCA_CMD_WITHOUT_GRAPH, pca_cmd_report, NULL,
	 "leak suspects, heap by type, largest objects, caches, cycles, allocator, stacks"},
	{"summary", PCA_NEED_INTERP | PCA_NEED_HEAP, 0, pca_cmd_summary, NULL,
	 "one row per type: count, total size (sys.getsizeof), share of the heap"},
	{"top", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, 0, pca_cmd_top, NULL,
	 "largest objects: address, type, size, retained size, owner path"},
	{"cycles", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, 0, pca_cmd_cycles, NULL,
	 "reference cycles, grouped by shape; those the collector would free marked unreachable"},
	{"caches", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, 0, pca_cmd_caches, NULL,
	 "lru_cache wrappers and big containers held by globals, class attributes or frames"},
	{"show", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, 0, pca_cmd_show, NULL,
	 "show ADDR: one object: type, size, preview, owner, referents and referrers",
	 pca_cmd_object_args},
	{"path", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, 0, pca_cmd_path, NULL,
	 "path ADDR: the shortest chain of references from a root to the object",
	 pca_cmd_object_args},
	{"diff", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, PCA_CMD_TWO_CORES, pca_cmd_diff, NULL,
	 "diff CORE CORE2: growth from CORE to CORE2 per type, and caches that grew",
	 pca_cmd_diff_args},
	{"graph", PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH, 0, pca_cmd_graph, NULL,
	 "graph ADDR: a DOT graph of the referrers and referents around the object (dot -Tsvg)",
	 pca_cmd_object_args},
	{"capture", 0, PCA_CMD_NO_SESSION, NULL, pca_cmd_capture,
	 "capture -p PID -o FILE: write a core of a running process (FILE.zst: compressed)",
	 NULL, &pca_capture_options},
	{"watch", 0, PCA_CMD_NO_SESSION, NULL, pca_cmd_watch,
	 "watch -p PID -o FILE --rss SIZE | --limit-pct P: capture before the process runs out of memory",
	 NULL, &pca_capture_options},
	{"gdb", 0, PCA_CMD_NO_SESSION | PCA_CMD_OWN_ARGV, NULL, run_gdb,
	 "gdb [COMMAND] [ARGS]: the helper of gdb's `pycore` command (gdb/pycore.gdb), state on stdin"},
	{"stacks", PCA_NEED_INTERP, 0, pca_cmd_stacks, NULL,
	 "the Python stack of every thread, innermost frame first; the crashed thread marked"},
};
enum { NCOMMANDS = sizeof(commands) / sizeof(commands[0]) };

/* Each command family's options once (capture and watch share theirs). */
static bool first_with_options(size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (commands[k].options == commands[i].options)
			return false;
	return commands[i].options != NULL;
}

void pca_cli_usage(FILE *out)
{
	fprintf(out,
		"usage: pycore-analyze [OPTIONS] CORE [EXECUTABLE]          (same as: report CORE)\n"
		"       pycore-analyze [OPTIONS] COMMAND CORE [EXECUTABLE]\n"
		"       pycore-analyze capture -p PID -o FILE | watch -p PID -o FILE --rss SIZE\n"
		"       pycore-analyze --help | --version\n\n"
		"commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\noptions:\n"
		"  --json            one JSON object on stdout (schema 1, see docs/contract)\n"
		"  --exe PATH        the executable the core was made with (default: found from the core)\n"
		"  --debug-dir DIR   also look for debug info in DIR (repeatable)\n"
		"  --layout-from F   without debug info: take layouts from the DWARF of F,\n"
		"                    an unstripped copy of the same build of libpython/python\n"
		"  -n, --limit N     rows per table (default 20)\n"
		"  --no-progress     no progress on stderr\n"
		"  -p, --pid PID     read the running process PID instead of a core (read-only;\n"
		"                    stopped while its memory is copied); capture, watch: the process\n"
		"  --no-stop         -p: do not stop the process (the result may be torn)\n"
		"  --max-memory SIZE memory the analysis may use (2G, 500M; default: what is free\n"
		"                    and this cgroup allows); the graph is not built beyond it\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (first_with_options(i))
			fputs(commands[i].options->help, out);
	fprintf(out,
		"\nenvironment:\n"
		"  DEBUGINFOD_URLS      fetch missing debug info from these debuginfod servers\n"
		"  PCA_DEBUGINFO_PATH   replaces the default debug-info root /usr/lib/debug\n"
		"\nexit status: 0 complete, 1 partial (see warnings), 2 no result, 64 bad usage\n");
}

int pca_cli_take_core(int argc, char **argv, int *pos, struct pca_options *opts)
{
	if (opts->live) /* -p PID instead of CORE: the session reads the process */
		return 0;
	if (*pos >= argc) {
		pca_cli_usage(stderr);
		return PCA_EXIT_USAGE;
	}
	opts->core = argv[(*pos)++];
	return 0;
}

int pca_cli_take_rest(int argc, char **argv, int pos, struct pca_options *opts)
{
	if (pos < argc && !opts->exe)
		opts->exe = argv[pos++];
	if (pos < argc) {
		fprintf(stderr, "pycore-analyze: unexpected argument '%s'\n", argv[pos]);
		return PCA_EXIT_USAGE;
	}
	return 0;
}

/* CORE [EXECUTABLE] */
static int core_args(const struct pca_command *cmd, int argc, char **argv, int pos,
		     struct pca_options *opts)
{
	(void)cmd;
	int status = pca_cli_take_core(argc, argv, &pos, opts);
	return status ? status : pca_cli_take_rest(argc, argv, pos, opts);
}

static const struct pca_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* The family whose options include getopt value c. */
static const struct pca_command_options *options_with(int c)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct pca_command_options *o = commands[i].options;
		if (!o)
			continue;
		for (const struct option *l = o->long_options; l->name; l++)
			if (l->val == c)
				return o;
		for (const char *p = o->short_options; *p; p++)
			if (*p == c && c != ':')
				return o;
	}
	return NULL;
}

enum { OPT_JSON = 256, OPT_EXE, OPT_DEBUG_DIR, OPT_NO_PROGRESS, OPT_VERSION, OPT_NO_STOP,
       OPT_LAYOUT_FROM, OPT_MAX_MEMORY };
enum { MAX_LONG_OPTIONS = 64 };

static const struct option common_long_options[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"exe", required_argument, NULL, OPT_EXE},
	{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
	{"layout-from", required_argument, NULL, OPT_LAYOUT_FROM},
	{"limit", required_argument, NULL, 'n'},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"pid", required_argument, NULL, 'p'},
	{"no-stop", no_argument, NULL, OPT_NO_STOP},
	{"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
	{NULL, 0, NULL, 0},
};

/* Options may come before or after the command's name, so getopt is given
 * every family's options at once. -1: go on; else the exit status. */
static int parse_options(int argc, char **argv, struct pca_options *opts)
{
	static struct option long_options[MAX_LONG_OPTIONS];
	static char short_options[64] = "hn:p:";
	size_t n = 0;
	for (const struct option *l = common_long_options; l->name; l++)
		long_options[n++] = *l;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!first_with_options(i))
			continue;
		for (const struct option *l = commands[i].options->long_options; l->name; l++)
			if (n + 1 < MAX_LONG_OPTIONS)
				long_options[n++] = *l;
		strncat(short_options, commands[i].options->short_options,
			sizeof(short_options) - strlen(short_options) - 1);
	}
	long_options[n] = (struct option){NULL, 0, NULL, 0};
	int c;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!pca_cli_integer(optarg, 1, INT32_MAX, &opts->pid)) {
				fprintf(stderr, "pycore-analyze: -p needs a process id\n");
				return PCA_EXIT_USAGE;
			}
			break;
		case OPT_NO_STOP:
			opts->no_stop = true;
			break;
		case OPT_MAX_MEMORY:
			if (!pca_cli_size(optarg, &opts->max_memory)) {
				fprintf(stderr, "pycore-analyze: --max-memory needs a size such as 2G or 500M\n");
				return PCA_EXIT_USAGE;
			}
			break;
		case OPT_JSON:
			opts->json = true;
			break;
		case OPT_EXE:
			opts->exe = optarg;
			break;
		case OPT_LAYOUT_FROM:
			opts->layout_from = optarg;
			break;
		case OPT_DEBUG_DIR:
			if (opts->ndebug_dirs == PCA_MAX_DEBUG_DIRS) {
				fprintf(stderr, "pycore-analyze: at most %d --debug-dir\n", PCA_MAX_DEBUG_DIRS);
				return PCA_EXIT_USAGE;
			}
			opts->debug_dirs[opts->ndebug_dirs++] = optarg;
			break;
		case 'n':
			if (!pca_cli_integer(optarg, 0, LONG_MAX, &opts->limit)) {
				fprintf(stderr, "pycore-analyze: -n needs a non-negative number\n");
				return PCA_EXIT_USAGE;
			}
			break;
		case OPT_NO_PROGRESS:
			opts->no_progress = true;
			break;
		case 'h':
			pca_cli_usage(stdout);
			return PCA_EXIT_COMPLETE;
		case OPT_VERSION:
			printf("pycore-analyze %s\n", PCA_VERSION);
			return PCA_EXIT_COMPLETE;
		default: {
			const struct pca_command_options *o = options_with(c);
			int status = o ? o->parse(c, optarg) : PCA_EXIT_USAGE;
			if (status) {
				if (!o)
					pca_cli_usage(stderr);
				return status;
			}
		}
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	pca_log_from_env(); /* the debugging knobs, once, before any work */
	struct pca_options opts = {.limit = 20, .pid = -1};
	const struct pca_command *own = argc > 1 ? find_command(argv[1]) : NULL;
	if (own && (own->flags & PCA_CMD_OWN_ARGV))
		return own->run_alone(&opts, argc, argv, 2);
	int status = parse_options(argc, argv, &opts);
	if (status >= 0)
		return status;
	int pos = optind;
	const struct pca_command *cmd = NULL;
	if (pos < argc)
		cmd = find_command(argv[pos]);
	if (cmd)
		pos++;
	else
		cmd = find_command("report");
	if (cmd->flags & PCA_CMD_NO_SESSION)
		return cmd->run_alone(&opts, argc, argv, pos);
	/* -p PID reads the running process where a core would be named;
	 * diff CORE -p PID compares a core with the process now (cmd_diff.c). */
	if (opts.pid > 0) {
		snprintf(opts.process_name, sizeof(opts.process_name), "process %ld", opts.pid);
		if (!(cmd->flags & PCA_CMD_TWO_CORES)) {
			opts.live = true;
			opts.core = opts.process_name;
		}
	}
	status = (cmd->args ? cmd->args : core_args)(cmd, argc, argv, pos, &opts);
	if (status)
		return status;
	struct pca_session s;
	pca_session_init(&s, &opts);
	struct pca_error *err = pca_session_open(&s, cmd->needs);
	struct pca_session *failed = &s;
	if (!err && (cmd->flags & PCA_CMD_TWO_CORES)) {
		err = pca_session_open_second(&s, cmd->needs);
		failed = s.second ? s.second : &s;
	}
	/* the graph would not fit (session.h): only report goes on without it */
	for (struct pca_session *c = &s; !err && c; c = c->second)
		if (c->graph_refused && !(cmd->flags & PCA_CMD_WITHOUT_GRAPH)) {
			err = pca_error_create(PCA_ERROR_NOMEM, "%s", c->graph_refused);
			failed = c;
		}
	status = err ? pca_cli_fail(failed, err) : cmd->run(&s);
	pca_session_close(&s);
	return status;
}

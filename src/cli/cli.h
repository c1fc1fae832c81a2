/* cli.h: what main.c (options, the command table, dispatch) shares with the
 * command files (cmd_*.c) and the session (session.c).
 *
 * A command is one row of the table in main.c: its name, what its session
 * must build (NEED_*), the function that runs it, its positional arguments
 * and its own options. A command computes nothing and prints nothing itself:
 * analyses/ compute, report/ renders; the cli only prints usage errors to
 * stderr. Options common to every command live in struct pca_options; a
 * command's private options and arguments live in its own file.
 */
#ifndef PCA_CLI_CLI_H
#define PCA_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum pca_exit_status {
	PCA_EXIT_COMPLETE = 0,
	PCA_EXIT_PARTIAL = 1,
	PCA_EXIT_NO_RESULT = 2,
	PCA_EXIT_USAGE = 64,
};

enum { PCA_MAX_DEBUG_DIRS = 32 };

/* The options every command accepts, before or after its name. */
struct pca_options {
	bool json;
	bool no_progress;
	const char *exe;
	const char *layout_from; /* --layout-from: DWARF of an identical build */
	const char *debug_dirs[PCA_MAX_DEBUG_DIRS];
	size_t ndebug_dirs;
	long limit;
	const char *core;
	long pid;             /* -p: a live process instead of CORE; capture, watch: the process */
	bool no_stop;         /* --no-stop: read the process while it runs */
	bool live;            /* the session reads process `pid` instead of `core` */
	const char *core2;    /* PCA_CMD_TWO_CORES: the second core */
	bool core2_live;      /* diff CORE -p PID: the second is the process */
	char process_name[32]; /* "process PID": core (or core2) names it with -p */
	uint64_t max_memory;  /* --max-memory: bytes the analysis may use, 0: what is free */
};

/* What a command's session must build, each implying the ones before. */
enum pca_need {
	PCA_NEED_TARGET = 1,
	PCA_NEED_INTERP = 2,
	PCA_NEED_HEAP = 4,
	PCA_NEED_GRAPH = 8,
};

enum pca_command_flags {
	/* No session: main.c hands the rest of the command line to run_alone
	 * (capture, watch; a front-end such as a gdb command file). */
	PCA_CMD_NO_SESSION = 1,
	/* The session opens opts->core2 too, as session->second (diff). */
	PCA_CMD_TWO_CORES = 2,
	/* With PCA_CMD_NO_SESSION: the arguments after the command's name are
	 * another command line (gdb's `pycore` helper): main.c parses no options
	 * and hands argv from the name on to run_alone. */
	PCA_CMD_OWN_ARGV = 4,
	/* Needs the graph, but prints what does not need it when the graph
	 * would not fit in memory (report); the other graph commands fail. */
	PCA_CMD_WITHOUT_GRAPH = 8,
};

struct pca_session;

/* A command family's own options. getopt values must be unique over the
 * table: a family takes a range (PCA_OPT_*), or a short letter. */
struct pca_command_options {
	const struct option *long_options; /* {NULL} terminated */
	const char *short_options;         /* getopt letters, e.g. "o:" */
	/* 0, or an exit status after a message on stderr */
	int (*parse)(int c, const char *arg);
	const char *help;                  /* lines for --help, each ending in \n */
};

enum { PCA_OPT_CAPTURE = 0x200 };

/* Option values. Each is false when TEXT is not wholly a number in range;
 * the caller then says which option wanted what. */
bool pca_cli_integer(const char *text, long min, long max, long *ret); /* min <= v <= max */
bool pca_cli_number(const char *text, double above, double max, double *ret); /* above < v <= max */
/* "2G", "500M", "800000K", "1.5GiB", "1048576": bytes (binary multiples). */
bool pca_cli_size(const char *text, uint64_t *ret);

struct pca_command {
	const char *name;
	enum pca_need needs;
	unsigned flags; /* enum pca_command_flags */
	int (*run)(struct pca_session *s);
	/* PCA_CMD_NO_SESSION: argv[pos..argc) are the arguments left. */
	int (*run_alone)(const struct pca_options *opts, int argc, char **argv, int pos);
	const char *help;
	/* The positional arguments (CORE and the command's own) from argv[pos];
	 * NULL: CORE [EXECUTABLE]. 0, or an exit status after a message. */
	int (*args)(const struct pca_command *cmd, int argc, char **argv, int pos,
		    struct pca_options *opts);
	const struct pca_command_options *options;
};

/* Positional-argument helpers for the args hooks (main.c). */
void pca_cli_usage(FILE *out);
/* CORE at argv[*pos] (none with -p PID, opts->live): 0, or EXIT_USAGE after the usage. */
int pca_cli_take_core(int argc, char **argv, int *pos, struct pca_options *opts);
/* [EXECUTABLE], then nothing more: 0, or EXIT_USAGE after a message. */
int pca_cli_take_rest(int argc, char **argv, int pos, struct pca_options *opts);

/* The commands, by file. */
int pca_cmd_report(struct pca_session *s);
int pca_cmd_summary(struct pca_session *s);
int pca_cmd_top(struct pca_session *s);
int pca_cmd_cycles(struct pca_session *s);
int pca_cmd_caches(struct pca_session *s);
int pca_cmd_stacks(struct pca_session *s);
int pca_cmd_show(struct pca_session *s);
int pca_cmd_path(struct pca_session *s);
int pca_cmd_graph(struct pca_session *s);
int pca_cmd_object_args(const struct pca_command *cmd, int argc, char **argv, int pos,
			struct pca_options *opts);
int pca_cmd_diff(struct pca_session *s);
int pca_cmd_diff_args(const struct pca_command *cmd, int argc, char **argv, int pos,
		      struct pca_options *opts);
int pca_cmd_capture(const struct pca_options *opts, int argc, char **argv, int pos);
int pca_cmd_watch(const struct pca_options *opts, int argc, char **argv, int pos);
extern const struct pca_command_options pca_capture_options;

#endif

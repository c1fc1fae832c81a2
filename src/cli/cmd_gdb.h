/* cmd_gdb.h: `pycore-analyze gdb ...`, the helper behind the gdb command
 * `pycore` (gdb/pycore.gdb.in, plain gdb CLI: no Python in gdb needed).
 *
 * gdb pipes its own state (`info inferiors`, `info target`, a few settings)
 * into the helper; the helper decides core file / native process / remote
 * target, runs the real analysis by re-executing this binary as a child, and
 * hands the report back through a private step file that gdb sources (the
 * helper's exit status 32..125 names the step file), or writes it directly
 * when it is large or the user redirected it. Protocol and pitfalls:
 * docs/usage.md, "Inside gdb". This module does not analyse anything itself
 * and knows nothing of the other commands: it only builds a command line. */
#ifndef PCA_CLI_CMD_GDB_H
#define PCA_CLI_CMD_GDB_H

#include <stdbool.h>
#include <stddef.h>

enum pca_gdb_target {
	PCA_GDB_NONE = 0,
	PCA_GDB_CORE,   /* "Local core dump file:" */
	PCA_GDB_NATIVE, /* "Native process:" */
	PCA_GDB_REMOTE, /* "Remote target ...", "Extended remote target ..." */
};

/* What the helper learnt from gdb's `pycore-state` output. */
struct pca_gdb_state {
	bool seen_header;  /* the "@pycore-state=1" line: input is from pycore.gdb */
	bool complete;     /* the "@end" line */
	enum pca_gdb_target kind;
	long pid;          /* the selected inferior's process, from `info inferiors` */
	char *core_path;   /* PCA_GDB_CORE: the file gdb opened, as gdb names it */
	char *executable;  /* `Symbols from "..."`, without a remote "target:" prefix */
	bool pagination;
	long height;       /* 0: unlimited (also in -batch) */
	bool non_stop;
	/* parser position: which block of the input the next line belongs to */
	int section;
	bool want_core_line;
};

void pca_gdb_state_init(struct pca_gdb_state *s);
void pca_gdb_state_deinit(struct pca_gdb_state *s);
/* Feed one line (without its newline). */
void pca_gdb_state_line(struct pca_gdb_state *s, const char *line);
/* Feed a whole text, line by line. */
void pca_gdb_state_parse(struct pca_gdb_state *s, const char *text);

/* The report text as a gdb script of `echo` commands, one per line: `\`,
 * control bytes and leading blanks escaped, each line ending in `\n`.
 * Returns a heap string (NULL on ENOMEM), its length in *ret_len. */
char *pca_gdb_echo_script(const char *text, size_t len, size_t *ret_len);

/* `pycore-analyze gdb [--resume=N] [ARGS...]`; argv[0] is "gdb". */
int pca_cmd_gdb(int argc, char **argv);

#endif

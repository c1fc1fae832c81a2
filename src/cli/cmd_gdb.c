/* cmd_gdb.c: `pycore-analyze gdb ...`, the helper behind gdb's `pycore`.
 *
 * gdb/pycore.gdb.in runs `pipe pycore-state | pycore-analyze gdb ARGS`. We
 * read gdb's state from stdin, pick what to analyse (the core file gdb has
 * open; the process gdb holds stopped, read directly with `-p PID
 * --no-stop`; or, where that is refused or the target is remote, a gcore
 * snapshot that gdb takes for us), run the analysis as a child (this same
 * binary, /proc/self/exe) and return its report to gdb:
 *   - echo mode: the report as a script of gdb `echo` commands in a private
 *     step file, ~/.cache/pycore-analyze/gdb/step-N.gdb, and exit status N
 *     (32..125), which pycore.gdb turns into `source step-N.gdb`. The report
 *     then goes through gdb: its pager, `set logging`, MI consoles.
 *   - direct mode: written to our stdout (through $PAGER where gdb would
 *     page), when it is bigger than ECHO_LIMIT (gdb reads a sourced file a
 *     byte per system call: 5-6 us a byte) or the user redirected it.
 * A fallback plan is a step file too: `gcore SNAPSHOT`, then this helper
 * again with --resume=N, which opens the snapshot, unlinks it at once and
 * analyses it. Exit statuses 0..31 end the command: the child's 0, 1 and 2,
 * and 3 for its bad usage (the CLI's 64 would name a step file).
 * The design, measured: docs/usage.md "Inside gdb". */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/cmd_gdb.h"

enum gdb_exit {
	GDB_EXIT_COMPLETE = 0,
	GDB_EXIT_PARTIAL = 1,
	GDB_EXIT_NO_RESULT = 2,
	GDB_EXIT_USAGE = 3,
	/* pycore.gdb sources step-N.gdb for N in this range; sh's 126/127 (not
	 * executable / not found) and 128+n (killed) stay outside it. */
	GDB_SLOT_FIRST = 32,
	GDB_SLOT_LAST = 125,
};

enum { CLI_EXIT_USAGE = 64 }; /* the analysis child's "bad usage" */

/* Reports up to this size go through gdb (echo mode); bigger ones would take
 * seconds to source (measured: ~5.5 us per script byte), so they are
 * written directly. */
static const size_t ECHO_LIMIT = 64 * 1024;
/* Captured stderr of the direct-read attempt, replayed unless we fall back. */
static const size_t STDERR_LIMIT = 64 * 1024;
/* Step files are garbage after a quit pager or an interrupted gcore. */
static const time_t STEP_MAX_AGE = 10 * 60;
/* Snapshots are unlinked as soon as they are opened; one left over is from
 * a gcore that never finished. A gcore over a slow remote link runs at
 * ~28 MiB/s, so give one an hour before calling it garbage. */
static const time_t SNAPSHOT_MAX_AGE = 60 * 60;

enum section { SEC_NONE, SEC_INFERIORS, SEC_TARGET };

/* ---- gdb state ------------------------------------------------------- */

void pca_gdb_state_init(struct pca_gdb_state *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->pagination = true;
}

void pca_gdb_state_deinit(struct pca_gdb_state *s)
{
	free(s->core_path);
	free(s->executable);
	memset(s, 0, sizeof(*s));
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* `output $_gdb_setting_str("pagination")` prints "on" with the quotes. */
static bool setting_on(const char *value)
{
	return strcmp(value, "\"on\"") == 0 || strcmp(value, "on") == 0;
}

/* The core file's line in `info target`:
 *	`/path/it's core', file type elf64-x86-64.
 * The path may itself hold a quote and ", file type": split on the last. */
static char *core_path_from_line(const char *line)
{
	const char *open = strchr(line, '`');
	if (!open)
		return NULL;
	open++;
	const char *close = NULL;
	for (const char *p = strstr(open, "', file type"); p; p = strstr(p + 1, "', file type"))
		close = p;
	if (!close)
		return NULL;
	return strndup(open, (size_t)(close - open));
}

static void parse_inferior_line(struct pca_gdb_state *s, const char *line)
{
	/* "* 1    process 11745     1 (native)   /usr/bin/python3.11": the
	 * selected inferior. `info target` names the selected thread's LWP,
	 * not the process, so the pid comes from here. */
	if (line[0] != '*')
		return;
	const char *p = strstr(line, " process ");
	if (!p)
		return;
	char *end;
	long pid = strtol(p + strlen(" process "), &end, 10);
	if (end != p + strlen(" process ") && pid > 0)
		s->pid = pid;
}

static void parse_target_line(struct pca_gdb_state *s, const char *line)
{
	if (s->want_core_line) {
		s->want_core_line = false;
		free(s->core_path);
		s->core_path = core_path_from_line(line);
		if (!s->core_path)
			s->kind = PCA_GDB_NONE;
		return;
	}
	if (line[0] == '\t' || line[0] == ' ')
		return;
	if (starts_with(line, "Symbols from \"")) {
		const char *start = line + strlen("Symbols from \"");
		const char *end = strrchr(start, '"');
		if (!end)
			return;
		if (starts_with(start, "target:"))
			start += strlen("target:");
		free(s->executable);
		s->executable = strndup(start, (size_t)(end - start));
	} else if (strcmp(line, "Local core dump file:") == 0) {
		s->kind = PCA_GDB_CORE;
		s->want_core_line = true;
	} else if (strcmp(line, "Native process:") == 0) {
		s->kind = PCA_GDB_NATIVE;
	} else if ((starts_with(line, "Remote ") || starts_with(line, "Extended remote ")) &&
		   strstr(line, "target")) {
		/* "Remote target using gdb-specific protocol:", "Extended remote
		 * target ...": gdbserver, QEMU, rr. Our /proc is not theirs. */
		s->kind = PCA_GDB_REMOTE;
	}
}

void pca_gdb_state_line(struct pca_gdb_state *s, const char *line)
{
	if (strcmp(line, "@pycore-state=1") == 0) {
		s->seen_header = true;
		return;
	}
	if (!s->seen_header || s->complete)
		return;
	if (line[0] == '@') {
		s->section = SEC_NONE;
		if (starts_with(line, "@pagination="))
			s->pagination = setting_on(line + strlen("@pagination="));
		else if (starts_with(line, "@height="))
			s->height = strtol(line + strlen("@height="), NULL, 10);
		else if (starts_with(line, "@non-stop="))
			s->non_stop = setting_on(line + strlen("@non-stop="));
		else if (strcmp(line, "@inferiors") == 0)
			s->section = SEC_INFERIORS;
		else if (strcmp(line, "@target") == 0)
			s->section = SEC_TARGET;
		else if (strcmp(line, "@end") == 0)
			s->complete = true;
		return;
	}
	if (s->section == SEC_INFERIORS)
		parse_inferior_line(s, line);
	else if (s->section == SEC_TARGET)
		parse_target_line(s, line);
}

void pca_gdb_state_parse(struct pca_gdb_state *s, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		char *line = strndup(text, len);
		if (!line)
			return;
		pca_gdb_state_line(s, line);
		free(line);
		text += len + (nl ? 1 : 0);
	}
}

/* ---- echo script ----------------------------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
	bool failed; /* ENOMEM: the contents are incomplete */
};

static void buf_add(struct buf *b, const char *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* gdb's `echo` drops leading blanks and interprets C escapes; `#` is not a
 * comment inside it. So: `\` -> `\\`, TAB/CR/other control bytes escaped,
 * each leading space -> `\ `, and every line ends with a literal `\n`. */
char *pca_gdb_echo_script(const char *text, size_t len, size_t *ret_len)
{
	struct buf b = {0};
	size_t i = 0;
	while (i < len) {
		buf_str(&b, "echo ");
		bool leading = true;
		for (; i < len && text[i] != '\n'; i++) {
			unsigned char c = (unsigned char)text[i];
			char esc[8];
			if (c == ' ' && leading) {
				buf_str(&b, "\\ ");
				continue;
			}
			leading = false;
			if (c == '\\')
				buf_str(&b, "\\\\");
			else if (c == '\t')
				buf_str(&b, "\\t");
			else if (c == '\r')
				buf_str(&b, "\\r");
			else if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\%03o", c);
				buf_str(&b, esc);
			} else {
				buf_add(&b, (const char *)&c, 1);
			}
		}
		if (i < len) { /* the newline */
			buf_str(&b, "\\n");
			i++;
		}
		buf_str(&b, "\n");
	}
	if (b.failed) {
		buf_free(&b);
		return NULL;
	}
	if (!b.data)
		buf_add(&b, "", 0);
	*ret_len = b.len;
	return b.data;
}

/* ---- processes ------------------------------------------------------- */

/* /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and
 * parentheses, so parse from the last ')'. */
static bool proc_stat(long pid, char *comm, size_t comm_size, char *state, long *ppid)
{
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	char *open_paren = strchr(text, '(');
	char *close_paren = strrchr(text, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return false;
	if (comm) {
		size_t len = (size_t)(close_paren - open_paren - 1);
		if (len >= comm_size)
			len = comm_size - 1;
		memcpy(comm, open_paren + 1, len);
		comm[len] = '\0';
	}
	char st;
	long pp;
	if (sscanf(close_paren + 1, " %c %ld", &st, &pp) != 2)
		return false;
	if (state)
		*state = st;
	if (ppid)
		*ppid = pp;
	return true;
}

/* gdb runs us through `pipe` and /bin/sh: walk up to the first process
 * whose name starts with "gdb" (gdb, gdb-multiarch). */
static long find_gdb(void)
{
	long pid = getppid();
	for (int depth = 0; depth < 16 && pid > 1; depth++) {
		char comm[64];
		long ppid;
		if (!proc_stat(pid, comm, sizeof(comm), NULL, &ppid))
			return -1;
		if (starts_with(comm, "gdb"))
			return pid;
		pid = ppid;
	}
	return -1;
}

/* Is our stdout gdb's own stdout? Then nothing redirects the report and it
 * can go back through gdb. */
static bool stdout_is_gdbs(long gdb_pid)
{
	char path[64];
	struct stat ours, theirs;
	snprintf(path, sizeof(path), "/proc/%ld/fd/1", gdb_pid);
	if (gdb_pid <= 0 || fstat(STDOUT_FILENO, &ours) != 0 || stat(path, &theirs) != 0)
		return false;
	return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

/* A reader outside gdb sees a consistent process only if every thread is
 * stopped (all-stop mode). `set non-stop on` or `continue &` can leave some
 * running. Returns the first running thread's id, 0 if all are stopped. */
static long running_thread(long pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	DIR *dir = opendir(path);
	if (!dir)
		return 0;
	long running = 0;
	struct dirent *e;
	while (!running && (e = readdir(dir))) {
		long tid = strtol(e->d_name, NULL, 10);
		char state;
		/* a task's stat reads like its process's */
		if (tid > 0 && proc_stat(tid, NULL, 0, &state, NULL) && state != 't' && state != 'T')
			running = tid;
	}
	closedir(dir);
	return running;
}

/* Can we read the process's memory? Under Yama ptrace_scope=1 a sibling of
 * the inferior (`run` in gdb) gets EPERM, and a non-dumpable process EACCES.
 * NULL if a byte of its first mapping reads; else why not. */
static struct pca_error *direct_read_check(long pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	FILE *maps = fopen(path, "re");
	if (!maps)
		return pca_error_create(PCA_ERROR_OS, "%s: %s", path, strerror(errno));
	unsigned long long start = 0;
	bool have = fgets(line, sizeof(line), maps) && sscanf(line, "%llx-", &start) == 1;
	fclose(maps);
	if (!have)
		return pca_error_create(PCA_ERROR_OS, "%s is empty", path);
	snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pca_error_create(PCA_ERROR_OS, "%s: %s", path, strerror(errno));
	char byte;
	ssize_t n = pread(fd, &byte, 1, (off_t)start);
	int saved = errno;
	close(fd);
	if (n != 1)
		return pca_error_create(PCA_ERROR_OS, "%s: %s", path, n < 0 ? strerror(saved) : "nothing read");
	return NULL;
}

static unsigned long long process_rss(long pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "re");
	unsigned long long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/* ---- private directories --------------------------------------------- */

/* A directory of ours only: not a symlink, owned by us, no access for
 * others. Step files are `source`d by gdb and `shell` runs anything, so a
 * directory someone else can write to must never hold them. */
static struct pca_error *private_dir_open(const char *path, int *ret_fd)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return pca_error_create(PCA_ERROR_OS, "cannot create %s: %s", path, strerror(errno));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return pca_error_create(PCA_ERROR_OS, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return pca_error_create(PCA_ERROR_OS, "%s is not a private directory of this user (mode 0700 expected): remove it", path);
	}
	*ret_fd = fd;
	return NULL;
}

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		return home;
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}

/* ~/.cache/pycore-analyze/gdb, where pycore.gdb looks for step files. It
 * must be `~` (gdb's `source` expands it from $HOME), not XDG_CACHE_HOME. */
static struct pca_error *step_dir_open(int *ret_fd)
{
	const char *home = home_dir();
	if (!home)
		return pca_error_create(PCA_ERROR_OS, "no home directory for the step files (set HOME)");
	char *cache = pca_asprintf("%s/.cache", home);
	char *top = pca_asprintf("%s/.cache/pycore-analyze", home);
	char *dir = pca_asprintf("%s/.cache/pycore-analyze/gdb", home);
	struct pca_error *err = NULL;
	if (!cache || !top || !dir)
		err = &pca_error_nomem;
	else {
		mode_t old = umask(077);
		(void)mkdir(cache, 0700);
		(void)mkdir(top, 0700);
		umask(old);
		err = private_dir_open(dir, ret_fd);
	}
	free(cache);
	free(top);
	free(dir);
	return err;
}

/* Remove our files older than max_age (names starting with prefix); a
 * plan's context (.ctx) waits for a gcore, so it gets SNAPSHOT_MAX_AGE. */
static void collect_garbage(int dirfd, const char *prefix, time_t max_age)
{
	int fd = dup(dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(dir))) {
		struct stat st;
		if (!starts_with(e->d_name, prefix) ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		size_t len = strlen(e->d_name);
		bool ctx = len > 4 && strcmp(e->d_name + len - 4, ".ctx") == 0;
		if (now - st.st_mtime > (ctx && max_age < SNAPSHOT_MAX_AGE ? SNAPSHOT_MAX_AGE : max_age))
			(void)unlinkat(dirfd, e->d_name, 0);
	}
	closedir(dir);
}

/* Claim step-N.gdb (and step-N.ctx for a snapshot plan) by exclusive
 * create: parallel gdb sessions of one user (CI running many `gdb -batch`)
 * each get their own N. A slot whose .ctx exists is taken even after its
 * .gdb is gone: a plan deletes its step file first, then waits for gcore,
 * and its --resume=N must find its own context. */
static int slot_claim(int dirfd, int *ret_fd, int *ret_ctx_fd)
{
	for (int n = GDB_SLOT_FIRST; n <= GDB_SLOT_LAST; n++) {
		char name[32], ctx[32];
		snprintf(name, sizeof(name), "step-%d.gdb", n);
		snprintf(ctx, sizeof(ctx), "step-%d.ctx", n);
		if (faccessat(dirfd, ctx, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -1;
		if (ret_ctx_fd) {
			*ret_ctx_fd = openat(dirfd, ctx, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (*ret_ctx_fd < 0) {
				close(fd);
				unlinkat(dirfd, name, 0);
				continue;
			}
		}
		*ret_fd = fd;
		return n;
	}
	return -1;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* The step file deletes itself first: gdb keeps it open while reading, and
 * a Quit in the pager or an error in a later line cannot leave it behind. */
static void step_header(struct buf *b, int slot)
{
	char line[128];
	snprintf(line, sizeof(line), "pipe echo | rm -f ~/.cache/pycore-analyze/gdb/step-%d.gdb\n", slot);
	buf_str(b, line);
}

/* Single-quote for /bin/sh. */
static void buf_shell_quote(struct buf *b, const char *s)
{
	buf_str(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			buf_str(b, "'\\''");
		else
			buf_add(b, s, 1);
	}
	buf_str(b, "'");
}

/* ---- the analysis child ---------------------------------------------- */

struct run {
	struct buf out, err;
	bool capture_err;
	bool direct;   /* stdout went (or goes) straight to our stdout / pager */
	FILE *pager;
	bool sink_broken;
	const struct pca_gdb_state *st;
	int status;    /* the child's exit status, or -1 if it was killed */
	int signal;
};

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static void sink_write(struct run *r, const char *data, size_t len)
{
	if (r->sink_broken || !len)
		return;
	if (r->pager) {
		if (fwrite(data, 1, len, r->pager) != len)
			r->sink_broken = true; /* the user quit the pager */
	} else if (!write_all(STDOUT_FILENO, data, len)) {
		r->sink_broken = true;
	}
}

/* Switch to direct mode: page like gdb would (a terminal, pagination on,
 * taller than the screen), else write to stdout. */
static void go_direct(struct run *r, bool more_to_come)
{
	r->direct = true;
	if (isatty(STDOUT_FILENO) && r->st->pagination && r->st->height > 0 &&
	    (more_to_come || count_lines(r->out.data, r->out.len) > (size_t)r->st->height)) {
		const char *pager = getenv("PAGER");
		fflush(stdout);
		r->pager = popen(pager && pager[0] ? pager : "less -FRX", "w");
	}
	sink_write(r, r->out.data, r->out.len);
	buf_free(&r->out);
}

/* Run /proc/self/exe with argv; stdout captured up to ECHO_LIMIT (then
 * direct), stderr captured if r->capture_err, else inherited. */
static struct pca_error *run_child(char *const argv[], struct run *r)
{
	int out[2], err[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) != 0 || (r->capture_err && pipe2(err, O_CLOEXEC) != 0))
		return pca_error_create(PCA_ERROR_OS, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		return pca_error_create(PCA_ERROR_OS, "fork: %s", strerror(errno));
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		if (r->capture_err)
			dup2(err[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "pycore-analyze: cannot run /proc/self/exe: %s\n", strerror(errno));
		_exit(127);
	}
	close(out[1]);
	if (r->capture_err)
		close(err[1]);
	struct pollfd fds[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
	int open_fds = r->capture_err ? 2 : 1;
	char chunk[65536];
	while (open_fds) {
		if (poll(fds, r->capture_err ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1) {
				if (r->err.len < STDERR_LIMIT)
					buf_add(&r->err, chunk, (size_t)n);
			} else if (r->direct) {
				sink_write(r, chunk, (size_t)n);
			} else {
				buf_add(&r->out, chunk, (size_t)n);
				if (r->out.len > ECHO_LIMIT || r->out.failed)
					go_direct(r, true);
			}
		}
	}
	int wstatus;
	while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	r->signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	return NULL;
}

static void run_deinit(struct run *r)
{
	if (r->pager)
		pclose(r->pager);
	buf_free(&r->out);
	buf_free(&r->err);
}

/* The child's status as ours: 0..2 as they are; its bad usage (64) would
 * name a step file, so it becomes 3. */
static int gdb_status(const struct run *r)
{
	if (r->status < 0) {
		fprintf(stderr, "pycore-analyze: the analysis was killed by signal %d\n", r->signal);
		return GDB_EXIT_NO_RESULT;
	}
	if (r->status == CLI_EXIT_USAGE)
		return GDB_EXIT_USAGE;
	return r->status <= GDB_EXIT_NO_RESULT ? r->status : GDB_EXIT_NO_RESULT;
}

/* Hand the report to gdb: a step file of `echo`s if gdb prints our stdout
 * anyway, else directly. Returns our exit status. */
static int deliver(struct run *r, int step_dirfd, long gdb_pid)
{
	int status = gdb_status(r);
	if (r->direct || !r->out.len)
		return status;
	int fd = -1, slot = -1;
	if (step_dirfd >= 0 && stdout_is_gdbs(gdb_pid))
		slot = slot_claim(step_dirfd, &fd, NULL);
	if (slot >= 0) {
		size_t len;
		char *script = pca_gdb_echo_script(r->out.data, r->out.len, &len);
		struct buf b = {0};
		step_header(&b, slot);
		if (script)
			buf_add(&b, script, len);
		char line[64];
		snprintf(line, sizeof(line), "set $pycore_exitcode = %d\n", status);
		buf_str(&b, line);
		bool ok = script && !b.failed && write_all(fd, b.data, b.len);
		free(script);
		buf_free(&b);
		close(fd);
		if (ok)
			return slot;
		char name[32];
		snprintf(name, sizeof(name), "step-%d.gdb", slot);
		unlinkat(step_dirfd, name, 0);
	}
	go_direct(r, false);
	return status;
}

static int report_error(struct pca_error *err)
{
	fprintf(stderr, "pycore-analyze: %s\n", err->message);
	pca_error_destroy(err);
	return GDB_EXIT_NO_RESULT;
}

/* ---- what to analyse --------------------------------------------------- */

/* The core file gdb opened. If it was deleted or replaced since, read
 * gdb's own descriptor of it (/proc/GDB/fd/N; a PTRACE_MODE_READ check,
 * allowed for the same user). Otherwise the path itself, so the report
 * names the file the user named. */
static char *core_source(const struct pca_gdb_state *st, long gdb_pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/fd", gdb_pid);
	DIR *dir = gdb_pid > 0 ? opendir(path) : NULL;
	char *deleted = pca_asprintf("%s (deleted)", st->core_path);
	char *found = NULL;
	struct dirent *e;
	while (dir && deleted && !found && (e = readdir(dir))) {
		char link[4096], fd_path[384];
		snprintf(fd_path, sizeof(fd_path), "%s/%s", path, e->d_name);
		ssize_t n = readlink(fd_path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, deleted) == 0)
			found = strdup(fd_path);
	}
	if (dir)
		closedir(dir);
	free(deleted);
	return found ? found : strdup(st->core_path);
}

/* A snapshot from gcore must be an ELF core whose PT_LOADs are all in the
 * file: gdb writes a truncated core of a non-dumpable process and still
 * says "Saved corefile". */
static struct pca_error *snapshot_check(int fd)
{
	Elf64_Ehdr eh;
	struct stat st;
	if (fstat(fd, &st) != 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_CORE || eh.e_phentsize != sizeof(Elf64_Phdr))
		return pca_error_create(PCA_ERROR_FORMAT, "the gcore snapshot is not a 64-bit ELF core");
	size_t loads = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return pca_error_create(PCA_ERROR_FORMAT, "the gcore snapshot is cut short in its program headers");
		if (ph.p_type != PT_LOAD)
			continue;
		loads++;
		if (ph.p_offset + ph.p_filesz > (uint64_t)st.st_size)
			return pca_error_create(PCA_ERROR_FORMAT, "the gcore snapshot is truncated (gdb could not read the process's memory: is it non-dumpable?)");
	}
	if (!loads)
		return pca_error_create(PCA_ERROR_FORMAT, "the gcore snapshot holds no memory");
	return NULL;
}

/* ${PYCORE_SNAPSHOT_DIR:-/var/tmp}/pycore-analyze-UID: disk-backed by
 * default (a snapshot is as big as the process; tmpfs would double the
 * memory in use). gdb's `gcore` takes the rest of its line literally and
 * `pipe` splits at '|', so the path must be plain. */
static struct pca_error *snapshot_dir(char **ret_path, int *ret_fd)
{
	const char *base = getenv("PYCORE_SNAPSHOT_DIR");
	if (!base || !base[0])
		base = "/var/tmp";
	if (base[0] != '/')
		return pca_error_create(PCA_ERROR_OS, "PYCORE_SNAPSHOT_DIR must be an absolute path");
	for (const char *p = base; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '|' || *p == 0x7f)
			return pca_error_create(PCA_ERROR_OS, "PYCORE_SNAPSHOT_DIR must not contain '|' or control characters");
	char *path = pca_asprintf("%s/pycore-analyze-%u", base, (unsigned)geteuid());
	if (!path)
		return pca_error_create(PCA_ERROR_OS, "out of memory");
	mode_t old = umask(077);
	struct pca_error *err = private_dir_open(path, ret_fd);
	umask(old);
	if (err)
		free(path);
	else
		*ret_path = path;
	return err;
}

struct gdb_cmd {
	struct pca_gdb_state st;
	long gdb_pid;
	int step_dirfd;
	int resume;       /* --resume=N, else 0 */
	char **args;      /* the user's arguments */
	int nargs;
};

/* argv for the child: pycore-analyze --no-progress ARGS... TAIL... */
static char **child_argv(const struct gdb_cmd *c, const char *tail1, const char *tail2,
			 const char *tail3)
{
	char **argv = calloc((size_t)c->nargs + 6, sizeof(*argv));
	if (!argv)
		return NULL;
	int n = 0;
	argv[n++] = (char *)"pycore-analyze";
	argv[n++] = (char *)"--no-progress";
	for (int i = 0; i < c->nargs; i++)
		argv[n++] = c->args[i];
	argv[n++] = (char *)tail1;
	if (tail2)
		argv[n++] = (char *)tail2;
	if (tail3)
		argv[n++] = (char *)tail3;
	return argv;
}

static int analyse(struct gdb_cmd *c, const char *tail1, const char *tail2, const char *tail3)
{
	char **argv = child_argv(c, tail1, tail2, tail3);
	struct run r = {.st = &c->st};
	struct pca_error *err = argv ? run_child(argv, &r) : &pca_error_nomem;
	free(argv);
	int status = err ? report_error(err) : deliver(&r, c->step_dirfd, c->gdb_pid);
	run_deinit(&r);
	return status;
}

/* Our stdout's file by name, if it is a regular file (`pycore ... > FILE`). */
static char *redirect_target(void)
{
	struct stat ours, named;
	char link[4096];
	ssize_t n = readlink("/proc/self/fd/1", link, sizeof(link) - 1);
	if (n <= 0 || fstat(STDOUT_FILENO, &ours) != 0)
		return NULL;
	link[n] = '\0';
	if (!S_ISREG(ours.st_mode)) {
		fprintf(stderr, "pycore: the report of a snapshot is shown by gdb: a `| COMMAND` after pycore is not applied to it\n");
		return NULL;
	}
	if (stat(link, &named) != 0 || named.st_dev != ours.st_dev || named.st_ino != ours.st_ino)
		return NULL;
	return strdup(link);
}

/* Plan B for a live target: a step file that has gdb write a gcore snapshot
 * into a private directory, then run us again with --resume=N. The context
 * (snapshot path, the user's arguments) waits in step-N.ctx. */
static int plan_snapshot(struct gdb_cmd *c, const char *why)
{
	char *snap_dir = NULL;
	struct pca_error *err;
	int snap_fd = -1, ctx_fd = -1, step_fd = -1, slot = -1, tmp = -1;
	char *snap = NULL;
	char ctx_name[32] = "";
	if (c->step_dirfd < 0) {
		fprintf(stderr, "pycore-analyze: %s, and there is no private directory for a gcore snapshot plan\n", why);
		return GDB_EXIT_NO_RESULT;
	}
	err = snapshot_dir(&snap_dir, &snap_fd);
	if (err)
		goto fail;
	collect_garbage(snap_fd, "gdb-", SNAPSHOT_MAX_AGE);
	if (c->st.kind == PCA_GDB_NATIVE) {
		struct statvfs vfs;
		unsigned long long rss = process_rss(c->st.pid);
		if (fstatvfs(snap_fd, &vfs) == 0 &&
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize < rss) {
			err = pca_error_create(PCA_ERROR_OS, "%s has %llu MiB free, less than the process's %llu MiB resident memory a snapshot needs: set PYCORE_SNAPSHOT_DIR",
					   snap_dir, (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20, rss >> 20);
			goto fail;
		}
	}
	/* A unique, plain name (mkstemp), which gcore then overwrites. */
	snap = pca_asprintf("%s/gdb-%ld-XXXXXX", snap_dir, c->st.pid);
	tmp = snap ? mkstemp(snap) : -1;
	if (tmp < 0) {
		err = pca_error_create(PCA_ERROR_OS, "cannot create a snapshot file in %s: %s", snap_dir, strerror(errno));
		goto fail;
	}
	close(tmp);
	slot = slot_claim(c->step_dirfd, &step_fd, &ctx_fd);
	snprintf(ctx_name, sizeof(ctx_name), "step-%d.ctx", slot);
	if (slot < 0) {
		err = pca_error_create(PCA_ERROR_OS, "no free step file in ~/.cache/pycore-analyze/gdb");
		goto fail;
	}
	/* ctx: snapshot path, where the report goes, then each argument, all
	 * NUL-terminated. The report of --resume is written by a new process
	 * whose stdout is gdb's: a `> FILE` of the user's is carried over by
	 * name (a `| COMMAND` cannot be, and is lost). */
	struct buf ctx = {0};
	buf_add(&ctx, snap, strlen(snap) + 1);
	char *out = stdout_is_gdbs(c->gdb_pid) ? NULL : redirect_target();
	buf_add(&ctx, out ? out : "", strlen(out ? out : "") + 1);
	free(out);
	for (int i = 0; i < c->nargs; i++)
		buf_add(&ctx, c->args[i], strlen(c->args[i]) + 1);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	struct buf plan = {0};
	step_header(&plan, slot);
	/* gcore's "Saved corefile" would land in the middle of the report */
	buf_str(&plan, "pipe gcore ");
	buf_str(&plan, snap);
	buf_str(&plan, " | cat >/dev/null\npipe pycore-state | ");
	buf_shell_quote(&plan, self);
	char line[64];
	snprintf(line, sizeof(line), " gdb --resume=%d\npycore-step\n", slot);
	buf_str(&plan, line);
	bool ok = n > 0 && !ctx.failed && !plan.failed && write_all(ctx_fd, ctx.data, ctx.len) &&
		  write_all(step_fd, plan.data, plan.len);
	buf_free(&ctx);
	buf_free(&plan);
	if (!ok) {
		err = pca_error_create(PCA_ERROR_OS, "cannot write the snapshot plan to ~/.cache/pycore-analyze/gdb");
		goto fail;
	}
	fprintf(stderr, "pycore: %s; gdb takes a snapshot with gcore in %s (deleted after reading)\n", why,
		snap_dir);
	close(ctx_fd);
	close(step_fd);
	close(snap_fd);
	free(snap_dir);
	free(snap);
	return slot;
fail:
	fprintf(stderr, "pycore-analyze: %s, and no gcore snapshot is possible: %s\n", why, err->message);
	pca_error_destroy(err);
	if (step_fd >= 0) {
		char name[32];
		snprintf(name, sizeof(name), "step-%d.gdb", slot);
		unlinkat(c->step_dirfd, name, 0);
		unlinkat(c->step_dirfd, ctx_name, 0);
		close(step_fd);
	}
	if (ctx_fd >= 0)
		close(ctx_fd);
	if (snap && snap_fd >= 0)
		unlink(snap);
	if (snap_fd >= 0)
		close(snap_fd);
	free(snap_dir);
	free(snap);
	return GDB_EXIT_NO_RESULT;
}

/* --resume=N: gdb has written the snapshot step-N.ctx names. Open it and
 * unlink it at once (nothing to clean up whatever happens next), check it,
 * and analyse it through /dev/fd. */
static int resume_snapshot(struct gdb_cmd *c)
{
	char name[32];
	snprintf(name, sizeof(name), "step-%d.ctx", c->resume);
	int fd = openat(c->step_dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pycore-analyze: the snapshot plan %s is gone: %s\n", name, strerror(errno));
		return GDB_EXIT_NO_RESULT;
	}
	char ctx[65536];
	ssize_t len = read(fd, ctx, sizeof(ctx) - 1);
	close(fd);
	unlinkat(c->step_dirfd, name, 0); /* step-N.gdb deleted itself */
	if (len <= 0 || ctx[len - 1] != '\0') {
		fprintf(stderr, "pycore-analyze: the snapshot plan is damaged\n");
		return GDB_EXIT_NO_RESULT;
	}
	ctx[len] = '\0';
	const char *snap = ctx;
	const char *out = snap + strlen(snap) + 1;
	if (out >= ctx + len) {
		fprintf(stderr, "pycore-analyze: the snapshot plan is damaged\n");
		return GDB_EXIT_NO_RESULT;
	}
	char *args[64];
	int nargs = 0;
	for (const char *p = out + strlen(out) + 1; p < ctx + len && nargs < 64; p += strlen(p) + 1)
		args[nargs++] = (char *)p;
	if (out[0]) { /* the user's `> FILE`, which the shell has already emptied */
		int out_fd = open(out, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (out_fd < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
			fprintf(stderr, "pycore-analyze: %s: %s\n", out, strerror(errno));
		if (out_fd >= 0)
			close(out_fd);
	}
	int core = open(snap, O_RDONLY | O_NOFOLLOW); /* inherited by the child */
	int saved = errno;
	unlink(snap);
	if (core < 0) {
		fprintf(stderr, "pycore-analyze: the gcore snapshot %s: %s\n", snap, strerror(saved));
		return GDB_EXIT_NO_RESULT;
	}
	struct pca_error *err = snapshot_check(core);
	if (err) {
		close(core);
		return report_error(err);
	}
	char core_path[32];
	snprintf(core_path, sizeof(core_path), "/dev/fd/%d", core);
	c->args = args;
	c->nargs = nargs;
	int status = analyse(c, core_path, NULL, NULL);
	close(core);
	return status;
}

/* A live process gdb holds: read it directly (`-p PID --no-stop`: gdb
 * already has it stopped and traced) where the kernel allows it and the
 * tool can; otherwise plan a snapshot. */
static int analyse_live(struct gdb_cmd *c)
{
	long tid = running_thread(c->st.pid);
	if (c->st.non_stop || tid) {
		fprintf(stderr, "pycore-analyze: thread %ld of process %ld is running (non-stop mode or `continue &`): stop every thread first (`interrupt -a`)\n",
			tid, c->st.pid);
		return GDB_EXIT_NO_RESULT;
	}
	struct pca_error *why = direct_read_check(c->st.pid);
	if (why) {
		char *text = pca_asprintf("reading process %ld directly is refused (%s)", c->st.pid,
					  why->message);
		pca_error_destroy(why);
		int status = plan_snapshot(c, text ? text : "reading the process directly is refused");
		free(text);
		return status;
	}
	char pid[32];
	snprintf(pid, sizeof(pid), "%ld", c->st.pid);
	char **argv = child_argv(c, "-p", pid, "--no-stop");
	struct run r = {.st = &c->st, .capture_err = true};
	struct pca_error *err = argv ? run_child(argv, &r) : &pca_error_nomem;
	free(argv);
	int status;
	if (err) {
		status = report_error(err);
	} else if (r.status == CLI_EXIT_USAGE && !r.direct) {
		/* This build cannot read a live process (or not with --no-stop): the
		 * snapshot reads the same state. */
		status = plan_snapshot(c, "this pycore-analyze cannot read a live process directly");
	} else {
		if (r.err.len)
			write_all(STDERR_FILENO, r.err.data, r.err.len);
		status = deliver(&r, c->step_dirfd, c->gdb_pid);
	}
	run_deinit(&r);
	return status;
}

static void read_state(struct pca_gdb_state *st)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	/* Read to the end even after "@end": gdb is still writing into the pipe. */
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		pca_gdb_state_line(st, line);
	}
	free(line);
}

int pca_cmd_gdb(int argc, char **argv)
{
	struct gdb_cmd c = {.step_dirfd = -1};
	int first = 1;
	if (argc > 1 && starts_with(argv[1], "--resume=")) {
		char *end;
		long n = strtol(argv[1] + strlen("--resume="), &end, 10);
		if (*end || n < GDB_SLOT_FIRST || n > GDB_SLOT_LAST) {
			fprintf(stderr, "pycore-analyze: gdb: bad --resume\n");
			return GDB_EXIT_USAGE;
		}
		c.resume = (int)n;
		first = 2;
	}
	c.args = argv + first;
	c.nargs = argc - first;
	signal(SIGPIPE, SIG_IGN); /* a quit pager is not our death */
	pca_gdb_state_init(&c.st);
	read_state(&c.st);
	if (!c.st.seen_header) {
		fprintf(stderr, "pycore-analyze: `pycore-analyze gdb` is run by the gdb command `pycore` (source pycore.gdb in gdb); outside gdb use `pycore-analyze COMMAND CORE`\n");
		pca_gdb_state_deinit(&c.st);
		return GDB_EXIT_USAGE;
	}
	c.gdb_pid = find_gdb();
	struct pca_error *err = step_dir_open(&c.step_dirfd);
	if (err) { /* still fine for a core file: direct mode */
		report_error(err);
		c.step_dirfd = -1;
	} else {
		collect_garbage(c.step_dirfd, "step-", STEP_MAX_AGE);
	}
	int status;
	if (c.resume) {
		status = c.step_dirfd >= 0 ? resume_snapshot(&c) : GDB_EXIT_NO_RESULT;
	} else if (c.st.kind == PCA_GDB_CORE && c.st.core_path) {
		char *core = core_source(&c.st, c.gdb_pid);
		status = core ? analyse(&c, core, NULL, NULL) : GDB_EXIT_NO_RESULT;
		free(core);
	} else if (c.st.kind == PCA_GDB_NATIVE && c.st.pid > 0) {
		status = analyse_live(&c);
	} else if (c.st.kind == PCA_GDB_REMOTE) {
		status = plan_snapshot(&c, "the target is remote (its /proc is not ours; running pycore-analyze on the target's host is faster)");
	} else {
		fprintf(stderr, "pycore-analyze: gdb has no process or core file: `run`, `attach PID` or `core FILE` first\n");
		status = GDB_EXIT_NO_RESULT;
	}
	if (c.step_dirfd >= 0)
		close(c.step_dirfd);
	pca_gdb_state_deinit(&c.st);
	return status;
}

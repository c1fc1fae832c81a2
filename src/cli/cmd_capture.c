/* cmd_capture.c: capture and watch, the commands without a core: they make
 * one from a running process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/progress.h"
#include "analyses/budget.h"
#include "cli/cli.h"
#include "report/capture.h"
#include "report/report.h"
#include "target/cgroup.h"
#include "target/core_writer.h"
#include "target/target.h"

/* capture's and watch's own options */
struct capture_options {
	const char *output;   /* -o */
	uint64_t rss_limit;   /* --rss: watch */
	double interval;      /* --interval: watch, seconds */
	bool use_gdb;         /* --gdb: capture: gdb's gcore writes the core */
	double limit_pct;     /* --limit-pct: watch, share of the cgroup's memory limit */
	const char *cgroup;   /* --cgroup: watch a whole cgroup */
	long max_captures;    /* --max: watch */
	bool quiet;           /* --quiet: watch prints no summary */
};
static struct capture_options capture_opts;

enum { OPT_RSS = PCA_OPT_CAPTURE, OPT_INTERVAL, OPT_GDB, OPT_LIMIT_PCT, OPT_CGROUP, OPT_MAX,
       OPT_QUIET };

static int parse_capture_option(int c, const char *arg)
{
	switch (c) {
	case 'o':
		capture_opts.output = arg;
		return 0;
	case OPT_RSS:
		if (!pca_cli_size(arg, &capture_opts.rss_limit)) {
			fprintf(stderr, "pycore-analyze: --rss needs a size such as 2G, 500M or 800000K\n");
			return PCA_EXIT_USAGE;
		}
		return 0;
	case OPT_INTERVAL:
		if (!pca_cli_number(arg, 0, 3600, &capture_opts.interval)) {
			fprintf(stderr, "pycore-analyze: --interval needs seconds (0.1 ... 3600)\n");
			return PCA_EXIT_USAGE;
		}
		return 0;
	case OPT_GDB:
		capture_opts.use_gdb = true;
		return 0;
	case OPT_LIMIT_PCT:
		if (!pca_cli_number(arg, 0, 100, &capture_opts.limit_pct)) {
			fprintf(stderr, "pycore-analyze: --limit-pct needs a percentage (1 ... 100)\n");
			return PCA_EXIT_USAGE;
		}
		return 0;
	case OPT_CGROUP:
		capture_opts.cgroup = arg;
		return 0;
	case OPT_MAX:
		if (!pca_cli_integer(arg, 1, 1000, &capture_opts.max_captures)) {
			fprintf(stderr, "pycore-analyze: --max needs a number of captures (1 ... 1000)\n");
			return PCA_EXIT_USAGE;
		}
		return 0;
	case OPT_QUIET:
		capture_opts.quiet = true;
		return 0;
	}
	return PCA_EXIT_USAGE;
}

static const struct option capture_long_options[] = {
	{"output", required_argument, NULL, 'o'},
	{"rss", required_argument, NULL, OPT_RSS},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"gdb", no_argument, NULL, OPT_GDB},
	{"limit-pct", required_argument, NULL, OPT_LIMIT_PCT},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"max", required_argument, NULL, OPT_MAX},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{NULL, 0, NULL, 0},
};

const struct pca_command_options pca_capture_options = {
	.long_options = capture_long_options,
	.short_options = "o:",
	.parse = parse_capture_option,
	.help = "  --gdb             capture: have gdb's gcore write the core\n"
		"  -o, --output FILE capture, watch: where the core goes\n"
		"  --rss SIZE        watch: capture when resident memory reaches SIZE (2G, 500M)\n"
		"  --interval S      watch: seconds between looks (default 0.1)\n"
		"  --limit-pct P     watch: capture when the cgroup's memory use reaches P%% of its limit\n"
		"  --cgroup PATH     watch: a whole cgroup (container); its largest process is captured\n"
		"  --max N           watch: capture at most N times (default 1): FILE, FILE.2, ...\n"
		"  --quiet           watch: do not print the summary of each core taken\n",
};

/* capture: gdb's gcore writes the core into a private directory next to
 * FILE (same file system, so the final rename is atomic); the result is
 * checked as a core before it takes FILE's name. The process is stopped
 * only while gcore copies it; nothing is written to it. */
static int run_capture_gdb(const struct pca_options *opts, const char *output)
{
	char *dir = pca_asprintf("%s.tmpXXXXXX", output);
	if (!dir || !mkdtemp(dir)) {
		fprintf(stderr, "pycore-analyze: cannot create a directory next to %s: %s\n", output,
			strerror(errno));
		free(dir);
		return PCA_EXIT_NO_RESULT;
	}
	char *prefix = pca_asprintf("%s/core", dir);
	char *made = pca_asprintf("%s/core.%ld", dir, opts->pid);
	char pid_text[32];
	snprintf(pid_text, sizeof(pid_text), "%ld", opts->pid);
	int status = PCA_EXIT_NO_RESULT;
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
		} else if (rename(made, output) != 0) {
			fprintf(stderr, "pycore-analyze: cannot move the core to %s: %s\n", output,
				strerror(errno));
		} else {
			struct stat st;
			uint64_t bytes = stat(output, &st) == 0 ? (uint64_t)st.st_size : 0;
			double seconds = pca_now_seconds() - t0;
			/* gdb keeps the process stopped from attach to detach: all of it */
			struct pca_capture_report c = {opts->pid, output, bytes, pca_target_thread_count(t),
						       seconds, seconds};
			pca_report_capture(stdout, opts->json, &c);
			status = PCA_EXIT_COMPLETE;
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
static int run_capture(const struct pca_options *opts, const char *output)
{
	if (capture_opts.use_gdb)
		return run_capture_gdb(opts, output);
	struct pca_core_write_options wo = {
		.no_stop = opts->no_stop,
		.compress = ends_with(output, ".zst"),
	};
	struct pca_core_write_result res;
	struct pca_error *err = pca_core_capture((int32_t)opts->pid, output, &wo, &res);
	if (err) {
		fprintf(stderr, "pycore-analyze: %s\n", err->message);
		pca_error_destroy(err);
		return PCA_EXIT_NO_RESULT;
	}
	if (res.unreadable_bytes)
		fprintf(stderr, "pycore-analyze: warning: %llu bytes of process %ld could not be read (%s)\n",
			(unsigned long long)res.unreadable_bytes, opts->pid,
			res.unreadable_omitted ? "left out of the core" : "saved as zeros");
	struct pca_capture_report c = {opts->pid, output, res.bytes, res.threads, res.seconds,
				       res.paused_seconds};
	pca_report_capture(stdout, opts->json, &c);
	return res.unreadable_bytes ? PCA_EXIT_PARTIAL : PCA_EXIT_COMPLETE;
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
static void print_core_summary(const struct pca_options *opts, const char *path)
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
static int run_watch(const struct pca_options *opts)
{
	double interval = capture_opts.interval > 0 ? capture_opts.interval : 0.1;
	char cg[PATH_MAX] = "";
	struct pca_error *err = NULL;
	if (capture_opts.cgroup)
		err = pca_cgroup_resolve(capture_opts.cgroup, cg, sizeof(cg));
	else if (capture_opts.limit_pct > 0)
		err = pca_cgroup_of_process((int32_t)opts->pid, cg, sizeof(cg));
	if (err) {
		fprintf(stderr, "pycore-analyze: %s\n", err->message);
		int status = err->code == PCA_ERROR_USAGE ? PCA_EXIT_USAGE : PCA_EXIT_NO_RESULT;
		pca_error_destroy(err);
		return status;
	}
	char what[PATH_MAX + 64];
	if (opts->pid > 0)
		snprintf(what, sizeof(what), "process %ld", opts->pid);
	else
		snprintf(what, sizeof(what), "cgroup %s", cg);
	long max = capture_opts.max_captures > 0 ? capture_opts.max_captures : 1, taken = 0;
	uint64_t rearm_at = 0; /* 0: armed at the threshold */
	bool announced = false;
	for (;;) {
		uint64_t value = 0, threshold = capture_opts.rss_limit;
		struct pca_cgroup_memory mem;
		bool alive = opts->pid > 0 ? pca_process_rss((int32_t)opts->pid, &value) : true;
		if (alive && cg[0]) {
			err = pca_cgroup_memory_read(cg, &mem);
			if (err) {
				pca_error_destroy(err);
				alive = false; /* the cgroup went away with its container */
			} else if (capture_opts.limit_pct > 0) {
				if (mem.limit == UINT64_MAX) {
					fprintf(stderr, "pycore-analyze: %s has no memory limit (%s): use --rss SIZE\n",
						what, cg);
					return PCA_EXIT_NO_RESULT;
				}
				threshold = (uint64_t)((double)mem.limit * capture_opts.limit_pct / 100.0);
				value = mem.usage;
			} else if (opts->pid <= 0) {
				value = mem.usage;
			}
		}
		if (!alive) {
			if (taken)
				return PCA_EXIT_COMPLETE;
			char limit[32];
			pca_format_bytes(threshold, limit, sizeof(limit));
			fprintf(stderr, "pycore-analyze: %s ended before its memory reached %s: nothing captured\n",
				what, limit);
			return PCA_EXIT_NO_RESULT;
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
			struct pca_options one = *opts;
			if (one.pid <= 0)
				one.pid = pca_cgroup_largest_process(cg);
			char *path = watch_output(capture_opts.output, taken + 1);
			if (!path)
				return PCA_EXIT_NO_RESULT;
			int status = one.pid > 0 ? run_capture(&one, path) : PCA_EXIT_NO_RESULT;
			if (status == PCA_EXIT_NO_RESULT) {
				free(path);
				return status;
			}
			if (!capture_opts.quiet)
				print_core_summary(opts, path);
			free(path);
			if (++taken >= max)
				return PCA_EXIT_COMPLETE;
			rearm_at = value + threshold / 20;
		}
		struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

int pca_cmd_capture(const struct pca_options *opts, int argc, char **argv, int pos)
{
	(void)argv;
	if (opts->pid <= 0 || !capture_opts.output || pos < argc) {
		fprintf(stderr, "pycore-analyze: usage: %s\n", "capture -p PID -o FILE [--no-stop] [--gdb]");
		return PCA_EXIT_USAGE;
	}
	return run_capture(opts, capture_opts.output);
}

int pca_cmd_watch(const struct pca_options *opts, int argc, char **argv, int pos)
{
	(void)argv;
	bool target = opts->pid > 0 || capture_opts.cgroup;
	bool threshold = capture_opts.rss_limit || capture_opts.limit_pct > 0;
	if (!target || !capture_opts.output || pos < argc || !threshold) {
		fprintf(stderr, "pycore-analyze: usage: %s\n",
			"watch (-p PID | --cgroup PATH) -o FILE (--rss SIZE | --limit-pct P) [--max N] [--quiet] [--interval SECONDS]");
		return PCA_EXIT_USAGE;
	}
	return run_watch(opts);
}

/* cmd_capture.c: capture and watch, the commands without a core: they make
 * one from a running process. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "report/report.h"
#include "target/target.h"

/* capture's and watch's own options */
struct capture_options {
	const char *output;   /* -o */
	uint64_t rss_limit;   /* --rss: watch */
	double interval;      /* --interval: watch, seconds */
};
static struct capture_options capture_opts;

static bool parse_size(const char *text, uint64_t *ret);

enum { OPT_RSS = PCA_OPT_CAPTURE, OPT_INTERVAL };

static int parse_capture_option(int c, const char *arg)
{
	switch (c) {
	case 'o':
		capture_opts.output = arg;
		return 0;
	case OPT_RSS:
		if (!parse_size(arg, &capture_opts.rss_limit)) {
			fprintf(stderr, "pycore-analyze: --rss needs a size such as 2G, 500M or 800000K\n");
			return PCA_EXIT_USAGE;
		}
		return 0;
	case OPT_INTERVAL: {
		char *end;
		capture_opts.interval = strtod(arg, &end);
		if (*end || capture_opts.interval <= 0 || capture_opts.interval > 3600) {
			fprintf(stderr, "pycore-analyze: --interval needs seconds (0.1 ... 3600)\n");
			return PCA_EXIT_USAGE;
		}
		return 0;
	}
	}
	return PCA_EXIT_USAGE;
}

static const struct option capture_long_options[] = {
	{"output", required_argument, NULL, 'o'},
	{"rss", required_argument, NULL, OPT_RSS},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{NULL, 0, NULL, 0},
};

const struct pca_command_options pca_capture_options = {
	.long_options = capture_long_options,
	.short_options = "o:",
	.parse = parse_capture_option,
	.help = "  -o, --output FILE capture, watch: where the core goes\n"
		"  --rss SIZE        watch: capture when resident memory reaches SIZE (2G, 500M)\n"
		"  --interval S      watch: seconds between looks (default 0.1)\n",
};

/* capture: gdb's gcore writes the core into a private directory next to
 * FILE (same file system, so the final rename is atomic); the result is
 * checked as a core before it takes FILE's name. The process is stopped
 * only while gcore copies it; nothing is written to it. */
static int run_capture(const struct pca_options *opts)
{
	char *dir = pca_asprintf("%s.tmpXXXXXX", capture_opts.output);
	if (!dir || !mkdtemp(dir)) {
		fprintf(stderr, "pycore-analyze: cannot create a directory next to %s: %s\n", capture_opts.output,
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
		} else if (rename(made, capture_opts.output) != 0) {
			fprintf(stderr, "pycore-analyze: cannot move the core to %s: %s\n", capture_opts.output,
				strerror(errno));
		} else {
			struct stat st;
			uint64_t bytes = stat(capture_opts.output, &st) == 0 ? (uint64_t)st.st_size : 0;
			double seconds = pca_now_seconds() - t0;
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
				pca_json_string(&j, capture_opts.output);
				pca_json_key(&j, "bytes");
				pca_json_uint(&j, bytes);
				pca_json_key(&j, "threads");
				pca_json_uint(&j, pca_target_thread_count(t));
				pca_json_object_end(&j);
				pca_json_key(&j, "warnings");
				pca_json_array_begin(&j);
				pca_json_array_end(&j);
				pca_json_object_end(&j);
			} else {
				char size[32];
				pca_format_bytes(bytes, size, sizeof(size));
				printf("captured process %ld (%zu threads) to %s: %s in %.1f s\n", opts->pid,
				       pca_target_thread_count(t), capture_opts.output, size, seconds);
			}
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

/* VmRSS of a process from /proc/PID/status, in bytes; false when gone. */
static bool process_rss(long pid, uint64_t *ret)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool found = false;
	unsigned long long kb;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
			*ret = (uint64_t)kb * 1024;
			found = true;
			break;
		}
	fclose(f);
	return found;
}

/* watch: poll the process's resident memory; when it reaches the limit,
 * capture it once (before the OOM killer's SIGKILL, which leaves no core)
 * and stop. Exit 2 when the process ends first. */
static int run_watch(const struct pca_options *opts)
{
	double interval = capture_opts.interval > 0 ? capture_opts.interval : 0.1;
	char limit[32];
	pca_format_bytes(capture_opts.rss_limit, limit, sizeof(limit));
	if (!opts->json && isatty(STDERR_FILENO))
		fprintf(stderr, "watching process %ld until its resident memory reaches %s\n", opts->pid, limit);
	for (;;) {
		uint64_t rss;
		if (!process_rss(opts->pid, &rss)) {
			fprintf(stderr, "pycore-analyze: process %ld ended before its resident memory reached %s: nothing captured\n",
				opts->pid, limit);
			return PCA_EXIT_NO_RESULT;
		}
		if (rss >= capture_opts.rss_limit)
			return run_capture(opts);
		struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

int pca_cmd_capture(const struct pca_options *opts, int argc, char **argv, int pos)
{
	(void)argv;
	if (opts->pid <= 0 || !capture_opts.output || pos < argc) {
		fprintf(stderr, "pycore-analyze: usage: %s\n", "capture -p PID -o FILE");
		return PCA_EXIT_USAGE;
	}
	return run_capture(opts);
}

int pca_cmd_watch(const struct pca_options *opts, int argc, char **argv, int pos)
{
	(void)argv;
	if (opts->pid <= 0 || !capture_opts.output || pos < argc || !capture_opts.rss_limit) {
		fprintf(stderr, "pycore-analyze: usage: %s\n",
			"watch -p PID -o FILE --rss SIZE [--interval SECONDS]");
		return PCA_EXIT_USAGE;
	}
	return run_watch(opts);
}

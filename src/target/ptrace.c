/* Seize + interrupt every thread of a process; detach on every way out. */
#include "target/ptrace.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A process whose threads keep appearing faster than we stop them is listed
 * at most this many times; then the hold fails rather than loop. */
static const int max_task_passes = 64;
static const size_t max_threads = 1u << 16;

/* What the signal handler detaches: only ever read by the handler while the
 * tool's fatal signals are unblocked, written while they are blocked. */
static struct pca_process_hold *volatile held;
static struct sigaction saved_actions[3];
static const int fatal_signals[3] = {SIGINT, SIGTERM, SIGHUP};

double pca_monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void block_fatal(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&set, fatal_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void detach_all(struct pca_process_hold *h)
{
	for (size_t i = 0; i < h->nthreads; i++)
		ptrace(PTRACE_DETACH, h->threads[i].tid, NULL,
		       (void *)(long)h->threads[i].pending_signal);
}

/* Detach (async-signal-safe: ptrace, sigaction, raise), then hand the
 * signal to the handler that was there before (a capture's, which removes
 * its temporary file), or its default action. */
static void on_fatal_signal(int sig)
{
	struct pca_process_hold *h = held;
	if (h)
		detach_all(h);
	held = NULL;
	for (size_t i = 0; i < 3; i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &saved_actions[i], NULL);
	raise(sig);
}

static void install_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 3; i++)
		sigaction(fatal_signals[i], &sa, &saved_actions[i]);
}

static void restore_handlers(void)
{
	for (size_t i = 0; i < 3; i++)
		sigaction(fatal_signals[i], &saved_actions[i], NULL);
}

static bool read_status_field(int32_t pid, const char *key, long *ret)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t klen = strlen(key);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			found = sscanf(line + klen + 1, "%ld", ret) == 1;
	fclose(f);
	return found;
}

void pca_process_access_hint(int32_t pid, char *buf, size_t size)
{
	buf[0] = '\0';
	long tracer = 0, uid = -1;
	if (read_status_field(pid, "TracerPid", &tracer) && tracer != 0 && tracer != getpid()) {
		char comm[64] = "?", path[64];
		snprintf(path, sizeof(path), "/proc/%ld/comm", tracer);
		FILE *f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		snprintf(buf, size,
			 "process %d is already traced by process %ld (%s): detach that debugger first, or take the core from it (gdb: `gcore FILE`)",
			 pid, tracer, comm);
		return;
	}
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;
	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	if (scope >= 3) {
		snprintf(buf, size,
			 "kernel.yama.ptrace_scope is 3: no process may be traced until reboot; have the kernel write a core instead (ulimit -c, systemd-coredump)");
		return;
	}
	read_status_field(pid, "Uid", &uid);
	struct stat st;
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	bool nondumpable = stat(dir, &st) == 0 && uid > 0 && st.st_uid == 0;
	if (nondumpable) {
		snprintf(buf, size,
			 "process %d is not dumpable (prctl PR_SET_DUMPABLE 0, or it changed credentials): run as root (sudo)",
			 pid);
		return;
	}
	if (geteuid() != 0 && uid >= 0 && (uid_t)uid != geteuid()) {
		snprintf(buf, size, "process %d belongs to uid %ld: run as that user or with sudo", pid,
			 uid);
		return;
	}
	if (scope >= 1 && geteuid() != 0) {
		snprintf(buf, size,
			 "kernel.yama.ptrace_scope is %d: run with sudo, or allow tracing with `sudo sysctl kernel.yama.ptrace_scope=0`",
			 scope);
		return;
	}
	if (geteuid() == 0)
		snprintf(buf, size,
			 "even root may not trace it here (a security module such as AppArmor or SELinux, or a process outside this container): run the tool where the process runs, or have the kernel write its core");
	else
		snprintf(buf, size, "run with sudo, or as the user that runs process %d", pid);
}

static bool holds(const struct pca_process_hold *h, int32_t tid)
{
	for (size_t i = 0; i < h->nthreads; i++)
		if (h->threads[i].tid == tid)
			return true;
	return false;
}

/* Wait until tid is stopped. A signal that arrived first stops it in a
 * signal-delivery-stop instead of the interrupt's event stop: *pending_signal
 * gets that signal, which the caller must hand back (detaching with data 0
 * would drop it). Returns false if tid is gone. */
static bool wait_stopped(int32_t tid, int *pending_signal)
{
	for (int tries = 0; tries < 16; tries++) {
		int status;
		pid_t r = waitpid(tid, &status, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return false;
		if (!WIFSTOPPED(status))
			continue;
		int event = status >> 16;
		int sig = WSTOPSIG(status);
		if (event == PTRACE_EVENT_STOP)
			return true;
		/* A signal-delivery-stop: the thread is stopped, with a signal
		 * that must not be lost. */
		*pending_signal = sig;
		return true;
	}
	return false;
}

/* Whether thread tid of pid is stopped: state t (tracing stop: a debugger
 * holds it) or T (job control) in /proc/PID/task/TID/stat. */
static bool thread_is_stopped(int32_t pid, int32_t tid)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "TID (COMM) S ...": COMM may hold ") ", so the last ')' ends it */
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 't' || p[2] == 'T');
}

/* Every listed thread is stopped, and no thread is unlisted. */
static bool all_threads_stopped(const struct pca_process_hold *h)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", h->pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	size_t seen = 0;
	bool all = true;
	struct dirent *e;
	while (all && (e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (*end || tid <= 0)
			continue;
		seen++;
		all = holds(h, (int32_t)tid) && thread_is_stopped(h->pid, (int32_t)tid);
	}
	closedir(d);
	return all && seen == h->nthreads;
}

static struct pca_error *hold_error(int32_t pid, int err)
{
	char hint[512];
	if (err == ESRCH)
		return pca_error_create(PCA_ERROR_OS, "no process %d (it ended, or it is not visible here)",
					pid);
	pca_process_access_hint(pid, hint, sizeof(hint));
	return pca_error_create(PCA_ERROR_OS, "cannot attach to process %d: %s; %s", pid,
				strerror(err), hint);
}

static struct pca_error *add_thread(struct pca_process_hold *h, int32_t tid, size_t *cap)
{
	if (h->nthreads == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (ncap > max_threads)
			return pca_error_create(PCA_ERROR_OS, "process %d has more than %zu threads", h->pid,
						max_threads);
		struct pca_stopped_thread *t = realloc(h->threads, ncap * sizeof(*t));
		if (!t)
			return &pca_error_nomem;
		h->threads = t;
		*cap = ncap;
	}
	memset(&h->threads[h->nthreads], 0, sizeof(h->threads[0]));
	h->threads[h->nthreads++].tid = tid;
	return NULL;
}

/* One pass over /proc/PID/task: seize and stop the threads not held yet.
 * *added says how many were new. */
static struct pca_error *hold_pass(struct pca_process_hold *h, bool stop, size_t *cap,
				   size_t *added)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", h->pid);
	DIR *d = opendir(path);
	if (!d)
		return hold_error(h->pid, errno == ENOENT ? ESRCH : errno);
	*added = 0;
	struct pca_error *err = NULL;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (*end || tid <= 0 || holds(h, (int32_t)tid))
			continue;
		if (stop) {
			if (ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL) != 0) {
				if (errno == ESRCH && tid != h->pid)
					continue; /* the thread ended meanwhile */
				err = hold_error(h->pid, errno);
				break;
			}
			err = add_thread(h, (int32_t)tid, cap);
			if (err) {
				ptrace(PTRACE_DETACH, (pid_t)tid, NULL, NULL);
				break;
			}
			struct pca_stopped_thread *th = &h->threads[h->nthreads - 1];
			if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL) != 0 ||
			    !wait_stopped((int32_t)tid, &th->pending_signal)) {
				h->nthreads--; /* gone: the kernel dropped the trace */
				continue;
			}
			th->have_regs = ptrace(PTRACE_GETREGS, (pid_t)tid, NULL, &th->regs) == 0;
			if (ptrace(PTRACE_GETFPREGS, (pid_t)tid, NULL, &th->fpregs) != 0)
				memset(&th->fpregs, 0, sizeof(th->fpregs));
		} else {
			err = add_thread(h, (int32_t)tid, cap);
		}
		(*added)++;
	}
	closedir(d);
	return err;
}

struct pca_error *pca_process_hold(int32_t pid, bool stop, struct pca_process_hold *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->pid = pid;
	ret->stopped = stop;
	sigset_t old;
	block_fatal(&old);
	if (stop) {
		install_handlers();
		held = ret;
	}
	ret->stop_time = pca_monotonic_seconds();
	size_t cap = 0, added = 0;
	struct pca_error *err = NULL;
	int pass = 0;
	do {
		err = hold_pass(ret, stop, &cap, &added);
	} while (!err && stop && added && ++pass < max_task_passes);
	if (!err && stop && added)
		err = pca_error_create(PCA_ERROR_OS,
				       "process %d keeps creating threads: cannot stop all of them", pid);
	if (!err && ret->nthreads == 0)
		err = hold_error(pid, ESRCH);
	if (!err && !stop)
		ret->already_stopped = all_threads_stopped(ret);
	if (err) {
		if (stop)
			detach_all(ret);
		held = NULL;
		if (stop)
			restore_handlers();
		free(ret->threads);
		ret->threads = NULL;
		ret->nthreads = 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}

double pca_process_release(struct pca_process_hold *h)
{
	if (!h->threads)
		return 0;
	sigset_t old;
	block_fatal(&old);
	double seconds = 0;
	if (h->stopped) {
		detach_all(h);
		seconds = pca_monotonic_seconds() - h->stop_time;
		held = NULL;
		restore_handlers();
	} else if (h->already_stopped) {
		/* still stopped after the copy: it did not run in between (a
		 * resume and a new stop meanwhile would need the debugger to act
		 * while its own command runs) */
		h->already_stopped = all_threads_stopped(h);
	}
	free(h->threads);
	h->threads = NULL;
	h->nthreads = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return seconds;
}

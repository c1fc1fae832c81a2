/* ptrace.h: hold a live process still while it is read, and let it go.
 *
 * pca_process_stop seizes every thread (PTRACE_SEIZE, never PTRACE_ATTACH:
 * no SIGSTOP is queued, so a tool killed with SIGKILL leaves a process the
 * kernel simply detaches and resumes) and interrupts it (PTRACE_INTERRUPT),
 * re-listing /proc/PID/task until no new thread appears (bounded). The
 * registers of each stopped thread are read once. While a process is held,
 * SIGINT, SIGTERM and SIGHUP of the tool detach every thread before the
 * signal takes its default action, so the process runs on whatever ends the
 * tool. Only one process is held at a time.
 * Nothing is ever written to the target. This module does not read memory.
 */
#ifndef PCA_TARGET_PTRACE_H
#define PCA_TARGET_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "base/error.h"

struct pca_stopped_thread {
	int32_t tid;
	int pending_signal;  /* stopped delivering it: handed back at detach */
	bool have_regs;
	struct user_regs_struct regs;
	struct user_fpregs_struct fpregs;
};

struct pca_process_hold {
	int32_t pid;
	bool stopped;               /* false: --no-stop, threads listed only */
	/* --no-stop: every thread was already stopped (state t or T, e.g. held
	 * by gdb) when listed and still was at the release: the read saw one
	 * instant, as if we had stopped it. */
	bool already_stopped;
	struct pca_stopped_thread *threads;
	size_t nthreads;
	double stop_time;           /* pca_now-style seconds when the stop began */
};

/* Seize and interrupt every thread of pid (stop=true), or only list the
 * threads (stop=false). A refused attach is a PCA_ERROR_OS error whose
 * message says why (Yama, another tracer, other user, non-dumpable) and what
 * to do. On error nothing stays attached. */
struct pca_error *pca_process_hold(int32_t pid, bool stop, struct pca_process_hold *ret);
/* Detach every thread (the process runs on); returns the seconds it was
 * stopped (0 for a listing). A listing re-checks already_stopped. Safe to
 * call twice. */
double pca_process_release(struct pca_process_hold *h);

/* Seconds on a monotonic clock. */
double pca_monotonic_seconds(void);

/* Why a process cannot be read, for messages: "" when nothing is known. */
void pca_process_access_hint(int32_t pid, char *buf, size_t size);

#endif

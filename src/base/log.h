/* log.h: the debugging knobs, set once by the CLI.
 *
 * Phase times (PCA_TIMING=1), the census' self-check of its address index
 * (PCA_CHECK_INDEX=1) and the object dumps (PCA_DUMP_OBJECTS=FILE,
 * PCA_DUMP_PARENTS=FILE) are configured here, once, before any work:
 * pca_log_from_env() reads the environment (the documented interface,
 * docs/usage.md), pca_log_configure() sets them directly (tests, other
 * front ends). Lower layers ask pca_log_config() and write through
 * pca_log_timing() and pca_log_dump_*(); they never read the environment or
 * open files themselves. Unconfigured, every knob is off.
 *
 * Not here: warnings and errors (base/error.h: they are results, shown by
 * the report), the progress line (base/progress.h), anything on stdout.
 * Not thread-safe: configure before starting threads.
 */
#ifndef PCA_BASE_LOG_H
#define PCA_BASE_LOG_H

#include <stdbool.h>

struct pca_log_config {
	bool timing;              /* phase times on stderr */
	bool check_index;         /* the census checks its address index */
	const char *dump_objects; /* file: every object, "ADDR TYPE" a line; or NULL */
	const char *dump_parents; /* file: who found each object, "ADDR PARENT"; or NULL */
	/* file: every object whose reference count exceeds the references the
	 * graph has to it, "ADDR TYPE EXCESS"; or NULL */
	const char *dump_external;
	/* threads of the parallel phases (base/parallel.h); 0: as many as
	 * the CPUs */
	unsigned threads;
};

/* Copy *config (its strings must outlive the run). NULL: everything off. */
void pca_log_configure(const struct pca_log_config *config);
/* pca_log_configure() from PCA_TIMING, PCA_CHECK_INDEX, PCA_DUMP_OBJECTS,
 * PCA_DUMP_PARENTS, PCA_DUMP_EXTERNAL (set, even empty, means on for the
 * first two) and PCA_THREADS (a number from 1; anything else: unset). */
void pca_log_from_env(void);
const struct pca_log_config *pca_log_config(void);

/* A phase-times line on stderr when timing is on. */
void pca_log_timing(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum pca_log_dump {
	PCA_LOG_DUMP_OBJECTS,
	PCA_LOG_DUMP_PARENTS,
	PCA_LOG_DUMP_EXTERNAL,
	PCA_LOG_DUMP_COUNT,
};
/* Start a dump: (re)create its file. False when that dump is off or the
 * file cannot be created (a debugging aid: the run goes on without it). */
bool pca_log_dump_begin(enum pca_log_dump which);
/* One line of a begun dump; a no-op otherwise. */
void pca_log_dump(enum pca_log_dump which, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pca_log_dump_end(enum pca_log_dump which);

#endif

/* progress.h: one status line on stderr for phases that can take seconds
 * ("census: 4.1M objects"), redrawn at most ten times a second, erased at
 * the end. Enabled by the cli only when stderr is a terminal and neither
 * --no-progress nor --json was given; disabled, every call is a no-op. */
#ifndef PCA_BASE_PROGRESS_H
#define PCA_BASE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct pca_progress {
	bool enabled;
	bool shown;
	double last;
};

void pca_progress_init(struct pca_progress *p, bool enabled);
/* Cheap enough to call per object: it looks at the clock every 64Ki calls' worth of `done`. */
void pca_progress_update(struct pca_progress *p, const char *phase, uint64_t done);
void pca_progress_clear(struct pca_progress *p);

/* Monotonic seconds, for phase times (PCA_TIMING). */
double pca_now_seconds(void);

#endif

#include "base/progress.h"

#include <stdio.h>
#include <time.h>

double pca_now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pca_progress_init(struct pca_progress *p, bool enabled)
{
	p->enabled = enabled;
	p->shown = false;
	p->last = enabled ? pca_now_seconds() : 0;
}

void pca_progress_update(struct pca_progress *p, const char *phase, uint64_t done)
{
	if (!p || !p->enabled || !done || (done & 0xffff))
		return;
	double t = pca_now_seconds();
	if (t - p->last < 0.1)
		return;
	p->last = t;
	p->shown = true;
	if (done >= 1000000)
		fprintf(stderr, "\r%s: %.1fM objects\033[K", phase, (double)done / 1e6);
	else
		fprintf(stderr, "\r%s: %llu objects\033[K", phase, (unsigned long long)done);
	fflush(stderr);
}

void pca_progress_clear(struct pca_progress *p)
{
	if (!p || !p->shown)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	p->shown = false;
}

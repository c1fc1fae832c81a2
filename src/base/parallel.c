/* One piece of work split over threads (see parallel.h). */
#include "base/parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "base/log.h"

struct part {
	pca_parallel_fn fn;
	void *ctx;
	unsigned index, count;
	pthread_t thread;
};

static void *part_run(void *arg)
{
	struct part *p = arg;
	p->fn(p->ctx, p->index, p->count);
	return NULL;
}

void pca_parallel_run(unsigned nparts, pca_parallel_fn fn, void *ctx)
{
	if (nparts > PCA_PARALLEL_MAX)
		nparts = PCA_PARALLEL_MAX;
	if (nparts <= 1) {
		fn(ctx, 0, 1);
		return;
	}
	struct part parts[PCA_PARALLEL_MAX];
	bool started[PCA_PARALLEL_MAX] = {false};
	for (unsigned i = 0; i < nparts; i++)
		parts[i] = (struct part){fn, ctx, i, nparts, 0};
	for (unsigned i = 1; i < nparts; i++)
		started[i] = pthread_create(&parts[i].thread, NULL, part_run, &parts[i]) == 0;
	fn(ctx, 0, nparts);
	for (unsigned i = 1; i < nparts; i++)
		if (!started[i])
			fn(ctx, i, nparts);
	for (unsigned i = 1; i < nparts; i++)
		if (started[i])
			pthread_join(parts[i].thread, NULL);
}

unsigned pca_parallel_threads(uint64_t size, uint64_t min_size)
{
	unsigned forced = pca_log_config()->threads;
	if (forced)
		return forced > PCA_PARALLEL_MAX ? PCA_PARALLEL_MAX : forced;
	if (size < min_size)
		return 1;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > PCA_PARALLEL_MAX ? PCA_PARALLEL_MAX : (unsigned)n;
}

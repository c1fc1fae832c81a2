/* parallel.h: one piece of work split over threads.
 *
 * The caller splits the work into parts that do not depend on one another's
 * timing (each part writes its own output, or shared words with atomic
 * operations) and merges the parts' results afterwards in part order, so
 * that the result is the same on any number of threads. How many threads:
 * pca_parallel_threads(), from PCA_THREADS (base/log.h) or the CPUs this
 * process may run on.
 */
#ifndef PCA_BASE_PARALLEL_H
#define PCA_BASE_PARALLEL_H

#include <stdint.h>

enum { PCA_PARALLEL_MAX = 8 };

/* One part of the work: part in 0..nparts-1. */
typedef void (*pca_parallel_fn)(void *ctx, unsigned part, unsigned nparts);

/* Run fn for every part and return when all are done: part 0 on the
 * calling thread, each other part on a thread of its own (one whose thread
 * cannot be started runs on the calling thread: slower, the same result). */
void pca_parallel_run(unsigned nparts, pca_parallel_fn fn, void *ctx);

/* Threads for work of `size` units: PCA_THREADS when set (1 to
 * PCA_PARALLEL_MAX); else the CPUs this process may run on when size is at
 * least min_size (below it, starting threads costs more than they save),
 * else 1. */
unsigned pca_parallel_threads(uint64_t size, uint64_t min_size);

#endif

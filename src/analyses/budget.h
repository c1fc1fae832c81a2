/* budget.h: will the census and the reference graph of a core fit in the
 * memory this process may use? Answered before either is built, so that a
 * core as large as the machine's memory (an OOM core) gets a message and a
 * smaller result instead of the OOM killer.
 *
 * The estimate is cheap and deliberately rough: objects from the memory the
 * core saved (a Python heap holds about one object per bytes_per_object
 * bytes of saved memory, measured on real cores), references per object,
 * each times the per-object and per-reference costs in budget.c. The memory
 * available is the smallest of --max-memory, MemAvailable (/proc/meminfo)
 * and the room left under this process's cgroup limit (target/cgroup.h).
 * It decides nothing: the session does (cli/session.c).
 */
#ifndef PCA_ANALYSES_BUDGET_H
#define PCA_ANALYSES_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "target/target.h"

struct pca_budget {
	uint64_t saved;       /* bytes of memory the core saved */
	uint64_t objects;     /* estimated */
	uint64_t references;  /* estimated */
	uint64_t census;      /* bytes the census would take */
	uint64_t graph;       /* bytes the reference graph and its analyses would add */
	uint64_t available;   /* bytes; UINT64_MAX when nothing known limits it */
	char limited_by[96];  /* what set `available` ("--max-memory", ...) */
};

/* max_memory: --max-memory in bytes, 0 when not given. */
void pca_budget_estimate(const struct pca_target *t, uint64_t max_memory, struct pca_budget *ret);


#endif

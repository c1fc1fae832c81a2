/* The memory estimate (see budget.h). */
#include "analyses/budget.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph/graph.h"
#include "target/cgroup.h"

/* The per-object costs. The graph's are graph/'s own measured peaks
 * (graph.h); the census peaks at 34 B/object beyond the core in `summary`
 * at 10M (docs/performance.md: while the index is built by address, the
 * threads' lists, their ids and the new columns live together; the index
 * itself is 20 B/object), rounded up; references per object are
 * 1.96 on bench heaps and more in real services (dicts, code), so 3. An
 * object per 64 bytes of saved memory is the densest heap measured (the
 * bench cores: 66 B/object at 200M); real cores hold libraries, stacks and
 * buffers too, so the estimate errs on the side of refusing: a graph that is
 * refused for want of memory is better than one that is killed, and
 * --max-memory overrides it. */
enum {
	bytes_per_object = 64,
	references_per_object = 3,
	census_per_object = 36,
};

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return UINT64_MAX;
	char line[128];
	unsigned long long kb;
	uint64_t ret = UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			ret = (uint64_t)kb * 1024;
			break;
		}
	fclose(f);
	return ret;
}

static void limit_to(struct pca_budget *b, uint64_t bytes, const char *why)
{
	if (bytes < b->available) {
		b->available = bytes;
		snprintf(b->limited_by, sizeof(b->limited_by), "%s", why);
	}
}

void pca_budget_estimate(const struct pca_target *t, uint64_t max_memory, struct pca_budget *ret)
{
	*ret = (struct pca_budget){.available = UINT64_MAX};
	for (size_t i = 0; i < pca_target_segment_count(t); i++) {
		uint64_t vaddr, saved;
		pca_target_segment(t, i, &vaddr, &saved);
		ret->saved += saved;
	}
	ret->objects = ret->saved / bytes_per_object;
	ret->references = ret->objects * references_per_object;
	ret->census = ret->objects * census_per_object;
	ret->graph = ret->objects * PCA_GRAPH_PEAK_BYTES_PER_NODE + ret->references * PCA_GRAPH_PEAK_BYTES_PER_EDGE;
	if (max_memory) {
		limit_to(ret, max_memory, "--max-memory");
		return; /* the user's word: a machine they know better than we do */
	}
	limit_to(ret, mem_available(), "MemAvailable in /proc/meminfo");
	char dir[PATH_MAX];
	struct pca_cgroup_memory cg;
	struct pca_error *err = pca_cgroup_of_process((int32_t)getpid(), dir, sizeof(dir));
	if (!err)
		err = pca_cgroup_memory_read(dir, &cg);
	if (!err && cg.limit != UINT64_MAX) {
		char why[sizeof(ret->limited_by)];
		snprintf(why, sizeof(why), "the memory limit of cgroup %.60s", cg.dir);
		limit_to(ret, cg.limit > cg.usage ? cg.limit - cg.usage : 0, why);
	}
	pca_error_destroy(err);
}

/* cgroup.h: the memory limit a live process runs under, for `watch`.
 *
 * A process's memory cgroup is found from /proc/PID/cgroup: the v1 memory
 * controller's line ("N:memory:/path" under /sys/fs/cgroup/memory) when the
 * v1 controller is mounted, else the v2 line ("0::/path" under the cgroup2
 * mount). The limit that applies is the smallest one on the way up to the
 * root (a child without a limit inside a limited container is limited by
 * the container), and the usage reported is that cgroup's, because it is
 * the one the kernel's OOM killer acts on. v2: memory.max/memory.current;
 * v1: memory.limit_in_bytes/memory.usage_in_bytes.
 * It does not change any cgroup.
 */
#ifndef PCA_TARGET_CGROUP_H
#define PCA_TARGET_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct pca_cgroup_memory {
	char dir[PATH_MAX];  /* the cgroup whose limit applies */
	uint64_t limit;      /* bytes; UINT64_MAX when nothing limits it */
	uint64_t usage;      /* bytes charged to `dir` now */
};

/* The memory cgroup directory of pid. */
struct pca_error *pca_cgroup_of_process(int32_t pid, char *ret, size_t size);
/* Resolve a user's --cgroup (a directory, or a path relative to a cgroup
 * mount such as "/system.slice/app.service"). */
struct pca_error *pca_cgroup_resolve(const char *path, char *ret, size_t size);
/* The limit that applies to cgroup `dir` and the usage it counts against. */
struct pca_error *pca_cgroup_memory_read(const char *dir, struct pca_cgroup_memory *ret);
/* The process with the largest resident memory in `dir` or below; 0 when
 * the cgroup holds no process. */
int32_t pca_cgroup_largest_process(const char *dir);
/* VmRSS of pid in bytes; false when it is gone. */
bool pca_process_rss(int32_t pid, uint64_t *ret);

#endif

/* Memory cgroups (v1 and v2) of a live process (see cgroup.h). */
#include "target/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char v1_root[] = "/sys/fs/cgroup/memory";
/* hybrid systems mount cgroup2 at .../unified */
static const char *const v2_roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
/* v1 reports "no limit" as a page-rounded LONG_MAX. */
static const uint64_t v1_unlimited = (uint64_t)1 << 62;
/* Directories visited below a --cgroup: a bound, not an expected size. */
static const size_t max_cgroup_dirs = 4096;

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

/* A number from dir/name; "max" is UINT64_MAX. */
static bool read_number(const char *dir, const char *name, uint64_t *ret)
{
	char path[PATH_MAX + 64], buf[64] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	if (strncmp(buf, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;
	*ret = v >= v1_unlimited ? UINT64_MAX : (uint64_t)v;
	return true;
}

static bool is_v1(const char *dir)
{
	return file_exists(dir, "memory.limit_in_bytes");
}

struct pca_error *pca_cgroup_of_process(int32_t pid, char *ret, size_t size)
{
	char path[64], line[PATH_MAX + 64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return pca_error_create(PCA_ERROR_OS, "cannot read %s: %s", path, strerror(errno));
	char v1[PATH_MAX] = "", v2[PATH_MAX] = "";
	bool have_v1 = false, have_v2 = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *controllers = c1 + 1, *cg = c2 + 1;
		if (strcmp(line, "0") == 0 && !*controllers) {
			snprintf(v2, sizeof(v2), "%s", cg);
			have_v2 = true;
		}
		/* "memory" as one of the comma-separated controllers */
		for (const char *p = controllers; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
			if (strncmp(p, "memory", 6) == 0 && (p[6] == ',' || p[6] == '\0')) {
				snprintf(v1, sizeof(v1), "%s", cg);
				have_v1 = true;
			}
	}
	fclose(f);
	if (have_v1 && is_dir(v1_root)) {
		snprintf(ret, size, "%s%s", v1_root, strcmp(v1, "/") == 0 ? "" : v1);
		if (is_dir(ret))
			return NULL;
	}
	for (size_t i = 0; have_v2 && i < sizeof(v2_roots) / sizeof(v2_roots[0]); i++) {
		snprintf(ret, size, "%s%s", v2_roots[i], strcmp(v2, "/") == 0 ? "" : v2);
		if (is_dir(ret) && (file_exists(ret, "memory.max") || file_exists(ret, "memory.current")))
			return NULL;
	}
	return pca_error_create(PCA_ERROR_OS,
				"process %d has no memory cgroup that this system exposes (no memory controller in /proc/%d/cgroup under /sys/fs/cgroup): use --rss",
				pid, pid);
}

struct pca_error *pca_cgroup_resolve(const char *path, char *ret, size_t size)
{
	if (is_dir(path) && (file_exists(path, "memory.max") || file_exists(path, "memory.current") ||
			     is_v1(path))) {
		snprintf(ret, size, "%s", path);
		return NULL;
	}
	const char *roots[] = {v1_root, v2_roots[0], v2_roots[1]};
	for (size_t i = 0; i < 3; i++) {
		snprintf(ret, size, "%s/%s", roots[i], path[0] == '/' ? path + 1 : path);
		if (is_dir(ret) && (file_exists(ret, "memory.max") || file_exists(ret, "memory.current") ||
				    is_v1(ret)))
			return NULL;
	}
	return pca_error_create(PCA_ERROR_USAGE,
				"--cgroup %s: no memory cgroup there (looked in it and under %s and %s)",
				path, v1_root, v2_roots[0]);
}

struct pca_error *pca_cgroup_memory_read(const char *dir, struct pca_cgroup_memory *ret)
{
	bool v1 = is_v1(dir);
	const char *limit_name = v1 ? "memory.limit_in_bytes" : "memory.max";
	const char *usage_name = v1 ? "memory.usage_in_bytes" : "memory.current";
	ret->limit = UINT64_MAX;
	snprintf(ret->dir, sizeof(ret->dir), "%s", dir);
	char walk[PATH_MAX];
	snprintf(walk, sizeof(walk), "%s", dir);
	/* Up to the mount root: the smallest limit applies. */
	for (int depth = 0; depth < 64; depth++) {
		uint64_t limit;
		if (!read_number(walk, limit_name, &limit))
			break; /* above the hierarchy's root */
		if (limit < ret->limit) {
			ret->limit = limit;
			snprintf(ret->dir, sizeof(ret->dir), "%s", walk);
		}
		char *slash = strrchr(walk, '/');
		if (!slash || slash == walk)
			break;
		*slash = '\0';
	}
	if (!read_number(ret->dir, usage_name, &ret->usage))
		return pca_error_create(PCA_ERROR_OS, "cannot read %s/%s: %s", ret->dir, usage_name,
					strerror(errno));
	return NULL;
}

bool pca_process_rss(int32_t pid, uint64_t *ret)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	unsigned long long kb;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
			*ret = (uint64_t)kb * 1024;
			found = true;
		}
	fclose(f);
	return found;
}

int32_t pca_cgroup_largest_process(const char *dir)
{
	/* Breadth-first over the cgroup and its children: an explicit queue. */
	char **queue = calloc(max_cgroup_dirs, sizeof(*queue));
	if (!queue)
		return 0;
	size_t head = 0, tail = 0;
	queue[tail++] = strdup(dir);
	int32_t best = 0;
	uint64_t best_rss = 0;
	while (head < tail) {
		char *d = queue[head++];
		if (!d)
			continue;
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/cgroup.procs", d);
		FILE *f = fopen(path, "re");
		if (f) {
			long pid;
			while (fscanf(f, "%ld", &pid) == 1) {
				uint64_t rss;
				if (pca_process_rss((int32_t)pid, &rss) && (!best || rss > best_rss)) {
					best = (int32_t)pid;
					best_rss = rss;
				}
			}
			fclose(f);
		}
		DIR *dd = opendir(d);
		struct dirent *e;
		while (dd && (e = readdir(dd))) {
			if (e->d_name[0] == '.' || e->d_type != DT_DIR || tail == max_cgroup_dirs)
				continue;
			char *sub = malloc(strlen(d) + strlen(e->d_name) + 2);
			if (sub)
				sprintf(sub, "%s/%s", d, e->d_name);
			queue[tail++] = sub;
		}
		if (dd)
			closedir(dd);
	}
	for (size_t i = 0; i < tail; i++)
		free(queue[i]);
	free(queue);
	return best;
}

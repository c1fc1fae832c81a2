/* The live reader: a running process read as a snapshot core (target.h,
 * pca_target_open_process). The snapshot is written by core_writer.c while
 * the process is held still (ptrace.c) and mapped by core.c like any core,
 * so nothing above target/ knows which kind it reads. A snapshot rather than
 * reads on demand: the process is stopped for the copy only (0.6 s per GB
 * here), not for the whole analysis (seconds to minutes), and every read
 * during the analysis sees the same instant. */
#include "target/target.h"

#include "target/core_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* MemAvailable of /proc/meminfo in bytes, UINT64_MAX when unknown. */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb;
	uint64_t avail = UINT64_MAX;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			avail = (uint64_t)kb * 1024;
	if (f)
		fclose(f);
	return avail;
}

/* Where the snapshot lives: memory (a memfd) when it takes less than half
 * of what is available, else an unlinked file in $TMPDIR (or /tmp), whose
 * pages the kernel can write back. */
static struct pca_error *snapshot_file(int32_t pid, int *ret)
{
	uint64_t estimate;
	struct pca_error *err = pca_core_estimate(pid, &estimate);
	if (err)
		return err;
	uint64_t avail = mem_available();
	if (avail == UINT64_MAX || estimate < avail / 2) {
		*ret = memfd_create("pycore-live", MFD_CLOEXEC);
		if (*ret >= 0)
			return NULL;
	}
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	*ret = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*ret < 0)
		return pca_error_create(PCA_ERROR_OS,
					"cannot make room for a snapshot of process %d (%" PRIu64
					" MiB): no memory file, and %s: %s; set TMPDIR to a roomy directory",
					pid, estimate >> 20, dir, strerror(errno));
	return NULL;
}

struct pca_error *pca_target_open_process(int32_t pid, bool no_stop, struct pca_target **ret)
{
	int fd;
	struct pca_error *err = snapshot_file(pid, &fd);
	if (err)
		return err;
	struct pca_core_write_options opts = {.no_stop = no_stop, .live_paths = true,
					      .map_output = true};
	struct pca_core_write_result res;
	err = pca_core_write(pid, fd, &opts, &res);
	if (!err) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		err = pca_target_open_core(path, ret);
	}
	close(fd);
	if (err)
		return err;
	struct pca_target_live live = {
		.pid = pid,
		.stopped = !no_stop,
		.already_stopped = no_stop && res.already_stopped,
		.paused_seconds = res.paused_seconds,
		.read_seconds = res.seconds,
		.unreadable_bytes = res.unreadable_bytes,
		.unreadable_omitted = res.unreadable_omitted,
	};
	err = pca_target_set_live(*ret, &live);
	if (err) {
		pca_target_destroy(*ret);
		*ret = NULL;
	}
	return err;
}

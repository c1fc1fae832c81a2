#include "fuzz.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int pca_fuzz_memfd(const void *data, size_t size, char *path, size_t path_size)
{
	int fd = memfd_create("pca-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	const uint8_t *p = data;
	while (size) {
		ssize_t n = write(fd, p, size);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}

/* The floor for bench/run.sh: one sequential pass over every byte of a file
 * through mmap, the way pycore-analyze reads a core (PROT_READ, MAP_PRIVATE,
 * no madvise).
 *
 *   mmap_scan FILE          sums every byte (as 64-bit words): all bytes read
 *   mmap_scan --page FILE   reads one byte per 4 KiB page: page faults only
 *
 * Prints the sum so the compiler cannot drop the loop.
 * Build: cc -O2 -o mmap_scan mmap_scan.c
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int page_only = argc == 3 && strcmp(argv[1], "--page") == 0;
	if (argc != 2 + page_only) {
		fprintf(stderr, "usage: mmap_scan [--page] FILE\n");
		return 64;
	}
	const char *path = argv[argc - 1];
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		return 2;
	}
	size_t size = (size_t)st.st_size;
	const unsigned char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	uint64_t sum = 0;
	if (page_only) {
		for (size_t off = 0; off < size; off += 4096)
			sum += p[off];
	} else {
		size_t words = size / 8;
		const uint64_t *w = (const uint64_t *)p;
		for (size_t i = 0; i < words; i++)
			sum += w[i];
		for (size_t off = words * 8; off < size; off++)
			sum += p[off];
	}
	printf("%zu bytes, sum %llu\n", size, (unsigned long long)sum);
	munmap((void *)p, size);
	close(fd);
	return 0;
}

/* (c) The whole census and graph on a small real core whose memory is
 * mutated. The core (PCA_FUZZ_CORE, default the committed heap.core.zst,
 * a Debian python3.11 core) is loaded once; an input is a list of 8-byte
 * records {u32 position, 4 bytes}, each overwriting 4 bytes of the core's
 * saved memory (PT_LOAD data; the position wraps around it). The session
 * then does what `report` does: symbols, layout, interpreter, heap census,
 * reference graph, cycles, caches. Headers and notes are left intact: the
 * core parser has its own harness (fuzz_core.c). */
#include "fuzz.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/session.h"
#include "target/decompress.h"

#ifndef PCA_FUZZ_DEFAULT_CORE
#define PCA_FUZZ_DEFAULT_CORE "corefiles/committed/heap.core.zst"
#endif

static uint8_t *image;
static size_t image_size;
static struct {
	uint64_t offset, size;
} loads[512];
static size_t nloads;
static uint64_t load_total;

static int load_image(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char head[8] = {0};
	if (pread(fd, head, sizeof(head), 0) < 0)
		return -1;
	enum pca_compression c = pca_compression_detect(head, sizeof(head));
	if (c != PCA_COMPRESSION_NONE) {
		int plain;
		bool truncated;
		struct pca_error *err = pca_decompress_to_tmpfile(fd, path, c, &plain, &truncated);
		close(fd);
		if (err) {
			pca_error_destroy(err);
			return -1;
		}
		fd = plain;
	}
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < (off_t)sizeof(Elf64_Ehdr) || !(image = malloc((size_t)end)) ||
	    pread(fd, image, (size_t)end, 0) != end) {
		close(fd);
		return -1;
	}
	close(fd);
	image_size = (size_t)end;
	Elf64_Ehdr eh;
	memcpy(&eh, image, sizeof(eh));
	for (size_t i = 0; i < eh.e_phnum && nloads < 512; i++) {
		Elf64_Phdr ph;
		uint64_t at = eh.e_phoff + i * sizeof(ph);
		if (at + sizeof(ph) > image_size)
			break;
		memcpy(&ph, image + at, sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_offset >= image_size || !ph.p_filesz)
			continue;
		uint64_t size = ph.p_filesz < image_size - ph.p_offset ? ph.p_filesz
								       : image_size - ph.p_offset;
		loads[nloads].offset = ph.p_offset;
		loads[nloads++].size = size;
		load_total += size;
	}
	return load_total ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("DEBUGINFOD_URLS"); /* no network from a harness */
	const char *path = getenv("PCA_FUZZ_CORE");
	if (!path || !*path)
		path = PCA_FUZZ_DEFAULT_CORE;
	if (load_image(path) != 0) {
		fprintf(stderr, "fuzz_census: cannot load the core %s (set PCA_FUZZ_CORE)\n", path);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = pca_fuzz_memfd(image, image_size, path, sizeof(path));
	if (fd < 0)
		return 0;
	for (size_t r = 0; r + 8 <= size; r += 8) {
		uint32_t pos;
		memcpy(&pos, data + r, 4);
		uint64_t at = pos % load_total;
		size_t k = 0;
		while (at >= loads[k].size) {
			at -= loads[k].size;
			k++;
		}
		uint64_t off = loads[k].offset + at;
		size_t n = image_size - off < 4 ? image_size - off : 4;
		if (pwrite(fd, data + r + 4, n, (off_t)off) < 0)
			break;
	}
	struct pca_options opts = {.json = true, .no_progress = true, .limit = -1, .core = path};
	struct pca_session s;
	pca_session_init(&s, &opts);
	struct pca_error *err = pca_session_open(
		&s, PCA_NEED_TARGET | PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH);
	if (getenv("PCA_FUZZ_VERBOSE")) /* what the run reached, for a person */
		fprintf(stderr, "census: %s, %u objects, graph %s, %zu warnings\n",
			err ? err->message : "ok", s.heap.count, s.have_graph ? "built" : "not built",
			s.warnings.count);
	pca_error_destroy(err);
	pca_session_close(&s);
	close(fd);
	return 0;
}

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
#include <stdbool.h>
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

/* The session is opened once, on the intact core: target, symbols (the
 * libdwfl session and the DWARF, about 1.5 s under ASan, which is why this
 * harness kept a campaign to 0.6 executions a second when it reopened them
 * for each input). An input then overwrites bytes of the memfd, which the
 * target's read-only MAP_PRIVATE mapping shows as they are now (no page of
 * it is ever copied), reruns everything that reads memory (layout: the
 * version; interpreter; census; graph; cycles; caches) and puts the
 * original bytes back. What is not rerun reads only headers, notes and
 * files on disk (symbols/: modules from NT_FILE and the ELF files) and the
 * dynamic linker's map in memory; fuzz_core.c covers the notes. So that
 * the map is fuzzed too, an input whose length is 1 more than a multiple
 * of 8 (one byte after its records) opens a whole new session on the
 * mutated core, symbols included, like `report` does: the fuzzer keeps
 * such inputs when they reach new code in symbols/, at the old cost. */
static int core_fd = -1;
static char core_path[64];
static struct pca_options opts;
static struct pca_session session;
static const enum pca_need needs =
	PCA_NEED_TARGET | PCA_NEED_INTERP | PCA_NEED_HEAP | PCA_NEED_GRAPH;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("DEBUGINFOD_URLS"); /* no network from a harness */
	const char *path = getenv("PCA_FUZZ_CORE");
	if (!path || !*path)
		path = PCA_FUZZ_DEFAULT_CORE;
	if (load_image(path) != 0 ||
	    (core_fd = pca_fuzz_memfd(image, image_size, core_path, sizeof(core_path))) < 0) {
		fprintf(stderr, "fuzz_census: cannot load the core %s (set PCA_FUZZ_CORE)\n", path);
		exit(1);
	}
	opts = (struct pca_options){.json = true, .no_progress = true, .limit = -1, .core = core_path};
	pca_session_init(&session, &opts);
	struct pca_error *err = pca_session_open(&session, needs);
	if (err) {
		fprintf(stderr, "fuzz_census: the intact core fails: %s\n", err->message);
		exit(1);
	}
	pca_session_forget(&session);
	return 0;
}

/* The file offset of the position'th byte of saved memory. */
static uint64_t saved_offset(uint32_t position)
{
	uint64_t at = position % load_total;
	size_t k = 0;
	while (at >= loads[k].size) {
		at -= loads[k].size;
		k++;
	}
	return loads[k].offset + at;
}

/* Writes each record's 4 bytes (with=data) or the original ones (with=NULL). */
static void overwrite(const uint8_t *data, size_t size, bool original)
{
	for (size_t r = 0; r + 8 <= size; r += 8) {
		uint32_t pos;
		memcpy(&pos, data + r, 4);
		uint64_t off = saved_offset(pos);
		size_t n = image_size - off < 4 ? image_size - off : 4;
		if (pwrite(core_fd, original ? image + off : data + r + 4, n, (off_t)off) < 0)
			abort(); /* a memfd write cannot fail but for ENOMEM */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	overwrite(data, size, false);
	bool whole = size % 8 == 1;
	struct pca_session fresh, *s = whole ? &fresh : &session;
	if (whole)
		pca_session_init(&fresh, &opts);
	struct pca_error *err = whole ? pca_session_open(&fresh, needs)
				      : pca_session_analyse(&session, needs);
	if (getenv("PCA_FUZZ_VERBOSE")) /* what the run reached, for a person */
		fprintf(stderr, "census%s: %s, %u objects, graph %s, %zu warnings\n",
			whole ? " (whole session)" : "", err ? err->message : "ok", s->heap.count,
			s->have_graph ? "built" : "not built", s->warnings.count);
	pca_error_destroy(err);
	if (whole)
		pca_session_close(&fresh);
	else
		pca_session_forget(&session);
	overwrite(data, size, true);
	return 0;
}

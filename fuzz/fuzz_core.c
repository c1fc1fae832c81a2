/* (a) The ELF core and note parser: any bytes as a core file. Reads what
 * the notes promise (threads, mappings, execfn) and probes each segment's
 * edges, so the reader's bounds are exercised as well as the parser. */
#include "fuzz.h"

#include <unistd.h>

#include "target/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = pca_fuzz_memfd(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	struct pca_target *t = NULL;
	struct pca_error *err = pca_target_open_core(path, &t);
	pca_error_destroy(err);
	if (t) {
		volatile uint64_t sink = 0;
		for (size_t i = 0; i < pca_target_thread_count(t); i++)
			sink += pca_target_threads(t)[i].pc;
		for (size_t i = 0; i < pca_target_mapping_count(t); i++) {
			const struct pca_target_mapping *m = &pca_target_mappings(t)[i];
			uint64_t v;
			sink += m->start + (pca_target_try_read_u64(t, m->start, &v) ? v : 0);
		}
		for (size_t i = 0; i < pca_target_segment_count(t) && i < 64; i++) {
			uint64_t vaddr, saved, v;
			pca_target_segment(t, i, &vaddr, &saved);
			if (pca_target_try_read_u64(t, vaddr + saved - 8, &v))
				sink += v;
			const uint8_t *view = pca_target_view(t, vaddr, saved < 256 ? saved : 256);
			if (view && saved)
				sink += view[0];
			char s[64];
			if (pca_target_read_cstr(t, vaddr, s, sizeof(s)))
				sink += (uint8_t)s[0];
		}
		const char *e = pca_target_execfn(t);
		sink += e ? (uint8_t)e[0] : 0;
		(void)sink;
		pca_target_destroy(t);
	}
	close(fd);
	return 0;
}

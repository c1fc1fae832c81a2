/* target.h: bytes at addresses of the process being analysed.
 *
 * A target is an ELF core file (mapped, never copied; a compressed one is
 * decompressed once into an unlinked temporary file). It answers reads of
 * the dead process's memory and the facts the kernel or gcore recorded in
 * notes: threads and their registers (NT_PRSTATUS), the signal (NT_SIGINFO),
 * the mapped files (NT_FILE), the auxiliary vector (NT_AUXV).
 *
 * Invariants: memory the core did not save is a fault carrying the address,
 * never zeros (bytes between p_filesz and p_memsz included). The one exception
 * is a file-backed mapping whose file the symbols layer has verified (same
 * build-id) and attached: its unsaved pages are read from that file.
 * This module knows nothing about ELF symbols, DWARF or Python.
 */
#ifndef PCA_TARGET_TARGET_H
#define PCA_TARGET_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct Elf Elf;

struct pca_target_thread {
	int32_t tid;         /* LWP */
	int32_t signal;      /* pr_cursig */
	uint64_t fs_base;    /* thread pointer: equals pthread_self() with glibc on x86-64 */
	uint64_t pc, sp;
};

struct pca_target_mapping {
	uint64_t start, end, file_offset;
	const char *path;
};

struct pca_target;

struct pca_error *pca_target_open_core(const char *path, struct pca_target **ret);

/* A running process, read-only: a snapshot core of it taken while it is
 * held still (process.c; no_stop: while it runs, possibly torn). Errors say
 * why an attach was refused and what to do. */
struct pca_error *pca_target_open_process(int32_t pid, bool no_stop, struct pca_target **ret);
/* The facts of a live read. */
struct pca_target_live {
	int32_t pid;
	bool stopped;            /* false: read while it ran (--no-stop), may be torn */
	bool already_stopped;    /* --no-stop, but every thread was stopped by another
				  * (gdb) throughout the read: consistent, not torn */
	double paused_seconds;   /* how long the process was stopped */
	double read_seconds;     /* the whole copy */
	uint64_t unreadable_bytes;
	bool unreadable_omitted; /* left out of the snapshot (reads fail), not zeros */
	/* "/proc/PID/exe" when the executable it runs was deleted or replaced
	 * on disk (an upgrade): that link still opens the file; else NULL. */
	const char *deleted_executable;
};
/* NULL for a core file. */
const struct pca_target_live *pca_target_live(const struct pca_target *t);
/* For the live reader only: mark t as a snapshot of a live process. */
struct pca_error *pca_target_set_live(struct pca_target *t, const struct pca_target_live *live);
void pca_target_destroy(struct pca_target *t);

/* Copy len bytes at addr; a fault error names the first missing address. */
struct pca_error *pca_target_read(struct pca_target *t, uint64_t addr, void *buf, size_t len);
/* Same, for probing where failure is expected: false, no error object. */
bool pca_target_try_read(struct pca_target *t, uint64_t addr, void *buf, size_t len);
bool pca_target_try_read_u64(struct pca_target *t, uint64_t addr, uint64_t *ret);
/* Pointer into the mapped core when [addr, addr+len) is saved contiguously, else NULL.
 * The hot path for walking many objects: no copy. Inline: a view inside
 * the segment of one of the last two is a comparison or two; any other goes
 * to pca_target_view_slow (which moves the windows). */
const void *pca_target_view_slow(struct pca_target *t, uint64_t addr, size_t len);
/* The saved bytes of the segments this thread's last two views fell in,
 * of `target` (two: a census reads an object while it prefetches the one
 * it reads next, often in another segment). One pair per thread: a census
 * reads the target from several threads. Empty (size 0) until the first
 * view and whenever the segments change (a file that shrank, see core.c). */
struct pca_target_window {
	uint64_t vaddr;
	uint64_t size;
	const uint8_t *data;
	const struct pca_target *target;
};
extern _Thread_local struct pca_target_window pca_target_windows[2];
static inline __attribute__((always_inline)) const void *pca_target_view(struct pca_target *t, uint64_t addr,
									 size_t len)
{
	for (int i = 0; i < 2; i++) {
		const volatile struct pca_target_window *w = &pca_target_windows[i];
		uint64_t off = addr - w->vaddr, size = w->size;
		if (off < size && len <= size - off && w->target == t)
			return w->data + off;
	}
	return pca_target_view_slow(t, addr, len);
}
/* Read a NUL-terminated string of at most max-1 bytes; false if unreadable or unterminated. */
bool pca_target_read_cstr(struct pca_target *t, uint64_t addr, char *buf, size_t max);

/* Let reads of unsaved pages of the file mapped at `addr` (every mapping of
 * that file) come from `disk_path`, whose identity the caller has verified.
 * No-op when no NT_FILE mapping covers addr. */
struct pca_error *pca_target_attach_file(struct pca_target *t, uint64_t addr,
					 const char *disk_path);

const char *pca_target_path(const struct pca_target *t);
Elf *pca_target_elf(const struct pca_target *t);
int32_t pca_target_pid(const struct pca_target *t);
int32_t pca_target_signal(const struct pca_target *t);
/* AT_EXECFN as read from the core's memory, or the NT_PRPSINFO name; may be NULL. */
const char *pca_target_execfn(const struct pca_target *t);
/* AT_ENTRY: an address inside the main executable, 0 if unknown. */
uint64_t pca_target_entry(const struct pca_target *t);
size_t pca_target_thread_count(const struct pca_target *t);
const struct pca_target_thread *pca_target_threads(const struct pca_target *t);
size_t pca_target_mapping_count(const struct pca_target *t);
const struct pca_target_mapping *pca_target_mappings(const struct pca_target *t);
/* Saved memory as segments sorted by address (for per-address bitmaps):
 * segment i covers [vaddr, vaddr + saved) with bytes in the core. */
size_t pca_target_segment_count(const struct pca_target *t);
void pca_target_segment(const struct pca_target *t, size_t i, uint64_t *vaddr, uint64_t *saved);
/* Index of the segment whose saved bytes hold addr, or -1. */
int64_t pca_target_segment_index(const struct pca_target *t, uint64_t addr);

/* "zstd", "xz", "gzip" or "lz4" when the core file was compressed, else NULL. */
const char *pca_target_compression(const struct pca_target *t);
/* The compressed file ended before its stream did (what it held is read). */
bool pca_target_compressed_truncated(const struct pca_target *t);

/* The core (or an attached file) shrank while it was read: what lay beyond
 * its new end became unsaved memory (faults), so results are partial. */
bool pca_target_shrunk(const struct pca_target *t);

/* Bytes of PT_LOAD data the program headers promise but the file does not hold. */
uint64_t pca_target_missing_bytes(const struct pca_target *t);

#endif

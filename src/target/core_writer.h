/* core_writer.h: write an ELF core of a live process ourselves (no gdb).
 *
 * The layout is the kernel's: PT_NOTE first (NT_PRSTATUS and NT_FPREGSET per
 * thread, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE), then one PT_LOAD per
 * mapping in address order. Which bytes are saved follows the kernel's
 * default coredump_filter: anonymous and writable memory in full, read-only
 * data of loaded ELF files in full (relocated pages differ from the disk),
 * executable code only as program headers (read from the file by debuggers),
 * read-only mappings of other files and unreadable mappings ([vvar], guard
 * pages) not at all. Memory is copied with process_vm_readv in large chunks
 * (/proc/PID/mem as fallback); a page neither can read is written as zeros
 * and counted.
 * The process is stopped (ptrace.h) only while its memory is copied; nothing
 * is written to it. The output is written sequentially, so it may be a pipe,
 * a memfd or a zstd stream.
 */
#ifndef PCA_TARGET_CORE_WRITER_H
#define PCA_TARGET_CORE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct pca_target;

struct pca_core_write_options {
	bool no_stop;   /* read while it runs: the copy may be torn */
	bool compress;  /* zstd stream */
	/* Name deleted files (" (deleted)") by /proc/PID/map_files/... so they can
	 * be opened while the process lives (the live reader); a core kept for
	 * later records the original name, as the kernel does. */
	bool live_paths;
	/* fd is a file (a memfd) that may be sized and mapped: memory is read
	 * straight into it (one copy, no write calls). Allocate its pages
	 * before the call (fallocate to pca_core_estimate) so the pause is the
	 * copy alone. */
	bool map_output;
};

struct pca_core_write_result {
	uint64_t bytes;            /* bytes written to the output */
	uint64_t memory_bytes;     /* bytes of memory saved */
	uint64_t unreadable_bytes; /* neither reader could read them */
	bool unreadable_omitted;   /* they are left out of the core (reads there
				    * fail); else saved as zeros (a stream) */
	size_t threads;
	double paused_seconds;     /* 0 with no_stop */
	bool already_stopped;      /* no_stop, but every thread was stopped throughout
				    * (by a debugger): a consistent copy */
	double seconds;            /* the whole write */
};

/* Bytes a core of pid will take uncompressed (for the free-space check). */
struct pca_error *pca_core_estimate(int32_t pid, uint64_t *ret);

/* Write a core of pid to fd (from its current position). */
struct pca_error *pca_core_write(int32_t pid, int fd, const struct pca_core_write_options *opts,
				 struct pca_core_write_result *ret);

/* Write a core of pid to path: refused before anything is written when the
 * file system lacks room (compressed: a quarter of the memory), written
 * under a temporary name (mode 0600) next to path and renamed into place on
 * success; the temporary file is removed on every failure, and when the
 * tool gets SIGINT, SIGTERM or SIGHUP. */
struct pca_error *pca_core_capture(int32_t pid, const char *path,
				   const struct pca_core_write_options *opts,
				   struct pca_core_write_result *ret);

#endif

/* decompress.h: compressed cores (systemd-coredump's core.*.zst, xz, gzip,
 * lz4 frames), recognised by their first bytes, not their name, and
 * decompressed into an unlinked temporary file that the core reader then
 * maps like any core. It knows nothing about ELF. */
#ifndef PCA_TARGET_DECOMPRESS_H
#define PCA_TARGET_DECOMPRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

enum pca_compression {
	PCA_COMPRESSION_NONE,
	PCA_COMPRESSION_ZSTD,
	PCA_COMPRESSION_XZ,
	PCA_COMPRESSION_GZIP,
	PCA_COMPRESSION_LZ4,
};

/* From the file's first bytes. */
enum pca_compression pca_compression_detect(const unsigned char *head, size_t len);
const char *pca_compression_name(enum pca_compression c);

/* Decompress the whole of fd (from offset 0) into a new unlinked file in
 * $TMPDIR (or /tmp); *ret is its descriptor. A stream that ends early (a
 * cut file) gives what it held and *ret_truncated; errors (corrupt data, a
 * full disk) name the path and say what to do. */
struct pca_error *pca_decompress_to_tmpfile(int fd, const char *path, enum pca_compression c,
					    int *ret, bool *ret_truncated);

/* Refuse to write more than `bytes` of decompressed data (default: no limit
 * but the temporary file system's room). For harnesses and tests: a
 * decompression bomb then ends with an error instead of filling $TMPDIR. */
void pca_decompress_set_limit(uint64_t bytes);

#endif

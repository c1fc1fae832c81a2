/* (d) The decompressors (zstd, xz, gzip, lz4 as systemd-coredump writes
 * them): the input is the compressed file. The output is capped by
 * pca_decompress_to_tmpfile's own bound, so a bomb ends with an error. */
#include "fuzz.h"

#include <stdbool.h>
#include <unistd.h>

#include "target/decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum pca_compression c = pca_compression_detect(data, size);
	if (c == PCA_COMPRESSION_NONE)
		return 0;
	char path[64];
	int fd = pca_fuzz_memfd(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	int plain = -1;
	bool truncated = false;
	struct pca_error *err = pca_decompress_to_tmpfile(fd, path, c, &plain, &truncated);
	pca_error_destroy(err);
	if (plain >= 0)
		close(plain);
	close(fd);
	return 0;
}

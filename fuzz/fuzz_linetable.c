/* (b) The line-table decoders (3.6-3.9 lnotab, 3.10 PEP 626, 3.11+
 * locations): byte 0 picks the format, bytes 1-4 co_firstlineno, 5-8 the
 * offset asked, the rest is the table; then every offset of the table. */
#include "fuzz.h"

#include <string.h>

#include "layout/linetable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	enum pca_linetable_format format = (enum pca_linetable_format)(data[0] % 4);
	int32_t first, offset;
	memcpy(&first, data + 1, 4);
	memcpy(&offset, data + 5, 4);
	const uint8_t *table = size > 9 ? data + 9 : NULL;
	size_t len = size - 9;
	volatile unsigned sink = (unsigned)pca_linetable_addr2line(format, table, len, first, offset);
	for (int off = -2; off < (int)(2 * len + 4) && off < 4096; off += 2)
		sink += (unsigned)pca_linetable_addr2line(format, table, len, first, off);
	(void)sink;
	return 0;
}

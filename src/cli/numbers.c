/* Numbers and sizes in option values (see cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

bool pca_cli_integer(const char *text, long min, long max, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

bool pca_cli_number(const char *text, double above, double max, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	/* !(v > above) also refuses NaN */
	if (errno || end == text || *end || !(v > above) || v > max)
		return false;
	*ret = v;
	return true;
}

bool pca_cli_size(const char *text, uint64_t *ret)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || !(v > 0))
		return false;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024.0 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')
		end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	if (*end || v > 1e18)
		return false;
	*ret = (uint64_t)v;
	return true;
}

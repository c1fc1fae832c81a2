/* scalars.c: int (and bool), str, bytearray, and the bytes preview
 * (Objects/longobject.c, unicodeobject.c, bytearrayobject.c,
 * bytesobject.c). The int header is decoded here only (int_header). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/kinds.h"

enum { PREVIEW_CHARS = 60 };

/* ---- int ---- */

/* The digit count and sign of an int: 3.12+ keep the count in lv_tag >> 3
 * (_PyLong_NON_SIZE_BITS) and the sign in its two low bits (2 = negative,
 * _PyLong_SIGN_MASK); 3.6-3.11 in ob_size, negative for negative ints. */
static bool int_header(struct pca_objects *o, uint64_t obj, uint64_t *ndigits, bool *negative)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t v;
	if (pca_layout_has(l, PCA_F_LONG_TAG)) {
		if (!pca_rd(o, obj, PCA_F_LONG_TAG, &v))
			return false;
		*ndigits = v >> 3;
		*negative = (v & 3) == 2;
		return true;
	}
	if (!pca_rd(o, obj, PCA_F_OB_SIZE, &v))
		return false;
	*negative = (int64_t)v < 0;
	*ndigits = *negative ? (uint64_t)(-(int64_t)v) : v;
	return true;
}

bool pca_objects_int(struct pca_objects *o, uint64_t obj, struct pca_int_value *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!int_header(o, obj, &ret->ndigits, &ret->negative))
		return false;
	if (ret->ndigits <= 1 &&
	    pca_target_try_read(o->interp->target,
				obj + pca_layout_offset(o->interp->layout, PCA_F_LONG_DIGITS), &ret->digit, 4)) {
		ret->small = true;
		if (!ret->ndigits)
			ret->digit = 0;
	}
	return true;
}

/* Objects/longobject.c int___sizeof___impl: the digits from the fixed
 * offset, whatever the subclass's basicsize. */
static bool int_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		     uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t ndigits;
	bool negative;
	(void)t;
	if (!int_header(o, obj, &ndigits, &negative))
		return false;
	if (ndigits == 0 && l->long_min_one_digit)
		ndigits = 1;
	*res = pca_layout_offset(l, PCA_F_LONG_DIGITS) + ndigits * 4;
	return true;
}

static void int_preview(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			char *buf, size_t size)
{
	struct pca_int_value v;
	(void)t;
	if (!pca_objects_int(o, obj, &v))
		return;
	if (v.small)
		snprintf(buf, size, "%s%u", v.negative ? "-" : "", v.digit);
	else
		snprintf(buf, size, "an int of %lld digits (30 bits each)", (long long)v.ndigits);
}

const struct pca_kind_ops pca_int_ops = {
	.kind = PCA_KIND_INT,
	.size = int_size,
	.preview = int_preview,
};

/* ---- str ---- */

/* Objects/unicodeobject.c unicode_sizeof_impl: compact ASCII, compact, or
 * legacy (subclass instances) with a separate data block; plus a separate
 * UTF-8 copy, and 3.6-3.11 a separate wchar_t copy. */
static bool str_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
		     uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t length, kind, compact, ascii, data = 0;
	(void)t;
	if (!pca_rd(o, obj, PCA_F_UNICODE_LENGTH, &length) || !pca_rd(o, obj, PCA_F_UNICODE_KIND, &kind) ||
	    !pca_rd(o, obj, PCA_F_UNICODE_COMPACT, &compact) || !pca_rd(o, obj, PCA_F_UNICODE_ASCII, &ascii))
		return false;
	uint64_t size;
	if (compact && ascii) {
		*res = l->sizes[PCA_S_ASCII] + length + 1;
		data = obj + l->sizes[PCA_S_ASCII];
	} else if (compact) {
		size = l->sizes[PCA_S_COMPACT_UNICODE] + (length + 1) * kind;
		data = obj + l->sizes[PCA_S_COMPACT_UNICODE];
		*res = size;
	} else {
		*res = l->sizes[PCA_S_UNICODE];
		if (!pca_rd(o, obj, PCA_F_UNICODE_DATA, &data))
			return false;
		if (data)
			*res += (length + 1) * kind;
	}
	if (!(compact && ascii)) {
		uint64_t utf8, utf8_length;
		if (pca_rd(o, obj, PCA_F_UNICODE_UTF8, &utf8) && utf8 && utf8 != data &&
		    pca_rd(o, obj, PCA_F_UNICODE_UTF8_LENGTH, &utf8_length))
			*res += utf8_length + 1;
	}
	uint64_t wstr;
	if (pca_rd(o, obj, PCA_F_UNICODE_WSTR, &wstr) && wstr && wstr != data) {
		/* compact ASCII strings keep no wstr_length: it equals length */
		uint64_t wlen = length;
		if (!(compact && ascii) && !pca_rd(o, obj, PCA_F_UNICODE_WSTR_LENGTH, &wlen))
			return false;
		*res += (wlen + 1) * 4;
	}
	return true;
}

static void str_preview(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			char *buf, size_t size)
{
	char *s = NULL;
	uint64_t len = 0;
	(void)t;
	struct pca_error *err = pca_interp_read_str(o->interp, obj, PREVIEW_CHARS, &s);
	pca_error_destroy(err);
	pca_rd(o, obj, PCA_F_UNICODE_LENGTH, &len);
	if (s)
		snprintf(buf, size, "'%s'%s (%llu characters)", s, len > PREVIEW_CHARS ? "..." : "",
			 (unsigned long long)len);
	free(s);
}

const struct pca_kind_ops pca_str_ops = {
	.kind = PCA_KIND_STR,
	.size = str_size,
	.preview = str_preview,
};

/* ---- bytearray ---- */

/* bytearray_sizeof_impl: the allocated buffer */
static bool bytearray_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			   uint64_t *res)
{
	uint64_t v;
	if (!pca_rd(o, obj, PCA_F_BYTEARRAY_ALLOC, &v))
		return false;
	*res = t->basicsize + v;
	return true;
}

const struct pca_kind_ops pca_bytearray_ops = {
	.kind = PCA_KIND_BYTEARRAY,
	.size = bytearray_size,
};

/* ---- bytes, and the default preview ---- */

/* bytes has no kind of its own (its size is the default formula): exactly
 * `bytes` is shown by value, anything else as "<name object>". */
void pca_objects_preview_default(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
				 char *buf, size_t size)
{
	if (strcmp(t->name, "bytes") == 0) {
		uint8_t *bytes = NULL;
		size_t len = 0;
		uint64_t total = 0;
		pca_rd(o, obj, PCA_F_OB_SIZE, &total);
		struct pca_error *err = pca_interp_read_bytes(o->interp, obj,
							      total < PREVIEW_CHARS ? total : 0, &bytes, &len);
		pca_error_destroy(err);
		if (bytes) {
			size_t pos = (size_t)snprintf(buf, size, "b'");
			for (size_t i = 0; i < len && pos + 5 < size; i++)
				pos += (size_t)snprintf(buf + pos, size - pos,
							bytes[i] >= 32 && bytes[i] < 127 && bytes[i] != '\'' && bytes[i] != '\\' ? "%c" : "\\x%02x",
							bytes[i]);
			snprintf(buf + pos, size - pos, "'");
			free(bytes);
		} else {
			snprintf(buf, size, "%llu bytes", (unsigned long long)total);
		}
		return;
	}
	snprintf(buf, size, "<%s object>", t->name);
}

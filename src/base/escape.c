#include "base/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Overlong forms, surrogates and values past U+10FFFF are invalid (RFC
 * 3629), as Python's decoder says. */
size_t pca_utf8_sequence(const char *s, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		unsigned char d = p[i]; /* the NUL terminator fails this test: no overrun */
		if (d < (i == 1 ? lo : 0x80) || d > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = *cp << 6 | (d & 0x3f);
	}
	return n;
}

/* Code points Python's str.isprintable() rejects and a terminal would act
 * on or hide: C1 controls, zero-width and bidirectional format characters,
 * line and paragraph separators, the byte-order mark. */
static bool invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	       cp == 0xfeff;
}

struct sink {
	char *buf;
	size_t size, len;
};

static void put(struct sink *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

/* Calls put for each piece; returns whether anything was escaped. */
static bool escape_into(struct sink *o, const char *s)
{
	bool changed = false;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		size_t n = pca_utf8_sequence((const char *)p, &cp);
		char tmp[12];
		const char *piece = tmp;
		size_t len;
		if (n == 0) { /* an invalid byte: as Python's bytes repr */
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", p[0]);
			n = 1;
		} else if (cp == '\n') {
			piece = "\\n", len = 2;
		} else if (cp == '\r') {
			piece = "\\r", len = 2;
		} else if (cp == '\t') {
			piece = "\\t", len = 2;
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0xff && invisible(cp))) {
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)cp);
		} else if (invisible(cp)) {
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)cp);
		} else {
			put(o, (const char *)p, n);
			p += n;
			continue;
		}
		changed = true;
		put(o, piece, len);
		p += n;
	}
	return changed;
}

size_t pca_escape(char *buf, size_t size, const char *s)
{
	struct sink o = {buf, size, 0};
	escape_into(&o, s);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

bool pca_escape_needed(const char *s)
{
	struct sink o = {NULL, 0, 0};
	return escape_into(&o, s);
}

static struct {
	char *buf;
	size_t size;
} slots[PCA_TEXT_SLOTS];
static unsigned next_slot;

const char *pca_text(const char *s)
{
	if (!s || !pca_escape_needed(s))
		return s;
	size_t need = pca_escape(NULL, 0, s) + 1;
	unsigned i = next_slot++ % PCA_TEXT_SLOTS;
	if (slots[i].size < need) {
		char *grown = realloc(slots[i].buf, need);
		if (!grown)
			return "?";
		slots[i].buf = grown;
		slots[i].size = need;
	}
	pca_escape(slots[i].buf, slots[i].size, s);
	return slots[i].buf;
}

void pca_text_release(void)
{
	for (size_t i = 0; i < PCA_TEXT_SLOTS; i++) {
		free(slots[i].buf);
		slots[i].buf = NULL;
		slots[i].size = 0;
	}
}

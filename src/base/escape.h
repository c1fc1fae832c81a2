/* escape.h: strings from the core made safe to print on a terminal.
 *
 * Every string the report shows that came from the core (type names, owner
 * paths, previews, dict keys, file and function names) goes through
 * pca_text() in text output. Control characters, invalid UTF-8 and the
 * invisible format characters that reorder or hide text are shown the way
 * Python's repr() shows them (\n, \t, \x1b, \u202e); everything else,
 * printable UTF-8 included, is kept as is. So a hostile core cannot retitle
 * or clear the user's terminal, nor break a table row with a newline.
 *
 * Deliberately not escaped: the backslash (previews are already repr()-like
 * and quote it themselves; the exact bytes are in --json) and quotes (the
 * renderer chooses the delimiters). JSON output has its own escaping
 * (report/json.c); this is for text.
 */
#ifndef PCA_BASE_ESCAPE_H
#define PCA_BASE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence that starts s, with its code
 * point in *cp; 0 when s starts with an invalid or truncated sequence (a NUL
 * ends a sequence: it never reads past the terminator). */
size_t pca_utf8_sequence(const char *s, uint32_t *cp);
/* Write s escaped into buf (at most size bytes, always NUL-terminated when
 * size > 0); the length the whole escaped string needs, like snprintf. */
size_t pca_escape(char *buf, size_t size, const char *s);
/* Whether s holds anything pca_escape() would change. */
bool pca_escape_needed(const char *s);
/* For a printf argument: s itself when nothing needs escaping (NULL stays
 * NULL), else its escaped copy in one of a few rotating buffers, valid
 * until PCA_TEXT_SLOTS more calls (so one printf can take that many).
 * Not thread-safe; "?" when memory runs out. */
enum { PCA_TEXT_SLOTS = 8 };
const char *pca_text(const char *s);
/* Free the rotating buffers (tests, leak checkers). */
void pca_text_release(void);

#endif

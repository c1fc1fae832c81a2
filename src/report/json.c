#include "report/json.h"

#include "base/escape.h"

#include <assert.h>
#include <inttypes.h>

void pca_json_init(struct pca_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->need_comma[0] = false;
	j->after_key = false;
}

static void before_value(struct pca_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
}

static void open(struct pca_json *j, char c)
{
	before_value(j);
	fputc(c, j->out);
	assert(j->depth + 1 < PCA_JSON_MAX_DEPTH);
	j->need_comma[++j->depth] = false;
}

static void close_(struct pca_json *j, char c)
{
	assert(j->depth > 0);
	j->depth--;
	fputc(c, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

void pca_json_object_begin(struct pca_json *j) { open(j, '{'); }
void pca_json_object_end(struct pca_json *j) { close_(j, '}'); }
void pca_json_array_begin(struct pca_json *j) { open(j, '['); }
void pca_json_array_end(struct pca_json *j) { close_(j, ']'); }

/* RFC 8259: quotes, backslashes and controls escaped; the output is valid
 * UTF-8 whatever the core held: a byte that is not part of a valid sequence
 * is written as the code point of the same value (\u00XX), so every byte
 * stays visible and the document always parses. */
static void write_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		uint32_t cp;
		size_t n = *p < 0x80 ? 1 : pca_utf8_sequence((const char *)p, &cp);
		if (n == 0) {
			fprintf(out, "\\u%04x", *p);
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, out);
			p += n - 1;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void pca_json_key(struct pca_json *j, const char *key)
{
	before_value(j);
	write_string(j->out, key);
	fputc(':', j->out);
	j->after_key = true;
}

void pca_json_string(struct pca_json *j, const char *s)
{
	if (!s) {
		pca_json_null(j);
		return;
	}
	before_value(j);
	write_string(j->out, s);
}

void pca_json_int(struct pca_json *j, int64_t v)
{
	before_value(j);
	fprintf(j->out, "%" PRId64, v);
}

void pca_json_uint(struct pca_json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->out, "%" PRIu64, v);
}

void pca_json_double(struct pca_json *j, double v)
{
	before_value(j);
	fprintf(j->out, "%.3f", v);
}

void pca_json_bool(struct pca_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->out);
}

void pca_json_null(struct pca_json *j)
{
	before_value(j);
	fputs("null", j->out);
}

void pca_json_address(struct pca_json *j, uint64_t addr)
{
	before_value(j);
	fprintf(j->out, "\"0x%" PRIx64 "\"", addr);
}

void pca_json_member_string(struct pca_json *j, const char *key, const char *s)
{
	pca_json_key(j, key);
	pca_json_string(j, s);
}

void pca_json_member_uint(struct pca_json *j, const char *key, uint64_t v)
{
	pca_json_key(j, key);
	pca_json_uint(j, v);
}

void pca_json_member_bool(struct pca_json *j, const char *key, bool v)
{
	pca_json_key(j, key);
	pca_json_bool(j, v);
}

void pca_json_member_address(struct pca_json *j, const char *key, uint64_t addr)
{
	pca_json_key(j, key);
	pca_json_address(j, addr);
}

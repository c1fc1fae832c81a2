/* json.h: a streaming JSON writer (objects, arrays, escaped strings).
 * It tracks commas with a small fixed-depth stack; nesting deeper than
 * PCA_JSON_MAX_DEPTH is a programming error caught by an assertion. It does
 * not build a tree: output goes straight to the FILE. */
#ifndef PCA_REPORT_JSON_H
#define PCA_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { PCA_JSON_MAX_DEPTH = 32 };

struct pca_json {
	FILE *out;
	int depth;
	bool need_comma[PCA_JSON_MAX_DEPTH];
	bool after_key;
};

void pca_json_init(struct pca_json *j, FILE *out);
void pca_json_object_begin(struct pca_json *j);
void pca_json_object_end(struct pca_json *j);
void pca_json_array_begin(struct pca_json *j);
void pca_json_array_end(struct pca_json *j);
void pca_json_key(struct pca_json *j, const char *key);
void pca_json_string(struct pca_json *j, const char *s); /* NULL -> null */
void pca_json_int(struct pca_json *j, int64_t v);
void pca_json_uint(struct pca_json *j, uint64_t v);
void pca_json_bool(struct pca_json *j, bool v);
void pca_json_double(struct pca_json *j, double v); /* 3 decimals: seconds */
void pca_json_null(struct pca_json *j);
void pca_json_address(struct pca_json *j, uint64_t addr); /* "0x..." lower-case */

/* "key": value, in an object. */
void pca_json_member_string(struct pca_json *j, const char *key, const char *s);
void pca_json_member_uint(struct pca_json *j, const char *key, uint64_t v);
void pca_json_member_bool(struct pca_json *j, const char *key, bool v);
void pca_json_member_address(struct pca_json *j, const char *key, uint64_t addr);

#endif

#include "base/error.h"

#include "base/vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

struct pca_error pca_error_nomem = {
	.code = PCA_ERROR_NOMEM,
	.message = (char *)"out of memory",
};

char *pca_vasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

char *pca_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = pca_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

static struct pca_error *error_vcreate(enum pca_error_code code, const char *fmt, va_list ap)
{
	struct pca_error *err = malloc(sizeof(*err));
	if (!err)
		return &pca_error_nomem;
	err->code = code;
	err->address = 0;
	err->message = pca_vasprintf(fmt, ap);
	if (!err->message) {
		free(err);
		return &pca_error_nomem;
	}
	return err;
}

struct pca_error *pca_error_create(enum pca_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct pca_error *err = error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

struct pca_error *pca_error_fault(uint64_t address, size_t len)
{
	struct pca_error *err = pca_error_create(
		PCA_ERROR_FAULT, "memory at 0x%" PRIx64 " (%zu bytes) is not in the core", address, len);
	if (err != &pca_error_nomem)
		err->address = address;
	return err;
}

struct pca_error *pca_error_wrap(struct pca_error *err, const char *fmt, ...)
{
	if (!err || err == &pca_error_nomem)
		return err;
	va_list ap;
	va_start(ap, fmt);
	char *prefix = pca_vasprintf(fmt, ap);
	va_end(ap);
	if (!prefix)
		return err;
	char *joined = pca_asprintf("%s: %s", prefix, err->message);
	free(prefix);
	if (joined) {
		free(err->message);
		err->message = joined;
	}
	return err;
}

void pca_error_destroy(struct pca_error *err)
{
	if (!err || err == &pca_error_nomem)
		return;
	free(err->message);
	free(err);
}

void pca_warnings_init(struct pca_warnings *w)
{
	memset(w, 0, sizeof(*w));
}

void pca_warnings_deinit(struct pca_warnings *w)
{
	for (size_t i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	memset(w, 0, sizeof(*w));
}

void pca_warnings_add(struct pca_warnings *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = pca_vasprintf(fmt, ap);
	va_end(ap);
	if (!s)
		return;
	for (size_t i = 0; i < w->count; i++) {
		if (strcmp(w->items[i], s) == 0) {
			free(s);
			return;
		}
	}
	if (!PCA_VECTOR_GROW(&w->items, &w->capacity, w->count + 1, 8)) {
		free(s);
		return;
	}
	w->items[w->count++] = s;
}

void pca_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

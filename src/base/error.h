/* error.h: errors as values, and the warning list.
 *
 * Fallible functions return `struct pca_error *` (NULL on success) and give
 * results through out-parameters named `ret`, last. An error carries a code
 * that maps to an exit status and a message that tells the user what to do.
 * pca_error_nomem is static so it can always be returned. This module does
 * not print: the cli layer does.
 */
#ifndef PCA_BASE_ERROR_H
#define PCA_BASE_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum pca_error_code {
	PCA_ERROR_OTHER = 1,
	PCA_ERROR_NOMEM,
	PCA_ERROR_OS,       /* open/read/mmap failed */
	PCA_ERROR_FORMAT,   /* not a core, malformed ELF */
	PCA_ERROR_FAULT,    /* memory at an address is not in the core */
	PCA_ERROR_DEBUGINFO,/* missing or mismatched file or debug info */
	PCA_ERROR_NOT_PYTHON,
	PCA_ERROR_CORRUPT,  /* data from the core fails validation */
	PCA_ERROR_USAGE,
};

struct pca_error {
	enum pca_error_code code;
	uint64_t address; /* for PCA_ERROR_FAULT */
	char *message;
};

extern struct pca_error pca_error_nomem;

struct pca_error *pca_error_create(enum pca_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct pca_error *pca_error_fault(uint64_t address, size_t len);
/* Prefix an existing error's message with context ("reading frame: ..."). */
struct pca_error *pca_error_wrap(struct pca_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pca_error_destroy(struct pca_error *err);

/* Warnings accumulate per run, de-duplicated by caller-chosen key text. */
struct pca_warnings {
	char **items;
	size_t count, capacity;
};
void pca_warnings_init(struct pca_warnings *w);
void pca_warnings_deinit(struct pca_warnings *w);
void pca_warnings_add(struct pca_warnings *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* qsort that accepts an empty (possibly NULL) array: qsort(NULL, 0, ...) is
 * undefined behaviour. */
void pca_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* printf into a fresh heap string; NULL on ENOMEM. */
char *pca_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *pca_vasprintf(const char *fmt, va_list ap);

#endif

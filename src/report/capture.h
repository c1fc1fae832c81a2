/* report/capture.h: the result line (or JSON document) of capture and of
 * each core watch takes. */
#ifndef PCA_REPORT_CAPTURE_H
#define PCA_REPORT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pca_capture_report {
	long pid;
	const char *path;
	uint64_t bytes;         /* the file's size */
	size_t threads;
	double seconds;         /* the whole capture */
	double paused_seconds;  /* how long the process was stopped */
};

/* Text: one "captured process ..." line; JSON: one document {schema,
 * capture{pid, path, bytes, threads, seconds, paused_seconds}, warnings}. */
void pca_report_capture(FILE *out, bool json, const struct pca_capture_report *c);

#endif

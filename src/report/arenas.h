/* arenas.h: rendering of the pymalloc section (heap/arenas.h) as text, in
 * the shape of sys._debugmallocstats(), and as the "allocator" key of the
 * contract JSON. It computes nothing beyond ratios for display. */
#ifndef PCA_REPORT_ARENAS_H
#define PCA_REPORT_ARENAS_H

#include <stdio.h>

#include "heap/arenas.h"
#include "report/json.h"

void pca_report_arenas_text(FILE *out, const struct pca_arenas *a);
/* One line: arenas, pools, bytes used and free (for the report). */
void pca_report_arenas_brief(FILE *out, const struct pca_arenas *a);
/* Writes the key "allocator" and its object into the enclosing JSON object. */
void pca_report_json_arenas(struct pca_json *j, const struct pca_arenas *a);

#endif

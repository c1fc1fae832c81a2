#include "analyses/summary.h"

#include <stdlib.h>
#include <string.h>

static int by_size_desc(const void *a, const void *b)
{
	const struct pca_summary_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->type->name, y->type->name);
}

struct pca_error *pca_summary_compute(const struct pca_heap *heap,
				      const struct pca_objects *objects, struct pca_summary *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* Distinct type objects may share a name (two classes `Node` in one
	 * module); rows are per type object, as guppy and pympler do. */
	struct pca_summary_row *rows = calloc(objects->ninfos ? objects->ninfos : 1, sizeof(*rows));
	if (!rows)
		return &pca_error_nomem;
	for (uint32_t i = 0; i < heap->count; i++) {
		struct pca_summary_row *r = &rows[heap->type[i]];
		r->count++;
		r->size += heap->size[i];
		ret->size += heap->size[i];
	}
	size_t n = 0;
	for (size_t t = 0; t < objects->ninfos; t++) {
		if (!rows[t].count)
			continue;
		rows[t].type = &objects->infos[t];
		rows[n++] = rows[t];
	}
	qsort(rows, n, sizeof(*rows), by_size_desc);
	ret->rows = rows;
	ret->nrows = n;
	ret->objects = heap->count;
	ret->gc_tracked = heap->gc_tracked;
	return NULL;
}

void pca_summary_deinit(struct pca_summary *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

#include "analyses/summary.h"

#include <stdlib.h>
#include <string.h>

static int by_size_desc(const void *a, const void *b)
{
	const struct pca_summary_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b)
{
	const struct pca_summary_row *x = a, *y = b;
	return strcmp(x->name, y->name);
}

struct pca_error *pca_summary_compute(const struct pca_heap *heap,
				      const struct pca_objects *objects, struct pca_summary *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* Rows are per type name: distinct type objects may share one (classes
	 * made by a factory, ctypes' CFunctionType), and a reader of the table
	 * or of the JSON expects each name once. */
	struct pca_summary_row *rows = calloc(objects->ninfos ? objects->ninfos : 1, sizeof(*rows));
	if (!rows)
		return &pca_error_nomem;
	for (uint32_t i = 0; i < heap->count; i++) {
		struct pca_summary_row *r = &rows[heap->type[i]];
		r->count++;
		r->size += pca_heap_size(heap, i);
		ret->size += pca_heap_size(heap, i);
	}
	size_t n = 0;
	for (size_t t = 0; t < objects->ninfos; t++) {
		if (!rows[t].count)
			continue;
		rows[t].name = objects->infos[t].name;
		rows[t].size_exact = objects->infos[t].size_exact;
		rows[n++] = rows[t];
	}
	pca_sort(rows, n, sizeof(*rows), by_name);
	size_t merged = 0;
	for (size_t i = 0; i < n; i++) {
		if (merged && strcmp(rows[merged - 1].name, rows[i].name) == 0) {
			rows[merged - 1].count += rows[i].count;
			rows[merged - 1].size += rows[i].size;
			rows[merged - 1].size_exact &= rows[i].size_exact;
			continue;
		}
		rows[merged++] = rows[i];
	}
	n = merged;
	pca_sort(rows, n, sizeof(*rows), by_size_desc);
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

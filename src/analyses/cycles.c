#include "analyses/cycles.h"

#include "base/log.h"
#include "base/progress.h"
#include "base/vector.h"

#include <stdlib.h>
#include <string.h>

static int by_type_name(const void *a, const void *b)
{
	const struct pca_cycle_type *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Shape: unreachable flag, then the (type, count) list. */
static int shape_cmp(const struct pca_cycle *x, const struct pca_cycle *y)
{
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->unreachable != y->unreachable)
		return x->unreachable ? -1 : 1;
	if (x->ntypes != y->ntypes)
		return x->ntypes < y->ntypes ? -1 : 1;
	for (size_t i = 0; i < x->ntypes; i++) {
		int c = strcmp(x->types[i].name, y->types[i].name);
		if (c)
			return c;
		if (x->types[i].count != y->types[i].count)
			return x->types[i].count < y->types[i].count ? -1 : 1;
	}
	return 0;
}

static int by_shape(const void *a, const void *b)
{
	const struct pca_cycle *x = a, *y = b;
	int c = shape_cmp(x, y);
	if (c)
		return c;
	return x->example < y->example ? -1 : x->example > y->example;
}

static int by_group_size(const void *a, const void *b)
{
	const struct pca_cycle *x = *(const struct pca_cycle *const *)a,
				*y = *(const struct pca_cycle *const *)b;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	uint64_t wx = x->same_shape * x->size, wy = y->same_shape * y->size;
	if (wx != wy)
		return wx > wy ? -1 : 1;
	return x->example < y->example ? -1 : x->example > y->example;
}

/* Whether v has an edge to itself. */
static bool self_loop(const struct pca_graph *g, uint32_t v)
{
	for (uint64_t e = g->out_start[v]; e < g->out_start[v + 1]; e++)
		if (g->out[e] == v)
			return true;
	return false;
}

struct pca_error *pca_cycles_compute(const struct pca_objects *objects, const struct pca_heap *heap,
				     const struct pca_refgraph *g, struct pca_cycles *ret)
{
	memset(ret, 0, sizeof(*ret));
	double t0 = pca_now_seconds();
	uint32_t n = g->graph.n, ncomp = 0;
	uint32_t *comp = malloc(((size_t)n + 1) * sizeof(*comp));
	uint32_t *kept = NULL, *members = NULL;
	uint64_t *start = NULL, *fill = NULL;
	uint32_t nkept = 0;
	if (!comp)
		return &pca_error_nomem;
	struct pca_error *err = pca_graph_scc(&g->graph, comp, &ncomp);
	if (err) {
		free(comp);
		return err;
	}
	pca_log_timing("cycles: components %.3f s (%u)\n", pca_now_seconds() - t0, ncomp);
	/* Almost every component of a heap is one object without a self-loop:
	 * only the others (cycles) get a number and their members listed, so
	 * the cost per object is comp[] and kept[] (4 + 4 bytes), not a start
	 * offset per component. kept[c]: component size, then 0 for a
	 * component that is no cycle, else its cycle number + 1. */
	kept = calloc((size_t)ncomp + 1, sizeof(*kept));
	if (!kept)
		goto nomem;
	for (uint32_t v = 0; v < n; v++)
		kept[comp[v]]++;
	for (uint32_t v = 0; v < n; v++)
		if (kept[comp[v]] == 1 && !self_loop(&g->graph, v))
			kept[comp[v]] = 0;
	for (uint32_t c = 0; c < ncomp; c++)
		nkept += kept[c] != 0;
	/* members of each cycle, contiguous and in id order (counting sort) */
	start = calloc((size_t)nkept + 1, sizeof(*start));
	fill = malloc(((size_t)nkept + 1) * sizeof(*fill));
	if (!start || !fill)
		goto nomem;
	for (uint32_t c = 0, k = 0; c < ncomp; c++) {
		if (!kept[c])
			continue;
		start[k + 1] = start[k] + kept[c];
		kept[c] = ++k;
	}
	members = malloc(((size_t)start[nkept] + 1) * sizeof(*members));
	if (!members)
		goto nomem;
	memcpy(fill, start, ((size_t)nkept + 1) * sizeof(*fill));
	for (uint32_t v = 0; v < n; v++)
		if (kept[comp[v]])
			members[fill[kept[comp[v]] - 1]++] = v;
	free(fill);
	free(kept);
	free(comp);
	fill = NULL;
	kept = comp = NULL;
	size_t cap = 0;
	for (uint32_t c = 0; c < nkept; c++) {
		uint64_t size = start[c + 1] - start[c];
		uint32_t first = members[start[c]];
		if (!PCA_VECTOR_GROW(&ret->cycles, &cap, ret->count + 1, 64))
			goto nomem;
		struct pca_cycle *cy = &ret->cycles[ret->count];
		memset(cy, 0, sizeof(*cy));
		cy->example = first;
		cy->objects = size;
		cy->unreachable = true;
		bool structure = false;
		/* per-type counts: members sorted by type name through a small list */
		size_t types_cap = 0;
		for (uint64_t i = start[c]; i < start[c + 1]; i++) {
			uint32_t v = members[i];
			const char *name = objects->infos[heap->type[v]].name;
			cy->size += pca_heap_size(heap, v);
			cy->unreachable &= g->unreachable[v];
			enum pca_kind kind = objects->infos[heap->type[v]].kind;
			structure |= kind == PCA_KIND_TYPE || kind == PCA_KIND_MODULE;
			size_t k = 0;
			while (k < cy->ntypes && strcmp(cy->types[k].name, name) != 0)
				k++;
			if (k == cy->ntypes) {
				if (!PCA_VECTOR_GROW(&cy->types, &types_cap, cy->ntypes + 1, 4)) {
					free(cy->types); /* cy is not counted yet: deinit misses it */
					goto nomem;
				}
				cy->types[cy->ntypes++] = (struct pca_cycle_type){name, 0};
			}
			cy->types[k].count++;
		}
		pca_sort(cy->types, cy->ntypes, sizeof(*cy->types), by_type_name);
		cy->cls = cy->unreachable ? PCA_CYCLE_GARBAGE : structure ? PCA_CYCLE_STRUCTURE : PCA_CYCLE_PROGRAM;
		ret->count++;
	}
	free(comp);
	free(members);
	free(start);
	comp = NULL;
	members = NULL;
	start = NULL;
	/* group identical shapes, then order groups by their total size */
	pca_sort(ret->cycles, ret->count, sizeof(*ret->cycles), by_shape);
	struct pca_cycle **heads = malloc((ret->count ? ret->count : 1) * sizeof(*heads));
	struct pca_cycle *sorted = malloc((ret->count ? ret->count : 1) * sizeof(*sorted));
	if (!heads || !sorted) {
		free(heads);
		free(sorted);
		goto nomem;
	}
	size_t ngroups = 0;
	for (size_t i = 0; i < ret->count;) {
		size_t j = i + 1;
		while (j < ret->count && shape_cmp(&ret->cycles[i], &ret->cycles[j]) == 0)
			j++;
		ret->cycles[i].same_shape = j - i;
		heads[ngroups++] = &ret->cycles[i];
		i = j;
	}
	pca_sort(heads, ngroups, sizeof(*heads), by_group_size);
	size_t out = 0;
	for (size_t gi = 0; gi < ngroups; gi++)
		for (uint64_t k = 0; k < heads[gi]->same_shape; k++)
			sorted[out++] = heads[gi][k];
	free(ret->cycles);
	free(heads);
	ret->cycles = sorted;
	pca_log_timing("cycles: total %.3f s (%zu cycles)\n", pca_now_seconds() - t0, ret->count);
	return NULL;
nomem:
	free(comp);
	free(kept);
	free(fill);
	free(members);
	free(start);
	pca_cycles_deinit(ret);
	return &pca_error_nomem;
}

void pca_cycles_deinit(struct pca_cycles *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->cycles[i].types);
	free(c->cycles);
	memset(c, 0, sizeof(*c));
}

const char *pca_cycle_class_name(enum pca_cycle_class cls)
{
	switch (cls) {
	case PCA_CYCLE_GARBAGE:
		return "garbage";
	case PCA_CYCLE_PROGRAM:
		return "program";
	case PCA_CYCLE_STRUCTURE:
		return "structure";
	}
	return "?";
}

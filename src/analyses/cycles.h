/* cycles.h: reference cycles, as strongly connected components of the
 * reference graph: each component of two or more objects, or of one object
 * that refers to itself, with its members counted per type and whether the
 * collector would free all of it (unreachable). Components of the same shape
 * are grouped for the text report. */
#ifndef PCA_ANALYSES_CYCLES_H
#define PCA_ANALYSES_CYCLES_H

#include "analyses/refgraph.h"

struct pca_cycle_type {
	const char *name;
	uint64_t count;
};

/* What a cycle is, for a person, in the order the report lists them. */
enum pca_cycle_class {
	PCA_CYCLE_GARBAGE,   /* unreachable: the collector would free it */
	PCA_CYCLE_PROGRAM,   /* among the program's own objects */
	PCA_CYCLE_STRUCTURE, /* has a class or a module: the interpreter's own structure
				(a class, its dict, its descriptors; a module and its
				functions' globals) */
};

struct pca_cycle {
	uint32_t example;          /* an object id in it */
	uint64_t objects, size;
	bool unreachable;
	enum pca_cycle_class cls;
	struct pca_cycle_type *types; /* sorted by name */
	size_t ntypes;
	uint64_t same_shape;       /* for the first cycle of a shape group: how many share it */
};

struct pca_cycles {
	struct pca_cycle *cycles;  /* grouped by shape; by class, then largest groups first */
	size_t count;
};

struct pca_error *pca_cycles_compute(const struct pca_objects *objects, const struct pca_heap *heap,
				     const struct pca_refgraph *g, struct pca_cycles *ret);
void pca_cycles_deinit(struct pca_cycles *c);
/* "garbage", "program", "structure" (JSON cycles[].kind) */
const char *pca_cycle_class_name(enum pca_cycle_class cls);

#endif

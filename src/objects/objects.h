/* objects.h: per-type knowledge of Python objects in the target: validating
 * type objects, their names (`module.qualname`), and each object's size
 * exactly as sys.getsizeof returned it in that interpreter.
 *
 * Type objects are cached in a hash map by address (a heap has few types and
 * many objects). Sizes for types whose __sizeof__ we do not model yet are the
 * default formula and the type is flagged `size_exact = false`, so callers
 * can say so. It does not enumerate objects: heap/ does.
 */
#ifndef PCA_OBJECTS_OBJECTS_H
#define PCA_OBJECTS_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "interp/interp.h"

/* Builtin kinds whose size or contents we model; found through the type's
 * tp_base chain, so subclasses (OrderedDict, defaultdict, class X(dict)) get
 * their builtin base's kind. */
enum pca_kind {
	PCA_KIND_OBJECT, /* default __sizeof__ */
	PCA_KIND_TYPE,
	PCA_KIND_DICT,
	PCA_KIND_LIST,
	PCA_KIND_TUPLE,
	PCA_KIND_SET,
	PCA_KIND_FROZENSET,
	PCA_KIND_DEQUE,
	PCA_KIND_ODICT,
	PCA_KIND_CODE,
	PCA_KIND_FRAME,
	PCA_KIND_GENERATOR,
	PCA_KIND_INT,
	PCA_KIND_STR,
	PCA_KIND_COUNT
};

struct pca_type_info {
	uint64_t addr;
	char *name;
	uint64_t flags, basicsize, itemsize;
	enum pca_kind kind;
	bool size_exact;
};

struct pca_objects {
	struct pca_interp *interp;
	uint64_t kind_types[PCA_KIND_COUNT]; /* address of each builtin kind's type, 0 if absent */
	uint64_t type_type;                  /* &PyType_Type */
	/* open-addressing map type address -> index in infos */
	uint64_t *map_keys;
	uint32_t *map_values;
	size_t map_capacity, map_used;
	struct pca_type_info *infos;
	size_t ninfos, infos_capacity;
};

struct pca_error *pca_objects_init(struct pca_objects *o, struct pca_interp *interp);
void pca_objects_deinit(struct pca_objects *o);

/* The validated type at `type_addr` (cached), or NULL if it is not a type object. */
const struct pca_type_info *pca_objects_type(struct pca_objects *o, uint64_t type_addr);
/* sys.getsizeof(obj) for an object of type `type`; false when unreadable. */
bool pca_objects_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *type,
			uint64_t *ret);

#endif

/* objects.h: per-type knowledge of Python objects in the target: validating
 * type objects, their names (`module.qualname`), and each object's size
 * exactly as sys.getsizeof returned it in that interpreter.
 *
 * Type objects are cached in a hash map by address (a heap has few types and
 * many objects). Sizes for types whose __sizeof__ we do not model yet are the
 * default formula and the type is flagged `size_exact = false`, so callers
 * can say so. It does not enumerate objects: heap/ does.
 *
 * Each kind's rules (size, referents, preview, length) are one
 * `struct pca_kind_ops` in the file of its family (types.c, dict.c,
 * containers.c, scalars.c, frames.c, instances.c, runtime.c; objects/kinds.h);
 * this file's functions dispatch through the type's ops, resolved once per
 * type. Version constants and the C types' members come from layout/
 * (layout/object_layout.h).
 */
#ifndef PCA_OBJECTS_OBJECTS_H
#define PCA_OBJECTS_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "base/error.h"
#include "interp/interp.h"
#include "layout/object_layout.h"

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
	PCA_KIND_BYTEARRAY,
	PCA_KIND_MODULE,
	PCA_KIND_LRU_CACHE,
	PCA_KIND_LRU_LINK,
	PCA_KIND_FUNCTION,
	PCA_KIND_BUFFERED, /* _io.BufferedReader, Writer, Random (stdlib_ext.c) */
	PCA_KIND_STRUCT,   /* _struct.Struct (stdlib_ext.c) */
	PCA_KIND_BYTESIO,  /* _io.BytesIO (stdlib_ext.c) */
	PCA_KIND_ARRAY,    /* array.array (stdlib_ext.c) */
	PCA_KIND_ELEMENT,  /* xml.etree.ElementTree.Element (stdlib_ext.c) */
	PCA_KIND_DECIMAL,  /* decimal.Decimal (stdlib_ext.c) */
	PCA_KIND_ITERTOOLS_INDICES, /* itertools' combinatoric iterators (stdlib_ext.c) */
	PCA_KIND_NDARRAY,  /* numpy.ndarray and its subclasses (numpy.c) */
	PCA_KIND_NUMPY_SCALAR, /* numpy.generic's subclasses, numpy.bytes_ (numpy.c) */
	PCA_KIND_PANDAS_CYTHON, /* pandas' BlockManager and blocks (numpy.c) */
	PCA_KIND_CYTHON,   /* Cython's cython_function_or_method (extensions.c) */
	PCA_KIND_EXT_WORDS, /* Cython classes, C types of object pointers (extensions.c) */
	PCA_KIND_MULTIDICT, /* multidict's MultiDict, CIMultiDict (extensions.c) */
	PCA_KIND_REGEX_PATTERN, /* regex's (mrab-regex) _regex.Pattern (extensions.c) */
	PCA_KIND_REGEX_OWNER, /* regex's Match, Scanner, Splitter (extensions.c) */
	PCA_KIND_COUNT
};

struct pca_type_info {
	uint64_t addr;
	char *name;
	uint64_t flags, basicsize, itemsize;
	int64_t dictoffset;
	enum pca_kind kind;
	const struct pca_kind_ops *ops; /* the rules of `kind` (objects/kinds.h) */
	int c_base;           /* index in the object layout's c_types of the C type it derives from, -1 none */
	uint64_t c_base_flags; /* tp_flags of that C type */
	uint64_t c_base_basicsize; /* tp_basicsize of that C type */
	bool size_exact;
	/* Not tracked, but the collector visits its references through the
	 * object that owns it (an lru_cache link: lru_cache_tp_traverse visits
	 * each link's key and result). */
	bool traversed_by_owner;
	/* What tp_traverse visits, resolved once per type (pca_objects_prepare). */
	bool traverse_ready;
	bool visits_dict;     /* subtype_traverse visits the instance __dict__ */
	uint32_t nslots;
	uint32_t *slot_offsets; /* T_OBJECT_EX __slots__ of every Python class up the chain */
	uint32_t nmembers;
	uint32_t member_offsets[PCA_C_TYPE_MAX_MEMBERS];
};

struct pca_kind_ops;

/* A heap type's __qualname__ and __module__ are read up to this many
 * characters each; a longer one is shown cut, ending in "\u2026" (…). */
enum { PCA_TYPE_NAME_MAX = 512 };

struct pca_objects {
	struct pca_interp *interp;
	struct pca_object_layout ol;         /* C types, static objects, flag bits */
	bool owns_ol;                        /* resolved by pca_objects_init (freed by deinit) */
	uint64_t set_dummy;                  /* the deleted-entry marker of sets */
	/* open-addressing map type address -> index in infos */
	uint64_t *map_keys;
	uint32_t *map_values;
	size_t map_capacity, map_used;
	struct pca_type_info *infos; /* fixed capacity: pointers stay valid */
	size_t ninfos, infos_capacity;
	uint64_t types_refused;      /* beyond the capacity */
	uint64_t names_cut;          /* type names longer than PCA_TYPE_NAME_MAX, cut (a note) */
	/* pca_objects_type is called from the census' worker threads: the
	 * registry (map and infos) changes under this lock (recursive: naming
	 * a type reads objects). */
	pthread_mutex_t registry_lock;
	bool registry_lock_ready;
	/* This registry's state, a number no state of any registry had before:
	 * each thread's cache of pca_objects_type answers only for it (a new
	 * registry, or this one reordered, takes a new number). */
	uint64_t registry_version;
	/* Set once the attributes of instances can be resolved (after
	 * pca_objects_learn_subtype_traverse): a new type is then prepared
	 * (pca_objects_prepare) before it is returned, so that no thread
	 * prepares it later while another reads it. */
	bool prepare_on_register;
	/* While set, a type not registered yet is not registered:
	 * pca_objects_type returns NULL for it and counts it here. */
	bool registry_frozen;
	uint64_t types_frozen_out;
};

struct pca_error *pca_objects_init(struct pca_objects *o, struct pca_interp *interp);
/* The same with an object layout resolved elsewhere (a hand-filled one in
 * tests); `ol->c_types` stays the caller's. */
struct pca_error *pca_objects_init_layout(struct pca_objects *o, struct pca_interp *interp,
					  const struct pca_object_layout *ol);
void pca_objects_deinit(struct pca_objects *o);
/* Without the symbol subtype_traverse (a stripped build read with another
 * build's layout): learn it from the type objects among objs (the
 * collector's lists) as the tp_traverse most heap types share. False when
 * no clear winner: instances' attributes are then not followed. */
bool pca_objects_learn_subtype_traverse(struct pca_objects *o, const uint64_t *objs, size_t n);

/* The validated type at `type_addr` (cached), or NULL if it is not a type
 * object. Thread-safe. Inline: a type this thread asked for before is
 * answered from its cache, without the registry's lock or a call (the
 * census and the unreferenced pass ask for every object's type). */
enum { PCA_TYPE_CACHE_SIZE = 256 }; /* more than the types of a bench heap: few collide */
struct pca_type_cache_entry {
	uint64_t version, addr; /* for registry_version; 0: empty */
	struct pca_type_info *info;
};
extern _Thread_local struct pca_type_cache_entry pca_type_cache[PCA_TYPE_CACHE_SIZE];
struct pca_type_info *pca_objects_type_slow(struct pca_objects *o, uint64_t type_addr);
static inline struct pca_type_info *pca_objects_type(struct pca_objects *o, uint64_t type_addr)
{
	const struct pca_type_cache_entry *e = &pca_type_cache[(type_addr >> 4) % PCA_TYPE_CACHE_SIZE];
	if (e->version == o->registry_version && e->addr == type_addr)
		return e->info;
	return pca_objects_type_slow(o, type_addr);
}
/* From now on, types are prepared when registered, and those registered
 * so far are prepared now (before a parallel closure). */
void pca_objects_prepare_all(struct pca_objects *o);
/* Freeze (or thaw) the registry. A parallel pass whose threads could
 * register types would number them in the order of the threads' timing;
 * frozen, it cannot, and the work during which a type was left out
 * (types_frozen_out grew) is done again afterwards on one thread, thawed
 * (analyses/unreferenced.c). Thawing forgets what each thread's cache
 * learnt while frozen. */
void pca_objects_freeze_registry(struct pca_objects *o, bool frozen);
/* Order the registered types by address: the order in which a parallel
 * census meets them depends on its threads. *ret_remap[old index] = new
 * index (malloc'ed, ninfos entries); pointers to infos taken before are
 * stale. Errors: ENOMEM (nothing changed). */
struct pca_error *pca_objects_sort_types(struct pca_objects *o, uint32_t **ret_remap);
/* Call visit(ctx, referent) for each object `obj` refers to: what its
 * type's tp_traverse visits, its type, plus the references that hold memory
 * without the collector seeing them (docs/usage.md: dict keys, code names
 * and constants). Unreadable parts are skipped; the caller validates each
 * referent. */
typedef void (*pca_visit_fn)(void *ctx, uint64_t referent);
/* A referent with this bit set is a guess (a word of memory that may hold
 * an object pointer, e.g. in a C module's state): the caller drops it
 * quietly when it is not a valid object. Objects are 8-byte aligned. */
enum { PCA_REFERENT_GUESS = 1 };
/* A referent with this bit set is reached but not referenced by the object
 * (the static type of an instance; the code and globals of the frame a 3.11+
 * frame object shows): it is in the census, but no reference count of the
 * object accounts for it, and the collector does not visit it. */
enum { PCA_REFERENT_EXTRA = 2 };
enum { PCA_REFERENT_FLAGS = PCA_REFERENT_GUESS | PCA_REFERENT_EXTRA };
void pca_objects_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *type,
			   pca_visit_fn visit, void *ctx);

/* Each live (key, value) of a dict of any version's layout, in order;
 * fn returns false to stop. False when the dict is unreadable. */
typedef bool (*pca_dict_fn)(void *ctx, uint64_t key, uint64_t value);
bool pca_objects_dict_items(struct pca_objects *o, uint64_t dict, pca_dict_fn fn, void *ctx);
/* Key i of a keys table (a class's shared keys for its instances' values). */
bool pca_objects_keys_key(struct pca_objects *o, uint64_t keys, uint64_t i, uint64_t *ret);

/* The attribute name under which instance obj (a Python class's) holds
 * value: a 3.11+ managed value or a __slots__ member. False otherwise (a
 * __dict__ entry is found through the dict). */
bool pca_objects_attr_name(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			   uint64_t value, char *buf, size_t size);

/* A short preview of the value (a repr cut to fit, or "len N"). */
void pca_preview(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, char *buf,
		 size_t size);

/* sys.getsizeof(obj) for an object of type `type`; false when unreadable. */
bool pca_objects_sizeof(struct pca_objects *o, uint64_t obj, const struct pca_type_info *type,
			uint64_t *ret);

/* len(obj) for the sized builtin kinds (dict, OrderedDict, list, tuple, set,
 * frozenset, deque); false for other kinds or when unreadable. */
bool pca_objects_len(struct pca_objects *o, uint64_t obj, const struct pca_type_info *type,
		     uint64_t *ret);
/* A deque's maxlen, -1 for an unbounded one; false when unreadable. */
bool pca_objects_deque_maxlen(struct pca_objects *o, uint64_t deque, int64_t *ret);

/* An int (Objects/longobject.c): its number of 30-bit digits and sign, and
 * when it has at most one digit, its absolute value. */
struct pca_int_value {
	uint64_t ndigits;
	bool negative;
	bool small;       /* ndigits <= 1 and `digit` was read */
	uint32_t digit;   /* the absolute value when small */
};
bool pca_objects_int(struct pca_objects *o, uint64_t obj, struct pca_int_value *ret);

/* A functools._lru_cache_wrapper, best effort: what cannot be read stays
 * at its default (maxsize -1 = unbounded, the rest 0). */
struct pca_lru_info {
	int64_t maxsize;  /* lru_cache_new stores maxsize=None as -1 */
	bool typed;
	uint64_t hits, misses;
	uint64_t entries; /* len(cache) */
	uint64_t func;    /* the wrapped callable, 0 unknown */
};
void pca_objects_lru(struct pca_objects *o, uint64_t wrapper, struct pca_lru_info *ret);

/* "module.qualname" of a function object, as the contract names functions
 * ("builtins." left out); NULL when unreadable. Heap string. */
char *pca_objects_function_name(struct pca_objects *o, uint64_t func);

#endif

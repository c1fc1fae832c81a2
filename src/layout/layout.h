/* layout.h: the ONLY place that knows how CPython versions differ.
 *
 * Resolves, from the DWARF of the exact build, the size of each structure and
 * the offset of each member the rest of the program reads, by role: a role
 * lists the names a member has had across versions (3.11 `f_code` -> 3.13
 * `f_executable`), so no other module tests a version number for an offset.
 * Every value is validated (a member must lie inside its struct, sizes must be
 * plausible). Behaviour that differs by version (line-table encoding, frame
 * model) is decided here too, each in one function that names the versions.
 * It does not read the target's memory except to learn the version string.
 */
#ifndef PCA_LAYOUT_LAYOUT_H
#define PCA_LAYOUT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "layout/linetable.h"
#include "symbols/symbols.h"
#include "target/target.h"

/* Structures whose size we use. */
enum pca_struct {
	PCA_S_OBJECT,           /* PyObject */
	PCA_S_VAROBJECT,        /* PyVarObject */
	PCA_S_ASCII,            /* PyASCIIObject */
	PCA_S_COMPACT_UNICODE,  /* PyCompactUnicodeObject */
	PCA_S_UNICODE,          /* PyUnicodeObject */
	PCA_S_BYTES,            /* PyBytesObject */
	PCA_S_CODE,             /* PyCodeObject */
	PCA_S_FRAME,            /* PyFrameObject (3.6-3.10) */
	PCA_S_IFRAME,           /* _PyInterpreterFrame (3.11+) */
	PCA_S_TSTATE,           /* PyThreadState */
	PCA_S_INTERP,           /* PyInterpreterState */
	PCA_S_RUNTIME,          /* _PyRuntimeState (3.7+) */
	PCA_S_CFRAME,           /* _PyCFrame (3.11-3.12) */
	PCA_S_TYPE,             /* PyTypeObject */
	PCA_S_HEAPTYPE,         /* PyHeapTypeObject */
	PCA_S_GC_HEAD,          /* PyGC_Head */
	PCA_S_GC_GENERATION,    /* struct gc_generation */
	PCA_S_DICT,             /* PyDictObject */
	PCA_S_DICT_KEYS,        /* PyDictKeysObject */
	PCA_S_DICT_ENTRY,       /* PyDictKeyEntry */
	PCA_S_DICT_UNICODE_ENTRY, /* PyDictUnicodeEntry (3.11+) */
	PCA_S_LIST,             /* PyListObject */
	PCA_S_SET,              /* PySetObject */
	PCA_S_SET_ENTRY,        /* setentry */
	PCA_S_DICT_VALUES,      /* struct _dictvalues (3.11+) */
	PCA_S_DEQUE,            /* dequeobject */
	PCA_S_DEQUE_BLOCK,      /* block */
	PCA_S_METHODDEF,        /* PyMethodDef */
	PCA_S_LONG,             /* PyLongObject */
	PCA_S_MEMBERDEF,        /* PyMemberDef */
	PCA_S_TUPLE,            /* PyTupleObject */
	PCA_S_BYTEARRAY,        /* PyByteArrayObject */
	PCA_S_GEN,              /* PyGenObject (coroutines share its layout) */
	PCA_S_MODULE,           /* PyModuleObject */
	PCA_S_MODULEDEF,        /* PyModuleDef */
	PCA_S_FUNCTION,         /* PyFunctionObject */
	PCA_S_ODICT_NODE,       /* _ODictNode */
	PCA_S_ODICT,            /* PyODictObject */
	PCA_S_OPCACHE,          /* _PyOpcache (3.8-3.10) */
	PCA_S_LRU,              /* lru_cache_object */
	PCA_S_LRU_ELEM,         /* lru_list_elem */
	PCA_S_WEAKREF,          /* PyWeakReference */
	PCA_S_CELL,             /* PyCellObject */
	PCA_S_EXCEPTION,        /* PyBaseExceptionObject */
	PCA_S_TRACEBACK,        /* PyTracebackObject */
	PCA_S_DESCR,            /* PyDescrObject */
	PCA_S_CFUNCTION,        /* PyCFunctionObject */
	PCA_STRUCT_COUNT
};

/* Members, by role. */
enum pca_field {
	PCA_F_OB_REFCNT,
	PCA_F_OB_TYPE,
	PCA_F_OB_SIZE,
	PCA_F_TP_NAME,
	PCA_F_RUNTIME_INTERP_HEAD,
	PCA_F_INTERP_NEXT,
	PCA_F_INTERP_THREADS_HEAD,
	PCA_F_TSTATE_NEXT,
	PCA_F_TSTATE_INTERP,
	PCA_F_TSTATE_THREAD_ID,
	PCA_F_TSTATE_NATIVE_THREAD_ID,
	PCA_F_TSTATE_FRAME,          /* 3.6-3.10: PyFrameObject * */
	PCA_F_TSTATE_CFRAME,         /* 3.11-3.12: _PyCFrame * */
	PCA_F_TSTATE_CURRENT_FRAME,  /* 3.13: _PyInterpreterFrame * */
	PCA_F_CFRAME_CURRENT_FRAME,
	PCA_F_FRAME_BACK,
	PCA_F_FRAME_CODE,
	PCA_F_FRAME_LASTI,
	PCA_F_FRAME_LINENO,
	PCA_F_FRAME_TRACE,
	PCA_F_IFRAME_PREVIOUS,
	PCA_F_IFRAME_CODE,           /* f_code (3.11-3.12), f_executable (3.13) */
	PCA_F_IFRAME_INSTR,          /* prev_instr (3.11-3.12), instr_ptr (3.13) */
	PCA_F_IFRAME_OWNER,
	PCA_F_CODE_FILENAME,
	PCA_F_CODE_NAME,
	PCA_F_CODE_QUALNAME,
	PCA_F_CODE_FIRSTLINENO,
	PCA_F_CODE_LINETABLE,        /* co_lnotab (3.6-3.9), co_linetable (3.10+) */
	PCA_F_CODE_ADAPTIVE,         /* co_code_adaptive (3.11+) */
	PCA_F_CODE_FIRSTTRACEABLE,   /* _co_firsttraceable (3.11+) */
	PCA_F_CODE_CODE,             /* co_code bytes object (3.6-3.10) */
	PCA_F_BYTES_SVAL,
	PCA_F_UNICODE_LENGTH,
	PCA_F_UNICODE_KIND,          /* bitfields of PyASCIIObject.state */
	PCA_F_UNICODE_COMPACT,
	PCA_F_UNICODE_ASCII,
	PCA_F_UNICODE_DATA,          /* PyUnicodeObject.data.any (legacy strings) */
	PCA_F_GC_NEXT,               /* _gc_next (3.8+), gc.gc_next (3.6-3.7) */
	PCA_F_GC_PREV,
	PCA_F_RUNTIME_GC_GENERATIONS,  /* 3.7-3.8: _PyRuntime.gc.generations */
	PCA_F_RUNTIME_GC_PERMANENT,
	PCA_F_INTERP_GC_GENERATIONS,   /* 3.9+: interp->gc.generations */
	PCA_F_INTERP_GC_PERMANENT,
	/* The collector's state (struct _gc_runtime_state): whether it is
	 * enabled (gc.disable()), and each generation's count and threshold */
	PCA_F_RUNTIME_GC_ENABLED,      /* 3.7-3.8: _PyRuntime.gc.enabled */
	PCA_F_INTERP_GC_ENABLED,       /* 3.9+: interp->gc.enabled */
	PCA_F_GC_GENERATION_COUNT,     /* struct gc_generation.count */
	PCA_F_GC_GENERATION_THRESHOLD, /* struct gc_generation.threshold */
	PCA_F_TP_FLAGS,
	PCA_F_TP_BASICSIZE,
	PCA_F_TP_ITEMSIZE,
	PCA_F_TP_DICTOFFSET,
	PCA_F_TP_BASE,
	PCA_F_HT_QUALNAME,
	PCA_F_HT_NAME,
	PCA_F_TP_DICT,
	PCA_F_TP_BASES,
	PCA_F_TP_MRO,
	PCA_F_DICT_USED,
	PCA_F_DICT_KEYS,
	PCA_F_DICT_VALUES,
	PCA_F_DK_REFCNT,
	PCA_F_DK_SIZE,               /* dk_size (3.6-3.10) */
	PCA_F_DK_LOG2_SIZE,          /* dk_log2_size (3.11+) */
	PCA_F_DK_LOG2_INDEX_BYTES,   /* 3.11+ */
	PCA_F_DK_KIND,               /* 3.11+ */
	PCA_F_DK_NENTRIES,
	PCA_F_DK_USABLE,
	PCA_F_DK_INDICES,
	PCA_F_LIST_ALLOCATED,
	PCA_F_SET_TABLE,
	PCA_F_SET_MASK,
	PCA_F_SET_SMALLTABLE,
	PCA_F_DICT_VALUES_VALUES,    /* 3.11+: _dictvalues.values */
	PCA_F_DICT_VALUES_EMBEDDED,  /* 3.13: _dictvalues.embedded */
	PCA_F_DEQUE_LEFTINDEX,
	PCA_F_TP_METHODS,
	PCA_F_LONG_DIGITS,           /* ob_digit (3.6-3.11), long_value.ob_digit (3.12+) */
	PCA_F_LONG_TAG,              /* long_value.lv_tag (3.12+) */
	PCA_F_UNICODE_UTF8,          /* PyCompactUnicodeObject.utf8 */
	PCA_F_UNICODE_UTF8_LENGTH,
	PCA_F_UNICODE_WSTR,          /* PyASCIIObject.wstr (3.6-3.11) */
	PCA_F_UNICODE_WSTR_LENGTH,   /* PyCompactUnicodeObject.wstr_length (3.6-3.11) */
	PCA_F_BYTEARRAY_ALLOC,       /* PyByteArrayObject.ob_alloc */
	PCA_F_TUPLE_ITEMS,           /* PyTupleObject.ob_item */
	PCA_F_LIST_ITEMS,            /* PyListObject.ob_item */
	PCA_F_TP_TRAVERSE,
	PCA_F_HT_CACHED_KEYS,        /* 3.11+ split keys of instances */
	PCA_F_MEMBERDEF_TYPE,
	PCA_F_MEMBERDEF_OFFSET,
	PCA_F_DICT_VALUES_SIZE,      /* 3.13 inline values */
	PCA_F_DICT_VALUES_VALID,
	PCA_F_DEQUE_LEFTBLOCK,
	PCA_F_BLOCK_DATA,
	PCA_F_BLOCK_RIGHTLINK,
	PCA_F_FRAME_LOCALSPLUS,      /* 3.6-3.10 PyFrameObject locals and stack */
	PCA_F_FRAME_VALUESTACK,
	PCA_F_FRAME_STACKTOP,        /* 3.6-3.9 */
	PCA_F_FRAME_STACKDEPTH,      /* 3.10 */
	PCA_F_IFRAME_FUNC,           /* f_func (3.11), f_funcobj (3.12+) */
	PCA_F_IFRAME_LOCALS,
	PCA_F_IFRAME_FRAME_OBJ,
	PCA_F_IFRAME_STACKTOP,
	PCA_F_IFRAME_LOCALSPLUS,
	PCA_F_IFRAME_GLOBALS,
	PCA_F_IFRAME_BUILTINS,
	PCA_F_FRAMEOBJ_FRAME,        /* PyFrameObject.f_frame (3.11+) */
	PCA_F_FRAMEOBJ_DATA,         /* PyFrameObject._f_frame_data (3.11+) */
	PCA_F_GEN_IFRAME,            /* gi_iframe (3.11+) */
	PCA_F_GEN_FRAME_STATE,       /* gi_frame_state (3.11+) */
	PCA_F_CODE_NLOCALSPLUS,      /* 3.11+ */
	PCA_F_CODE_STACKSIZE,
	PCA_F_MODULE_DEF,            /* PyModuleObject.md_def */
	PCA_F_MODULE_DICT,           /* PyModuleObject.md_dict */
	PCA_F_MODULE_STATE,          /* PyModuleObject.md_state */
	PCA_F_MODULEDEF_SIZE,        /* PyModuleDef.m_size */
	PCA_F_MODULEDEF_TRAVERSE,    /* PyModuleDef.m_traverse */
	PCA_F_ODICT_FIRST,           /* od_first */
	PCA_F_ODICT_FAST_SIZE,       /* od_fast_nodes_size */
	PCA_F_CODE_NLOCALS,          /* 3.6-3.10 */
	PCA_F_CODE_CELLVARS,         /* 3.6-3.10 tuples */
	PCA_F_CODE_FREEVARS,
	PCA_F_CODE_CELL2ARG,         /* 3.6-3.10 */
	PCA_F_CODE_EXTRA,
	PCA_F_CODE_OPCACHE,          /* 3.8-3.10 */
	PCA_F_CODE_OPCACHE_SIZE,
	PCA_F_FRAME_GLOBALS,         /* 3.6-3.10 f_globals */
	PCA_F_MEMBERDEF_NAME,
	PCA_F_CODE_VARNAMES,         /* 3.6-3.10 */
	PCA_F_CODE_LOCALSPLUSNAMES,  /* 3.11+ */
	PCA_F_LRU_ROOT_NEXT,         /* lru_cache_object.root.next */
	PCA_F_LRU_MAXSIZE,
	PCA_F_LRU_TYPED,
	PCA_F_LRU_HITS,
	PCA_F_LRU_MISSES,
	PCA_F_LRU_CACHE,
	PCA_F_LRU_FUNC,
	PCA_F_LRU_ELEM_NEXT,
	PCA_F_LRU_ELEM_KEY,
	PCA_F_LRU_ELEM_RESULT,
	PCA_F_FUNC_QUALNAME,         /* PyFunctionObject.func_qualname */
	PCA_F_WEAKREF_OBJECT,        /* PyWeakReference.wr_object (owner names tp_subclasses) */
	PCA_F_FUNC_MODULE,
	PCA_F_SET_USED,
	PCA_F_DEQUE_MAXLEN,
	PCA_F_DK_ENTRY_KEY,
	PCA_F_DK_ENTRY_VALUE,
	PCA_F_DK_UENTRY_KEY,         /* 3.11+ */
	PCA_F_DK_UENTRY_VALUE,
	/* The interpreter's own references (owner paths name them): members
	 * of PyInterpreterState; 3.12+ moved some into `imports`, 3.13 the
	 * codec state into `codecs`. */
	PCA_F_INTERP_MODULES,        /* sys.modules */
	PCA_F_INTERP_MODULES_BY_INDEX, /* single-phase extension modules by def index */
	PCA_F_INTERP_SYSDICT,        /* sys.__dict__ */
	PCA_F_INTERP_BUILTINS,       /* builtins.__dict__ */
	PCA_F_INTERP_IMPORTLIB,      /* the _frozen_importlib module */
	PCA_F_INTERP_IMPORT_FUNC,    /* builtins.__import__ as at start-up */
	PCA_F_INTERP_CODEC_SEARCH_PATH,    /* codecs.register()'s functions */
	PCA_F_INTERP_CODEC_SEARCH_CACHE,   /* codecs.lookup()'s cache */
	PCA_F_INTERP_CODEC_ERROR_REGISTRY, /* codecs.register_error()'s handlers */
	PCA_F_INTERP_DICT,           /* PyInterpreterState_GetDict() (3.8+) */
	PCA_F_INTERP_SYSDICT_COPY,   /* 3.12+: sys.__dict__ as at start-up */
	PCA_F_INTERP_BUILTINS_COPY,  /* builtins.__dict__ as at start-up (3.6+) */
	PCA_F_INTERP_INTERNED,       /* 3.12+: the interned strings dict */
	PCA_F_INTERP_AUDIT_HOOKS,    /* 3.8+: sys.addaudithook()'s hooks */
	PCA_F_UNICODE_INTERNED,      /* PyASCIIObject.state.interned */
	/* Members Python names by a getter, not a PyMemberDef (owner paths
	 * name them: `f.__code__`, `cell.cell_contents`, `e.__traceback__`). */
	PCA_F_TP_MEMBERS,            /* PyTypeObject.tp_members */
	PCA_F_FUNC_CODE,
	PCA_F_FUNC_DEFAULTS,
	PCA_F_FUNC_KWDEFAULTS,
	PCA_F_FUNC_NAME,
	PCA_F_FUNC_ANNOTATIONS,
	PCA_F_CELL_REF,
	PCA_F_EXC_ARGS,
	PCA_F_EXC_TRACEBACK,
	PCA_F_EXC_CONTEXT,
	PCA_F_EXC_CAUSE,
	PCA_F_TB_NEXT,
	PCA_F_DESCR_TYPE,            /* PyDescrObject.d_type (owner names a static type's dict) */
	PCA_F_MODULEDEF_COPY,        /* PyModuleDef.m_base.m_copy: a single-phase module's dict copy */
	PCA_F_CFUNC_SELF,            /* PyCFunctionObject.m_self (`__self__`) */
	PCA_F_TP_SUBCLASSES,         /* PyTypeObject.tp_subclasses */
	PCA_FIELD_COUNT
};

struct pca_layout_field {
	bool present;
	uint64_t offset;
	uint64_t size;
	uint32_t bit_offset, bit_size;
};

/* How frames are found: PyFrameObject chain (3.6-3.10) or interpreter frames (3.11+). */
enum pca_frame_model {
	PCA_FRAMES_OBJECTS,
	PCA_FRAMES_INTERPRETER,
};

struct pca_layout {
	int major, minor, micro;
	char version[64];          /* "3.12.1" */
	/* "dwarf", "table", or "debug_offsets" (3.13+ with a table or DWARF of
	 * another build: the core's _Py_DebugOffsets for what it covers) */
	const char *source;
	uint64_t sizes[PCA_STRUCT_COUNT]; /* 0 = not in this version */
	struct pca_layout_field fields[PCA_FIELD_COUNT];
	enum pca_linetable_format linetable;
	enum pca_frame_model frame_model;
	/* Units of f_lasti / instruction pointers, in bytes of bytecode:
	 * 1 before 3.10 (byte offsets), 2 from 3.10 (code units). */
	int lasti_unit;
	/* 3.12+: _PyInterpreterFrame.owner value of C-stack shim frames to skip; -1 none. */
	int owner_cstack;
	/* sys.getsizeof adds the GC head when the TYPE has Py_TPFLAGS_HAVE_GC
	 * (3.12: _PyType_PreHeaderSize), not when the OBJECT is GC (tp_is_gc:
	 * 3.6-3.11, 3.13): static type objects differ. */
	bool sizeof_gc_by_type_flag;
	/* Type flags whose instances have the 2-pointer pre-header that
	 * sys.getsizeof counts (3.11+), 0 before. */
	uint64_t tpflags_preheader;
	/* int.__sizeof__ counts at least one digit from 3.11 (Objects/longobject.c
	 * int___sizeof___impl: Py_MAX(ndigits, 1)); 0 is 24 bytes before, 28 after. */
	bool long_min_one_digit;
	/* 3.11+ gi_frame_state of a finished generator (enum FRAME_CLEARED); -1 before. */
	int frame_cleared;
	/* Where a 3.11+ instance keeps its managed __dict__ (Objects/typeobject.c
	 * subtype_traverse, Include/internal/pycore_object.h at each tag). */
	enum {
		PCA_MANAGED_DICT_NONE,  /* 3.6-3.10: tp_dictoffset only */
		PCA_MANAGED_DICT_311,   /* values pointer at obj[-4], dict at obj[-3] */
		PCA_MANAGED_DICT_312,   /* obj[-3] tagged: low bit set = values, else dict */
		PCA_MANAGED_DICT_313,   /* dict at obj[-3], values inline after tp_basicsize */
	} managed_dict;
	/* 3.13+: how many offsets and sizes of the core's _Py_DebugOffsets
	 * agreed with this layout (debug_offsets.c); 0 before 3.13. */
	unsigned debug_offsets_checked;
	/* Mask of flag bits in _gc_prev (3.8+: the two low bits), 0 before. */
	uint64_t gc_prev_flag_mask;
	/* 3.6-3.11: the address of Objects/unicodeobject.c's static `interned`
	 * (PyObject *: the interned strings dict; 3.12+ keep it in the
	 * interpreter, PCA_F_INTERP_INTERNED); 0 when absent. */
	uint64_t interned_static;
};

struct pca_error *pca_layout_resolve(struct pca_symbols *symbols, struct pca_target *target,
				     struct pca_layout *ret);

/* A member role: the names it has had (the first this build has wins), in
 * which of the caller's structs; `id` and `in` index the caller's arrays. */
enum { PCA_LAYOUT_MAX_ALTERNATIVES = 3 };
struct pca_member_role {
	unsigned id, in;
	bool required; /* whenever its struct exists */
	const char *paths[PCA_LAYOUT_MAX_ALTERNATIVES];
};
/* Resolve roles against the structs found (dies, found, sizes, names by
 * `in`) into fields (by `id`), checking each member lies inside its struct
 * (a flexible array may sit at the end); bitfields only if allowed. Errors
 * name the struct and member, and `what` is not supported ("this version"). */
struct pca_error *pca_layout_resolve_roles(const struct pca_member_role *roles, size_t count,
					   Dwarf_Die *dies, const bool *found,
					   const uint64_t *sizes, const char *const *struct_names,
					   bool allow_bitfields, const char *version, const char *what,
					   struct pca_layout_field *fields);

static inline uint64_t pca_layout_offset(const struct pca_layout *l, enum pca_field f)
{
	return l->fields[f].offset;
}
static inline bool pca_layout_has(const struct pca_layout *l, enum pca_field f)
{
	return l->fields[f].present;
}

#endif

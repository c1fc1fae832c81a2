/* Layouts from DWARF by name. Roles list every name a member has had; the
 * first that exists in this build wins. */
#include "layout/layout.h"
#include "layout/debug_offsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct struct_spec {
	enum pca_struct id;
	const char *name; /* struct tag or typedef name */
};

static const struct struct_spec struct_specs[] = {
	{PCA_S_OBJECT, "_object"},
	{PCA_S_VAROBJECT, "PyVarObject"},
	{PCA_S_ASCII, "PyASCIIObject"},
	{PCA_S_COMPACT_UNICODE, "PyCompactUnicodeObject"},
	{PCA_S_UNICODE, "PyUnicodeObject"},
	{PCA_S_BYTES, "PyBytesObject"},
	{PCA_S_CODE, "PyCodeObject"},
	{PCA_S_FRAME, "_frame"},
	{PCA_S_IFRAME, "_PyInterpreterFrame"},
	{PCA_S_TSTATE, "_ts"},
	{PCA_S_INTERP, "_is"},
	{PCA_S_RUNTIME, "pyruntimestate"},
	{PCA_S_CFRAME, "_PyCFrame"},
	{PCA_S_TYPE, "_typeobject"},
	{PCA_S_HEAPTYPE, "_heaptypeobject"},
	{PCA_S_GC_HEAD, "PyGC_Head"},
	{PCA_S_GC_GENERATION, "gc_generation"},
	{PCA_S_DICT, "PyDictObject"},
	{PCA_S_DICT_KEYS, "_dictkeysobject"},
	{PCA_S_DICT_ENTRY, "PyDictKeyEntry"},
	{PCA_S_DICT_UNICODE_ENTRY, "PyDictUnicodeEntry"},
	{PCA_S_LIST, "PyListObject"},
	{PCA_S_SET, "PySetObject"},
	{PCA_S_SET_ENTRY, "setentry"},
	{PCA_S_DICT_VALUES, "_dictvalues"},
	{PCA_S_DEQUE, "dequeobject"},
	{PCA_S_DEQUE_BLOCK, "BLOCK"},
	{PCA_S_METHODDEF, "PyMethodDef"},
	{PCA_S_LONG, "_longobject"},
	{PCA_S_MEMBERDEF, "PyMemberDef"},
	{PCA_S_TUPLE, "PyTupleObject"},
	{PCA_S_BYTEARRAY, "PyByteArrayObject"},
	{PCA_S_GEN, "PyGenObject"},
	{PCA_S_MODULE, "PyModuleObject"},
	{PCA_S_MODULEDEF, "PyModuleDef"},
	{PCA_S_ODICT_NODE, "_odictnode"},
	{PCA_S_ODICT, "_odictobject"},
	{PCA_S_OPCACHE, "_PyOpcache"},
	{PCA_S_LRU, "lru_cache_object"},
	{PCA_S_LRU_ELEM, "lru_list_elem"},
	{PCA_S_FUNCTION, "PyFunctionObject"},
	{PCA_S_WEAKREF, "_PyWeakReference"},
	{PCA_S_CELL, "PyCellObject"},
	{PCA_S_EXCEPTION, "PyBaseExceptionObject"},
	{PCA_S_TRACEBACK, "PyTracebackObject"},
	{PCA_S_DESCR, "PyDescrObject"},
	{PCA_S_CFUNCTION, "PyCFunctionObject"},
};

static const struct pca_member_role field_specs[] = {
	{PCA_F_OB_REFCNT, PCA_S_OBJECT, true, {"ob_refcnt"}},
	{PCA_F_OB_TYPE, PCA_S_OBJECT, true, {"ob_type"}},
	{PCA_F_OB_SIZE, PCA_S_VAROBJECT, true, {"ob_size"}},
	{PCA_F_TP_NAME, PCA_S_TYPE, true, {"tp_name"}},
	{PCA_F_RUNTIME_INTERP_HEAD, PCA_S_RUNTIME, true, {"interpreters.head"}},
	{PCA_F_INTERP_NEXT, PCA_S_INTERP, true, {"next"}},
	{PCA_F_INTERP_THREADS_HEAD, PCA_S_INTERP, true, {"threads.head", "tstate_head"}},
	{PCA_F_TSTATE_NEXT, PCA_S_TSTATE, true, {"next"}},
	{PCA_F_TSTATE_INTERP, PCA_S_TSTATE, true, {"interp"}},
	{PCA_F_TSTATE_THREAD_ID, PCA_S_TSTATE, true, {"thread_id"}},
	{PCA_F_TSTATE_NATIVE_THREAD_ID, PCA_S_TSTATE, false, {"native_thread_id"}},
	{PCA_F_TSTATE_FRAME, PCA_S_TSTATE, false, {"frame"}},
	{PCA_F_TSTATE_CFRAME, PCA_S_TSTATE, false, {"cframe"}},
	{PCA_F_TSTATE_CURRENT_FRAME, PCA_S_TSTATE, false, {"current_frame"}},
	{PCA_F_CFRAME_CURRENT_FRAME, PCA_S_CFRAME, true, {"current_frame"}},
	{PCA_F_FRAME_BACK, PCA_S_FRAME, true, {"f_back"}},
	{PCA_F_FRAME_CODE, PCA_S_FRAME, false, {"f_code"}},
	{PCA_F_FRAME_LASTI, PCA_S_FRAME, false, {"f_lasti"}},
	{PCA_F_FRAME_LINENO, PCA_S_FRAME, true, {"f_lineno"}},
	{PCA_F_FRAME_TRACE, PCA_S_FRAME, true, {"f_trace"}},
	{PCA_F_IFRAME_PREVIOUS, PCA_S_IFRAME, true, {"previous"}},
	{PCA_F_IFRAME_CODE, PCA_S_IFRAME, true, {"f_executable", "f_code"}},
	{PCA_F_IFRAME_INSTR, PCA_S_IFRAME, true, {"instr_ptr", "prev_instr"}},
	{PCA_F_IFRAME_OWNER, PCA_S_IFRAME, true, {"owner"}},
	{PCA_F_CODE_FILENAME, PCA_S_CODE, true, {"co_filename"}},
	{PCA_F_CODE_NAME, PCA_S_CODE, true, {"co_name"}},
	{PCA_F_CODE_QUALNAME, PCA_S_CODE, false, {"co_qualname"}},
	{PCA_F_CODE_FIRSTLINENO, PCA_S_CODE, true, {"co_firstlineno"}},
	{PCA_F_CODE_LINETABLE, PCA_S_CODE, true, {"co_linetable", "co_lnotab"}},
	{PCA_F_CODE_ADAPTIVE, PCA_S_CODE, false, {"co_code_adaptive"}},
	{PCA_F_CODE_FIRSTTRACEABLE, PCA_S_CODE, false, {"_co_firsttraceable"}},
	{PCA_F_CODE_CODE, PCA_S_CODE, false, {"co_code"}},
	{PCA_F_BYTES_SVAL, PCA_S_BYTES, true, {"ob_sval"}},
	{PCA_F_UNICODE_LENGTH, PCA_S_ASCII, true, {"length"}},
	{PCA_F_UNICODE_KIND, PCA_S_ASCII, true, {"state.kind"}},
	{PCA_F_UNICODE_COMPACT, PCA_S_ASCII, true, {"state.compact"}},
	{PCA_F_UNICODE_ASCII, PCA_S_ASCII, true, {"state.ascii"}},
	{PCA_F_UNICODE_DATA, PCA_S_UNICODE, true, {"data.any", "data"}},
	{PCA_F_GC_NEXT, PCA_S_GC_HEAD, true, {"_gc_next", "gc.gc_next"}},
	{PCA_F_GC_PREV, PCA_S_GC_HEAD, true, {"_gc_prev", "gc.gc_prev"}},
	{PCA_F_RUNTIME_GC_GENERATIONS, PCA_S_RUNTIME, false, {"gc.generations"}},
	{PCA_F_RUNTIME_GC_PERMANENT, PCA_S_RUNTIME, false, {"gc.permanent_generation"}},
	{PCA_F_INTERP_GC_GENERATIONS, PCA_S_INTERP, false, {"gc.generations"}},
	{PCA_F_INTERP_GC_PERMANENT, PCA_S_INTERP, false, {"gc.permanent_generation"}},
	{PCA_F_RUNTIME_GC_ENABLED, PCA_S_RUNTIME, false, {"gc.enabled"}},
	{PCA_F_INTERP_GC_ENABLED, PCA_S_INTERP, false, {"gc.enabled"}},
	{PCA_F_GC_GENERATION_COUNT, PCA_S_GC_GENERATION, false, {"count"}},
	{PCA_F_GC_GENERATION_THRESHOLD, PCA_S_GC_GENERATION, false, {"threshold"}},
	{PCA_F_TP_FLAGS, PCA_S_TYPE, true, {"tp_flags"}},
	{PCA_F_TP_BASICSIZE, PCA_S_TYPE, true, {"tp_basicsize"}},
	{PCA_F_TP_ITEMSIZE, PCA_S_TYPE, true, {"tp_itemsize"}},
	{PCA_F_TP_DICTOFFSET, PCA_S_TYPE, true, {"tp_dictoffset"}},
	{PCA_F_TP_BASE, PCA_S_TYPE, true, {"tp_base"}},
	{PCA_F_HT_QUALNAME, PCA_S_HEAPTYPE, true, {"ht_qualname"}},
	{PCA_F_HT_NAME, PCA_S_HEAPTYPE, true, {"ht_name"}},
	{PCA_F_TP_DICT, PCA_S_TYPE, true, {"tp_dict"}},
	{PCA_F_TP_BASES, PCA_S_TYPE, false, {"tp_bases"}},
	{PCA_F_TP_MRO, PCA_S_TYPE, false, {"tp_mro"}},
	{PCA_F_DICT_USED, PCA_S_DICT, true, {"ma_used"}},
	{PCA_F_DICT_KEYS, PCA_S_DICT, true, {"ma_keys"}},
	{PCA_F_DICT_VALUES, PCA_S_DICT, true, {"ma_values"}},
	{PCA_F_DK_REFCNT, PCA_S_DICT_KEYS, true, {"dk_refcnt"}},
	{PCA_F_DK_SIZE, PCA_S_DICT_KEYS, false, {"dk_size"}},
	{PCA_F_DK_LOG2_SIZE, PCA_S_DICT_KEYS, false, {"dk_log2_size"}},
	{PCA_F_DK_LOG2_INDEX_BYTES, PCA_S_DICT_KEYS, false, {"dk_log2_index_bytes"}},
	{PCA_F_DK_KIND, PCA_S_DICT_KEYS, false, {"dk_kind"}},
	{PCA_F_DK_NENTRIES, PCA_S_DICT_KEYS, true, {"dk_nentries"}},
	{PCA_F_DK_USABLE, PCA_S_DICT_KEYS, true, {"dk_usable"}},
	{PCA_F_DK_INDICES, PCA_S_DICT_KEYS, true, {"dk_indices"}},
	{PCA_F_LIST_ALLOCATED, PCA_S_LIST, true, {"allocated"}},
	{PCA_F_SET_TABLE, PCA_S_SET, true, {"table"}},
	{PCA_F_SET_MASK, PCA_S_SET, true, {"mask"}},
	{PCA_F_SET_SMALLTABLE, PCA_S_SET, true, {"smalltable"}},
	{PCA_F_DICT_VALUES_VALUES, PCA_S_DICT_VALUES, true, {"values"}},
	{PCA_F_DICT_VALUES_EMBEDDED, PCA_S_DICT_VALUES, false, {"embedded"}},
	{PCA_F_DEQUE_LEFTINDEX, PCA_S_DEQUE, true, {"leftindex"}},
	{PCA_F_TP_METHODS, PCA_S_TYPE, true, {"tp_methods"}},
	{PCA_F_LONG_DIGITS, PCA_S_LONG, true, {"long_value.ob_digit", "ob_digit"}},
	{PCA_F_LONG_TAG, PCA_S_LONG, false, {"long_value.lv_tag"}},
	{PCA_F_UNICODE_UTF8, PCA_S_COMPACT_UNICODE, true, {"utf8"}},
	{PCA_F_UNICODE_UTF8_LENGTH, PCA_S_COMPACT_UNICODE, true, {"utf8_length"}},
	{PCA_F_UNICODE_WSTR, PCA_S_ASCII, false, {"wstr"}},
	{PCA_F_UNICODE_WSTR_LENGTH, PCA_S_COMPACT_UNICODE, false, {"wstr_length"}},
	{PCA_F_BYTEARRAY_ALLOC, PCA_S_BYTEARRAY, true, {"ob_alloc"}},
	{PCA_F_TUPLE_ITEMS, PCA_S_TUPLE, true, {"ob_item"}},
	{PCA_F_LIST_ITEMS, PCA_S_LIST, true, {"ob_item"}},
	{PCA_F_TP_TRAVERSE, PCA_S_TYPE, true, {"tp_traverse"}},
	{PCA_F_HT_CACHED_KEYS, PCA_S_HEAPTYPE, true, {"ht_cached_keys"}},
	{PCA_F_MEMBERDEF_TYPE, PCA_S_MEMBERDEF, true, {"type"}},
	{PCA_F_MEMBERDEF_OFFSET, PCA_S_MEMBERDEF, true, {"offset"}},
	{PCA_F_DICT_VALUES_SIZE, PCA_S_DICT_VALUES, false, {"size"}},
	{PCA_F_DICT_VALUES_VALID, PCA_S_DICT_VALUES, false, {"valid"}},
	{PCA_F_DEQUE_LEFTBLOCK, PCA_S_DEQUE, true, {"leftblock"}},
	{PCA_F_BLOCK_DATA, PCA_S_DEQUE_BLOCK, true, {"data"}},
	{PCA_F_BLOCK_RIGHTLINK, PCA_S_DEQUE_BLOCK, true, {"rightlink"}},
	{PCA_F_FRAME_LOCALSPLUS, PCA_S_FRAME, false, {"f_localsplus"}},
	{PCA_F_FRAME_VALUESTACK, PCA_S_FRAME, false, {"f_valuestack"}},
	{PCA_F_FRAME_STACKTOP, PCA_S_FRAME, false, {"f_stacktop"}},
	{PCA_F_FRAME_STACKDEPTH, PCA_S_FRAME, false, {"f_stackdepth"}},
	{PCA_F_IFRAME_FUNC, PCA_S_IFRAME, true, {"f_funcobj", "f_func"}},
	{PCA_F_IFRAME_LOCALS, PCA_S_IFRAME, true, {"f_locals"}},
	{PCA_F_IFRAME_FRAME_OBJ, PCA_S_IFRAME, true, {"frame_obj"}},
	{PCA_F_IFRAME_STACKTOP, PCA_S_IFRAME, true, {"stacktop"}},
	{PCA_F_IFRAME_LOCALSPLUS, PCA_S_IFRAME, true, {"localsplus"}},
	{PCA_F_IFRAME_GLOBALS, PCA_S_IFRAME, true, {"f_globals"}},
	{PCA_F_IFRAME_BUILTINS, PCA_S_IFRAME, true, {"f_builtins"}},
	{PCA_F_FRAMEOBJ_FRAME, PCA_S_FRAME, false, {"f_frame"}},
	{PCA_F_FRAMEOBJ_DATA, PCA_S_FRAME, false, {"_f_frame_data"}},
	{PCA_F_GEN_IFRAME, PCA_S_GEN, false, {"gi_iframe"}},
	{PCA_F_GEN_FRAME_STATE, PCA_S_GEN, false, {"gi_frame_state"}},
	{PCA_F_CODE_NLOCALSPLUS, PCA_S_CODE, false, {"co_nlocalsplus"}},
	{PCA_F_CODE_STACKSIZE, PCA_S_CODE, true, {"co_stacksize"}},
	{PCA_F_MODULE_DEF, PCA_S_MODULE, true, {"md_def"}},
	{PCA_F_MODULE_DICT, PCA_S_MODULE, true, {"md_dict"}},
	{PCA_F_MODULE_STATE, PCA_S_MODULE, true, {"md_state"}},
	{PCA_F_MODULEDEF_SIZE, PCA_S_MODULEDEF, true, {"m_size"}},
	{PCA_F_MODULEDEF_TRAVERSE, PCA_S_MODULEDEF, true, {"m_traverse"}},
	{PCA_F_ODICT_FIRST, PCA_S_ODICT, true, {"od_first"}},
	{PCA_F_ODICT_FAST_SIZE, PCA_S_ODICT, true, {"od_fast_nodes_size"}},
	{PCA_F_CODE_NLOCALS, PCA_S_CODE, false, {"co_nlocals"}},
	{PCA_F_CODE_CELLVARS, PCA_S_CODE, false, {"co_cellvars"}},
	{PCA_F_CODE_FREEVARS, PCA_S_CODE, false, {"co_freevars"}},
	{PCA_F_CODE_CELL2ARG, PCA_S_CODE, false, {"co_cell2arg"}},
	{PCA_F_CODE_EXTRA, PCA_S_CODE, true, {"co_extra"}},
	{PCA_F_CODE_OPCACHE, PCA_S_CODE, false, {"co_opcache"}},
	{PCA_F_CODE_OPCACHE_SIZE, PCA_S_CODE, false, {"co_opcache_size"}},
	{PCA_F_FRAME_GLOBALS, PCA_S_FRAME, false, {"f_globals"}},
	{PCA_F_MEMBERDEF_NAME, PCA_S_MEMBERDEF, true, {"name"}},
	{PCA_F_CODE_VARNAMES, PCA_S_CODE, false, {"co_varnames"}},
	{PCA_F_CODE_LOCALSPLUSNAMES, PCA_S_CODE, false, {"co_localsplusnames"}},
	{PCA_F_LRU_ROOT_NEXT, PCA_S_LRU, true, {"root.next"}},
	{PCA_F_LRU_MAXSIZE, PCA_S_LRU, true, {"maxsize"}},
	{PCA_F_LRU_TYPED, PCA_S_LRU, true, {"typed"}},
	{PCA_F_LRU_HITS, PCA_S_LRU, true, {"hits"}},
	{PCA_F_LRU_MISSES, PCA_S_LRU, true, {"misses"}},
	{PCA_F_LRU_CACHE, PCA_S_LRU, true, {"cache"}},
	{PCA_F_LRU_FUNC, PCA_S_LRU, true, {"func"}},
	{PCA_F_LRU_ELEM_NEXT, PCA_S_LRU_ELEM, true, {"next"}},
	{PCA_F_LRU_ELEM_KEY, PCA_S_LRU_ELEM, true, {"key"}},
	{PCA_F_LRU_ELEM_RESULT, PCA_S_LRU_ELEM, true, {"result"}},
	{PCA_F_WEAKREF_OBJECT, PCA_S_WEAKREF, false, {"wr_object"}},
	{PCA_F_FUNC_QUALNAME, PCA_S_FUNCTION, true, {"func_qualname"}},
	{PCA_F_FUNC_MODULE, PCA_S_FUNCTION, true, {"func_module"}},
	{PCA_F_SET_USED, PCA_S_SET, true, {"used"}},
	{PCA_F_DEQUE_MAXLEN, PCA_S_DEQUE, true, {"maxlen"}},
	{PCA_F_DK_ENTRY_KEY, PCA_S_DICT_ENTRY, true, {"me_key"}},
	{PCA_F_DK_ENTRY_VALUE, PCA_S_DICT_ENTRY, true, {"me_value"}},
	{PCA_F_DK_UENTRY_KEY, PCA_S_DICT_UNICODE_ENTRY, true, {"me_key"}},
	{PCA_F_DK_UENTRY_VALUE, PCA_S_DICT_UNICODE_ENTRY, true, {"me_value"}},
	{PCA_F_INTERP_MODULES, PCA_S_INTERP, false, {"imports.modules", "modules"}},
	{PCA_F_INTERP_MODULES_BY_INDEX, PCA_S_INTERP, false, {"imports.modules_by_index", "modules_by_index"}},
	{PCA_F_INTERP_SYSDICT, PCA_S_INTERP, false, {"sysdict"}},
	{PCA_F_INTERP_BUILTINS, PCA_S_INTERP, false, {"builtins"}},
	{PCA_F_INTERP_IMPORTLIB, PCA_S_INTERP, false, {"imports.importlib", "importlib"}},
	{PCA_F_INTERP_IMPORT_FUNC, PCA_S_INTERP, false, {"imports.import_func", "import_func"}},
	{PCA_F_INTERP_CODEC_SEARCH_PATH, PCA_S_INTERP, false, {"codecs.search_path", "codec_search_path"}},
	{PCA_F_INTERP_CODEC_SEARCH_CACHE, PCA_S_INTERP, false, {"codecs.search_cache", "codec_search_cache"}},
	{PCA_F_INTERP_CODEC_ERROR_REGISTRY, PCA_S_INTERP, false, {"codecs.error_registry", "codec_error_registry"}},
	{PCA_F_INTERP_DICT, PCA_S_INTERP, false, {"dict"}},
	{PCA_F_INTERP_SYSDICT_COPY, PCA_S_INTERP, false, {"sysdict_copy"}},
	{PCA_F_INTERP_BUILTINS_COPY, PCA_S_INTERP, false, {"builtins_copy"}},
	{PCA_F_INTERP_INTERNED, PCA_S_INTERP, false, {"cached_objects.interned_strings"}},
	{PCA_F_INTERP_AUDIT_HOOKS, PCA_S_INTERP, false, {"audit_hooks"}},
	{PCA_F_UNICODE_INTERNED, PCA_S_ASCII, false, {"state.interned"}},
	{PCA_F_TP_MEMBERS, PCA_S_TYPE, false, {"tp_members"}},
	{PCA_F_FUNC_CODE, PCA_S_FUNCTION, false, {"func_code"}},
	{PCA_F_FUNC_DEFAULTS, PCA_S_FUNCTION, false, {"func_defaults"}},
	{PCA_F_FUNC_KWDEFAULTS, PCA_S_FUNCTION, false, {"func_kwdefaults"}},
	{PCA_F_FUNC_NAME, PCA_S_FUNCTION, false, {"func_name"}},
	{PCA_F_FUNC_ANNOTATIONS, PCA_S_FUNCTION, false, {"func_annotations"}},
	{PCA_F_CELL_REF, PCA_S_CELL, false, {"ob_ref"}},
	{PCA_F_EXC_ARGS, PCA_S_EXCEPTION, false, {"args"}},
	{PCA_F_EXC_TRACEBACK, PCA_S_EXCEPTION, false, {"traceback"}},
	{PCA_F_EXC_CONTEXT, PCA_S_EXCEPTION, false, {"context"}},
	{PCA_F_EXC_CAUSE, PCA_S_EXCEPTION, false, {"cause"}},
	{PCA_F_TB_NEXT, PCA_S_TRACEBACK, false, {"tb_next"}},
	{PCA_F_DESCR_TYPE, PCA_S_DESCR, false, {"d_type"}},
	{PCA_F_MODULEDEF_COPY, PCA_S_MODULEDEF, false, {"m_base.m_copy"}},
	{PCA_F_CFUNC_SELF, PCA_S_CFUNCTION, false, {"m_self"}},
	{PCA_F_TP_SUBCLASSES, PCA_S_TYPE, false, {"tp_subclasses"}},
};

/* Structures above this size are not CPython's; a DWARF reader bug or a
 * corrupt file would produce them. */
static const uint64_t max_struct_size = 64u << 20;

static const char *struct_name(enum pca_struct id)
{
	for (size_t i = 0; i < sizeof(struct_specs) / sizeof(struct_specs[0]); i++)
		if (struct_specs[i].id == id)
			return struct_specs[i].name;
	return "?";
}

/* The interpreter's own version string: Py_GetVersion()'s static buffer,
 * filled at start-up in every version (Python/getversion.c); 3.11+ also
 * exports Py_Version (PY_VERSION_HEX). */
static struct pca_error *read_version(struct pca_symbols *s, struct pca_target *t,
				      struct pca_layout *l)
{
	static const char *const buffer_symbols[] = {"version.0", "version"};
	for (size_t i = 0; i < 2; i++) {
		uint64_t addr;
		char buf[64];
		if (!pca_symbols_lookup(s, buffer_symbols[i], &addr))
			continue;
		if (!pca_target_try_read(t, addr, buf, sizeof(buf)))
			continue;
		buf[sizeof(buf) - 1] = '\0';
		if (sscanf(buf, "%d.%d.%d", &l->major, &l->minor, &l->micro) == 3 && l->major == 3)
			goto found;
	}
	uint64_t addr, hex;
	if (pca_symbols_lookup(s, "Py_Version", &addr) && pca_target_try_read_u64(t, addr, &hex)) {
		l->major = (int)((hex >> 24) & 0xff);
		l->minor = (int)((hex >> 16) & 0xff);
		l->micro = (int)((hex >> 8) & 0xff);
		if (l->major == 3)
			goto found;
	}
	/* 3.6-3.10 of another build than a table's: the buffer's symbol was
	 * stripped, its text is still in the file's memory. */
	char text[32];
	if (pca_symbols_find_version_string(s, text, sizeof(text)) &&
	    sscanf(text, "%d.%d.%d", &l->major, &l->minor, &l->micro) == 3 && l->major == 3)
		goto found;
	return pca_error_create(PCA_ERROR_NOT_PYTHON,
				"cannot read the Python version from %s: the interpreter was not initialised or the core is damaged",
				pca_symbols_python_file(s));
found:
	snprintf(l->version, sizeof(l->version), "%d.%d.%d", l->major, l->minor, l->micro);
	/* 3.14 moved the collector to two generations plus an incremental old
	 * space, changed _PyInterpreterFrame (f_executable as a tagged
	 * _PyStackRef) and the frame/thread-state layout; 3.13's free-threaded
	 * build has another object header. Guessing from 3.13's rules would
	 * print wrong numbers: refuse (docs/no-debug-info.md says what support
	 * needs). */
	if (l->minor > 13 || l->minor < 6)
		return pca_error_create(
			PCA_ERROR_NOT_PYTHON,
			"Python %s is not supported yet: pycore-analyze reads CPython 3.6 to 3.13 (see docs/no-debug-info.md for 3.14+)",
			l->version);
	return NULL;
}

struct pca_error *pca_layout_resolve_roles(const struct pca_member_role *roles, size_t count,
					   Dwarf_Die *dies, const bool *found,
					   const uint64_t *sizes, const char *const *struct_names,
					   bool allow_bitfields, const char *version, const char *what,
					   struct pca_layout_field *fields)
{
	for (size_t i = 0; i < count; i++) {
		const struct pca_member_role *spec = &roles[i];
		struct pca_layout_field *f = &fields[spec->id];
		if (!found[spec->in])
			continue;
		for (size_t a = 0; a < PCA_LAYOUT_MAX_ALTERNATIVES && spec->paths[a] && !f->present; a++) {
			struct pca_dwarf_member m;
			if (!pca_dwarf_member(&dies[spec->in], spec->paths[a], &m))
				continue;
			/* A flexible array member (size 0) may sit at the very end. */
			if (m.offset > sizes[spec->in] || m.size > sizes[spec->in] - m.offset ||
			    (m.bit_size && !allow_bitfields))
				return pca_error_create(
					PCA_ERROR_DEBUGINFO,
					"debug info is inconsistent: %s.%s at offset %llu (size %llu) does not fit the struct (%llu bytes)",
					struct_names[spec->in], spec->paths[a],
					(unsigned long long)m.offset, (unsigned long long)m.size,
					(unsigned long long)sizes[spec->in]);
			f->present = true;
			f->offset = m.offset;
			f->size = m.size;
			f->bit_offset = m.bit_offset;
			f->bit_size = m.bit_size;
		}
		if (!f->present && spec->required)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"debug info has no member %s in %s (Python %s): %s is not supported",
						spec->paths[0], struct_names[spec->in], version, what);
	}
	return NULL;
}

/* Behaviour by version, derived from which members exist:
 * - line tables: co_code_adaptive exists from 3.11 (location table, PEP 657);
 *   co_linetable without it is 3.10's PEP 626 table; co_lnotab is 3.6-3.9.
 * - f_lasti counts bytes before 3.10 and code units from 3.10 (the PEP 626
 *   change, Objects/frameobject.c PyFrame_GetLineNumber at v3.10.0).
 * - frames: _PyInterpreterFrame exists from 3.11. */
static struct pca_error *decide_behaviour(struct pca_symbols *s, struct pca_layout *l,
					  Dwarf_Die *dies)
{
	struct pca_dwarf_member m;
	if (l->fields[PCA_F_CODE_ADAPTIVE].present)
		l->linetable = PCA_LINETABLE_LOCATIONS;
	else if (pca_dwarf_member(&dies[PCA_S_CODE], "co_linetable", &m))
		l->linetable = PCA_LINETABLE_PEP626;
	else
		l->linetable = PCA_LINETABLE_LNOTAB;
	l->lasti_unit = l->linetable == PCA_LINETABLE_LNOTAB ? 1 : 2;
	l->frame_model = l->sizes[PCA_S_IFRAME] ? PCA_FRAMES_INTERPRETER : PCA_FRAMES_OBJECTS;
	l->owner_cstack = -1;
	int64_t value;
	if (pca_symbols_find_enumerator(s, "FRAME_OWNED_BY_CSTACK", &value))
		l->owner_cstack = (int)value;
	/* Python/sysmodule.c _PySys_GetSizeOf: 3.12 adds _PyType_PreHeaderSize
	 * (type flag based, pre-header included); 3.13 adds it too but checks the
	 * object (_PyObject_IS_GC) for the GC part; 3.6-3.11 add the GC head when
	 * _PyObject_IS_GC. Measured here: getsizeof(int) is 400/416/424/432/416
	 * on 3.6/3.8/3.11/3.12/3.13. */
	l->sizeof_gc_by_type_flag = l->major == 3 && (l->minor == 11 || l->minor == 12);
	/* 3.11+: instances with a managed dict (Py_TPFLAGS_MANAGED_DICT, 1 << 4) or
	 * 3.12+ managed weakref (1 << 3) carry two pointers before the object;
	 * getsizeof counts them (measured: A() is 56 on 3.11 with basicsize 24). */
	l->long_min_one_digit = l->major == 3 && l->minor >= 11;
	l->frame_cleared = -1;
	if (pca_symbols_find_enumerator(s, "FRAME_CLEARED", &value))
		l->frame_cleared = (int)value;
	l->managed_dict = l->major != 3 || l->minor < 11 ? PCA_MANAGED_DICT_NONE
			  : l->minor == 11		  ? PCA_MANAGED_DICT_311
			  : l->minor == 12		  ? PCA_MANAGED_DICT_312
							  : PCA_MANAGED_DICT_313;
	l->tpflags_preheader = l->major == 3 && l->minor >= 11 ? (1u << 4) | (1u << 3) : 0;
	/* 3.8+ Include/internal/pycore_gc.h: _PyGC_PREV_MASK clears two flag bits. */
	l->gc_prev_flag_mask = pca_dwarf_member(&dies[PCA_S_GC_HEAD], "_gc_prev", &m) ? 3 : 0;
	if (l->frame_model == PCA_FRAMES_OBJECTS &&
	    (!l->fields[PCA_F_TSTATE_FRAME].present || !l->fields[PCA_F_FRAME_CODE].present ||
	     !l->fields[PCA_F_FRAME_LASTI].present))
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"debug info lacks PyThreadState.frame or PyFrameObject.f_code/f_lasti (Python %s)",
					l->version);
	if (l->frame_model == PCA_FRAMES_INTERPRETER && !l->fields[PCA_F_TSTATE_CURRENT_FRAME].present &&
	    !(l->fields[PCA_F_TSTATE_CFRAME].present && l->sizes[PCA_S_CFRAME]))
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"debug info has no way to the current frame of a thread (Python %s)",
					l->version);
	return NULL;
}

struct pca_error *pca_layout_resolve(struct pca_symbols *symbols, struct pca_target *target,
				     struct pca_layout *ret)
{
	struct pca_layout l;
	memset(&l, 0, sizeof(l));
	l.source = pca_symbols_layout_source(symbols);
	struct pca_error *err = read_version(symbols, target, &l);
	if (err)
		return err;

	const char *names[PCA_STRUCT_COUNT];
	Dwarf_Die found_dies[PCA_STRUCT_COUNT];
	bool found_list[PCA_STRUCT_COUNT];
	for (size_t i = 0; i < PCA_STRUCT_COUNT; i++)
		names[i] = struct_name((enum pca_struct)i);
	err = pca_symbols_find_types(symbols, names, PCA_STRUCT_COUNT, found_dies, found_list);
	if (err)
		return err;
	for (size_t i = 0; i < PCA_STRUCT_COUNT; i++) {
		if (!found_list[i])
			continue;
		if (!pca_dwarf_type_size(&found_dies[i], &l.sizes[i]) || l.sizes[i] == 0 ||
		    l.sizes[i] > max_struct_size)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"debug info gives an implausible size for %s", names[i]);
	}
	static const enum pca_struct always[] = {PCA_S_OBJECT, PCA_S_VAROBJECT, PCA_S_ASCII,
						 PCA_S_COMPACT_UNICODE, PCA_S_UNICODE, PCA_S_BYTES,
						 PCA_S_CODE, PCA_S_TSTATE, PCA_S_INTERP, PCA_S_TYPE,
						 PCA_S_HEAPTYPE, PCA_S_GC_HEAD, PCA_S_DICT,
						 PCA_S_DICT_KEYS, PCA_S_DICT_ENTRY, PCA_S_LIST,
						 PCA_S_SET, PCA_S_SET_ENTRY, PCA_S_METHODDEF,
						 PCA_S_LONG, PCA_S_MEMBERDEF, PCA_S_TUPLE,
						 PCA_S_BYTEARRAY};
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (!found_list[always[i]])
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"debug info for %s has no definition of %s (Python %s): is it complete?",
						pca_symbols_python_file(symbols), names[always[i]],
						l.version);
	err = pca_layout_resolve_roles(field_specs, sizeof(field_specs) / sizeof(field_specs[0]),
				       found_dies, found_list, l.sizes, names, true, l.version,
				       "this version", l.fields);
	if (!err)
		err = decide_behaviour(symbols, &l, found_dies);
	if (!err)
		err = pca_layout_check_debug_offsets(symbols, target, &l, &l.debug_offsets_checked);
	if (err)
		return err;
	/* 3.13+ of another build: what _Py_DebugOffsets covers (the runtime,
	 * thread and frame walk, code objects, the object header, type, tuple,
	 * list, dict, int, bytes, str) is taken as the core says, and it agreed
	 * with the borrowed table; the rest is the table's, validated while
	 * reading. */
	if (l.debug_offsets_checked && !pca_symbols_layout_exact(symbols))
		l.source = "debug_offsets";
	/* 3.6-3.11 Objects/unicodeobject.c `static PyObject *interned` (with
	 * LTO `interned.lto_priv.N`, which the sized lookup accepts); a
	 * symbol of another size is not it. */
	uint64_t addr, size;
	if (!l.fields[PCA_F_INTERP_INTERNED].present &&
	    pca_symbols_lookup_sized(symbols, "interned", &addr, &size) && (size == 8 || size == 0))
		l.interned_static = addr;
	*ret = l;
	return NULL;
}

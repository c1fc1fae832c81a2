/* The C types objects/ knows by name and the version constants of object
 * headers and type flags (layout/object_layout.h). */
#include "layout/object_layout.h"

#include <stdlib.h>
#include <string.h>

struct c_type_spec {
	const char *tp_name;
	const char *struct_name;
	const char *members[PCA_C_TYPE_MAX_MEMBERS];
};

/* C types we know by tp_name (static types, and C heap types with dotted
 * names) whose tp_traverse visits PyObject * members, by struct and member
 * name (absent members are ignored: the set differs by version, e.g.
 * func_builtins from 3.10). objects/ gives the builtin kinds (dict, list, ...)
 * their own rules; a kind listed here too has these members visited as well. */
static const struct c_type_spec specs[] = {
	{"type", "_heaptypeobject", {"ht_type.tp_dict", "ht_type.tp_cache", "ht_type.tp_mro", "ht_type.tp_bases", "ht_type.tp_base", "ht_module"}},
	/* 3.13: the base of ctypes' metatypes has its own kind (objects/types.c);
	 * its instances are types with the members of type's. */
	{"_ctypes.CType_Type", "_heaptypeobject", {"ht_type.tp_dict", "ht_type.tp_cache", "ht_type.tp_mro", "ht_type.tp_bases", "ht_type.tp_base", "ht_module"}},
	{"collections.OrderedDict", "_odictobject", {"od_inst_dict"}},
	{"collections.defaultdict", "defdictobject", {"default_factory"}},
	/* Not visited by the collector, but held (docs/usage.md): every object
	 * member of the code object, by version. */
	{"code", "PyCodeObject", {"co_consts", "co_names", "co_filename", "co_name", "co_qualname",
		"co_code", "co_varnames", "co_freevars", "co_cellvars", "co_lnotab", "co_linetable",
		"co_exceptiontable", "co_localsplusnames", "co_localspluskinds"}},
	{"frame", "_frame", {"f_back", "f_code", "f_builtins", "f_globals", "f_locals", "f_trace", "f_exc_type", "f_exc_value", "f_exc_traceback", "f_extra_locals", "f_locals_cache"}},
	/* gen_traverse; coroutines and async generators share the layout. */
	{"generator", "PyGenObject", {"gi_frame", "gi_code", "gi_name", "gi_qualname", "gi_exc_state.exc_type", "gi_exc_state.exc_value", "gi_exc_state.exc_traceback"}},
	{"coroutine", "PyGenObject", {"gi_frame", "gi_code", "gi_name", "gi_qualname", "gi_exc_state.exc_type", "gi_exc_state.exc_value", "gi_exc_state.exc_traceback"}},
	{"async_generator", "PyGenObject", {"gi_frame", "gi_code", "gi_name", "gi_qualname", "gi_exc_state.exc_type", "gi_exc_state.exc_value", "gi_exc_state.exc_traceback"}},
	{"function", "PyFunctionObject", {"func_code", "func_globals", "func_builtins", "func_module", "func_defaults", "func_kwdefaults", "func_doc", "func_name", "func_dict", "func_closure", "func_annotations", "func_qualname", "func_typeparams"}},
	{"cell", "PyCellObject", {"ob_ref"}},
	{"method", "PyMethodObject", {"im_func", "im_self"}},
	{"builtin_function_or_method", "PyCFunctionObject", {"m_self", "m_module"}},
	{"method_descriptor", "PyDescrObject", {"d_type"}},
	{"classmethod_descriptor", "PyDescrObject", {"d_type"}},
	{"member_descriptor", "PyDescrObject", {"d_type"}},
	{"getset_descriptor", "PyDescrObject", {"d_type"}},
	{"wrapper_descriptor", "PyDescrObject", {"d_type"}},
	{"method-wrapper", "wrapperobject", {"descr", "self"}},
	{"property", "propertyobject", {"prop_get", "prop_set", "prop_del", "prop_doc", "prop_name"}},
	{"classmethod", "classmethod", {"cm_callable", "cm_dict"}},
	{"staticmethod", "staticmethod", {"sm_callable", "sm_dict"}},
	{"mappingproxy", "mappingproxyobject", {"mapping"}},
	{"weakref", "_PyWeakReference", {"wr_callback"}},
	{"weakref.ReferenceType", "_PyWeakReference", {"wr_callback"}}, /* 3.10+ name */
	{"weakproxy", "_PyWeakReference", {"wr_callback"}},
	{"weakcallableproxy", "_PyWeakReference", {"wr_callback"}},
	{"module", "PyModuleObject", {"md_dict"}},
	{"functools.partial", "partialobject", {"fn", "args", "kw", "dict"}},
	/* The link's prev/next are borrowed (the list is the wrapper's). */
	{"functools._lru_list_elem", "lru_list_elem", {"key", "result"}},
	{"functools._lru_cache_wrapper", "lru_cache_object", {"maxsize_O", "cache", "func", "kwd_mark", "lru_list_elem_type", "cache_info_type", "dict"}},
	/* tp_name moved from _collections to collections in 3.12 */
	{"collections._tuplegetter", "_tuplegetterobject", {"doc"}},
	{"_collections._tuplegetter", "_tuplegetterobject", {"doc"}},
	{"types.GenericAlias", "gaobject", {"origin", "args", "parameters"}},
	{"types.UnionType", "unionobject", {"args", "parameters"}},
	/* "+memo": visited only since the type became a heap type (3.9). */
	{"_json.Scanner", "PyScannerObject", {"strict", "object_hook", "object_pairs_hook", "parse_float", "parse_int", "parse_constant", "+memo"}},
	{"types.SimpleNamespace", "_PyNamespaceObject", {"ns_dict"}},
	/* Objects/typevarobject.c (3.12+) */
	{"typing.TypeVar", "typevarobject", {"name", "bound", "evaluate_bound", "constraints", "evaluate_constraints", "default_value", "evaluate_default"}},
	{"_io.TextIOWrapper", "textio", {"buffer", "encoding", "encoder", "decoder", "readnl", "errors", "decoded_chars", "pending_bytes", "snapshot", "dict"}},
	{"_io.BufferedReader", "buffered", {"raw", "dict"}},
	{"_io.BufferedWriter", "buffered", {"raw", "dict"}},
	{"_io.BufferedRandom", "buffered", {"raw", "dict"}},
	{"_io.FileIO", "fileio", {"dict"}},
	{"_io.StringIO", "stringio", {"decoder", "readnl", "writenl", "dict"}},
	/* "+buf": bytesio_traverse visits the buffer since _io's types are heap types (3.12) */
	{"_io.BytesIO", "bytesio", {"dict", "+buf"}},
	{"re.Pattern", "PatternObject", {"groupindex", "indexgroup", "pattern"}},
	/* A match and a scanner hold their pattern and string (3.12+:
	 * visited by their traverse; before, held all the same). */
	{"re.Match", "MatchObject", {"string", "regs", "pattern"}},
	{"_sre.SRE_Match", "MatchObject", {"string", "regs", "pattern"}},
	{"_sre.SRE_Scanner", "ScannerObject", {"pattern", "state.string"}},
	{"_abc._abc_data", "_abc_data", {"_abc_registry", "_abc_cache", "_abc_negative_cache"}},
	{"_struct.Struct", "PyStructObject", {"s_format"}},
	{"operator.attrgetter", "attrgetterobject", {"attr"}},
	{"operator.itemgetter", "itemgetterobject", {"item"}},
	{"operator.methodcaller", "methodcallerobject", {"name", "args", "kwds"}},
	/* Objects/exceptions.c BaseException_traverse: PyException_HEAD's
	 * members (notes 3.11+). Subclasses with their own struct visit these
	 * and their own (the first known type up tp_base wins, so each lists
	 * the head too); the others (ValueError, KeyError, ...) are plain
	 * PyBaseExceptionObject and find BaseException up the chain. */
	{"BaseException", "PyBaseExceptionObject", {"dict", "args", "notes", "traceback", "context", "cause"}},
	{"OSError", "PyOSErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "myerrno", "strerror", "filename", "filename2"}},
	{"SyntaxError", "PySyntaxErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "msg", "filename", "lineno", "offset", "end_lineno", "end_offset", "text", "print_file_and_line"}},
	{"ImportError", "PyImportErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "msg", "name", "path", "name_from"}},
	{"UnicodeEncodeError", "PyUnicodeErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "encoding", "object", "reason"}},
	{"UnicodeDecodeError", "PyUnicodeErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "encoding", "object", "reason"}},
	{"UnicodeTranslateError", "PyUnicodeErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "encoding", "object", "reason"}},
	{"SystemExit", "PySystemExitObject", {"dict", "args", "notes", "traceback", "context", "cause", "code"}},
	{"StopIteration", "PyStopIterationObject", {"dict", "args", "notes", "traceback", "context", "cause", "value"}},
	{"NameError", "PyNameErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "name"}},
	{"AttributeError", "PyAttributeErrorObject", {"dict", "args", "notes", "traceback", "context", "cause", "obj", "name"}},
	{"BaseExceptionGroup", "PyBaseExceptionGroupObject", {"dict", "args", "notes", "traceback", "context", "cause", "msg", "excs"}},
	/* Iterators and views (Objects/iterobject.c, tupleobject.c,
	 * listobject.c, dictobject.c, setobject.c, enumobject.c,
	 * bltinmodule.c, Modules/itertoolsmodule.c): requests leave them in
	 * garbage cycles (a WSGI response's iterator chain). The tuple and list
	 * iterators' structs were renamed in 3.12: one row per name, the row
	 * whose struct is in the debug info wins. */
	{"tuple_iterator", "tupleiterobject", {"it_seq"}},
	{"tuple_iterator", "_PyTupleIterObject", {"it_seq"}},
	{"list_iterator", "listiterobject", {"it_seq"}},
	{"list_iterator", "_PyListIterObject", {"it_seq"}},
	{"list_reverseiterator", "listreviterobject", {"it_seq"}},
	{"iterator", "seqiterobject", {"it_seq"}},
	{"callable_iterator", "calliterobject", {"it_callable", "it_sentinel"}},
	{"dict_keyiterator", "dictiterobject", {"di_dict", "di_result"}},
	{"dict_valueiterator", "dictiterobject", {"di_dict", "di_result"}},
	{"dict_itemiterator", "dictiterobject", {"di_dict", "di_result"}},
	{"dict_reversekeyiterator", "dictiterobject", {"di_dict", "di_result"}},
	{"dict_reversevalueiterator", "dictiterobject", {"di_dict", "di_result"}},
	{"dict_reverseitemiterator", "dictiterobject", {"di_dict", "di_result"}},
	{"dict_keys", "_PyDictViewObject", {"dv_dict"}},
	{"dict_values", "_PyDictViewObject", {"dv_dict"}},
	{"dict_items", "_PyDictViewObject", {"dv_dict"}},
	{"set_iterator", "setiterobject", {"si_set"}},
	{"enumerate", "enumobject", {"en_sit", "en_result", "en_longindex"}},
	{"reversed", "reversedobject", {"seq"}},
	{"zip", "zipobject", {"ittuple", "result"}},
	{"map", "mapobject", {"iters", "func"}},
	{"filter", "filterobject", {"func", "it"}},
	{"super", "superobject", {"type", "obj", "obj_type"}},
	{"itertools.chain", "chainobject", {"source", "active"}},
	/* The other itertools (Modules/itertoolsmodule.c, built into libpython
	 * everywhere): what each one's traverse visits (a tee's buffered
	 * values apart). */
	{"itertools.cycle", "cycleobject", {"it", "saved"}},
	{"itertools.count", "countobject", {"long_cnt", "long_step"}},
	{"itertools.groupby", "groupbyobject", {"it", "keyfunc", "tgtkey", "currkey", "currvalue"}},
	{"itertools._grouper", "_grouperobject", {"parent", "tgtkey"}},
	{"itertools._tee", "teeobject", {"dataobj"}},
	{"itertools._tee_dataobject", "teedataobject", {"it", "nextlink"}},
	{"itertools.islice", "isliceobject", {"it"}},
	{"itertools.repeat", "repeatobject", {"element"}},
	{"itertools.zip_longest", "ziplongestobject", {"ittuple", "result", "fillvalue"}},
	{"itertools.starmap", "starmapobject", {"func", "it"}},
	{"itertools.accumulate", "accumulateobject", {"total", "it", "binop", "initial"}},
	{"itertools.compress", "compressobject", {"data", "selectors"}},
	{"itertools.dropwhile", "dropwhileobject", {"func", "it"}},
	{"itertools.takewhile", "takewhileobject", {"func", "it"}},
	{"itertools.filterfalse", "filterfalseobject", {"func", "it"}},
	{"itertools.pairwise", "pairwiseobject", {"it", "old", "result"}},
	{"itertools.batched", "batchedobject", {"it"}},
	{"itertools.product", "productobject", {"pools", "result"}},
	{"itertools.combinations", "combinationsobject", {"pool", "result"}},
	{"itertools.combinations_with_replacement", "cwrobject", {"pool", "result"}},
	{"itertools.permutations", "permutationsobject", {"pool", "result"}},
	/* Objects/memoryobject.c: a view holds its managed buffer, which holds
	 * the exporter (memory_traverse, mbuf_traverse). */
	{"memoryview", "PyMemoryViewObject", {"mbuf"}},
	{"managedbuffer", "_PyManagedBufferObject", {"master.obj"}},
	/* Python/context.c (3.7+): frameworks keep request state in context
	 * variables. */
	{"Context", "PyContext", {"ctx_prev", "ctx_vars"}},
	{"ContextVar", "PyContextVar", {"var_name", "var_default", "var_cached"}},
	{"Token", "PyContextToken", {"tok_ctx", "tok_var", "tok_oldval"}},
	/* 3.12+ names */
	{"_contextvars.Context", "PyContext", {"ctx_prev", "ctx_vars"}},
	{"_contextvars.ContextVar", "PyContextVar", {"var_name", "var_default", "var_cached"}},
	{"_contextvars.Token", "PyContextToken", {"tok_ctx", "tok_var", "tok_oldval"}},
	/* Python/hamt.c: a context's mapping (the nodes: objects/containers.c) */
	{"hamt", "PyHamtObject", {"h_root"}},
	/* Python/traceback.c tb_traverse. */
	{"traceback", "PyTracebackObject", {"tb_next", "tb_frame"}},
};
enum { NSPECS = sizeof(specs) / sizeof(specs[0]) };

/* C types of extension modules that live in their own shared object
 * (lib-dynload), whose debug info the layout does not read: the offsets of
 * the PyObject * members their tp_traverse visits, for a range of minor
 * versions, and the struct's size, from ptype/o of each pyenv build's
 * module (x86-64). objects/ uses a row only for a C type whose tp_basicsize
 * is that size: a build whose struct differs keeps no members. A row of
 * the same tp_name above, resolved from DWARF (a module built into the
 * interpreter), is used first. */
struct fixed_c_type_spec {
	const char *tp_name;
	int minor_from, minor_to;
	uint32_t basicsize;
	uint32_t offsets[PCA_C_TYPE_MAX_MEMBERS];
};
static const struct fixed_c_type_spec fixed_specs[] = {
	/* Modules/_asynciomodule.c FutureObj_traverse, TaskObj_traverse:
	 * fut_loop, fut_callback0 and fut_context0 (3.7+), fut_callbacks,
	 * fut_exception, fut_exception_tb (3.10+), fut_result, fut_source_tb,
	 * fut_cancel_msg (3.9+), dict (3.6-3.12), fut_cancelled_exc (3.11+); a
	 * Task adds task_fut_waiter, task_coro, task_name (3.8+) and
	 * task_context (3.7+). */
	{"_asyncio.Future", 6, 6, 88, {16, 24, 32, 40, 48, 72}},
	{"_asyncio.Task", 6, 6, 112, {16, 24, 32, 40, 48, 72, 88, 96}},
	{"_asyncio.Future", 7, 8, 104, {16, 24, 32, 40, 48, 56, 64, 88}},
	{"_asyncio.Task", 7, 7, 136, {16, 24, 32, 40, 48, 56, 64, 88, 104, 112, 120}},
	{"_asyncio.Task", 8, 8, 144, {16, 24, 32, 40, 48, 56, 64, 88, 104, 112, 120, 128}},
	{"_asyncio.Future", 9, 9, 144, {16, 24, 32, 40, 48, 56, 64, 72, 96}},
	{"_asyncio.Task", 9, 9, 184, {16, 24, 32, 40, 48, 56, 64, 72, 96, 144, 152, 160, 168}},
	{"_asyncio.Future", 10, 10, 152, {16, 24, 32, 40, 48, 56, 64, 72, 80, 104}},
	{"_asyncio.Task", 10, 10, 192, {16, 24, 32, 40, 48, 56, 64, 72, 80, 104, 152, 160, 168, 176}},
	{"_asyncio.Future", 11, 12, 128, {16, 24, 32, 40, 48, 56, 64, 72, 80, 104, 120}},
	{"_asyncio.Task", 11, 12, 176, {16, 24, 32, 40, 48, 56, 64, 72, 80, 104, 120, 128, 136, 144, 152}},
	{"_asyncio.Future", 13, 13, 104, {16, 24, 32, 40, 48, 56, 64, 72, 80, 88}},
	{"_asyncio.Task", 13, 13, 144, {16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 112, 120, 128, 136}},
	/* 3.6-3.9: the callback a task leaves on the future it awaits. */
	{"TaskWakeupMethWrapper", 6, 9, 24, {16}},
	/* A future's iterator (the awaiting coroutine's yield-from target). */
	{"_asyncio.FutureIter", 6, 13, 24, {16}},
	/* Modules/_pickle.c: an unpickler's stack (a Pdata; its other members
	 * are not followed). */
	{"_pickle.Unpickler", 6, 7, 256, {16}},
	{"_pickle.Unpickler", 8, 12, 272, {16}},
	{"_pickle.Unpickler", 13, 13, 264, {16}},
	/* Modules/_sqlite/row.c: data and description. */
	{"sqlite3.Row", 6, 13, 32, {16, 24}},
	/* Modules/_json.c scanner_traverse: strict (an object in 3.6),
	 * object_hook, object_pairs_hook, parse_float, parse_int,
	 * parse_constant, and memo once the type is a heap type (3.9-3.12;
	 * 3.13 has none). */
	{"_json.Scanner", 6, 6, 72, {16, 24, 32, 40, 48, 56}},
	{"_json.Scanner", 7, 8, 72, {24, 32, 40, 48, 56}},
	{"_json.Scanner", 9, 12, 72, {24, 32, 40, 48, 56, 64}},
	{"_json.Scanner", 13, 13, 64, {24, 32, 40, 48, 56}},
};
enum { NFIXED = sizeof(fixed_specs) / sizeof(fixed_specs[0]) };

static void resolve_members(const struct c_type_spec *spec, Dwarf_Die *die, struct pca_c_type *ret)
{
	for (size_t i = 0; i < PCA_C_TYPE_MAX_MEMBERS && spec->members[i]; i++) {
		const char *member = spec->members[i];
		bool heap_only = member[0] == '+';
		struct pca_dwarf_member m;
		if (!pca_dwarf_member(die, member + heap_only, &m) || m.size != 8)
			continue;
		if (heap_only)
			ret->heap_only |= 1u << ret->nmembers;
		ret->member_offsets[ret->nmembers++] = (uint32_t)m.offset;
	}
}

struct pca_error *pca_object_layout_resolve(struct pca_symbols *symbols,
					    const struct pca_layout *layout,
					    struct pca_object_layout *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!pca_symbols_lookup(symbols, "PyBaseObject_Type", &ret->object_type) ||
	    !pca_symbols_lookup(symbols, "PyType_Type", &ret->type_type))
		return pca_error_create(PCA_ERROR_DEBUGINFO, "no symbol PyType_Type or PyBaseObject_Type in %s",
					pca_symbols_python_file(symbols));
	/* Python classes' tp_traverse, and the marker of deleted set entries
	 * (Objects/setobject.c _dummy_struct; 3.6+ exports _PySet_Dummy). */
	pca_symbols_lookup(symbols, "subtype_traverse", &ret->subtype_traverse);
	if (!pca_symbols_lookup(symbols, "_dummy_struct", &ret->set_dummy))
		pca_symbols_lookup(symbols, "_PySet_Dummy", &ret->set_dummy_ptr);
	bool v311 = layout->major == 3 && layout->minor >= 11;
	ret->tpflags_heaptype = 1u << 9;
	ret->tpflags_have_gc = 1u << 14;
	ret->tpflags_managed_dict = v311 ? 1u << 4 : 0;
	ret->tpflags_inline_values = layout->major == 3 && layout->minor >= 13 ? 1u << 2 : 0;
	/* Include/internal/pycore_object.h: 3.11 keeps the values pointer at
	 * obj[-4] and the dict at obj[-3]; 3.12-3.13 the (tagged) dict at obj[-3]. */
	ret->preheader_size = v311 ? 16 : 0;
	ret->managed_dict_back = 24;
	ret->managed_values_back = 32;
	ret->member_t_object_ex = 16;

	ret->c_types = calloc(NSPECS + NFIXED, sizeof(*ret->c_types));
	if (!ret->c_types)
		return &pca_error_nomem;
	ret->nc_types = NSPECS;
	for (size_t i = 0; i < NFIXED; i++) {
		const struct fixed_c_type_spec *f = &fixed_specs[i];
		if (layout->major != 3 || layout->minor < f->minor_from || layout->minor > f->minor_to)
			continue;
		struct pca_c_type *c = &ret->c_types[ret->nc_types++];
		c->tp_name = f->tp_name;
		c->basicsize = f->basicsize;
		for (size_t m = 0; m < PCA_C_TYPE_MAX_MEMBERS && f->offsets[m]; m++)
			c->member_offsets[c->nmembers++] = f->offsets[m];
	}
	const char *names[NSPECS];
	Dwarf_Die dies[NSPECS];
	bool found[NSPECS];
	for (size_t i = 0; i < NSPECS; i++)
		names[i] = specs[i].struct_name;
	struct pca_error *err = pca_symbols_find_types(symbols, names, NSPECS, dies, found);
	if (err) {
		/* no members for anyone: references through them are not followed */
		pca_error_destroy(err);
		memset(found, 0, sizeof(found));
	}
	for (size_t i = 0; i < NSPECS; i++) {
		ret->c_types[i].tp_name = specs[i].tp_name;
		if (found[i])
			resolve_members(&specs[i], &dies[i], &ret->c_types[i]);
	}
	return NULL;
}

void pca_object_layout_deinit(struct pca_object_layout *ol)
{
	free(ol->c_types);
	memset(ol, 0, sizeof(*ol));
}

int pca_object_layout_c_type(const struct pca_object_layout *ol, const char *tp_name)
{
	/* A tp_name with a row per struct name (renamed structs): the row that
	 * resolved members. */
	int first = -1;
	for (size_t i = 0; i < ol->nc_types; i++)
		if (strcmp(ol->c_types[i].tp_name, tp_name) == 0) {
			if (ol->c_types[i].nmembers)
				return (int)i;
			if (first < 0)
				first = (int)i;
		}
	return first;
}

/* extensions.c: C types of third-party packages a real service carries
 * (Debian's python3-* packages, tests/e2e/test_apps.py): Cython's function
 * type (every Cython module's def functions: lxml, msgpack, yarl, aiohttp,
 * frozenlist, yaml ...), Cython extension classes (`cdef class`), and
 * multidict's MultiDict. Their structs live in extension modules without
 * debug info: offsets come from the packages' sources and headers (cited
 * per struct) and each read is checked against invariants; an object that
 * fails them gets no references (and the default size: none of these
 * define __sizeof__). */
#include <string.h>

#include "objects/kinds.h"

/* The name of the type of the object at p ("" when p is no object). */
static const char *type_name_of(struct pca_objects *o, uint64_t p)
{
	uint64_t type;
	const struct pca_type_info *t;
	if (!p || (p & 7) || !pca_rd(o, p, PCA_F_OB_TYPE, &type) || !(t = pca_objects_type(o, type)))
		return "";
	return t->name;
}

/* ---- Cython's cython_function_or_method ---- */

/* __pyx_CyFunctionObject (Cython/Utility/CythonFunction.c). Cython 0.29:
 * PyCFunctionObject func (48 bytes on 3.6-3.7, 56 on 3.8+), then func_dict,
 * func_name, func_qualname, func_doc, func_globals, func_code,
 * func_closure, func_classobj, void *defaults, int defaults_pyobjects,
 * size_t defaults_size, int flags, defaults_tuple, defaults_kwdict,
 * defaults_getter, func_annotations: basicsize = func + 128 (checked live:
 * 184 on 3.11, func_globals at 88 and func_code at 96). Cython 3 on 3.9+:
 * PyCMethodObject func (64 bytes, its mm_class the class cell), the same
 * members without func_classobj and with func_is_coroutine last: 192. */
enum { cyf_m_module = 32, cyf_mm_class = 56, cyf_tail = 128, cyf3_func = 64 };
/* More default values than this is not a function's (bounds a corrupt count). */
static const int32_t max_cyf_defaults = 4096;

/* __Pyx_CyFunction_traverse: func_closure, func.m_module, func_dict,
 * func_name, func_qualname, func_doc, func_globals, func_code, the class
 * (func_classobj or mm_class), defaults_tuple, defaults_kwdict (Cython 3:
 * func_is_coroutine) and the defaults_pyobjects first words of defaults. */
static void cyfunction_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				 pca_visit_fn visit, void *ctx)
{
	struct pca_target *tg = o->interp->target;
	uint64_t func = 0, w[16], p, type = t->addr;
	/* the cyfunction struct up the chain (fused_cython_function adds
	 * __signatures__, type and self after it: not followed) */
	for (int depth = 0; t && depth < pca_max_base_depth; depth++) {
		func = t->basicsize - cyf_tail;
		if (t->basicsize > cyf_tail && (func == 48 || func == 56 || func == cyf3_func))
			break;
		if (!pca_rd(o, type, PCA_F_TP_BASE, &type) || !type)
			return;
		t = pca_objects_type(o, type);
	}
	bool cython3 = func == cyf3_func;
	if (!t || (func != 48 && func != 56 && !cython3) || !pca_target_try_read(tg, obj + func, w, sizeof(w)))
		return;
	/* w: dict, name, qualname, doc, globals, code, closure, then 0.29
	 * classobj, defaults, pyobjects, size, flags, tuple, kwdict; Cython 3
	 * defaults, pyobjects, size, flags, tuple, kwdict, getter, annotations,
	 * is_coroutine */
	if (strcmp(type_name_of(o, w[4]), "dict") != 0 ||
	    (w[5] && strcmp(type_name_of(o, w[5]), "code") != 0))
		return;
	if (pca_target_try_read_u64(tg, obj + cyf_m_module, &p) && p)
		visit(ctx, p);
	for (int i = 0; i < 7; i++)
		if (w[i])
			visit(ctx, w[i]);
	uint64_t classobj = cython3 ? 0 : w[7], defaults = cython3 ? w[7] : w[8];
	uint64_t tuple = cython3 ? w[11] : w[12], kwdict = cython3 ? w[12] : w[13];
	int32_t npy = (int32_t)(cython3 ? w[8] : w[9]);
	if (cython3 && pca_target_try_read_u64(tg, obj + cyf_mm_class, &p))
		classobj = p;
	uint64_t extra[] = {classobj, tuple, kwdict, cython3 ? w[15] : 0};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extra[i])
			visit(ctx, extra[i]);
	if (defaults && npy > 0 && npy <= max_cyf_defaults)
		pca_objects_visit_array(o, defaults, (uint64_t)npy, visit, ctx);
}

const struct pca_kind_ops pca_cyfunction_ops = {
	.kind = PCA_KIND_CYTHON,
	.size = pca_objects_default_size,
	.referents = cyfunction_referents,
};

/* ---- Cython extension classes ---- */

/* A `cdef class` keeps its attributes in C struct members that only its
 * generated tp_traverse visits, at offsets that depend on the Cython
 * version and the class's declarations (lxml's public ones are in its
 * shipped lxml/etree.h: LxmlElement {_doc, xmlNode *_c_node, _tag}). Each
 * word after the nearest non-Cython base's struct is offered as a guess
 * the caller validates as an object: a vtable pointer, a C pointer (an
 * xmlNode's second word is its small node type, no type object) or a number
 * is dropped. The instance __dict__ (visited by objects.c) is skipped. */
static void cython_class_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				   pca_visit_fn visit, void *ctx)
{
	uint64_t words[64], start = 16, type = t->addr;
	const struct pca_type_info *cur = t;
	/* the first base that is not a Cython class: its struct is not ours */
	for (int depth = 0; cur && depth < pca_max_base_depth; depth++) {
		if (cur->kind != PCA_KIND_EXT_WORDS && !(cur->flags & o->ol.tpflags_heaptype)) {
			start = cur->basicsize;
			break;
		}
		if (!pca_rd(o, type, PCA_F_TP_BASE, &type) || !type)
			break;
		cur = pca_objects_type(o, type);
	}
	const struct pca_type_info *own = t;
	for (type = t->addr; own && (own->flags & o->ol.tpflags_heaptype);) {
		if (!pca_rd(o, type, PCA_F_TP_BASE, &type))
			return;
		own = pca_objects_type(o, type);
	}
	if (!own || own->basicsize <= start)
		return;
	/* A larger struct embeds C structs (yaml's CParser: its yaml_parser_t,
	 * 600 bytes, then its object members; msgpack's Unpacker: its parse
	 * stack, 40 KB, then its members): Cython lays the members out in
	 * declaration order and these declare the C struct first, so the last
	 * words are guessed (an unused stack entry is zero). */
	uint64_t n = (own->basicsize - start) / 8;
	if (n > sizeof(words) / sizeof(words[0])) {
		start += (n - sizeof(words) / sizeof(words[0])) * 8;
		n = sizeof(words) / sizeof(words[0]);
	}
	if (!pca_target_try_read(o->interp->target, obj + start, words, n * 8))
		return;
	for (uint64_t i = 0; i < n; i++)
		if (words[i] && !(words[i] & 7) && (int64_t)(start + i * 8) != own->dictoffset)
			visit(ctx, words[i] | PCA_REFERENT_GUESS);
}

const struct pca_kind_ops pca_ext_words_ops = {
	.kind = PCA_KIND_EXT_WORDS,
	.size = pca_objects_default_size,
	.referents = cython_class_referents,
};

/* ---- multidict ---- */

/* multidict/_multilib/pair_list.h (6.0): MultiDictObject {PyObject_HEAD,
 * weaklist, pair_list_t pairs}; pair_list_t {capacity at 24, size at 32,
 * version, calc_ci_identity, pair_t *pairs at 56, pair_t buffer[29] at 64}
 * (basicsize 992, checked live); pair_t {identity, key, value, hash}, 32
 * bytes. */
enum { md_capacity = 24, md_size = 32, md_pairs = 56, md_buffer = 64, md_embedded = 29, pair_size = 32,
       md_basicsize = md_buffer + md_embedded * pair_size };
static const uint64_t max_pairs = 1ull << 32;

/* pair_list_traverse: each pair's key and value (the identity is "a
 * terminal": a str the pair owns, not visited). */
static void multidict_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				pca_visit_fn visit, void *ctx)
{
	struct pca_target *tg = o->interp->target;
	uint64_t capacity, size, pairs;
	if (t->basicsize < md_basicsize || !pca_target_try_read_u64(tg, obj + md_capacity, &capacity) ||
	    !pca_target_try_read_u64(tg, obj + md_size, &size) ||
	    !pca_target_try_read_u64(tg, obj + md_pairs, &pairs) || size > capacity || capacity > max_pairs ||
	    capacity < md_embedded || (capacity == md_embedded) != (pairs == obj + md_buffer))
		return;
	for (uint64_t i = 0; i < size; i++) {
		uint64_t kv[2];
		if (!pca_target_try_read(tg, pairs + i * pair_size + 8, kv, sizeof(kv)))
			return;
		for (int j = 0; j < 2; j++)
			if (kv[j])
				visit(ctx, kv[j]);
	}
}

static bool multidict_len(struct pca_objects *o, uint64_t obj, uint64_t *ret)
{
	return pca_target_try_read_u64(o->interp->target, obj + md_size, ret) && *ret <= max_pairs;
}

const struct pca_kind_ops pca_multidict_ops = {
	.kind = PCA_KIND_MULTIDICT,
	.size = pca_objects_default_size,
	.referents = multidict_referents,
	.preview = pca_objects_preview_len,
	.len = multidict_len,
};

/* ---- regex (mrab-regex, Debian's python3-regex) ---- */

/* regex_3/_regex.c (2022.10.31, checked live against sys.getsizeof):
 * PatternObject, 352 bytes: packed_code_list (bytes) at 32,
 * true_group_count at 64, repeat_count at 88, node_count at 168, RE_Node
 * **node_list at 176, call_ref_info_count at 208, RE_LocaleInfo
 * *locale_info at 264. RE_Node is 96 bytes, its size_t value_count at 72;
 * RE_GroupInfo 24, RE_RepeatInfo 4, RE_CallRefInfo 16, RE_LocaleInfo 1024
 * bytes; RE_CODE is 32 bits. */
enum { rx_packed = 32, rx_true_groups = 64, rx_repeats = 88, rx_node_count = 168, rx_node_list = 176,
       rx_call_refs = 208, rx_locale = 264, rx_basicsize = 352, rx_node_size = 96, rx_node_values = 72,
       rx_group_info = 24, rx_repeat_info = 4, rx_call_ref_info = 16, rx_locale_info = 1024, rx_code = 4 };
/* More nodes, groups or values than this is not a compiled pattern. */
static const uint64_t max_rx_items = 1u << 24;

/* pattern_sizeof: sizeof(PatternObject), the nodes and their values, the
 * group, repeat and call-ref infos, packed_code_list.__sizeof__() and the
 * locale info. */
static bool regex_pattern_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t,
			       uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t w[rx_basicsize / 8], packed_type, packed_size;
	struct pca_type_info *pt;
	*ret = t->basicsize;
	if (t->basicsize != rx_basicsize || !pca_target_try_read(tg, obj, w, sizeof(w)))
		return true;
	uint64_t groups = w[rx_true_groups / 8], repeats = w[rx_repeats / 8], nodes = w[rx_node_count / 8];
	uint64_t node_list = w[rx_node_list / 8], call_refs = w[rx_call_refs / 8], packed = w[rx_packed / 8];
	if (groups > max_rx_items || repeats > max_rx_items || nodes > max_rx_items || call_refs > max_rx_items ||
	    (nodes && !node_list) || !packed || !pca_rd(o, packed, PCA_F_OB_TYPE, &packed_type) ||
	    !(pt = pca_objects_type(o, packed_type)) || strcmp(pt->name, "bytes") != 0 ||
	    !pca_objects_sizeof(o, packed, pt, &packed_size))
		return true;
	uint64_t size = rx_basicsize + nodes * rx_node_size;
	for (uint64_t i = 0; i < nodes; i++) {
		uint64_t node, values;
		if (!pca_target_try_read_u64(tg, node_list + i * 8, &node) || !node ||
		    !pca_target_try_read_u64(tg, node + rx_node_values, &values) || values > max_rx_items)
			return true;
		size += values * rx_code;
	}
	size += groups * rx_group_info + repeats * rx_repeat_info + packed_size + call_refs * rx_call_ref_info;
	if (w[rx_locale / 8])
		size += rx_locale_info;
	*ret = size;
	return true;
}

const struct pca_kind_ops pca_regex_pattern_ops = {
	.kind = PCA_KIND_REGEX_PATTERN,
	.size = regex_pattern_size,
};

/* MatchObject {string at 16, substring at 24, pattern at 40}, 160 bytes;
 * ScannerObject and SplitterObject {pattern at 16, RE_State state at 24:
 * its pattern and string first, each with a reference of its own
 * (state_init)}. They have no tp_traverse (the collector does not see
 * what they hold), but they own these references (their dealloc releases
 * them); checked by the pattern being a _regex.Pattern. */
enum { rx_match_string = 16, rx_match_substring = 24, rx_match_pattern = 40, rx_match_size = 160,
       rx_iter_pattern = 16, rx_state_pattern = 24, rx_state_string = 32 };

static void regex_owner_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				  pca_visit_fn visit, void *ctx)
{
	struct pca_target *tg = o->interp->target;
	uint64_t w[6];
	bool match = strcmp(t->name, "_regex.Match") == 0;
	if (!pca_target_try_read(tg, obj, w, sizeof(w)))
		return;
	uint64_t pattern = w[(match ? rx_match_pattern : rx_iter_pattern) / 8];
	if ((match && t->basicsize != rx_match_size) || strcmp(type_name_of(o, pattern), "_regex.Pattern") != 0)
		return;
	visit(ctx, pattern);
	uint64_t more[] = {w[rx_match_string / 8], w[rx_match_substring / 8]};
	if (!match) {
		more[0] = w[rx_state_pattern / 8];
		more[1] = w[rx_state_string / 8];
	}
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (more[i])
			visit(ctx, more[i]);
}

const struct pca_kind_ops pca_regex_owner_ops = {
	.kind = PCA_KIND_REGEX_OWNER,
	.size = pca_objects_default_size,
	.referents = regex_owner_referents,
};

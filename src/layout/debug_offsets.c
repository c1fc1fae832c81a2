/* 3.13+: _Py_DebugOffsets, the table of offsets CPython keeps at the start of
 * _PyRuntime for out-of-process tools (Include/internal/pycore_runtime.h,
 * filled by _Py_DebugOffsets_INIT). It is authoritative for what it covers:
 * every offset and size it has is compared with the layout we resolved (from
 * DWARF or a table), and a disagreement stops the analysis rather than let
 * us print numbers from a layout that is not this build's.
 * Where each entry sits inside _Py_DebugOffsets comes from the same source
 * as the rest of the layout (its DWARF type, or the table recorded from it),
 * so no position is typed here. */
#include "layout/debug_offsets.h"

#include <stdio.h>
#include <string.h>

struct check {
	const char *path;  /* member of _Py_DebugOffsets */
	bool is_size;      /* compare with sizes[id] instead of fields[id].offset */
	unsigned id;
};

static const struct check checks[] = {
	{"runtime_state.interpreters_head", false, PCA_F_RUNTIME_INTERP_HEAD},
	{"interpreter_state.size", true, PCA_S_INTERP},
	{"interpreter_state.next", false, PCA_F_INTERP_NEXT},
	{"interpreter_state.threads_head", false, PCA_F_INTERP_THREADS_HEAD},
	{"thread_state.size", true, PCA_S_TSTATE},
	{"thread_state.next", false, PCA_F_TSTATE_NEXT},
	{"thread_state.interp", false, PCA_F_TSTATE_INTERP},
	{"thread_state.current_frame", false, PCA_F_TSTATE_CURRENT_FRAME},
	{"thread_state.thread_id", false, PCA_F_TSTATE_THREAD_ID},
	{"thread_state.native_thread_id", false, PCA_F_TSTATE_NATIVE_THREAD_ID},
	{"interpreter_frame.size", true, PCA_S_IFRAME},
	{"interpreter_frame.previous", false, PCA_F_IFRAME_PREVIOUS},
	{"interpreter_frame.executable", false, PCA_F_IFRAME_CODE},
	{"interpreter_frame.instr_ptr", false, PCA_F_IFRAME_INSTR},
	{"interpreter_frame.localsplus", false, PCA_F_IFRAME_LOCALSPLUS},
	{"interpreter_frame.owner", false, PCA_F_IFRAME_OWNER},
	{"code_object.size", true, PCA_S_CODE},
	{"code_object.filename", false, PCA_F_CODE_FILENAME},
	{"code_object.name", false, PCA_F_CODE_NAME},
	{"code_object.qualname", false, PCA_F_CODE_QUALNAME},
	{"code_object.linetable", false, PCA_F_CODE_LINETABLE},
	{"code_object.firstlineno", false, PCA_F_CODE_FIRSTLINENO},
	{"code_object.localsplusnames", false, PCA_F_CODE_LOCALSPLUSNAMES},
	{"code_object.co_code_adaptive", false, PCA_F_CODE_ADAPTIVE},
	{"pyobject.size", true, PCA_S_OBJECT},
	{"pyobject.ob_type", false, PCA_F_OB_TYPE},
	{"type_object.size", true, PCA_S_TYPE},
	{"type_object.tp_name", false, PCA_F_TP_NAME},
	{"type_object.tp_flags", false, PCA_F_TP_FLAGS},
	{"tuple_object.size", true, PCA_S_TUPLE},
	{"tuple_object.ob_item", false, PCA_F_TUPLE_ITEMS},
	{"tuple_object.ob_size", false, PCA_F_OB_SIZE},
	{"list_object.size", true, PCA_S_LIST},
	{"list_object.ob_item", false, PCA_F_LIST_ITEMS},
	{"dict_object.size", true, PCA_S_DICT},
	{"dict_object.ma_keys", false, PCA_F_DICT_KEYS},
	{"dict_object.ma_values", false, PCA_F_DICT_VALUES},
	{"long_object.size", true, PCA_S_LONG},
	{"long_object.lv_tag", false, PCA_F_LONG_TAG},
	{"long_object.ob_digit", false, PCA_F_LONG_DIGITS},
	{"bytes_object.size", true, PCA_S_BYTES},
	{"bytes_object.ob_sval", false, PCA_F_BYTES_SVAL},
	{"unicode_object.size", true, PCA_S_UNICODE},
	{"unicode_object.length", false, PCA_F_UNICODE_LENGTH},
	{"unicode_object.asciiobject_size", true, PCA_S_ASCII},
};

/* Offsets and sizes in _Py_DebugOffsets are below this; bigger is not one. */
static const uint64_t max_value = 1u << 20;

struct pca_error *pca_layout_check_debug_offsets(struct pca_symbols *symbols,
						 struct pca_target *target,
						 const struct pca_layout *l, unsigned *ret_checked)
{
	*ret_checked = 0;
	const char *name = "_Py_DebugOffsets";
	Dwarf_Die die;
	bool found;
	uint64_t runtime;
	struct pca_error *err = pca_symbols_find_types(symbols, &name, 1, &die, &found);
	if (err)
		return err;
	/* 3.6-3.12 have no such struct; nor has a build whose DWARF or table lacks it. */
	if (!found || !pca_symbols_lookup(symbols, "_PyRuntime", &runtime))
		return NULL;
	struct pca_dwarf_member cookie_m, version_m, ft_m;
	if (!pca_dwarf_member(&die, "cookie", &cookie_m) ||
	    !pca_dwarf_member(&die, "version", &version_m))
		return NULL;
	char cookie[8];
	uint64_t version;
	if (!pca_target_try_read(target, runtime + cookie_m.offset, cookie, sizeof(cookie)) ||
	    !pca_target_try_read_u64(target, runtime + version_m.offset, &version))
		return NULL; /* not saved: nothing to check against */
	/* Include/internal/pycore_debug_offsets.h: _Py_Debug_Cookie "xdebugpy". */
	if (memcmp(cookie, "xdebugpy", 8) != 0)
		return pca_error_create(PCA_ERROR_CORRUPT,
					"_PyRuntime at 0x%llx does not start with _Py_DebugOffsets' cookie \"xdebugpy\" (Python %s): the runtime or the layout is not this build's",
					(unsigned long long)runtime, l->version);
	int major = (int)((version >> 24) & 0xff), minor = (int)((version >> 16) & 0xff),
	    micro = (int)((version >> 8) & 0xff);
	if (major != l->major || minor != l->minor || micro != l->micro)
		return pca_error_create(PCA_ERROR_CORRUPT,
					"_Py_DebugOffsets says Python %d.%d.%d, the interpreter's version string %s",
					major, minor, micro, l->version);
	uint64_t free_threaded;
	if (pca_dwarf_member(&die, "free_threaded", &ft_m) &&
	    pca_target_try_read_u64(target, runtime + ft_m.offset, &free_threaded) &&
	    free_threaded)
		return pca_error_create(PCA_ERROR_NOT_PYTHON,
					"Python %s is a free-threaded build (_Py_DebugOffsets.free_threaded): not supported yet",
					l->version);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct check *c = &checks[i];
		struct pca_dwarf_member m;
		uint64_t value;
		if (!pca_dwarf_member(&die, c->path, &m) || m.size != 8 ||
		    !pca_target_try_read_u64(target, runtime + m.offset, &value))
			continue;
		uint64_t ours;
		if (c->is_size) {
			ours = l->sizes[c->id];
		} else {
			if (!l->fields[c->id].present)
				continue;
			ours = l->fields[c->id].offset;
		}
		if ((value >= max_value || value != ours) && pca_symbols_layout_exact(symbols))
			return pca_error_create(PCA_ERROR_CORRUPT,
						"the layout (%s) disagrees with the core's _Py_DebugOffsets at %s: %llu, the core says %llu (Python %s): refusing to print numbers from a layout that is not this build's",
						l->source, c->path, (unsigned long long)ours,
						(unsigned long long)value, l->version);
		/* Another build's layout: the core is right, and the layout's
		 * other numbers are not to be trusted either. */
		if (value >= max_value || value != ours)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"the layout of another build (%s) disagrees with the core's _Py_DebugOffsets at %s: %llu, the core says %llu (Python %s): refusing to print numbers from it: %s",
						l->source, c->path, (unsigned long long)ours,
						(unsigned long long)value, l->version,
						pca_symbols_debuginfo_help(symbols));
		(*ret_checked)++;
	}
	return NULL;
}

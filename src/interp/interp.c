#include "interp/interp.h"

#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/vector.h"
#include "layout/linetable.h"

/* Bounds for walks over pointers from the core. A process cannot hold more
 * interpreters or threads than this, and Python's recursion limit is far
 * below the frame bound. */
static const size_t max_interpreters = 4096;
static const size_t max_threads = 1u << 16;
static const size_t max_frames = 1u << 20;
static const size_t max_name_chars = 4096;
/* Line tables above this are not produced by any real source file. */
static const size_t max_linetable = 16u << 20;

/* The chains from the core (interpreters, thread states, frames) may loop:
 * a walk remembers the nodes it passed and stops at the first one it meets
 * again, so it costs the distinct nodes the core holds, not the step bounds
 * above (an interpreter whose `next` is itself would otherwise list its
 * threads 4096 times, a looping frame chain a million frames). */
static inline size_t node_hash(uint64_t addr) { return pca_hash_u64(addr >> 3, 17); }
PCA_DEFINE_HASH_SET(node_set, uint64_t, node_hash, 0)

/* Records addr (not 0); true when the walk passed it before. *nomem when
 * it could not be recorded (the caller returns ENOMEM). */
static bool node_seen(struct node_set *seen, uint64_t addr, bool *nomem)
{
	bool inserted = true;
	if (!node_set_insert(seen, addr, &inserted))
		*nomem = true;
	return !inserted;
}

bool pca_interp_read_field_slow(struct pca_interp *in, uint64_t base, enum pca_field f, uint64_t *ret)
{
	const struct pca_layout_field *fl = &in->layout->fields[f];
	if (!fl->present)
		return false;
	/* The hot path of every walk: a pointer into the mapped core and a
	 * fixed-size load, no copy call. */
	uint64_t v = 0;
	const uint8_t *p = pca_target_view(in->target, base + fl->offset, fl->size ? fl->size : 8);
	switch (p ? fl->size : 0) {
	case 1:
		v = *p;
		break;
	case 2: {
		uint16_t x;
		memcpy(&x, p, 2);
		v = x;
		break;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, p, 4);
		v = x;
		break;
	}
	case 8:
		memcpy(&v, p, 8);
		break;
	default: {
		size_t size = fl->size && fl->size <= 8 ? fl->size : 8;
		if (!pca_target_try_read(in->target, base + fl->offset, &v, size))
			return false;
	}
	}
	if (fl->bit_size) {
		v >>= fl->bit_offset;
		v &= fl->bit_size >= 64 ? ~0ull : (1ull << fl->bit_size) - 1;
	}
	*ret = v;
	return true;
}

/* Sign-extend a field read as unsigned (ints like f_lasti may be -1). */
static int64_t as_signed(struct pca_interp *in, enum pca_field f, uint64_t v)
{
	uint64_t size = in->layout->fields[f].size;
	if (size == 0 || size >= 8)
		return (int64_t)v;
	uint64_t sign = 1ull << (size * 8 - 1);
	return (int64_t)((v ^ sign) - sign);
}

static bool has_type(struct pca_interp *in, uint64_t obj, uint64_t type)
{
	uint64_t t;
	return obj && type && pca_interp_read_field(in, obj, PCA_F_OB_TYPE, &t) && t == type;
}

/* What a mismatch means and what would help, for the errors below. */
static struct pca_error *mismatch(struct pca_interp *in, const char *what)
{
	const struct pca_layout *l = in->layout;
	if (pca_symbols_layout_exact(in->symbols))
		return pca_error_create(PCA_ERROR_CORRUPT,
					"%s (Python %s, layout from %s): the core is damaged or its debug info is not this build's",
					what, l->version, l->source);
	return pca_error_create(PCA_ERROR_DEBUGINFO,
				"the layout of another build does not describe %s (Python %s): %s. Refusing to print numbers from it: %s",
				pca_symbols_python_file(in->symbols), l->version, what,
				pca_symbols_debuginfo_help(in->symbols));
}

/* Static type objects whose tp_basicsize the layout must reproduce, in every
 * version here (Objects/typeobject.c, listobject.c, dictobject.c,
 * setobject.c, unicodeobject.c, tupleobject.c: sizeof the struct, the tuple's
 * without its first item). */
static const struct {
	const char *symbol, *tp_name;
	enum pca_struct size_of;    /* tp_basicsize == sizeof this */
	enum pca_field offset_of;   /* or, when size_of is PCA_STRUCT_COUNT, the offset of this */
} static_types[] = {
	{"PyType_Type", "type", PCA_S_HEAPTYPE, PCA_FIELD_COUNT},
	{"PyBaseObject_Type", "object", PCA_S_OBJECT, PCA_FIELD_COUNT},
	{"PyList_Type", "list", PCA_S_LIST, PCA_FIELD_COUNT},
	{"PyDict_Type", "dict", PCA_S_DICT, PCA_FIELD_COUNT},
	{"PySet_Type", "set", PCA_S_SET, PCA_FIELD_COUNT},
	{"PyUnicode_Type", "str", PCA_S_UNICODE, PCA_FIELD_COUNT},
	{"PyTuple_Type", "tuple", PCA_STRUCT_COUNT, PCA_F_TUPLE_ITEMS},
	{"PyCode_Type", "code", PCA_STRUCT_COUNT, PCA_FIELD_COUNT},
	{"PyBytes_Type", "bytes", PCA_STRUCT_COUNT, PCA_FIELD_COUNT},
};

/* The layout against the runtime before anything is walked (whatever its
 * source; memory the core did not save is not a disagreement): the type of
 * type is type, static types have their names and sizes... */
static struct pca_error *validate_types(struct pca_interp *in)
{
	const struct pca_layout *l = in->layout;
	char what[256];
	uint64_t type_type;
	if (!pca_symbols_lookup(in->symbols, "PyType_Type", &type_type))
		return NULL;
	for (size_t i = 0; i < sizeof(static_types) / sizeof(static_types[0]); i++) {
		uint64_t addr, meta, name, basicsize;
		char text[16];
		if (!pca_symbols_lookup(in->symbols, static_types[i].symbol, &addr))
			continue;
		if (pca_interp_read_field(in, addr, PCA_F_OB_TYPE, &meta) && meta != type_type) {
			snprintf(what, sizeof(what), "the type of %s is 0x%llx, not type (0x%llx)",
				 static_types[i].symbol, (unsigned long long)meta,
				 (unsigned long long)type_type);
			return mismatch(in, what);
		}
		if (pca_interp_read_field(in, addr, PCA_F_TP_NAME, &name) &&
		    pca_target_read_cstr(in->target, name, text, sizeof(text)) &&
		    strcmp(text, static_types[i].tp_name) != 0) {
			snprintf(what, sizeof(what), "%s.tp_name is \"%s\", not \"%s\"",
				 static_types[i].symbol, text, static_types[i].tp_name);
			return mismatch(in, what);
		}
		uint64_t want = static_types[i].size_of != PCA_STRUCT_COUNT
					? l->sizes[static_types[i].size_of]
				: static_types[i].offset_of != PCA_FIELD_COUNT
					? pca_layout_offset(l, static_types[i].offset_of)
					: 0;
		if (want && pca_interp_read_field(in, addr, PCA_F_TP_BASICSIZE, &basicsize) &&
		    basicsize != want) {
			snprintf(what, sizeof(what), "%s.tp_basicsize is %llu, the layout says %llu",
				 static_types[i].symbol, (unsigned long long)basicsize,
				 (unsigned long long)want);
			return mismatch(in, what);
		}
	}
	return NULL;
}

/* ... and every thread state of every interpreter points back to it
 * (Python/pystate.c). */
static struct pca_error *validate_threads(struct pca_interp *in)
{
	char what[256];
	uint64_t interp = in->first_interp, steps = 0;
	for (size_t n = 0; interp && n < max_interpreters; n++) {
		uint64_t tstate, owner, next;
		if (!pca_interp_read_field(in, interp, PCA_F_INTERP_THREADS_HEAD, &tstate))
			break;
		for (; tstate && steps < max_threads; steps++) {
			if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_INTERP, &owner))
				break;
			if (owner != interp) {
				snprintf(what, sizeof(what),
					 "thread state 0x%llx says its interpreter is 0x%llx, not 0x%llx",
					 (unsigned long long)tstate, (unsigned long long)owner,
					 (unsigned long long)interp);
				return mismatch(in, what);
			}
			if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_NEXT, &tstate))
				break;
		}
		if (!pca_interp_read_field(in, interp, PCA_F_INTERP_NEXT, &next))
			break;
		interp = next;
	}
	return NULL;
}

struct pca_error *pca_interp_init(struct pca_interp *in, struct pca_target *t,
				  struct pca_symbols *s, const struct pca_layout *l)
{
	memset(in, 0, sizeof(*in));
	in->target = t;
	in->symbols = s;
	in->layout = l;
	in->owner_generator = -1;
	int64_t value;
	if (pca_symbols_find_enumerator(s, "FRAME_OWNED_BY_GENERATOR", &value))
		in->owner_generator = (int)value;
	if (!pca_symbols_lookup(s, "PyCode_Type", &in->code_type) ||
	    !pca_symbols_lookup(s, "PyUnicode_Type", &in->unicode_type) ||
	    !pca_symbols_lookup(s, "PyBytes_Type", &in->bytes_type))
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"%s has no symbols PyCode_Type/PyUnicode_Type/PyBytes_Type: its symbol table is missing",
					pca_symbols_python_file(s));
	struct pca_error *err = validate_types(in);
	if (err)
		return err;
	uint64_t addr;
	/* 3.7+: _PyRuntime.interpreters.head; 3.6: the global interp_head (Python/pystate.c). */
	if (l->sizes[PCA_S_RUNTIME] && pca_symbols_lookup(s, "_PyRuntime", &addr)) {
		if (!pca_interp_read_field(in, addr, PCA_F_RUNTIME_INTERP_HEAD, &in->first_interp))
			return pca_error_create(PCA_ERROR_CORRUPT,
						"_PyRuntime at 0x%llx is not in the core: the core is truncated or incomplete",
						(unsigned long long)addr);
	} else if (pca_symbols_lookup(s, "interp_head", &addr)) {
		if (!pca_target_try_read_u64(t, addr, &in->first_interp))
			return pca_error_create(PCA_ERROR_CORRUPT,
						"interp_head at 0x%llx is not in the core",
						(unsigned long long)addr);
	} else if (!pca_symbols_layout_exact(s)) {
		/* 3.6 keeps its interpreters in a file static only this build's
		 * symbol table names. */
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"%s (Python %s) keeps its interpreters in interp_head, a local symbol that only this build's debug info gives: %s",
					pca_symbols_python_file(s), l->version,
					pca_symbols_debuginfo_help(s));
	} else {
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"%s has neither _PyRuntime nor interp_head",
					pca_symbols_python_file(s));
	}
	if (!in->first_interp)
		return pca_error_create(PCA_ERROR_NOT_PYTHON,
					"the Python runtime has no interpreter: it was not initialised yet or already finalised");
	return validate_threads(in);
}

static void utf8_put(char **p, uint32_t c)
{
	uint8_t *o = (uint8_t *)*p;
	if (c >= 0xd800 && c < 0xe000) /* lone surrogates are not valid UTF-8 */
		c = 0xfffd;
	if (c < 0x80) {
		*o++ = (uint8_t)c;
	} else if (c < 0x800) {
		*o++ = (uint8_t)(0xc0 | (c >> 6));
		*o++ = (uint8_t)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*o++ = (uint8_t)(0xe0 | (c >> 12));
		*o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
		*o++ = (uint8_t)(0x80 | (c & 0x3f));
	} else {
		if (c > 0x10ffff)
			c = 0xfffd;
		*o++ = (uint8_t)(0xf0 | (c >> 18));
		*o++ = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
		*o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
		*o++ = (uint8_t)(0x80 | (c & 0x3f));
	}
	*p = (char *)o;
}

struct pca_error *pca_interp_read_str(struct pca_interp *in, uint64_t addr, size_t max_chars,
				      char **ret)
{
	const struct pca_layout *l = in->layout;
	if (!has_type(in, addr, in->unicode_type))
		return pca_error_create(PCA_ERROR_CORRUPT, "0x%llx is not a str object",
					(unsigned long long)addr);
	uint64_t length, kind, compact, ascii;
	if (!pca_interp_read_field(in, addr, PCA_F_UNICODE_LENGTH, &length) ||
	    !pca_interp_read_field(in, addr, PCA_F_UNICODE_KIND, &kind) ||
	    !pca_interp_read_field(in, addr, PCA_F_UNICODE_COMPACT, &compact) ||
	    !pca_interp_read_field(in, addr, PCA_F_UNICODE_ASCII, &ascii))
		return pca_error_fault(addr, l->sizes[PCA_S_ASCII]);
	/* Include/cpython/unicodeobject.h: kinds 1, 2, 4 bytes per character
	 * (0 was the 3.6-3.11 wchar_t kind of a not-ready legacy string). */
	if (kind != 1 && kind != 2 && kind != 4)
		return pca_error_create(PCA_ERROR_CORRUPT, "str at 0x%llx has kind %llu",
					(unsigned long long)addr, (unsigned long long)kind);
	if ((int64_t)length < 0)
		return pca_error_create(PCA_ERROR_CORRUPT, "str at 0x%llx has a negative length",
					(unsigned long long)addr);
	uint64_t data;
	if (compact)
		data = addr + (ascii ? l->sizes[PCA_S_ASCII] : l->sizes[PCA_S_COMPACT_UNICODE]);
	else if (!pca_interp_read_field(in, addr, PCA_F_UNICODE_DATA, &data))
		return pca_error_fault(addr, l->sizes[PCA_S_UNICODE]);
	size_t n = length < max_chars ? (size_t)length : max_chars;
	uint8_t *raw = malloc(n * kind + 1);
	char *out = malloc(n * 4 + 1);
	if (!raw || !out) {
		free(raw);
		free(out);
		return &pca_error_nomem;
	}
	if (!pca_target_try_read(in->target, data, raw, n * kind)) {
		free(raw);
		free(out);
		return pca_error_fault(data, n * kind);
	}
	char *p = out;
	for (size_t i = 0; i < n; i++) {
		uint32_t c;
		if (kind == 1) {
			c = raw[i];
		} else if (kind == 2) {
			uint16_t c16;
			memcpy(&c16, raw + 2 * i, 2);
			c = c16;
		} else {
			memcpy(&c, raw + 4 * i, 4);
		}
		utf8_put(&p, c);
	}
	*p = '\0';
	free(raw);
	*ret = out;
	return NULL;
}

struct pca_error *pca_interp_read_bytes(struct pca_interp *in, uint64_t addr, size_t max_len,
					uint8_t **ret, size_t *ret_len)
{
	if (!has_type(in, addr, in->bytes_type))
		return pca_error_create(PCA_ERROR_CORRUPT, "0x%llx is not a bytes object",
					(unsigned long long)addr);
	uint64_t size;
	if (!pca_interp_read_field(in, addr, PCA_F_OB_SIZE, &size))
		return pca_error_fault(addr, in->layout->sizes[PCA_S_BYTES]);
	if ((int64_t)size < 0 || size > max_len)
		return pca_error_create(PCA_ERROR_CORRUPT, "bytes at 0x%llx has implausible size %lld",
					(unsigned long long)addr, (long long)size);
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return &pca_error_nomem;
	uint64_t data = addr + pca_layout_offset(in->layout, PCA_F_BYTES_SVAL);
	if (!pca_target_try_read(in->target, data, buf, size)) {
		free(buf);
		return pca_error_fault(data, size);
	}
	*ret = buf;
	*ret_len = size;
	return NULL;
}

static int code_addr2line(struct pca_interp *in, uint64_t code, int64_t byte_offset)
{
	uint64_t table, first;
	if (!pca_interp_read_field(in, code, PCA_F_CODE_LINETABLE, &table) ||
	    !pca_interp_read_field(in, code, PCA_F_CODE_FIRSTLINENO, &first))
		return -1;
	uint8_t *bytes;
	size_t len;
	struct pca_error *err = pca_interp_read_bytes(in, table, max_linetable, &bytes, &len);
	if (err) {
		pca_error_destroy(err);
		return -1;
	}
	int line = pca_linetable_addr2line(in->layout->linetable, bytes, len,
					   (int)as_signed(in, PCA_F_CODE_FIRSTLINENO, first),
					   byte_offset > INT32_MAX ? INT32_MAX : (int)byte_offset);
	free(bytes);
	return line;
}

static struct pca_error *fill_frame_names(struct pca_interp *in, uint64_t code,
					  struct pca_pyframe *f)
{
	uint64_t name, filename, qualname;
	f->code = code;
	if (!pca_interp_read_field(in, code, PCA_F_CODE_NAME, &name) ||
	    !pca_interp_read_field(in, code, PCA_F_CODE_FILENAME, &filename))
		return pca_error_fault(code, in->layout->sizes[PCA_S_CODE]);
	struct pca_error *err = pca_interp_read_str(in, name, max_name_chars, &f->function);
	if (!err)
		err = pca_interp_read_str(in, filename, max_name_chars, &f->filename);
	if (!err && pca_interp_read_field(in, code, PCA_F_CODE_QUALNAME, &qualname))
		err = pca_interp_read_str(in, qualname, max_name_chars, &f->qualname);
	return err;
}

static void frame_free(struct pca_pyframe *f)
{
	free(f->function);
	free(f->qualname);
	free(f->filename);
}

static struct pca_error *push_frame(struct pca_pythread *th, size_t *cap, struct pca_pyframe *f,
				    struct pca_warnings *w)
{
	/* A frame we cannot fully name is shown, but never silently. */
	if (f->line < 0 || !f->function || !f->filename)
		pca_warnings_add(w, "thread %llu: frame %zu (%s) has no readable %s: the code object is damaged or not in the core",
				 (unsigned long long)th->thread_id, th->nframes,
				 f->function ? f->function : "?", f->line < 0 ? "line number" : "name");
	if (!PCA_VECTOR_GROW(&th->frames, cap, th->nframes + 1, 16))
		return &pca_error_nomem;
	th->frames[th->nframes++] = *f;
	return NULL;
}

static void loop_warning(struct pca_warnings *w, uint64_t thread_id, uint64_t frame)
{
	pca_warnings_add(w, "thread %llu: the frame chain loops back to the frame at 0x%llx: cut there (corrupt core?)",
			 (unsigned long long)thread_id, (unsigned long long)frame);
}

static void interp_loop_warning(struct pca_warnings *w, uint64_t interp)
{
	pca_warnings_add(w, "the interpreter list loops back to the interpreter at 0x%llx: cut there (corrupt core?)",
			 (unsigned long long)interp);
}

static void thread_loop_warning(struct pca_warnings *w, uint64_t interp, uint64_t tstate)
{
	pca_warnings_add(w, "the thread list of interpreter 0x%llx loops back to the thread state at 0x%llx: cut there (corrupt core?)",
			 (unsigned long long)interp, (unsigned long long)tstate);
}

void pca_interp_loop_warning(const struct pca_interp *in, struct pca_warnings *w)
{
	if (!in->chain_loops)
		return;
	switch (in->loop_chain) {
	case PCA_CHAIN_INTERPRETERS:
		interp_loop_warning(w, in->loop_node);
		break;
	case PCA_CHAIN_THREADS:
		thread_loop_warning(w, in->loop_owner, in->loop_node);
		break;
	case PCA_CHAIN_FRAMES:
		loop_warning(w, in->loop_owner, in->loop_node);
		break;
	case PCA_CHAIN_JOIN:
		pca_warnings_add(w, "two chains of thread states or frames join at 0x%llx (corrupt core?): it was followed once",
				 (unsigned long long)in->loop_node);
		break;
	}
}

/* The first chain that met itself (pca_interp_for_each_frame). */
static void record_loop(struct pca_interp *in, enum pca_chain chain, uint64_t owner, uint64_t node)
{
	if (in->chain_loops)
		return;
	in->chain_loops = true;
	in->loop_chain = chain;
	in->loop_owner = owner;
	in->loop_node = node;
}

/* 3.6-3.10: PyFrameObject chain through f_back. Line as PyFrame_GetLineNumber
 * (Objects/frameobject.c): 3.6-3.9 use f_lineno only while tracing (f_trace
 * set), else PyCode_Addr2Line(f_code, f_lasti); 3.10 uses f_lineno when
 * non-zero, else PyCode_Addr2Line(f_code, f_lasti * 2). */
static int object_frame_line(struct pca_interp *in, uint64_t frame, uint64_t code)
{
	uint64_t lasti_raw = 0, lineno = 0, trace = 0;
	pca_interp_read_field(in, frame, PCA_F_FRAME_LASTI, &lasti_raw);
	pca_interp_read_field(in, frame, PCA_F_FRAME_LINENO, &lineno);
	pca_interp_read_field(in, frame, PCA_F_FRAME_TRACE, &trace);
	int64_t lasti = as_signed(in, PCA_F_FRAME_LASTI, lasti_raw);
	int64_t line = as_signed(in, PCA_F_FRAME_LINENO, lineno);
	if (in->layout->lasti_unit == 1) {
		if (trace)
			return (int)line;
		return code_addr2line(in, code, lasti);
	}
	if (line != 0)
		return (int)line;
	return code_addr2line(in, code, lasti * in->layout->lasti_unit);
}

static struct pca_error *walk_object_frames(struct pca_interp *in, uint64_t tstate,
					    struct pca_pythread *th, struct pca_warnings *w)
{
	uint64_t frame;
	size_t cap = 0;
	if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_FRAME, &frame))
		return pca_error_fault(tstate, in->layout->sizes[PCA_S_TSTATE]);
	struct node_set seen;
	node_set_init(&seen);
	bool nomem = false;
	for (size_t depth = 0; frame && !nomem; depth++) {
		if (depth >= max_frames) {
			pca_warnings_add(w, "thread %llu: frame chain longer than %zu, cut",
					 (unsigned long long)th->thread_id, max_frames);
			break;
		}
		if (node_seen(&seen, frame, &nomem)) {
			loop_warning(w, th->thread_id, frame);
			break;
		}
		uint64_t code, back;
		if (!pca_interp_read_field(in, frame, PCA_F_FRAME_CODE, &code) ||
		    !pca_interp_read_field(in, frame, PCA_F_FRAME_BACK, &back) ||
		    !has_type(in, code, in->code_type)) {
			pca_warnings_add(w, "thread %llu: frame at 0x%llx is unreadable or corrupt; stack cut there",
					 (unsigned long long)th->thread_id, (unsigned long long)frame);
			break;
		}
		struct pca_pyframe f = {0};
		struct pca_error *err = fill_frame_names(in, code, &f);
		if (err) {
			pca_warnings_add(w, "thread %llu: %s", (unsigned long long)th->thread_id,
					 err->message);
			pca_error_destroy(err);
		}
		f.line = object_frame_line(in, frame, code);
		err = push_frame(th, &cap, &f, w);
		if (err) {
			frame_free(&f);
			node_set_deinit(&seen);
			return err;
		}
		frame = back;
	}
	node_set_deinit(&seen);
	return nomem ? &pca_error_nomem : NULL;
}

/* 3.11+: _PyInterpreterFrame chain through `previous`. Frames that are not
 * yet running user code are skipped as traceback and sys._current_frames do
 * (_PyFrame_IsIncomplete in Include/internal/pycore_frame.h: owner is not a
 * generator and the instruction is before _co_firsttraceable), and so are
 * 3.12+ C-stack shim frames (owner FRAME_OWNED_BY_CSTACK). The instruction
 * offset is instr_ptr/prev_instr minus the code's first instruction
 * (co_code_adaptive), as _PyInterpreterFrame_LASTI. */
/* The innermost interpreter frame of a thread: 3.13 tstate->current_frame,
 * 3.11-3.12 tstate->cframe->current_frame. */
static struct pca_error *tstate_current_iframe(struct pca_interp *in, uint64_t tstate, uint64_t *ret)
{
	const struct pca_layout *l = in->layout;
	*ret = 0;
	if (l->fields[PCA_F_TSTATE_CURRENT_FRAME].present) {
		if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_CURRENT_FRAME, ret))
			return pca_error_fault(tstate, l->sizes[PCA_S_TSTATE]);
		return NULL;
	}
	uint64_t cframe;
	if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_CFRAME, &cframe))
		return pca_error_fault(tstate, l->sizes[PCA_S_TSTATE]);
	if (cframe && !pca_interp_read_field(in, cframe, PCA_F_CFRAME_CURRENT_FRAME, ret))
		return pca_error_fault(cframe, l->sizes[PCA_S_CFRAME]);
	return NULL;
}

static struct pca_error *walk_interpreter_frames(struct pca_interp *in, uint64_t tstate,
						 struct pca_pythread *th, struct pca_warnings *w)
{
	const struct pca_layout *l = in->layout;
	uint64_t frame = 0;
	size_t cap = 0;
	struct pca_error *err = tstate_current_iframe(in, tstate, &frame);
	if (err)
		return err;
	struct node_set seen;
	node_set_init(&seen);
	bool nomem = false;
	for (size_t depth = 0; frame && !nomem; depth++) {
		if (depth >= max_frames) {
			pca_warnings_add(w, "thread %llu: frame chain longer than %zu, cut",
					 (unsigned long long)th->thread_id, max_frames);
			break;
		}
		if (node_seen(&seen, frame, &nomem)) {
			loop_warning(w, th->thread_id, frame);
			break;
		}
		uint64_t code, previous, instr, owner;
		if (!pca_interp_read_field(in, frame, PCA_F_IFRAME_CODE, &code) ||
		    !pca_interp_read_field(in, frame, PCA_F_IFRAME_PREVIOUS, &previous) ||
		    !pca_interp_read_field(in, frame, PCA_F_IFRAME_INSTR, &instr) ||
		    !pca_interp_read_field(in, frame, PCA_F_IFRAME_OWNER, &owner)) {
			pca_warnings_add(w, "thread %llu: frame at 0x%llx is not in the core; stack cut there",
					 (unsigned long long)th->thread_id, (unsigned long long)frame);
			break;
		}
		uint64_t cur = frame;
		frame = previous;
		if ((int64_t)owner == l->owner_cstack || !has_type(in, code, in->code_type))
			continue;
		uint64_t first_instr = code + pca_layout_offset(l, PCA_F_CODE_ADAPTIVE);
		uint64_t firsttraceable = 0;
		pca_interp_read_field(in, code, PCA_F_CODE_FIRSTTRACEABLE, &firsttraceable);
		if ((int64_t)owner != in->owner_generator &&
		    instr < first_instr + firsttraceable * (uint64_t)l->lasti_unit)
			continue;
		struct pca_pyframe f = {0};
		err = fill_frame_names(in, code, &f);
		if (err) {
			pca_warnings_add(w, "thread %llu: frame at 0x%llx: %s",
					 (unsigned long long)th->thread_id, (unsigned long long)cur,
					 err->message);
			pca_error_destroy(err);
		}
		f.line = instr >= first_instr ? code_addr2line(in, code, (int64_t)(instr - first_instr))
					      : -1;
		err = push_frame(th, &cap, &f, w);
		if (err) {
			frame_free(&f);
			node_set_deinit(&seen);
			return err;
		}
	}
	node_set_deinit(&seen);
	return nomem ? &pca_error_nomem : NULL;
}

/* Which LWP runs this thread state: with glibc on x86-64, pthread_self()
 * (the thread_id CPython stores) is the thread pointer, i.e. fs_base of that
 * LWP's registers; 3.11+ also records the native id. */
static void match_lwp(struct pca_interp *in, struct pca_pythread *th)
{
	size_t n = pca_target_thread_count(in->target);
	const struct pca_target_thread *lwps = pca_target_threads(in->target);
	for (size_t i = 0; i < n; i++) {
		if (lwps[i].fs_base == th->thread_id ||
		    (th->native_thread_id > 0 && lwps[i].tid == th->native_thread_id)) {
			th->native_thread_id = lwps[i].tid;
			/* The kernel writes the thread that took the signal first. */
			th->crashed = i == 0 && lwps[0].signal != 0 &&
				      pca_target_signal(in->target) != 0;
			return;
		}
	}
}

void pca_pythreads_free(struct pca_pythread *threads, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; j < threads[i].nframes; j++)
			frame_free(&threads[i].frames[j]);
		free(threads[i].frames);
	}
	free(threads);
}

struct pca_error *pca_interp_threads(struct pca_interp *in, struct pca_warnings *w,
				     struct pca_pythread **ret, size_t *ret_count)
{
	struct pca_pythread *threads = NULL;
	size_t count = 0, cap = 0;
	uint64_t interp = in->first_interp;
	/* one set for all interpreters, one for all thread states: a thread
	 * state in two lists is as corrupt as a list that loops */
	struct node_set seen_interps, seen_tstates;
	node_set_init(&seen_interps);
	node_set_init(&seen_tstates);
	bool nomem = false;
	for (size_t ni = 0; interp && ni < max_interpreters && !nomem; ni++) {
		uint64_t tstate, next_interp = 0;
		if (node_seen(&seen_interps, interp, &nomem)) {
			interp_loop_warning(w, interp);
			break;
		}
		if (!pca_interp_read_field(in, interp, PCA_F_INTERP_THREADS_HEAD, &tstate) ||
		    !pca_interp_read_field(in, interp, PCA_F_INTERP_NEXT, &next_interp)) {
			pca_warnings_add(w, "interpreter at 0x%llx is not in the core",
					 (unsigned long long)interp);
			break;
		}
		for (size_t nt = 0; tstate && !nomem; nt++) {
			if (nt >= max_threads) {
				pca_warnings_add(w, "thread list of interpreter 0x%llx is longer than %zu: cut (corrupt?)",
						 (unsigned long long)interp, max_threads);
				break;
			}
			if (node_seen(&seen_tstates, tstate, &nomem)) {
				thread_loop_warning(w, interp, tstate);
				break;
			}
			uint64_t next, thread_id, native = 0, owner_interp;
			if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_NEXT, &next) ||
			    !pca_interp_read_field(in, tstate, PCA_F_TSTATE_THREAD_ID, &thread_id)) {
				pca_warnings_add(w, "thread state at 0x%llx is not in the core",
						 (unsigned long long)tstate);
				break;
			}
			if (pca_interp_read_field(in, tstate, PCA_F_TSTATE_INTERP, &owner_interp) &&
			    owner_interp != interp) {
				pca_warnings_add(w, "thread state at 0x%llx does not point back to its interpreter: list cut (corrupt?)",
						 (unsigned long long)tstate);
				break;
			}
			if (!PCA_VECTOR_GROW(&threads, &cap, count + 1, 8)) {
				nomem = true;
				break;
			}
			struct pca_pythread *th = &threads[count++];
			memset(th, 0, sizeof(*th));
			th->tstate = tstate;
			th->interp = interp;
			th->thread_id = thread_id;
			th->native_thread_id =
				pca_interp_read_field(in, tstate, PCA_F_TSTATE_NATIVE_THREAD_ID, &native)
					? (int64_t)native
					: -1;
			match_lwp(in, th);
			struct pca_error *err = in->layout->frame_model == PCA_FRAMES_OBJECTS
							? walk_object_frames(in, tstate, th, w)
							: walk_interpreter_frames(in, tstate, th, w);
			if (err) {
				if (err->code == PCA_ERROR_NOMEM) {
					nomem = true;
					break;
				}
				pca_warnings_add(w, "thread %llu: %s", (unsigned long long)thread_id,
						 err->message);
				pca_error_destroy(err);
			}
			tstate = next;
		}
		interp = next_interp;
	}
	node_set_deinit(&seen_interps);
	node_set_deinit(&seen_tstates);
	if (nomem) {
		pca_pythreads_free(threads, count);
		return &pca_error_nomem;
	}
	*ret = threads;
	*ret_count = count;
	return NULL;
}

struct pca_error *pca_interp_list(struct pca_interp *in, uint64_t **ret, size_t *ret_count)
{
	uint64_t *list = NULL;
	size_t count = 0, cap = 0;
	struct node_set seen;
	node_set_init(&seen);
	bool nomem = false;
	for (uint64_t interp = in->first_interp; interp && count < max_interpreters;) {
		if (node_seen(&seen, interp, &nomem)) {
			record_loop(in, PCA_CHAIN_INTERPRETERS, 0, interp);
			break;
		}
		if (nomem || !PCA_VECTOR_GROW(&list, &cap, count + 1, 4)) {
			nomem = true;
			break;
		}
		list[count++] = interp;
		if (!pca_interp_read_field(in, interp, PCA_F_INTERP_NEXT, &interp))
			break;
	}
	node_set_deinit(&seen);
	if (nomem) {
		free(list);
		return &pca_error_nomem;
	}
	*ret = list;
	*ret_count = count;
	return NULL;
}

/* Whether node is among the first `steps` links of the chain from first:
 * a chain that meets itself, not one that joins another. */
static bool chain_holds(struct pca_interp *in, uint64_t first, enum pca_field previous, size_t steps,
			uint64_t node)
{
	for (size_t i = 0; first && i < steps; i++) {
		if (first == node)
			return true;
		if (!pca_interp_read_field(in, first, previous, &first))
			return false;
	}
	return false;
}

void pca_interp_for_each_frame(struct pca_interp *in, pca_frame_fn fn, void *ctx)
{
	bool objects = in->layout->frame_model == PCA_FRAMES_OBJECTS;
	enum pca_field previous = objects ? PCA_F_FRAME_BACK : PCA_F_IFRAME_PREVIOUS;
	uint64_t interp = in->first_interp;
	/* one set for every node: a node met twice (a loop, or two chains
	 * that join) gave its frames already. Without memory to record them,
	 * the step bounds alone stop the walk. */
	struct node_set seen;
	node_set_init(&seen);
	bool nomem = false;
	for (size_t ni = 0; interp && ni < max_interpreters; ni++) {
		uint64_t tstate = 0, next_interp = 0;
		if (node_seen(&seen, interp, &nomem)) {
			record_loop(in, PCA_CHAIN_INTERPRETERS, 0, interp);
			break;
		}
		pca_interp_read_field(in, interp, PCA_F_INTERP_THREADS_HEAD, &tstate);
		for (size_t nt = 0; tstate && nt < max_threads; nt++) {
			uint64_t frame = 0, next = 0;
			if (node_seen(&seen, tstate, &nomem)) {
				record_loop(in, PCA_CHAIN_THREADS, interp, tstate);
				break;
			}
			if (objects) {
				pca_interp_read_field(in, tstate, PCA_F_TSTATE_FRAME, &frame);
			} else {
				struct pca_error *err = tstate_current_iframe(in, tstate, &frame);
				pca_error_destroy(err);
			}
			uint64_t first = frame;
			for (size_t depth = 0; frame && depth < max_frames; depth++) {
				if (node_seen(&seen, frame, &nomem)) {
					uint64_t thread_id = 0;
					pca_interp_read_field(in, tstate, PCA_F_TSTATE_THREAD_ID, &thread_id);
					record_loop(in, chain_holds(in, first, previous, depth, frame) ? PCA_CHAIN_FRAMES
												: PCA_CHAIN_JOIN,
						    thread_id, frame);
					break;
				}
				fn(ctx, frame);
				if (!pca_interp_read_field(in, frame, previous, &frame))
					break;
			}
			if (!pca_interp_read_field(in, tstate, PCA_F_TSTATE_NEXT, &next))
				break;
			tstate = next;
		}
		if (!pca_interp_read_field(in, interp, PCA_F_INTERP_NEXT, &next_interp))
			break;
		interp = next_interp;
	}
	node_set_deinit(&seen);
}

/* frames.c: code objects, frame objects and generators (coroutines and
 * async generators share the layout): Objects/codeobject.c,
 * frameobject.c, genobject.c, Include/internal/pycore_frame.h. */
#include "objects/kinds.h"

static bool tuple_len(struct pca_objects *o, uint64_t tuple, uint64_t *ret)
{
	return tuple && pca_rd(o, tuple, PCA_F_OB_SIZE, ret) && *ret < pca_max_dict_entries;
}

/* Objects/codeobject.c code_sizeof. 3.11+: _PyObject_VAR_SIZE (rounded to
 * 8) of the variable-size object. 3.6-3.10: the object, the cell-to-argument
 * map, and 3.8-3.10 the opcache (one map byte per code unit and an entry per
 * cache). co_extra (set by debuggers, rare) is not counted: flagged. */
static bool code_sizeof(struct pca_objects *o, uint64_t code, const struct pca_type_info *t,
			uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t n;
	if (pca_layout_has(l, PCA_F_CODE_ADAPTIVE)) {
		if (!pca_rd(o, code, PCA_F_OB_SIZE, &n) || n > pca_max_dict_entries)
			return false;
		*res = (t->basicsize + n * t->itemsize + 7) & ~7ull;
		return true;
	}
	uint64_t cell2arg, cellvars, ncells, opcache, opcache_size, bytecode, ncode;
	*res = t->basicsize;
	if (pca_rd(o, code, PCA_F_CODE_CELL2ARG, &cell2arg) && cell2arg &&
	    pca_rd(o, code, PCA_F_CODE_CELLVARS, &cellvars) && tuple_len(o, cellvars, &ncells))
		*res += ncells * 8;
	if (pca_rd(o, code, PCA_F_CODE_OPCACHE, &opcache) && opcache &&
	    pca_rd(o, code, PCA_F_CODE_OPCACHE_SIZE, &opcache_size) &&
	    pca_rd(o, code, PCA_F_CODE_CODE, &bytecode) && pca_rd(o, bytecode, PCA_F_OB_SIZE, &ncode))
		*res += ncode / 2 + opcache_size * l->sizes[PCA_S_OPCACHE];
	return true;
}

/* Objects/frameobject.c frame_sizeof. 3.11+: the object up to its frame
 * data plus the frame's slots for its code; 3.6-3.10: PyFrameObject with
 * its one-slot array grown to locals, cells, frees and the value stack. */
static bool frame_sizeof(struct pca_objects *o, uint64_t frame, uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t code, nlocals, stacksize;
	if (pca_layout_has(l, PCA_F_FRAMEOBJ_FRAME)) {
		uint64_t iframe;
		if (!pca_rd(o, frame, PCA_F_FRAMEOBJ_FRAME, &iframe) || !pca_rd(o, iframe, PCA_F_IFRAME_CODE, &code) ||
		    !pca_rd(o, code, PCA_F_CODE_NLOCALSPLUS, &nlocals) ||
		    !pca_rd(o, code, PCA_F_CODE_STACKSIZE, &stacksize))
			return false;
		*res = pca_layout_offset(l, PCA_F_FRAMEOBJ_DATA) + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS) +
		       ((nlocals & 0xffffffffu) + (stacksize & 0xffffffffu)) * 8;
		return true;
	}
	uint64_t cellvars, freevars, ncells, nfrees;
	if (!pca_rd(o, frame, PCA_F_FRAME_CODE, &code) || !pca_rd(o, code, PCA_F_CODE_NLOCALS, &nlocals) ||
	    !pca_rd(o, code, PCA_F_CODE_STACKSIZE, &stacksize) ||
	    !pca_rd(o, code, PCA_F_CODE_CELLVARS, &cellvars) || !tuple_len(o, cellvars, &ncells) ||
	    !pca_rd(o, code, PCA_F_CODE_FREEVARS, &freevars) || !tuple_len(o, freevars, &nfrees))
		return false;
	uint64_t extras = (stacksize & 0xffffffffu) + (nlocals & 0xffffffffu) + ncells + nfrees;
	*res = l->sizes[PCA_S_FRAME] + (extras ? extras - 1 : 0) * 8;
	return true;
}

/* Objects/genobject.c gen_sizeof (3.11+): the object up to its embedded
 * frame, plus the frame's slots for the code (co_nlocalsplus +
 * co_stacksize). Before 3.11 generators use the default formula. */
static bool gen_sizeof(struct pca_objects *o, uint64_t gen, const struct pca_type_info *t,
		       uint64_t *res)
{
	const struct pca_layout *l = o->interp->layout;
	if (!pca_layout_has(l, PCA_F_GEN_IFRAME)) {
		*res = t->basicsize;
		return true;
	}
	uint64_t iframe = gen + pca_layout_offset(l, PCA_F_GEN_IFRAME), code, nlocalsplus, stacksize;
	if (!pca_rd(o, iframe, PCA_F_IFRAME_CODE, &code) ||
	    !pca_rd(o, code, PCA_F_CODE_NLOCALSPLUS, &nlocalsplus) ||
	    !pca_rd(o, code, PCA_F_CODE_STACKSIZE, &stacksize))
		return false;
	*res = pca_layout_offset(l, PCA_F_GEN_IFRAME) + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS) +
	       ((nlocalsplus & 0xffffffffu) + (stacksize & 0xffffffffu)) * 8;
	return true;
}

/* 3.6-3.10 frame_traverse: the locals and cells (f_localsplus up to
 * f_valuestack) and the value stack (3.6-3.9: up to f_stacktop when set;
 * 3.10: f_stackdepth entries). */
static void visit_frame_slots(struct pca_objects *o, uint64_t frame, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t valuestack, top, depth;
	if (!pca_layout_has(l, PCA_F_FRAME_LOCALSPLUS) ||
	    !pca_rd(o, frame, PCA_F_FRAME_VALUESTACK, &valuestack))
		return;
	uint64_t locals = frame + pca_layout_offset(l, PCA_F_FRAME_LOCALSPLUS);
	if (valuestack < locals || (valuestack - locals) / 8 > pca_max_items)
		return;
	int64_t n = (int64_t)((valuestack - locals) / 8);
	if (pca_rd(o, frame, PCA_F_FRAME_STACKDEPTH, &depth))
		/* 3.10 sets f_stackdepth to -1 while the frame runs, and
		 * frame_nslots then counts one slot less: so do we. */
		n += (int32_t)(uint32_t)depth;
	else if (pca_rd(o, frame, PCA_F_FRAME_STACKTOP, &top) && top >= valuestack)
		n += (int64_t)((top - valuestack) / 8);
	if (n > 0)
		pca_objects_visit_array(o, locals, (uint64_t)n, visit, ctx);
}

/* _PyFrame_Traverse (Include/internal/pycore_frame.h, 3.11+): the frame's
 * own references and its locals and value stack up to stacktop. */
static void visit_iframe(struct pca_objects *o, uint64_t iframe, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	static const enum pca_field fields[] = {PCA_F_IFRAME_FRAME_OBJ, PCA_F_IFRAME_LOCALS,
						PCA_F_IFRAME_FUNC, PCA_F_IFRAME_CODE};
	uint64_t p, stacktop;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (pca_rd(o, iframe, fields[i], &p) && p)
			visit(ctx, p);
	/* stacktop is an int, -1 while the frame runs
	 * (_PyFrame_GetStackPointer): _PyFrame_Traverse's loop then visits
	 * nothing (a running coroutine's locals are the running frame's) */
	if (pca_rd(o, iframe, PCA_F_IFRAME_STACKTOP, &stacktop) && (int32_t)(uint32_t)stacktop > 0)
		pca_objects_visit_array(o, iframe + pca_layout_offset(l, PCA_F_IFRAME_LOCALSPLUS),
			    (uint32_t)stacktop, visit, ctx);
}

/* 3.11+ generators traverse their embedded frame until it is cleared. */
static void visit_generator_frame(struct pca_objects *o, uint64_t gen, pca_visit_fn visit, void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	uint64_t state;
	if (!pca_layout_has(l, PCA_F_GEN_IFRAME) || l->frame_cleared < 0 ||
	    !pca_rd(o, gen, PCA_F_GEN_FRAME_STATE, &state) || (int8_t)state >= l->frame_cleared)
		return;
	visit_iframe(o, gen + pca_layout_offset(l, PCA_F_GEN_IFRAME), visit, ctx);
}

/* 3.11+ frame objects: what frame_traverse visits (f_back, f_trace, ...)
 * plus, as the truth in tests/e2e/test_summary.py defines, the code, globals
 * and builtins of the frame they show. A frame object that outlived its
 * call (kept by a traceback, sys._getframe()) owns its frame data, copied
 * into _f_frame_data (FRAME_OWNED_BY_FRAME_OBJECT): frame_tp_traverse then
 * visits it all (_PyFrame_Traverse: code, function, locals, value stack). */
static void visit_frame_object_frame(struct pca_objects *o, uint64_t frame, pca_visit_fn visit,
				     void *ctx)
{
	const struct pca_layout *l = o->interp->layout;
	static const enum pca_field fields[] = {PCA_F_IFRAME_GLOBALS, PCA_F_IFRAME_BUILTINS,
						PCA_F_IFRAME_CODE};
	uint64_t iframe, p;
	if (!pca_rd(o, frame, PCA_F_FRAMEOBJ_FRAME, &iframe) || !iframe)
		return;
	bool owned = pca_layout_has(l, PCA_F_FRAMEOBJ_DATA) &&
		     iframe == frame + pca_layout_offset(l, PCA_F_FRAMEOBJ_DATA);
	/* visit_iframe visits the code itself */
	size_t n = sizeof(fields) / sizeof(fields[0]) - (owned ? 1 : 0);
	for (size_t i = 0; i < n; i++)
		if (pca_rd(o, iframe, fields[i], &p) && p)
			visit(ctx, p);
	if (owned)
		visit_iframe(o, iframe, visit, ctx);
}

static bool frame_size(struct pca_objects *o, uint64_t frame, const struct pca_type_info *t,
		       uint64_t *res)
{
	(void)t;
	return frame_sizeof(o, frame, res);
}

static void frame_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			    pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_frame_slots(o, obj, visit, ctx);
	visit_frame_object_frame(o, obj, visit, ctx);
}

static void generator_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
				pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_generator_frame(o, obj, visit, ctx);
}

const struct pca_kind_ops pca_code_ops = {
	.kind = PCA_KIND_CODE,
	.size = code_sizeof,
};

const struct pca_kind_ops pca_frame_ops = {
	.kind = PCA_KIND_FRAME,
	.size = frame_size,
	.referents = frame_referents,
};

const struct pca_kind_ops pca_generator_ops = {
	.kind = PCA_KIND_GENERATOR,
	.size = gen_sizeof,
	.referents = generator_referents,
};

/* runtime.c: objects of the runtime's machinery: modules (their C state),
 * functools._lru_cache_wrapper (Modules/_functoolsmodule.c) and functions
 * (Objects/funcobject.c). Their other references are their C type's
 * members (layout/object_layout.c). */
#include <stdlib.h>
#include <string.h>

#include "objects/kinds.h"

/* module_traverse calls the module's m_traverse on its C state, a struct
 * private to each extension module (types, exceptions, cached objects). We
 * cannot know each struct, so every aligned word of the state is offered as
 * a candidate; the caller keeps only valid objects. Bounded by m_size. */
static void visit_module_state(struct pca_objects *o, uint64_t module, pca_visit_fn visit, void *ctx)
{
	uint64_t def, state, size, traverse;
	if (!pca_rd(o, module, PCA_F_MODULE_DEF, &def) || !def || !pca_rd(o, module, PCA_F_MODULE_STATE, &state) ||
	    !state || !pca_rd(o, def, PCA_F_MODULEDEF_SIZE, &size) ||
	    !pca_rd(o, def, PCA_F_MODULEDEF_TRAVERSE, &traverse) || !traverse ||
	    (int64_t)size <= 0 || size > (64u << 10))
		return;
	for (uint64_t i = 0; i < size / 8; i++) {
		uint64_t p;
		if (!pca_target_try_read_u64(o->interp->target, state + i * 8, &p))
			return;
		if (p && !(p & 7))
			visit(ctx, p | PCA_REFERENT_GUESS);
	}
}

/* A bounded cache's links (bounded_lru_cache_wrapper,
 * Modules/_functoolsmodule.c): each is the value of its key in the cache
 * dict and is owned a second time by the wrapper's circular list (the
 * reference PyObject_New gave it). The wrapper holds that reference, and
 * the link holds its key and result (its C members, layout/object_layout.c);
 * lru_cache_tp_traverse visits the key and result of every link for the
 * collector, which pca_type_info.traversed_by_owner says. Bounded by the
 * cache's size. */
static void visit_lru_links(struct pca_objects *o, uint64_t wrapper, pca_visit_fn visit, void *ctx)
{
	uint64_t root = wrapper, link, cache, used = 0;
	if (!pca_rd(o, wrapper, PCA_F_LRU_ROOT_NEXT, &link))
		return;
	if (pca_rd(o, wrapper, PCA_F_LRU_CACHE, &cache) && cache)
		pca_rd(o, cache, PCA_F_DICT_USED, &used);
	for (uint64_t n = 0; link && link != root && n <= used; n++) {
		visit(ctx, link);
		if (!pca_rd(o, link, PCA_F_LRU_ELEM_NEXT, &link))
			return;
	}
}

static void module_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			     pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_module_state(o, obj, visit, ctx);
}

const struct pca_kind_ops pca_module_ops = {
	.kind = PCA_KIND_MODULE,
	.size = pca_objects_default_size,
	.referents = module_referents,
};

static void lru_referents(struct pca_objects *o, uint64_t obj, struct pca_type_info *t,
			  pca_visit_fn visit, void *ctx)
{
	(void)t;
	visit_lru_links(o, obj, visit, ctx);
}

void pca_objects_lru(struct pca_objects *o, uint64_t wrapper, struct pca_lru_info *ret)
{
	uint64_t x, cache = 0;
	memset(ret, 0, sizeof(*ret));
	ret->maxsize = -1;
	if (pca_rd(o, wrapper, PCA_F_LRU_MAXSIZE, &x))
		ret->maxsize = (int64_t)x;
	if (pca_rd(o, wrapper, PCA_F_LRU_TYPED, &x))
		ret->typed = (x & 0xffffffffu) != 0;
	pca_rd(o, wrapper, PCA_F_LRU_HITS, &ret->hits);
	pca_rd(o, wrapper, PCA_F_LRU_MISSES, &ret->misses);
	if (pca_rd(o, wrapper, PCA_F_LRU_CACHE, &cache) && cache)
		pca_rd(o, cache, PCA_F_DICT_USED, &ret->entries);
	pca_rd(o, wrapper, PCA_F_LRU_FUNC, &ret->func);
}

const struct pca_kind_ops pca_lru_cache_ops = {
	.kind = PCA_KIND_LRU_CACHE,
	.size = pca_objects_default_size,
	.referents = lru_referents,
};

/* lru_list_elem: not a GC type; its key and result are its members. */
const struct pca_kind_ops pca_lru_link_ops = {
	.kind = PCA_KIND_LRU_LINK,
	.size = pca_objects_default_size,
	.traversed_by_owner = true,
};

static char *read_str(struct pca_objects *o, uint64_t addr)
{
	char *s = NULL;
	struct pca_error *err = pca_interp_read_str(o->interp, addr, 200, &s);
	pca_error_destroy(err);
	return s;
}

char *pca_objects_function_name(struct pca_objects *o, uint64_t func)
{
	uint64_t qualname = 0, module = 0;
	pca_rd(o, func, PCA_F_FUNC_QUALNAME, &qualname);
	pca_rd(o, func, PCA_F_FUNC_MODULE, &module);
	char *q = qualname ? read_str(o, qualname) : NULL;
	char *m = module ? read_str(o, module) : NULL;
	char *name = NULL;
	if (q && m && strcmp(m, "builtins") != 0)
		name = pca_asprintf("%s.%s", m, q);
	else if (q)
		name = strdup(q);
	free(q);
	free(m);
	return name;
}

const struct pca_kind_ops pca_function_ops = {
	.kind = PCA_KIND_FUNCTION,
	.size = pca_objects_default_size,
};

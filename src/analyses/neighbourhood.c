#include "analyses/neighbourhood.h"

#include "analyses/owner.h"

struct referent_list {
	const struct pca_heap *heap;
	struct pca_object_view *view;
};

static void collect_referent(void *ctx, uint64_t referent)
{
	struct referent_list *r = ctx;
	uint32_t id;
	if (!pca_heap_find(r->heap, referent & ~(uint64_t)PCA_REFERENT_FLAGS, &id))
		return;
	r->view->referents_total++;
	if (r->view->nreferents < PCA_OBJECT_LISTED)
		r->view->referents[r->view->nreferents++] = id;
}

void pca_object_view_compute(struct pca_objects *objects, const struct pca_heap *heap,
			     const struct pca_refgraph *g, uint32_t id, struct pca_object_view *ret)
{
	ret->id = id;
	ret->preview[0] = '\0';
	ret->nreferents = ret->referents_total = 0;
	pca_owner_path(objects, heap, g, id, ret->owner, sizeof(ret->owner));
	pca_preview(objects, heap->addr[id], &objects->infos[heap->type[id]], ret->preview,
		    sizeof(ret->preview));
	struct referent_list refs = {heap, ret};
	pca_objects_referents(objects, heap->addr[id], &objects->infos[heap->type[id]],
			      collect_referent, &refs);
	ret->referrers_total = pca_graph_referrers(&g->graph, id, ret->referrers, PCA_OBJECT_LISTED);
	ret->nreferrers = ret->referrers_total < PCA_OBJECT_LISTED ? (size_t)ret->referrers_total
								  : PCA_OBJECT_LISTED;
}

void pca_object_path_compute(struct pca_objects *objects, const struct pca_heap *heap,
			     const struct pca_refgraph *g, uint32_t id, struct pca_object_path *ret)
{
	ret->id = id;
	ret->n = 0;
	for (uint32_t v = id; ret->n < PCA_PATH_MAX;) {
		ret->chain[ret->n++] = v;
		uint32_t p = g->parent[v];
		if (p == PCA_GRAPH_VIRTUAL_ROOT || p == PCA_GRAPH_UNREACHABLE)
			break;
		v = p;
	}
	ret->reachable = g->parent[ret->chain[ret->n - 1]] == PCA_GRAPH_VIRTUAL_ROOT;
	pca_owner_path(objects, heap, g, id, ret->owner, sizeof(ret->owner));
}

bool pca_neighbourhood_has(const struct pca_neighbourhood *h, uint32_t id)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->ids[i] == id)
			return true;
	return false;
}

static void hood_add(struct pca_neighbourhood *h, uint32_t id)
{
	if (!pca_neighbourhood_has(h, id) && h->n < PCA_HOOD_MAX_NODES)
		h->ids[h->n++] = id;
}

void pca_neighbourhood_compute(struct pca_objects *objects, const struct pca_heap *heap,
			       const struct pca_refgraph *rg, uint32_t id, struct pca_neighbourhood *ret)
{
	const struct pca_graph *g = &rg->graph;
	ret->id = id;
	ret->n = 0;
	hood_add(ret, id);
	for (uint64_t e = g->out_start[id]; e < g->out_start[id + 1] && e - g->out_start[id] < PCA_HOOD_FANOUT; e++)
		hood_add(ret, g->out[e]);
	size_t first_referrer = ret->n;
	/* referrers by a scan of every edge each (no reverse edges are kept) */
	uint32_t referrers[PCA_HOOD_FANOUT];
	uint64_t nref = pca_graph_referrers(g, id, referrers, PCA_HOOD_FANOUT);
	for (uint64_t i = 0; i < nref && i < PCA_HOOD_FANOUT; i++)
		hood_add(ret, referrers[i]);
	size_t referrers_end = ret->n;
	/* their referrers, all in one more scan */
	uint32_t second[PCA_HOOD_FANOUT * PCA_HOOD_FANIN2];
	uint64_t totals[PCA_HOOD_FANOUT];
	size_t nfirst = referrers_end - first_referrer;
	if (pca_graph_referrers_many(g, ret->ids + first_referrer, nfirst, second, PCA_HOOD_FANIN2,
				     totals)) {
		for (size_t i = 0; i < nfirst; i++)
			for (uint64_t k = 0; k < totals[i] && k < PCA_HOOD_FANIN2; k++)
				hood_add(ret, second[i * PCA_HOOD_FANIN2 + k]);
	}
	for (size_t i = 0; i < ret->n; i++)
		pca_owner_path(objects, heap, rg, ret->ids[i], ret->owners[i], sizeof(ret->owners[i]));
}

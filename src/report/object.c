/* The sections about one object: show, path, graph (DOT and JSON). */
#include "report/sections.h"
#include "base/escape.h"

static void object_line_text(FILE *out, const struct pca_report_model *m, uint32_t id,
			     const char *indent)
{
	fprintf(out, "%s%#llx  %-28s %llu bytes\n", indent, (unsigned long long)m->heap->addr[id],
		pca_text(m->objects->infos[m->heap->type[id]].name), (unsigned long long)pca_heap_size(m->heap, id));
}

/* The members every object's JSON starts with. */
static void object_members_json(struct pca_json *j, const struct pca_report_model *m, uint32_t id)
{
	pca_json_member_address(j, "address", m->heap->addr[id]);
	pca_json_member_string(j, "type", m->objects->infos[m->heap->type[id]].name);
	pca_json_member_uint(j, "size", pca_heap_size(m->heap, id));
}

/* "key": [{address, type, size}, ...], in order or backwards. */
static void object_list_json(struct pca_json *j, const struct pca_report_model *m, const char *key,
			     const uint32_t *ids, size_t n, bool backwards)
{
	pca_json_key(j, key);
	pca_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		pca_json_object_begin(j);
		object_members_json(j, m, ids[backwards ? n - 1 - i : i]);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

void pca_report_object_text(FILE *out, const struct pca_report_model *m)
{
	const struct pca_object_view *o = m->object;
	uint32_t id = o->id;
	char size[32], retained[32];
	pca_format_bytes(pca_heap_size(m->heap, id), size, sizeof(size));
	pca_format_bytes(m->graph->retained[id], retained, sizeof(retained));
	fprintf(out, "%#llx  %s\n", (unsigned long long)m->heap->addr[id],
		pca_text(m->objects->infos[m->heap->type[id]].name));
	fprintf(out, "  size      %s (%llu bytes), retained %s\n", size,
		(unsigned long long)pca_heap_size(m->heap, id), retained);
	fprintf(out, "  owner     %s\n", o->owner[0] ? pca_text(o->owner)
				  : m->graph->unreachable[id] ? "(unreachable garbage)" : "(none)");
	fprintf(out, "  value     %s\n", pca_text(o->preview));
	fprintf(out, "  refers to %llu objects%s\n", (unsigned long long)o->referents_total,
		o->referents_total > o->nreferents ? " (first 64)" : "");
	for (size_t i = 0; i < o->nreferents; i++)
		object_line_text(out, m, o->referents[i], "    ");
	fprintf(out, "  referred to by %llu objects%s\n", (unsigned long long)o->referrers_total,
		o->referrers_total > PCA_OBJECT_LISTED ? " (first 64)" : "");
	for (size_t i = 0; i < o->nreferrers; i++)
		object_line_text(out, m, o->referrers[i], "    ");
}

void pca_report_object_json(struct pca_json *j, const struct pca_report_model *m)
{
	const struct pca_object_view *o = m->object;
	uint32_t id = o->id;
	pca_json_key(j, "object");
	pca_json_object_begin(j);
	object_members_json(j, m, id);
	pca_json_member_uint(j, "retained", m->graph->retained[id]);
	pca_json_member_string(j, "owner", o->owner[0] ? o->owner : NULL);
	pca_json_member_bool(j, "unreachable", m->graph->unreachable[id]);
	pca_json_member_string(j, "preview", o->preview);
	object_list_json(j, m, "referents", o->referents, o->nreferents, false);
	object_list_json(j, m, "referrers", o->referrers, o->nreferrers, false);
	pca_json_object_end(j);
}

void pca_report_path_text(FILE *out, const struct pca_report_model *m)
{
	const struct pca_object_path *p = m->path;
	if (!p->reachable) {
		fprintf(out, "%#llx (%s) is not reachable from any root%s\n",
			(unsigned long long)m->heap->addr[p->id], pca_text(m->objects->infos[m->heap->type[p->id]].name),
			m->graph->unreachable[p->id] ? ": unreachable garbage the collector would free" : "");
		return;
	}
	fprintf(out, "%s\n", pca_text(p->owner));
	for (size_t i = p->n; i > 0; i--)
		object_line_text(out, m, p->chain[i - 1], "  ");
}

void pca_report_path_json(struct pca_json *j, const struct pca_report_model *m)
{
	const struct pca_object_path *p = m->path;
	pca_json_member_string(j, "owner", p->owner[0] ? p->owner : NULL);
	object_list_json(j, m, "path", p->chain, p->reachable ? p->n : 0, true);
}

static void put_dot_string(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
}

void pca_report_graph_dot(FILE *out, const struct pca_report_model *m)
{
	const struct pca_neighbourhood *h = m->hood;
	const struct pca_graph *g = &m->graph->graph;
	fprintf(out, "digraph pycore {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"monospace\"];\n");
	for (size_t i = 0; i < h->n; i++) {
		uint32_t v = h->ids[i];
		char size[32];
		pca_format_bytes(pca_heap_size(m->heap, v), size, sizeof(size));
		fprintf(out, "\tn%u [label=\"", v);
		put_dot_string(out, pca_text(m->objects->infos[m->heap->type[v]].name));
		fprintf(out, "\\n%#llx\\n%s", (unsigned long long)m->heap->addr[v], size);
		if (h->owners[i][0]) {
			fprintf(out, "\\n");
			put_dot_string(out, pca_text(h->owners[i]));
		}
		fprintf(out, "\"%s];\n", v == h->id ? ", style=filled, fillcolor=lightyellow" : "");
	}
	for (size_t i = 0; i < h->n; i++)
		for (uint64_t e = g->out_start[h->ids[i]]; e < g->out_start[h->ids[i] + 1]; e++)
			if (pca_neighbourhood_has(h, g->out[e]))
				fprintf(out, "\tn%u -> n%u;\n", h->ids[i], g->out[e]);
	fprintf(out, "}\n");
}

void pca_report_graph_json(struct pca_json *j, const struct pca_report_model *m)
{
	const struct pca_neighbourhood *h = m->hood;
	const struct pca_graph *g = &m->graph->graph;
	pca_json_key(j, "graph");
	pca_json_object_begin(j);
	object_list_json(j, m, "nodes", h->ids, h->n, false);
	pca_json_key(j, "edges");
	pca_json_array_begin(j);
	for (size_t i = 0; i < h->n; i++)
		for (uint64_t e = g->out_start[h->ids[i]]; e < g->out_start[h->ids[i] + 1]; e++)
			if (pca_neighbourhood_has(h, g->out[e])) {
				pca_json_array_begin(j);
				pca_json_address(j, m->heap->addr[h->ids[i]]);
				pca_json_address(j, m->heap->addr[g->out[e]]);
				pca_json_array_end(j);
			}
	pca_json_array_end(j);
	pca_json_object_end(j);
}

/* The sections about one object: show, path, graph (DOT and JSON). */
#include "report/sections.h"
#include "base/escape.h"

static void object_line_text(FILE *out, const struct pca_report_model *m, uint32_t id,
			     const char *indent)
{
	fprintf(out, "%s%#llx  %-28s %llu bytes\n", indent, (unsigned long long)m->heap->addr[id],
		pca_text(m->objects->infos[m->heap->type[id]].name), (unsigned long long)m->heap->size[id]);
}

static void object_line_json(struct pca_json *j, const struct pca_report_model *m, uint32_t id)
{
	pca_json_object_begin(j);
	pca_json_key(j, "address");
	pca_json_address(j, m->heap->addr[id]);
	pca_json_key(j, "type");
	pca_json_string(j, m->objects->infos[m->heap->type[id]].name);
	pca_json_key(j, "size");
	pca_json_uint(j, m->heap->size[id]);
	pca_json_object_end(j);
}

void pca_report_object_text(FILE *out, const struct pca_report_model *m)
{
	const struct pca_object_view *o = m->object;
	uint32_t id = o->id;
	char size[32], retained[32];
	pca_format_bytes(m->heap->size[id], size, sizeof(size));
	pca_format_bytes(m->graph->retained[id], retained, sizeof(retained));
	fprintf(out, "%#llx  %s\n", (unsigned long long)m->heap->addr[id],
		pca_text(m->objects->infos[m->heap->type[id]].name));
	fprintf(out, "  size      %s (%llu bytes), retained %s\n", size,
		(unsigned long long)m->heap->size[id], retained);
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
	pca_json_key(j, "address");
	pca_json_address(j, m->heap->addr[id]);
	pca_json_key(j, "type");
	pca_json_string(j, m->objects->infos[m->heap->type[id]].name);
	pca_json_key(j, "size");
	pca_json_uint(j, m->heap->size[id]);
	pca_json_key(j, "retained");
	pca_json_uint(j, m->graph->retained[id]);
	pca_json_key(j, "owner");
	pca_json_string(j, o->owner[0] ? o->owner : NULL);
	pca_json_key(j, "unreachable");
	pca_json_bool(j, m->graph->unreachable[id]);
	pca_json_key(j, "preview");
	pca_json_string(j, o->preview);
	pca_json_key(j, "referents");
	pca_json_array_begin(j);
	for (size_t i = 0; i < o->nreferents; i++)
		object_line_json(j, m, o->referents[i]);
	pca_json_array_end(j);
	pca_json_key(j, "referrers");
	pca_json_array_begin(j);
	for (size_t i = 0; i < o->nreferrers; i++)
		object_line_json(j, m, o->referrers[i]);
	pca_json_array_end(j);
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
	pca_json_key(j, "owner");
	pca_json_string(j, p->owner[0] ? p->owner : NULL);
	pca_json_key(j, "path");
	pca_json_array_begin(j);
	for (size_t i = p->n; p->reachable && i > 0; i--)
		object_line_json(j, m, p->chain[i - 1]);
	pca_json_array_end(j);
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
		pca_format_bytes(m->heap->size[v], size, sizeof(size));
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
	pca_json_key(j, "nodes");
	pca_json_array_begin(j);
	for (size_t i = 0; i < h->n; i++)
		object_line_json(j, m, h->ids[i]);
	pca_json_array_end(j);
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

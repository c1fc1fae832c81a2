/* cmd_object.c: the commands about one object: show, path, graph ADDR. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/owner.h"
#include "cli/session.h"
#include "report/report.h"

static uint64_t object_address; /* ADDR */

static bool parse_address(const char *text, uint64_t *ret)
{
	char *end;
	if (strncmp(text, "0x", 2) != 0 && strncmp(text, "0X", 2) != 0)
		return false;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 16);
	if (errno || *end || end == text + 2)
		return false;
	*ret = v;
	return true;
}

/* ADDR before or after CORE (`show 0x7f.. core.1234`) */
int pca_cmd_object_args(const struct pca_command *cmd, int argc, char **argv, int pos,
			struct pca_options *opts)
{
	bool have_address = false;
	if (pos < argc && parse_address(argv[pos], &object_address)) {
		have_address = true;
		pos++;
	}
	int status = pca_cli_take_core(argc, argv, &pos, opts);
	if (status)
		return status;
	if (!have_address) {
		if (pos >= argc || !parse_address(argv[pos], &object_address)) {
			fprintf(stderr, "pycore-analyze: %s needs an address (0x...)\n", cmd->name);
			return PCA_EXIT_USAGE;
		}
		pos++;
	}
	return pca_cli_take_rest(argc, argv, pos, opts);
}


/* The object that contains addr: the last object starting at or below it
 * whose body (basicsize + items) covers it, or the one whose collector
 * header or pre-header it falls in. */
static bool object_at(struct pca_session *s, uint64_t addr, uint32_t *ret)
{
	const struct pca_heap *h = &s->heap;
	uint32_t lo = 0, hi = h->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->addr[h->by_address[mid]] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		uint32_t id = h->by_address[lo - 1];
		const struct pca_type_info *t = &s->objects.infos[h->type[id]];
		uint64_t n = 0, body = t->basicsize;
		if (t->itemsize && pca_interp_read_field(&s->interp, h->addr[id], PCA_F_OB_SIZE, &n))
			body += ((int64_t)n < 0 ? (uint64_t)-(int64_t)n : n) * t->itemsize;
		if (addr - h->addr[id] < body) {
			*ret = id;
			return true;
		}
	}
	/* in the collector's header or the pre-header before the next object */
	uint64_t pre = s->layout.sizes[PCA_S_GC_HEAD] + 16;
	if (lo < h->count && h->addr[h->by_address[lo]] - addr <= pre) {
		*ret = h->by_address[lo];
		return true;
	}
	return false;
}

struct referent_list {
	struct pca_session *s;
	uint32_t ids[64];
	size_t n, total;
};

static void collect_referent(void *ctx, uint64_t referent)
{
	struct referent_list *r = ctx;
	uint32_t id;
	if (!pca_heap_find(&r->s->heap, referent & ~(uint64_t)PCA_REFERENT_FLAGS, &id))
		return;
	r->total++;
	if (r->n < sizeof(r->ids) / sizeof(r->ids[0]))
		r->ids[r->n++] = id;
}

static void print_object_line(struct pca_session *s, struct pca_json *j, uint32_t id, const char *indent)
{
	const char *type = s->objects.infos[s->heap.type[id]].name;
	if (j) {
		pca_json_object_begin(j);
		pca_json_key(j, "address");
		pca_json_address(j, s->heap.addr[id]);
		pca_json_key(j, "type");
		pca_json_string(j, type);
		pca_json_key(j, "size");
		pca_json_uint(j, s->heap.size[id]);
		pca_json_object_end(j);
	} else {
		printf("%s%#llx  %-28s %llu bytes\n", indent, (unsigned long long)s->heap.addr[id], type,
		       (unsigned long long)s->heap.size[id]);
	}
}

static int need_object(struct pca_session *s, uint32_t *id)
{
	if (object_at(s, object_address, id))
		return 0;
	fprintf(stderr, "pycore-analyze: no object of the census contains 0x%llx\n",
		(unsigned long long)object_address);
	return PCA_EXIT_NO_RESULT;
}

int pca_cmd_show(struct pca_session *s)
{
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	char owner[512], preview[256] = "";
	pca_owner_path(&s->objects, &s->heap, &s->graph, id, owner, sizeof(owner));
	pca_preview(&s->objects, s->heap.addr[id], &s->objects.infos[s->heap.type[id]], preview,
		    sizeof(preview));
	struct referent_list refs = {.s = s};
	pca_objects_referents(&s->objects, s->heap.addr[id], &s->objects.infos[s->heap.type[id]],
			      collect_referent, &refs);
	const struct pca_graph *g = &s->graph.graph;
	uint64_t in_count = g->in_start[id + 1] - g->in_start[id];
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "object");
		pca_json_object_begin(&j);
		pca_json_key(&j, "address");
		pca_json_address(&j, s->heap.addr[id]);
		pca_json_key(&j, "type");
		pca_json_string(&j, s->objects.infos[s->heap.type[id]].name);
		pca_json_key(&j, "size");
		pca_json_uint(&j, s->heap.size[id]);
		pca_json_key(&j, "retained");
		pca_json_uint(&j, s->graph.retained[id]);
		pca_json_key(&j, "owner");
		pca_json_string(&j, owner[0] ? owner : NULL);
		pca_json_key(&j, "unreachable");
		pca_json_bool(&j, s->graph.unreachable[id]);
		pca_json_key(&j, "preview");
		pca_json_string(&j, preview);
		pca_json_key(&j, "referents");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < refs.n; i++)
			print_object_line(s, &j, refs.ids[i], "");
		pca_json_array_end(&j);
		pca_json_key(&j, "referrers");
		pca_json_array_begin(&j);
		for (uint64_t e = g->in_start[id]; e < g->in_start[id + 1] && e - g->in_start[id] < 64; e++)
			print_object_line(s, &j, g->in[e], "");
		pca_json_array_end(&j);
		pca_json_object_end(&j);
		pca_report_json_end(&j, &s->warnings);
	} else {
		char size[32], retained[32];
		pca_format_bytes(s->heap.size[id], size, sizeof(size));
		pca_format_bytes(s->graph.retained[id], retained, sizeof(retained));
		printf("%#llx  %s\n", (unsigned long long)s->heap.addr[id],
		       s->objects.infos[s->heap.type[id]].name);
		printf("  size      %s (%llu bytes), retained %s\n", size,
		       (unsigned long long)s->heap.size[id], retained);
		printf("  owner     %s\n", owner[0] ? owner : s->graph.unreachable[id] ? "(unreachable garbage)" : "(none)");
		printf("  value     %s\n", preview);
		printf("  refers to %llu objects%s\n", (unsigned long long)refs.total,
		       refs.total > refs.n ? " (first 64)" : "");
		for (size_t i = 0; i < refs.n; i++)
			print_object_line(s, NULL, refs.ids[i], "    ");
		printf("  referred to by %llu objects%s\n", (unsigned long long)in_count,
		       in_count > 64 ? " (first 64)" : "");
		for (uint64_t e = g->in_start[id]; e < g->in_start[id + 1] && e - g->in_start[id] < 64; e++)
			print_object_line(s, NULL, g->in[e], "    ");
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return pca_cli_status(s);
}

int pca_cmd_path(struct pca_session *s)
{
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	uint32_t chain[256];
	size_t n = 0;
	for (uint32_t v = id; n < 256;) {
		chain[n++] = v;
		uint32_t p = s->graph.parent[v];
		if (p == PCA_GRAPH_VIRTUAL_ROOT || p == PCA_GRAPH_UNREACHABLE)
			break;
		v = p;
	}
	bool reachable = s->graph.parent[chain[n - 1]] == PCA_GRAPH_VIRTUAL_ROOT;
	char owner[512];
	pca_owner_path(&s->objects, &s->heap, &s->graph, id, owner, sizeof(owner));
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "owner");
		pca_json_string(&j, owner[0] ? owner : NULL);
		pca_json_key(&j, "path");
		pca_json_array_begin(&j);
		for (size_t i = n; reachable && i > 0; i--)
			print_object_line(s, &j, chain[i - 1], "");
		pca_json_array_end(&j);
		pca_report_json_end(&j, &s->warnings);
	} else {
		if (!reachable) {
			printf("%#llx (%s) is not reachable from any root%s\n",
			       (unsigned long long)s->heap.addr[id], s->objects.infos[s->heap.type[id]].name,
			       s->graph.unreachable[id] ? ": unreachable garbage the collector would free" : "");
		} else {
			printf("%s\n", owner);
			for (size_t i = n; i > 0; i--)
				print_object_line(s, NULL, chain[i - 1], "  ");
		}
		pca_report_warnings_text(stdout, &s->warnings);
	}
	return pca_cli_status(s);
}

/* The neighbourhood drawn by `graph`: the object, what it refers to, what
 * refers to it and what refers to those, each list cut so that the picture
 * stays readable. */
enum { GRAPH_MAX_NODES = 80, GRAPH_FANOUT = 25, GRAPH_FANIN2 = 8 };

struct neighbourhood {
	uint32_t ids[GRAPH_MAX_NODES];
	size_t n;
};

static bool hood_add(struct neighbourhood *h, uint32_t id)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->ids[i] == id)
			return true;
	if (h->n == GRAPH_MAX_NODES)
		return false;
	h->ids[h->n++] = id;
	return true;
}

static bool hood_has(const struct neighbourhood *h, uint32_t id)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->ids[i] == id)
			return true;
	return false;
}

static void put_dot_string(const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
}

int pca_cmd_graph(struct pca_session *s)
{
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	const struct pca_graph *g = &s->graph.graph;
	struct neighbourhood h = {.n = 0};
	hood_add(&h, id);
	for (uint64_t e = g->out_start[id]; e < g->out_start[id + 1] && e - g->out_start[id] < GRAPH_FANOUT; e++)
		hood_add(&h, g->out[e]);
	size_t first_referrer = h.n;
	for (uint64_t e = g->in_start[id]; e < g->in_start[id + 1] && e - g->in_start[id] < GRAPH_FANOUT; e++)
		hood_add(&h, g->in[e]);
	size_t referrers_end = h.n;
	for (size_t i = first_referrer; i < referrers_end; i++) {
		uint32_t r = h.ids[i];
		for (uint64_t e = g->in_start[r]; e < g->in_start[r + 1] && e - g->in_start[r] < GRAPH_FANIN2; e++)
			hood_add(&h, g->in[e]);
	}
	char owner[512];
	if (s->opts->json) {
		struct pca_json j;
		pca_json_init(&j, stdout);
		pca_report_json_begin(&j, &s->facts);
		pca_json_key(&j, "graph");
		pca_json_object_begin(&j);
		pca_json_key(&j, "nodes");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < h.n; i++)
			print_object_line(s, &j, h.ids[i], "");
		pca_json_array_end(&j);
		pca_json_key(&j, "edges");
		pca_json_array_begin(&j);
		for (size_t i = 0; i < h.n; i++)
			for (uint64_t e = g->out_start[h.ids[i]]; e < g->out_start[h.ids[i] + 1]; e++)
				if (hood_has(&h, g->out[e])) {
					pca_json_array_begin(&j);
					pca_json_address(&j, s->heap.addr[h.ids[i]]);
					pca_json_address(&j, s->heap.addr[g->out[e]]);
					pca_json_array_end(&j);
				}
		pca_json_array_end(&j);
		pca_json_object_end(&j);
		pca_report_json_end(&j, &s->warnings);
		return pca_cli_status(s);
	}
	printf("digraph pycore {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"monospace\"];\n");
	for (size_t i = 0; i < h.n; i++) {
		uint32_t v = h.ids[i];
		char size[32];
		pca_format_bytes(s->heap.size[v], size, sizeof(size));
		pca_owner_path(&s->objects, &s->heap, &s->graph, v, owner, sizeof(owner));
		printf("\tn%u [label=\"", v);
		put_dot_string(s->objects.infos[s->heap.type[v]].name);
		printf("\\n%#llx\\n%s", (unsigned long long)s->heap.addr[v], size);
		if (owner[0]) {
			printf("\\n");
			put_dot_string(owner);
		}
		printf("\"%s];\n", v == id ? ", style=filled, fillcolor=lightyellow" : "");
	}
	for (size_t i = 0; i < h.n; i++)
		for (uint64_t e = g->out_start[h.ids[i]]; e < g->out_start[h.ids[i] + 1]; e++)
			if (hood_has(&h, g->out[e]))
				printf("\tn%u -> n%u;\n", h.ids[i], g->out[e]);
	printf("}\n");
	return pca_cli_status(s);
}

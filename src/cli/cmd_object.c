/* cmd_object.c: the commands about one object: show, path, graph ADDR.
 * ADDR may be anywhere inside the object (heap/lookup.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/neighbourhood.h"
#include "cli/session.h"
#include "heap/lookup.h"
#include "report/sections.h"

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

static int need_object(struct pca_session *s, uint32_t *id)
{
	if (pca_heap_object_at(&s->heap, &s->objects, object_address, id))
		return 0;
	fprintf(stderr, "pycore-analyze: no object of the census contains 0x%llx\n",
		(unsigned long long)object_address);
	return PCA_EXIT_NO_RESULT;
}

static int render(struct pca_session *s, const struct pca_report_model *m,
		  const enum pca_section_id *sections, size_t count)
{
	struct pca_document doc = {sections, count};
	pca_report_render(stdout, s->opts->json, &doc, m);
	return pca_cli_status(s);
}

int pca_cmd_show(struct pca_session *s)
{
	static const enum pca_section_id sections[] = {PCA_SECTION_OBJECT, PCA_SECTION_WARNINGS};
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	struct pca_object_view view;
	pca_object_view_compute(&s->objects, &s->heap, &s->graph, id, &view);
	struct pca_report_model m;
	pca_session_model(s, &m);
	m.object = &view;
	return render(s, &m, sections, 2);
}

int pca_cmd_path(struct pca_session *s)
{
	static const enum pca_section_id sections[] = {PCA_SECTION_PATH, PCA_SECTION_WARNINGS};
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	struct pca_object_path path;
	pca_object_path_compute(&s->objects, &s->heap, &s->graph, id, &path);
	struct pca_report_model m;
	pca_session_model(s, &m);
	m.path = &path;
	return render(s, &m, sections, 2);
}

/* graph: DOT in text, so no facts and no warnings around it */
int pca_cmd_graph(struct pca_session *s)
{
	static const enum pca_section_id sections[] = {PCA_SECTION_GRAPH};
	uint32_t id;
	int status = need_object(s, &id);
	if (status)
		return status;
	struct pca_neighbourhood *hood = malloc(sizeof(*hood));
	if (!hood)
		return pca_cli_fail(s, &pca_error_nomem);
	pca_neighbourhood_compute(&s->objects, &s->heap, &s->graph, id, hood);
	struct pca_report_model m;
	pca_session_model(s, &m);
	m.hood = hood;
	status = render(s, &m, sections, 1);
	free(hood);
	return status;
}

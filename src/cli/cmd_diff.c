/* cmd_diff.c: diff CORE CORE2, growth from one core to another. The session
 * opens both cores (PCA_CMD_TWO_CORES); analyses/diff.c compares them. */
#include "analyses/diff.h"
#include "cli/session.h"
#include "report/sections.h"

/* CORE CORE2 [EXECUTABLE], or CORE -p PID [EXECUTABLE]: the process now */
int pca_cmd_diff_args(const struct pca_command *cmd, int argc, char **argv, int pos,
		      struct pca_options *opts)
{
	int status = pca_cli_take_core(argc, argv, &pos, opts);
	if (status)
		return status;
	if (opts->pid > 0) {
		opts->core2 = opts->process_name;
		opts->core2_live = true;
		return pca_cli_take_rest(argc, argv, pos, opts);
	}
	if (pos >= argc) {
		fprintf(stderr, "pycore-analyze: %s needs a second core: %s CORE CORE2\n", cmd->name, cmd->name);
		return PCA_EXIT_USAGE;
	}
	opts->core2 = argv[pos++];
	return pca_cli_take_rest(argc, argv, pos, opts);
}

int pca_cmd_diff(struct pca_session *s)
{
	static const enum pca_section_id sections[] = {PCA_SECTION_FACTS, PCA_SECTION_DIFF,
						       PCA_SECTION_WARNINGS};
	const struct pca_session *b = s->second;
	struct pca_diff_side before = {&s->summary, &s->caches, s->cache_owners};
	struct pca_diff_side after = {&b->summary, &b->caches, b->cache_owners};
	struct pca_diff diff;
	struct pca_error *err = pca_diff_compute(&before, &after, &diff);
	if (err)
		return pca_cli_fail(s, err);
	struct pca_report_model m;
	pca_session_model(s, &m);
	m.diff = &diff;
	m.core2 = s->opts->core2;
	struct pca_document doc = {sections, sizeof(sections) / sizeof(sections[0])};
	pca_report_render(stdout, s->opts->json, &doc, &m);
	pca_diff_deinit(&diff);
	return pca_cli_status(s);
}

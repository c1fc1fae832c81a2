#include "report/report.h"

#include <string.h>

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void pca_report_facts_text(FILE *out, const struct pca_facts *f)
{
	fprintf(out, "core:        %s (pid %d", f->core_path, f->pid);
	if (f->signal)
		fprintf(out, ", killed by signal %d %s", f->signal, strsignal(f->signal));
	fprintf(out, ")\n");
	fprintf(out, "executable:  %s\n", f->executable ? f->executable : "?");
	if (f->layout)
		fprintf(out, "python:      %s (layout from %s of %s)\n", f->layout->version,
			f->layout->source, f->python_file ? f->python_file : "?");
}

void pca_report_stacks_text(FILE *out, const struct pca_pythread *threads, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct pca_pythread *th = &threads[i];
		fprintf(out, "\nThread %llu", (unsigned long long)th->thread_id);
		if (th->native_thread_id >= 0)
			fprintf(out, " (LWP %lld)", (long long)th->native_thread_id);
		fprintf(out, "%s:%s\n", th->crashed ? " [crashed]" : "",
			th->nframes ? "" : " no Python frames");
		for (size_t k = 0; k < th->nframes; k++) {
			const struct pca_pyframe *fr = &th->frames[k];
			const char *name = fr->qualname ? fr->qualname
					   : fr->function ? fr->function : "?";
			fprintf(out, "  %s (%s:", name,
				fr->filename ? basename_of(fr->filename) : "?");
			if (fr->line >= 0)
				fprintf(out, "%d)\n", fr->line);
			else
				fprintf(out, "?)\n");
		}
	}
}

void pca_report_warnings_text(FILE *out, const struct pca_warnings *w)
{
	if (!w->count)
		return;
	fprintf(out, "\nwarnings:\n");
	for (size_t i = 0; i < w->count; i++)
		fprintf(out, "  %s\n", w->items[i]);
}

void pca_report_json_begin(struct pca_json *j, const struct pca_facts *f)
{
	pca_json_object_begin(j);
	pca_json_key(j, "schema");
	pca_json_int(j, 1);
	pca_json_key(j, "core");
	pca_json_object_begin(j);
	pca_json_key(j, "path");
	pca_json_string(j, f->core_path);
	pca_json_key(j, "executable");
	pca_json_string(j, f->executable);
	pca_json_key(j, "pid");
	pca_json_int(j, f->pid);
	pca_json_key(j, "signal");
	pca_json_int(j, f->signal);
	pca_json_object_end(j);
	if (f->layout) {
		pca_json_key(j, "python");
		pca_json_object_begin(j);
		pca_json_key(j, "version");
		pca_json_string(j, f->layout->version);
		pca_json_key(j, "layout_source");
		pca_json_string(j, f->layout->source);
		pca_json_key(j, "library");
		pca_json_string(j, f->python_file);
		pca_json_object_end(j);
	}
}

void pca_report_json_threads(struct pca_json *j, const struct pca_pythread *threads, size_t count)
{
	pca_json_key(j, "threads");
	pca_json_array_begin(j);
	for (size_t i = 0; i < count; i++) {
		const struct pca_pythread *th = &threads[i];
		pca_json_object_begin(j);
		pca_json_key(j, "thread_id");
		pca_json_uint(j, th->thread_id);
		pca_json_key(j, "native_thread_id");
		if (th->native_thread_id >= 0)
			pca_json_int(j, th->native_thread_id);
		else
			pca_json_null(j);
		pca_json_key(j, "crashed");
		pca_json_bool(j, th->crashed);
		pca_json_key(j, "frames");
		pca_json_array_begin(j);
		for (size_t k = 0; k < th->nframes; k++) {
			const struct pca_pyframe *fr = &th->frames[k];
			pca_json_object_begin(j);
			pca_json_key(j, "function");
			pca_json_string(j, fr->function);
			if (fr->qualname) {
				pca_json_key(j, "qualname");
				pca_json_string(j, fr->qualname);
			}
			pca_json_key(j, "filename");
			pca_json_string(j, fr->filename);
			pca_json_key(j, "line");
			if (fr->line >= 0)
				pca_json_int(j, fr->line);
			else
				pca_json_null(j);
			pca_json_object_end(j);
		}
		pca_json_array_end(j);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

void pca_report_json_end(struct pca_json *j, const struct pca_warnings *w)
{
	pca_json_key(j, "warnings");
	pca_json_array_begin(j);
	for (size_t i = 0; i < w->count; i++)
		pca_json_string(j, w->items[i]);
	pca_json_array_end(j);
	pca_json_object_end(j);
}

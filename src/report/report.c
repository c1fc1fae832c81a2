#include "report/report.h"
#include "base/escape.h"

#include <signal.h>
#include <string.h>

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void pca_report_facts_text(FILE *out, const struct pca_facts *f)
{
	fprintf(out, "core:        %s (%s%spid %d", pca_text(f->core_path), f->compression ? f->compression : "",
		f->compression ? "-compressed, " : "", f->pid);
	if (f->live && f->live_stopped)
		fprintf(out, ", live, paused %.2f s", f->paused_seconds);
	else if (f->live && f->live_already_stopped)
		fprintf(out, ", live, stopped by its debugger: a consistent read");
	else if (f->live)
		fprintf(out, ", live, read while it ran");
	/* gcore and debuggers leave the process stopped, not killed */
	if (f->signal == SIGSTOP || f->signal == SIGTRAP)
		fprintf(out, ", stopped by signal %d: a snapshot of a running process", f->signal);
	else if (f->signal)
		fprintf(out, ", killed by signal %d %s", f->signal, strsignal(f->signal));
	fprintf(out, ")\n");
	fprintf(out, "executable:  %s\n", f->executable ? pca_text(f->executable) : "?");
	if (f->layout)
		fprintf(out, "python:      %s (layout from %s of %s)\n", f->layout->version,
			f->layout->source, f->python_file ? pca_text(f->python_file) : "?");
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
			fprintf(out, "  %s (%s:", pca_text(name),
				fr->filename ? pca_text(basename_of(fr->filename)) : "?");
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
		fprintf(out, "  %s\n", pca_text(w->items[i]));
}

void pca_report_notes_text(FILE *out, const struct pca_warnings *notes)
{
	if (!notes || !notes->count)
		return;
	fprintf(out, "\nnotes:\n");
	for (size_t i = 0; i < notes->count; i++)
		fprintf(out, "  %s\n", pca_text(notes->items[i]));
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
	if (f->compression) {
		pca_json_key(j, "compression");
		pca_json_string(j, f->compression);
	}
	if (f->live) {
		pca_json_key(j, "live");
		pca_json_bool(j, true);
		pca_json_key(j, "paused_seconds");
		pca_json_double(j, f->live_stopped ? f->paused_seconds : 0);
		if (f->live_already_stopped) {
			pca_json_key(j, "already_stopped");
			pca_json_bool(j, true);
		}
	}
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

void pca_report_json_end(struct pca_json *j, const struct pca_warnings *w,
			 const struct pca_warnings *notes)
{
	pca_json_key(j, "warnings");
	pca_json_array_begin(j);
	for (size_t i = 0; i < w->count; i++)
		pca_json_string(j, w->items[i]);
	pca_json_array_end(j);
	if (notes) {
		pca_json_key(j, "notes");
		pca_json_array_begin(j);
		for (size_t i = 0; i < notes->count; i++)
			pca_json_string(j, notes->items[i]);
		pca_json_array_end(j);
	}
	pca_json_object_end(j);
}

void pca_format_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
		return;
	}
	double v = (double)bytes / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}

void pca_report_summary_text(FILE *out, const struct pca_summary *s, long limit)
{
	char total[32];
	pca_format_bytes(s->size, total, sizeof(total));
	fprintf(out, "\nobjects:     %llu (%s)\n\n", (unsigned long long)s->objects, total);
	fprintf(out, "%12s %12s %6s  %s\n", "count", "size", "share", "type");
	size_t n = limit >= 0 && (size_t)limit < s->nrows ? (size_t)limit : s->nrows;
	for (size_t i = 0; i < n; i++) {
		const struct pca_summary_row *r = &s->rows[i];
		char size[32];
		pca_format_bytes(r->size, size, sizeof(size));
		fprintf(out, "%12llu %12s %5.1f%%  %s%s\n", (unsigned long long)r->count, size,
			s->size ? 100.0 * (double)r->size / (double)s->size : 0.0, pca_text(r->name),
			r->size_exact ? "" : "  (size approximate)");
	}
	if (n < s->nrows)
		fprintf(out, "%12s %12s %6s  ... %zu more types (-n to show more)\n", "", "", "",
			s->nrows - n);
}

void pca_report_json_summary(struct pca_json *j, const struct pca_summary *s, const uint64_t *unreachable)
{
	pca_json_key(j, "totals");
	pca_json_object_begin(j);
	pca_json_key(j, "objects");
	pca_json_uint(j, s->objects);
	pca_json_key(j, "size");
	pca_json_uint(j, s->size);
	pca_json_key(j, "gc_tracked");
	pca_json_uint(j, s->gc_tracked);
	if (unreachable) {
		pca_json_key(j, "unreachable");
		pca_json_uint(j, *unreachable);
	}
	pca_json_object_end(j);
	pca_json_key(j, "types");
	pca_json_array_begin(j);
	for (size_t i = 0; i < s->nrows; i++) {
		const struct pca_summary_row *r = &s->rows[i];
		pca_json_object_begin(j);
		pca_json_key(j, "type");
		pca_json_string(j, r->name);
		pca_json_key(j, "count");
		pca_json_uint(j, r->count);
		pca_json_key(j, "size");
		pca_json_uint(j, r->size);
		if (!r->size_exact) {
			pca_json_key(j, "size_exact");
			pca_json_bool(j, false);
		}
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

static void unreferenced_rows_json(struct pca_json *j, const struct pca_unreferenced_row *rows, size_t n)
{
	pca_json_key(j, "types");
	pca_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		pca_json_object_begin(j);
		pca_json_key(j, "type");
		pca_json_string(j, rows[i].name);
		pca_json_key(j, "count");
		pca_json_uint(j, rows[i].count);
		pca_json_key(j, "size");
		pca_json_uint(j, rows[i].size);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

/* What a holder is, for a person. */
static void put_holder(FILE *out, const struct pca_unreferenced_holder *h)
{
	switch (h->kind) {
	case PCA_HOLDER_FIELD:
		fprintf(out, "fields of %s objects the collector does not visit", pca_text(h->name));
		break;
	case PCA_HOLDER_STATIC:
		fprintf(out, "static data of %s (interned strings, caches, singletons)", pca_text(h->name));
		break;
	case PCA_HOLDER_MODULE_STATE:
		fprintf(out, "C state of %s", pca_text(h->name));
		break;
	default:
		fprintf(out, "%s", pca_text(h->name));
	}
}

void pca_report_unreferenced_text(FILE *out, const struct pca_unreferenced *l, long limit)
{
	char total[32];
	pca_format_bytes(l->size, total, sizeof(total));
	fprintf(out, "\nunreferenced objects: %llu objects (%s) in pymalloc blocks that nothing in the census refers to\n",
		(unsigned long long)l->objects, total);
	if (!l->objects)
		return;
	uint64_t held = l->objects - l->unexplained_objects;
	pca_format_bytes(l->size - l->unexplained_size, total, sizeof(total));
	fprintf(out, "  held by the interpreter: %llu objects (%s)\n", (unsigned long long)held, total);
	size_t n = limit >= 0 && (size_t)limit < l->nholders ? (size_t)limit : l->nholders;
	for (size_t i = 0; i < n; i++) {
		char size[32];
		pca_format_bytes(l->holders[i].size, size, sizeof(size));
		fprintf(out, "%12llu %12s  ", (unsigned long long)l->holders[i].count, size);
		put_holder(out, &l->holders[i]);
		fputc('\n', out);
	}
	pca_format_bytes(l->unexplained_size, total, sizeof(total));
	fprintf(out, "  held by C code or leaked: %llu objects (%s); %llu of them referred to by nothing the core shows\n",
		(unsigned long long)l->unexplained_objects, total, (unsigned long long)l->unexplained_roots);
	n = limit >= 0 && (size_t)limit < l->nunexplained ? (size_t)limit : l->nunexplained;
	for (size_t i = 0; i < n; i++) {
		char size[32];
		pca_format_bytes(l->unexplained[i].size, size, sizeof(size));
		fprintf(out, "%12llu %12s  %s\n", (unsigned long long)l->unexplained[i].count, size,
			pca_text(l->unexplained[i].name));
	}
}

void pca_report_json_unreferenced(struct pca_json *j, const struct pca_unreferenced *l)
{
	pca_json_key(j, "unreachable_allocations");
	pca_json_object_begin(j);
	pca_json_key(j, "objects");
	pca_json_uint(j, l->objects);
	pca_json_key(j, "size");
	pca_json_uint(j, l->size);
	unreferenced_rows_json(j, l->rows, l->nrows);
	pca_json_key(j, "held_by_interpreter");
	pca_json_array_begin(j);
	for (size_t i = 0; i < l->nholders; i++) {
		pca_json_object_begin(j);
		pca_json_key(j, "kind");
		pca_json_string(j, pca_holder_kind_name(l->holders[i].kind));
		pca_json_key(j, "name");
		pca_json_string(j, l->holders[i].name);
		pca_json_key(j, "count");
		pca_json_uint(j, l->holders[i].count);
		pca_json_key(j, "size");
		pca_json_uint(j, l->holders[i].size);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
	pca_json_key(j, "unexplained");
	pca_json_object_begin(j);
	pca_json_key(j, "objects");
	pca_json_uint(j, l->unexplained_objects);
	pca_json_key(j, "size");
	pca_json_uint(j, l->unexplained_size);
	pca_json_key(j, "roots");
	pca_json_uint(j, l->unexplained_roots);
	unreferenced_rows_json(j, l->unexplained, l->nunexplained);
	pca_json_object_end(j);
	pca_json_object_end(j);
}

static void put_cycle_types(FILE *out, const struct pca_cycle *cy)
{
	enum { SHOWN = 6 };
	for (size_t k = 0; k < cy->ntypes && k < SHOWN; k++)
		fprintf(out, "%s%llu %s", k ? ", " : "", (unsigned long long)cy->types[k].count,
			pca_text(cy->types[k].name));
	if (cy->ntypes > SHOWN)
		fprintf(out, " and %zu more types (%llu objects in all)", cy->ntypes - SHOWN,
			(unsigned long long)cy->objects);
}

void pca_report_cycles_text(FILE *out, const struct pca_cycles *c, const struct pca_heap *h, long limit,
			    bool overview)
{
	size_t groups = 0;
	uint64_t structure = 0, structure_objects = 0, structure_size = 0;
	for (size_t i = 0; i < c->count; i++) {
		groups += c->cycles[i].same_shape != 0;
		if (c->cycles[i].cls == PCA_CYCLE_STRUCTURE) {
			structure++;
			structure_objects += c->cycles[i].objects;
			structure_size += c->cycles[i].size;
		}
	}
	fprintf(out, "\nreference cycles: %zu (%zu shapes)\n", c->count, groups);
	/* garbage first, then the program's own cycles, then the interpreter's
	 * own structure (classes, modules): in the overview, one line */
	long shown = 0;
	for (size_t i = 0; i < c->count; i++) {
		const struct pca_cycle *cy = &c->cycles[i];
		if (!cy->same_shape || (overview && cy->cls == PCA_CYCLE_STRUCTURE))
			continue;
		if (limit >= 0 && shown++ >= limit) {
			fprintf(out, "  ... (-n to show more)\n");
			break;
		}
		char size[32];
		pca_format_bytes(cy->size * cy->same_shape, size, sizeof(size));
		fprintf(out, "  %llu cycle%s of ", (unsigned long long)cy->same_shape,
			cy->same_shape == 1 ? "" : "s");
		put_cycle_types(out, cy);
		fprintf(out, "%s, %s, e.g. %#llx\n", cy->unreachable ? ", unreachable" : "", size,
			(unsigned long long)h->addr[cy->example]);
	}
	if (overview && structure) {
		char size[32];
		pca_format_bytes(structure_size, size, sizeof(size));
		fprintf(out, "  %llu cycle%s of the interpreter's own structure (classes with their dicts and descriptors, modules with their functions' globals): %llu objects, %s (`cycles` lists them)\n",
			(unsigned long long)structure, structure == 1 ? "" : "s",
			(unsigned long long)structure_objects, size);
	}
}

void pca_report_json_cycles(struct pca_json *j, const struct pca_cycles *c, const struct pca_heap *h)
{
	pca_json_key(j, "cycles");
	pca_json_array_begin(j);
	for (size_t i = 0; i < c->count; i++) {
		const struct pca_cycle *cy = &c->cycles[i];
		pca_json_object_begin(j);
		pca_json_key(j, "objects");
		pca_json_uint(j, cy->objects);
		pca_json_key(j, "size");
		pca_json_uint(j, cy->size);
		pca_json_key(j, "types");
		pca_json_object_begin(j);
		for (size_t k = 0; k < cy->ntypes; k++) {
			pca_json_key(j, cy->types[k].name);
			pca_json_uint(j, cy->types[k].count);
		}
		pca_json_object_end(j);
		pca_json_key(j, "unreachable");
		pca_json_bool(j, cy->unreachable);
		pca_json_key(j, "kind");
		pca_json_string(j, pca_cycle_class_name(cy->cls));
		pca_json_key(j, "example");
		pca_json_address(j, h->addr[cy->example]);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

/* What bounds a row, or whose it is: a library's limit, the interpreter's
 * or the standard library's, or nothing (the program's unbounded
 * containers). */
static void cache_bound_text(const struct pca_cache *k, char *buf, size_t size)
{
	if (k->bounded_by)
		snprintf(buf, size, ", bounded by %s (%lld)", k->bounded_by, (long long)k->bound);
	else if (k->held_by == PCA_HELD_BY_INTERPRETER)
		snprintf(buf, size, ", the interpreter's own");
	else if (k->held_by == PCA_HELD_BY_STDLIB)
		snprintf(buf, size, ", the standard library's");
	else if (k->held_by == PCA_HELD_BY_LIBRARY)
		snprintf(buf, size, ", a third-party library's");
	else
		snprintf(buf, size, "%s", k->unbounded ? ", unbounded" : "");
}

void pca_report_caches_text(FILE *out, const struct pca_caches *c, const struct pca_heap *h,
			    char *const *owners, long limit)
{
	fprintf(out, "\ncaches and big containers (by retained size):\n");
	size_t n = limit >= 0 && (size_t)limit < c->count ? (size_t)limit : c->count;
	for (size_t i = 0; i < n; i++) {
		const struct pca_cache *k = &c->items[i];
		char retained[32];
		pca_format_bytes(k->retained, retained, sizeof(retained));
		const char *owner = owners && owners[i] && owners[i][0] ? pca_text(owners[i]) : "?";
		char bound[96];
		cache_bound_text(k, bound, sizeof(bound));
		if (k->lru) {
			char maxsize[32];
			if (k->maxsize < 0)
				snprintf(maxsize, sizeof(maxsize), "None");
			else
				snprintf(maxsize, sizeof(maxsize), "%lld", (long long)k->maxsize);
			fprintf(out, "  %10s  %s lru_cache(maxsize=%s): %llu entries, %llu hits / %llu misses%s  [%s]\n",
				retained, k->function ? pca_text(k->function) : "?", maxsize,
				(unsigned long long)k->entries, (unsigned long long)k->hits,
				(unsigned long long)k->misses, bound, owner);
		} else {
			fprintf(out, "  %10s  %s (%s, %llu entries)%s  %#llx\n", retained, owner,
				k->kind, (unsigned long long)k->entries, bound,
				(unsigned long long)h->addr[k->id]);
		}
	}
}

void pca_report_json_caches(struct pca_json *j, const struct pca_caches *c, const struct pca_heap *h,
			    char *const *owners)
{
	pca_json_key(j, "caches");
	pca_json_array_begin(j);
	for (size_t i = 0; i < c->count; i++) {
		const struct pca_cache *k = &c->items[i];
		pca_json_object_begin(j);
		pca_json_key(j, "kind");
		pca_json_string(j, k->kind);
		pca_json_key(j, "address");
		pca_json_address(j, h->addr[k->id]);
		pca_json_key(j, "owner");
		pca_json_string(j, owners && owners[i] && owners[i][0] ? owners[i] : NULL);
		if (k->lru) {
			pca_json_key(j, "function");
			pca_json_string(j, k->function);
			pca_json_key(j, "maxsize");
			if (k->maxsize < 0)
				pca_json_null(j);
			else
				pca_json_int(j, k->maxsize);
			pca_json_key(j, "typed");
			pca_json_bool(j, k->typed);
			pca_json_key(j, "hits");
			pca_json_uint(j, k->hits);
			pca_json_key(j, "misses");
			pca_json_uint(j, k->misses);
		}
		pca_json_key(j, "entries");
		pca_json_uint(j, k->entries);
		pca_json_key(j, "unbounded");
		pca_json_bool(j, k->unbounded);
		if (k->bounded_by) {
			pca_json_key(j, "bounded_by");
			pca_json_string(j, k->bounded_by);
			pca_json_key(j, "bound");
			pca_json_int(j, k->bound);
		}
		pca_json_key(j, "held_by");
		pca_json_string(j, pca_cache_holder_name(k->held_by));
		pca_json_key(j, "retained");
		pca_json_uint(j, k->retained);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
}

/* The diff section: growth from CORE to CORE2. */
#include "report/sections.h"
#include "base/escape.h"

static void signed_bytes(int64_t v, char *buf, size_t size)
{
	char abs[32];
	pca_format_bytes((uint64_t)(v < 0 ? -v : v), abs, sizeof(abs));
	snprintf(buf, size, "%s%s", v < 0 ? "-" : "+", abs);
}

void pca_report_diff_text(FILE *out, const struct pca_report_model *m)
{
	const struct pca_diff *d = m->diff;
	char total[40];
	signed_bytes(d->size, total, sizeof(total));
	fprintf(out, "\ngrowth to %s: %+lld objects, %s\n\n", pca_text(m->core2), (long long)d->objects, total);
	fprintf(out, "%14s %14s  %s\n", "count delta", "size delta", "type");
	for (size_t i = 0; i < d->ntypes && (m->limit < 0 || (long)i < m->limit); i++) {
		const struct pca_type_delta *t = &d->types[i];
		char size[40];
		signed_bytes(t->size - t->size_before, size, sizeof(size));
		fprintf(out, "%+14lld %14s  %s\n", (long long)(t->count - t->count_before), size, pca_text(t->name));
	}
	fprintf(out, "\ncaches that grew:\n");
	for (size_t i = 0; i < d->ncaches; i++) {
		const struct pca_cache_growth *c = &d->caches[i];
		char growth[40];
		signed_bytes((int64_t)c->cache->retained - (int64_t)c->retained_before, growth, sizeof(growth));
		fprintf(out, "  %s (%s): %llu -> %llu entries, retains %s\n", pca_text(c->key), c->cache->kind,
			(unsigned long long)c->entries_before, (unsigned long long)c->cache->entries, growth);
	}
}

void pca_report_diff_json(struct pca_json *j, const struct pca_report_model *m)
{
	const struct pca_diff *d = m->diff;
	pca_json_key(j, "diff");
	pca_json_object_begin(j);
	pca_json_key(j, "core2");
	pca_json_string(j, m->core2);
	pca_json_key(j, "objects");
	pca_json_int(j, d->objects);
	pca_json_key(j, "size");
	pca_json_int(j, d->size);
	pca_json_key(j, "types");
	pca_json_array_begin(j);
	for (size_t i = 0; i < d->ntypes; i++) {
		const struct pca_type_delta *t = &d->types[i];
		pca_json_object_begin(j);
		pca_json_key(j, "type");
		pca_json_string(j, t->name);
		pca_json_key(j, "count");
		pca_json_int(j, t->count);
		pca_json_key(j, "size");
		pca_json_int(j, t->size);
		pca_json_key(j, "count_delta");
		pca_json_int(j, t->count - t->count_before);
		pca_json_key(j, "size_delta");
		pca_json_int(j, t->size - t->size_before);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
	pca_json_key(j, "caches");
	pca_json_array_begin(j);
	for (size_t i = 0; i < d->ncaches; i++) {
		const struct pca_cache_growth *c = &d->caches[i];
		pca_json_object_begin(j);
		pca_json_key(j, "kind");
		pca_json_string(j, c->cache->kind);
		pca_json_key(j, c->cache->lru ? "function" : "owner");
		pca_json_string(j, c->key);
		pca_json_key(j, "entries_before");
		pca_json_uint(j, c->entries_before);
		pca_json_key(j, "entries");
		pca_json_uint(j, c->cache->entries);
		pca_json_key(j, "retained_before");
		pca_json_uint(j, c->retained_before);
		pca_json_key(j, "retained");
		pca_json_uint(j, c->cache->retained);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
	pca_json_object_end(j);
}

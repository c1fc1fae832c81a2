/* The pymalloc section: text like _debugmallocstats, and JSON. */
#include "report/arenas.h"

#include <inttypes.h>

#include "report/report.h"

/* Share of the bytes in used pools' blocks that are free, in tenths of a
 * percent: the fragmentation inside pools. */
static unsigned permille(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)((part * 1000 + whole / 2) / whole) : 0;
}

void pca_report_arenas_brief(FILE *out, const struct pca_arenas *a)
{
	char held[32], freeb[32], used[32];
	pca_format_bytes(a->bytes_in_arenas, held, sizeof(held));
	pca_format_bytes(a->bytes_free, freeb, sizeof(freeb));
	pca_format_bytes(a->bytes_used, used, sizeof(used));
	unsigned frag = permille(a->bytes_free, a->bytes_used + a->bytes_free);
	fprintf(out,
		"\npymalloc: %" PRIu64 " arenas (%s), %" PRIu64 " pools used, %" PRIu64
		" free; %s in used blocks, %s in free blocks (fragmentation %u.%u%%)%s\n",
		a->arenas, held, a->pools_used, a->pools_free, used, freeb, frag / 10, frag % 10,
		a->complete ? "" : " [incomplete: see warnings]");
}

void pca_report_arenas_text(FILE *out, const struct pca_arenas *a)
{
	pca_report_arenas_brief(out, a);
	fprintf(out, "  arena %" PRIu64 " bytes, pool %" PRIu64 " bytes, alignment %" PRIu64
		", pool header %" PRIu64 " bytes\n",
		a->arena_size, a->pool_size, a->alignment, a->pool_overhead);
	fprintf(out, "\nclass   size   num pools   blocks in use  avail blocks\n"
		     "-----   ----   ---------   -------------  ------------\n");
	for (uint32_t i = 0; i < a->nclasses; i++) {
		const struct pca_arenas_class *c = &a->classes[i];
		if (!c->pools)
			continue;
		fprintf(out, "%5u %6u %11" PRIu64 " %15" PRIu64 " %13" PRIu64 "\n", i, c->size,
			c->pools, c->blocks_used, c->blocks_free);
	}
	const struct {
		const char *label;
		uint64_t value;
	} rows[] = {
		{"# arenas allocated total", a->ntimes_arena_allocated},
		{"# arenas reclaimed", a->arenas_reclaimed},
		{"# arenas highwater mark", a->narenas_highwater},
		{"# arenas allocated current", a->arenas},
		{"# bytes in arenas", a->bytes_in_arenas},
		{"# bytes in allocated blocks", a->bytes_used},
		{"# bytes in available blocks", a->bytes_free},
		{"# bytes in unused pools", a->bytes_free_pools},
		{"# bytes lost to pool headers", a->bytes_pool_headers},
		{"# bytes lost to quantization", a->bytes_quantization},
		{"# bytes lost to arena alignment", a->bytes_arena_alignment},
	};
	fputc('\n', out);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "%-35s= %21" PRIu64 "\n", rows[i].label, rows[i].value);
}

static void key_uint(struct pca_json *j, const char *key, uint64_t v)
{
	pca_json_key(j, key);
	pca_json_uint(j, v);
}

void pca_report_json_arenas(struct pca_json *j, const struct pca_arenas *a)
{
	pca_json_key(j, "allocator");
	pca_json_object_begin(j);
	const struct {
		const char *key;
		uint64_t value;
	} numbers[] = {
		{"arenas", a->arenas},
		{"arena_size", a->arena_size},
		{"pool_size", a->pool_size},
		{"alignment", a->alignment},
		{"pool_overhead", a->pool_overhead},
		{"arenas_allocated_total", a->ntimes_arena_allocated},
		{"arenas_reclaimed", a->arenas_reclaimed},
		{"arenas_highwater", a->narenas_highwater},
		{"pools_used", a->pools_used},
		{"pools_free", a->pools_free},
		{"blocks_used", a->blocks_used},
		{"blocks_free", a->blocks_free},
		{"bytes_in_arenas", a->bytes_in_arenas},
		{"bytes_used", a->bytes_used},
		{"bytes_free", a->bytes_free},
		{"bytes_free_pools", a->bytes_free_pools},
		{"bytes_pool_headers", a->bytes_pool_headers},
		{"bytes_quantization", a->bytes_quantization},
		{"bytes_arena_alignment", a->bytes_arena_alignment},
	};
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		key_uint(j, numbers[i].key, numbers[i].value);
	if (a->have_raw_allocated_blocks)
		key_uint(j, "raw_allocated_blocks", a->raw_allocated_blocks);
	pca_json_key(j, "complete");
	pca_json_bool(j, a->complete);
	pca_json_key(j, "size_classes");
	pca_json_array_begin(j);
	for (uint32_t i = 0; i < a->nclasses; i++) {
		const struct pca_arenas_class *c = &a->classes[i];
		if (!c->pools)
			continue;
		pca_json_object_begin(j);
		key_uint(j, "class", i);
		key_uint(j, "size", c->size);
		key_uint(j, "pools", c->pools);
		key_uint(j, "blocks_used", c->blocks_used);
		key_uint(j, "blocks_free", c->blocks_free);
		pca_json_object_end(j);
	}
	pca_json_array_end(j);
	const struct {
		const char *key, *text;
	} sources[] = {
		{"state", a->layout.kind_source},
		{"arena_size", a->arena_size_source},
		{"pool_size", a->pool_size_source},
		{"alignment", a->alignment_source},
		{"pool_overhead", a->pool_overhead_source},
		{"size_classes", a->classes_source},
	};
	pca_json_key(j, "sources");
	pca_json_object_begin(j);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		pca_json_key(j, sources[i].key);
		pca_json_string(j, sources[i].text);
	}
	key_uint(j, "pool_size_agreeing_pools", a->pool_size_votes);
	key_uint(j, "arena_size_agreeing_arenas", a->arena_size_votes);
	pca_json_object_end(j);
	pca_json_object_end(j);
}

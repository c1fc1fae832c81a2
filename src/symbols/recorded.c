/* Recorded DWARF answers: replay from the checked-in tables, and recording
 * for the generator. See recorded.h. */
#include "symbols/recorded.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks a Dwarf_Die that is a handle into the records: libdw never leaves
 * cu NULL in a die it returns. */
static const long replay_magic = 0x70636172;

/* Test only: PCA_TEST_LAYOUT_TABLES=FILE replaces the built-in rows with
 * those of FILE, each "R BUILD_ID VERSION BUILD..." followed by its records
 * (tests/e2e/test_stripped.py writes rows of tables.c there, some changed,
 * to exercise the same-minor rule and its validation). Read once; the rows
 * live until exit. An unreadable file gives no rows. */
static const struct pca_recorded_build *test_rows;
static size_t ntest_rows;

static bool load_test_rows(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		fclose(f);
		return false;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(f);
	fclose(mem);
	size_t count = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		count += p[0] == 'R' && p[1] == ' ';
	struct pca_recorded_build *r = calloc(count ? count : 1, sizeof(*r));
	if (!r) {
		free(text);
		return false;
	}
	/* Cut the text in place: a row's records end where the next R line
	 * starts; its R line becomes its three strings. */
	size_t i = 0;
	for (char *p = text; p && *p;) {
		char *eol = strchr(p, '\n');
		if (p[0] == 'R' && p[1] == ' ' && eol) {
			if (p > text)
				p[-1] = '\0'; /* ends the previous row's records after its last line */
			*eol = '\0';
			char *id = p + 2, *version = strchr(id, ' ');
			char *build = version ? strchr(version + 1, ' ') : NULL;
			if (build && i < count) {
				*version++ = '\0';
				*build++ = '\0';
				r[i++] = (struct pca_recorded_build){id, version, build, eol + 1};
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	if (i == 0)
		free(text); /* no row points into it */
	test_rows = r;
	ntest_rows = i;
	return true;
}

static const struct pca_recorded_build *rows(size_t *ret_count)
{
	static bool checked;
	if (!checked) {
		checked = true;
		const char *path = getenv("PCA_TEST_LAYOUT_TABLES");
		if (path && *path && !load_test_rows(path))
			ntest_rows = 0;
		if (path && *path && !test_rows)
			test_rows = pca_recorded_builds; /* count 0: no rows */
	}
	if (test_rows) {
		*ret_count = ntest_rows;
		return test_rows;
	}
	*ret_count = pca_recorded_builds_count;
	return pca_recorded_builds;
}

const struct pca_recorded_build *pca_recorded_find(const char *build_id)
{
	size_t n;
	const struct pca_recorded_build *r = rows(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].build_id, build_id) == 0)
			return &r[i];
	return NULL;
}

const struct pca_recorded_build *pca_recorded_find_minor(int major, int minor, int micro)
{
	size_t n;
	const struct pca_recorded_build *r = rows(&n);
	const struct pca_recorded_build *best = NULL;
	int best_micro = 0;
	for (size_t i = 0; i < n; i++) {
		int ma, mi, mc;
		if (sscanf(r[i].version, "%d.%d.%d", &ma, &mi, &mc) != 3 || ma != major || mi != minor)
			continue;
		/* Closest micro; on a tie the later one (fixes only accumulate). */
		int d = micro < 0 ? 0 : abs(mc - micro), bd = micro < 0 ? 0 : abs(best_micro - micro);
		if (!best || d < bd || (d == bd && mc > best_micro)) {
			best = &r[i];
			best_micro = mc;
		}
	}
	return best;
}

/* The line starting with "KIND NAME " (or "KIND NAME\n"), from `from` on;
 * stop_at_type ends the search at the next type line. Returns a pointer past
 * the name, or NULL. */
static const char *find_line(const char *from, char kind, const char *name, bool stop_at_type,
			     const char **ret_line)
{
	size_t len = strlen(name);
	for (const char *line = from; line && *line;) {
		if (stop_at_type && line != from && line[0] == 'T')
			return NULL;
		if (line[0] == kind && line[1] == ' ' && strncmp(line + 2, name, len) == 0 &&
		    (line[2 + len] == ' ' || line[2 + len] == '\n')) {
			if (ret_line)
				*ret_line = line;
			return line + 2 + len;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

/* Numbers after a found name; false for the "absent" record " -". */
static bool numbers(const char *p, uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		while (*p == ' ')
			p++;
		if (*p == '-' || *p == '\n' || !*p)
			return false;
		char *end;
		v[i] = strtoull(p, &end, 0);
		p = end;
	}
	return true;
}

bool pca_recorded_type(const struct pca_recorded_build *b, const char *name, Dwarf_Die *ret)
{
	const char *line;
	const char *p = find_line(b->records, 'T', name, false, &line);
	uint64_t size;
	if (!p || !numbers(p, &size, 1))
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->addr = (void *)line;
	ret->cu = NULL;
	ret->padding__ = replay_magic;
	return true;
}

bool pca_recorded_is_die(const Dwarf_Die *die)
{
	return die->cu == NULL && die->padding__ == replay_magic;
}

static const char *die_line(const Dwarf_Die *die) { return (const char *)die->addr; }

bool pca_recorded_type_size(const Dwarf_Die *die, uint64_t *ret)
{
	const char *p = strchr(die_line(die) + 2, ' ');
	return p && numbers(p, ret, 1);
}

bool pca_recorded_member(const Dwarf_Die *die, const char *path, struct pca_dwarf_member *ret)
{
	/* "M TYPE PATH": the type's name is the type line's second word. */
	const char *line = die_line(die);
	const char *name_end = strchr(line + 2, ' ');
	char key[256];
	int n = snprintf(key, sizeof(key), "%.*s %s", (int)(name_end - line - 2), line + 2, path);
	if (n < 0 || (size_t)n >= sizeof(key))
		return false;
	const char *p = find_line(line, 'M', key, true, NULL);
	uint64_t v[4];
	if (!p || !numbers(p, v, 4))
		return false;
	ret->offset = v[0];
	ret->size = v[1];
	ret->bit_offset = (uint32_t)v[2];
	ret->bit_size = (uint32_t)v[3];
	return true;
}

bool pca_recorded_enumerator(const struct pca_recorded_build *b, const char *name, int64_t *ret)
{
	const char *p = find_line(b->records, 'E', name, false, NULL);
	if (!p)
		return false;
	while (*p == ' ')
		p++;
	if (*p == '-' && (p[1] == '\n' || !p[1]))
		return false;
	*ret = strtoll(p, NULL, 0);
	return true;
}

bool pca_recorded_symbol(const struct pca_recorded_build *b, const char *name, bool *found,
			 uint64_t *ret_addr, uint64_t *ret_size)
{
	const char *p = find_line(b->records, 'S', name, false, NULL);
	if (!p)
		return false;
	uint64_t v[2];
	*found = numbers(p, v, 2);
	if (*found) {
		*ret_addr = v[0];
		*ret_size = v[1];
	}
	return true;
}

/* ---- recording ---- */

static FILE *record_file;
static bool record_checked;
/* Dies handed out by pca_record_type, by address, to name their members. */
enum { MAX_RECORDED_DIES = 512 };
static struct {
	void *addr;
	char name[96];
} record_dies[MAX_RECORDED_DIES];
static size_t nrecord_dies;

bool pca_recording(void)
{
	if (!record_checked) {
		record_checked = true;
		const char *path = getenv("PCA_RECORD_LAYOUT");
		if (path && *path)
			record_file = fopen(path, "a");
	}
	return record_file != NULL;
}

void pca_record_type(const char *name, const Dwarf_Die *die, bool found, uint64_t size)
{
	if (!pca_recording())
		return;
	if (!found) {
		fprintf(record_file, "T %s -\n", name);
		return;
	}
	fprintf(record_file, "T %s %" PRIu64 "\n", name, size);
	if (nrecord_dies < MAX_RECORDED_DIES) {
		record_dies[nrecord_dies].addr = die->addr;
		snprintf(record_dies[nrecord_dies].name, sizeof(record_dies[0].name), "%s", name);
		nrecord_dies++;
	}
}

void pca_record_member(const Dwarf_Die *die, const char *path, bool found,
		       const struct pca_dwarf_member *m)
{
	if (!pca_recording())
		return;
	/* Several names may peel to one die (a typedef and its tag): record
	 * the member under each. */
	for (size_t i = 0; i < nrecord_dies; i++) {
		if (record_dies[i].addr != die->addr)
			continue;
		if (found)
			fprintf(record_file, "M %s %s %" PRIu64 " %" PRIu64 " %u %u\n",
				record_dies[i].name, path, m->offset, m->size, m->bit_offset,
				m->bit_size);
		else
			fprintf(record_file, "M %s %s -\n", record_dies[i].name, path);
	}
}

void pca_record_enumerator(const char *name, bool found, int64_t value)
{
	if (!pca_recording())
		return;
	if (found)
		fprintf(record_file, "E %s %" PRId64 "\n", name, value);
	else
		fprintf(record_file, "E %s -\n", name);
}

void pca_record_symbol(const char *name, bool found, uint64_t addr, uint64_t size)
{
	if (!pca_recording())
		return;
	if (found)
		fprintf(record_file, "S %s 0x%" PRIx64 " %" PRIu64 "\n", name, addr, size);
	else
		fprintf(record_file, "S %s -\n", name);
	fflush(record_file);
}

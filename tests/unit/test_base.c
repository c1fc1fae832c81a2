/* test_base.c: base/vector.h, base/hashmap.h and base/log.h.
 *
 * Vectors: appends keep every element, growth is geometric (few reallocs
 * for many appends), reserve and shrink_to_fit, steal, and overflow checks
 * that refuse a size that cannot be allocated without touching the vector.
 * Hash sets and maps: against a sorted reference, with a deliberately bad
 * hash (every key in one slot) so probing wraps around the table.
 * Log: knobs off until configured, a dump written only between begin and
 * end, and re-created (not appended to) by the next begin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/escape.h"
#include "base/hashmap.h"
#include "base/log.h"
#include "base/vector.h"

PCA_DEFINE_VECTOR(u32_vector, uint32_t)

struct pair {
	uint64_t a;
	char b;
};
PCA_DEFINE_VECTOR(pair_vector, struct pair)

static size_t hash_addr(uint64_t key) { return pca_hash_u64(key >> 3, 17); }
static size_t hash_constant(uint64_t key) { (void)key; return 5; }

PCA_DEFINE_HASH_SET(addr_set, uint64_t, hash_addr, 0)
PCA_DEFINE_HASH_SET(bad_set, uint64_t, hash_constant, 0)
PCA_DEFINE_HASH_MAP(addr_map, uint64_t, uint32_t, hash_addr, 0)
PCA_DEFINE_HASH_MAP(bad_map, uint64_t, uint32_t, hash_constant, UINT64_MAX)

/* ---- vectors ------------------------------------------------------------ */

static void test_vector_append(void **state)
{
	(void)state;
	struct u32_vector v;
	u32_vector_init(&v);
	assert_null(v.data);
	assert_int_equal(v.size, 0);
	size_t growths = 0, last_capacity = 0;
	for (uint32_t i = 0; i < 100000; i++) {
		assert_true(u32_vector_append(&v, &i));
		if (v.capacity != last_capacity) {
			growths++;
			/* doubling: each capacity at least twice the last */
			assert_true(v.capacity >= 2 * last_capacity);
			last_capacity = v.capacity;
		}
	}
	assert_int_equal(v.size, 100000);
	assert_true(growths <= 15); /* 8 * 2^14 > 100000 */
	for (uint32_t i = 0; i < 100000; i++)
		assert_int_equal(v.data[i], i);
	assert_int_equal(*u32_vector_pop(&v), 99999);
	assert_int_equal(v.size, 99999);
	u32_vector_deinit(&v);
	assert_null(v.data);
	assert_int_equal(v.capacity, 0);
	assert_null(u32_vector_pop(&v));
}

static void test_vector_entry_reserve_shrink_steal(void **state)
{
	(void)state;
	struct pair_vector v;
	pair_vector_init(&v);
	assert_true(pair_vector_reserve(&v, 100));
	assert_true(v.capacity >= 100);
	struct pair *keep = v.data;
	for (uint64_t i = 0; i < 100; i++) {
		struct pair *p = pair_vector_append_entry(&v);
		assert_non_null(p);
		*p = (struct pair){i * 3, (char)('a' + i % 26)};
	}
	assert_ptr_equal(v.data, keep); /* reserved: no realloc */
	assert_true(pair_vector_reserve(&v, 10)); /* smaller: nothing to do */
	assert_ptr_equal(v.data, keep);
	pair_vector_shrink_to_fit(&v);
	assert_int_equal(v.capacity, 100);
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(v.data[i].a, i * 3);
		assert_int_equal(v.data[i].b, 'a' + i % 26);
	}
	size_t n;
	struct pair *p = pair_vector_steal(&v, &n);
	assert_int_equal(n, 100);
	assert_int_equal(p[99].a, 297);
	assert_null(v.data);
	assert_int_equal(v.size, 0);
	free(p);
	/* an empty vector shrinks to nothing */
	assert_true(pair_vector_reserve(&v, 5));
	pair_vector_shrink_to_fit(&v);
	assert_null(v.data);
	assert_int_equal(v.capacity, 0);
	pair_vector_deinit(&v);
}

static void test_vector_overflow(void **state)
{
	(void)state;
	struct pair_vector v;
	pair_vector_init(&v);
	uint64_t one = 1;
	assert_true(pair_vector_append(&v, &(struct pair){one, 'x'}));
	struct pair *data = v.data;
	size_t cap = v.capacity;
	/* elements * size overflows size_t: refused, vector unchanged */
	assert_false(pair_vector_reserve(&v, SIZE_MAX / sizeof(struct pair) + 1));
	assert_false(pair_vector_reserve(&v, SIZE_MAX));
	assert_ptr_equal(v.data, data);
	assert_int_equal(v.capacity, cap);
	assert_int_equal(v.size, 1);
	/* the bare-array form refuses the same */
	uint64_t *arr = NULL;
	size_t arr_cap = 0;
	assert_false(PCA_VECTOR_GROW(&arr, &arr_cap, SIZE_MAX / 4, 16));
	assert_null(arr);
	assert_int_equal(arr_cap, 0);
	assert_true(PCA_VECTOR_GROW(&arr, &arr_cap, 17, 16));
	assert_int_equal(arr_cap, 32);
	assert_true(PCA_VECTOR_GROW(&arr, &arr_cap, 20, 16)); /* fits */
	assert_int_equal(arr_cap, 32);
	assert_true(PCA_VECTOR_GROW(&arr, &arr_cap, 1000, 16));
	assert_int_equal(arr_cap, 1024);
	free(arr);
	pair_vector_deinit(&v);
}

/* ---- hash sets and maps ------------------------------------------------- */

/* Distinct non-zero 8-aligned keys, in a scrambled order. */
static uint64_t key_of(uint64_t i) { return 0x7f0000001000ull + ((i * 7919) % 100003) * 8; }

static void test_set(void **state)
{
	(void)state;
	struct addr_set s;
	addr_set_init(&s);
	assert_false(addr_set_contains(&s, 8)); /* empty: no table at all */
	bool inserted;
	for (uint64_t i = 0; i < 50000; i++) {
		assert_true(addr_set_insert(&s, key_of(i), &inserted));
		assert_true(inserted);
	}
	for (uint64_t i = 0; i < 50000; i += 7) {
		assert_true(addr_set_insert(&s, key_of(i), &inserted));
		assert_false(inserted);
	}
	assert_int_equal(s.count, 50000);
	assert_true(s.count * 2 <= s.capacity);
	assert_int_equal(s.capacity & (s.capacity - 1), 0);
	for (uint64_t i = 0; i < 100003; i++)
		assert_int_equal(addr_set_contains(&s, key_of(i)), i < 50000);
	addr_set_deinit(&s);
	assert_null(s.keys);
}

static void test_set_collisions(void **state)
{
	(void)state;
	struct bad_set s;
	bad_set_init(&s);
	bool inserted;
	/* all in slot 5: probing runs to the end of the table and wraps */
	for (uint64_t k = 1; k <= 300; k++) {
		assert_true(bad_set_insert(&s, k, &inserted));
		assert_true(inserted);
	}
	for (uint64_t k = 1; k <= 300; k++)
		assert_true(bad_set_contains(&s, k));
	assert_false(bad_set_contains(&s, 301));
	assert_true(bad_set_reserve(&s, 10000)); /* rehash keeps every key */
	assert_true(s.capacity >= 20000);
	for (uint64_t k = 1; k <= 300; k++)
		assert_true(bad_set_contains(&s, k));
	assert_int_equal(s.count, 300);
	assert_false(bad_set_reserve(&s, SIZE_MAX)); /* overflow: refused, kept */
	assert_true(bad_set_contains(&s, 300));
	bad_set_deinit(&s);
}

static void test_map(void **state)
{
	(void)state;
	struct addr_map m;
	addr_map_init(&m);
	assert_null(addr_map_search(&m, 8));
	for (uint32_t i = 0; i < 30000; i++)
		assert_true(addr_map_insert(&m, key_of(i), i));
	for (uint32_t i = 0; i < 30000; i += 3) /* replace */
		assert_true(addr_map_insert(&m, key_of(i), i + 1000000));
	assert_int_equal(m.count, 30000);
	for (uint32_t i = 0; i < 40000; i++) {
		uint32_t *v = addr_map_search(&m, key_of(i));
		if (i >= 30000) {
			assert_null(v);
			continue;
		}
		assert_non_null(v);
		assert_int_equal(*v, i % 3 ? i : i + 1000000);
	}
	addr_map_deinit(&m);
	assert_null(m.keys);
	assert_null(m.values);
}

static void test_map_other_empty_key(void **state)
{
	(void)state;
	struct bad_map m;
	bad_map_init(&m);
	/* the empty key is UINT64_MAX here, so 0 is an ordinary key */
	assert_true(bad_map_insert(&m, 0, 42));
	for (uint64_t k = 1; k < 100; k++)
		assert_true(bad_map_insert(&m, k, (uint32_t)k * 2));
	assert_int_equal(*bad_map_search(&m, 0), 42);
	for (uint64_t k = 1; k < 100; k++)
		assert_int_equal(*bad_map_search(&m, k), k * 2);
	assert_null(bad_map_search(&m, 100));
	bad_map_deinit(&m);
}

static void test_hash_capacity(void **state)
{
	(void)state;
	size_t cap;
	assert_true(pca_hash_capacity_for(0, &cap));
	assert_int_equal(cap, 16);
	assert_true(pca_hash_capacity_for(8, &cap));
	assert_int_equal(cap, 16);
	assert_true(pca_hash_capacity_for(9, &cap));
	assert_int_equal(cap, 32);
	assert_false(pca_hash_capacity_for(SIZE_MAX, &cap));
}

/* ---- log ----------------------------------------------------------------- */

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_log(void **state)
{
	(void)state;
	pca_log_configure(NULL);
	assert_false(pca_log_config()->timing);
	assert_false(pca_log_config()->check_index);
	assert_false(pca_log_dump_begin(PCA_LOG_DUMP_OBJECTS));
	pca_log_dump(PCA_LOG_DUMP_OBJECTS, "ignored\n"); /* not begun: no-op */
	char path[] = "/tmp/test_base_log_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct pca_log_config c = {.check_index = true, .dump_objects = path};
	pca_log_configure(&c);
	assert_true(pca_log_config()->check_index);
	assert_false(pca_log_dump_begin(PCA_LOG_DUMP_PARENTS)); /* that one is off */
	assert_true(pca_log_dump_begin(PCA_LOG_DUMP_OBJECTS));
	pca_log_dump(PCA_LOG_DUMP_OBJECTS, "%x %s\n", 0x10u, "int");
	pca_log_dump(PCA_LOG_DUMP_PARENTS, "not begun\n");
	pca_log_dump_end(PCA_LOG_DUMP_OBJECTS);
	pca_log_dump(PCA_LOG_DUMP_OBJECTS, "after the end\n");
	char buf[256];
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "10 int\n");
	assert_true(pca_log_dump_begin(PCA_LOG_DUMP_OBJECTS)); /* re-created */
	pca_log_dump(PCA_LOG_DUMP_OBJECTS, "second\n");
	pca_log_dump_end(PCA_LOG_DUMP_OBJECTS);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "second\n");
	pca_log_timing("not printed: timing is off\n");
	pca_log_configure(NULL);
	assert_false(pca_log_dump_begin(PCA_LOG_DUMP_OBJECTS));
	close(fd);
	unlink(path);
}

/* Strings from the core as Python's repr() shows them: controls, invalid
 * UTF-8 and invisible format characters escaped, printable UTF-8 kept. */
static void test_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"", ""},
		{"plain.Type", "plain.Type"},
		{"Cl\xc3\xa9_\xe2\x82\xac", "Cl\xc3\xa9_\xe2\x82\xac"},           /* é, € kept */
		{"\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J"},        /* OSC title, clear */
		{"a\nb\rc\td", "a\\nb\\rc\\td"},
		{"\x01\x7f", "\\x01\\x7f"},
		{"\xc2\x9b" "31m", "\\x9b31m"},                                    /* C1 CSI */
		{"x\xe2\x80\xaey", "x\\u202ey"},                                   /* RTL override */
		{"\xef\xbb\xbf", "\\ufeff"},
		{"\xff\xfe", "\\xff\\xfe"},                                        /* invalid bytes */
		{"\xc3", "\\xc3"},                                                 /* truncated */
		{"\xc0\xaf", "\\xc0\\xaf"},                                        /* overlong */
		{"\xed\xa0\x80", "\\xed\\xa0\\x80"},                               /* surrogate */
		{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},                          /* emoji kept */
		{"back\\slash 'q'", "back\\slash 'q'"},                           /* not doubled */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		size_t need = pca_escape(buf, sizeof(buf), cases[i].in);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(need, strlen(cases[i].out));
		assert_int_equal(pca_escape_needed(cases[i].in), strcmp(cases[i].in, cases[i].out) != 0);
		const char *t = pca_text(cases[i].in);
		assert_string_equal(t, cases[i].out);
		if (strcmp(cases[i].in, cases[i].out) == 0)
			assert_ptr_equal(t, cases[i].in); /* no copy when clean */
	}
	/* Truncation keeps the terminator and reports the full length. */
	char small[4];
	assert_int_equal(pca_escape(small, sizeof(small), "\n\n\n"), 6);
	assert_string_equal(small, "\\n\\");
	/* The rotating slots: PCA_TEXT_SLOTS escaped strings live at once. */
	const char *kept[PCA_TEXT_SLOTS];
	for (int i = 0; i < PCA_TEXT_SLOTS; i++)
		kept[i] = pca_text(i % 2 ? "\t" : "\n");
	for (int i = 0; i < PCA_TEXT_SLOTS; i++)
		assert_string_equal(kept[i], i % 2 ? "\\t" : "\\n");
	/* A long hostile string is escaped whole (slots grow). */
	char big[5000];
	memset(big, '\x1b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(strlen(pca_text(big)), 4 * (sizeof(big) - 1));
	assert_null(pca_text(NULL));
	pca_text_release();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_vector_append),
		cmocka_unit_test(test_vector_entry_reserve_shrink_steal),
		cmocka_unit_test(test_vector_overflow),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_collisions),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_map_other_empty_key),
		cmocka_unit_test(test_hash_capacity),
		cmocka_unit_test(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_recorded.c: replay of recorded DWARF answers (symbols/recorded.h) on
 * a synthetic build: types and sizes, members found only under their own
 * type (a same-named member of the next type is not), absent records,
 * enumerators, symbols present and absent, unknown names, the fake dies
 * recognised as such, and every checked-in table parsing (each row has
 * PyObject's ob_type at 8 and _PyRuntime or interp_head), and the choice of
 * a row of the same minor for another build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "symbols/recorded.h"

static const struct pca_recorded_build build = {
	"0123", "3.12.1", "test",
	"T _frame -\n"
	"T _ts 312\n"
	"M _ts interp 16 8 0 0\n"
	"M _ts frame -\n"
	"M _ts state.kind 32 4 2 3\n"
	"T _typeobject 416\n"
	"M _typeobject next 8 8 0 0\n"
	"E FRAME_CLEARED 4\n"
	"E FRAME_OWNED_BY_CSTACK -\n"
	"S interp_head 0x2f8a40 8\n"
	"S version.0 -\n",
};

static void test_types_members(void **state)
{
	(void)state;
	Dwarf_Die die;
	uint64_t size;
	struct pca_dwarf_member m;
	assert_false(pca_recorded_type(&build, "_frame", &die));
	assert_false(pca_recorded_type(&build, "_t", &die)); /* prefix of _ts */
	assert_false(pca_recorded_type(&build, "nothing", &die));
	assert_true(pca_recorded_type(&build, "_ts", &die));
	assert_true(pca_recorded_is_die(&die));
	assert_true(pca_recorded_type_size(&die, &size));
	assert_int_equal(size, 312);
	assert_true(pca_recorded_member(&die, "interp", &m));
	assert_int_equal(m.offset, 16);
	assert_int_equal(m.size, 8);
	assert_true(pca_recorded_member(&die, "state.kind", &m));
	assert_int_equal(m.offset, 32);
	assert_int_equal(m.bit_offset, 2);
	assert_int_equal(m.bit_size, 3);
	assert_false(pca_recorded_member(&die, "frame", &m));
	assert_false(pca_recorded_member(&die, "next", &m)); /* _typeobject's, not _ts's */
	assert_true(pca_recorded_type(&build, "_typeobject", &die));
	assert_true(pca_recorded_member(&die, "next", &m));
	assert_int_equal(m.offset, 8);
	Dwarf_Die real;
	memset(&real, 0, sizeof(real));
	assert_false(pca_recorded_is_die(&real));
}

static void test_enumerators_symbols(void **state)
{
	(void)state;
	int64_t v;
	bool found;
	uint64_t addr, size;
	assert_true(pca_recorded_enumerator(&build, "FRAME_CLEARED", &v));
	assert_int_equal(v, 4);
	assert_false(pca_recorded_enumerator(&build, "FRAME_OWNED_BY_CSTACK", &v));
	assert_false(pca_recorded_enumerator(&build, "FRAME", &v));
	assert_true(pca_recorded_symbol(&build, "interp_head", &found, &addr, &size));
	assert_true(found);
	assert_int_equal(addr, 0x2f8a40);
	assert_int_equal(size, 8);
	assert_true(pca_recorded_symbol(&build, "version.0", &found, &addr, &size));
	assert_false(found);
	assert_false(pca_recorded_symbol(&build, "version", &found, &addr, &size));
}

static void test_checked_in_tables(void **state)
{
	(void)state;
	assert_true(pca_recorded_builds_count > 0);
	for (size_t i = 0; i < pca_recorded_builds_count; i++) {
		const struct pca_recorded_build *b = &pca_recorded_builds[i];
		Dwarf_Die die;
		struct pca_dwarf_member m;
		bool found;
		uint64_t addr, size;
		assert_ptr_equal(pca_recorded_find(b->build_id), b);
		assert_true(pca_recorded_type(b, "_object", &die));
		assert_true(pca_recorded_member(&die, "ob_type", &m));
		assert_int_equal(m.offset, 8);
		assert_true((pca_recorded_symbol(b, "_PyRuntime", &found, &addr, &size) && found) ||
			    (pca_recorded_symbol(b, "interp_head", &found, &addr, &size) && found));
	}
	assert_null(pca_recorded_find("0000"));
}

/* Another build of a minor: the row of the closest micro, the latest when
 * the micro is unknown, none for a minor without rows. */
static void test_same_minor(void **state)
{
	(void)state;
	for (size_t i = 0; i < pca_recorded_builds_count; i++) {
		const struct pca_recorded_build *b = &pca_recorded_builds[i], *f;
		int major, minor, micro, fmicro, latest = -1;
		assert_int_equal(sscanf(b->version, "%d.%d.%d", &major, &minor, &micro), 3);
		f = pca_recorded_find_minor(major, minor, micro);
		assert_non_null(f);
		assert_string_equal(f->version, b->version);
		for (size_t j = 0; j < pca_recorded_builds_count; j++) {
			int ma, mi, mc;
			sscanf(pca_recorded_builds[j].version, "%d.%d.%d", &ma, &mi, &mc);
			if (ma == major && mi == minor && mc > latest)
				latest = mc;
		}
		f = pca_recorded_find_minor(major, minor, -1);
		assert_non_null(f);
		assert_int_equal(sscanf(f->version, "%*d.%*d.%d", &fmicro), 1);
		assert_int_equal(fmicro, latest);
		/* a later micro than any row: the latest row */
		f = pca_recorded_find_minor(major, minor, 99);
		assert_int_equal(sscanf(f->version, "%*d.%*d.%d", &fmicro), 1);
		assert_int_equal(fmicro, latest);
	}
	assert_null(pca_recorded_find_minor(3, 99, 0));
	assert_null(pca_recorded_find_minor(2, 7, 18));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types_members),
		cmocka_unit_test(test_enumerators_symbols),
		cmocka_unit_test(test_checked_in_tables),
		cmocka_unit_test(test_same_minor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

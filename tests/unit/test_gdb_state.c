/* test_gdb_state.c: the pieces of `pycore-analyze gdb` (src/cli/cmd_gdb.c)
 * that need no gdb: the parser of gdb's `pycore-state` output, on texts
 * captured from this machine's gdb 13.1 (core file with a quote and spaces in
 * its path, a process started with `run`, one attached with `gdb -p`, a
 * gdbserver target, a deleted core, nothing loaded), and the escaping of a
 * report into gdb `echo` commands. The end-to-end behaviour inside real gdb
 * is tests/e2e/test_gdb.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cmd_gdb.h"

/* gdb /usr/bin/python3.11 "/tmp/gs/dir with space/it's core" (a gcore of a sleeping
 * python3.11; section lists cut to two lines) */
static const char STATE_CORE[] =
	"@pycore-state=1\n"
	"@pagination=\"on\"\n"
	"@height=0\n"
	"@width=0\n"
	"@non-stop=\"off\"\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"* 1    process 11745     1 (core)             /usr/bin/python3.11 \n"
	"@target\n"
	"Symbols from \"/usr/bin/python3.11\".\n"
	"Local core dump file:\n"
	"\t`/tmp/gs/dir with space/it's core', file type elf64-x86-64.\n"
	"\t0x0000000000400000 - 0x000000000041f000 is load1\n"
	"\t0x0000000000940000 - 0x0000000000941000 is load2\n"
	"\tWhile running this, GDB does not access memory from...\n"
	"Local exec file:\n"
	"\t`/usr/bin/python3.11', file type elf64-x86-64.\n"
	"\tEntry point: 0x60a790\n"
	"@end\n";

/* gdb --args python3.11 b.py, break clock_nanosleep, run */
static const char STATE_RUN[] =
	"@pycore-state=1\n"
	"@pagination=\"on\"\n"
	"@height=0\n"
	"@width=0\n"
	"@non-stop=\"off\"\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"* 1    process 12126     1 (native)           /usr/bin/python3.11 \n"
	"@target\n"
	"Symbols from \"/usr/bin/python3.11\".\n"
	"Native process:\n"
	"\tUsing the running image of child Thread 0x7ffff7ca82c0 (LWP 12126).\n"
	"\tWhile running this, GDB does not access memory from...\n"
	"Local exec file:\n"
	"\t`/usr/bin/python3.11', file type elf64-x86-64.\n"
	"\tEntry point: 0x60a790\n"
	"@end\n";

/* gdb -p PID */
static const char STATE_ATTACH[] =
	"@pycore-state=1\n"
	"@pagination=\"on\"\n"
	"@height=0\n"
	"@width=0\n"
	"@non-stop=\"off\"\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"* 1    process 11745     1 (native)           /usr/bin/python3.11 \n"
	"@target\n"
	"Symbols from \"/usr/bin/python3.11\".\n"
	"Native process:\n"
	"\tUsing the running image of attached Thread 0x7fe473a0f2c0 (LWP 11745).\n"
	"\tWhile running this, GDB does not access memory from...\n"
	"Local exec file:\n"
	"\t`/usr/bin/python3.11', file type elf64-x86-64.\n"
	"\tEntry point: 0x60a790\n"
	"@end\n";

/* gdbserver --once :23456 python3.11 b.py; gdb -ex 'target remote :23456' */
static const char STATE_REMOTE[] =
	"@pycore-state=1\n"
	"@pagination=\"on\"\n"
	"@height=0\n"
	"@width=0\n"
	"@non-stop=\"off\"\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"* 1    process 12344     1 (remote :23456)    target:/usr/bin/python3.11 \n"
	"@target\n"
	"Symbols from \"target:/usr/bin/python3.11\".\n"
	"Remote target using gdb-specific protocol:\n"
	"\t`target:/usr/bin/python3.11', file type elf64-x86-64.\n"
	"\tEntry point: 0x60a790\n"
	"\tWhile running this, GDB does not access memory from...\n"
	"Local exec file:\n"
	"\t`target:/usr/bin/python3.11', file type elf64-x86-64.\n"
	"\tEntry point: 0x60a790\n"
	"@end\n";

/* gdb python3.11 /tmp/gs/del.core -ex 'shell rm /tmp/gs/del.core': gdb still
 * names the path; only its open descriptor says (deleted) */
static const char STATE_DELETED[] =
	"@pycore-state=1\n"
	"@pagination=\"on\"\n"
	"@height=0\n"
	"@width=0\n"
	"@non-stop=\"off\"\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"* 1    process 11745     1 (core)             /usr/bin/python3.11 \n"
	"@target\n"
	"Symbols from \"/usr/bin/python3.11\".\n"
	"Local core dump file:\n"
	"\t`/tmp/gs/del.core', file type elf64-x86-64.\n"
	"\tWhile running this, GDB does not access memory from...\n"
	"Local exec file:\n"
	"\t`/usr/bin/python3.11', file type elf64-x86-64.\n"
	"\tEntry point: 0x60a790\n"
	"@end\n";

/* gdb -batch -ex 'set height 24' -ex 'set non-stop on': nothing loaded */
static const char STATE_NOTHING[] =
	"@pycore-state=1\n"
	"@pagination=\"on\"\n"
	"@height=24\n"
	"@width=0\n"
	"@non-stop=\"on\"\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"* 1    <null>                                                   \n"
	"@target\n"
	"@end\n";

/* Two inferiors; the second (selected) is a core whose path holds the very
 * text gdb puts after it. */
static const char STATE_TRICKY[] =
	"@pycore-state=1\n"
	"@pagination=\"off\"\n"
	"@height=50\n"
	"@inferiors\n"
	"  Num  Description       Connection           Executable        \n"
	"  1    process 4242      1 (native)           /usr/bin/python3.11 \n"
	"* 2    process 777       2 (core)             /usr/bin/python3.11 \n"
	"@target\n"
	"Local core dump file:\n"
	"\t`/x/a', file type b', file type elf64-x86-64.\n"
	"@end\n"
	"Native process:\n";

static void parse(struct pca_gdb_state *s, const char *text)
{
	pca_gdb_state_init(s);
	pca_gdb_state_parse(s, text);
}

static void test_core_with_quote_and_spaces(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_CORE);
	assert_true(s.seen_header);
	assert_true(s.complete);
	assert_int_equal(s.kind, PCA_GDB_CORE);
	assert_string_equal(s.core_path, "/tmp/gs/dir with space/it's core");
	assert_string_equal(s.executable, "/usr/bin/python3.11");
	assert_int_equal(s.pid, 11745);
	assert_true(s.pagination);
	assert_int_equal(s.height, 0);
	assert_false(s.non_stop);
	pca_gdb_state_deinit(&s);
}

static void test_native_run(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_RUN);
	assert_int_equal(s.kind, PCA_GDB_NATIVE);
	assert_int_equal(s.pid, 12126);
	assert_null(s.core_path);
	assert_string_equal(s.executable, "/usr/bin/python3.11");
	pca_gdb_state_deinit(&s);
}

static void test_native_attach(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_ATTACH);
	assert_int_equal(s.kind, PCA_GDB_NATIVE);
	assert_int_equal(s.pid, 11745);
	pca_gdb_state_deinit(&s);
}

static void test_remote(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_REMOTE);
	assert_int_equal(s.kind, PCA_GDB_REMOTE);
	assert_int_equal(s.pid, 12344);
	assert_null(s.core_path);
	/* "target:" means a file on the remote host */
	assert_string_equal(s.executable, "/usr/bin/python3.11");
	pca_gdb_state_deinit(&s);
}

static void test_deleted_core(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_DELETED);
	assert_int_equal(s.kind, PCA_GDB_CORE);
	assert_string_equal(s.core_path, "/tmp/gs/del.core");
	pca_gdb_state_deinit(&s);
}

static void test_nothing_loaded(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_NOTHING);
	assert_true(s.complete);
	assert_int_equal(s.kind, PCA_GDB_NONE);
	assert_int_equal(s.pid, -1);
	assert_int_equal(s.height, 24);
	assert_true(s.non_stop);
	pca_gdb_state_deinit(&s);
}

static void test_tricky(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, STATE_TRICKY);
	assert_int_equal(s.kind, PCA_GDB_CORE); /* nothing after @end counts */
	assert_string_equal(s.core_path, "/x/a', file type b");
	assert_int_equal(s.pid, 777); /* the selected inferior, marked '*' */
	assert_false(s.pagination);
	assert_int_equal(s.height, 50);
	pca_gdb_state_deinit(&s);
}

static void test_not_from_gdb(void **state)
{
	(void)state;
	struct pca_gdb_state s;
	parse(&s, "Local core dump file:\n\t`/core', file type elf64-x86-64.\n");
	assert_false(s.seen_header);
	assert_int_equal(s.kind, PCA_GDB_NONE);
	assert_null(s.core_path);
	pca_gdb_state_deinit(&s);
}

static void check_echo(const char *report, const char *expected)
{
	size_t len = 0;
	char *script = pca_gdb_echo_script(report, strlen(report), &len);
	assert_non_null(script);
	assert_string_equal(script, expected);
	assert_int_equal(len, strlen(expected));
	free(script);
}

static void test_echo_escaping(void **state)
{
	(void)state;
	check_echo("", "");
	check_echo("core:        /x (pid 1)\n", "echo core:        /x (pid 1)\\n\n");
	/* leading blanks would be dropped by echo; inner ones are kept */
	check_echo("  f (b.py:3)\n", "echo \\ \\ f (b.py:3)\\n\n");
	check_echo("\n\n", "echo \\n\necho \\n\n");
	/* backslash, tab, CR, other control bytes; '#' is not a comment in echo */
	check_echo("a\\b\tc\rd\x1b[0m # e\n", "echo a\\\\b\\tc\\rd\\033[0m # e\\n\n");
	check_echo("\tx\n", "echo \\tx\\n\n");
	/* a last line without its newline gets none */
	check_echo("a\nb", "echo a\\n\necho b\n");
	/* bytes >= 0x80 (UTF-8 in a preview) pass unchanged */
	check_echo("\xc3\xa9\n", "echo \xc3\xa9\\n\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_with_quote_and_spaces),
		cmocka_unit_test(test_native_run),
		cmocka_unit_test(test_native_attach),
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_deleted_core),
		cmocka_unit_test(test_nothing_loaded),
		cmocka_unit_test(test_tricky),
		cmocka_unit_test(test_not_from_gdb),
		cmocka_unit_test(test_echo_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_linetable.c: pca_linetable_addr2line against the interpreters.
 *
 * linetable_cases.h holds line tables that each interpreter of the build
 * machine compiled, with what that interpreter's own PyCode_Addr2Line
 * answered for every byte offset and for offsets before and past the
 * bytecode (tests/unit/gen_linetable_cases.py --all made it). The rest are
 * hand-made tables for the corners a compiler never emits: truncation, bit
 * flips, overlong varints, wrap-around, and sizes that would make an
 * unbounded decoder hang.
 *
 * Every table is first copied into a heap block of exactly its length, so
 * AddressSanitizer reports any read past its end. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "layout/linetable.h"

#include "linetable_cases.h"

static const size_t pca_ltc_nversions =
    sizeof(pca_ltc_versions) / sizeof(pca_ltc_versions[0]);

/* Exactly `len` bytes on the heap (NULL for 0), so overreads are caught. */
static uint8_t *pca_test_dup(const uint8_t *src, size_t len)
{
    if (len == 0)
        return NULL;
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, src, len);
    return copy;
}

static int pca_test_lookup(enum pca_linetable_format format,
                           const uint8_t *table, size_t len, int firstlineno,
                           int byte_offset)
{
    uint8_t *copy = pca_test_dup(table, len);
    int line = pca_linetable_addr2line(format, copy, len, firstlineno,
                                       byte_offset);
    free(copy);
    return line;
}

/* Byte offsets at which the real cases are probed after being damaged:
 * each run's start and last byte, plus before and past the bytecode. */
static size_t pca_test_sample_offsets(const struct pca_ltc_case *c,
                                      int *out, size_t cap)
{
    size_t n = 0;
    const int fixed[] = {-1, c->code_len, c->code_len + 2, INT_MAX};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n < cap; i++)
        out[n++] = fixed[i];
    for (size_t r = 0; r < c->n_runs && n + 2 <= cap; r++) {
        out[n++] = c->runs[r].start;
        out[n++] = c->runs[r].end - 1;
    }
    return n;
}

typedef void pca_test_case_fn(const struct pca_ltc_version *ver,
                               const struct pca_ltc_case *c, void *ctx);

static void pca_test_each_case(pca_test_case_fn *fn, void *ctx)
{
    for (size_t v = 0; v < pca_ltc_nversions; v++) {
        const struct pca_ltc_version *ver = pca_ltc_versions[v];
        for (size_t k = 0; k < ver->n_cases; k++)
            fn(ver, &ver->cases[k], ctx);
    }
}

/* ---- the interpreters' own answers ---- */

struct pca_test_tally {
    size_t checked;
    size_t mismatches;
};

static void pca_test_check_line(struct pca_test_tally *tally,
                                const struct pca_ltc_version *ver,
                                const struct pca_ltc_case *c,
                                const uint8_t *table, int off, int expect)
{
    int got = pca_linetable_addr2line(ver->format, table, c->len,
                                      c->firstlineno, off);
    tally->checked++;
    if (got != expect && tally->mismatches++ < 10)
        print_error("%s %s offset %d: got %d, CPython %d\n", ver->tag,
                    c->name, off, got, expect);
}

static void pca_test_case_every_offset(const struct pca_ltc_version *ver,
                                       const struct pca_ltc_case *c,
                                       void *ctx)
{
    struct pca_test_tally *tally = ctx;
    uint8_t *table = pca_test_dup(c->table, c->len);
    int expect_start = 0;

    for (size_t r = 0; r < c->n_runs; r++) {
        const struct pca_ltc_run *run = &c->runs[r];
        /* The runs must tile [0, code_len): a gap would leave offsets
         * unchecked. */
        assert_int_equal(run->start, expect_start);
        expect_start = run->end;
        for (int off = run->start; off < run->end; off++)
            pca_test_check_line(tally, ver, c, table, off, run->line);
    }
    assert_int_equal(expect_start, c->code_len);

    for (size_t p = 0; p < c->n_probes; p++)
        pca_test_check_line(tally, ver, c, table, c->probes[p].byte_offset,
                            c->probes[p].line);
    free(table);
}

static void test_real_tables_every_offset(void **state)
{
    (void)state;
    struct pca_test_tally tally = {0, 0};
    pca_test_each_case(pca_test_case_every_offset, &tally);
    assert_int_equal(tally.mismatches, 0);
    /* Guard against an empty or truncated generated header. */
    assert_true(pca_ltc_nversions >= 8);
    assert_true(tally.checked > 10000);
}

/* The data has to cover each format, or the test above proves nothing. */
static void test_real_tables_cover_all_formats(void **state)
{
    (void)state;
    size_t per_format[3] = {0, 0, 0};
    for (size_t v = 0; v < pca_ltc_nversions; v++) {
        const struct pca_ltc_version *ver = pca_ltc_versions[v];
        assert_in_range(ver->format, PCA_LINETABLE_LNOTAB,
                        PCA_LINETABLE_LOCATIONS);
        per_format[ver->format] += ver->n_cases;
    }
    assert_true(per_format[PCA_LINETABLE_LNOTAB] > 0);
    assert_true(per_format[PCA_LINETABLE_PEP626] > 0);
    assert_true(per_format[PCA_LINETABLE_LOCATIONS] > 0);
}

/* ---- truncation ---- */

/* Cut each real table at every length. Cuts at an entry boundary have a
 * known answer: the entries kept still decide the offsets they cover, and
 * (3.10+) everything past them is -1. Other cuts must only stay in bounds. */
static void pca_test_case_truncated(const struct pca_ltc_version *ver,
                                    const struct pca_ltc_case *c, void *ctx)
{
    (void)ctx;
    int offsets[64];
    size_t noff = pca_test_sample_offsets(c, offsets, 64);
    int64_t covered = 0; /* bytes of bytecode the kept entries cover */

    for (size_t cut = 0; cut <= c->len; cut++) {
        bool boundary;
        if (ver->format == PCA_LINETABLE_LOCATIONS) {
            boundary = cut == c->len || (c->table[cut] & 0x80);
            if (cut > 0 && boundary) {
                /* find the entry that just ended and add its size */
                size_t s = cut - 1;
                while (s > 0 && !(c->table[s] & 0x80))
                    s--;
                covered += ((c->table[s] & 7) + 1) * 2;
            }
        } else {
            boundary = cut % 2 == 0;
            if (cut > 0 && boundary)
                covered += c->table[cut - 2];
        }

        uint8_t *table = pca_test_dup(c->table, cut);
        for (size_t i = 0; i < noff; i++) {
            int got = pca_linetable_addr2line(ver->format, table, cut,
                                              c->firstlineno, offsets[i]);
            if (!boundary || offsets[i] < 0)
                continue;
            int full = pca_linetable_addr2line(ver->format, c->table, c->len,
                                               c->firstlineno, offsets[i]);
            if (offsets[i] < covered)
                assert_int_equal(got, full);
            else if (ver->format != PCA_LINETABLE_LNOTAB)
                assert_int_equal(got, -1);
        }
        free(table);
    }
}

static void test_truncated_real_tables(void **state)
{
    (void)state;
    pca_test_each_case(pca_test_case_truncated, NULL);
}

/* ---- empty and degenerate input ---- */

static void test_empty_table(void **state)
{
    (void)state;
    static const uint8_t one_byte[] = {0x80};
    const int offsets[] = {INT_MIN, -1, 0, 1, 2, 1000, INT_MAX};

    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        int off = offsets[i];
        int before = off < 0 ? 7 : -1;
        /* 3.6-3.9: no pairs, so every offset is on co_firstlineno. */
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_LNOTAB, NULL,
                                                 0, 7, off), 7);
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_PEP626, NULL,
                                                 0, 7, off), before);
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_LOCATIONS,
                                                 NULL, 0, 7, off), before);
        /* A non-NULL table with len 0 must not be touched. */
        assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, one_byte,
                                         0, 7, off), before);
        /* NULL with a nonzero len is read as empty. */
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_PEP626, NULL,
                                                 100, 7, off), before);
    }
}

static void test_unknown_format(void **state)
{
    (void)state;
    static const uint8_t table[] = {0x02, 0x01};
    assert_int_equal(pca_linetable_addr2line((enum pca_linetable_format)99,
                                             table, sizeof(table), 1, 0), -1);
}

/* Odd-length tables: the half pair is ignored by 3.6-3.9 (PyBytes_Size/2)
 * and ends the walk for 3.10, where CPython would read past the end. */
static void test_odd_length_pairs(void **state)
{
    (void)state;
    static const uint8_t table[] = {0x04, 0x01, 0x04};
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LNOTAB, table, 3, 10, 0),
                     10);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LNOTAB, table, 3, 10, 4),
                     11);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LNOTAB, table, 3, 10, 99),
                     11);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_PEP626, table, 3, 10, 3),
                     11);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_PEP626, table, 3, 10, 4),
                     -1);
}

/* ---- hand-made tables, one per encoding corner ---- */

static void test_lnotab_semantics(void **state)
{
    (void)state;
    /* +255 bytes without a line change, then +127+73 lines split in two
     * pairs, then a negative increment (-3), then a zero-byte pair. */
    static const uint8_t table[] = {
        0x06, 0x01,       /* offset 6: line 11 */
        0xff, 0x00,       /* offset 261: still 11 */
        0x2d, 0x7f,       /* offset 306: 138 */
        0x00, 0x49,       /* offset 306: 211 */
        0x0a, 0xfd,       /* offset 316: 208 */
    };
    const struct { int off; int line; } expect[] = {
        {-5, 10}, {0, 10}, {5, 10}, {6, 11}, {260, 11}, {261, 11},
        {305, 11}, {306, 211}, {315, 211}, {316, 208}, {INT_MAX, 208},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        assert_int_equal(pca_test_lookup(PCA_LINETABLE_LNOTAB, table,
                                         sizeof(table), 10, expect[i].off),
                         expect[i].line);
}

static void test_pep626_semantics(void **state)
{
    (void)state;
    static const uint8_t table[] = {
        0x04, 0x00,       /* [0, 4): line 10 */
        0x00, 0x7f,       /* empty range: +127 only */
        0x06, 0x02,       /* [4, 10): 139 */
        0x02, 0x80,       /* [10, 12): no line (-128) */
        0xfe, 0xfb,       /* [12, 266): 134 */
    };
    const struct { int off; int line; } expect[] = {
        {-1, 10}, {0, 10}, {3, 10}, {4, 139}, {9, 139}, {10, -1},
        {11, -1}, {12, 134}, {265, 134}, {266, -1}, {INT_MAX, -1},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        assert_int_equal(pca_test_lookup(PCA_LINETABLE_PEP626, table,
                                         sizeof(table), 10, expect[i].off),
                         expect[i].line);
    /* A table that ends on an empty range leaves the offset uncovered. */
    static const uint8_t trailing_empty[] = {0x02, 0x01, 0x00, 0x05};
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_PEP626, trailing_empty,
                                     sizeof(trailing_empty), 1, 1), 2);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_PEP626, trailing_empty,
                                     sizeof(trailing_empty), 1, 2), -1);
}

static void test_locations_semantics(void **state)
{
    (void)state;
    static const uint8_t table[] = {
        0xf0, 0x58, 0x09, 0x00, 0x01, 0x01, /* long, 1 unit: +300 */
        0xf8,                               /* none, 1 unit */
        0x81, 0x00,                         /* short, 2 units: same line */
        0xd8, 0x01, 0x02,                   /* one-line +1, 1 unit */
        0xeb, 0x05,                         /* no columns, 4 units: -2 */
        0xe8, 0x03,                         /* no columns, 1 unit: -1 */
        0xef, 0x00,                         /* no columns, 8 units: +0 */
        0xe8, 0x40, 0x01,                   /* 2-byte varint: 64 -> +32 */
    };
    const struct { int off; int line; } expect[] = {
        {-3, 5}, {0, 305}, {1, 305}, {2, -1}, {3, -1}, {4, 305}, {7, 305},
        {8, 306}, {9, 306}, {10, 304}, {17, 304}, {18, 303}, {19, 303},
        {20, 303}, {35, 303}, {36, 335}, {37, 335}, {38, -1}, {INT_MAX, -1},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                         sizeof(table), 5, expect[i].off),
                         expect[i].line);
}

/* A varint whose last byte says "more" at the end of the table: CPython
 * would read past the end; we stop with the bits read so far. */
static void test_locations_varint_runs_off_end(void **state)
{
    (void)state;
    static const uint8_t table[] = {0xe8, 0x44}; /* payload 4 -> +2, more */
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                     sizeof(table), 10, 0), 12);
    static const uint8_t bare[] = {0xe8}; /* varint missing entirely */
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, bare,
                                     sizeof(bare), 10, 1), 10);
}

/* Varints past 32 bits: the bits beyond are dropped (UBSan checks that no
 * shift reaches 32) and at most 6 bytes are read. */
static void test_locations_overlong_varint(void **state)
{
    (void)state;
    static const uint8_t table[] = {
        0xe8, 0x42, 0x40, 0x40, 0x40, 0x40, 0x40, 0x7f, 0x7f, 0x00,
    };
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                     sizeof(table), 10, 0), 11);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                     sizeof(table), 10, 2), -1);
    /* Sixth byte lands at bit 30: 0x03 << 30 keeps both bits. */
    static const uint8_t top[] = {0xe8, 0x40, 0x40, 0x40, 0x40, 0x40, 0x03};
    /* uval = 0xC0000000: even, so +0x60000000 */
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, top,
                                     sizeof(top), 0, 0), 0x60000000);
}

/* The code comes from bits 3-6 even when bit 7 is clear (CPython does not
 * check), but only a byte with bit 7 set can be the no-line marker. */
static void test_locations_entry_without_start_bit(void **state)
{
    (void)state;
    static const uint8_t table[] = {0x78, 0x81, 0x00};
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                     sizeof(table), 3, 0), 3);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                     sizeof(table), 3, 2), 3);
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, table,
                                     sizeof(table), 3, 6), -1);
}

/* Lines wrap modulo 2^32 like CPython's -fwrapv ints; UBSan would flag a
 * signed overflow. */
static void test_line_wraps(void **state)
{
    (void)state;
    static const uint8_t lnotab[] = {0x02, 0x01};
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LNOTAB, lnotab,
                                     sizeof(lnotab), INT_MAX, 2), INT_MIN);
    static const uint8_t pep626[] = {0x02, 0xff};
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_PEP626, pep626,
                                     sizeof(pep626), INT_MIN, 0), INT_MAX);
    static const uint8_t locations[] = {0xe8, 0x02}; /* +1 */
    assert_int_equal(pca_test_lookup(PCA_LINETABLE_LOCATIONS, locations,
                                     sizeof(locations), INT_MAX, 0),
                     INT_MIN);
}

/* ---- tables of one repeated byte, large ---- */

static void test_all_ff_tables(void **state)
{
    (void)state;
    const size_t len = 4096;
    uint8_t *table = malloc(len);
    assert_non_null(table);
    memset(table, 0xff, len);
    const int offsets[] = {INT_MIN, -1, 0, 254, 255, 256, 1000,
                           (int)(len / 2) * 255 - 1, (int)(len / 2) * 255,
                           INT_MAX};

    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        int off = offsets[i];
        int64_t npairs = (int64_t)len / 2;
        /* lnotab: each pair is +255 bytes, line -1; pairs whose cumulative
         * offset is <= off apply. */
        int64_t applied = off < 0 ? 0 : off / 255;
        if (applied > npairs)
            applied = npairs;
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_LNOTAB, table,
                                                 len, 1000, off),
                         1000 - applied);
        /* PEP 626: ranges of 255 bytes, line -1 each; none past the end. */
        int pep = off < 0 ? 1000
                  : (int64_t)off >= npairs * 255 ? -1
                  : 1000 - (off / 255 + 1);
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_PEP626, table,
                                                 len, 1000, off), pep);
        /* 0xff is "no location, 8 units": -1 everywhere at or after 0. */
        assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_LOCATIONS,
                                                 table, len, 1000, off),
                         off < 0 ? 1000 : -1);
    }
    free(table);
}

/* 0xef: "no columns, 8 units" whose varint continues into the next entries.
 * Unbounded varint scanning makes this quadratic (hours at 1 MiB); with
 * the 6-byte cap it is linear. Each entry adds the same delta, and
 * 0xef & 63 = 47 in each of 6 payloads (the last keeps its low 2 bits). */
static void test_all_ef_table_is_linear(void **state)
{
    (void)state;
    const size_t len = (size_t)1 << 20;
    uint8_t *table = malloc(len);
    assert_non_null(table);
    memset(table, 0xef, len);

    uint32_t uval = 0;
    for (unsigned shift = 0; shift < 32; shift += 6)
        uval |= (uint32_t)47 << shift;
    uint32_t delta = (uval & 1) ? 0u - (uval >> 1) : uval >> 1;

    /* Entry i covers bytes [16 i, 16 i + 16); the last 6 entries read
     * shorter varints, so check early ones exactly. */
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t expect = delta * (i + 1);
        int line = pca_linetable_addr2line(PCA_LINETABLE_LOCATIONS, table,
                                           len, 0, (int)(16 * i));
        assert_int_equal((uint32_t)line, expect);
    }
    assert_int_equal(pca_linetable_addr2line(PCA_LINETABLE_LOCATIONS, table,
                                             len, 0, INT_MAX), -1);
    int last = (int)(len * 16 - 1);
    (void)pca_linetable_addr2line(PCA_LINETABLE_LOCATIONS, table, len, 0,
                                  last);
    free(table);
}

/* ---- damage to real tables ---- */

/* Flip every bit of every real table once; probe. Only bounds and
 * termination are checked (ASan/UBSan), there is no right answer. */
static void pca_test_case_bit_flips(const struct pca_ltc_version *ver,
                                    const struct pca_ltc_case *c, void *ctx)
{
    (void)ctx;
    int offsets[16];
    size_t noff = pca_test_sample_offsets(c, offsets, 16);
    uint8_t *table = pca_test_dup(c->table, c->len);
    for (size_t byte = 0; byte < c->len; byte++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            table[byte] ^= (uint8_t)(1u << bit);
            for (size_t i = 0; i < noff; i++)
                (void)pca_linetable_addr2line(ver->format, table, c->len,
                                              c->firstlineno, offsets[i]);
            table[byte] ^= (uint8_t)(1u << bit);
        }
    }
    free(table);
}

static void test_bit_flipped_real_tables(void **state)
{
    (void)state;
    pca_test_each_case(pca_test_case_bit_flips, NULL);
}

/* Random tables of random lengths; xorshift with a fixed seed so a failure
 * reproduces. */
static uint64_t pca_test_xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_random_tables(void **state)
{
    (void)state;
    uint64_t rng = 0x9e3779b97f4a7c15u;
    const enum pca_linetable_format formats[] = {
        PCA_LINETABLE_LNOTAB, PCA_LINETABLE_PEP626, PCA_LINETABLE_LOCATIONS,
    };
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = pca_test_xorshift(&rng) % 48;
        uint8_t *table = len ? malloc(len) : NULL;
        if (len)
            assert_non_null(table);
        for (size_t i = 0; i < len; i++)
            table[i] = (uint8_t)pca_test_xorshift(&rng);
        int off = (int)(pca_test_xorshift(&rng) % 600) - 20;
        int first = (int)(uint32_t)pca_test_xorshift(&rng);
        for (size_t f = 0; f < 3; f++)
            (void)pca_linetable_addr2line(formats[f], table, len, first, off);
        free(table);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_tables_every_offset),
        cmocka_unit_test(test_real_tables_cover_all_formats),
        cmocka_unit_test(test_truncated_real_tables),
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_unknown_format),
        cmocka_unit_test(test_odd_length_pairs),
        cmocka_unit_test(test_lnotab_semantics),
        cmocka_unit_test(test_pep626_semantics),
        cmocka_unit_test(test_locations_semantics),
        cmocka_unit_test(test_locations_varint_runs_off_end),
        cmocka_unit_test(test_locations_overlong_varint),
        cmocka_unit_test(test_locations_entry_without_start_bit),
        cmocka_unit_test(test_line_wraps),
        cmocka_unit_test(test_all_ff_tables),
        cmocka_unit_test(test_all_ef_table_is_linear),
        cmocka_unit_test(test_bit_flipped_real_tables),
        cmocka_unit_test(test_random_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* linetable.c: PyCode_Addr2Line() of CPython 3.6 to 3.13, over bytes.
 *
 * 3.6-3.9 have one walk over (offset, line) pairs; 3.10+ share
 * _PyCode_CheckLineNumber's walk over address ranges and differ only in how
 * one range is decoded (advance()). Each function names the CPython
 * function it follows and the versions; tests/unit/test_linetable.c checks
 * each one against what the real interpreter of every such version answers
 * (PyCode_Addr2Line through ctypes). Where CPython trusts the table (it
 * wrote it) and we cannot (it comes from a core), the deviation is
 * commented; it only changes answers for tables CPython never writes. */
#include "layout/linetable.h"

#include <limits.h>
#include <stdbool.h>

/* The wrap-around below maps 32-bit patterns to int. */
_Static_assert(INT_MAX == 2147483647 && INT_MIN == -INT_MAX - 1,
               "int must be 32-bit two's complement");

static const int pca_no_line = -1;

/* 3.10 co_linetable: a line delta of -128 marks a range with no line
 * (Objects/lnotab_notes.txt at v3.10.13). */
static const int pca_pep626_no_line_delta = -128;

/* 3.11+ location table: the first byte of an entry has bit 7 set; bits 3-6
 * are the code below, bits 0-2 the length in code units minus one
 * (Objects/locations.md; `_PyCodeLocationInfoKind` in Include/cpython/code.h
 * at v3.11.7, v3.12.1, v3.13.0). Codes 0-9 are the short forms. */
enum pca_location_code {
    PCA_LOCATION_ONE_LINE0 = 10,
    PCA_LOCATION_ONE_LINE1 = 11,
    PCA_LOCATION_ONE_LINE2 = 12,
    PCA_LOCATION_NO_COLUMNS = 13,
    PCA_LOCATION_LONG = 14,
    PCA_LOCATION_NONE = 15,
};

enum {
    PCA_ENTRY_START_BIT = 0x80,
    PCA_VARINT_MORE_BIT = 0x40,
    PCA_VARINT_PAYLOAD_MASK = 0x3f,
    PCA_VARINT_PAYLOAD_BITS = 6,
    PCA_CODE_UNIT_BYTES = 2, /* sizeof(_Py_CODEUNIT) */
};

/* CPython accumulates lines in an int and is built with -fwrapv, so a
 * hostile table wraps modulo 2^32. Lines are kept as uint32_t (unsigned
 * arithmetic wraps without UB) and turned back into int here without
 * relying on implementation-defined conversion. */
static int pca_line_from_bits(uint32_t bits)
{
    if (bits <= (uint32_t)INT_MAX)
        return (int)bits;
    return (int)(bits - (uint32_t)INT_MAX - 1u) + INT_MIN;
}

static uint32_t pca_line_to_bits(int line)
{
    return (uint32_t)line; /* conversion to unsigned is modulo 2^32 */
}

static int pca_signed_byte(uint8_t b)
{
    return b < 128 ? (int)b : (int)b - 256;
}

/* 3.6-3.9: PyCode_Addr2Line in Objects/codeobject.c (v3.6.15 ... v3.9.18).
 * Pairs of (byte offset increment, line increment); the line increment is a
 * signed char since 3.6. CPython walks len/2 pairs (a trailing odd byte is
 * ignored) and stops at the first pair whose offset passes the query, so an
 * offset before 0 gets co_firstlineno and one past the end the last line. */
static int pca_addr2line_lnotab(const uint8_t *table, size_t len,
                                int firstlineno, int byte_offset)
{
    uint32_t line = pca_line_to_bits(firstlineno);
    int64_t addr = 0; /* CPython's int cannot overflow on a real table */
    size_t npairs = len / 2;

    for (size_t i = 0; i < npairs; i++) {
        addr += table[2 * i];
        if (addr > byte_offset)
            break;
        line += (uint32_t)pca_signed_byte(table[2 * i + 1]);
    }
    return pca_line_from_bits(line);
}

/* The walk 3.10+ share: PyCode_Addr2Line -> _PyCode_CheckLineNumber in
 * Objects/codeobject.c (the same at v3.10.13, v3.11.7, v3.12.1, v3.13.0).
 * Starting from the range [-1, 0), advance while the range ends at or
 * before the query; running out of table means -1. Since the query is >= 0
 * it never steps back (PyLineTable_PreviousAddressRange). Only advance(),
 * one range of the table, differs by version. */
struct pca_range_walk {
    const uint8_t *table;
    size_t len;
    size_t pos;             /* opaque.lo_next */
    int64_t ar_end;         /* CPython's int cannot overflow on a real table */
    uint32_t computed_line; /* opaque.computed_line, wrapping like -fwrapv */
    bool has_line;          /* ar_line != -1 */
};

/* Steps over one range; false when the table has none left (at_end()). */
typedef bool pca_advance_fn(struct pca_range_walk *walk);

static int pca_check_line_number(pca_advance_fn *advance,
                                 const uint8_t *table, size_t len,
                                 int firstlineno, int byte_offset)
{
    if (byte_offset < 0) /* PyCode_Addr2Line, before the walk */
        return firstlineno;

    struct pca_range_walk walk = {
        .table = table,
        .len = len,
        .computed_line = pca_line_to_bits(firstlineno),
    };
    while (walk.ar_end <= byte_offset) {
        if (!advance(&walk))
            return pca_no_line;
    }
    return walk.has_line ? pca_line_from_bits(walk.computed_line)
                         : pca_no_line;
}

/* 3.10: advance() / PyLineTable_NextAddressRange in Objects/codeobject.c at
 * v3.10.13. Pairs of (byte length of the range, line delta), -128 = no
 * line (the delta is then not applied). NextAddressRange also steps over
 * ranges of length 0 (they only carry a line delta); the caller's loop
 * does the same, since such a range ends where the previous one did, at or
 * before the query. A lone last byte ends the table: CPython would read the
 * pair's second byte past the end. */
static bool pca_pep626_advance(struct pca_range_walk *walk)
{
    if (walk->len - walk->pos < 2)
        return false;
    const uint8_t *pair = walk->table + walk->pos;
    walk->pos += 2;
    walk->ar_end += pair[0];
    int ldelta = pca_signed_byte(pair[1]);
    if (ldelta == pca_pep626_no_line_delta) {
        walk->has_line = false;
    } else {
        walk->computed_line += (uint32_t)ldelta;
        walk->has_line = true;
    }
    return true;
}

/* scan_varint in Objects/codeobject.c (v3.11.7, v3.12.1, v3.13.0): 6 bits
 * per byte, little end first, bit 6 = more bytes follow. CPython trusts the
 * table: it reads past the end if the last byte says "more", and shifts an
 * unsigned int by 36 or more on a 7th byte (undefined). We stop at the end
 * of the table, and after the 6th byte, whose payload already reaches bit
 * 35: the value is CPython's for every varint of 6 bytes or fewer. */
static uint32_t pca_scan_varint(const uint8_t *table, size_t len, size_t pos)
{
    if (pos >= len)
        return 0;
    uint32_t read = table[pos++];
    uint32_t val = read & PCA_VARINT_PAYLOAD_MASK;
    unsigned shift = 0;
    while (read & PCA_VARINT_MORE_BIT) {
        shift += PCA_VARINT_PAYLOAD_BITS;
        if (pos >= len || shift >= 32)
            break;
        read = table[pos++];
        val |= (read & PCA_VARINT_PAYLOAD_MASK) << shift;
    }
    return val;
}

/* scan_signed_varint: the low bit is the sign, the rest the magnitude.
 * Returned as the 32-bit pattern of the int CPython computes. */
static uint32_t pca_scan_signed_varint(const uint8_t *table, size_t len,
                                       size_t pos)
{
    uint32_t uval = pca_scan_varint(table, len, pos);
    if (uval & 1)
        return 0u - (uval >> 1);
    return uval >> 1;
}

/* get_line_delta in Objects/codeobject.c (v3.11.7, v3.12.1, v3.13.0). The
 * code is taken from bits 3-6 whether or not bit 7 is set, as CPython does. */
static uint32_t pca_location_line_delta(const uint8_t *table, size_t len,
                                        size_t pos)
{
    int code = (table[pos] >> 3) & 15;
    switch (code) {
    case PCA_LOCATION_NONE:
        return 0;
    case PCA_LOCATION_NO_COLUMNS:
    case PCA_LOCATION_LONG:
        return pca_scan_signed_varint(table, len, pos + 1);
    case PCA_LOCATION_ONE_LINE0:
        return 0;
    case PCA_LOCATION_ONE_LINE1:
        return 1;
    case PCA_LOCATION_ONE_LINE2:
        return 2;
    default: /* short forms 0-9: same line */
        return 0;
    }
}

/* 3.11+: advance() / _PyLineTable_NextAddressRange in Objects/codeobject.c
 * at v3.11.7, v3.12.1, v3.13.0 (3.11's _co_linearray cache, used only while
 * tracing, is filled from the same walk). Every entry covers 1-8 code units
 * of 2 bytes, so ranges are in bytes like the query. The no-line test is
 * is_no_line_marker(): the whole byte >> 3 == 0x1f, i.e. bit 7 set and
 * code 15. After an entry, CPython skips to the next byte with bit 7 set. */
static bool pca_locations_advance(struct pca_range_walk *walk)
{
    if (walk->pos >= walk->len)
        return false;
    uint8_t first = walk->table[walk->pos];
    walk->computed_line +=
        pca_location_line_delta(walk->table, walk->len, walk->pos);
    walk->has_line =
        (first >> 3) != ((PCA_ENTRY_START_BIT >> 3) | PCA_LOCATION_NONE);
    walk->ar_end += ((first & 7) + 1) * PCA_CODE_UNIT_BYTES;
    do {
        walk->pos++;
    } while (walk->pos < walk->len &&
             (walk->table[walk->pos] & PCA_ENTRY_START_BIT) == 0);
    return true;
}

int pca_linetable_addr2line(enum pca_linetable_format format,
                            const uint8_t *table, size_t len,
                            int firstlineno, int byte_offset)
{
    if (table == NULL)
        len = 0;
    switch (format) {
    case PCA_LINETABLE_LNOTAB:
        return pca_addr2line_lnotab(table, len, firstlineno, byte_offset);
    case PCA_LINETABLE_PEP626:
        return pca_check_line_number(pca_pep626_advance, table, len,
                                     firstlineno, byte_offset);
    case PCA_LINETABLE_LOCATIONS:
        return pca_check_line_number(pca_locations_advance, table, len,
                                     firstlineno, byte_offset);
    }
    return pca_no_line;
}

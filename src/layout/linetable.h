/* linetable.h: CPython line-number tables -> source lines. Pure functions over bytes copied out of a core; they know nothing about reading memory.
 *
 * The decoder reproduces PyCode_Addr2Line() of the CPython version that wrote
 * the table, including what it answers for offsets it was never meant to be
 * asked about. It does not read the code object, check that the table
 * belongs to it, or know how long the bytecode is: the caller copies
 * co_lnotab / co_linetable out of the core (with its own size limit) and
 * passes co_firstlineno.
 *
 * `byte_offset` is in bytes in every version: 3.6-3.9 `f_lasti` as is;
 * 3.10 `f_lasti * 2` (3.10's f_lasti counts code units, its table bytes);
 * 3.11+ `2 * instruction index` (index of the instruction in
 * co_code_adaptive).
 *
 * Answers, as CPython gives them:
 *  - byte_offset < 0 (a frame that has not started): firstlineno, in every
 *    format (PyCode_Addr2Line at every tag).
 *  - LNOTAB has no end marker: an offset past the last entry gets the last
 *    line, never -1.
 *  - PEP626 and LOCATIONS: -1 for offsets past the table's last range and
 *    for ranges the table marks as having no line.
 *
 * Invariants on untrusted input: never reads outside table[0..len-1]
 * (table may be NULL when len is 0); the entry loop runs at most `len`
 * times and each varint reads at most 6 bytes; line arithmetic wraps modulo
 * 2^32 the way CPython's int arithmetic does (it is built with -fwrapv), so
 * garbage tables give garbage lines but no undefined behaviour.
 */
#ifndef PCA_LAYOUT_LINETABLE_H
#define PCA_LAYOUT_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

enum pca_linetable_format {
    PCA_LINETABLE_LNOTAB,    /* 3.6-3.9: co_lnotab (byte offset increment, signed line increment) */
    PCA_LINETABLE_PEP626,    /* 3.10: co_linetable (PEP 626) */
    PCA_LINETABLE_LOCATIONS, /* 3.11+: co_linetable location table (PEP 657) */
};

/* Line of the instruction at byte offset `byte_offset` in the code's bytecode,
 * or -1 when the table says it has no line or the offset is outside the table.
 * Bounded by `len`: never reads past table[len-1], never loops more than len times.
 * See the top of this file for negative offsets and offsets past an LNOTAB
 * table. An unknown `format` gives -1. */
int pca_linetable_addr2line(enum pca_linetable_format format, const uint8_t *table, size_t len, int firstlineno, int byte_offset);

#endif /* PCA_LAYOUT_LINETABLE_H */

/* test_target.c: the core reader (target/core.c) on synthetic ELF cores.
 *
 * Each test builds a small ET_CORE x86-64 image in memory with <elf.h>
 * structs (ELF header, program headers, one PT_NOTE, PT_LOAD data), writes it
 * to a private temporary directory and opens it with pca_target_open_core.
 * Building the image by hand, rather than with libelf, lets a test state
 * exactly which bytes are in the file: truncated segments, p_filesz <
 * p_memsz, notes with hostile sizes.
 *
 * Segment bytes follow pattern_byte(address), so any read can be checked
 * against the address it claims to come from. Faults are checked by code and
 * by the first missing address. Run under ASan/LSan (-DPCA_SANITIZE=ON):
 * every error and target is released, so a leak fails the run. */
#include <elf.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/target.h"

/* ---- image builder ---------------------------------------------------- */

struct test_seg {
    uint64_t vaddr, memsz, filesz;
    /* filesz bytes; NULL means pattern_byte(vaddr + i). */
    const uint8_t *data;
};

struct test_notes {
    uint8_t *buf;
    size_t len, cap;
};

struct test_image {
    uint8_t *buf;
    size_t len;
};

static char *test_dir;

static uint8_t pattern_byte(uint64_t addr)
{
    return (uint8_t)(addr ^ (addr >> 8) ^ (addr >> 16) ^ 0x5a);
}

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

static void notes_reserve(struct test_notes *n, size_t more)
{
    if (n->len + more <= n->cap)
        return;
    n->cap = (n->len + more) * 2;
    n->buf = realloc(n->buf, n->cap);
    assert_non_null(n->buf);
}

/* A note whose header claims descsz bytes but whose body holds `have`:
 * lets the bad-input tests lie about sizes. */
static void notes_add_raw(struct test_notes *n, uint32_t type, const void *desc,
                          uint32_t descsz, size_t have)
{
    Elf64_Nhdr h = {.n_namesz = 5, .n_descsz = descsz, .n_type = type};
    size_t body = align_up(have, 4);
    notes_reserve(n, sizeof(h) + 8 + body);
    memcpy(n->buf + n->len, &h, sizeof(h));
    n->len += sizeof(h);
    memcpy(n->buf + n->len, "CORE\0\0\0\0", 8); /* name padded to 4 */
    n->len += 8;
    memset(n->buf + n->len, 0, body);
    if (have)
        memcpy(n->buf + n->len, desc, have);
    n->len += body;
}

static void notes_add(struct test_notes *n, uint32_t type, const void *desc, size_t size)
{
    notes_add_raw(n, type, desc, (uint32_t)size, size);
}

static void notes_add_prstatus(struct test_notes *n, int32_t tid, short sig,
                               uint64_t fs_base, uint64_t pc, uint64_t sp)
{
    struct elf_prstatus st;
    memset(&st, 0, sizeof(st));
    st.pr_pid = tid;
    st.pr_cursig = sig;
    st.pr_info.si_signo = sig;
    st.pr_reg[FS_BASE] = fs_base;
    st.pr_reg[RIP] = pc;
    st.pr_reg[RSP] = sp;
    notes_add(n, NT_PRSTATUS, &st, sizeof(st));
}

static void notes_add_prpsinfo(struct test_notes *n, int32_t pid, const char *fname)
{
    struct elf_prpsinfo ps;
    memset(&ps, 0, sizeof(ps));
    ps.pr_pid = pid;
    snprintf(ps.pr_fname, sizeof(ps.pr_fname), "%s", fname);
    snprintf(ps.pr_psargs, sizeof(ps.pr_psargs), "%s", fname);
    notes_add(n, NT_PRPSINFO, &ps, sizeof(ps));
}

/* NT_FILE: count, page_size, count * {start, end, pgoff}, then the names. */
struct test_file_map {
    uint64_t start, end, pgoff;
    const char *path;
};

static void notes_add_file(struct test_notes *n, const struct test_file_map *m,
                           size_t count, uint64_t page_size)
{
    size_t size = 16 + count * 24;
    for (size_t i = 0; i < count; i++)
        size += strlen(m[i].path) + 1;
    uint8_t *desc = calloc(1, size);
    assert_non_null(desc);
    uint64_t head[2] = {count, page_size};
    memcpy(desc, head, 16);
    size_t off = 16 + count * 24;
    for (size_t i = 0; i < count; i++) {
        uint64_t v[3] = {m[i].start, m[i].end, m[i].pgoff};
        memcpy(desc + 16 + i * 24, v, 24);
        size_t l = strlen(m[i].path) + 1;
        memcpy(desc + off, m[i].path, l);
        off += l;
    }
    notes_add(n, NT_FILE, desc, size);
    free(desc);
}

static void notes_release(struct test_notes *n)
{
    free(n->buf);
    memset(n, 0, sizeof(*n));
}

/* Layout: Elf64_Ehdr | phdrs (PT_NOTE first, then PT_LOAD in the order
 * given) | note bytes | segment bytes, each 16-aligned. */
static struct test_image build_image(uint16_t e_type, const struct test_notes *notes,
                                     const struct test_seg *segs, size_t nsegs)
{
    size_t phnum = (notes ? 1 : 0) + nsegs;
    size_t off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    size_t note_off = off;
    if (notes)
        off = align_up(off + notes->len, 16);
    size_t *seg_off = calloc(nsegs ? nsegs : 1, sizeof(*seg_off));
    assert_non_null(seg_off);
    for (size_t i = 0; i < nsegs; i++) {
        seg_off[i] = off;
        off = align_up(off + segs[i].filesz, 16);
    }

    struct test_image img = {calloc(1, off), off};
    assert_non_null(img.buf);
    Elf64_Ehdr eh = {
        .e_type = e_type,
        .e_machine = EM_X86_64,
        .e_version = EV_CURRENT,
        .e_phoff = sizeof(Elf64_Ehdr),
        .e_ehsize = sizeof(Elf64_Ehdr),
        .e_phentsize = sizeof(Elf64_Phdr),
        .e_phnum = (uint16_t)phnum,
    };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    memcpy(img.buf, &eh, sizeof(eh));

    Elf64_Phdr *ph = (Elf64_Phdr *)(img.buf + sizeof(Elf64_Ehdr));
    size_t p = 0;
    if (notes) {
        ph[p++] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = note_off,
                               .p_filesz = notes->len, .p_align = 4};
        memcpy(img.buf + note_off, notes->buf, notes->len);
    }
    for (size_t i = 0; i < nsegs; i++) {
        const struct test_seg *s = &segs[i];
        ph[p++] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_W,
                               .p_offset = seg_off[i], .p_vaddr = s->vaddr,
                               .p_filesz = s->filesz, .p_memsz = s->memsz,
                               .p_align = 0x1000};
        for (uint64_t j = 0; j < s->filesz; j++)
            img.buf[seg_off[i] + j] = s->data ? s->data[j] : pattern_byte(s->vaddr + j);
    }
    free(seg_off);
    return img;
}

static char *test_path(const char *name)
{
    size_t len = strlen(test_dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/%s", test_dir, name);
    return path;
}

static char *write_file(const char *name, const void *buf, size_t len)
{
    char *path = test_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static char *write_image(const char *name, struct test_image img)
{
    char *path = write_file(name, img.buf, img.len);
    free(img.buf);
    return path;
}

static struct pca_target *open_ok(const char *path)
{
    struct pca_target *t = NULL;
    struct pca_error *err = pca_target_open_core(path, &t);
    if (err) {
        print_error("pca_target_open_core(%s): %s\n", path, err->message);
        pca_error_destroy(err);
        fail();
    }
    assert_non_null(t);
    return t;
}

/* The whole read must fault at `first_missing`, with both read forms. */
static void assert_fault(struct pca_target *t, uint64_t addr, size_t len,
                         uint64_t first_missing)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    struct pca_error *err = pca_target_read(t, addr, buf, len);
    assert_non_null(err);
    assert_int_equal(err->code, PCA_ERROR_FAULT);
    assert_int_equal(err->address, first_missing);
    assert_non_null(err->message);
    assert_true(err->message[0] != '\0');
    pca_error_destroy(err);
    assert_false(pca_target_try_read(t, addr, buf, len));
    free(buf);
}

/* The read must succeed and return pattern_byte of every address. */
static void assert_pattern(struct pca_target *t, uint64_t addr, size_t len)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    struct pca_error *err = pca_target_read(t, addr, buf, len);
    if (err) {
        print_error("read 0x%" PRIx64 "+%zu: %s\n", addr, len, err->message);
        pca_error_destroy(err);
        fail();
    }
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], pattern_byte(addr + i));
    memset(buf, 0, len);
    assert_true(pca_target_try_read(t, addr, buf, len));
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], pattern_byte(addr + i));
    free(buf);
}

/* Opening must fail with `code` and a message; *ret is not set. */
static void assert_open_fails(const char *path, enum pca_error_code code)
{
    struct pca_target *t = NULL;
    struct pca_error *err = pca_target_open_core(path, &t);
    assert_non_null(err);
    assert_null(t);
    assert_int_equal(err->code, code);
    assert_non_null(err->message);
    assert_true(strlen(err->message) > 0);
    pca_error_destroy(err);
}

/* ---- 1. notes ----------------------------------------------------------- */

static const uint64_t stack_vaddr = 0x7ffd0000;
static const char execfn_text[] = "/usr/bin/python3.11";

static void test_notes(void **state)
{
    (void)state;
    /* Thread 1240 took SIGSEGV in process 1234: the kernel writes the
     * faulting thread first, and its tid is not the pid. */
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1240, SIGSEGV, 0x7f00000a1740, 0x401136, 0x7ffd0800);
    notes_add_prpsinfo(&n, 1234, "python3.11");
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGSEGV;
    notes_add(&n, NT_SIGINFO, &si, sizeof(si));
    uint64_t auxv[][2] = {
        {AT_PAGESZ, 4096},
        {AT_ENTRY, 0x401020},
        {AT_EXECFN, stack_vaddr + 0xf00},
        {AT_NULL, 0},
        {AT_ENTRY, 0xdead}, /* after AT_NULL: must be ignored */
    };
    notes_add(&n, NT_AUXV, auxv, sizeof(auxv));
    notes_add_prstatus(&n, 1234, 0, 0x7f00000b2740, 0x7f0000123456, 0x7ffd0400);

    uint8_t stack[0x1000];
    for (size_t i = 0; i < sizeof(stack); i++)
        stack[i] = pattern_byte(stack_vaddr + i);
    memcpy(stack + 0xf00, execfn_text, sizeof(execfn_text));
    struct test_seg segs[] = {{stack_vaddr, 0x1000, 0x1000, stack}};
    char *path = write_image("notes.core", build_image(ET_CORE, &n, segs, 1));
    notes_release(&n);

    struct pca_target *t = open_ok(path);
    assert_string_equal(pca_target_path(t), path);
    assert_non_null(pca_target_elf(t));
    assert_int_equal(pca_target_pid(t), 1234);
    assert_int_equal(pca_target_signal(t), SIGSEGV);
    assert_int_equal(pca_target_thread_count(t), 2);
    const struct pca_target_thread *th = pca_target_threads(t);
    assert_non_null(th);
    assert_int_equal(th[0].tid, 1240);
    assert_int_equal(th[0].signal, SIGSEGV);
    assert_int_equal(th[0].fs_base, 0x7f00000a1740);
    assert_int_equal(th[0].pc, 0x401136);
    assert_int_equal(th[0].sp, 0x7ffd0800);
    assert_int_equal(th[1].tid, 1234);
    assert_int_equal(th[1].signal, 0);
    assert_int_equal(th[1].fs_base, 0x7f00000b2740);
    assert_int_equal(th[1].pc, 0x7f0000123456);
    assert_int_equal(th[1].sp, 0x7ffd0400);
    assert_non_null(pca_target_execfn(t));
    assert_string_equal(pca_target_execfn(t), execfn_text);
    assert_int_equal(pca_target_entry(t), 0x401020);
    assert_int_equal(pca_target_mapping_count(t), 0);
    assert_int_equal(pca_target_missing_bytes(t), 0);
    pca_target_destroy(t);
    free(path);
}

/* gcore-style: pr_cursig 0, the signal only in NT_SIGINFO; no NT_PRPSINFO,
 * so the pid is the first thread's. AT_EXECFN points at unsaved memory. */
static void test_notes_siginfo_only(void **state)
{
    (void)state;
    struct test_notes n = {0};
    notes_add_prstatus(&n, 77, 0, 0x1000, 0, 0);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGABRT;
    notes_add(&n, NT_SIGINFO, &si, sizeof(si));
    uint64_t auxv[][2] = {{AT_EXECFN, 0x5000}, {AT_NULL, 0}};
    notes_add(&n, NT_AUXV, auxv, sizeof(auxv));
    struct test_seg segs[] = {{0x4000, 0x2000, 0x1000, NULL}};
    char *path = write_image("siginfo.core", build_image(ET_CORE, &n, segs, 1));
    notes_release(&n);

    struct pca_target *t = open_ok(path);
    assert_int_equal(pca_target_pid(t), 77);
    assert_int_equal(pca_target_signal(t), SIGABRT);
    assert_int_equal(pca_target_thread_count(t), 1);
    assert_int_equal(pca_target_threads(t)[0].signal, 0);
    assert_null(pca_target_execfn(t)); /* 0x5000 is past p_filesz */
    assert_int_equal(pca_target_entry(t), 0);
    pca_target_destroy(t);
    free(path);
}

/* target.h: execfn is "AT_EXECFN as read from the core's memory, or the
 * NT_PRPSINFO name". Without NT_AUXV, the name must come from pr_fname. */
static void test_execfn_prpsinfo_fallback(void **state)
{
    (void)state;
    struct test_notes n = {0};
    notes_add_prstatus(&n, 9, SIGSEGV, 0, 0, 0);
    notes_add_prpsinfo(&n, 9, "python3.12");
    struct test_seg segs[] = {{0x10000, 0x1000, 0x1000, NULL}};
    char *path = write_image("prpsinfo.core", build_image(ET_CORE, &n, segs, 1));
    notes_release(&n);
    struct pca_target *t = open_ok(path);
    free(path);
    /* Copy, release, then assert: a failure must not also report leaks. */
    char execfn[32] = "(null)";
    if (pca_target_execfn(t))
        snprintf(execfn, sizeof(execfn), "%s", pca_target_execfn(t));
    pca_target_destroy(t);
    assert_string_equal(execfn, "python3.12");
}

/* ---- 2. reads ----------------------------------------------------------- */

/* a [0x10000,0x11000) and b [0x11000,0x12000) adjacent, written to the file
 * in the order b, a so they are not contiguous there; gap; c [0x20000,0x22000)
 * with only 0x800 bytes saved; d [0x30000,0x31000) holding strings. */
static const uint64_t a_start = 0x10000, b_start = 0x11000, c_start = 0x20000,
                      c_saved = 0x800, d_start = 0x30000;

static struct pca_target *open_reads_core(char **path_ret)
{
    uint8_t d[0x1000];
    for (size_t i = 0; i < sizeof(d); i++)
        d[i] = (uint8_t)('a' + i % 26);
    memcpy(d, "hello", 6);
    memcpy(d + 0x100, "", 1);
    struct test_seg segs[] = {
        {b_start, 0x1000, 0x1000, NULL},
        {a_start, 0x1000, 0x1000, NULL},
        {c_start, 0x2000, c_saved, NULL},
        {d_start, 0x1000, 0x1000, d},
    };
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1, SIGSEGV, 0, 0, 0);
    *path_ret = write_image("reads.core", build_image(ET_CORE, &n, segs, 4));
    notes_release(&n);
    return open_ok(*path_ret);
}

static void test_read_within_and_across(void **state)
{
    (void)state;
    char *path;
    struct pca_target *t = open_reads_core(&path);
    assert_pattern(t, a_start, 1);
    assert_pattern(t, a_start + 0x123, 0x200);
    assert_pattern(t, a_start, 0x1000);
    assert_pattern(t, b_start + 0xff8, 8); /* last 8 bytes of b */
    /* One read across the a|b boundary, and over both segments entirely. */
    assert_pattern(t, b_start - 8, 16);
    assert_pattern(t, a_start, 0x2000);
    assert_pattern(t, c_start, c_saved);

    uint64_t v = 0, expect = 0;
    for (int i = 7; i >= 0; i--)
        expect = expect << 8 | pattern_byte(b_start - 4 + (uint64_t)i);
    assert_true(pca_target_try_read_u64(t, b_start - 4, &v));
    assert_int_equal(v, expect);
    pca_target_destroy(t);
    free(path);
}

static void test_read_faults(void **state)
{
    (void)state;
    char *path;
    struct pca_target *t = open_reads_core(&path);
    /* Starts in b, runs past its end into unmapped space. */
    assert_fault(t, b_start + 0xff0, 0x20, b_start + 0x1000);
    /* Starts in a, crosses b, then runs off the end. */
    assert_fault(t, a_start + 0x10, 0x2000, b_start + 0x1000);
    /* Entirely in the gap; starts in the gap and runs into c. */
    assert_fault(t, 0x15000, 8, 0x15000);
    assert_fault(t, c_start - 4, 8, c_start - 4);
    /* p_filesz < p_memsz: the unsaved tail faults, never reads as zeros. */
    assert_fault(t, c_start + c_saved, 1, c_start + c_saved);
    assert_fault(t, c_start + c_saved - 8, 16, c_start + c_saved);
    assert_fault(t, c_start + 0x1ff8, 8, c_start + 0x1ff8);
    assert_fault(t, c_start + c_saved, 0x1800, c_start + c_saved);
    /* Below the first segment, above the last. */
    assert_fault(t, 0, 8, 0);
    assert_fault(t, a_start - 1, 1, a_start - 1);
    assert_fault(t, a_start - 1, 2, a_start - 1);
    assert_fault(t, d_start + 0x1000, 8, d_start + 0x1000);
    assert_fault(t, 0x7fffffffe000, 8, 0x7fffffffe000);

    /* try_read: just false, and the u64 form too. */
    uint8_t buf[16];
    assert_false(pca_target_try_read(t, c_start + c_saved, buf, 1));
    uint64_t v;
    assert_false(pca_target_try_read_u64(t, c_start + c_saved - 4, &v));
    assert_false(pca_target_try_read_u64(t, 0x15000, &v));
    pca_target_destroy(t);
    free(path);
}

static void test_view(void **state)
{
    (void)state;
    char *path;
    struct pca_target *t = open_reads_core(&path);
    const uint8_t *p = pca_target_view(t, a_start + 0x10, 0x100);
    assert_non_null(p);
    for (size_t i = 0; i < 0x100; i++)
        assert_int_equal(p[i], pattern_byte(a_start + 0x10 + i));
    p = pca_target_view(t, a_start, 0x1000);
    assert_non_null(p);
    assert_int_equal(p[0xfff], pattern_byte(a_start + 0xfff));
    p = pca_target_view(t, c_start, c_saved);
    assert_non_null(p);
    assert_int_equal(p[c_saved - 1], pattern_byte(c_start + c_saved - 1));

    /* a and b are not contiguous in the file: no single pointer. */
    assert_null(pca_target_view(t, b_start - 8, 16));
    assert_null(pca_target_view(t, a_start, 0x1001));
    /* Unsaved, unmapped, partly saved. */
    assert_null(pca_target_view(t, c_start + c_saved, 1));
    assert_null(pca_target_view(t, c_start + c_saved - 8, 16));
    assert_null(pca_target_view(t, c_start + 0x1000, 8));
    assert_null(pca_target_view(t, 0x15000, 8));
    assert_null(pca_target_view(t, 0, 8));
    assert_null(pca_target_view(t, d_start + 0x1000, 1));
    assert_null(pca_target_view(t, d_start + 0xff8, 16));
    assert_null(pca_target_view(t, d_start, SIZE_MAX));
    pca_target_destroy(t);
    free(path);
}

static void test_read_cstr(void **state)
{
    (void)state;
    char *path;
    struct pca_target *t = open_reads_core(&path);
    char buf[64];
    assert_true(pca_target_read_cstr(t, d_start, buf, sizeof(buf)));
    assert_string_equal(buf, "hello");
    assert_true(pca_target_read_cstr(t, d_start + 2, buf, sizeof(buf)));
    assert_string_equal(buf, "llo");
    assert_true(pca_target_read_cstr(t, d_start + 0x100, buf, sizeof(buf)));
    assert_string_equal(buf, "");
    /* Exactly fits: 5 chars + NUL in a buffer of 6. */
    assert_true(pca_target_read_cstr(t, d_start, buf, 6));
    assert_string_equal(buf, "hello");
    /* Too long for the buffer: false, and buf still terminated. */
    assert_false(pca_target_read_cstr(t, d_start, buf, 5));
    assert_int_equal(strnlen(buf, 5), 4);
    assert_false(pca_target_read_cstr(t, d_start + 0x101, buf, sizeof(buf)));
    assert_int_equal(strnlen(buf, sizeof(buf)), sizeof(buf) - 1);
    /* Unterminated up to the segment's end: the next byte is not in the core. */
    assert_false(pca_target_read_cstr(t, d_start + 0xff0, buf, sizeof(buf)));
    /* Unterminated up to the end of the saved part of c. */
    assert_false(pca_target_read_cstr(t, c_start + c_saved - 1, buf, sizeof(buf)));
    /* Unreadable start. */
    assert_false(pca_target_read_cstr(t, 0x15000, buf, sizeof(buf)));
    assert_false(pca_target_read_cstr(t, d_start, buf, 0));
    pca_target_destroy(t);
    free(path);
}

/* A segment at 0 and the x86-64 vsyscall page near the top: a read whose end
 * wraps past UINT64_MAX must fault, never continue at address 0. */
static void test_read_overflow(void **state)
{
    (void)state;
    const uint64_t top = 0xffffffffff600000;
    struct test_seg segs[] = {
        {0, 0x1000, 0x1000, NULL},
        {top, 0x1000, 0x1000, NULL},
    };
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1, SIGSEGV, 0, 0, 0);
    char *path = write_image("overflow.core", build_image(ET_CORE, &n, segs, 2));
    notes_release(&n);
    struct pca_target *t = open_ok(path);

    assert_pattern(t, 0, 16);
    assert_pattern(t, top + 0xff0, 16);
    assert_fault(t, top + 0xff8, 16, top + 0x1000);
    assert_fault(t, UINT64_MAX - 3, 8, UINT64_MAX - 3);
    assert_fault(t, UINT64_MAX, 1, UINT64_MAX);
    assert_fault(t, UINT64_MAX - 0xff, 0x200, UINT64_MAX - 0xff);

    /* len so large that addr + len wraps to 0x10: rejected, not read. */
    uint8_t *buf = calloc(1, 0x2000);
    assert_non_null(buf);
    size_t wrapping = (size_t)(0 - top) + 0x10;
    assert_false(pca_target_try_read(t, top, buf, wrapping));
    assert_null(pca_target_view(t, top, wrapping));
    assert_null(pca_target_view(t, UINT64_MAX - 3, 8));
    free(buf);

    char s[16];
    assert_false(pca_target_read_cstr(t, UINT64_MAX - 1, s, sizeof(s)));
    uint64_t v;
    assert_false(pca_target_try_read_u64(t, UINT64_MAX - 3, &v));
    pca_target_destroy(t);
    free(path);
}

/* ---- 3. truncated core -------------------------------------------------- */

static void test_truncated(void **state)
{
    (void)state;
    /* The last two segments in the file: b loses its last 0x300 bytes, c is
     * entirely past the end. */
    struct test_seg segs[] = {
        {0x10000, 0x1000, 0x1000, NULL},
        {0x20000, 0x1000, 0x1000, NULL},
        {0x30000, 0x2000, 0x1000, NULL},
    };
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1, SIGSEGV, 0, 0, 0);
    struct test_image img = build_image(ET_CORE, &n, segs, 3);
    notes_release(&n);
    img.len -= 0x1300;
    char *path = write_image("truncated.core", img);

    struct pca_target *t = open_ok(path);
    assert_int_equal(pca_target_missing_bytes(t), 0x1300);
    assert_pattern(t, 0x10000, 0x1000);
    assert_pattern(t, 0x20000, 0xd00);
    assert_fault(t, 0x20cf8, 16, 0x20d00);
    assert_fault(t, 0x20d00, 1, 0x20d00);
    assert_fault(t, 0x20fff, 1, 0x20fff);
    assert_fault(t, 0x30000, 8, 0x30000);
    assert_fault(t, 0x31000, 8, 0x31000);
    assert_non_null(pca_target_view(t, 0x20000, 0xd00));
    assert_null(pca_target_view(t, 0x20000, 0xd01));
    assert_null(pca_target_view(t, 0x30000, 1));
    pca_target_destroy(t);
    free(path);
}

/* ---- 4. NT_FILE fallback ------------------------------------------------ */

/* The disk file is an array of uint32 words, word k = marker | 4k: a u32 read
 * at a mapped address shows which file offset it came from. */
static const uint32_t file_marker = 0xf0000000, core_marker = 0xc0000000;
static const size_t lib_size = 0x4800;

static uint32_t read_u32(struct pca_target *t, uint64_t addr)
{
    uint32_t v = 0;
    struct pca_error *err = pca_target_read(t, addr, &v, sizeof(v));
    if (err) {
        print_error("read 0x%" PRIx64 ": %s\n", addr, err->message);
        pca_error_destroy(err);
        fail();
    }
    return v;
}

static void test_nt_file(void **state)
{
    (void)state;
    uint32_t *words = malloc(lib_size);
    assert_non_null(words);
    for (size_t k = 0; k < lib_size / 4; k++)
        words[k] = file_marker | (uint32_t)(k * 4);
    char *lib_path = write_file("libfoo.so", words, lib_size);
    free(words);

    /* The kernel saved the first page of the first mapping (ELF header). */
    uint32_t head[0x1000 / 4];
    for (size_t k = 0; k < 0x1000 / 4; k++)
        head[k] = core_marker | (uint32_t)(k * 4);
    struct test_file_map maps[] = {
        {0x400000, 0x403000, 0, "/usr/lib/libfoo.so"},
        {0x600000, 0x603000, 2, "/usr/lib/libfoo.so"},
        {0x700000, 0x701000, 0, "/usr/lib/other.so"},
    };
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1, SIGSEGV, 0, 0, 0);
    notes_add_file(&n, maps, 3, 0x1000);
    struct test_seg segs[] = {
        {0x400000, 0x3000, 0x1000, (const uint8_t *)head},
        {0x600000, 0x3000, 0, NULL},
        {0x700000, 0x1000, 0, NULL},
    };
    char *path = write_image("ntfile.core", build_image(ET_CORE, &n, segs, 3));
    notes_release(&n);

    struct pca_target *t = open_ok(path);
    assert_int_equal(pca_target_mapping_count(t), 3);
    const struct pca_target_mapping *m = pca_target_mappings(t);
    assert_int_equal(m[0].start, 0x400000);
    assert_int_equal(m[0].end, 0x403000);
    assert_int_equal(m[0].file_offset, 0);
    assert_string_equal(m[0].path, "/usr/lib/libfoo.so");
    assert_int_equal(m[1].start, 0x600000);
    assert_int_equal(m[1].end, 0x603000);
    assert_int_equal(m[1].file_offset, 0x2000);
    assert_string_equal(m[1].path, "/usr/lib/libfoo.so");
    assert_string_equal(m[2].path, "/usr/lib/other.so");

    /* Before attaching: only the saved page reads. */
    assert_int_equal(read_u32(t, 0x400010), core_marker | 0x10);
    assert_fault(t, 0x401000, 4, 0x401000);
    assert_fault(t, 0x400ffc, 8, 0x401000);
    assert_fault(t, 0x600000, 4, 0x600000);

    /* An address outside every mapping: no-op. */
    assert_null(pca_target_attach_file(t, 0x500000, lib_path));
    assert_fault(t, 0x401000, 4, 0x401000);
    /* A file that cannot be opened: an OS error, nothing attached. */
    char *nowhere = test_path("does-not-exist.so");
    struct pca_error *err = pca_target_attach_file(t, 0x700000, nowhere);
    assert_non_null(err);
    assert_int_equal(err->code, PCA_ERROR_OS);
    assert_true(strlen(err->message) > 0);
    pca_error_destroy(err);
    free(nowhere);
    assert_fault(t, 0x700000, 4, 0x700000);

    assert_null(pca_target_attach_file(t, 0x401234, lib_path));
    /* Saved bytes still come from the core. */
    assert_int_equal(read_u32(t, 0x400010), core_marker | 0x10);
    /* Mapping 0 (pgoff 0): file offset = addr - start. */
    assert_int_equal(read_u32(t, 0x401000), file_marker | 0x1000);
    assert_int_equal(read_u32(t, 0x402ffc), file_marker | 0x2ffc);
    uint32_t two[2];
    assert_null(pca_target_read(t, 0x400ffc, two, sizeof(two)));
    assert_int_equal(two[0], core_marker | 0xffc);
    assert_int_equal(two[1], file_marker | 0x1000);
    /* The mapping ends at 0x403000 even though the file goes on. */
    assert_fault(t, 0x402ffc, 8, 0x403000);
    /* Mapping 1 of the same file (pgoff 2 pages): offset 0x2000 + (addr - start). */
    assert_int_equal(read_u32(t, 0x600000), file_marker | 0x2000);
    assert_int_equal(read_u32(t, 0x601010), file_marker | 0x3010);
    assert_int_equal(read_u32(t, 0x6027fc), file_marker | 0x47fc);
    /* Past the end of the file (0x4800 = 0x2000 + 0x2800). */
    assert_fault(t, 0x6027fc, 8, 0x602800);
    assert_fault(t, 0x602800, 4, 0x602800);
    assert_fault(t, 0x602ffc, 4, 0x602ffc);
    /* The other file was never attached. */
    assert_fault(t, 0x700000, 4, 0x700000);
    /* Attaching the same file again is harmless. */
    assert_null(pca_target_attach_file(t, 0x600000, lib_path));
    assert_int_equal(read_u32(t, 0x601010), file_marker | 0x3010);
    pca_target_destroy(t);
    free(path);
    free(lib_path);
}

/* ---- 5. bad input ------------------------------------------------------- */

static void test_bad_files(void **state)
{
    (void)state;
    char *p = write_file("empty", "", 0);
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    uint8_t zeros[10] = {0};
    p = write_file("zeros", zeros, sizeof(zeros));
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    p = write_file("short.txt", "hello\n", 6);
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    static const char text[] =
        "This is a text file, long enough to hold an ELF header if it were one.\n"
        "It is not.\n";
    p = write_file("long.txt", text, sizeof(text) - 1);
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    /* Just the ELF magic, then garbage. */
    uint8_t magic[128];
    memset(magic, 0xff, sizeof(magic));
    memcpy(magic, ELFMAG, SELFMAG);
    p = write_file("magic-only", magic, sizeof(magic));
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    if (access("/bin/true", R_OK) == 0)
        assert_open_fails("/bin/true", PCA_ERROR_FORMAT);

    p = test_path("missing.core");
    assert_open_fails(p, PCA_ERROR_OS);
    free(p);
    assert_open_fails(test_dir, PCA_ERROR_OS);
}

static void test_bad_elf(void **state)
{
    (void)state;
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1, SIGSEGV, 0, 0, 0);
    struct test_seg segs[] = {{0x10000, 0x1000, 0x1000, NULL}};

    /* A well-formed image, but an executable. */
    char *p = write_image("exec.elf", build_image(ET_EXEC, &n, segs, 1));
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    /* Not x86-64. */
    struct test_image img = build_image(ET_CORE, &n, segs, 1);
    ((Elf64_Ehdr *)img.buf)->e_machine = EM_AARCH64;
    p = write_image("aarch64.core", img);
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);
    notes_release(&n);

    /* Notes, but no NT_PRSTATUS; then no notes at all. */
    notes_add_prpsinfo(&n, 42, "python3");
    p = write_image("nothreads.core", build_image(ET_CORE, &n, segs, 1));
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);
    p = write_image("nonotes.core", build_image(ET_CORE, NULL, segs, 1));
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);

    /* An NT_PRSTATUS too short to hold the struct is not a thread. */
    uint8_t shortdesc[16] = {0};
    notes_add(&n, NT_PRSTATUS, shortdesc, sizeof(shortdesc));
    p = write_image("shortprstatus.core", build_image(ET_CORE, &n, segs, 1));
    assert_open_fails(p, PCA_ERROR_FORMAT);
    free(p);
    notes_release(&n);
}

/* Notes whose sizes lie: the reader must not read past the note segment or
 * believe a count it cannot hold. */
static void test_hostile_notes(void **state)
{
    (void)state;
    struct test_seg segs[] = {{0x10000, 0x1000, 0x1000, NULL}};

    struct test_notes n = {0};
    notes_add_prstatus(&n, 5, SIGSEGV, 0, 0, 0);
    /* NT_FILE claiming 2^60 mappings in 16 bytes. */
    uint64_t file_head[2] = {UINT64_C(1) << 60, 0x1000};
    notes_add(&n, NT_FILE, file_head, sizeof(file_head));
    /* NT_AUXV that ends mid-entry. */
    uint64_t auxv[3] = {AT_ENTRY, 0x401000, AT_EXECFN};
    notes_add(&n, NT_AUXV, auxv, sizeof(auxv));
    /* Last: a note whose descsz runs past the end of the segment. */
    notes_add_raw(&n, NT_PRSTATUS, NULL, 0x10000000, 0);
    char *p = write_image("hostile.core", build_image(ET_CORE, &n, segs, 1));
    notes_release(&n);
    struct pca_target *t = open_ok(p);
    assert_int_equal(pca_target_thread_count(t), 1);
    assert_int_equal(pca_target_mapping_count(t), 0);
    assert_int_equal(pca_target_entry(t), 0x401000);
    assert_null(pca_target_execfn(t));
    pca_target_destroy(t);
    free(p);

    /* NT_FILE whose names run out before its count: only named mappings. */
    struct test_file_map maps[] = {{0x400000, 0x401000, 0, "/a"}};
    notes_add_prstatus(&n, 5, SIGSEGV, 0, 0, 0);
    size_t size = 16 + 2 * 24 + 3;
    uint8_t *desc = calloc(1, size);
    assert_non_null(desc);
    uint64_t v[8] = {2, 0x1000, maps[0].start, maps[0].end, 0, 0x500000, 0x501000, 0};
    memcpy(desc, v, sizeof(v));
    memcpy(desc + 16 + 48, "/a", 3);
    notes_add(&n, NT_FILE, desc, size);
    free(desc);
    p = write_image("hostile-file.core", build_image(ET_CORE, &n, segs, 1));
    notes_release(&n);
    t = open_ok(p);
    assert_int_equal(pca_target_mapping_count(t), 1);
    assert_string_equal(pca_target_mappings(t)[0].path, "/a");
    pca_target_destroy(t);
    free(p);
}

/* Every byte of the headers and notes of the test_notes core, replaced by a
 * few values: open either fails with an error or succeeds and reads; ASan
 * and LSan catch the rest. */
static void test_header_mutations(void **state)
{
    (void)state;
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1240, SIGSEGV, 0x7f00000a1740, 0, 0);
    notes_add_prpsinfo(&n, 1234, "python3");
    uint64_t auxv[][2] = {{AT_EXECFN, stack_vaddr + 0xf00}, {AT_NULL, 0}};
    notes_add(&n, NT_AUXV, auxv, sizeof(auxv));
    struct test_file_map maps[] = {{0x400000, 0x401000, 1, "/usr/lib/libfoo.so"}};
    notes_add_file(&n, maps, 1, 0x1000);
    struct test_seg segs[] = {
        {stack_vaddr, 0x1000, 0x1000, NULL},
        {0x400000, 0x1000, 0, NULL},
    };
    struct test_image img = build_image(ET_CORE, &n, segs, 2);
    size_t header_len = sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr) + n.len;
    notes_release(&n);
    char *p = test_path("mutated.core");
    const uint8_t values[] = {0x00, 0xff, 0x7f, 0x80};
    uint8_t buf[16];
    for (size_t i = 0; i < header_len; i++) {
        uint8_t saved = img.buf[i];
        for (size_t k = 0; k < sizeof(values); k++) {
            if (values[k] == saved)
                continue;
            img.buf[i] = values[k];
            FILE *f = fopen(p, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(img.buf, 1, img.len, f), img.len);
            assert_int_equal(fclose(f), 0);
            struct pca_target *t = NULL;
            struct pca_error *err = pca_target_open_core(p, &t);
            if (err) {
                assert_null(t);
                assert_true(err->code == PCA_ERROR_FORMAT || err->code == PCA_ERROR_OS);
                assert_true(strlen(err->message) > 0);
                pca_error_destroy(err);
                continue;
            }
            assert_true(pca_target_thread_count(t) >= 1);
            (void)pca_target_try_read(t, stack_vaddr, buf, sizeof(buf));
            (void)pca_target_read_cstr(t, stack_vaddr + 0xf00, (char *)buf, sizeof(buf));
            err = pca_target_read(t, 0x400000, buf, sizeof(buf));
            pca_error_destroy(err);
            pca_target_destroy(t);
        }
        img.buf[i] = saved;
    }
    free(p);
    free(img.buf);
}

/* A core that another process truncates while we read it: the first touch
 * of a lost page (SIGBUS on a mapped file) reads zeros and marks the target
 * shrunk; from then on the lost part is unsaved memory (faults). */
static void test_shrinking(void **state)
{
    (void)state;
    struct test_seg segs[] = {
        {0x10000, 0x4000, 0x4000, NULL},
        {0x20000, 0x4000, 0x4000, NULL},
        {0x30000, 0x4000, 0x4000, NULL},
    };
    struct test_notes n = {0};
    notes_add_prstatus(&n, 1, SIGSEGV, 0, 0, 0);
    char *path = write_image("shrinking.core", build_image(ET_CORE, &n, segs, 3));
    notes_release(&n);
    struct pca_target *t = open_ok(path);
    assert_false(pca_target_shrunk(t));
    assert_pattern(t, 0x30000, 0x4000);
    assert_int_equal(truncate(path, 0x1000), 0);
    /* A view taken before the target knows: touching it must not kill us. */
    const volatile uint8_t *v = pca_target_view(t, 0x30000, 0x100);
    assert_non_null(v);
    uint8_t sum = 0;
    for (size_t i = 0; i < 0x100; i++)
        sum |= v[i];
    assert_int_equal(sum, 0);
    assert_true(pca_target_shrunk(t));
    assert_fault(t, 0x30000, 8, 0x30000);
    assert_null(pca_target_view(t, 0x20000, 8));
    /* The geometry callers index by is that of the opened core. */
    uint64_t vaddr, saved;
    pca_target_segment(t, 2, &vaddr, &saved);
    assert_int_equal(saved, 0x4000);
    pca_target_destroy(t);
    free(path);
}

/* A FIFO (or any non-regular file) is refused at once, never waited on. */
static void test_fifo(void **state)
{
    (void)state;
    char *path = test_path("fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10); /* a hang fails the test instead of blocking the suite */
    assert_open_fails(path, PCA_ERROR_OS);
    assert_open_fails(test_dir, PCA_ERROR_OS);
    alarm(0);
    free(path);
}

/* ---- fixture ------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t len = strlen(base) + sizeof("/pca-test-target-XXXXXX");
    test_dir = malloc(len);
    if (!test_dir)
        return -1;
    snprintf(test_dir, len, "%s/pca-test-target-XXXXXX", base);
    if (!mkdtemp(test_dir)) {
        perror("mkdtemp");
        free(test_dir);
        test_dir = NULL;
        return -1;
    }
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    if (test_dir) {
        nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(test_dir);
        test_dir = NULL;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_notes_siginfo_only),
        cmocka_unit_test(test_execfn_prpsinfo_fallback),
        cmocka_unit_test(test_read_within_and_across),
        cmocka_unit_test(test_read_faults),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_read_cstr),
        cmocka_unit_test(test_read_overflow),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_nt_file),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_elf),
        cmocka_unit_test(test_hostile_notes),
        cmocka_unit_test(test_header_mutations),
        cmocka_unit_test(test_shrinking),
        cmocka_unit_test(test_fifo),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

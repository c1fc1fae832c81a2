/* test_objects.c: objects/ sizes (sys.getsizeof rules), referents and
 * previews on a synthetic core.
 *
 * Each test builds a small Python heap by hand in one memory segment (type
 * objects, ints, strs, containers, instances), writes it as an ET_CORE image
 * with one PT_LOAD, opens it with pca_target_open_core and runs objects/ over
 * it with a hand-filled layout standing in for the DWARF: offsets invented
 * for this world (objects/ may only use what the layout says), two versions'
 * rules ("3.12": lv_tag ints, 3.11+ dict keys, managed dicts, GC head by type
 * flag; "3.10": ob_size ints, dk_size keys, tp_dictoffset). Expected sizes
 * are worked out from CPython's __sizeof__ code in the comments, and match
 * what sys.getsizeof gives for the same objects on x86-64 where the struct
 * sizes are the real ones ({'a': 1} is 184 on 3.12 and 232 on 3.10). */
#include <elf.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "objects/objects.h"

/* ---- the synthetic heap ------------------------------------------------- */

enum { BASE = 0x100000, MEM = 0x20000 };
static const uint64_t subtype_traverse_addr = 0x4000d0; /* a "function" address */

/* Include/object.h flags */
enum {
    HEAPTYPE = 1 << 9,
    HAVE_GC = 1 << 14,
    MANAGED_DICT = 1 << 4,
    MANAGED_WEAKREF = 1 << 3,
};

/* Offsets of this world (the layout below says them to objects/). */
enum {
    TP_NAME = 24, TP_BASICSIZE = 32, TP_ITEMSIZE = 40, TP_FLAGS = 48, TP_DICTOFFSET = 56,
    TP_BASE = 64, TP_DICT = 72, TP_TRAVERSE = 80, TP_METHODS = 88, HT_QUALNAME = 96,
    HT_CACHED_KEYS = 104, TYPE_SIZE = 408, HEAPTYPE_SIZE = 920, MEMBERDEF_SIZE = 40,
};

struct world {
    int minor; /* 12 or 10 */
    uint8_t mem[MEM];
    uint64_t next;
    /* static types */
    uint64_t type, object, int_, str, bytes, tuple, list, dict, set;
    uint64_t set_dummy;
    char *path;
    struct pca_target *target;
    struct pca_layout layout;
    struct pca_c_type c_types[1];
    struct pca_object_layout ol;
    struct pca_interp interp;
    struct pca_objects objects;
};

static char *test_dir;

static uint64_t alloc(struct world *w, uint64_t size)
{
    /* 16 bytes of slack before each object: room for a 3.12 pre-header */
    uint64_t addr = w->next + 32;
    w->next = (addr + size + 15) & ~15ull;
    assert_true(w->next - BASE <= MEM);
    return addr;
}

static void put(struct world *w, uint64_t addr, uint64_t v, size_t size)
{
    assert_true(addr >= BASE && addr + size <= BASE + MEM);
    memcpy(w->mem + (addr - BASE), &v, size);
}
static void put64(struct world *w, uint64_t addr, uint64_t v) { put(w, addr, v, 8); }

static uint64_t cstr(struct world *w, const char *s)
{
    uint64_t a = alloc(w, strlen(s) + 1);
    memcpy(w->mem + (a - BASE), s, strlen(s) + 1);
    return a;
}

static uint64_t object(struct world *w, uint64_t type, uint64_t size)
{
    uint64_t a = alloc(w, size);
    put64(w, a, 1);
    put64(w, a + 8, type);
    return a;
}

static uint64_t new_type(struct world *w, const char *name, uint64_t basicsize, uint64_t itemsize,
                         uint64_t flags, uint64_t base)
{
    uint64_t t = object(w, w->type, (flags & HEAPTYPE) ? HEAPTYPE_SIZE + 2 * MEMBERDEF_SIZE
                                                        : TYPE_SIZE);
    put64(w, t + TP_NAME, cstr(w, name));
    put64(w, t + TP_BASICSIZE, basicsize);
    put64(w, t + TP_ITEMSIZE, itemsize);
    put64(w, t + TP_FLAGS, flags);
    put64(w, t + TP_BASE, base);
    return t;
}

/* A compact str; kind 1 ASCII when every char is < 128. */
static uint64_t str(struct world *w, const char *s)
{
    size_t n = strlen(s);
    uint64_t a = object(w, w->str, 40 + n + 1);
    put64(w, a + 16, n);
    /* state: kind 1 (bits 2-4), compact (bit 5), ascii (bit 6) */
    put(w, a + 32, (1u << 2) | (1u << 5) | (1u << 6), 4);
    memcpy(w->mem + (a + 40 - BASE), s, n + 1);
    return a;
}

/* A Python class (heap type) deriving from object. */
static uint64_t py_class(struct world *w, const char *name, uint64_t basicsize, uint64_t flags,
                         int64_t dictoffset)
{
    uint64_t t = new_type(w, name, basicsize, 0, HEAPTYPE | HAVE_GC | flags, w->object);
    put64(w, t + TP_DICTOFFSET, (uint64_t)dictoffset);
    put64(w, t + TP_TRAVERSE, subtype_traverse_addr);
    put64(w, t + HT_QUALNAME, str(w, name));
    return t;
}

static void field(struct pca_layout *l, enum pca_field f, uint64_t offset, uint64_t size)
{
    l->fields[f] = (struct pca_layout_field){.present = true, .offset = offset, .size = size};
}

static void bitfield(struct pca_layout *l, enum pca_field f, uint64_t offset, uint32_t bit,
                     uint32_t bits)
{
    l->fields[f] = (struct pca_layout_field){.present = true, .offset = offset, .size = 4,
                                             .bit_offset = bit, .bit_size = bits};
}

/* What the DWARF of each version would give (sizes of the real structs on
 * x86-64; offsets of this world). */
static void fill_layout(struct world *w)
{
    struct pca_layout *l = &w->layout;
    bool v312 = w->minor >= 12;
    memset(l, 0, sizeof(*l));
    l->major = 3;
    l->minor = w->minor;
    snprintf(l->version, sizeof(l->version), "3.%d.0", w->minor);
    l->sizes[PCA_S_OBJECT] = 16;
    l->sizes[PCA_S_VAROBJECT] = 24;
    l->sizes[PCA_S_TYPE] = TYPE_SIZE;
    l->sizes[PCA_S_HEAPTYPE] = HEAPTYPE_SIZE;
    l->sizes[PCA_S_GC_HEAD] = 16;
    l->sizes[PCA_S_METHODDEF] = 32;
    l->sizes[PCA_S_MEMBERDEF] = MEMBERDEF_SIZE;
    l->sizes[PCA_S_ASCII] = 40;
    l->sizes[PCA_S_COMPACT_UNICODE] = 56;
    l->sizes[PCA_S_UNICODE] = 64;
    l->sizes[PCA_S_DICT_ENTRY] = 24;
    l->sizes[PCA_S_SET_ENTRY] = 16;
    field(l, PCA_F_OB_REFCNT, 0, 8);
    field(l, PCA_F_OB_TYPE, 8, 8);
    field(l, PCA_F_OB_SIZE, 16, 8);
    field(l, PCA_F_TP_NAME, TP_NAME, 8);
    field(l, PCA_F_TP_BASICSIZE, TP_BASICSIZE, 8);
    field(l, PCA_F_TP_ITEMSIZE, TP_ITEMSIZE, 8);
    field(l, PCA_F_TP_FLAGS, TP_FLAGS, 8);
    field(l, PCA_F_TP_DICTOFFSET, TP_DICTOFFSET, 8);
    field(l, PCA_F_TP_BASE, TP_BASE, 8);
    field(l, PCA_F_TP_DICT, TP_DICT, 8);
    field(l, PCA_F_TP_TRAVERSE, TP_TRAVERSE, 8);
    field(l, PCA_F_TP_METHODS, TP_METHODS, 8);
    field(l, PCA_F_HT_QUALNAME, HT_QUALNAME, 8);
    field(l, PCA_F_HT_CACHED_KEYS, HT_CACHED_KEYS, 8);
    field(l, PCA_F_MEMBERDEF_NAME, 0, 8);
    field(l, PCA_F_MEMBERDEF_TYPE, 8, 4);
    field(l, PCA_F_MEMBERDEF_OFFSET, 16, 8);
    /* int: 3.12 lv_tag then digits; before, ob_size then digits */
    field(l, PCA_F_LONG_DIGITS, 24, 4);
    if (v312)
        field(l, PCA_F_LONG_TAG, 16, 8);
    l->long_min_one_digit = v312;
    /* str */
    field(l, PCA_F_UNICODE_LENGTH, 16, 8);
    bitfield(l, PCA_F_UNICODE_KIND, 32, 2, 3);
    bitfield(l, PCA_F_UNICODE_COMPACT, 32, 5, 1);
    bitfield(l, PCA_F_UNICODE_ASCII, 32, 6, 1);
    field(l, PCA_F_UNICODE_UTF8_LENGTH, 40, 8);
    field(l, PCA_F_UNICODE_UTF8, 48, 8);
    field(l, PCA_F_UNICODE_DATA, 56, 8);
    field(l, PCA_F_BYTES_SVAL, 32, 1);
    /* tuple, list, set */
    field(l, PCA_F_TUPLE_ITEMS, 24, 8);
    field(l, PCA_F_LIST_ITEMS, 24, 8);
    field(l, PCA_F_LIST_ALLOCATED, 32, 8);
    field(l, PCA_F_SET_USED, 24, 8);
    field(l, PCA_F_SET_MASK, 32, 8);
    field(l, PCA_F_SET_TABLE, 40, 8);
    field(l, PCA_F_SET_SMALLTABLE, 64, 128);
    /* dict */
    field(l, PCA_F_DICT_USED, 16, 8);
    field(l, PCA_F_DICT_KEYS, 32, 8);
    field(l, PCA_F_DICT_VALUES, 40, 8);
    field(l, PCA_F_DK_REFCNT, 0, 8);
    field(l, PCA_F_DK_ENTRY_KEY, 8, 8);
    field(l, PCA_F_DK_ENTRY_VALUE, 16, 8);
    if (v312) {
        l->sizes[PCA_S_DICT_KEYS] = 32;
        l->sizes[PCA_S_DICT_UNICODE_ENTRY] = 16;
        field(l, PCA_F_DK_LOG2_SIZE, 8, 1);
        field(l, PCA_F_DK_LOG2_INDEX_BYTES, 9, 1);
        field(l, PCA_F_DK_KIND, 10, 1);
        field(l, PCA_F_DK_USABLE, 16, 8);
        field(l, PCA_F_DK_NENTRIES, 24, 8);
        field(l, PCA_F_DK_INDICES, 32, 0);
        field(l, PCA_F_DK_UENTRY_KEY, 0, 8);
        field(l, PCA_F_DK_UENTRY_VALUE, 8, 8);
        field(l, PCA_F_DICT_VALUES_VALUES, 0, 0);
        l->sizeof_gc_by_type_flag = true;
        l->tpflags_preheader = MANAGED_DICT | MANAGED_WEAKREF;
        l->managed_dict = PCA_MANAGED_DICT_312;
    } else {
        l->sizes[PCA_S_DICT_KEYS] = 40;
        field(l, PCA_F_DK_SIZE, 8, 8);
        field(l, PCA_F_DK_USABLE, 24, 8);
        field(l, PCA_F_DK_NENTRIES, 32, 8);
        field(l, PCA_F_DK_INDICES, 40, 0);
        l->managed_dict = PCA_MANAGED_DICT_NONE;
    }

    struct pca_object_layout *ol = &w->ol;
    memset(ol, 0, sizeof(*ol));
    ol->type_type = w->type;
    ol->object_type = w->object;
    ol->subtype_traverse = subtype_traverse_addr;
    ol->set_dummy = w->set_dummy;
    ol->tpflags_heaptype = HEAPTYPE;
    ol->tpflags_have_gc = HAVE_GC;
    ol->tpflags_managed_dict = v312 ? MANAGED_DICT : 0;
    ol->preheader_size = v312 ? 16 : 0;
    ol->managed_dict_back = 24;
    ol->managed_values_back = 32;
    ol->member_t_object_ex = 16;
    /* type_traverse visits tp_dict and tp_base (of heap types) */
    w->c_types[0] = (struct pca_c_type){.tp_name = "type", .nmembers = 2,
                                        .member_offsets = {TP_DICT, TP_BASE}};
    ol->c_types = w->c_types;
    ol->nc_types = 1;
}

/* The static types every test has. */
static struct world *world_new(int minor)
{
    struct world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->minor = minor;
    w->next = BASE;
    /* `type` is its own type: allocate, then point ob_type at itself */
    w->type = alloc(w, TYPE_SIZE);
    put64(w, w->type + 8, w->type);
    w->object = new_type(w, "object", 16, 0, 0, 0);
    put64(w, w->type + TP_NAME, cstr(w, "type"));
    put64(w, w->type + TP_BASICSIZE, HEAPTYPE_SIZE);
    put64(w, w->type + TP_ITEMSIZE, MEMBERDEF_SIZE);
    put64(w, w->type + TP_FLAGS, HAVE_GC);
    put64(w, w->type + TP_BASE, w->object);
    w->int_ = new_type(w, "int", 24, 4, 0, w->object);
    w->str = new_type(w, "str", 64, 0, 0, w->object);
    w->bytes = new_type(w, "bytes", 33, 1, 0, w->object);
    w->tuple = new_type(w, "tuple", 24, 8, HAVE_GC, w->object);
    w->list = new_type(w, "list", 40, 0, HAVE_GC, w->object);
    w->dict = new_type(w, "dict", 48, 0, HAVE_GC, w->object);
    w->set = new_type(w, "set", 200, 0, HAVE_GC, w->object);
    w->set_dummy = object(w, w->object, 16);
    return w;
}

/* Write the image (ELF header, PT_NOTE with one thread, PT_LOAD with the
 * heap), open it, start objects/. */
static void world_open(struct world *w)
{
    uint64_t filesz = w->next - BASE;
    size_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    size_t note_len = sizeof(Elf64_Nhdr) + 8 + ((sizeof(struct elf_prstatus) + 3) & ~(size_t)3);
    size_t off = (note_off + note_len + 15) & ~(size_t)15;
    size_t len = off + filesz;
    uint8_t *img = calloc(1, len);
    assert_non_null(img);
    Elf64_Ehdr eh = {
        .e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
        .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
        .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
    };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(img, &eh, sizeof(eh));
    Elf64_Phdr ph = {.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = off,
                     .p_vaddr = BASE, .p_filesz = filesz, .p_memsz = filesz, .p_align = 0x1000};
    Elf64_Phdr note = {.p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_len, .p_align = 4};
    memcpy(img + sizeof(eh), &note, sizeof(note));
    memcpy(img + sizeof(eh) + sizeof(note), &ph, sizeof(ph));
    Elf64_Nhdr nh = {.n_namesz = 5, .n_descsz = sizeof(struct elf_prstatus), .n_type = NT_PRSTATUS};
    struct elf_prstatus st;
    memset(&st, 0, sizeof(st));
    st.pr_pid = 1;
    memcpy(img + note_off, &nh, sizeof(nh));
    memcpy(img + note_off + sizeof(nh), "CORE\0\0\0\0", 8);
    memcpy(img + note_off + sizeof(nh) + 8, &st, sizeof(st));
    memcpy(img + off, w->mem, filesz);
    w->path = malloc(strlen(test_dir) + 16);
    assert_non_null(w->path);
    sprintf(w->path, "%s/core.%d", test_dir, w->minor);
    FILE *f = fopen(w->path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(img);

    struct pca_error *err = pca_target_open_core(w->path, &w->target);
    if (err) {
        print_error("open %s: %s\n", w->path, err->message);
        pca_error_destroy(err);
        fail();
    }
    fill_layout(w);
    w->interp = (struct pca_interp){.target = w->target, .layout = &w->layout,
                                    .unicode_type = w->str, .bytes_type = w->bytes,
                                    .owner_generator = -1};
    err = pca_objects_init_layout(&w->objects, &w->interp, &w->ol);
    assert_null(err);
}

static void world_free(struct world *w)
{
    pca_objects_deinit(&w->objects);
    pca_target_destroy(w->target);
    unlink(w->path);
    free(w->path);
    free(w);
}

/* ---- queries -------------------------------------------------------- */

static struct pca_type_info *type_of(struct world *w, uint64_t obj)
{
    uint64_t t;
    memcpy(&t, w->mem + (obj + 8 - BASE), 8);
    struct pca_type_info *info = pca_objects_type(&w->objects, t);
    assert_non_null(info);
    return info;
}

static uint64_t size_of(struct world *w, uint64_t obj)
{
    uint64_t size = 0;
    assert_true(pca_objects_sizeof(&w->objects, obj, type_of(w, obj), &size));
    return size;
}

struct refs {
    uint64_t v[64];
    size_t n;
};

static void collect(void *ctx, uint64_t referent)
{
    struct refs *r = ctx;
    assert_true(r->n < 64);
    r->v[r->n++] = referent;
}

/* The referents of obj must be exactly `expected` (n of them), in order. */
static void assert_referents(struct world *w, uint64_t obj, const uint64_t *expected, size_t n)
{
    struct refs r = {.n = 0};
    pca_objects_referents(&w->objects, obj, type_of(w, obj), collect, &r);
    for (size_t i = 0; i < r.n && i < n; i++)
        if (r.v[i] != expected[i]) {
            print_error("referent %zu of 0x%llx: 0x%llx, expected 0x%llx\n", i,
                        (unsigned long long)obj, (unsigned long long)r.v[i],
                        (unsigned long long)expected[i]);
            fail();
        }
    assert_int_equal(r.n, n);
}

static void assert_preview(struct world *w, uint64_t obj, const char *expected)
{
    char buf[128];
    pca_preview(&w->objects, obj, type_of(w, obj), buf, sizeof(buf));
    assert_string_equal(buf, expected);
}

/* ---- ints ------------------------------------------------------------ */

/* 3.12: lv_tag = ndigits << 3 | sign (0 positive, 1 zero, 2 negative). */
static uint64_t int312(struct world *w, uint64_t ndigits, unsigned sign, uint32_t digit0)
{
    uint64_t a = object(w, w->int_, 24 + 4 * (ndigits ? ndigits : 1));
    put64(w, a + 16, ndigits << 3 | sign);
    put(w, a + 24, digit0, 4);
    return a;
}

/* 3.6-3.11: ob_size = +-ndigits. */
static uint64_t int310(struct world *w, int64_t ob_size, uint32_t digit0)
{
    uint64_t n = (uint64_t)(ob_size < 0 ? -ob_size : ob_size);
    uint64_t a = object(w, w->int_, 24 + 4 * (n ? n : 1));
    put64(w, a + 16, (uint64_t)ob_size);
    put(w, a + 24, digit0, 4);
    return a;
}

static void test_int_312(void **state)
{
    (void)state;
    struct world *w = world_new(12);
    uint64_t zero = int312(w, 0, 1, 0), five = int312(w, 1, 0, 5), minus = int312(w, 1, 2, 5);
    uint64_t big = int312(w, 2, 0, 1), huge = int312(w, 5, 2, 1);
    world_open(w);
    /* int___sizeof___impl: offsetof(ob_digit) + 4 * max(ndigits, 1); no GC */
    assert_int_equal(size_of(w, zero), 28);
    assert_int_equal(size_of(w, five), 28);
    assert_int_equal(size_of(w, minus), 28);
    assert_int_equal(size_of(w, big), 32);
    assert_int_equal(size_of(w, huge), 44);
    assert_preview(w, zero, "0");
    assert_preview(w, five, "5");
    assert_preview(w, minus, "-5");
    assert_preview(w, big, "an int of 2 digits (30 bits each)");
    struct pca_int_value v;
    assert_true(pca_objects_int(&w->objects, huge, &v));
    assert_int_equal(v.ndigits, 5);
    assert_true(v.negative);
    assert_false(v.small);
    assert_true(pca_objects_int(&w->objects, minus, &v));
    assert_true(v.small && v.negative);
    assert_int_equal(v.digit, 5);
    /* an int refers to nothing but its (static) type, not counted */
    const uint64_t refs[] = {w->int_ | PCA_REFERENT_EXTRA};
    assert_referents(w, five, refs, 1);
    assert_int_equal(type_of(w, five)->kind, PCA_KIND_INT);
    world_free(w);
}

static void test_int_310(void **state)
{
    (void)state;
    struct world *w = world_new(10);
    uint64_t zero = int310(w, 0, 0), seven = int310(w, 1, 7), minus = int310(w, -1, 7);
    uint64_t big = int310(w, -2, 1);
    world_open(w);
    /* before 3.11 zero has no digit: 24 bytes */
    assert_int_equal(size_of(w, zero), 24);
    assert_int_equal(size_of(w, seven), 28);
    assert_int_equal(size_of(w, minus), 28);
    assert_int_equal(size_of(w, big), 32);
    assert_preview(w, zero, "0");
    assert_preview(w, seven, "7");
    assert_preview(w, minus, "-7");
    assert_preview(w, big, "an int of 2 digits (30 bits each)");
    struct pca_int_value v;
    assert_true(pca_objects_int(&w->objects, big, &v));
    assert_int_equal(v.ndigits, 2);
    assert_true(v.negative);
    world_free(w);
}

/* ---- str, bytes ------------------------------------------------------ */

static void test_str_bytes(void **state)
{
    (void)state;
    struct world *w = world_new(12);
    uint64_t hello = str(w, "hello");
    /* compact, not ASCII: kind 2 (UCS-2), 3 characters, with a UTF-8 copy */
    uint64_t ucs2 = object(w, w->str, 56 + 8);
    put64(w, ucs2 + 16, 3);
    put(w, ucs2 + 32, (2u << 2) | (1u << 5), 4);
    uint64_t ucs2_utf8 = object(w, w->str, 56 + 8);
    put64(w, ucs2_utf8 + 16, 3);
    put(w, ucs2_utf8 + 32, (2u << 2) | (1u << 5), 4);
    put64(w, ucs2_utf8 + 40, 6);
    put64(w, ucs2_utf8 + 48, cstr(w, "\xc4\x80\xc4\x81\xc4\x82"));
    uint64_t abc = object(w, w->bytes, 33 + 3);
    put64(w, abc + 16, 3);
    memcpy(w->mem + (abc + 32 - BASE), "abc", 4);
    world_open(w);
    /* unicode_sizeof_impl: PyASCIIObject + length + 1 */
    assert_int_equal(size_of(w, hello), 46);
    /* PyCompactUnicodeObject + (length + 1) * kind, + utf8_length + 1 */
    assert_int_equal(size_of(w, ucs2), 64);
    assert_int_equal(size_of(w, ucs2_utf8), 71);
    /* bytes: the default formula, basicsize 33 + 1 per byte */
    assert_int_equal(size_of(w, abc), 36);
    assert_preview(w, hello, "'hello' (5 characters)");
    assert_preview(w, abc, "b'abc'");
    assert_true(type_of(w, abc)->size_exact);
    world_free(w);
}

/* ---- tuple, list, set ------------------------------------------------ */

static void test_tuple_list(void **state)
{
    (void)state;
    struct world *w = world_new(12);
    uint64_t a = str(w, "a"), b = str(w, "b"), c = int312(w, 1, 0, 3);
    uint64_t tuple = object(w, w->tuple, 24 + 3 * 8);
    put64(w, tuple + 16, 3);
    put64(w, tuple + 24, a);
    put64(w, tuple + 32, b);
    put64(w, tuple + 40, c);
    uint64_t items = alloc(w, 4 * 8);
    put64(w, items, c);
    put64(w, items + 8, a);
    uint64_t list = object(w, w->list, 40);
    put64(w, list + 16, 2);
    put64(w, list + 24, items);
    put64(w, list + 32, 4);
    world_open(w);
    /* tuple: 24 + 8 per item + the GC head */
    assert_int_equal(size_of(w, tuple), 64);
    /* list___sizeof___impl: 40 + 8 per allocated slot, + GC head */
    assert_int_equal(size_of(w, list), 88);
    const uint64_t tuple_refs[] = {w->tuple | PCA_REFERENT_EXTRA, a, b, c};
    assert_referents(w, tuple, tuple_refs, 4);
    const uint64_t list_refs[] = {w->list | PCA_REFERENT_EXTRA, c, a};
    assert_referents(w, list, list_refs, 3);
    assert_preview(w, tuple, "len 3");
    assert_preview(w, list, "len 2");
    uint64_t n = 0;
    assert_true(pca_objects_len(&w->objects, list, type_of(w, list), &n));
    assert_int_equal(n, 2);
    assert_false(pca_objects_len(&w->objects, a, type_of(w, a), &n));
    world_free(w);
}

static void test_set(void **state)
{
    (void)state;
    struct world *w = world_new(12);
    uint64_t x = str(w, "x"), y = str(w, "y");
    /* small table (8 entries of {key, hash} inside the object) */
    uint64_t small = object(w, w->set, 200);
    put64(w, small + 24, 2);
    put64(w, small + 32, 7);
    put64(w, small + 40, small + 64);
    put64(w, small + 64 + 1 * 16, x);
    put64(w, small + 64 + 4 * 16, w->set_dummy); /* a deleted entry */
    put64(w, small + 64 + 6 * 16, y);
    /* grown: a table of 32 entries elsewhere */
    uint64_t table = alloc(w, 32 * 16);
    put64(w, table + 31 * 16, y);
    uint64_t big = object(w, w->set, 200);
    put64(w, big + 24, 1);
    put64(w, big + 32, 31);
    put64(w, big + 40, table);
    world_open(w);
    /* set_sizeof: 200 (+ the table when not the small one) + GC head */
    assert_int_equal(size_of(w, small), 216);
    assert_int_equal(size_of(w, big), 200 + 32 * 16 + 16);
    const uint64_t small_refs[] = {w->set | PCA_REFERENT_EXTRA, x, y};
    assert_referents(w, small, small_refs, 3);
    const uint64_t big_refs[] = {w->set | PCA_REFERENT_EXTRA, y};
    assert_referents(w, big, big_refs, 2);
    assert_preview(w, small, "len 2");
    world_free(w);
}

/* ---- dict -------------------------------------------------------------- */

/* A 3.11+ keys object of 8 slots: 8 one-byte indices, then entries. */
static uint64_t keys312(struct world *w, int kind, uint64_t refcnt, const uint64_t *kv, size_t n)
{
    uint64_t entry = kind ? 16 : 24, key_off = kind ? 0 : 8;
    uint64_t k = alloc(w, 32 + 8 + 5 * entry);
    put64(w, k, refcnt);
    put(w, k + 8, 3, 1);  /* log2_size */
    put(w, k + 9, 3, 1);  /* log2_index_bytes */
    put(w, k + 10, (uint64_t)kind, 1);
    put64(w, k + 16, 5 - n); /* usable */
    put64(w, k + 24, n);     /* nentries */
    for (size_t i = 0; i < n; i++) {
        put64(w, k + 40 + i * entry + key_off, kv[2 * i]);
        put64(w, k + 40 + i * entry + key_off + 8, kv[2 * i + 1]);
    }
    return k;
}

static uint64_t dict_on(struct world *w, uint64_t keys, uint64_t values, uint64_t used)
{
    uint64_t d = object(w, w->dict, 48);
    put64(w, d + 16, used);
    put64(w, d + 32, keys);
    put64(w, d + 40, values);
    return d;
}

static void test_dict_312(void **state)
{
    (void)state;
    struct world *w = world_new(12);
    uint64_t ka = str(w, "a"), kb = str(w, "b"), one = int312(w, 1, 0, 1), two = int312(w, 1, 0, 2);
    const uint64_t kv[] = {ka, one, kb, two};
    uint64_t unicode = dict_on(w, keys312(w, 1, 1, kv, 2), 0, 2);
    const uint64_t kv_int[] = {one, ka};
    uint64_t general = dict_on(w, keys312(w, 0, 1, kv_int, 1), 0, 1);
    /* split: shared keys (refcnt 2, the class holds them), own values */
    uint64_t shared = keys312(w, 1, 2, (const uint64_t[]){ka, 0, kb, 0}, 2);
    uint64_t values = alloc(w, 5 * 8);
    put64(w, values, two);
    put64(w, values + 8, one);
    uint64_t split = dict_on(w, shared, values, 2);
    world_open(w);
    /* _PyDict_SizeOf: 48 + keys (32 + 8 indices + 5 entries) + GC head:
     * getsizeof({'a': 1}) on 3.12 */
    assert_int_equal(size_of(w, unicode), 48 + 32 + 8 + 5 * 16 + 16);
    assert_int_equal(size_of(w, unicode), 184);
    assert_int_equal(size_of(w, general), 48 + 32 + 8 + 5 * 24 + 16);
    /* shared keys are not counted; value slots = nentries + usable */
    assert_int_equal(size_of(w, split), 48 + (2 + 3) * 8 + 16);
    const uint64_t refs[] = {w->dict | PCA_REFERENT_EXTRA, ka, one, kb, two};
    assert_referents(w, unicode, refs, 5);
    const uint64_t general_refs[] = {w->dict | PCA_REFERENT_EXTRA, one, ka};
    assert_referents(w, general, general_refs, 3);
    const uint64_t split_refs[] = {w->dict | PCA_REFERENT_EXTRA, ka, two, kb, one};
    assert_referents(w, split, split_refs, 5);
    assert_preview(w, unicode, "len 2");
    uint64_t key = 0;
    assert_true(pca_objects_keys_key(&w->objects, shared, 1, &key));
    assert_int_equal(key, kb);
    world_free(w);
}

static void test_dict_310(void **state)
{
    (void)state;
    struct world *w = world_new(10);
    uint64_t ka = str(w, "a"), one = int310(w, 1, 1);
    /* 3.6-3.10 keys: dk_size 8, 8 one-byte indices at 40, then
     * USABLE_FRACTION(8) = 5 entries of {hash, key, value} */
    uint64_t k = alloc(w, 40 + 8 + 5 * 24);
    put64(w, k, 1);
    put64(w, k + 8, 8);
    put64(w, k + 24, 4);
    put64(w, k + 32, 1);
    put64(w, k + 48 + 8, ka);
    put64(w, k + 48 + 16, one);
    uint64_t d = dict_on(w, k, 0, 1);
    world_open(w);
    /* getsizeof({'a': 1}) on 3.10 */
    assert_int_equal(size_of(w, d), 232);
    const uint64_t refs[] = {w->dict | PCA_REFERENT_EXTRA, ka, one};
    assert_referents(w, d, refs, 3);
    world_free(w);
}

/* ---- instances, types ------------------------------------------------- */

static void test_instances_310(void **state)
{
    (void)state;
    struct world *w = world_new(10);
    uint64_t x = str(w, "x"), y = int310(w, 1, 9), d = dict_on(w, 0, 0, 0);
    /* class A: __dict__ at tp_dictoffset 16 (and __weakref__ at 24) */
    uint64_t A = py_class(w, "A", 32, 0, 16);
    uint64_t a = object(w, A, 32);
    put64(w, a + 16, d);
    /* class B: __slots__ = ('p', 'q') at 16 and 24, members after the heap type */
    uint64_t B = py_class(w, "B", 32, 0, 0);
    put64(w, B + 16, 2); /* Py_SIZE(type): number of members */
    for (int i = 0; i < 2; i++) {
        uint64_t m = B + HEAPTYPE_SIZE + (uint64_t)i * MEMBERDEF_SIZE;
        put64(w, m, cstr(w, i ? "q" : "p"));
        put(w, m + 8, 16, 4); /* T_OBJECT_EX */
        put64(w, m + 16, 16 + 8 * (uint64_t)i);
    }
    uint64_t b = object(w, B, 32);
    put64(w, b + 16, x);
    put64(w, b + 24, y);
    world_open(w);
    /* object.__sizeof__ (basicsize) + GC head: getsizeof(A()) on 3.10 */
    assert_int_equal(size_of(w, a), 48);
    assert_int_equal(size_of(w, b), 48);
    /* heap types are referenced by their instances (no EXTRA bit) */
    const uint64_t a_refs[] = {A, d};
    assert_referents(w, a, a_refs, 2);
    const uint64_t b_refs[] = {B, x, y};
    assert_referents(w, b, b_refs, 3);
    char name[32];
    assert_true(pca_objects_attr_name(&w->objects, b, type_of(w, b), y, name, sizeof(name)));
    assert_string_equal(name, "q");
    assert_string_equal(type_of(w, a)->name, "A");
    assert_int_equal(type_of(w, a)->kind, PCA_KIND_OBJECT);
    /* types: a heap type is PyHeapTypeObject (+ GC head: heap types are
     * collected); a static one PyTypeObject, not collected before 3.11 */
    assert_int_equal(size_of(w, A), HEAPTYPE_SIZE + 16);
    assert_int_equal(size_of(w, w->list), TYPE_SIZE);
    /* type_traverse (heap types only): tp_dict, tp_base */
    const uint64_t A_refs[] = {w->type | PCA_REFERENT_EXTRA, w->object};
    assert_referents(w, A, A_refs, 2);
    const uint64_t list_type_refs[] = {w->type | PCA_REFERENT_EXTRA};
    assert_referents(w, w->list, list_type_refs, 1);
    assert_int_equal(type_of(w, A)->kind, PCA_KIND_TYPE);
    world_free(w);
}

static void test_instances_312(void **state)
{
    (void)state;
    struct world *w = world_new(12);
    uint64_t ka = str(w, "a"), one = int312(w, 1, 0, 1), d = dict_on(w, 0, 0, 0);
    /* class C: managed dict and weakref (two pointers before the object) */
    uint64_t C = py_class(w, "C", 16, MANAGED_DICT | MANAGED_WEAKREF, -1);
    uint64_t keys = keys312(w, 1, 2, (const uint64_t[]){ka, 0}, 1);
    put64(w, C + HT_CACHED_KEYS, keys);
    /* an instance whose __dict__ exists: obj[-3] holds the dict */
    uint64_t with_dict = object(w, C, 16);
    put64(w, with_dict - 24, d);
    /* an instance with split values: obj[-3] = values - 1 (tagged) */
    uint64_t values = alloc(w, 8 * 8);
    put64(w, values, one);
    uint64_t with_values = object(w, C, 16);
    put64(w, with_values - 24, values - 1);
    world_open(w);
    /* basicsize 16 + GC head + pre-header: getsizeof(C()) on 3.12 */
    assert_int_equal(size_of(w, with_dict), 48);
    const uint64_t dict_refs[] = {C, d};
    assert_referents(w, with_dict, dict_refs, 2);
    const uint64_t values_refs[] = {C, one};
    assert_referents(w, with_values, values_refs, 2);
    char name[32];
    assert_true(pca_objects_attr_name(&w->objects, with_values, type_of(w, with_values), one, name,
                                      sizeof(name)));
    assert_string_equal(name, "a");
    /* 3.12 adds the GC head by the type's flag: static types too; a heap
     * type counts its cached keys (not shared with anyone else's size) */
    assert_int_equal(size_of(w, w->list), TYPE_SIZE + 16);
    assert_int_equal(size_of(w, C), HEAPTYPE_SIZE + (32 + 8 + 5 * 16) + 16);
    world_free(w);
}

/* ---- main ------------------------------------------------------------- */

static int setup_dir(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/pca-test-objects.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return -1;
    test_dir = strdup(dir);
    return test_dir ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    rmdir(test_dir);
    free(test_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_312),
        cmocka_unit_test(test_int_310),
        cmocka_unit_test(test_str_bytes),
        cmocka_unit_test(test_tuple_list),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_dict_312),
        cmocka_unit_test(test_dict_310),
        cmocka_unit_test(test_instances_310),
        cmocka_unit_test(test_instances_312),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

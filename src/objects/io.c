/* io.c: C types of the standard library whose __sizeof__ counts memory
 * beside the object: the _io buffered classes (their buffer) and
 * _struct.Struct (its format codes). Their structs are private to their
 * modules and the same in 3.6-3.13 (Modules/_io/bufferedio.c `buffered`,
 * Modules/_struct.c `PyStructObject` and `formatcode`), so the offsets are
 * fixed here and each read is checked against the struct's own invariants;
 * an object that fails them gets the default size (basicsize). */
#include "objects/kinds.h"

/* buffered: char *buffer at 56, Py_ssize_t buffer_size at 120 and
 * buffer_mask at 128 (x86-64, ptype/o of 3.11's debug info). */
enum { buffered_buffer = 56, buffered_buffer_size = 120, buffered_buffer_mask = 128 };
/* A buffer larger than this is not one io.open makes (bounds a corrupt read). */
static const uint64_t max_buffer_size = 1ull << 31;

/* buffered_sizeof (Modules/_io/bufferedio.c):
 * _PyObject_SIZE(Py_TYPE(self)) + (self->buffer ? self->buffer_size : 0). */
static bool buffered_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t buffer, size, mask;
	*ret = t->basicsize;
	if (t->basicsize < buffered_buffer_mask + 8 || !pca_target_try_read_u64(tg, obj + buffered_buffer, &buffer) ||
	    !buffer || !pca_target_try_read_u64(tg, obj + buffered_buffer_size, &size) ||
	    !pca_target_try_read_u64(tg, obj + buffered_buffer_mask, &mask))
		return true;
	/* _bufferedreader_init sets buffer_mask to buffer_size - 1 for a power
	 * of two, else 0 */
	if (size == 0 || size > max_buffer_size || (mask != 0 && mask != size - 1))
		return true;
	*ret += size;
	return true;
}

const struct pca_kind_ops pca_buffered_ops = {
	.kind = PCA_KIND_BUFFERED,
	.size = buffered_size,
};

/* PyStructObject: formatcode *s_codes at 32; formatcode is 32 bytes, its
 * first member (fmtdef) NULL in the terminating entry. */
enum { struct_s_codes = 32, formatcode_size = 32 };
/* More codes than this is not a format string (bounds a corrupt array). */
static const uint64_t max_codes = 1u << 20;

/* s_sizeof (Modules/_struct.c): _PyObject_SIZE(Py_TYPE(self)) plus one
 * formatcode per code and one for the terminator. */
static bool struct_size(struct pca_objects *o, uint64_t obj, const struct pca_type_info *t, uint64_t *ret)
{
	struct pca_target *tg = o->interp->target;
	uint64_t codes, fmtdef;
	*ret = t->basicsize;
	if (t->basicsize < struct_s_codes + 8 || !pca_target_try_read_u64(tg, obj + struct_s_codes, &codes) || !codes)
		return true;
	for (uint64_t n = 0; n < max_codes; n++) {
		if (!pca_target_try_read_u64(tg, codes + n * formatcode_size, &fmtdef))
			return true;
		if (!fmtdef) {
			*ret += (n + 1) * formatcode_size;
			return true;
		}
	}
	return true;
}

const struct pca_kind_ops pca_struct_ops = {
	.kind = PCA_KIND_STRUCT,
	.size = struct_size,
};

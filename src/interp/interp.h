/* interp.h: the running interpreter in the target: runtime, interpreters,
 * thread states and their Python frames, with line numbers.
 *
 * Every walk over pointers from the core is bounded and validated; a broken
 * chain ends that walk with a warning, never a crash or a loop. Offsets come
 * from the layout; this module holds the per-version frame rules (named in
 * comments), not offsets. It does not enumerate the heap.
 */
#ifndef PCA_INTERP_INTERP_H
#define PCA_INTERP_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/error.h"
#include "layout/layout.h"
#include "symbols/symbols.h"
#include "target/target.h"

struct pca_interp {
	struct pca_target *target;
	struct pca_symbols *symbols;
	const struct pca_layout *layout;
	uint64_t first_interp;   /* PyInterpreterState * of the main interpreter */
	uint64_t code_type;      /* &PyCode_Type */
	uint64_t unicode_type;   /* &PyUnicode_Type */
	uint64_t bytes_type;     /* &PyBytes_Type */
	int owner_generator;     /* _PyInterpreterFrame.owner of generator frames, -1 none */
	/* pca_interp_for_each_frame met a node of its chains twice (a loop in
	 * corrupt data) and cut there: the caller's warning to give
	 * (pca_interp_loop_warning), about the first such node */
	bool chain_loops;
	enum pca_chain { PCA_CHAIN_JOIN, PCA_CHAIN_INTERPRETERS, PCA_CHAIN_THREADS, PCA_CHAIN_FRAMES } loop_chain;
	uint64_t loop_owner;     /* the interpreter (threads) or thread id (frames) */
	uint64_t loop_node;      /* where the chain meets itself */
};

struct pca_pyframe {
	char *function;   /* co_name */
	char *qualname;   /* co_qualname (3.11+), else NULL */
	char *filename;   /* co_filename */
	int line;         /* -1 when unknown */
	uint64_t code;
};

struct pca_pythread {
	uint64_t tstate;
	uint64_t interp;
	uint64_t thread_id;        /* threading.get_ident() */
	int64_t native_thread_id;  /* LWP, -1 when not known */
	bool crashed;
	struct pca_pyframe *frames; /* innermost first */
	size_t nframes;
};

struct pca_error *pca_interp_init(struct pca_interp *in, struct pca_target *t,
				  struct pca_symbols *s, const struct pca_layout *l);

/* Every thread of every interpreter. Problems with one thread or frame become
 * warnings; the error is for "no interpreter at all". */
struct pca_error *pca_interp_threads(struct pca_interp *in, struct pca_warnings *warnings,
				     struct pca_pythread **ret, size_t *ret_count);
void pca_pythreads_free(struct pca_pythread *threads, size_t count);

/* Read a member (by role) of the structure at `base`: bitfields extracted,
 * narrower integers zero-extended. False when absent in this version or unreadable. */
bool pca_interp_read_field_slow(struct pca_interp *in, uint64_t base, enum pca_field f, uint64_t *ret);
/* Inline for the census' hot path: a member of 1, 2, 4 or 8 bytes (a
 * pointer, a count, a flag byte, a bitfield's word) of an object in the
 * segment of the previous read; anything else takes the slow path. */
static inline __attribute__((always_inline)) bool
pca_interp_read_field(struct pca_interp *in, uint64_t base, enum pca_field f, uint64_t *ret)
{
	const struct pca_layout_field *fl = &in->layout->fields[f];
	const uint8_t *p;
	if (!fl->present || !fl->size || fl->size > 8 || (fl->size & (fl->size - 1)) ||
	    !(p = pca_target_view(in->target, base + fl->offset, fl->size)))
		return pca_interp_read_field_slow(in, base, f, ret);
	uint64_t v;
	if (fl->size == 8) {
		memcpy(&v, p, 8);
	} else if (fl->size == 4) {
		uint32_t x;
		memcpy(&x, p, 4);
		v = x;
	} else if (fl->size == 2) {
		uint16_t x;
		memcpy(&x, p, 2);
		v = x;
	} else {
		v = *p;
	}
	if (fl->bit_size) {
		v >>= fl->bit_offset;
		v &= fl->bit_size >= 64 ? ~0ull : (1ull << fl->bit_size) - 1;
	}
	*ret = v;
	return true;
}

/* The interpreters, the main one first, as their `next` chain gives them
 * (bounded; a chain that loops is cut where it meets itself and
 * in->chain_loops set). *ret is malloc'ed (NULL when there are none).
 * Errors: ENOMEM. */
struct pca_error *pca_interp_list(struct pca_interp *in, uint64_t **ret, size_t *ret_count);

/* Every frame of every thread, innermost first: PyFrameObject addresses
 * (3.6-3.10) or _PyInterpreterFrame addresses (3.11+), as the layout's frame
 * model says. Bounded; each node is given once (a chain that loops is cut
 * where it meets itself, and in->chain_loops set). */
typedef void (*pca_frame_fn)(void *ctx, uint64_t frame);
void pca_interp_for_each_frame(struct pca_interp *in, pca_frame_fn fn, void *ctx);

/* The warning for chain_loops, in the words pca_interp_threads uses for
 * the same loop: one loop is one warning whichever walk met it first
 * (pca_warnings_add keeps one of two equal texts). */
void pca_interp_loop_warning(const struct pca_interp *in, struct pca_warnings *w);

/* A str object as UTF-8 (heap copy), at most max_chars characters. */
struct pca_error *pca_interp_read_str(struct pca_interp *in, uint64_t addr, size_t max_chars,
				      char **ret);
/* A bytes object's contents (heap copy), at most max_len bytes. */
struct pca_error *pca_interp_read_bytes(struct pca_interp *in, uint64_t addr, size_t max_len,
					uint8_t **ret, size_t *ret_len);

#endif

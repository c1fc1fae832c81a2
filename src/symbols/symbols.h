/* symbols.h: the libdwfl session for a core, the Python module in it, ELF
 * symbols, and DWARF type queries on that module (the queries themselves are
 * in dwarf.h).
 *
 * Owns finding files: the executable, libpython and extension modules come
 * from the core (NT_FILE, the dynamic linker's map, AT_EXECFN), overridable by
 * the user; debug info by build-id, .gnu_debuglink, --debug-dir and
 * debuginfod. A file whose build-id differs from the core's is refused with
 * both ids in the message. Verified files are attached to the target so
 * unsaved read-only pages can be read from them.
 * It knows nothing about CPython versions: it answers "where is symbol X",
 * "how big is struct Y, where is member Z" by name.
 */
#ifndef PCA_SYMBOLS_SYMBOLS_H
#define PCA_SYMBOLS_SYMBOLS_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "symbols/dwarf.h"
#include "target/target.h"

struct pca_symbols_options {
	const char *executable;       /* override, or NULL */
	const char *const *debug_dirs;/* extra debug-info directories */
	size_t ndebug_dirs;
	/* No debug info for the runtime's file: use the DWARF and symbol table
	 * of this unstripped copy of the same build instead, or NULL. */
	const char *layout_from;
};

struct pca_symbols;

/* Report the core's modules, find the one holding the CPython runtime and its
 * DWARF. Errors: no interpreter, missing/mismatched file, missing debug info. */
struct pca_error *pca_symbols_open(struct pca_target *t, const struct pca_symbols_options *opts,
				   struct pca_symbols **ret);
void pca_symbols_destroy(struct pca_symbols *s);

/* The executable's path as found (for reports). */
const char *pca_symbols_executable(const struct pca_symbols *s);
/* Path of the file holding the interpreter (libpython or the executable). */
const char *pca_symbols_python_file(const struct pca_symbols *s);

/* Where type answers come from: "dwarf" (the file's own, or --layout-from's),
 * or "table" for a stripped build whose DWARF answers were recorded
 * (recorded.h). */
const char *pca_symbols_layout_source(const struct pca_symbols *s);
/* False when the layout comes from another build than the core's (a table
 * of the same minor, --layout-from with another build-id): then every
 * structure must be validated before numbers are printed, and
 * pca_symbols_layout_warning says which build it is (for the result's
 * warnings); NULL when exact. */
bool pca_symbols_layout_exact(const struct pca_symbols *s);
const char *pca_symbols_layout_warning(const struct pca_symbols *s);
/* What would help when the layout is missing or wrong: "install
 * python3.11-dbg, pass --debug-dir DIR, set DEBUGINFOD_URLS, or pass
 * --layout-from ..." (valid as long as the session). */
const char *pca_symbols_debuginfo_help(struct pca_symbols *s);
/* Py_GetVersion()'s text ("3.10.13") found in the runtime file's saved
 * memory, for builds whose symbol naming that buffer was stripped. */
bool pca_symbols_find_version_string(struct pca_symbols *s, char *out, size_t out_size);

/* Address of a data or function symbol of the Python module. */
bool pca_symbols_lookup(struct pca_symbols *s, const char *name, uint64_t *ret);
/* Same, with the symbol's st_size (the byte size of a static array such as
 * obmalloc's usedpools[]; 0 when the symbol table does not record it). */
bool pca_symbols_lookup_sized(struct pca_symbols *s, const char *name, uint64_t *ret,
			      uint64_t *ret_size);

/* DWARF: a named struct, union or typedef of the Python module (complete
 * definitions only). Names are looked up in one pass over the compile units,
 * made on the first call. Errors: ENOMEM. */
struct pca_error *pca_symbols_find_types(struct pca_symbols *s, const char *const *names,
					 size_t count, Dwarf_Die *dies, bool *found);
/* Value of a named enumerator of any top-level enumeration type. */
bool pca_symbols_find_enumerator(struct pca_symbols *s, const char *name, int64_t *ret);

#endif

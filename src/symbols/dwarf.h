/* dwarf.h: DWARF queries by name, below the libdwfl session (symbols.h).
 *
 * The type index holds every named, completely defined top-level struct,
 * union and typedef of the Python module and of the CPython extension
 * modules (lib-dynload/, *.cpython-3*), sorted by name; a name the Python
 * module defines wins over an extension's. Members resolve by dotted path
 * through embedded structs, anonymous members and array elements.
 * It does not find files or modules (symbols.c does) and knows nothing about
 * CPython versions: layout/ asks it "how big is struct Y, where is member Z".
 */
#ifndef PCA_SYMBOLS_DWARF_H
#define PCA_SYMBOLS_DWARF_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct pca_dwarf_member {
	uint64_t offset;      /* bytes from the start of the outer type */
	uint64_t size;        /* byte size of the member's type */
	uint32_t bit_offset;  /* bitfields: bits from `offset` (little-endian), else 0 */
	uint32_t bit_size;    /* bitfields: width, else 0 */
};

struct pca_dwarf_types;

/* Index python_dwarf (python_module's) and the extension modules of dwfl,
 * in one pass over their compile units. Errors: ENOMEM. */
struct pca_error *pca_dwarf_types_create(Dwfl *dwfl, Dwfl_Module *python_module,
					 Dwarf *python_dwarf, struct pca_dwarf_types **ret);
void pca_dwarf_types_destroy(struct pca_dwarf_types *ix);
/* The type named `name`, peeled of typedefs. */
bool pca_dwarf_types_find(const struct pca_dwarf_types *ix, const char *name, Dwarf_Die *ret);

/* Value of a named enumerator of any top-level enumeration type of dwarf. */
bool pca_dwarf_find_enumerator(Dwarf *dwarf, const char *name, int64_t *ret);
bool pca_dwarf_type_size(Dwarf_Die *type, uint64_t *ret);
/* Member by dotted path through embedded structs and anonymous members:
 * "interpreters.head", "state.kind", "generations[1].head". */
bool pca_dwarf_member(Dwarf_Die *type, const char *path, struct pca_dwarf_member *ret);

#endif

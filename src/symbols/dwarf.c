/* DWARF queries by name: the index of named types of the Python module and
 * its extension modules, enumerators, type sizes and member resolution by
 * dotted path. The libdwfl session (finding files and modules) is in
 * symbols.c. */
#include "symbols/dwarf.h"
#include "symbols/recorded.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/vector.h"

static bool die_is_complete_type(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
		return tag == DW_TAG_base_type || tag == DW_TAG_pointer_type;
	return !dwarf_hasattr(die, DW_AT_declaration) && dwarf_hasattr(die, DW_AT_byte_size);
}

/* Index of every named top-level struct, union and typedef with a complete
 * definition, in the Python module and the extension modules (their types,
 * e.g. _json.Scanner, live in their own DWARF). Built once, sorted by name;
 * names point into .debug_str, alive as long as the session. */
struct type_entry {
	const char *name;
	Dwarf_Die die;
};

PCA_DEFINE_VECTOR(type_entry_vector, struct type_entry)

struct pca_dwarf_types {
	struct type_entry_vector types;
	size_t python_types; /* types[0, python_types) are the Python module's */
	Dwfl_Module *python_module;
	bool failed; /* ENOMEM while indexing */
};

static void index_dwarf(struct pca_dwarf_types *ix, Dwarf *dwarf)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (!ix->failed && dwarf_nextcu(dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(dwarf, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				int tag = dwarf_tag(&child);
				if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type &&
				    tag != DW_TAG_typedef)
					continue;
				const char *name = dwarf_diename(&child);
				Dwarf_Die peeled;
				if (!name || dwarf_peel_type(&child, &peeled) != 0 ||
				    !die_is_complete_type(&peeled))
					continue;
				struct type_entry *e = type_entry_vector_append_entry(&ix->types);
				if (!e) {
					ix->failed = true;
					return;
				}
				*e = (struct type_entry){name, peeled};
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
}

static int extension_module_dwarf(Dwfl_Module *mod, void **userdata, const char *name,
				  Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)start;
	struct pca_dwarf_types *ix = arg;
	Dwarf_Addr bias;
	/* Only CPython extension modules: asking for every library's debug
	 * info could reach debuginfod for each. */
	if (mod == ix->python_module || (!strstr(name, "lib-dynload/") && !strstr(name, ".cpython-3")))
		return DWARF_CB_OK;
	Dwarf *dwarf = dwfl_module_getdwarf(mod, &bias);
	if (dwarf)
		index_dwarf(ix, dwarf);
	return DWARF_CB_OK;
}

static int type_entry_cmp(const void *a, const void *b)
{
	const struct type_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	/* Stable among equal names: the first definition found wins. */
	return x < y ? -1 : x > y;
}

struct pca_error *pca_dwarf_types_create(Dwfl *dwfl, Dwfl_Module *python_module,
					 Dwarf *python_dwarf, struct pca_dwarf_types **ret)
{
	struct pca_dwarf_types *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return &pca_error_nomem;
	type_entry_vector_init(&ix->types);
	ix->python_module = python_module;
	index_dwarf(ix, python_dwarf);
	size_t python_types = ix->types.size;
	dwfl_getmodules(dwfl, extension_module_dwarf, ix, 0);
	if (ix->failed) {
		pca_dwarf_types_destroy(ix);
		return &pca_error_nomem;
	}
	/* Definitions from libpython come first for a name both define. */
	struct type_entry *types = ix->types.data;
	pca_sort(types, python_types, sizeof(*types), type_entry_cmp);
	pca_sort(types + python_types, ix->types.size - python_types, sizeof(*types),
		 type_entry_cmp);
	ix->python_types = python_types;
	*ret = ix;
	return NULL;
}

void pca_dwarf_types_destroy(struct pca_dwarf_types *ix)
{
	if (!ix)
		return;
	type_entry_vector_deinit(&ix->types);
	free(ix);
}

static const struct type_entry *lookup_type(const struct type_entry *types, size_t n,
					    const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(types[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(types[lo].name, name) == 0 ? &types[lo] : NULL;
}

bool pca_dwarf_types_find(const struct pca_dwarf_types *ix, const char *name, Dwarf_Die *ret)
{
	const struct type_entry *types = ix->types.data;
	const struct type_entry *e = lookup_type(types, ix->python_types, name);
	if (!e)
		e = lookup_type(types + ix->python_types, ix->types.size - ix->python_types, name);
	if (e)
		*ret = e->die;
	return e != NULL;
}

bool pca_dwarf_find_enumerator(Dwarf *dwarf, const char *name, int64_t *ret)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child, item;
		if (dwarf_offdie(dwarf, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				if (dwarf_tag(&child) != DW_TAG_enumeration_type ||
				    dwarf_child(&child, &item) != 0)
					continue;
				do {
					const char *n = dwarf_diename(&item);
					Dwarf_Attribute attr;
					Dwarf_Sword value;
					if (n && strcmp(n, name) == 0 &&
					    dwarf_attr(&item, DW_AT_const_value, &attr) &&
					    dwarf_formsdata(&attr, &value) == 0) {
						*ret = value;
						return true;
					}
				} while (dwarf_siblingof(&item, &item) == 0);
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return false;
}

bool pca_dwarf_type_size(Dwarf_Die *type, uint64_t *ret)
{
	if (pca_recorded_is_die(type))
		return pca_recorded_type_size(type, ret);
	Dwarf_Word size;
	if (dwarf_aggregate_size(type, &size) != 0)
		return false;
	*ret = size;
	return true;
}

static bool member_location(Dwarf_Die *member, Dwarf_Die *parent, uint64_t *byte_off,
			    uint32_t *bit_off, uint32_t *bit_size)
{
	Dwarf_Attribute attr;
	Dwarf_Word value = 0;
	*bit_off = 0;
	*bit_size = 0;
	if (dwarf_attr(member, DW_AT_data_bit_offset, &attr)) {
		if (dwarf_formudata(&attr, &value) != 0)
			return false;
		*byte_off = value / 8;
		*bit_off = (uint32_t)(value % 8);
	} else if (dwarf_attr(member, DW_AT_data_member_location, &attr)) {
		if (dwarf_formudata(&attr, &value) != 0)
			return false;
		*byte_off = value;
	} else if (dwarf_tag(parent) == DW_TAG_union_type) {
		*byte_off = 0;
	} else {
		return false;
	}
	if (dwarf_attr(member, DW_AT_bit_size, &attr)) {
		Dwarf_Word bits;
		if (dwarf_formudata(&attr, &bits) != 0)
			return false;
		*bit_size = (uint32_t)bits;
		/* DWARF 2/3 DW_AT_bit_offset counts from the storage unit's most
		 * significant bit; convert to little-endian bit position. */
		if (dwarf_attr(member, DW_AT_bit_offset, &attr)) {
			Dwarf_Word msb_off, unit = 0;
			if (dwarf_formudata(&attr, &msb_off) != 0 ||
			    dwarf_attr(member, DW_AT_byte_size, &attr) == NULL ||
			    dwarf_formudata(&attr, &unit) != 0)
				return false;
			uint64_t pos = *byte_off * 8 + unit * 8 - msb_off - bits;
			*byte_off = pos / 8;
			*bit_off = (uint32_t)(pos % 8);
		}
	}
	return true;
}

/* Find `name` among the members of `type`, descending into anonymous members. */
static bool find_member(Dwarf_Die *type, const char *name, size_t name_len, Dwarf_Die *ret_type,
			struct pca_dwarf_member *ret, int depth)
{
	Dwarf_Die child;
	if (depth > 8 || dwarf_child(type, &child) != 0)
		return false;
	do {
		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		struct pca_dwarf_member m;
		if (!member_location(&child, type, &m.offset, &m.bit_offset, &m.bit_size))
			continue;
		Dwarf_Attribute attr;
		Dwarf_Die mtype;
		if (!dwarf_attr(&child, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &mtype) ||
		    dwarf_peel_type(&mtype, &mtype) != 0)
			continue;
		const char *mname = dwarf_diename(&child);
		if (!mname) {
			struct pca_dwarf_member inner;
			if (find_member(&mtype, name, name_len, ret_type, &inner, depth + 1)) {
				inner.offset += m.offset;
				*ret = inner;
				return true;
			}
			continue;
		}
		if (strlen(mname) != name_len || memcmp(mname, name, name_len) != 0)
			continue;
		m.size = 0;
		pca_dwarf_type_size(&mtype, &m.size);
		*ret_type = mtype;
		*ret = m;
		return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

static bool dwarf_member(Dwarf_Die *type, const char *path, struct pca_dwarf_member *ret)
{
	Dwarf_Die cur = *type;
	struct pca_dwarf_member total = {0};
	const char *p = path;
	while (*p) {
		size_t len = strcspn(p, ".[");
		struct pca_dwarf_member m;
		Dwarf_Die mtype;
		if (!find_member(&cur, p, len, &mtype, &m, 0))
			return false;
		total.offset += m.offset;
		total.size = m.size;
		total.bit_offset = m.bit_offset;
		total.bit_size = m.bit_size;
		p += len;
		if (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);
			if (*end != ']' || dwarf_tag(&mtype) != DW_TAG_array_type)
				return false;
			Dwarf_Attribute attr;
			Dwarf_Die elem;
			uint64_t elem_size;
			if (!dwarf_attr(&mtype, DW_AT_type, &attr) ||
			    !dwarf_formref_die(&attr, &elem) || dwarf_peel_type(&elem, &elem) != 0 ||
			    !pca_dwarf_type_size(&elem, &elem_size))
				return false;
			total.offset += idx * elem_size;
			total.size = elem_size;
			mtype = elem;
			p = end + 1;
		}
		if (*p == '.')
			p++;
		cur = mtype;
	}
	*ret = total;
	return true;
}

bool pca_dwarf_member(Dwarf_Die *type, const char *path, struct pca_dwarf_member *ret)
{
	if (pca_recorded_is_die(type))
		return pca_recorded_member(type, path, ret);
	bool found = dwarf_member(type, path, ret);
	pca_record_member(type, path, found, ret);
	return found;
}

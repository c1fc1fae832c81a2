/* pymalloc layouts from DWARF and ELF symbols by name (see obmalloc_layout.h).
 * The pattern of layout.c: roles with the names a member has had, the first
 * one this build has wins, every value checked against its struct's size. */
#include "layout/obmalloc_layout.h"

#include <string.h>

static const char *const struct_names[PCA_OBM_STRUCT_COUNT] = {
	[PCA_OBM_S_ARENA] = "arena_object",
	[PCA_OBM_S_POOL] = "pool_header",
	[PCA_OBM_S_STATE] = "_obmalloc_state",
	[PCA_OBM_S_INTERP] = "_is",
	[PCA_OBM_S_RUNTIME] = "pyruntimestate",
};

/* Objects/obmalloc.c (3.6-3.11), Include/internal/pycore_obmalloc.h (3.12+):
 * the members have kept their names since 3.6. */
static const struct pca_member_role member_specs[] = {
	{PCA_OBM_AO_ADDRESS, PCA_OBM_S_ARENA, true, {"address"}},
	{PCA_OBM_AO_POOL_ADDRESS, PCA_OBM_S_ARENA, true, {"pool_address"}},
	{PCA_OBM_AO_NFREEPOOLS, PCA_OBM_S_ARENA, true, {"nfreepools"}},
	{PCA_OBM_AO_NTOTALPOOLS, PCA_OBM_S_ARENA, true, {"ntotalpools"}},
	{PCA_OBM_AO_FREEPOOLS, PCA_OBM_S_ARENA, true, {"freepools"}},
	{PCA_OBM_AO_NEXTARENA, PCA_OBM_S_ARENA, true, {"nextarena"}},
	{PCA_OBM_AO_PREVARENA, PCA_OBM_S_ARENA, true, {"prevarena"}},
	{PCA_OBM_PH_COUNT, PCA_OBM_S_POOL, true, {"ref.count"}},
	{PCA_OBM_PH_FREEBLOCK, PCA_OBM_S_POOL, true, {"freeblock"}},
	{PCA_OBM_PH_NEXTPOOL, PCA_OBM_S_POOL, true, {"nextpool"}},
	{PCA_OBM_PH_PREVPOOL, PCA_OBM_S_POOL, true, {"prevpool"}},
	{PCA_OBM_PH_ARENAINDEX, PCA_OBM_S_POOL, true, {"arenaindex"}},
	{PCA_OBM_PH_SZIDX, PCA_OBM_S_POOL, true, {"szidx"}},
	{PCA_OBM_PH_NEXTOFFSET, PCA_OBM_S_POOL, true, {"nextoffset"}},
	{PCA_OBM_PH_MAXNEXTOFFSET, PCA_OBM_S_POOL, true, {"maxnextoffset"}},
	{PCA_OBM_INTERP_OBMALLOC, PCA_OBM_S_INTERP, false, {"obmalloc"}},
	{PCA_OBM_RUNTIME_MAIN, PCA_OBM_S_RUNTIME, false, {"interpreters.main"}},
	{PCA_OBM_V_ARENAS, PCA_OBM_S_STATE, true, {"mgmt.arenas"}},
	{PCA_OBM_V_MAXARENAS, PCA_OBM_S_STATE, true, {"mgmt.maxarenas"}},
	{PCA_OBM_V_USEDPOOLS, PCA_OBM_S_STATE, true, {"pools.used"}},
	{PCA_OBM_V_UNUSED_ARENA_OBJECTS, PCA_OBM_S_STATE, true, {"mgmt.unused_arena_objects"}},
	{PCA_OBM_V_USABLE_ARENAS, PCA_OBM_S_STATE, true, {"mgmt.usable_arenas"}},
	{PCA_OBM_V_NFP2LASTA, PCA_OBM_S_STATE, true, {"mgmt.nfp2lasta"}},
	{PCA_OBM_V_NARENAS_CURRENTLY_ALLOCATED, PCA_OBM_S_STATE, true,
	 {"mgmt.narenas_currently_allocated"}},
	{PCA_OBM_V_NTIMES_ARENA_ALLOCATED, PCA_OBM_S_STATE, true, {"mgmt.ntimes_arena_allocated"}},
	{PCA_OBM_V_NARENAS_HIGHWATER, PCA_OBM_S_STATE, true, {"mgmt.narenas_highwater"}},
	{PCA_OBM_V_RAW_ALLOCATED_BLOCKS, PCA_OBM_S_STATE, false, {"mgmt.raw_allocated_blocks"}},
};

/* 3.6-3.11: the same variables as file statics of Objects/obmalloc.c (with
 * LTO renamed NAME.lto_priv.N, which pca_symbols_lookup_sized accepts:
 * Debian's python3.11; a wrong pick fails check_variables()). */
struct static_spec {
	enum pca_obm_field id;
	const char *symbol;
	bool required;
};

static const struct static_spec static_specs[] = {
	{PCA_OBM_V_ARENAS, "arenas", true},
	{PCA_OBM_V_MAXARENAS, "maxarenas", true},
	{PCA_OBM_V_USEDPOOLS, "usedpools", true},
	{PCA_OBM_V_UNUSED_ARENA_OBJECTS, "unused_arena_objects", true},
	{PCA_OBM_V_USABLE_ARENAS, "usable_arenas", true},
	{PCA_OBM_V_NFP2LASTA, "nfp2lasta", false},          /* 3.8+ */
	{PCA_OBM_V_NARENAS_CURRENTLY_ALLOCATED, "narenas_currently_allocated", true},
	{PCA_OBM_V_NTIMES_ARENA_ALLOCATED, "ntimes_arena_allocated", true},
	{PCA_OBM_V_NARENAS_HIGHWATER, "narenas_highwater", true},
	{PCA_OBM_V_RAW_ALLOCATED_BLOCKS, "raw_allocated_blocks", false}, /* 3.9+ */
};

/* Far above CPython's 263 KB _obmalloc_state; a bigger value is a broken
 * DWARF reader or file. */
static const uint64_t max_struct_size = 64u << 20;
/* Far above OBMALLOC_USED_POOLS_SIZE (64 with 512-byte / 16-byte classes). */
static const uint64_t max_usedpools_len = 1u << 12;
/* Far above MAX_POOLS_IN_ARENA (64 in every version here). */
static const uint64_t max_pools_in_arena = 1u << 16;

uint64_t pca_obmalloc_field_get(const struct pca_obmalloc_layout *ol, enum pca_obm_field f,
				const void *buf)
{
	const struct pca_layout_field *fl = &ol->fields[f];
	uint64_t v = 0;
	size_t size = fl->size && fl->size <= 8 ? (size_t)fl->size : 8;
	memcpy(&v, (const uint8_t *)buf + fl->offset, size);
	return v;
}

static struct pca_error *resolve_members(struct pca_obmalloc_layout *ol, Dwarf_Die *dies,
					 const bool *found, const char *version)
{
	/* pca_obmalloc_field_get reads whole members: no bitfields */
	return pca_layout_resolve_roles(member_specs, sizeof(member_specs) / sizeof(member_specs[0]),
					dies, found, ol->sizes, struct_names, false, version,
					"this pymalloc", ol->fields);
}

static struct pca_error *resolve_statics(struct pca_obmalloc_layout *ol, struct pca_symbols *s,
					 const char *version)
{
	for (size_t i = 0; i < sizeof(static_specs) / sizeof(static_specs[0]); i++) {
		const struct static_spec *spec = &static_specs[i];
		uint64_t addr, size;
		if (!pca_symbols_lookup_sized(s, spec->symbol, &addr, &size)) {
			if (!spec->required)
				continue;
			return pca_error_create(
				PCA_ERROR_DEBUGINFO,
				"%s has no symbol %s (Python %s): pymalloc's statics are not in its symbol table (a build without pymalloc, or stripped)",
				pca_symbols_python_file(s), spec->symbol, version);
		}
		struct pca_layout_field *f = &ol->fields[spec->id];
		f->present = true;
		f->offset = addr;
		f->size = size;
	}
	return NULL;
}

/* The variables must have the sizes their C types give (a symbol of the same
 * name from another file would not): pointers and size_t are the size of
 * arena_object.address (uintptr_t), maxarenas that of pool_header.szidx
 * (uint), the two arrays whole numbers of pointers. */
static struct pca_error *check_variables(struct pca_obmalloc_layout *ol, const char *version)
{
	static const enum pca_obm_field word_vars[] = {
		PCA_OBM_V_ARENAS, PCA_OBM_V_UNUSED_ARENA_OBJECTS, PCA_OBM_V_USABLE_ARENAS,
		PCA_OBM_V_NARENAS_CURRENTLY_ALLOCATED, PCA_OBM_V_NTIMES_ARENA_ALLOCATED,
		PCA_OBM_V_NARENAS_HIGHWATER, PCA_OBM_V_RAW_ALLOCATED_BLOCKS,
	};
	uint64_t word = ol->fields[PCA_OBM_AO_ADDRESS].size;
	uint64_t uint_size = ol->fields[PCA_OBM_PH_SZIDX].size;
	if (word != 8 && word != 4)
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"debug info gives arena_object.address %llu bytes (Python %s)",
					(unsigned long long)word, version);
	for (size_t i = 0; i < sizeof(word_vars) / sizeof(word_vars[0]); i++) {
		const struct pca_layout_field *f = &ol->fields[word_vars[i]];
		if (f->present && f->size != word)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"pymalloc variable #%d has %llu bytes, not %llu (Python %s): wrong symbol or debug info",
						(int)word_vars[i], (unsigned long long)f->size,
						(unsigned long long)word, version);
	}
	if (ol->fields[PCA_OBM_V_MAXARENAS].size != uint_size)
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"pymalloc's maxarenas has %llu bytes, not %llu (Python %s)",
					(unsigned long long)ol->fields[PCA_OBM_V_MAXARENAS].size,
					(unsigned long long)uint_size, version);
	const struct pca_layout_field *used = &ol->fields[PCA_OBM_V_USEDPOOLS];
	ol->usedpools_len = used->size / word;
	if (used->size % word || ol->usedpools_len < 2 || ol->usedpools_len > max_usedpools_len)
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"pymalloc's usedpools has %llu bytes: not an array of pool pointers (Python %s)",
					(unsigned long long)used->size, version);
	const struct pca_layout_field *nfp = &ol->fields[PCA_OBM_V_NFP2LASTA];
	if (nfp->present) {
		uint64_t n = nfp->size / word;
		if (nfp->size % word || n < 2 || n - 1 > max_pools_in_arena)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"pymalloc's nfp2lasta has %llu bytes: not MAX_POOLS_IN_ARENA + 1 pointers (Python %s)",
						(unsigned long long)nfp->size, version);
		ol->max_pools_in_arena = n - 1;
		ol->max_pools_source = ol->kind == PCA_OBM_STATICS
					       ? "symbol size of nfp2lasta[MAX_POOLS_IN_ARENA + 1]"
					       : "DWARF size of _obmalloc_mgmt.nfp2lasta[MAX_POOLS_IN_ARENA + 1]";
	}
	return NULL;
}

struct pca_error *pca_obmalloc_layout_resolve(struct pca_symbols *symbols,
					      const struct pca_layout *layout,
					      struct pca_obmalloc_layout *ret)
{
	struct pca_obmalloc_layout ol;
	memset(&ol, 0, sizeof(ol));
	Dwarf_Die dies[PCA_OBM_STRUCT_COUNT];
	bool found[PCA_OBM_STRUCT_COUNT];
	struct pca_error *err =
		pca_symbols_find_types(symbols, struct_names, PCA_OBM_STRUCT_COUNT, dies, found);
	if (err)
		return err;
	for (size_t i = 0; i < PCA_OBM_STRUCT_COUNT; i++) {
		if (!found[i])
			continue;
		if (!pca_dwarf_type_size(&dies[i], &ol.sizes[i]) || ol.sizes[i] == 0 ||
		    ol.sizes[i] > max_struct_size)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"debug info gives an implausible size for %s",
						struct_names[i]);
	}
	if (!found[PCA_OBM_S_ARENA] || !found[PCA_OBM_S_POOL])
		return pca_error_create(
			PCA_ERROR_DEBUGINFO,
			"debug info for %s has no struct arena_object / pool_header (Python %s): built without pymalloc, or a free-threaded build (mimalloc)",
			pca_symbols_python_file(symbols), layout->version);
	err = resolve_members(&ol, dies, found, layout->version);
	if (err)
		return err;
	/* Where the state lives, decided by what the build has (Objects/obmalloc.c
	 * get_state() at v3.12.1 and v3.13.0): a struct _obmalloc_state and a
	 * PyInterpreterState.obmalloc member of the same size (3.12: embedded) or
	 * of a pointer's size (3.13: points to obmalloc_state_main for the main
	 * interpreter); no such struct: file statics (3.6-3.11). */
	const struct pca_layout_field *member = &ol.fields[PCA_OBM_INTERP_OBMALLOC];
	if (found[PCA_OBM_S_STATE]) {
		if (!member->present)
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"debug info has struct _obmalloc_state but no PyInterpreterState.obmalloc (Python %s)",
						layout->version);
		if (member->size == ol.sizes[PCA_OBM_S_STATE]) {
			ol.kind = PCA_OBM_INTERP_EMBEDDED;
			ol.kind_source = "PyInterpreterState.obmalloc is a struct _obmalloc_state (DWARF)";
		} else if (member->size == ol.fields[PCA_OBM_AO_ADDRESS].size) {
			ol.kind = PCA_OBM_INTERP_POINTER;
			ol.kind_source = "PyInterpreterState.obmalloc is a pointer (DWARF)";
		} else {
			return pca_error_create(PCA_ERROR_DEBUGINFO,
						"PyInterpreterState.obmalloc has %llu bytes: neither a struct _obmalloc_state (%llu) nor a pointer (Python %s)",
						(unsigned long long)member->size,
						(unsigned long long)ol.sizes[PCA_OBM_S_STATE],
						layout->version);
		}
	} else {
		ol.kind = PCA_OBM_STATICS;
		ol.kind_source = "file statics of Objects/obmalloc.c (ELF symbols)";
		err = resolve_statics(&ol, symbols, layout->version);
		if (err)
			return err;
	}
	err = check_variables(&ol, layout->version);
	if (err)
		return err;
	*ret = ol;
	return NULL;
}

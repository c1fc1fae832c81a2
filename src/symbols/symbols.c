/* libdwfl session for a core: the fixed sequence of elfutils' core-file.c /
 * src/stack.c (dwfl_begin, dwfl_core_file_report, dwfl_report_end), then the
 * CPython module, its symbols and DWARF. */
#include "symbols/symbols.h"
#include "symbols/recorded.h"

#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/vector.h"

/* A symbol lookup's answer, kept: a lookup scans the whole symbol table
 * (tens of thousands of entries), and the same few hundred names are asked
 * for again by every census (obmalloc's statics, type objects), hundreds
 * of times by the census fuzz harness, which reruns it on one session. */
struct symbol_answer {
	char *name;
	bool found, scan_found; /* scan_found: in python_module's own table */
	uint64_t addr, size;
};
PCA_DEFINE_VECTOR(symbol_answers, struct symbol_answer)

struct pca_symbols {
	struct pca_target *target;
	Dwfl *dwfl;
	Dwfl_Callbacks callbacks;
	char *debuginfo_path;
	Dwfl_Module *python_module;
	Dwarf *dwarf;
	char *executable;
	char *python_file;
	struct pca_dwarf_types *types; /* built on first use */
	/* No DWARF: the recorded answers for this build-id (recorded.h), or
	 * for another build of the same minor (recorded_exact false: its
	 * local symbols are not used, the layout is validated while read). */
	const struct pca_recorded_build *recorded;
	bool recorded_exact;
	/* Said to the user with the result (pca_symbols_layout_warning). */
	char *layout_warning;
	char help[256]; /* pca_symbols_debuginfo_help, made on first use */
	Dwarf_Addr bias; /* of python_module: recorded symbols are relative to it */
	/* --layout-from: an offline session on the unstripped copy. */
	Dwfl *layout_dwfl;
	Dwfl_Callbacks layout_callbacks;
	Dwfl_Module *layout_module;
	Dwarf_Addr layout_bias;
	/* Its local symbols stand for the stripped file's: same build-id, or
	 * the exported symbols all at the same link-time addresses. */
	bool layout_symbols;
	struct symbol_answers answers; /* every lookup so far, in order asked */
};

/* Module scan state for dwfl_getmodules. */
struct module_scan {
	Dwfl_Module *libpython;
	Dwfl_Module *main;
	uint64_t entry;
	struct pca_target *target;
};

static const char default_debug_root[] = "/usr/lib/debug";

/* The live target whose deleted files find_elf_live may open. libdwfl's
 * find_elf callback gets no pointer of ours, and at most one live session
 * is open at a time (diff CORE -p PID has one live side). */
static struct pca_target *live_target;

/* For a live process: a library deleted or replaced on disk since it was
 * loaded (an upgrade) is found by the name the dynamic linker recorded, which
 * is gone; the snapshot's NT_FILE names it /proc/PID/map_files/START-END,
 * which still opens it. libdwfl checks the build-id of what we return. */
static int find_elf_live(Dwfl_Module *mod, void **userdata, const char *modname,
			 Dwarf_Addr base, char **file_name, Elf **elfp)
{
	int fd = dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
	if (fd >= 0 || *elfp || !live_target)
		return fd;
	Dwarf_Addr start, end;
	dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL);
	const struct pca_target_mapping *m = pca_target_mappings(live_target);
	for (size_t i = 0; i < pca_target_mapping_count(live_target); i++) {
		if (m[i].start < start || m[i].start >= end || m[i].file_offset != 0 ||
		    !strstr(m[i].path, "/map_files/"))
			continue;
		fd = open(m[i].path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			free(*file_name);
			*file_name = strdup(m[i].path);
			return fd;
		}
	}
	return -1;
}

static void hex_build_id(const unsigned char *bits, int len, char *out, size_t out_size)
{
	size_t pos = 0;
	out[0] = '\0';
	for (int i = 0; i < len && pos + 3 <= out_size; i++)
		pos += (size_t)snprintf(out + pos, out_size - pos, "%02x", bits[i]);
	if (len <= 0)
		snprintf(out, out_size, "none");
}

static void module_build_id(Dwfl_Module *mod, char *out, size_t out_size)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	hex_build_id(bits, len, out, out_size);
}

static bool file_build_id(const char *path, char *out, size_t out_size)
{
	/* The path may come from the core: a FIFO or device there must not
	 * block us, and only a regular file is read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool ok = false;
	if (elf) {
		const void *bits;
		ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
		if (len > 0) {
			hex_build_id(bits, (int)len, out, out_size);
			ok = true;
		}
		elf_end(elf);
	}
	close(fd);
	return ok;
}

static int scan_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		       void *arg)
{
	(void)userdata;
	struct module_scan *scan = arg;
	Dwarf_Addr end;
	dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!scan->libpython && strncmp(base, "libpython3", 10) == 0)
		scan->libpython = mod;
	if (scan->entry && scan->entry >= start && scan->entry < end)
		scan->main = mod;
	return DWARF_CB_OK;
}

/* Unsaved read-only pages of verified files may be read from disk. */
static int attach_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			 void *arg)
{
	(void)userdata;
	struct pca_symbols *s = arg;
	const unsigned char *bits;
	GElf_Addr vaddr;
	Dwarf_Addr bias;
	/* dwfl_module_getelf refuses a file whose build-id differs from the
	 * core's, so a file it returns for a module with a known id is the one. */
	if (dwfl_module_build_id(mod, &bits, &vaddr) <= 0 || !dwfl_module_getelf(mod, &bias))
		return DWARF_CB_OK;
	const char *mainfile = NULL;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
	if (!mainfile) {
		/* libdwfl leaves the name unset for an executable it opened itself
		 * from the core's notes: check the recorded path by build-id. */
		char core_id[128], file_id[128];
		module_build_id(mod, core_id, sizeof(core_id));
		if (!file_build_id(name, file_id, sizeof(file_id)) || strcmp(core_id, file_id) != 0)
			return DWARF_CB_OK;
		mainfile = name;
	}
	pca_error_destroy(pca_target_attach_file(s->target, start, mainfile));
	return DWARF_CB_OK;
}

static const char *module_name(Dwfl_Module *mod)
{
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	return name ? name : "?";
}

/* Debian and most distributions name the debug package after the binary's package. */
static void debug_package_hint(const char *path, char *out, size_t out_size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int major, minor;
	if (sscanf(base, "python%d.%d", &major, &minor) == 2)
		snprintf(out, out_size, "install python%d.%d-dbg", major, minor);
	else if (sscanf(base, "libpython%d.%d", &major, &minor) == 2)
		snprintf(out, out_size, "install libpython%d.%d-dbg", major, minor);
	else
		snprintf(out, out_size, "install the debug symbols for %s", base);
}

static struct pca_error *check_executable_override(struct pca_symbols *s, Dwfl_Module *main,
						   const char *exe)
{
	char core_id[128], file_id[128];
	if (access(exe, R_OK) != 0)
		return pca_error_create(PCA_ERROR_DEBUGINFO, "cannot read executable %s: %s", exe,
					strerror(errno));
	if (!file_build_id(exe, file_id, sizeof(file_id)))
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"%s has no build-id: pass the executable the core was made with",
					exe);
	if (!main)
		return NULL;
	module_build_id(main, core_id, sizeof(core_id));
	if (strcmp(core_id, "none") != 0 && strcmp(core_id, file_id) != 0)
		return pca_error_create(
			PCA_ERROR_DEBUGINFO,
			"executable %s (build-id %s) is not the one in %s (build-id %s): pass the executable the core was made with",
			exe, file_id, pca_target_path(s->target), core_id);
	return NULL;
}

static struct pca_error *module_elf_error(Dwfl_Module *mod)
{
	char core_id[128], file_id[128];
	const char *name = module_name(mod);
	module_build_id(mod, core_id, sizeof(core_id));
	if (file_build_id(name, file_id, sizeof(file_id)) && strcmp(file_id, core_id) != 0)
		return pca_error_create(
			PCA_ERROR_DEBUGINFO,
			"%s on this machine (build-id %s) is not the file the core was made with (build-id %s): install the same build or pass it with --exe",
			name, file_id, core_id);
	return pca_error_create(PCA_ERROR_DEBUGINFO,
				"cannot find %s (build-id %s) recorded in the core: %s; pass the executable with --exe",
				name, core_id, dwfl_errmsg(-1));
}

static struct pca_error *build_debuginfo_path(struct pca_symbols *s,
					      const struct pca_symbols_options *opts)
{
	const char *root = getenv("PCA_DEBUGINFO_PATH");
	size_t len = 16 + strlen(root ? root : default_debug_root);
	for (size_t i = 0; i < opts->ndebug_dirs; i++)
		len += strlen(opts->debug_dirs[i]) + 1;
	s->debuginfo_path = malloc(len);
	if (!s->debuginfo_path)
		return &pca_error_nomem;
	/* '-': skip CRC checks of .gnu_debuglink (the build-id check is what matters). */
	strcpy(s->debuginfo_path, "-:.debug:");
	strcat(s->debuginfo_path, root ? root : default_debug_root);
	for (size_t i = 0; i < opts->ndebug_dirs; i++) {
		strcat(s->debuginfo_path, ":");
		strcat(s->debuginfo_path, opts->debug_dirs[i]);
	}
	return NULL;
}

/* A path that names anything but a regular file (a FIFO, a device) would
 * block libdwfl's open(2) or feed it endless bytes: such paths come from
 * the core (NT_FILE) or the command line and are never opened. */
static bool openable(const char *path)
{
	struct stat st;
	return stat(path, &st) != 0 || S_ISREG(st.st_mode); /* absent: libdwfl says so */
}

/* dwfl_build_id_find_elf opens the file the core names for the module
 * (*file_name) first: drop a name that is not a regular file. */
static int find_elf_checked(Dwfl_Module *mod, void **userdata, const char *modname,
			    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	if (*file_name && !openable(*file_name)) {
		free(*file_name);
		*file_name = NULL;
	}
	return dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
}

/* "3.10.13 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]" at p: Py_GetVersion()'s
 * format in every version (Python/getversion.c "%.80s (%.80s) %.80s"). */
static bool version_string_at(const char *p, size_t avail, int *ret_minor, int *ret_micro)
{
	enum { buffer_size = 250 }; /* getversion.c: static char version[250] */
	int minor, micro, n = 0;
	if (avail < 16 || p[0] != '3' || p[1] != '.' ||
	    sscanf(p, "3.%3d.%3d%n", &minor, &micro, &n) != 2 || n < 5)
		return false;
	const char *end = memchr(p, '\0', avail < buffer_size ? avail : buffer_size);
	if (!end)
		return false;
	const char *q = p + n;
	while (q < end && (*q == '+' || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')))
		q++; /* "3.13.0rc1", "3.12.0+" */
	if (end - q < 4 || q[0] != ' ' || q[1] != '(' || !strstr(q, ") ") || !strchr(q, '['))
		return false;
	*ret_minor = minor;
	*ret_micro = micro;
	return true;
}

bool pca_symbols_find_version_string(struct pca_symbols *s, char *out, size_t out_size)
{
	/* The buffer is a static array (16-byte aligned by the x86-64 ABI) in
	 * the runtime file's .bss, saved in every core: scan that file's saved
	 * memory, a few MB at most. */
	Dwarf_Addr start, end;
	dwfl_module_info(s->python_module, NULL, &start, &end, NULL, NULL, NULL, NULL);
	enum { chunk = 1 << 16, overlap = 256 };
	char *buf = malloc(chunk + overlap);
	bool found = false;
	for (size_t i = 0; buf && !found && i < pca_target_segment_count(s->target); i++) {
		uint64_t vaddr, saved;
		pca_target_segment(s->target, i, &vaddr, &saved);
		uint64_t lo = vaddr > start ? vaddr : start;
		uint64_t hi = vaddr + saved < end ? vaddr + saved : end;
		for (uint64_t a = (lo + 15) & ~15ull; a < hi && !found; a += chunk) {
			size_t len = hi - a < chunk + overlap ? (size_t)(hi - a) : chunk + overlap;
			if (!pca_target_try_read(s->target, a, buf, len))
				continue;
			for (size_t off = 0; off < len && off < chunk && !found; off += 16) {
				int minor, micro;
				if (version_string_at(buf + off, len - off, &minor, &micro)) {
					snprintf(out, out_size, "%.*s", (int)strcspn(buf + off, " "),
						 buf + off);
					found = true;
				}
			}
		}
	}
	free(buf);
	return found;
}

/* The version a stripped module reports by itself, for choosing a table and
 * for messages: 3.11+ exports Py_Version (PY_VERSION_HEX); before, the
 * version string in memory, else the file name says the minor. Returns the
 * minor (-1 unknown); *ret_micro is -1 when unknown. */
static int stripped_version(struct pca_symbols *s, char *out, size_t out_size, int *ret_micro)
{
	uint64_t addr, hex;
	char text[32];
	int major, minor, micro;
	*ret_micro = -1;
	if (pca_symbols_lookup(s, "Py_Version", &addr) &&
	    pca_target_try_read_u64(s->target, addr, &hex) && ((hex >> 24) & 0xff) == 3) {
		snprintf(out, out_size, "Python %d.%d.%d", (int)((hex >> 24) & 0xff),
			 (int)((hex >> 16) & 0xff), (int)((hex >> 8) & 0xff));
		*ret_micro = (int)((hex >> 8) & 0xff);
		return (int)((hex >> 16) & 0xff);
	}
	if (pca_symbols_find_version_string(s, text, sizeof(text)) &&
	    sscanf(text, "%d.%d.%d", &major, &minor, &micro) == 3) {
		snprintf(out, out_size, "Python %s", text);
		*ret_micro = micro;
		return minor;
	}
	const char *base = strrchr(s->python_file, '/');
	base = base ? base + 1 : s->python_file;
	if (sscanf(base, "libpython%d.%d", &major, &minor) == 2 ||
	    sscanf(base, "python%d.%d", &major, &minor) == 2) {
		snprintf(out, out_size, "Python %d.%d", major, minor);
		return minor;
	}
	snprintf(out, out_size, "an unknown Python version");
	return -1;
}

static bool scan_symtab(Dwfl_Module *mod, const char *name, uint64_t *ret, uint64_t *ret_size);

/* --layout-from FILE: its DWARF answers the type queries and its symbol
 * table the local symbols the stripped file lost (same link-time addresses:
 * the user says it is the same build; every structure is validated while
 * walking). A different build-id is said with both ids; its local symbols
 * are then used only if its exported ones sit where the core's file has
 * them. */
static struct pca_error *open_layout_from(struct pca_symbols *s, const char *path)
{
	s->layout_callbacks.find_elf = dwfl_build_id_find_elf;
	s->layout_callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->layout_callbacks.section_address = dwfl_offline_section_address;
	s->layout_callbacks.debuginfo_path = &s->debuginfo_path;
	s->layout_dwfl = dwfl_begin(&s->layout_callbacks);
	if (!s->layout_dwfl)
		return pca_error_create(PCA_ERROR_OTHER, "libdwfl: %s", dwfl_errmsg(-1));
	dwfl_report_begin(s->layout_dwfl);
	s->layout_module = dwfl_report_offline(s->layout_dwfl, "layout-from", path, -1);
	dwfl_report_end(s->layout_dwfl, NULL, NULL);
	if (!s->layout_module)
		return pca_error_create(PCA_ERROR_DEBUGINFO, "--layout-from %s: %s", path,
					dwfl_errmsg(-1));
	s->dwarf = dwfl_module_getdwarf(s->layout_module, &s->layout_bias);
	if (!s->dwarf)
		return pca_error_create(PCA_ERROR_DEBUGINFO,
					"--layout-from %s: the file has no debug info either (pass an unstripped build)",
					path);
	char core_id[128], file_id[128];
	module_build_id(s->python_module, core_id, sizeof(core_id));
	module_build_id(s->layout_module, file_id, sizeof(file_id));
	s->layout_symbols = strcmp(core_id, file_id) == 0;
	if (s->layout_symbols)
		return NULL;
	/* Another build: its local symbols are only where the stripped file's
	 * were if both were linked alike, which the exported symbols show. */
	static const char *const anchors[] = {"Py_GetVersion", "PyType_Type",
					      "PyBaseObject_Type", "PyCode_Type",
					      "PyUnicode_Type", "PyBytes_Type"};
	s->layout_symbols = true;
	for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++) {
		uint64_t a, b, size;
		if (!scan_symtab(s->python_module, anchors[i], &a, &size) ||
		    !scan_symtab(s->layout_module, anchors[i], &b, &size) ||
		    a - s->bias != b - s->layout_bias)
			s->layout_symbols = false;
	}
	if (asprintf(&s->layout_warning,
		     "--layout-from %s (build-id %s) is not the build of %s (build-id %s): its layouts are used as you said the builds are identical, %s; every structure is validated while reading",
		     path, file_id, s->python_file, core_id,
		     s->layout_symbols ? "and its symbols, linked at the same addresses"
				       : "not its local symbols (linked at other addresses)") < 0)
		return &pca_error_nomem;
	return NULL;
}

/* No DWARF for the runtime's module: use the layouts recorded from the DWARF
 * of the same build (same build-id), or say what would help. Kept apart from
 * pca_symbols_open so the session's opening can change independently. */
static struct pca_error *open_without_debuginfo(struct pca_symbols *s, Dwfl_Module *mod,
						const char *layout_from)
{
	char core_id[128], version[64];
	if (layout_from)
		return open_layout_from(s, layout_from);
	module_build_id(mod, core_id, sizeof(core_id));
	s->recorded = pca_recorded_find(core_id);
	s->recorded_exact = s->recorded != NULL;
	if (s->recorded)
		return NULL;
	/* Py_Version lives in .rodata, which a core rarely saves: read it from
	 * the verified file. */
	dwfl_getmodules(s->dwfl, attach_module, s, 0);
	int micro;
	int minor = stripped_version(s, version, sizeof(version), &micro);
	/* Layouts exist for 3.6-3.13 only (layout.c refuses newer versions with
	 * debug info too): say so rather than send the user after a -dbg package. */
	if (minor > 13)
		return pca_error_create(
			PCA_ERROR_NOT_PYTHON,
			"%s (%s) is not supported yet: pycore-analyze reads CPython 3.6 to 3.13 (see docs/no-debug-info.md for 3.14+)",
			version, s->python_file);
	/* Another build of the same minor (a distribution's, another micro):
	 * CPython keeps structure layouts within a release series, so the
	 * closest row's types serve; every structure is validated while read
	 * (interp/, debug_offsets.c) and a disagreement stops with exit 2. */
	s->recorded = minor >= 0 ? pca_recorded_find_minor(3, minor, micro) : NULL;
	if (s->recorded) {
		if (asprintf(&s->layout_warning,
			     "no layout table for %s (%s, build-id %s): using the table of %s (%s); every structure is validated while reading, and what only this build's debug info gives is unavailable",
			     version, s->python_file, core_id, s->recorded->version,
			     s->recorded->build) < 0)
			return &pca_error_nomem;
		return NULL;
	}
	return pca_error_create(
		PCA_ERROR_DEBUGINFO,
		"no debug info for %s (%s, build-id %s) and no built-in layout table for this build or its minor version: %s (docs/no-debug-info.md: adding a table)",
		s->python_file, version, core_id, pca_symbols_debuginfo_help(s));
}

struct pca_error *pca_symbols_open(struct pca_target *t, const struct pca_symbols_options *opts,
				   struct pca_symbols **ret)
{
	if (opts->executable && !openable(opts->executable))
		return pca_error_create(PCA_ERROR_USAGE,
					"%s is not a regular file: pass the executable the core was made from",
					opts->executable);
	struct pca_error *err = NULL;
	struct pca_symbols *s = calloc(1, sizeof(*s));
	if (!s)
		return &pca_error_nomem;
	s->target = t;
	err = build_debuginfo_path(s, opts);
	if (err)
		goto fail;
	s->callbacks.find_elf = find_elf_checked;
	if (pca_target_live(t)) {
		live_target = t;
		s->callbacks.find_elf = find_elf_live;
	}
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->callbacks);
	if (!s->dwfl) {
		err = pca_error_create(PCA_ERROR_OTHER, "libdwfl: %s", dwfl_errmsg(-1));
		goto fail;
	}
	dwfl_report_begin(s->dwfl);
	/* A live process whose executable was deleted or replaced on disk: its
	 * recorded path is gone, /proc/PID/exe still opens the file it runs. */
	const struct pca_target_live *live = pca_target_live(t);
	const char *core_exe = opts->executable;
	if (!core_exe && live && live->deleted_executable)
		core_exe = live->deleted_executable;
	int n = dwfl_core_file_report(s->dwfl, pca_target_elf(t), core_exe);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (n < 0) {
		err = pca_error_create(PCA_ERROR_FORMAT, "%s: cannot list the modules of the core: %s",
				       pca_target_path(t), dwfl_errmsg(-1));
		goto fail;
	}
	struct module_scan scan = {.entry = pca_target_entry(t), .target = t};
	dwfl_getmodules(s->dwfl, scan_module, &scan, 0);
	if (opts->executable) {
		err = check_executable_override(s, scan.main, opts->executable);
		if (err)
			goto fail;
	}
	if (scan.main) {
		const char *mainfile = NULL;
		Dwarf_Addr bias;
		dwfl_module_getelf(scan.main, &bias);
		dwfl_module_info(scan.main, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
		s->executable = strdup(mainfile ? mainfile : module_name(scan.main));
	} else {
		const char *execfn = pca_target_execfn(t);
		s->executable = strdup(opts->executable ? opts->executable : execfn ? execfn : "?");
	}
	if (!s->executable) {
		err = &pca_error_nomem;
		goto fail;
	}

	Dwfl_Module *mod = scan.libpython ? scan.libpython : scan.main;
	if (!mod) {
		err = pca_error_create(PCA_ERROR_NOT_PYTHON,
				       "%s: cannot find the executable in the core: pass it as the second argument",
				       pca_target_path(t));
		goto fail;
	}
	Dwarf_Addr bias;
	if (!dwfl_module_getelf(mod, &bias)) {
		err = module_elf_error(mod);
		goto fail;
	}
	s->python_module = mod;
	s->bias = bias;
	uint64_t probe;
	if (!pca_symbols_lookup(s, "Py_GetVersion", &probe)) {
		err = pca_error_create(PCA_ERROR_NOT_PYTHON,
				       "no Python interpreter found in %s (executable %s): not a CPython process",
				       pca_target_path(t), s->executable);
		goto fail;
	}
	const char *mainfile = NULL;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
	s->python_file = strdup(mainfile ? mainfile : module_name(mod));
	if (!s->python_file) {
		err = &pca_error_nomem;
		goto fail;
	}
	s->dwarf = dwfl_module_getdwarf(mod, &bias);
	if (!s->dwarf) {
		err = open_without_debuginfo(s, mod, opts->layout_from);
		if (err)
			goto fail;
	}
	dwfl_getmodules(s->dwfl, attach_module, s, 0);
	*ret = s;
	return NULL;
fail:
	pca_symbols_destroy(s);
	return err;
}

void pca_symbols_destroy(struct pca_symbols *s)
{
	if (!s)
		return;
	if (live_target == s->target)
		live_target = NULL;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	if (s->layout_dwfl)
		dwfl_end(s->layout_dwfl);
	pca_dwarf_types_destroy(s->types);
	free(s->layout_warning);
	for (size_t i = 0; i < s->answers.size; i++)
		free(s->answers.data[i].name);
	symbol_answers_deinit(&s->answers);
	free(s->debuginfo_path);
	free(s->executable);
	free(s->python_file);
	free(s);
}

const char *pca_symbols_executable(const struct pca_symbols *s) { return s->executable; }
const char *pca_symbols_python_file(const struct pca_symbols *s) { return s->python_file; }

bool pca_symbols_lookup(struct pca_symbols *s, const char *name, uint64_t *ret)
{
	uint64_t size;
	return pca_symbols_lookup_sized(s, name, ret, &size);
}

/* An exact match wins; else a local symbol that the compiler renamed with a
 * suffix (GCC's LTO gives `subtype_traverse.lto_priv.0` in Debian's
 * python3.11). Addresses as the module is loaded. */
static bool scan_symtab(Dwfl_Module *mod, const char *name, uint64_t *ret, uint64_t *ret_size)
{
	int n = dwfl_module_getsymtab(mod);
	size_t len = strlen(name);
	bool have_suffixed = false;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *symname = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!symname || strncmp(symname, name, len) != 0 || sym.st_shndx == SHN_UNDEF)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_OBJECT && type != STT_FUNC && type != STT_TLS)
			continue;
		if (symname[len] == '\0') {
			*ret = addr;
			*ret_size = sym.st_size;
			return true;
		}
		if (symname[len] == '.' && GELF_ST_BIND(sym.st_info) == STB_LOCAL && !have_suffixed) {
			have_suffixed = true;
			*ret = addr;
			*ret_size = sym.st_size;
		}
	}
	return have_suffixed;
}

static bool lookup_uncached(struct pca_symbols *s, const char *name, uint64_t *ret,
			    uint64_t *ret_size, bool *ret_scan_found)
{
	bool found = *ret_scan_found = scan_symtab(s->python_module, name, ret, ret_size);
	pca_record_symbol(name, found, found ? *ret - s->bias : 0, found ? *ret_size : 0);
	if (found)
		return true;
	if (s->recorded_exact) {
		/* A local symbol the stripped file lost: the same build had it here. */
		bool exists;
		uint64_t rel;
		if (pca_recorded_symbol(s->recorded, name, &exists, &rel, ret_size) && exists) {
			*ret = rel + s->bias;
			return true;
		}
	} else if (s->layout_symbols && scan_symtab(s->layout_module, name, ret, ret_size)) {
		*ret = *ret - s->layout_bias + s->bias;
		return true;
	}
	return false;
}

bool pca_symbols_lookup_sized(struct pca_symbols *s, const char *name, uint64_t *ret,
			      uint64_t *ret_size)
{
	for (size_t i = 0; i < s->answers.size; i++) {
		const struct symbol_answer *a = &s->answers.data[i];
		if (strcmp(a->name, name) != 0)
			continue;
		/* recording (tools/gen_layout_tables.py) sees every lookup */
		pca_record_symbol(name, a->scan_found, a->scan_found ? a->addr - s->bias : 0,
				  a->scan_found ? a->size : 0);
		*ret = a->addr;
		*ret_size = a->size;
		return a->found;
	}
	struct symbol_answer a = {.name = strdup(name)};
	a.found = lookup_uncached(s, name, &a.addr, &a.size, &a.scan_found);
	*ret = a.addr;
	*ret_size = a.size;
	/* no room to remember: answered all the same, and asked again next time */
	if (!a.name || !symbol_answers_append(&s->answers, &a))
		free(a.name);
	return a.found;
}

/* ---- DWARF: the queries are in dwarf.c ---- */

struct pca_error *pca_symbols_find_types(struct pca_symbols *s, const char *const *names,
					 size_t count, Dwarf_Die *dies, bool *found)
{
	if (s->recorded) {
		for (size_t i = 0; i < count; i++)
			found[i] = pca_recorded_type(s->recorded, names[i], &dies[i]);
		return NULL;
	}
	if (!s->types) {
		struct pca_error *err =
			pca_dwarf_types_create(s->dwfl, s->python_module, s->dwarf, &s->types);
		if (err)
			return err;
	}
	for (size_t i = 0; i < count; i++) {
		found[i] = pca_dwarf_types_find(s->types, names[i], &dies[i]);
		uint64_t size = 0;
		if (found[i] && pca_recording())
			pca_dwarf_type_size(&dies[i], &size);
		pca_record_type(names[i], &dies[i], found[i], size);
	}
	return NULL;
}

bool pca_symbols_find_enumerator(struct pca_symbols *s, const char *name, int64_t *ret)
{
	if (s->recorded)
		return pca_recorded_enumerator(s->recorded, name, ret);
	bool found = pca_dwarf_find_enumerator(s->dwarf, name, ret);
	pca_record_enumerator(name, found, found ? *ret : 0);
	return found;
}

const char *pca_symbols_debuginfo_help(struct pca_symbols *s)
{
	if (!s->help[0]) {
		char hint[128];
		debug_package_hint(s->python_file ? s->python_file : "?", hint, sizeof(hint));
		snprintf(s->help, sizeof(s->help),
			 "%s, pass --debug-dir DIR, set DEBUGINFOD_URLS, or pass --layout-from with an unstripped copy of the same build",
			 hint);
	}
	return s->help;
}

const char *pca_symbols_layout_source(const struct pca_symbols *s)
{
	return s->recorded ? "table" : "dwarf";
}

bool pca_symbols_layout_exact(const struct pca_symbols *s) { return !s->layout_warning; }
const char *pca_symbols_layout_warning(const struct pca_symbols *s) { return s->layout_warning; }


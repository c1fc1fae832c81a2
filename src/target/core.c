/* ELF core reader: PT_LOAD segments from the mapped file, notes parsed once. */
#include "target/target.h"

#include "base/vector.h"
#include "target/decompress.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

struct segment {
	uint64_t vaddr, filesz, memsz;
	/* filesz when the core was opened: the geometry callers index by
	 * (pca_target_segment) stays fixed when a shrinking file clips filesz. */
	uint64_t saved;
	const uint8_t *data; /* into the mapped core; filesz bytes */
};

struct attached_file {
	char *mapped_path;
	const uint8_t *data;
	size_t size;
	struct guard *guard;
};

/* A mapped file can shrink under us (a disk quota, a core still being
 * written or rotated, coredumpctl cleaning up): touching a page beyond the
 * new end raises SIGBUS. Every mapping of a file is registered here; the
 * SIGBUS handler replaces the lost pages (from the faulting one to the end
 * of the mapping) with zero pages, records the offset in `shrunk_at`, and
 * lets the access go on. The reader then clips its segments to that offset
 * (clip_to_guard), so later reads fault the normal way, and the session
 * reports a partial result. Only the one access that took the fault sees
 * zeros, and the result is marked partial because of it. A fault outside
 * every guard goes to the previous handler (a real bug stays a crash). */
struct guard {
	_Atomic uintptr_t start;
	_Atomic size_t size;
	_Atomic uint64_t shrunk_at; /* UINT64_MAX: intact */
};
enum { max_guards = 64 };
static struct guard guards[max_guards];
static struct sigaction previous_sigbus;
static bool sigbus_installed;
static uintptr_t guard_page_size;

static void on_sigbus(int sig, siginfo_t *si, void *context)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	for (size_t i = 0; i < max_guards; i++) {
		uintptr_t start = atomic_load_explicit(&guards[i].start, memory_order_relaxed);
		size_t size = atomic_load_explicit(&guards[i].size, memory_order_relaxed);
		if (!size || a - start >= size)
			continue;
		uintptr_t page = a & ~(guard_page_size - 1);
		if (mmap((void *)page, start + size - page, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		uint64_t off = page - start;
		if (off < atomic_load_explicit(&guards[i].shrunk_at, memory_order_relaxed))
			atomic_store_explicit(&guards[i].shrunk_at, off, memory_order_relaxed);
		/* The faulting thread's windows are emptied, so that its next view
		 * takes the slow path, which clips the segments. Another thread's
		 * window (a census worker) may read the zero pages until it moves:
		 * the result is partial either way (pca_target_shrunk). */
		*(volatile uint64_t *)&pca_target_windows[0].size = 0;
		*(volatile uint64_t *)&pca_target_windows[1].size = 0;
		return;
	}
	/* Not a file of ours: the previous disposition decides (the access is
	 * retried on return and faults again). */
	if (previous_sigbus.sa_flags & SA_SIGINFO && previous_sigbus.sa_sigaction) {
		previous_sigbus.sa_sigaction(sig, si, context);
		return;
	}
	if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN &&
	    previous_sigbus.sa_handler) {
		previous_sigbus.sa_handler(sig);
		return;
	}
	signal(SIGBUS, SIG_DFL);
}

/* NULL when every slot is taken: that mapping is read unguarded. */
static struct guard *guard_register(const void *start, size_t size)
{
	/* Installed again when someone replaced it since (a test harness). */
	struct sigaction current;
	if (sigbus_installed && sigaction(SIGBUS, NULL, &current) == 0 &&
	    (!(current.sa_flags & SA_SIGINFO) || current.sa_sigaction != on_sigbus))
		sigbus_installed = false;
	if (!sigbus_installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		guard_page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
		if (sigaction(SIGBUS, &sa, &previous_sigbus) != 0)
			return NULL;
		sigbus_installed = true;
	}
	for (size_t i = 0; i < max_guards; i++) {
		if (atomic_load(&guards[i].size))
			continue;
		atomic_store(&guards[i].shrunk_at, UINT64_MAX);
		atomic_store(&guards[i].start, (uintptr_t)start);
		atomic_store(&guards[i].size, size);
		return &guards[i];
	}
	return NULL;
}

static void guard_release(struct guard *g)
{
	if (g) {
		atomic_store(&g->size, 0);
	}
}

static uint64_t guard_shrunk_at(const struct guard *g)
{
	return g ? atomic_load_explicit(&g->shrunk_at, memory_order_relaxed) : UINT64_MAX;
}

PCA_DEFINE_VECTOR(thread_vector, struct pca_target_thread)
PCA_DEFINE_VECTOR(attached_file_vector, struct attached_file)

struct pca_target {
	char *path;
	int fd;
	const uint8_t *map;
	size_t map_size;
	struct guard *guard;   /* of map */
	uint64_t clipped_at;   /* the shrunk_at the segments are clipped to */
	bool shrunk;           /* a mapped file (core or attached) shrank */
	Elf *elf;
	struct segment *segments; /* sorted by vaddr */
	size_t nsegments;
	uint64_t missing_bytes;
	struct thread_vector threads;
	struct pca_target_mapping *mappings;
	size_t nmappings;
	char *mapping_names; /* storage for mappings[].path */
	struct attached_file_vector files;
	int32_t pid, signal;
	enum pca_compression compression;
	bool compressed_truncated; /* the compressed stream ended early */
	uint64_t execfn_addr, entry;
	char *execfn;
	struct pca_target_live live;
	bool is_live;
	char live_exe[32];
	char fname[sizeof(((struct elf_prpsinfo *)0)->pr_fname) + 1]; /* NT_PRPSINFO, NUL-terminated */
};

_Thread_local struct pca_target_window pca_target_windows[2];

/* find_segment's caches, per thread like the window: the segment last
 * found, and the one last found in each 2 MiB granule of the address
 * space, direct-mapped (a census jumps between the arenas of a large heap,
 * where the last hit alone misses most of the time and a binary search
 * over the segments costs more than the read it serves). An entry may be
 * another target's: it is used only when it is one of t's segments. */
static _Thread_local struct {
	const struct segment *last;
	struct {
		uint64_t granule;
		const struct segment *segment;
	} granules[1024];
} segment_cache;

/* This thread's windows into t: empty (t's segments changed, or t goes
 * away and another target may take its address). */
static void forget_window(const struct pca_target *t)
{
	for (int i = 0; i < 2; i++)
		if (pca_target_windows[i].target == t)
			*(volatile uint64_t *)&pca_target_windows[i].size = 0;
}

static bool own_segment(const struct pca_target *t, const struct segment *s)
{
	return s >= t->segments && s < t->segments + t->nsegments;
}

/* A core with more segments or notes than this is not something the kernel or
 * gdb writes; refuse rather than allocate without bound. */
static const size_t max_segments = 1u << 22;
static const size_t max_threads = 1u << 20;

static int segment_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static void parse_prstatus(struct pca_target *t, const uint8_t *desc, size_t size)
{
	struct elf_prstatus st;
	if (size < sizeof(st) || t->threads.size >= max_threads)
		return;
	memcpy(&st, desc, sizeof(st));
	struct pca_target_thread *th = thread_vector_append_entry(&t->threads);
	if (!th)
		return;
	th->tid = st.pr_pid;
	th->signal = st.pr_cursig;
	th->fs_base = (uint64_t)st.pr_reg[FS_BASE];
	th->pc = (uint64_t)st.pr_reg[RIP];
	th->sp = (uint64_t)st.pr_reg[RSP];
	if (t->threads.size == 1) {
		/* The kernel writes the thread that took the signal first. */
		if (!t->pid) /* NT_PRPSINFO, when present, overrides */
			t->pid = st.pr_pid;
		if (!t->signal)
			t->signal = st.pr_cursig;
	}
}

static void parse_nt_file(struct pca_target *t, const uint8_t *desc, size_t size)
{
	/* long count, long page_size, count * {start, end, pgoff}, then names. */
	if (size < 16 || t->mappings)
		return;
	uint64_t count, page_size;
	memcpy(&count, desc, 8);
	memcpy(&page_size, desc + 8, 8);
	/* A hostile note could make reads come from the wrong file offset. */
	if (page_size == 0 || (page_size & (page_size - 1)) || page_size > (1u << 30))
		return;
	if (count > (size - 16) / 24)
		return;
	const uint8_t *names = desc + 16 + count * 24;
	size_t names_size = size - 16 - count * 24;
	t->mapping_names = malloc(names_size + 1);
	t->mappings = calloc(count ? count : 1, sizeof(*t->mappings));
	if (!t->mapping_names || !t->mappings)
		return;
	memcpy(t->mapping_names, names, names_size);
	t->mapping_names[names_size] = '\0';
	size_t off = 0;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t v[3];
		memcpy(v, desc + 16 + i * 24, 24);
		if (off >= names_size)
			break;
		const char *path = t->mapping_names + off;
		off += strlen(path) + 1;
		if (v[1] < v[0] || v[2] > UINT64_MAX / page_size)
			continue; /* names stay paired with their entries */
		struct pca_target_mapping *m = &t->mappings[t->nmappings++];
		m->start = v[0];
		m->end = v[1];
		m->file_offset = v[2] * page_size;
		m->path = path;
	}
}

static void parse_auxv(struct pca_target *t, const uint8_t *desc, size_t size)
{
	for (size_t off = 0; off + 16 <= size; off += 16) {
		uint64_t type, val;
		memcpy(&type, desc + off, 8);
		memcpy(&val, desc + off + 8, 8);
		if (type == AT_EXECFN)
			t->execfn_addr = val;
		if (type == AT_ENTRY)
			t->entry = val;
		if (type == AT_NULL)
			break;
	}
}

static void parse_notes(struct pca_target *t, Elf_Data *data)
{
	GElf_Nhdr nhdr;
	size_t off = 0, name_off, desc_off, next;
	while (off < data->d_size &&
	       (next = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > off) {
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;
		switch (nhdr.n_type) {
		case NT_PRSTATUS:
			parse_prstatus(t, desc, nhdr.n_descsz);
			break;
		case NT_SIGINFO:
			if (nhdr.n_descsz >= sizeof(int32_t) && !t->signal)
				memcpy(&t->signal, desc, sizeof(int32_t));
			break;
		case NT_PRPSINFO: {
			struct elf_prpsinfo ps;
			if (nhdr.n_descsz >= sizeof(ps)) {
				memcpy(&ps, desc, sizeof(ps));
				t->pid = ps.pr_pid;
				/* pr_fname need not be terminated: at most 16 bytes. */
				memcpy(t->fname, ps.pr_fname, sizeof(ps.pr_fname));
				t->fname[sizeof(ps.pr_fname)] = '\0';
			}
			break;
		}
		case NT_FILE:
			parse_nt_file(t, desc, nhdr.n_descsz);
			break;
		case NT_AUXV:
			parse_auxv(t, desc, nhdr.n_descsz);
			break;
		default:
			break;
		}
		off = next;
	}
}

static struct pca_error *load_program_headers(struct pca_target *t)
{
	size_t phnum;
	if (elf_getphdrnum(t->elf, &phnum) != 0)
		return pca_error_create(PCA_ERROR_FORMAT, "%s: cannot read ELF program headers: %s",
					t->path, elf_errmsg(-1));
	if (phnum > max_segments)
		return pca_error_create(PCA_ERROR_FORMAT, "%s: %zu program headers is not plausible",
					t->path, phnum);
	t->segments = calloc(phnum ? phnum : 1, sizeof(*t->segments));
	if (!t->segments)
		return &pca_error_nomem;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(t->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_NOTE) {
			uint64_t avail = ph.p_offset < t->map_size ? t->map_size - ph.p_offset : 0;
			Elf_Data *data = elf_getdata_rawchunk(t->elf, (int64_t)ph.p_offset,
							      ph.p_filesz < avail ? ph.p_filesz : avail,
							      ELF_T_NHDR);
			if (data)
				parse_notes(t, data);
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		struct segment *s = &t->segments[t->nsegments++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz;
		/* A truncated core: keep what the file holds, count the rest. */
		uint64_t avail = ph.p_offset < t->map_size ? t->map_size - ph.p_offset : 0;
		if (s->filesz > avail) {
			t->missing_bytes += s->filesz - avail;
			s->filesz = avail;
		}
		s->saved = s->filesz;
		s->data = t->map + (ph.p_offset < t->map_size ? ph.p_offset : 0);
	}
	pca_sort(t->segments, t->nsegments, sizeof(*t->segments), segment_cmp);
	return NULL;
}

static const char *file_kind(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFIFO: return "a FIFO";
	case S_IFDIR: return "a directory";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	default: return "not a file";
	}
}

struct pca_error *pca_target_open_core(const char *path, struct pca_target **ret)
{
	struct pca_error *err = NULL;
	struct pca_target *t = calloc(1, sizeof(*t));
	if (!t)
		return &pca_error_nomem;
	t->fd = -1;
	t->path = strdup(path);
	if (!t->path) {
		err = &pca_error_nomem;
		goto fail;
	}
	/* O_NONBLOCK: opening a FIFO (or a tty, a device) must not wait for a
	 * writer; anything but a regular file is refused before it is read. */
	t->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (t->fd < 0) {
		err = pca_error_create(PCA_ERROR_OS, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	struct stat st;
	if (fstat(t->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = pca_error_create(PCA_ERROR_OS, "%s is not a regular file (%s): pass a core file",
				       path, file_kind(&st));
		goto fail;
	}
	int flags = fcntl(t->fd, F_GETFL);
	if (flags >= 0)
		fcntl(t->fd, F_SETFL, flags & ~O_NONBLOCK);
	/* A compressed core (systemd-coredump's core.*.zst, xz, gzip, lz4):
	 * known by its first bytes; read through a decompressed temporary copy. */
	unsigned char head[8];
	ssize_t got = pread(t->fd, head, sizeof(head), 0);
	enum pca_compression compression =
		pca_compression_detect(head, got > 0 ? (size_t)got : 0);
	if (compression != PCA_COMPRESSION_NONE) {
		int plain;
		err = pca_decompress_to_tmpfile(t->fd, path, compression, &plain,
						&t->compressed_truncated);
		if (err)
			goto fail;
		close(t->fd);
		t->fd = plain;
		t->compression = compression;
		if (fstat(t->fd, &st) != 0) {
			err = pca_error_create(PCA_ERROR_OS, "cannot read the decompressed copy of %s", path);
			goto fail;
		}
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		err = pca_error_create(PCA_ERROR_FORMAT,
				       "%s is not a core file (%lld bytes, too small for an ELF header)",
				       path, (long long)st.st_size);
		goto fail;
	}
	t->map_size = (size_t)st.st_size;
	void *map = mmap(NULL, t->map_size, PROT_READ, MAP_PRIVATE, t->fd, 0);
	if (map == MAP_FAILED) {
		err = pca_error_create(PCA_ERROR_OS, "cannot map %s: %s", path, strerror(errno));
		goto fail;
	}
	t->map = map;
	t->guard = guard_register(t->map, t->map_size);
	t->clipped_at = UINT64_MAX;
	elf_version(EV_CURRENT);
	/* libelf reads our mapping (guarded) rather than mapping the file again. */
	t->elf = elf_memory((char *)map, t->map_size);
	GElf_Ehdr eh;
	if (!t->elf || elf_kind(t->elf) != ELF_K_ELF || !gelf_getehdr(t->elf, &eh)) {
		err = pca_error_create(PCA_ERROR_FORMAT, "%s is not a core file (not ELF)", path);
		goto fail;
	}
	if (eh.e_type != ET_CORE) {
		err = pca_error_create(PCA_ERROR_FORMAT,
				       "%s is an ELF file but not a core (e_type %u): pass a core dump",
				       path, eh.e_type);
		goto fail;
	}
	if (eh.e_machine != EM_X86_64 || gelf_getclass(t->elf) != ELFCLASS64) {
		err = pca_error_create(PCA_ERROR_FORMAT,
				       "%s: only x86-64 cores are supported (e_machine %u)", path,
				       eh.e_machine);
		goto fail;
	}
	err = load_program_headers(t);
	if (err)
		goto fail;
	if (t->threads.size == 0) {
		err = pca_error_create(PCA_ERROR_FORMAT, "%s: core has no thread (NT_PRSTATUS) notes",
				       path);
		goto fail;
	}
	if (t->execfn_addr) {
		char buf[4096];
		if (pca_target_read_cstr(t, t->execfn_addr, buf, sizeof(buf)))
			t->execfn = strdup(buf);
	}
	/* The header promises the NT_PRPSINFO name when AT_EXECFN is unusable. */
	if (!t->execfn && t->fname[0])
		t->execfn = strdup(t->fname);
	*ret = t;
	return NULL;
fail:
	pca_target_destroy(t);
	return err;
}

void pca_target_destroy(struct pca_target *t)
{
	if (!t)
		return;
	forget_window(t);
	for (size_t i = 0; i < t->files.size; i++) {
		free(t->files.data[i].mapped_path);
		guard_release(t->files.data[i].guard);
		if (t->files.data[i].data)
			munmap((void *)t->files.data[i].data, t->files.data[i].size);
	}
	attached_file_vector_deinit(&t->files);
	if (t->elf)
		elf_end(t->elf);
	guard_release(t->guard);
	if (t->map)
		munmap((void *)t->map, t->map_size);
	if (t->fd >= 0)
		close(t->fd);
	free(t->segments);
	thread_vector_deinit(&t->threads);
	free(t->mappings);
	free(t->mapping_names);
	free(t->execfn);
	free(t->path);
	free(t);
}

static const struct segment *find_segment_search(const struct pca_target *t, uint64_t addr);

/* After a SIGBUS on a shrunk file: what lies beyond its new end is no
 * longer saved memory (reads of it fault), and the result is partial. */
static void clip_to_guards(struct pca_target *t)
{
	uint64_t limit = guard_shrunk_at(t->guard);
	if (limit != t->clipped_at) {
		t->clipped_at = limit;
		forget_window(t);
		t->shrunk = true;
		/* The fault names one lost page; the file's size says what else went. */
		struct stat st;
		if (fstat(t->fd, &st) == 0 && (uint64_t)st.st_size < limit)
			limit = (uint64_t)st.st_size;
		for (size_t i = 0; i < t->nsegments; i++) {
			struct segment *s = &t->segments[i];
			uint64_t off = (uint64_t)(s->data - t->map);
			if (off + s->filesz > limit)
				s->filesz = limit > off ? limit - off : 0;
		}
	}
	for (size_t j = 0; j < t->files.size; j++) {
		struct attached_file *f = &t->files.data[j];
		uint64_t flimit = guard_shrunk_at(f->guard);
		if (flimit < f->size) {
			f->size = flimit;
			t->shrunk = true;
		}
	}
}

static void check_guards(const struct pca_target *t)
{
	if (guard_shrunk_at(t->guard) != t->clipped_at)
		clip_to_guards((struct pca_target *)t);
}

/* Last segment with vaddr <= addr, or NULL. Reads cluster (an object's
 * fields, then its neighbours), so the last hit is tried first. */
static const struct segment *find_segment(const struct pca_target *t, uint64_t addr)
{
	check_guards(t);
	const struct segment *last = segment_cache.last;
	if (last && own_segment(t, last) && addr - last->vaddr < last->memsz)
		return last;
	uint64_t granule = addr >> 21;
	size_t slot = (size_t)(granule % (sizeof(segment_cache.granules) / sizeof(segment_cache.granules[0])));
	const struct segment *s = segment_cache.granules[slot].segment;
	if (!s || segment_cache.granules[slot].granule != granule || !own_segment(t, s) ||
	    addr - s->vaddr >= s->memsz) {
		s = find_segment_search(t, addr);
		if (!s)
			return NULL;
		segment_cache.granules[slot].granule = granule;
		segment_cache.granules[slot].segment = s;
	}
	segment_cache.last = s;
	return s;
}

static const struct segment *find_segment_search(const struct pca_target *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nsegments;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->segments[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct segment *s = &t->segments[lo - 1];
	return addr - s->vaddr < s->memsz ? s : NULL;
}

/* Bytes of attached files for unsaved pages: how many could be copied at addr. */
static size_t read_from_files(const struct pca_target *t, uint64_t addr, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < t->nmappings; i++) {
		const struct pca_target_mapping *m = &t->mappings[i];
		if (addr < m->start || addr >= m->end)
			continue;
		if (t->files.size)
			clip_to_guards((struct pca_target *)t);
		for (size_t j = 0; j < t->files.size; j++) {
			const struct attached_file *f = &t->files.data[j];
			if (strcmp(f->mapped_path, m->path) != 0)
				continue;
			uint64_t off = m->file_offset + (addr - m->start);
			if (off >= f->size)
				return 0;
			size_t n = len;
			if (n > m->end - addr)
				n = m->end - addr;
			if (n > f->size - off)
				n = f->size - off;
			memcpy(out, f->data + off, n);
			return n;
		}
		return 0;
	}
	return 0;
}

/* Copy the longest readable prefix of [addr, addr+len); return its length.
 * A range that wraps past UINT64_MAX is refused whole (0 bytes). */
static size_t read_prefix(struct pca_target *t, uint64_t addr, uint8_t *out, size_t len)
{
	if (addr + len < addr)
		return 0;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		const struct segment *s = find_segment(t, a);
		size_t n = 0, want = len - done;
		if (s && a - s->vaddr < s->filesz) {
			uint64_t off = a - s->vaddr;
			n = s->filesz - off < want ? (size_t)(s->filesz - off) : want;
			memcpy(out + done, s->data + off, n);
		} else {
			n = read_from_files(t, a, out + done, want);
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

bool pca_target_try_read(struct pca_target *t, uint64_t addr, void *buf, size_t len)
{
	const struct segment *s = find_segment(t, addr);
	if (s && s->filesz >= len && addr - s->vaddr <= s->filesz - len) {
		memcpy(buf, s->data + (addr - s->vaddr), len);
		return true;
	}
	return read_prefix(t, addr, buf, len) == len;
}

struct pca_error *pca_target_read(struct pca_target *t, uint64_t addr, void *buf, size_t len)
{
	size_t done = read_prefix(t, addr, buf, len);
	return done == len ? NULL : pca_error_fault(addr + done, len);
}

bool pca_target_try_read_u64(struct pca_target *t, uint64_t addr, uint64_t *ret)
{
	const void *p = pca_target_view(t, addr, 8);
	if (p) {
		memcpy(ret, p, 8);
		return true;
	}
	const struct segment *s = find_segment(t, addr);
	if (s && addr - s->vaddr <= s->filesz - 8 && s->filesz >= 8) {
		memcpy(ret, s->data + (addr - s->vaddr), 8);
		return true;
	}
	return pca_target_try_read(t, addr, ret, sizeof(*ret));
}

const void *pca_target_view_slow(struct pca_target *t, uint64_t addr, size_t len)
{
	const struct segment *s = find_segment(t, addr);
	if (!s)
		return NULL;
	uint64_t off = addr - s->vaddr;
	if (off > s->filesz || len > s->filesz - off)
		return NULL;
	/* clip_to_guards (in find_segment) has run: filesz is current */
	pca_target_windows[1] = pca_target_windows[0];
	pca_target_windows[0] = (struct pca_target_window){s->vaddr, s->filesz, s->data, t};
	return s->data + off;
}

bool pca_target_read_cstr(struct pca_target *t, uint64_t addr, char *buf, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (!pca_target_try_read(t, addr + i, &buf[i], 1))
			return false;
		if (buf[i] == '\0')
			return true;
	}
	if (max)
		buf[max - 1] = '\0';
	return false;
}

struct pca_error *pca_target_attach_file(struct pca_target *t, uint64_t addr,
					 const char *disk_path)
{
	const char *mapped_path = NULL;
	for (size_t i = 0; i < t->nmappings && !mapped_path; i++)
		if (addr >= t->mappings[i].start && addr < t->mappings[i].end)
			mapped_path = t->mappings[i].path;
	if (!mapped_path)
		return NULL;
	for (size_t j = 0; j < t->files.size; j++)
		if (strcmp(t->files.data[j].mapped_path, mapped_path) == 0)
			return NULL;
	int fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pca_error_create(PCA_ERROR_OS, "cannot open %s: %s", disk_path,
					strerror(errno));
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return pca_error_create(PCA_ERROR_OS, "cannot map %s", disk_path);
	char *name = strdup(mapped_path);
	struct attached_file *file = name ? attached_file_vector_append_entry(&t->files) : NULL;
	if (!file) {
		free(name);
		munmap(map, (size_t)st.st_size);
		return &pca_error_nomem;
	}
	*file = (struct attached_file){name, map, (size_t)st.st_size,
				       guard_register(map, (size_t)st.st_size)};
	return NULL;
}

const char *pca_target_path(const struct pca_target *t) { return t->path; }

const struct pca_target_live *pca_target_live(const struct pca_target *t)
{
	return t->is_live ? &t->live : NULL;
}

struct pca_error *pca_target_set_live(struct pca_target *t, const struct pca_target_live *live)
{
	/* Messages that name the core ("not the one in ...") name the process. */
	char *path = pca_asprintf("process %d", live->pid);
	if (!path)
		return &pca_error_nomem;
	free(t->path);
	t->path = path;
	t->live = *live;
	t->is_live = true;
	t->live.deleted_executable = NULL;
	char link[64], target[4096];
	snprintf(link, sizeof(link), "/proc/%d/exe", live->pid);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	static const char deleted[] = " (deleted)";
	if (n > (ssize_t)sizeof(deleted) - 1) {
		target[n] = '\0';
		if (strcmp(target + n - (sizeof(deleted) - 1), deleted) == 0) {
			snprintf(t->live_exe, sizeof(t->live_exe), "/proc/%d/exe", live->pid);
			t->live.deleted_executable = t->live_exe;
		}
	}
	return NULL;
}
Elf *pca_target_elf(const struct pca_target *t) { return t->elf; }
int32_t pca_target_pid(const struct pca_target *t) { return t->pid; }
int32_t pca_target_signal(const struct pca_target *t) { return t->signal; }
const char *pca_target_execfn(const struct pca_target *t) { return t->execfn; }
uint64_t pca_target_entry(const struct pca_target *t) { return t->entry; }
size_t pca_target_thread_count(const struct pca_target *t) { return t->threads.size; }
const struct pca_target_thread *pca_target_threads(const struct pca_target *t) { return t->threads.data; }
size_t pca_target_mapping_count(const struct pca_target *t) { return t->nmappings; }
const struct pca_target_mapping *pca_target_mappings(const struct pca_target *t) { return t->mappings; }
uint64_t pca_target_missing_bytes(const struct pca_target *t) { return t->missing_bytes; }

size_t pca_target_segment_count(const struct pca_target *t) { return t->nsegments; }

bool pca_target_shrunk(const struct pca_target *t)
{
	check_guards(t);
	return t->shrunk;
}

void pca_target_segment(const struct pca_target *t, size_t i, uint64_t *vaddr, uint64_t *saved)
{
	*vaddr = t->segments[i].vaddr;
	*saved = t->segments[i].saved;
}

int64_t pca_target_segment_index(const struct pca_target *t, uint64_t addr)
{
	const struct segment *s = find_segment(t, addr);
	if (!s || addr - s->vaddr >= s->saved)
		return -1;
	return s - t->segments;
}

bool pca_target_compressed_truncated(const struct pca_target *t)
{
	return t->compressed_truncated;
}

const char *pca_target_compression(const struct pca_target *t)
{
	return t->compression == PCA_COMPRESSION_NONE ? NULL : pca_compression_name(t->compression);
}

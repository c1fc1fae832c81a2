/* ELF core writer for a live process (see core_writer.h). */
#include "target/core_writer.h"

#include "base/vector.h"
#include "target/ptrace.h"
#include "target/target.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

/* Copied through a buffer that stays in the CPU's L2 cache: with 4 MiB the
 * 1 GB capture of docs/performance.md took 4.6 s (the buffer went through
 * DRAM twice), with 256 KiB 1.2 s; 128 KiB was no faster. */
static const size_t chunk_size = 256u << 10;
static const uint64_t page_size = 4096;
/* e_phnum is 16 bits; PN_XNUM cores are not worth supporting (the default
 * vm.max_map_count is 65530). */
static const size_t max_mappings = 0xfff0;
/* Program headers kept free (PT_NULL) in a mapped snapshot: each unreadable
 * range met during the copy takes at most two of them (the range and the
 * rest of its mapping), so reads there fail instead of finding zeros. More
 * ranges than that (never seen: they are guard pages and truncated files)
 * stay zeros, with the same warning. */
static const size_t spare_phdrs = 256;

struct mapping {
	uint64_t start, end, offset;
	uint64_t saved;      /* bytes saved from start: 0, a header page, or all */
	uint32_t flags;      /* PF_R | PF_W | PF_X */
	bool file, shared, exec_file;
	uint64_t dev_major, dev_minor, inode;
	char *path;          /* as in /proc/PID/maps, NULL for anonymous */
};

struct plan {
	int32_t pid;
	struct mapping *maps;
	size_t nmaps;
	uint8_t *auxv;
	size_t auxv_size;
};

static void plan_deinit(struct plan *p)
{
	for (size_t i = 0; i < p->nmaps; i++)
		free(p->maps[i].path);
	free(p->maps);
	free(p->auxv);
	memset(p, 0, sizeof(*p));
}

static struct pca_error *read_whole(const char *path, uint8_t **ret, size_t *ret_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pca_error_create(PCA_ERROR_OS, "cannot read %s: %s", path, strerror(errno));
	size_t cap = 4096, size = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			close(fd);
			return &pca_error_nomem;
		}
		ssize_t n = read(fd, buf + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size += (size_t)n;
		if (size == cap) {
			uint8_t *b = cap < (256u << 20) ? realloc(buf, cap * 2) : NULL;
			if (!b)
				free(buf);
			buf = b;
			cap *= 2;
		}
	}
	close(fd);
	*ret = buf;
	*ret_size = size;
	return NULL;
}

/* Which bytes of a mapping a core keeps (see the header). */
static void decide_saved(struct mapping *m)
{
	uint64_t len = m->end - m->start;
	m->saved = 0;
	if (!(m->flags & PF_R))
		return;
	if (m->path && (strcmp(m->path, "[vvar]") == 0 || strcmp(m->path, "[vvar_vclock]") == 0 ||
			strcmp(m->path, "[vsyscall]") == 0))
		return; /* not readable through ptrace (VM_IO / VM_PFNMAP) */
	if (!m->file) {
		m->saved = len;
		return;
	}
	if (m->shared) {
		/* shared file mappings are the file's bytes (filter bit 3 off);
		 * /dev/zero and SysV segments are anonymous shared memory. */
		if (m->path && (strncmp(m->path, "/dev/zero", 9) == 0 || strncmp(m->path, "/SYSV", 5) == 0))
			m->saved = len;
		return;
	}
	if (m->flags & PF_W) {
		m->saved = len;
		return;
	}
	if (m->exec_file && !(m->flags & PF_X)) {
		m->saved = len; /* an ELF's rodata and relocated RELRO pages */
		return;
	}
	/* Code, or a read-only data file: the first page of an ELF file keeps
	 * its build-id note findable (the kernel's filter bit 4). */
	if (m->offset == 0 && m->exec_file)
		m->saved = page_size < len ? page_size : len;
}

static struct pca_error *make_plan(int32_t pid, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return pca_error_create(PCA_ERROR_OS, "no process %d (it ended, or it is not visible here)", pid);
		char hint[512];
		int e = errno;
		pca_process_access_hint(pid, hint, sizeof(hint));
		return pca_error_create(PCA_ERROR_OS, "cannot read %s: %s; %s", path, strerror(e), hint);
	}
	struct pca_error *err = NULL;
	size_t cap = 0;
	char *line = NULL;
	size_t line_cap = 0;
	while (getline(&line, &line_cap, f) > 0) {
		uint64_t start, end, offset, major, minor, inode;
		char perms[8];
		int name_at = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %" SCNx64 ":%" SCNx64 " %" SCNu64 " %n",
			   &start, &end, perms, &offset, &major, &minor, &inode, &name_at) < 7 || end <= start)
			continue;
		if (p->nmaps == max_mappings) {
			err = pca_error_create(PCA_ERROR_OS, "process %d has more than %zu mappings", pid,
					       max_mappings);
			break;
		}
		if (p->nmaps == cap) {
			cap = cap ? cap * 2 : 256;
			struct mapping *m = realloc(p->maps, cap * sizeof(*m));
			if (!m) {
				err = &pca_error_nomem;
				break;
			}
			p->maps = m;
		}
		struct mapping *m = &p->maps[p->nmaps++];
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->offset = offset;
		m->dev_major = major;
		m->dev_minor = minor;
		m->inode = inode;
		m->flags = (perms[0] == 'r' ? PF_R : 0) | (perms[1] == 'w' ? PF_W : 0) |
			   (perms[2] == 'x' ? PF_X : 0);
		m->shared = perms[3] == 's';
		char *name = name_at ? line + name_at : NULL;
		if (name) {
			name[strcspn(name, "\n")] = '\0';
			if (*name) {
				m->path = strdup(name);
				if (!m->path) {
					err = &pca_error_nomem;
					break;
				}
			}
		}
		m->file = inode != 0 && m->path && m->path[0] == '/';
	}
	free(line);
	fclose(f);
	if (!err && p->nmaps == 0)
		err = pca_error_create(PCA_ERROR_OS, "process %d has no memory mappings (a kernel thread or a zombie?)", pid);
	/* A file with an executable mapping is a loaded ELF object. */
	for (size_t i = 0; !err && i < p->nmaps; i++) {
		struct mapping *m = &p->maps[i];
		for (size_t j = 0; m->file && j < p->nmaps && !m->exec_file; j++) {
			const struct mapping *o = &p->maps[j];
			m->exec_file = o->file && (o->flags & PF_X) && o->inode == m->inode &&
				       o->dev_major == m->dev_major && o->dev_minor == m->dev_minor;
		}
		decide_saved(m);
	}
	if (!err) {
		snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
		err = read_whole(path, &p->auxv, &p->auxv_size);
	}
	if (err)
		plan_deinit(p);
	return err;
}

/* ---- output: a plain descriptor or a zstd stream, written in order ---- */

struct sink {
	int fd;
	uint8_t *map;      /* map_output: the whole file, mapped */
	size_t map_size;
	ZSTD_CCtx *zstd;
	uint8_t *zbuf;
	size_t zbuf_size;
	uint64_t written;  /* bytes that reached fd */
	uint64_t offset;   /* uncompressed bytes so far: the core's file offset */
	off_t rewrite_at;  /* where the core starts in a seekable plain fd, else -1:
			    * its program headers can be rewritten after the copy */
};

static struct pca_error *write_fd(struct sink *s, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	while (len) {
		ssize_t n = write(s->fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pca_error_create(PCA_ERROR_OS, "cannot write the core: %s",
						n < 0 ? strerror(errno) : "nothing written");
		b += n;
		len -= (size_t)n;
		s->written += (uint64_t)n;
	}
	return NULL;
}

static struct pca_error *zstd_step(struct sink *s, const void *buf, size_t len, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = {buf, len, 0};
	for (;;) {
		ZSTD_outBuffer out = {s->zbuf, s->zbuf_size, 0};
		size_t left = ZSTD_compressStream2(s->zstd, &out, &in, end);
		if (ZSTD_isError(left))
			return pca_error_create(PCA_ERROR_OS, "zstd: %s", ZSTD_getErrorName(left));
		struct pca_error *err = write_fd(s, s->zbuf, out.pos);
		if (err)
			return err;
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return NULL;
	}
}

static struct pca_error *sink_write(struct sink *s, const void *buf, size_t len)
{
	if (s->map) {
		if (len > s->map_size - s->offset)
			return pca_error_create(PCA_ERROR_OS, "core larger than planned");
		memcpy(s->map + s->offset, buf, len);
		s->offset += len;
		s->written += len;
		return NULL;
	}
	s->offset += len;
	return s->zstd ? zstd_step(s, buf, len, ZSTD_e_continue) : write_fd(s, buf, len);
}

static struct pca_error *sink_zeros(struct sink *s, uint64_t len)
{
	static const uint8_t zeros[4096];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		struct pca_error *err = sink_write(s, zeros, n);
		if (err)
			return err;
		len -= n;
	}
	return NULL;
}

/* ---- notes ---- */

struct notes {
	uint8_t *buf;
	size_t size, cap;
};

static bool notes_add(struct notes *n, uint32_t type, const void *desc, size_t descsz)
{
	static const char name[8] = "CORE";
	size_t need = 12 + 8 + ((descsz + 3) & ~(size_t)3);
	if (n->size + need > n->cap) {
		size_t cap = (n->cap + need) * 2;
		uint8_t *b = realloc(n->buf, cap);
		if (!b)
			return false;
		n->buf = b;
		n->cap = cap;
	}
	uint32_t hdr[3] = {5, (uint32_t)descsz, type};
	memcpy(n->buf + n->size, hdr, 12);
	memcpy(n->buf + n->size + 12, name, 8);
	memset(n->buf + n->size + 20, 0, need - 20);
	if (descsz)
		memcpy(n->buf + n->size + 20, desc, descsz);
	n->size += need;
	return true;
}

/* ppid, pgrp, session from /proc/PID/stat (after the comm's closing paren). */
static void read_stat_ids(int32_t pid, int32_t ids[3], char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ids[0] = ids[1] = ids[2] = 0;
	*state = 'R';
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p)
		sscanf(p + 1, " %c %d %d %d", state, &ids[0], &ids[1], &ids[2]);
}

static void fill_prpsinfo(int32_t pid, struct elf_prpsinfo *ps)
{
	memset(ps, 0, sizeof(*ps));
	int32_t ids[3];
	char state;
	read_stat_ids(pid, ids, &state);
	ps->pr_pid = pid;
	ps->pr_ppid = ids[0];
	ps->pr_pgrp = ids[1];
	ps->pr_sid = ids[2];
	ps->pr_sname = state;
	static const char states[] = "RSDTZW";
	const char *s = strchr(states, state);
	ps->pr_state = s ? (char)(s - states) : 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (f) {
		char line[256];
		unsigned uid, gid;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Uid: %u", &uid) == 1)
				ps->pr_uid = uid;
			if (sscanf(line, "Gid: %u", &gid) == 1)
				ps->pr_gid = gid;
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (f) {
		char comm[64] = "";
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			/* pr_fname need not be NUL-terminated (16 bytes, like the kernel's) */
			size_t n = strlen(comm);
			memcpy(ps->pr_fname, comm, n < sizeof(ps->pr_fname) ? n : sizeof(ps->pr_fname));
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "re");
	if (f) {
		size_t n = fread(ps->pr_psargs, 1, sizeof(ps->pr_psargs) - 1, f);
		fclose(f);
		for (size_t i = 0; i + 1 < n; i++)
			if (ps->pr_psargs[i] == '\0')
				ps->pr_psargs[i] = ' ';
	}
}

static bool add_thread_notes(struct notes *n, int32_t pid, const struct pca_stopped_thread *th,
			     bool first, const struct plan *p, bool live_paths)
{
	struct elf_prstatus st;
	memset(&st, 0, sizeof(st));
	int32_t ids[3];
	char state;
	read_stat_ids(pid, ids, &state);
	st.pr_pid = th->tid;
	st.pr_ppid = ids[0];
	st.pr_pgrp = ids[1];
	st.pr_sid = ids[2];
	_Static_assert(sizeof(st.pr_reg) == sizeof(th->regs), "elf_gregset_t is user_regs_struct");
	if (th->have_regs)
		memcpy(&st.pr_reg, &th->regs, sizeof(st.pr_reg));
	st.pr_fpvalid = th->have_regs;
	if (!notes_add(n, NT_PRSTATUS, &st, sizeof(st)))
		return false;
	if (first) {
		struct elf_prpsinfo ps;
		fill_prpsinfo(pid, &ps);
		/* No signal took this core: si_signo 0 says "a snapshot". */
		uint8_t siginfo[128] = {0};
		if (!notes_add(n, NT_PRPSINFO, &ps, sizeof(ps)) ||
		    !notes_add(n, NT_SIGINFO, siginfo, sizeof(siginfo)) ||
		    !notes_add(n, NT_AUXV, p->auxv, p->auxv_size))
			return false;
		/* NT_FILE: count, page size, {start, end, page offset}, names. */
		size_t count = 0, names = 0;
		char alt[96];
		for (size_t i = 0; i < p->nmaps; i++)
			if (p->maps[i].file) {
				count++;
				names += strlen(p->maps[i].path) + 1 + sizeof(alt);
			}
		uint8_t *desc = malloc(16 + count * 24 + names);
		if (!desc)
			return false;
		uint64_t v[2] = {count, page_size};
		memcpy(desc, v, 16);
		size_t at = 16, name_at = 16 + count * 24;
		for (size_t i = 0; i < p->nmaps; i++) {
			const struct mapping *m = &p->maps[i];
			if (!m->file)
				continue;
			uint64_t e[3] = {m->start, m->end, m->offset / page_size};
			memcpy(desc + at, e, 24);
			at += 24;
			const char *name = m->path;
			size_t len = strlen(name);
			static const char deleted[] = " (deleted)";
			if (live_paths && len > sizeof(deleted) - 1 &&
			    strcmp(name + len - (sizeof(deleted) - 1), deleted) == 0) {
				snprintf(alt, sizeof(alt), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid,
					 m->start, m->end);
				name = alt;
			}
			size_t nl = strlen(name) + 1;
			memcpy(desc + name_at, name, nl);
			name_at += nl;
		}
		bool ok = notes_add(n, NT_FILE, desc, name_at);
		free(desc);
		if (!ok)
			return false;
	}
	return notes_add(n, NT_FPREGSET, &th->fpregs, sizeof(th->fpregs));
}

/* ---- memory ---- */

struct hole {
	uint64_t addr, len;
};
PCA_DEFINE_VECTOR(hole_vector, struct hole)

struct reader {
	int32_t pid;
	int mem_fd; /* /proc/PID/mem, opened on first need */
	uint8_t *buf;
	uint64_t unreadable;
	struct hole_vector holes; /* unreadable ranges, in address order */
	bool holes_overflow;      /* more than spare_phdrs / 2: left as zeros */
};

static void note_hole(struct reader *r, uint64_t addr, uint64_t len, size_t first_of_call)
{
	struct hole *last = r->holes.size > first_of_call ? &r->holes.data[r->holes.size - 1] : NULL;
	if (last && last->addr + last->len == addr) {
		last->len += len;
		return;
	}
	struct hole h = {addr, len};
	if (r->holes.size >= spare_phdrs / 2 || !hole_vector_append(&r->holes, &h))
		r->holes_overflow = true;
}

/* Fill buf with [addr, addr+len): process_vm_readv, then /proc/PID/mem for
 * what it refused, then zeros page by page for what neither could read
 * (recorded as holes; a hole never spans two calls, so never two mappings). */
static void read_memory(struct reader *r, uint64_t addr, uint8_t *buf, size_t len)
{
	size_t done = 0;
	size_t first_hole = r->holes.size;
	while (done < len) {
		struct iovec local = {buf + done, len - done};
		struct iovec remote = {(void *)(uintptr_t)(addr + done), len - done};
		ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (r->mem_fd == -1) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/mem", r->pid);
			r->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
			if (r->mem_fd < 0)
				r->mem_fd = -2;
		}
		n = r->mem_fd >= 0 ? pread(r->mem_fd, buf + done, len - done, (off_t)(addr + done)) : -1;
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		/* skip to the next page boundary */
		uint64_t a = addr + done;
		size_t skip = (size_t)(page_size - (a & (page_size - 1)));
		if (skip > len - done)
			skip = len - done;
		memset(buf + done, 0, skip);
		note_hole(r, a, skip, first_hole);
		r->unreadable += skip;
		done += skip;
	}
}

static uint64_t plan_saved_bytes(const struct plan *p)
{
	uint64_t total = 0;
	for (size_t i = 0; i < p->nmaps; i++)
		total += p->maps[i].saved;
	return total;
}

struct pca_error *pca_core_estimate(int32_t pid, uint64_t *ret)
{
	struct plan p;
	struct pca_error *err = make_plan(pid, &p);
	if (err)
		return err;
	*ret = plan_saved_bytes(&p) + page_size * (2 + p.nmaps / 64) + spare_phdrs * sizeof(Elf64_Phdr);
	plan_deinit(&p);
	return NULL;
}

/* Rewrite the loads of a mapped snapshot so that each hole is a PT_LOAD
 * without file bytes (read_prefix in core.c then fails there, as it does for
 * memory a kernel core did not save). ph has phnum entries, the spare ones
 * PT_NULL; false when the holes do not fit (they stay zeros). */
static bool split_loads_at_holes(Elf64_Phdr *ph, size_t phnum, size_t nloads,
				 const struct hole_vector *holes)
{
	Elf64_Phdr *out = calloc(phnum, sizeof(*out));
	if (!out)
		return false;
	size_t n = 0, h = 0;
	out[n++] = ph[0];
	bool fits = true;
	for (size_t i = 1; fits && i <= nloads; i++) {
		const Elf64_Phdr *q = &ph[i];
		uint64_t cur = q->p_vaddr, file_end = q->p_vaddr + q->p_filesz, end = q->p_vaddr + q->p_memsz;
		while (h < holes->size && holes->data[h].addr < q->p_vaddr)
			h++;
		for (; fits && h < holes->size && holes->data[h].addr < file_end; h++) {
			const struct hole *hole = &holes->data[h];
			uint64_t hole_end = hole->addr + hole->len < file_end ? hole->addr + hole->len : file_end;
			if (n + 2 > phnum) {
				fits = false;
				break;
			}
			if (hole->addr > cur) {
				out[n] = *q;
				out[n].p_offset = q->p_offset + (cur - q->p_vaddr);
				out[n].p_vaddr = cur;
				out[n].p_filesz = out[n].p_memsz = hole->addr - cur;
				n++;
			}
			out[n] = *q;
			out[n].p_offset = q->p_offset + (hole->addr - q->p_vaddr);
			out[n].p_vaddr = hole->addr;
			out[n].p_filesz = 0;
			out[n].p_memsz = hole_end - hole->addr;
			n++;
			cur = hole_end;
		}
		if (fits && cur < end) {
			if (n == phnum) {
				fits = false;
				break;
			}
			out[n] = *q;
			out[n].p_offset = q->p_offset + (cur - q->p_vaddr);
			out[n].p_vaddr = cur;
			out[n].p_filesz = file_end > cur ? file_end - cur : 0;
			out[n].p_memsz = end - cur;
			n++;
		}
	}
	if (fits)
		memcpy(ph, out, phnum * sizeof(*ph));
	free(out);
	return fits;
}

static struct pca_error *write_core(struct plan *p, struct pca_process_hold *hold, struct sink *s,
				    const struct pca_core_write_options *opts,
				    struct pca_core_write_result *ret)
{
	struct notes notes = {0};
	for (size_t i = 0; i < hold->nthreads; i++)
		if (!add_thread_notes(&notes, p->pid, &hold->threads[i], i == 0, p, opts->live_paths)) {
			free(notes.buf);
			return &pca_error_nomem;
		}
	bool rewritable = s->map || s->rewrite_at >= 0;
	size_t phnum = 1 + p->nmaps + (rewritable ? spare_phdrs : 0);
	uint64_t data_at = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr) + notes.size;
	data_at = (data_at + page_size - 1) & ~(page_size - 1);
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)phnum;
	Elf64_Phdr *ph = calloc(phnum, sizeof(*ph));
	if (!ph) {
		free(notes.buf);
		return &pca_error_nomem;
	}
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = sizeof(eh) + phnum * sizeof(Elf64_Phdr);
	ph[0].p_filesz = notes.size;
	ph[0].p_align = 4;
	uint64_t at = data_at;
	for (size_t i = 0; i < p->nmaps; i++) {
		const struct mapping *m = &p->maps[i];
		Elf64_Phdr *q = &ph[i + 1];
		q->p_type = PT_LOAD;
		q->p_flags = m->flags;
		q->p_offset = at;
		q->p_vaddr = m->start;
		q->p_filesz = m->saved;
		q->p_memsz = m->end - m->start;
		q->p_align = page_size;
		at += m->saved;
	}
	struct pca_error *err = NULL;
	if (s->map && at > s->map_size) {
		/* it grew since the estimate: the extra pages are allocated now */
		void *map = MAP_FAILED;
		if (ftruncate(s->fd, (off_t)at) == 0)
			map = mremap(s->map, s->map_size, at, MREMAP_MAYMOVE);
		if (map == MAP_FAILED)
			err = pca_error_create(PCA_ERROR_OS, "cannot grow the snapshot to %" PRIu64 " bytes: %s",
					       at, strerror(errno));
		else {
			s->map = map;
			s->map_size = at;
		}
	}
	if (!err)
		err = sink_write(s, &eh, sizeof(eh));
	if (!err)
		err = sink_write(s, ph, phnum * sizeof(*ph));
	if (!err)
		err = sink_write(s, notes.buf, notes.size);
	if (!err)
		err = sink_zeros(s, data_at - s->offset);
	free(notes.buf);
	struct reader r = {p->pid, -1, s->map ? NULL : malloc(chunk_size), 0, {0}, false};
	if (!r.buf && !s->map && !err)
		err = &pca_error_nomem;
	for (size_t i = 0; !err && i < p->nmaps; i++) {
		const struct mapping *m = &p->maps[i];
		if (s->map) {
			/* straight into the snapshot: offsets were laid out above */
			read_memory(&r, m->start, s->map + s->offset, m->saved);
			s->offset += m->saved;
			s->written += m->saved;
			continue;
		}
		for (uint64_t off = 0; !err && off < m->saved; off += chunk_size) {
			size_t n = m->saved - off < chunk_size ? (size_t)(m->saved - off) : chunk_size;
			read_memory(&r, m->start + off, r.buf, n);
			err = sink_write(s, r.buf, n);
		}
	}

	ret->unreadable_omitted = false;
	if (!err && rewritable && r.holes.size && !r.holes_overflow &&
	    split_loads_at_holes(ph, phnum, p->nmaps, &r.holes)) {
		size_t len = phnum * sizeof(*ph);
		if (s->map) {
			memcpy(s->map + sizeof(eh), ph, len);
			ret->unreadable_omitted = true;
		} else {
			ret->unreadable_omitted =
				pwrite(s->fd, ph, len, s->rewrite_at + (off_t)sizeof(eh)) == (ssize_t)len;
		}
	}
	free(ph);
	hole_vector_deinit(&r.holes);
	free(r.buf);
	if (r.mem_fd >= 0)
		close(r.mem_fd);
	ret->memory_bytes = plan_saved_bytes(p);
	ret->unreadable_bytes = r.unreadable;
	ret->threads = hold->nthreads;
	return err;
}

struct pca_error *pca_core_write(int32_t pid, int fd, const struct pca_core_write_options *opts,
				 struct pca_core_write_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	double t0 = pca_monotonic_seconds();
	struct sink s = {.fd = fd, .rewrite_at = -1};
	struct stat st;
	if (!opts->compress && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		s.rewrite_at = lseek(fd, 0, SEEK_CUR);
	if (opts->map_output && !opts->compress) {
		/* Allocate and map the snapshot's pages while the process still
		 * runs: in the pause, the copy alone (no page faults). */
		uint64_t estimate;
		struct pca_error *err = pca_core_estimate(pid, &estimate);
		if (err)
			return err;
		void *map = MAP_FAILED;
		if (fallocate(fd, 0, 0, (off_t)estimate) == 0)
			map = mmap(NULL, estimate, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (map == MAP_FAILED)
			return pca_error_create(PCA_ERROR_OS,
						"cannot hold a snapshot of process %d (%" PRIu64 " MiB) in memory: %s",
						pid, estimate >> 20, strerror(errno));
		s.map = map;
		s.map_size = estimate;
	}
	if (opts->compress) {
		s.zstd = ZSTD_createCCtx();
		s.zbuf_size = ZSTD_CStreamOutSize();
		s.zbuf = malloc(s.zbuf_size);
		if (!s.zstd || !s.zbuf) {
			ZSTD_freeCCtx(s.zstd);
			free(s.zbuf);
			return &pca_error_nomem;
		}
		/* Level 1: the process is stopped while we compress. */
		ZSTD_CCtx_setParameter(s.zstd, ZSTD_c_compressionLevel, 1);
	}
	struct pca_process_hold hold;
	struct pca_error *err = pca_process_hold(pid, !opts->no_stop, &hold);
	struct plan p = {0};
	if (!err)
		err = make_plan(pid, &p);
	if (!err)
		err = write_core(&p, &hold, &s, opts, ret);
	ret->paused_seconds = pca_process_release(&hold);
	ret->already_stopped = !err && hold.already_stopped;
	if (!err && s.zstd)
		err = zstd_step(&s, NULL, 0, ZSTD_e_end);
	plan_deinit(&p);
	if (s.map) {
		munmap(s.map, s.map_size);
		if (!err && ftruncate(fd, (off_t)s.offset) != 0)
			err = pca_error_create(PCA_ERROR_OS, "cannot size the snapshot: %s", strerror(errno));
	}
	ZSTD_freeCCtx(s.zstd);
	free(s.zbuf);
	ret->bytes = s.written;
	ret->seconds = pca_monotonic_seconds() - t0;
	return err;
}

/* ---- to a file: room check, temporary name, rename ---- */

static char tmp_path[PATH_MAX];
static volatile sig_atomic_t tmp_active;
static struct sigaction tmp_saved[3];
static const int tmp_signals[3] = {SIGINT, SIGTERM, SIGHUP};

static void on_signal_unlink(int sig)
{
	if (tmp_active)
		unlink(tmp_path);
	tmp_active = 0;
	for (size_t i = 0; i < 3; i++)
		if (tmp_signals[i] == sig)
			sigaction(sig, &tmp_saved[i], NULL);
	raise(sig);
}

static void tmp_guard(bool on)
{
	if (on) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal_unlink;
		sigemptyset(&sa.sa_mask);
		tmp_active = 1;
		for (size_t i = 0; i < 3; i++)
			sigaction(tmp_signals[i], &sa, &tmp_saved[i]);
	} else {
		tmp_active = 0;
		for (size_t i = 0; i < 3; i++)
			sigaction(tmp_signals[i], &tmp_saved[i], NULL);
	}
}

static struct pca_error *check_room(int32_t pid, const char *path, bool compress)
{
	uint64_t need;
	struct pca_error *err = pca_core_estimate(pid, &need);
	if (err)
		return err;
	/* zstd level 1 on a Python heap: typically 4-10x smaller; ask for a quarter. */
	if (compress)
		need /= 4;
	char *dir = strdup(path);
	if (!dir)
		return &pca_error_nomem;
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	struct statvfs vfs;
	const char *where = slash ? dir : ".";
	if (statvfs(where, &vfs) == 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (avail < need) {
			err = pca_error_create(PCA_ERROR_OS,
					       "not enough room in %s for the core of process %d: %" PRIu64
					       " MiB free, %" PRIu64 " MiB needed%s; write it elsewhere (-o)",
					       where, pid, avail >> 20, (need + (1u << 20) - 1) >> 20,
					       compress ? " (a quarter of its memory, compressed)" : "");
		}
	}
	free(dir);
	return err;
}

struct pca_error *pca_core_capture(int32_t pid, const char *path,
				   const struct pca_core_write_options *opts,
				   struct pca_core_write_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct pca_error *err = check_room(pid, path, opts->compress);
	if (err)
		return err;
	if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp_path))
		return pca_error_create(PCA_ERROR_OS, "%s: path too long", path);
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&set, tmp_signals[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	int fd = mkostemp(tmp_path, O_CLOEXEC); /* mode 0600 */
	if (fd >= 0)
		tmp_guard(true);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0)
		return pca_error_create(PCA_ERROR_OS, "cannot create a file next to %s: %s", path,
					strerror(errno));
	fchmod(fd, 0600);
	err = pca_core_write(pid, fd, opts, ret);
	if (!err && fsync(fd) != 0 && errno != EINVAL)
		err = pca_error_create(PCA_ERROR_OS, "cannot write %s: %s", path, strerror(errno));
	if (close(fd) != 0 && !err)
		err = pca_error_create(PCA_ERROR_OS, "cannot write %s: %s", path, strerror(errno));
	if (!err && rename(tmp_path, path) != 0)
		err = pca_error_create(PCA_ERROR_OS, "cannot move the core to %s: %s", path,
				       strerror(errno));
	sigprocmask(SIG_BLOCK, &set, &old);
	if (err)
		unlink(tmp_path);
	tmp_guard(false);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* LD_PRELOAD shim for bench/run.sh's memory run: how much of the process's
 * resident memory is the mapped core, and how much is the tool's own.
 *
 *   PCA_BENCH_CORE=/abs/path/core PCA_BENCH_OUT=FILE LD_PRELOAD=rss_shim.so CMD
 *
 * - Before every munmap of 1 MiB or more, and at exit, it sums the Rss of
 *   every mapping of PCA_BENCH_CORE in /proc/self/smaps (the pages of the core
 *   the process touched; a page mapped twice counts twice, as in VmRSS) and
 *   keeps the largest sum: core_rss_kb.
 * - A thread samples /proc/self/status every millisecond and keeps the largest
 *   RssAnon (memory that is not a file's pages: malloc, stacks): anon_peak_kb.
 * - At exit it reads VmHWM (peak RSS, what /usr/bin/time -f %M reports):
 *   hwm_kb.
 * Writes "core_rss_kb=N anon_peak_kb=N hwm_kb=N" to PCA_BENCH_OUT.
 * - With PCA_BENCH_PHASES=1, after each line the tool writes to stderr (the
 *   phase lines of PCA_TIMING=1) it writes "  [memory: anon peak A MiB, now
 *   B MiB]": the largest RssAnon sampled since the previous such line, so
 *   each phase's own peak shows under its timing line.
 *
 * Build: cc -O2 -shared -fPIC -o rss_shim.so rss_shim.c -ldl -lpthread
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static char core_path[4096];
static atomic_long core_rss_kb;
static atomic_long anon_peak_kb;
static atomic_long phase_peak_kb; /* since the last stderr line */
static int phases;
static atomic_int stop;
static pthread_t sampler;
static int sampler_started;

static void keep_max(atomic_long *v, long x)
{
	long cur = atomic_load(v);
	while (x > cur && !atomic_compare_exchange_weak(v, &cur, x))
		;
}

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

static void scan_core_rss(void)
{
	if (!core_path[0])
		return;
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return;
	char line[8192];
	int in_core = 0;
	long sum = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ')) {
			/* a mapping header: the path is the last field */
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			char *path = strchr(line, '/');
			in_core = path && strcmp(path, core_path) == 0;
		} else if (in_core && strncmp(line, "Rss:", 4) == 0) {
			sum += atol(line + 4);
		}
	}
	fclose(f);
	keep_max(&core_rss_kb, sum);
}

static void *sample(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 1000000};
	while (!atomic_load(&stop)) {
		long kb = status_kb("RssAnon");
		keep_max(&anon_peak_kb, kb);
		keep_max(&phase_peak_kb, kb);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int munmap(void *addr, size_t len)
{
	static int (*real)(void *, size_t);
	if (!real)
		real = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
	if (len >= (1u << 20))
		scan_core_rss();
	return real(addr, len);
}

int vfprintf(FILE *stream, const char *fmt, va_list ap)
{
	static int (*real)(FILE *, const char *, va_list);
	if (!real)
		real = (int (*)(FILE *, const char *, va_list))dlsym(RTLD_NEXT, "vfprintf");
	int r = real(stream, fmt, ap);
	size_t n = strlen(fmt);
	if (phases && stream == stderr && n && fmt[n - 1] == '\n') {
		long now = status_kb("RssAnon");
		keep_max(&phase_peak_kb, now);
		fprintf(stderr, "  [memory: anon peak %.1f MiB, now %.1f MiB]\n",
			atomic_exchange(&phase_peak_kb, now) / 1024.0, now / 1024.0);
	}
	return r;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *p = getenv("PCA_BENCH_CORE");
	if (p && !realpath(p, core_path))
		snprintf(core_path, sizeof(core_path), "%s", p);
	phases = getenv("PCA_BENCH_PHASES") != NULL;
	sampler_started = pthread_create(&sampler, NULL, sample, NULL) == 0;
}

__attribute__((destructor)) static void shim_fini(void)
{
	scan_core_rss();
	if (sampler_started) {
		atomic_store(&stop, 1);
		pthread_join(sampler, NULL);
	}
	keep_max(&anon_peak_kb, status_kb("RssAnon"));
	if (phases)
		fprintf(stderr, "(after the last line, to exit)\n  [memory: anon peak %.1f MiB]\n",
			atomic_load(&phase_peak_kb) / 1024.0);
	const char *out = getenv("PCA_BENCH_OUT");
	FILE *f = out ? fopen(out, "w") : NULL;
	if (f) {
		fprintf(f, "core_rss_kb=%ld anon_peak_kb=%ld hwm_kb=%ld\n", atomic_load(&core_rss_kb),
			atomic_load(&anon_peak_kb), status_kb("VmHWM"));
		fclose(f);
	}
}

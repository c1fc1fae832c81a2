/* The debugging knobs (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static struct pca_log_config config;
static FILE *dumps[PCA_LOG_DUMP_COUNT];

void pca_log_configure(const struct pca_log_config *c)
{
	config = c ? *c : (struct pca_log_config){0};
}

static unsigned threads_from_env(void)
{
	const char *env = getenv("PCA_THREADS");
	if (!env || !*env)
		return 0;
	char *end;
	long v = strtol(env, &end, 10);
	return !*end && v >= 1 ? (v > 64 ? 64 : (unsigned)v) : 0;
}

void pca_log_from_env(void)
{
	struct pca_log_config c = {
		.timing = getenv("PCA_TIMING") != NULL,
		.check_index = getenv("PCA_CHECK_INDEX") != NULL,
		.dump_objects = getenv("PCA_DUMP_OBJECTS"),
		.dump_parents = getenv("PCA_DUMP_PARENTS"),
		.dump_external = getenv("PCA_DUMP_EXTERNAL"),
		.threads = threads_from_env(),
	};
	pca_log_configure(&c);
}

const struct pca_log_config *pca_log_config(void) { return &config; }

void pca_log_timing(const char *fmt, ...)
{
	if (!config.timing)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static const char *dump_path(enum pca_log_dump which)
{
	switch (which) {
	case PCA_LOG_DUMP_OBJECTS:
		return config.dump_objects;
	case PCA_LOG_DUMP_PARENTS:
		return config.dump_parents;
	case PCA_LOG_DUMP_EXTERNAL:
		return config.dump_external;
	default:
		return NULL;
	}
}

bool pca_log_dump_begin(enum pca_log_dump which)
{
	const char *path = dump_path(which);
	if (!path)
		return false;
	pca_log_dump_end(which);
	dumps[which] = fopen(path, "w");
	return dumps[which] != NULL;
}

void pca_log_dump(enum pca_log_dump which, const char *fmt, ...)
{
	if ((unsigned)which >= PCA_LOG_DUMP_COUNT || !dumps[which])
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(dumps[which], fmt, ap);
	va_end(ap);
}

void pca_log_dump_end(enum pca_log_dump which)
{
	if ((unsigned)which >= PCA_LOG_DUMP_COUNT || !dumps[which])
		return;
	fclose(dumps[which]);
	dumps[which] = NULL;
}

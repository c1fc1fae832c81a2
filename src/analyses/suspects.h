/* suspects.h: leak suspects, for a person opening a core: the unbounded
 * caches of the program (not the interpreter's own: caches.h) that hold
 * at least 50 entries and retain at least 1% of the heap, a library's that
 * retain at least 10% (at most five, most retained first), then the
 * unreachable garbage in cycles when the collector is disabled or it is 10%
 * of the heap or more. It only selects from the caches and garbage analyses; no
 * printing. */
#ifndef PCA_ANALYSES_SUSPECTS_H
#define PCA_ANALYSES_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/caches.h"
#include "analyses/refgraph.h"
#include "analyses/summary.h"
#include "heap/heap.h"

/* A leak grows by what the program keeps per request, call or message: a
 * container of fewer entries has not shown that it grows, whatever it
 * retains (a table of 8 loaded plugins, a resolver cached once). 50: the
 * tables a program sets up at start (handlers, URL routes of a small
 * application, settings) mostly stay below, and a leak is found after 50
 * kept requests once they retain 1% of the heap. */
enum { PCA_SUSPECT_CACHES_MAX = 5, PCA_SUSPECT_MIN_ENTRIES = 50 };
/* A library's containers (held_by library, or stdlib by where the module
 * lives) are suspects from this share of the heap, in percent: suspects.c
 * says why. */
enum { PCA_SUSPECT_LIBRARY_SHARE = 10 };

struct pca_suspects {
	uint64_t heap_size;                       /* at least 1: shares are of it */
	size_t caches[PCA_SUSPECT_CACHES_MAX];    /* indexes into the caches */
	size_t ncaches;
	uint64_t garbage_objects, garbage_size;   /* uncollected garbage; 0: none */
	/* Whether the garbage is a suspect: the collector is disabled, or the
	 * garbage is PCA_SUSPECT_GARBAGE_SHARE % of the heap or more. */
	bool garbage_suspect;
	int collector_enabled;                    /* 1, 0, -1 unknown */
};

/* Garbage in cycles between two collections is normal (the collector runs
 * when generation 0's count passes its threshold, 700 allocations by
 * default): a collector that runs leaves a small share. 10% of the heap is
 * more than the youngest generations hold between collections unless the
 * program makes cycles of big objects, which the next full collection
 * frees: worth saying. */
enum { PCA_SUSPECT_GARBAGE_SHARE = 10 };

void pca_suspects_find(const struct pca_summary *summary, const struct pca_caches *caches,
		       const struct pca_refgraph *g, const struct pca_gc_state *gc,
		       struct pca_suspects *ret);

#endif

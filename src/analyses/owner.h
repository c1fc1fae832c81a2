/* owner.h: how a user would name an object from the program (the contract's
 * owner path): `module.NAME`, then `.attr`, `[key]`, `[i]`; a frame local
 * is `module.function:NAME`. Follows the shortest-path tree of the reference
 * graph from the roots back to the object and says how each step refers to
 * the next: C members by their Python names (PyMemberDef or getter), an
 * lru_cache's entries by key. A path through one of the interpreter's own
 * containers starts there (`sys.modules['x']`, `codecs.lookup('utf_8')`,
 * `sys.intern('x')`; docs/usage.md lists them); it does not say which other
 * references an object has. */
#ifndef PCA_ANALYSES_OWNER_H
#define PCA_ANALYSES_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/refgraph.h"

/* Writes the path into buf (always terminated); "" when the object is not
 * reachable from a root (garbage). */
void pca_owner_path(struct pca_objects *objects, const struct pca_heap *heap,
		    const struct pca_refgraph *g, uint32_t id, char *buf, size_t size);

#endif

/* debug_offsets.h: 3.13+ _Py_DebugOffsets (in the core's _PyRuntime)
 * checked against the resolved layout. It does not build a layout from it
 * (it covers a fraction of the roles we use; docs/no-debug-info.md). */
#ifndef PCA_LAYOUT_DEBUG_OFFSETS_H
#define PCA_LAYOUT_DEBUG_OFFSETS_H

#include "layout/layout.h"

/* Compare every offset and size _Py_DebugOffsets has with the layout; no-op
 * before 3.13. ret_checked: how many agreed. Errors: cookie, version or an
 * entry disagrees (PCA_ERROR_CORRUPT), free-threaded build (NOT_PYTHON). */
struct pca_error *pca_layout_check_debug_offsets(struct pca_symbols *symbols,
						 struct pca_target *target,
						 const struct pca_layout *l, unsigned *ret_checked);

#endif

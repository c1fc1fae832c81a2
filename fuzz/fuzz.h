/* fuzz.h: what the harnesses in fuzz/ share.
 *
 * Each fuzz_*.c defines LLVMFuzzerTestOneInput (and maybe
 * LLVMFuzzerInitialize); it is linked either with libFuzzer (clang,
 * -fsanitize=fuzzer: scripts/fuzz.sh) or with replay.c (any compiler, the
 * project's sanitizers: the ctest suite replays fuzz/corpus and
 * fuzz/regressions through it). Inputs reach the tool as files: an
 * anonymous memfd named by /proc/self/fd/N, so no temporary file is left
 * behind whatever happens.
 */
#ifndef PCA_FUZZ_FUZZ_H
#define PCA_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A memfd holding data; its path in path (at least 32 bytes). -1 on failure. */
int pca_fuzz_memfd(const void *data, size_t size, char *path, size_t path_size);

#endif

/* test_heap.c: the census index's sizes (heap/heap.h): 4 bytes per object,
 * a size of 4 GiB or more in the side table by id. The census itself is
 * tested end to end (tests/e2e) on real cores; these sizes are not in any
 * core a test can make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "heap/heap.h"

static void test_sizes(void **state)
{
    (void)state;
    uint32_t size32[] = { 16, PCA_HEAP_BIG_SIZE, 0, PCA_HEAP_BIG_SIZE - 1, PCA_HEAP_BIG_SIZE, 56 };
    struct pca_heap_big big[] = { { 1, 5ull << 30 }, { 4, PCA_HEAP_BIG_SIZE } };
    struct pca_heap h = { .count = 6, .size32 = size32, .big = big, .nbig = 2 };
    assert_int_equal(pca_heap_size(&h, 0), 16);
    assert_int_equal(pca_heap_size(&h, 1), 5ull << 30);
    assert_int_equal(pca_heap_size(&h, 2), 0);
    assert_int_equal(pca_heap_size(&h, 3), PCA_HEAP_BIG_SIZE - 1);
    /* exactly 2^32 - 1 is kept in the side table too */
    assert_int_equal(pca_heap_size(&h, 4), PCA_HEAP_BIG_SIZE);
    assert_int_equal(pca_heap_size(&h, 5), 56);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * alloc_count.h — count the allocations a stretch of code makes, for the
 * benchmark and tests/test_decode.c (one definition each: include it in one
 * file of the program). Link with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
 * so that every call goes through the wrappers below; set alloc_counting to 1
 * around the code measured and read alloc_count.
 */
#ifndef POSENC_ALLOC_COUNT_H
#define POSENC_ALLOC_COUNT_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
static volatile int alloc_counting;
static volatile long alloc_count;
void *__wrap_malloc(size_t n) {
    if (alloc_counting) alloc_count++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t s) {
    if (alloc_counting) alloc_count++;
    return __real_calloc(n, s);
}
void *__wrap_realloc(void *p, size_t n) {
    if (alloc_counting) alloc_count++;
    return __real_realloc(p, n);
}
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
    if (alloc_counting) alloc_count++;
    return __real_posix_memalign(p, a, n);
}

#endif

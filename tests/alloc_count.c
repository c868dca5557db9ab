/* alloc_count.c — the allocator wrappers of alloc_count.h (linked with --wrap). */
#include <stddef.h>

#include "tests/alloc_count.h"

volatile int alloc_counting;
volatile long alloc_count;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);

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

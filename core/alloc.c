#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *core_calloc_check(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "posenc: out of memory allocating %zu x %zu bytes (%s:%d)\n",
                n, size, file, line);
        exit(1);
    }
    return p;
}

void *core_realloc_check(void *p, size_t size, const char *file, int line) {
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        fprintf(stderr, "posenc: out of memory reallocating %zu bytes (%s:%d)\n", size, file, line);
        exit(1);
    }
    return q;
}

char *core_strdup_check(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *d = core_calloc_check(n, 1, file, line);
    memcpy(d, s, n);
    return d;
}

void *core_calloc_big_check(size_t n, size_t size, const char *file, int line) {
    const size_t huge = (size_t)2 << 20;
    size_t bytes = (n ? n : 1) * (size ? size : 1);
    if (bytes < huge) return core_calloc_check(n, size, file, line);
    bytes = (bytes + huge - 1) / huge * huge;
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) {
        fprintf(stderr, "posenc: out of memory allocating %zu bytes (%s:%d)\n", bytes, file, line);
        exit(1);
    }
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    memset(p, 0, bytes);
    return p;
}

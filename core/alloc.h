/*
 * alloc.h — checked allocation: out of memory in a numerical program is not
 * recoverable, so these abort with the file and line instead of returning NULL.
 */
#ifndef POSENC_CORE_ALLOC_H
#define POSENC_CORE_ALLOC_H

#include <stddef.h>

/* Allocation that aborts with file and line on failure: out-of-memory in a
 * numerical program is not recoverable. Memory is zeroed. */
void *core_calloc_check(size_t n, size_t size, const char *file, int line);
#define core_calloc(n, size) core_calloc_check((n), (size), __FILE__, __LINE__)
/* realloc and strdup, checked the same way (realloc's new bytes are not zeroed). */
void *core_realloc_check(void *p, size_t size, const char *file, int line);
#define core_realloc(p, size) core_realloc_check((p), (size), __FILE__, __LINE__)
char *core_strdup_check(const char *s, const char *file, int line);
#define core_strdup(s) core_strdup_check((s), __FILE__, __LINE__)
/* The same for large numerical buffers (parameters, activations, optimizer
 * state): 2 MiB-aligned and, on Linux, advised to use transparent huge pages
 * (page walks are expensive, above all in a VM, and the kernels stride across
 * rows). Zeroed; release with free(). */
void *core_calloc_big_check(size_t n, size_t size, const char *file, int line);
#define core_calloc_big(n, size) core_calloc_big_check((n), (size), __FILE__, __LINE__)

#endif

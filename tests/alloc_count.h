/*
 * alloc_count.h — count the allocations a stretch of code makes, for the
 * benchmark and tests/test_decode.c. The wrappers are in tests/alloc_count.c:
 * link it into the program with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
 * (the Makefile's WRAP_ALLOC) so that every call goes through them; set
 * alloc_counting to 1 around the code measured and read alloc_count.
 */
#ifndef POSENC_ALLOC_COUNT_H
#define POSENC_ALLOC_COUNT_H

extern volatile int alloc_counting; /* 1: count */
extern volatile long alloc_count;   /* allocations counted so far */

#endif

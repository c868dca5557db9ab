#include "common.h"
#include "dmath.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <string.h>

static char pe_errbuf[2048];

int pe_errorf(const char *fmt, ...) {
    /* format into a copy first: the arguments may include pe_error() itself,
     * to wrap the previous message in more context */
    char tmp[sizeof pe_errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(pe_errbuf, tmp, sizeof tmp);
    return -1;
}

const char *pe_error(void) { return pe_errbuf; }

void *pe_calloc_check(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "posenc: out of memory allocating %zu x %zu bytes (%s:%d)\n",
                n, size, file, line);
        exit(1);
    }
    return p;
}

void *pe_realloc_check(void *p, size_t size, const char *file, int line) {
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        fprintf(stderr, "posenc: out of memory reallocating %zu bytes (%s:%d)\n", size, file, line);
        exit(1);
    }
    return q;
}

char *pe_strdup_check(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *d = pe_calloc_check(n, 1, file, line);
    memcpy(d, s, n);
    return d;
}

void *pe_calloc_big_check(size_t n, size_t size, const char *file, int line) {
    const size_t huge = (size_t)2 << 20;
    size_t bytes = (n ? n : 1) * (size ? size : 1);
    if (bytes < huge) return pe_calloc_check(n, size, file, line);
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

void rng_seed(Rng *r, uint64_t seed) { r->state = seed; }

uint64_t rng_u64(Rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t rng_below(Rng *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection: exact uniformity. */
    uint64_t m = (uint64_t)(uint32_t)(rng_u64(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(rng_u64(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float rng_uniform(Rng *r) { return (float)(rng_u64(r) >> 40) / 16777216.0f; }

float rng_normal(Rng *r) {
    double u1 = ((double)(rng_u64(r) >> 11) + 1.0) / 9007199254740993.0; /* (0,1] */
    double u2 = (double)(rng_u64(r) >> 11) / 9007199254740992.0;         /* [0,1) */
    return (float)(sqrt(-2.0 * dm_log(u1)) * dm_cos(2.0 * M_PI * u2));
}

uint64_t rng_derive(uint64_t seed, uint64_t stream) {
    Rng r;
    rng_seed(&r, seed ^ (stream * 0xD1B54A32D192ED03ull));
    rng_u64(&r);
    return rng_u64(&r);
}

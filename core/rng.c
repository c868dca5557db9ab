#include "core/rng.h"

#include <math.h>

#include "core/dmath.h"

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

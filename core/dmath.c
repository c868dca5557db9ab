/*
 * dmath.c — deterministic elementary functions (see dmath.h).
 *
 * Classic constructions (Cody and Waite's argument reduction with split
 * constants, as in fdlibm; series evaluated by Horner's rule). The series are
 * Taylor's rather than minimax: a few more terms, coefficients anyone can
 * check, and accuracy to within a few ulps of a double on the reduced ranges.
 */
#include "core/dmath.h"

#include <math.h> /* INFINITY, NAN only */
#include <stdint.h>
#include <string.h>

static inline uint64_t bits_of(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double from_bits(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* 2^k for -1022 <= k <= 1023, built in the exponent bits: exact */
static inline double pow2i(int k) { return from_bits((uint64_t)(k + 1023) << 52); }

/* x * 2^k, exact unless the result is subnormal (then rounded once, by IEEE) */
static double scale2(double x, int k) {
    while (k > 1023) {
        x *= pow2i(1023);
        k -= 1023;
    }
    while (k < -1022) {
        x *= pow2i(-1022);
        k += 1022;
    }
    return x * pow2i(k);
}

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^11 (fdlibm's ln2_hi/lo) */
static const double LN2_HI = 6.93147180369123816490e-01; /* 0x3FE62E42FEE00000 */
static const double LN2_LO = 1.90821492927058770002e-10; /* 0x3DEA39EF35793C76 */
static const double INV_LN2 = 1.44269504088896338700e+00;

/* e^r for |r| <= ln2/2 + tiny: Taylor to r^13 (next term < 5e-18) */
static double exp_reduced(double r) {
    double p = 1.0 / 6227020800.0; /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    return p * r + 1.0;
}

double dm_exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893384) return INFINITY;
    if (x < -745.2) return 0.0;
    const double k = floor(x * INV_LN2 + 0.5);
    const double r = (x - k * LN2_HI) - k * LN2_LO;
    return scale2(exp_reduced(r), (int)k);
}

double dm_expm1(double x) {
    if (x != x) return x;
    if (x > -0.34 && x < 0.34) {
        /* x + x^2/2! + ... + x^14/14!, without the cancellation of e^x - 1 */
        double p = 1.0 / 87178291200.0; /* 1/14! */
        p = p * x + 1.0 / 6227020800.0;
        p = p * x + 1.0 / 479001600.0;
        p = p * x + 1.0 / 39916800.0;
        p = p * x + 1.0 / 3628800.0;
        p = p * x + 1.0 / 362880.0;
        p = p * x + 1.0 / 40320.0;
        p = p * x + 1.0 / 5040.0;
        p = p * x + 1.0 / 720.0;
        p = p * x + 1.0 / 120.0;
        p = p * x + 1.0 / 24.0;
        p = p * x + 1.0 / 6.0;
        p = p * x + 0.5;
        return (p * x) * x + x;
    }
    return dm_exp(x) - 1.0;
}

/* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); x finite and > 0 */
static double split_log(double x, int *e) {
    int adj = 0;
    if (x < 2.2250738585072014e-308) { /* subnormal: normalise exactly */
        x *= 18014398509481984.0;       /* 2^54 */
        adj = -54;
    }
    uint64_t u = bits_of(x);
    int ex = (int)((u >> 52) & 0x7ff) - 1023;
    double m = from_bits((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1, 2) */
    if (m > 1.4142135623730951) {
        m *= 0.5;
        ex++;
    }
    *e = ex + adj;
    return m;
}

/* log(m) for m in [sqrt(1/2), sqrt(2)]: 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716 */
static double log_reduced(double m) {
    const double f = m - 1.0; /* exact (Sterbenz) */
    const double s = f / (2.0 + f), z = s * s;
    double p = 1.0 / 23.0;
    p = p * z + 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    /* log m = 2 (s + s^3/3 + s^5/5 + ...) = 2s + 2s z (1/3 + z/5 + ...) */
    const double two_s = 2.0 * s;
    return two_s + two_s * z * p;
}

double dm_log(double x) {
    if (x != x) return x;
    if (x < 0.0) return NAN;
    if (x == 0.0) return -INFINITY;
    if (x == INFINITY) return x;
    int e;
    const double m = split_log(x, &e);
    return e * LN2_HI + (log_reduced(m) + e * LN2_LO);
}

double dm_log2(double x) {
    if (x != x) return x;
    if (x < 0.0) return NAN;
    if (x == 0.0) return -INFINITY;
    if (x == INFINITY) return x;
    int e;
    const double m = split_log(x, &e);
    if (m == 1.0) return (double)e; /* powers of two exactly */
    return e + log_reduced(m) * INV_LN2;
}

double dm_log1p(double x) {
    if (x != x) return x;
    if (x < -1.0) return NAN;
    if (x == -1.0) return -INFINITY;
    if (x == INFINITY) return x;
    const double u = 1.0 + x;
    if (u == 1.0) return x;
    /* Goldberg's correction: log(u) * x / (u - 1) cancels the rounding of 1 + x */
    return dm_log(u) * (x / (u - 1.0));
}

double dm_pow(double x, double y) {
    if (x != x || y != y) return NAN;
    if (y == 0.0 || x == 1.0) return 1.0;
    if (x < 0.0) return NAN;
    if (x == 0.0) return y > 0.0 ? 0.0 : INFINITY;
    if (x == INFINITY) return y > 0.0 ? INFINITY : 0.0;
    int e;
    const double m = split_log(x, &e);
    if (m == 1.0) { /* 2^(e y): exact when e y is a whole number in range */
        const double t = e * y;
        if (t == floor(t) && t > -1074.0 && t < 1024.0) return scale2(1.0, (int)t);
    }
    return dm_exp(y * dm_log(x));
}

/* pi/2 in three 33-bit pieces and a tail (fdlibm's pio2_1, pio2_2, pio2_3,
 * pio2_3t): n * piece is exact for |n| < 2^20 */
static const double PIO2_1 = 1.57079632673412561417e+00;  /* 0x3FF921FB54400000 */
static const double PIO2_2 = 6.07710050630396597660e-11;  /* 0x3DD0B4611A600000 */
static const double PIO2_3 = 2.02226624871116645580e-21;  /* 0x3BA3198A2E000000 */
static const double PIO2_3T = 8.47842766036889956997e-32; /* 0x397B839A252049C1 */
static const double INV_PIO2 = 6.36619772367581382433e-01;

/* r = x - n pi/2, |r| <= pi/4 (+ tiny); returns n mod 4 */
static int reduce_pio2(double x, double *r) {
    const double n = floor(x * INV_PIO2 + 0.5);
    double y = x - n * PIO2_1;
    y = y - n * PIO2_2;
    y = y - n * PIO2_3;
    *r = y - n * PIO2_3T;
    /* n mod 4 (n is a whole number; for |n| >= 2^53 every such n is even) */
    const double q = n - 4.0 * floor(n * 0.25);
    return (int)q;
}

/* sin r, |r| <= pi/4: Taylor to r^17 (next term < 1e-19) */
static double sin_reduced(double r) {
    const double z = r * r;
    double p = 1.0 / 355687428096000.0; /* 1/17! */
    p = p * z - 1.0 / 1307674368000.0;  /* 1/15! */
    p = p * z + 1.0 / 6227020800.0;     /* 1/13! */
    p = p * z - 1.0 / 39916800.0;       /* 1/11! */
    p = p * z + 1.0 / 362880.0;         /* 1/9! */
    p = p * z - 1.0 / 5040.0;           /* 1/7! */
    p = p * z + 1.0 / 120.0;            /* 1/5! */
    p = p * z - 1.0 / 6.0;              /* 1/3! */
    return r + (r * z) * p;
}

/* cos r, |r| <= pi/4: Taylor to r^18 (next term < 4e-21) */
static double cos_reduced(double r) {
    const double z = r * r;
    double p = 1.0 / 6402373705728000.0; /* 1/18! */
    p = p * z - 1.0 / 20922789888000.0;  /* 1/16! */
    p = p * z + 1.0 / 87178291200.0;     /* 1/14! */
    p = p * z - 1.0 / 479001600.0;       /* 1/12! */
    p = p * z + 1.0 / 3628800.0;         /* 1/10! */
    p = p * z - 1.0 / 40320.0;           /* 1/8! */
    p = p * z + 1.0 / 720.0;             /* 1/6! */
    p = p * z - 1.0 / 24.0;              /* 1/4! */
    p = p * z + 0.5;                     /* 1/2!, subtracted below */
    return 1.0 - z * p;
}

double dm_sin(double x) {
    if (x != x || x == INFINITY || x == -INFINITY) return NAN;
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return sin_reduced(r);
    case 1: return cos_reduced(r);
    case 2: return -sin_reduced(r);
    default: return -cos_reduced(r);
    }
}

double dm_cos(double x) {
    if (x != x || x == INFINITY || x == -INFINITY) return NAN;
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return cos_reduced(r);
    case 1: return -sin_reduced(r);
    case 2: return -cos_reduced(r);
    default: return sin_reduced(r);
    }
}

/*
 * dmath.h — the elementary functions posenc's numbers go through, computed
 * the same way on every machine.
 *
 * The C library's exp, log, sin, cos and pow are allowed to differ in the last
 * bit between implementations and versions (glibc, musl, macOS and their
 * vector variants all do), and a small model's training amplifies one bit into
 * a different model. Every function here uses only +, -, *, / on doubles in a
 * fixed order (the build keeps -ffp-contract=off: no fused multiply-add),
 * exact operations on the exponent bits, and a fixed polynomial, so it returns
 * the same bits on every IEEE-754 machine whatever its libm. Accuracy: a few
 * units in the last place of a double (tests/test_repro.c compares with libm),
 * far below the float results that posenc stores.
 *
 * Domains: as libm, except sin/cos, which reduce exactly only for
 * |x| < 2^20 * pi/2 (about 1.6e6; position x frequency stays below it for
 * every model.max_positions posenc accepts) and are still deterministic, but
 * less accurate, beyond.
 *
 * Use these, never <math.h>'s transcendental functions, on any path that
 * reaches weights, activations, data or an output file. sqrt, fabs, floor and
 * ceil are exactly rounded by IEEE 754 and stay as they are.
 */
#ifndef POSENC_DMATH_H
#define POSENC_DMATH_H

double dm_exp(double x);
double dm_expm1(double x);
double dm_log(double x);
double dm_log1p(double x);
double dm_log2(double x);
/* x^y for x > 0 (and x = 0, y > 0 -> 0); NaN for x < 0 */
double dm_pow(double x, double y);
double dm_sin(double x);
double dm_cos(double x);

static inline float dm_expf(float x) { return (float)dm_exp(x); }
static inline float dm_logf(float x) { return (float)dm_log(x); }
static inline float dm_log1pf(float x) { return (float)dm_log1p(x); }
static inline float dm_expm1f(float x) { return (float)dm_expm1(x); }
static inline float dm_powf(float x, float y) { return (float)dm_pow(x, y); }

#endif

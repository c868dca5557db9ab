/*
 * test_pe.c — the position encodings against SPEC §4's test vectors, RoPE's
 * relative-position property, the registry, and the learned table's gradient.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/pe.h"
#include "testutil.h"

static PEConfig cfg_of(int C, int NH, int P) {
    PEConfig c = {.C = C, .NH = NH, .hs = C / NH, .L = 1, .P = P, .rope_base = 10000.0f, .rope_fraction = 1.0f};
    return c;
}

static void expect_slopes(int NH, const double *want) {
    float s[64];
    pe_alibi_slopes(s, NH);
    for (int h = 0; h < NH; h++)
        ck_assert_msg(fabs(s[h] - want[h]) < 1e-6 * want[h] + 1e-7, "%d heads: slope %d = %.8f, want %.8f", NH, h,
                      s[h], want[h]);
}

START_TEST(test_alibi_slopes) {
    const double s4[] = {1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256};
    const double s8[] = {1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256};
    const double s6[] = {0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125};
    const double s12[] = {1.0 / 2,  1.0 / 4,  1.0 / 8,   1.0 / 16,  1.0 / 32,  1.0 / 64,
                          1.0 / 128, 1.0 / 256, 0.7071068, 0.3535534, 0.1767767, 0.0883883};
    expect_slopes(4, s4);
    expect_slopes(8, s8);
    expect_slopes(6, s6);
    float s[12];
    pe_alibi_slopes(s, 12);
    for (int h = 0; h < 12; h++) ck_assert_msg(fabs(s[h] - s12[h]) < 1e-6, "12 heads: slope %d = %.7f", h, s[h]);
}
END_TEST

START_TEST(test_alibi_bias) {
    PE pe;
    PEConfig c = cfg_of(8, 4, 16);
    ck_assert(pe_init(&pe, "alibi", &c) == 0);
    int pos[4] = {0, 1, 5, 7}; /* non-contiguous ids: the bias uses ids, not indices */
    float row[4] = {0};
    pe.ops->bias_forward(&pe, row, 0, 1, pos, 3); /* head 1, slope 1/16 */
    ck_assert_float_eq_tol(row[0], -7.0f / 16, 1e-7f);
    ck_assert_float_eq_tol(row[1], -6.0f / 16, 1e-7f);
    ck_assert_float_eq_tol(row[2], -2.0f / 16, 1e-7f);
    ck_assert_float_eq_tol(row[3], 0.0f, 1e-7f);
    pe_free(&pe);
}
END_TEST

START_TEST(test_rope_vector) {
    PE pe;
    PEConfig c = cfg_of(4, 1, 8);
    ck_assert(pe_init(&pe, "rope", &c) == 0);
    float x[4] = {1, 2, 3, 4};
    pe.ops->qk_forward(&pe, x, 1, 0);
    const float want[4] = {-1.984111f, 1.959901f, 2.462378f, 4.019800f};
    for (int i = 0; i < 4; i++) ck_assert_msg(fabsf(x[i] - want[i]) < 1e-5f, "rope[%d] = %f, want %f", i, x[i], want[i]);
    /* backward is the transpose: rotating back recovers the input */
    pe.ops->qk_backward(&pe, x, 1, 0);
    const float orig[4] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) ck_assert_float_eq_tol(x[i], orig[i], 1e-5f);
    pe_free(&pe);
}
END_TEST

START_TEST(test_rope_relative) {
    /* <rope(q, m), rope(k, n)> depends on m - n only */
    PE pe;
    PEConfig c = cfg_of(16, 1, 64);
    ck_assert(pe_init(&pe, "rope", &c) == 0);
    float q[16], k[16];
    fill_normal(q, 16, 1.0f, 1);
    fill_normal(k, 16, 1.0f, 2);
    double ref = 0.0;
    for (int shift = 0; shift <= 40; shift += 5) {
        float qa[16], ka[16];
        memcpy(qa, q, sizeof q);
        memcpy(ka, k, sizeof k);
        pe.ops->qk_forward(&pe, qa, 7 + shift, 0);
        pe.ops->qk_forward(&pe, ka, 3 + shift, 1);
        double d = 0.0;
        for (int i = 0; i < 16; i++) d += qa[i] * ka[i];
        if (shift == 0)
            ref = d;
        else
            ck_assert_msg(fabs(d - ref) < 1e-4, "shift %d: %.7f vs %.7f", shift, d, ref);
    }
    /* and it does depend on the difference */
    float qa[16], ka[16];
    memcpy(qa, q, sizeof q);
    memcpy(ka, k, sizeof k);
    pe.ops->qk_forward(&pe, qa, 9, 0);
    pe.ops->qk_forward(&pe, ka, 3, 1);
    double d = 0.0;
    for (int i = 0; i < 16; i++) d += qa[i] * ka[i];
    ck_assert(fabs(d - ref) > 1e-3);
    pe_free(&pe);
}
END_TEST

START_TEST(test_rope_fraction) {
    /* rope_fraction 0.5 of hs 8: dims 0..3 rotated (pairs (0,2), (1,3)), 4..7 untouched */
    PE pe;
    PEConfig c = cfg_of(8, 1, 8);
    c.rope_fraction = 0.5f;
    ck_assert(pe_init(&pe, "rope", &c) == 0);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    pe.ops->qk_forward(&pe, x, 1, 0);
    const float want[4] = {-1.984111f, 1.959901f, 2.462378f, 4.019800f};
    for (int i = 0; i < 4; i++) ck_assert(fabsf(x[i] - want[i]) < 1e-5f);
    for (int i = 4; i < 8; i++) ck_assert(x[i] == (float)(i + 1));
    pe_free(&pe);
    c.rope_fraction = 0.1f; /* 0.8 dims: nothing left to rotate */
    ck_assert(pe_init(&pe, "rope", &c) != 0);
    ck_assert(strstr(pe_error(), "rope_fraction") != NULL);
}
END_TEST

START_TEST(test_sinusoidal_vector) {
    PE pe;
    PEConfig c = cfg_of(4, 1, 8);
    ck_assert(pe_init(&pe, "sinusoidal", &c) == 0);
    float x[2 * 4] = {0};
    int pos[2] = {3, 0};
    pe.ops->embed_forward(&pe, x, pos, 2);
    const float want[4] = {0.141120f, -0.989992f, 0.029996f, 0.999550f};
    for (int i = 0; i < 4; i++) ck_assert_msg(fabsf(x[i] - want[i]) < 1e-6f, "sin[3][%d] = %f", i, x[i]);
    const float want0[4] = {0, 1, 0, 1};
    for (int i = 0; i < 4; i++) ck_assert(fabsf(x[4 + i] - want0[i]) < 1e-7f);
    pe_free(&pe);
}
END_TEST

START_TEST(test_learned_grad_rows) {
    /* rows for positions absent from the batch receive exactly zero gradient */
    PE pe;
    PEConfig c = cfg_of(4, 1, 10);
    ck_assert(pe_init(&pe, "learned", &c) == 0);
    ck_assert_int_eq((int)pe_num_params(&pe), 40);
    float params[40], grads[40] = {0}, x[3 * 4] = {0}, dx[3 * 4];
    Rng r;
    rng_seed(&r, 5);
    pe.ops->init_params(&pe, params, &r);
    pe.params = params;
    pe.grads = grads;
    int pos[3] = {2, 5, 2};
    pe.ops->embed_forward(&pe, x, pos, 3);
    for (int cc = 0; cc < 4; cc++) ck_assert(x[4 + cc] == params[5 * 4 + cc]);
    fill_normal(dx, 12, 1.0f, 9);
    pe.ops->embed_backward(&pe, dx, pos, 3);
    for (int p = 0; p < 10; p++)
        for (int cc = 0; cc < 4; cc++) {
            float g = grads[p * 4 + cc];
            if (p == 2)
                ck_assert_float_eq_tol(g, dx[cc] + dx[8 + cc], 1e-7f);
            else if (p == 5)
                ck_assert(g == dx[4 + cc]);
            else
                ck_assert_msg(g == 0.0f, "row %d got gradient %g", p, g);
        }
    pe_free(&pe);
}
END_TEST


/* ---- RoPE scaling at evaluation (SPEC §4) ------------------------------ */

static PEConfig scaled(int C, int NH, int P, int scaling, float s, int L) {
    PEConfig c = cfg_of(C, NH, P);
    c.rope_scaling = scaling, c.rope_scale = s, c.rope_orig_len = L;
    return c;
}

START_TEST(test_rope_ntk_base) {
    /* hs = 16, s = 2: base' = 1e4 * 2^(16/14) = 22081.79; w'_i = base'^(-2i/16) */
    PEConfig c = scaled(64, 4, 8, PE_ROPE_SCALING_NTK, 2.0f, 0);
    double w[8], m = 0;
    ck_assert_int_eq(pe_rope_frequencies(&c, w, &m), 8);
    const double base2 = pow(w[1], -8.0); /* w_1 = base'^(-1/8) */
    ck_assert_msg(fabs(base2 - 22081.79) < 0.01, "base' = %.4f, want 22081.79", base2);
    for (int i = 0; i < 8; i++) ck_assert_double_eq_tol(w[i], pow(1e4 * pow(2.0, 16.0 / 14), -2.0 * i / 16), 1e-12);
    ck_assert_double_eq(m, 1.0);
    /* and the tables built from them: pair 7 at position 5 is turned by 5 * w_7 */
    PE pe;
    ck_assert_msg(pe_init(&pe, "rope", &c) == 0, "%s", pe_error());
    float x[16] = {0};
    x[7] = 1;
    pe.ops->qk_forward(&pe, x, 5, 0);
    ck_assert_float_eq_tol(x[7], (float)cos(5 * w[7]), 1e-6f);
    ck_assert_float_eq_tol(x[15], (float)sin(5 * w[7]), 1e-6f);
    pe_free(&pe);
}
END_TEST

START_TEST(test_rope_pi_rotation) {
    /* position interpolation divides positions by s: PI with s = 2 at p = 2q equals no scaling at q */
    PEConfig c0 = cfg_of(32, 2, 64), c1 = scaled(32, 2, 64, PE_ROPE_SCALING_PI, 2.0f, 0);
    PE a, b;
    ck_assert(pe_init(&a, "rope", &c0) == 0 && pe_init(&b, "rope", &c1) == 0);
    for (int q = 0; q < 32; q += 5) {
        float x[16], y[16];
        fill_normal(x, 16, 1.0f, 7 + q);
        memcpy(y, x, sizeof x);
        a.ops->qk_forward(&a, x, q, 0);
        b.ops->qk_forward(&b, y, 2 * q, 1);
        ck_assert_msg(max_abs_diff(x, y, 16) < 1e-5f, "q = %d: PI(2q) != RoPE(q), diff %g", q, max_abs_diff(x, y, 16));
    }
    double w0[8], w1[8], m;
    pe_rope_frequencies(&c0, w0, &m);
    pe_rope_frequencies(&c1, w1, &m);
    for (int i = 0; i < 8; i++) ck_assert_double_eq_tol(w1[i], w0[i] / 2, 1e-15);
    ck_assert_double_eq(m, 1.0);
    pe_free(&a);
    pe_free(&b);
}
END_TEST

START_TEST(test_rope_yarn) {
    /* head size 128 (R = 128, 64 pairs), base 1e4, original context 4096, s = 4, as a
     * Llama-size head: d(32) = 128 ln(4096 / (64 pi)) / (2 ln 1e4) = 20.94 -> lo = 20,
     * d(1) = 45.03 -> hi = 46. Pairs i <= 20 (>= 32 rotations over the context) keep w_i,
     * pairs i >= 46 (< 1 rotation) get w_i / s, the ramp is linear between. */
    PEConfig c = scaled(128, 1, 8, PE_ROPE_SCALING_YARN, 4.0f, 4096);
    double w[64], m = 0;
    ck_assert_int_eq(pe_rope_frequencies(&c, w, &m), 64);
    for (int i = 0; i < 64; i++) {
        const double w0 = pow(1e4, -2.0 * i / 128);
        const double ramp = i <= 20 ? 0 : i >= 46 ? 1 : (i - 20) / 26.0;
        ck_assert_msg(fabs(w[i] - (w0 / 4 * ramp + w0 * (1 - ramp))) < 1e-12 * w0, "pair %d: %.10g", i, w[i]);
    }
    ck_assert_double_eq_tol(w[20], 1.0 * pow(1e4, -40.0 / 128), 1e-15);
    ck_assert_double_eq_tol(w[63], pow(1e4, -126.0 / 128) / 4, 1e-15);
    ck_assert_double_eq_tol(w[33], pow(1e4, -66.0 / 128) * (0.5 / 4 + 0.5), 1e-15);
    /* the attention factor 0.1 ln s + 1 multiplies cos and sin: q and k each scaled by it */
    ck_assert_double_eq_tol(m, 0.1 * log(4.0) + 1.0, 1e-12);
    PE pe;
    ck_assert(pe_init(&pe, "rope", &c) == 0);
    float x[128] = {0};
    x[0] = 1;
    pe.ops->qk_forward(&pe, x, 0, 0);
    ck_assert_float_eq_tol(x[0], 1.1386294f, 1e-6f);
    /* at p = 3, pair 30 (on the ramp) turned by 3 w'_30 and stretched by the factor, cos and sin alike */
    memset(x, 0, sizeof x);
    x[30] = 1;
    pe.ops->qk_forward(&pe, x, 3, 1);
    ck_assert_float_eq_tol(x[30], (float)(m * cos(3 * w[30])), 1e-6f);
    ck_assert_float_eq_tol(x[94], (float)(m * sin(3 * w[30])), 1e-6f);
    pe_free(&pe);
    /* s = 1: no change at all; the demo's shape (hs 16, L 18) interpolates every pair but pair 0 */
    PEConfig one = scaled(64, 4, 8, PE_ROPE_SCALING_YARN, 1.0f, 18), small = scaled(64, 4, 8, PE_ROPE_SCALING_YARN, 4.0f, 18);
    double w1[8], w4[8];
    ck_assert_int_eq(pe_rope_frequencies(&one, w1, &m), 8);
    ck_assert_double_eq(m, 1.0);
    pe_rope_frequencies(&small, w4, &m);
    for (int i = 0; i < 8; i++) {
        const double w0 = pow(1e4, -2.0 * i / 16);
        ck_assert_double_eq_tol(w1[i], w0, 1e-15);
        ck_assert_double_eq_tol(w4[i], i == 0 ? w0 : w0 / 4, 1e-15);
    }
}
END_TEST

START_TEST(test_rope_scaling_errors) {
    PE pe;
    PEConfig c = scaled(32, 2, 8, PE_ROPE_SCALING_PI, 0.5f, 0);
    ck_assert(pe_init(&pe, "rope", &c) != 0);
    ck_assert_msg(strstr(pe_error(), "must be in [1, 1e6], got 0.5"), "%s", pe_error());
    c = scaled(32, 2, 8, PE_ROPE_SCALING_YARN, 2.0f, 0);
    ck_assert(pe_init(&pe, "rope", &c) != 0);
    ck_assert_msg(strstr(pe_error(), "original (training) context"), "%s", pe_error());
    ck_assert_int_eq(pe_rope_scaling_find("yarn"), PE_ROPE_SCALING_YARN);
    ck_assert_int_eq(pe_rope_scaling_find("YaRN"), -1);
    ck_assert_str_eq(pe_rope_scaling_name(PE_ROPE_SCALING_NTK), "ntk");
    /* none with the default (zero) fields: the unscaled encoding, bitwise */
    PEConfig c0 = cfg_of(32, 2, 16), c1 = scaled(32, 2, 16, PE_ROPE_SCALING_NONE, 7.0f, 3);
    PE a, b;
    ck_assert(pe_init(&a, "rope", &c0) == 0 && pe_init(&b, "rope", &c1) == 0);
    float x[16], y[16];
    fill_normal(x, 16, 1.0f, 3);
    memcpy(y, x, sizeof x);
    a.ops->qk_forward(&a, x, 13, 0);
    b.ops->qk_forward(&b, y, 13, 0);
    ck_assert(memcmp(x, y, sizeof x) == 0);
    pe_free(&a);
    pe_free(&b);
}
END_TEST

START_TEST(test_registry) {
    ck_assert_int_eq(pe_count(), 5);
    const char *names[] = {"none", "sinusoidal", "learned", "rope", "alibi"};
    for (int i = 0; i < 5; i++) {
        ck_assert_ptr_nonnull(pe_find(names[i]));
        ck_assert(strstr(pe_names(), names[i]) != NULL);
    }
    PE pe;
    PEConfig c = cfg_of(8, 2, 8);
    ck_assert(pe_init(&pe, "rotary", &c) != 0);
    ck_assert(strstr(pe_error(), "rotary") && strstr(pe_error(), "none, sinusoidal, learned, rope, alibi"));
}
END_TEST

static Suite *pe_suite(void) {
    Suite *s = suite_create("pe");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_alibi_slopes);
    tcase_add_test(tc, test_alibi_bias);
    tcase_add_test(tc, test_rope_vector);
    tcase_add_test(tc, test_rope_relative);
    tcase_add_test(tc, test_rope_fraction);
    tcase_add_test(tc, test_sinusoidal_vector);
    tcase_add_test(tc, test_learned_grad_rows);
    tcase_add_test(tc, test_rope_ntk_base);
    tcase_add_test(tc, test_rope_pi_rotation);
    tcase_add_test(tc, test_rope_yarn);
    tcase_add_test(tc, test_rope_scaling_errors);
    tcase_add_test(tc, test_registry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(pe_suite()); }

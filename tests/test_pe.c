/*
 * test_pe.c — the position encodings against docs/SPEC.md §4's test vectors, RoPE's
 * relative-position property, the registry, and the learned table's gradient;
 * for t5, fire, kerple and xpos: the T5 bucket vectors, central-difference
 * checks of every bias parameter through the bias hooks (per layer), the
 * relative property of each, and xPos's decay.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "model/pe.h"
#include "tests/testutil.h"

/* Set the encoding setting called name (model.<name>) in c. */
static void set(PEConfig *c, const char *name, double v) {
    const int k = pe_setting_find(name);
    ck_assert_msg(k >= 0, "no setting %s", name);
    c->set.v[k] = v;
}

static PEConfig cfg_of(int C, int NH, int P) {
    PEConfig c;
    pe_config_default(&c); /* rope, t5, fire, xpos defaults */
    c.C = C, c.NH = NH, c.hs = C / NH, c.L = 1, c.P = P;
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
    set(&c, "rope_fraction", 0.5f);
    ck_assert(pe_init(&pe, "rope", &c) == 0);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    pe.ops->qk_forward(&pe, x, 1, 0);
    const float want[4] = {-1.984111f, 1.959901f, 2.462378f, 4.019800f};
    for (int i = 0; i < 4; i++) ck_assert(fabsf(x[i] - want[i]) < 1e-5f);
    for (int i = 4; i < 8; i++) ck_assert(x[i] == (float)(i + 1));
    pe_free(&pe);
    set(&c, "rope_fraction", 0.1f); /* 0.8 dims: nothing left to rotate */
    ck_assert(pe_init(&pe, "rope", &c) != 0);
    ck_assert(strstr(core_error(), "rope_fraction") != NULL);
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

/* ---- T5, FIRE, KERPLE, xPos ---------------------------------------------- */

/* docs/SPEC.md §4: causal buckets, 32 buckets, max distance 128. */
START_TEST(test_t5_buckets) {
    const int d[] = {0, 7, 8, 16, 32, 64, 128, 500}, want[] = {0, 7, 8, 16, 21, 26, 31, 31};
    for (int i = 0; i < 8; i++)
        ck_assert_msg(pe_t5_bucket(d[i], 32, 128) == want[i], "distance %d: bucket %d, want %d", d[i],
                      pe_t5_bucket(d[i], 32, 128), want[i]);
    /* more of HF's formula, 16 + (int)(log(d/16)/log(8)*16): the first log-spaced buckets hold
     * 16..18, 19..20, 21..23, 24..; and another configuration (16 buckets, max distance 64) */
    const int d2[] = {17, 18, 19, 20, 21, 24, 100, 127}, want2[] = {16, 16, 17, 17, 18, 19, 30, 31};
    for (int i = 0; i < 8; i++)
        ck_assert_msg(pe_t5_bucket(d2[i], 32, 128) == want2[i], "distance %d: bucket %d, want %d", d2[i],
                      pe_t5_bucket(d2[i], 32, 128), want2[i]);
    const int d3[] = {7, 8, 9, 16, 32, 63, 64}, want3[] = {7, 8, 8, 10, 13, 15, 15};
    for (int i = 0; i < 7; i++)
        ck_assert_msg(pe_t5_bucket(d3[i], 16, 64) == want3[i], "16 buckets, distance %d: bucket %d, want %d",
                      d3[i], pe_t5_bucket(d3[i], 16, 64), want3[i]);
    /* monotone, every bucket used up to the last */
    int prev = 0;
    for (int x = 0; x < 1000; x++) {
        int b = pe_t5_bucket(x, 32, 128);
        ck_assert(b == prev || b == prev + 1);
        prev = b;
    }
    ck_assert_int_eq(prev, 31);
    ck_assert_int_eq(pe_t5_bucket(-3, 32, 128), 0); /* causal: the future is distance 0 */
    /* through the module: row[j] gets W[bucket(i - j), h] */
    PEConfig c = cfg_of(8, 2, 600);
    PE pe;
    ck_assert(pe_init(&pe, "t5", &c) == 0);
    ck_assert_int_eq((int)pe_num_params(&pe), 32 * 2);
    float w[64], g[64] = {0};
    for (int k = 0; k < 64; k++) w[k] = (float)k;
    pe.params = w;
    pe.grads = g;
    int pos[2] = {0, 500};
    float row[2] = {0, 0};
    pe.ops->bias_forward(&pe, row, 0, 1, pos, 1);
    ck_assert(row[0] == w[31 * 2 + 1] && row[1] == w[0 * 2 + 1]);
    pe_free(&pe);
}
END_TEST

/* Parameters of a bias encoding through its hooks, for layer l of L = 2:
 * J = sum R * bias over a batch of rows (non-contiguous position ids),
 * analytic gradient from bias_backward (+ bias_reduce) against central
 * differences on every parameter. Also checks the other layer's slice
 * gets no gradient. */
enum { BG_B = 2, BG_T = 6 };
static const int bg_pos[BG_B * BG_T] = {0, 1, 2, 3, 4, 5, /**/ 0, 2, 3, 7, 9, 12};
static PE bg_pe;
static int bg_layer;
static float bg_R[BG_B * 4 * BG_T * BG_T];

static double bias_obj(void *ctx) {
    (void)ctx;
    const PEOps *ops = bg_pe.ops;
    const int NH = bg_pe.cfg.NH;
    if (ops->bias_prepare) ops->bias_prepare(&bg_pe, bg_layer, bg_pos, BG_B * BG_T);
    double J = 0.0;
    for (int b = 0; b < BG_B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < BG_T; i++) {
                float row[BG_T] = {0};
                ops->bias_forward(&bg_pe, row, bg_layer, h, bg_pos + b * BG_T, i);
                const float *r = bg_R + ((b * NH + h) * BG_T + i) * BG_T;
                for (int j = 0; j <= i; j++) J += (double)r[j] * row[j];
            }
    return J;
}

static void check_bias_grad(const char *name, PEConfig c, float std, float eps) {
    c.L = 2;
    ck_assert_msg(pe_init(&bg_pe, name, &c) == 0 && pe_full_setup(&bg_pe) == 0, "%s", core_error());
    const int n = (int)pe_num_params(&bg_pe);
    float *params = malloc(n * sizeof(float)), *grads = calloc(n, sizeof(float));
    Rng rng;
    rng_seed(&rng, 5);
    bg_pe.ops->init_params(&bg_pe, params, &rng);
    if (std > 0.0f) { /* perturb the initial values, keeping them a plausible size */
        float *noise = malloc(n * sizeof(float));
        fill_normal(noise, n, std, 77);
        for (int i = 0; i < n; i++) params[i] += noise[i];
        free(noise);
    }
    bg_pe.params = params;
    bg_pe.grads = grads;
    fill_normal(bg_R, BG_B * c.NH * BG_T * BG_T, 1.0f, 31);
    for (bg_layer = 0; bg_layer < 2; bg_layer++) {
        memset(grads, 0, n * sizeof(float));
        bias_obj(NULL); /* prepare for this layer */
        for (int b = 0; b < BG_B; b++)
            for (int h = 0; h < c.NH; h++)
                for (int i = 0; i < BG_T; i++)
                    bg_pe.ops->bias_backward(&bg_pe, bg_R + ((b * c.NH + h) * BG_T + i) * BG_T, bg_layer, h,
                                             bg_pos + b * BG_T, i);
        if (bg_pe.ops->bias_reduce) bg_pe.ops->bias_reduce(&bg_pe, bg_layer);
        double mx, rel = grad_check(bias_obj, NULL, params, grads, n, eps, &mx);
        if (getenv("GRADCHECK_VERBOSE")) fprintf(stderr, "bias %s layer %d rel %.2e\n", name, bg_layer, rel);
        ck_assert_msg(rel < 1e-3, "%s layer %d: relative error %.3g (max abs %.3g)", name, bg_layer, rel, mx);
        /* per-layer parameters: the other layer's slice has zero gradient */
        PETensor t[PE_MAX_TENSORS];
        int nt = pe_tensors(&bg_pe, t);
        for (int k = 0; k < nt; k++) {
            if (!t[k].per_layer) continue;
            size_t sz = t[k].d0 * (t[k].d1 ? t[k].d1 : 1);
            const float *other = grads + pe_tensor_offset(&c, t, k, 1 - bg_layer);
            for (size_t i = 0; i < sz; i++) ck_assert_msg(other[i] == 0.0f, "%s: %s of the other layer", name, t[k].name);
        }
    }
    free(params);
    free(grads);
    pe_free(&bg_pe);
}

START_TEST(test_t5_grad) { check_bias_grad("t5", cfg_of(8, 2, 16), 0.0f, 1e-2f); }
END_TEST

START_TEST(test_kerple_grad) { check_bias_grad("kerple", cfg_of(8, 2, 16), 0.3f, 1e-3f); }
END_TEST

START_TEST(test_fire_grad) {
    PEConfig c = cfg_of(8, 2, 16);
    set(&c, "fire_hidden", 8);
    check_bias_grad("fire", c, 0.1f, 1e-3f); /* L = 512 > every position: psi(L) normalises */
    set(&c, "fire_init_L", 4.0f);                    /* queries beyond L: psi(i) normalises, gradient into L too */
    check_bias_grad("fire", c, 0.1f, 1e-3f);
}
END_TEST

/* The bias of t5 and kerple depends on pos[i] - pos[j] only; fire's on
 * pos[i] - pos[j] and, beyond L, on pos[i]. */
static void bias_at(PE *pe, int pi, int pj, float *out /* NH */) {
    int pos[2] = {pj, pi};
    for (int h = 0; h < pe->cfg.NH; h++) {
        float row[2] = {0, 0};
        pe->ops->bias_forward(pe, row, 0, h, pos, 1);
        out[h] = row[0];
    }
}

START_TEST(test_bias_relative) {
    const char *names[] = {"t5", "kerple", "fire"};
    for (int e = 0; e < 3; e++) {
        PEConfig c = cfg_of(8, 4, 300);
        set(&c, "fire_init_L", 100.0f);
        PE pe;
        ck_assert(pe_init(&pe, names[e], &c) == 0 && pe_full_setup(&pe) == 0);
        float *w = malloc(pe_num_params(&pe) * sizeof(float));
        Rng rng;
        rng_seed(&rng, 3);
        pe.ops->init_params(&pe, w, &rng);
        pe.params = w;
        int all[1] = {299};
        if (pe.ops->bias_prepare) pe.ops->bias_prepare(&pe, 0, all, 1);
        float a[4], b[4];
        for (int d = 0; d < 30; d += 3) {
            bias_at(&pe, 10 + d, 10, a);
            bias_at(&pe, 35 + d, 35, b); /* both queries below L = 100 */
            for (int h = 0; h < 4; h++) ck_assert_msg(a[h] == b[h], "%s: distance %d head %d: %g vs %g", names[e], d, h, a[h], b[h]);
            bias_at(&pe, 200 + d, 200, b); /* beyond L: fire differs, t5 and kerple do not */
            int same = 1;
            for (int h = 0; h < 4; h++) same &= a[h] == b[h];
            if (strcmp(names[e], "fire") == 0 && d > 0)
                ck_assert_msg(!same, "fire: the normaliser psi(max(L, i)) must change the bias beyond L");
            else
                ck_assert_msg(same, "%s: bias changed with the query position at distance %d", names[e], d);
        }
        /* kerple: -p log(1 + a d) decreases with distance, 0 at distance 0 */
        if (strcmp(names[e], "kerple") == 0) {
            bias_at(&pe, 5, 5, a);
            for (int h = 0; h < 4; h++) ck_assert(a[h] == 0.0f);
            for (int d = 1; d < 50; d++) {
                bias_at(&pe, 50 + d, 50, b);
                bias_at(&pe, 50 + d - 1, 50, a);
                for (int h = 0; h < 4; h++) ck_assert(b[h] < a[h]);
            }
        }
        free(w);
        pe_free(&pe);
    }
}
END_TEST

/* KERPLE's initial p, a follow the reference (p ~ 2 U(0,1), a ~ U(0,1),
 * at least 0.01), stored through softplus^-1. */
START_TEST(test_kerple_init) {
    PEConfig c = cfg_of(64, 64, 16);
    c.L = 4;
    PE pe;
    ck_assert(pe_init(&pe, "kerple", &c) == 0);
    const int n = (int)pe_num_params(&pe);
    ck_assert_int_eq(n, 2 * 4 * 64);
    float *w = malloc(n * sizeof(float));
    Rng rng;
    rng_seed(&rng, 1);
    pe.ops->init_params(&pe, w, &rng);
    double mp = 0, ma = 0;
    for (int i = 0; i < n / 2; i++) {
        float p = log1pf(expf(w[i])), a = log1pf(expf(w[n / 2 + i]));
        ck_assert(p >= 0.0099f && p <= 2.0f && a >= 0.0099f && a <= 1.0f);
        mp += p, ma += a;
    }
    ck_assert_msg(fabs(mp / (n / 2) - 1.0) < 0.1 && fabs(ma / (n / 2) - 0.5) < 0.05, "means p %g a %g", mp / (n / 2),
                  ma / (n / 2));
    free(w);
    pe_free(&pe);
}
END_TEST

/* xPos: q at n, k at m: the score equals RoPE's relative score times
 * prod-free per-pair decays zeta_i^((n - m)/gamma), so it depends on n - m
 * only; and the vector for a single pair: hs = 4, pair 0 has zeta_0 = 0.4/1.4. */
START_TEST(test_xpos) {
    PEConfig c = cfg_of(16, 2, 2048); /* hs 8 */
    PE pe;
    ck_assert(pe_init(&pe, "xpos", &c) == 0);
    float q0[8], k0[8];
    fill_normal(q0, 8, 1.0f, 41);
    fill_normal(k0, 8, 1.0f, 42);
    double ref = 0.0;
    for (int shift = 0; shift <= 1500; shift += 500) {
        float q[8], k[8];
        memcpy(q, q0, sizeof q);
        memcpy(k, k0, sizeof k);
        pe.ops->qk_forward(&pe, q, 20 + shift, 0);
        pe.ops->qk_forward(&pe, k, 3 + shift, 1);
        double dot = 0.0;
        for (int d = 0; d < 8; d++) dot += (double)q[d] * k[d];
        if (shift == 0) ref = dot;
        ck_assert_msg(fabs(dot - ref) < 1e-4 * (fabs(ref) + 1), "shift %d: %g vs %g", shift, dot, ref);
    }
    /* one pair in isolation: x = e_0, query at n, key e_0 at 0 -> cos(n w_0) zeta_0^(n/512) */
    for (int n = 0; n < 2000; n += 250) {
        float q[8] = {1, 0, 0, 0, 0, 0, 0, 0}, k[8] = {1, 0, 0, 0, 0, 0, 0, 0};
        pe.ops->qk_forward(&pe, q, n, 0);
        pe.ops->qk_forward(&pe, k, 0, 1);
        double want = cos((double)n) * pow(0.4 / 1.4, n / 512.0); /* w_0 = base^0 = 1 */
        ck_assert_msg(fabs(q[0] * k[0] - want) < 1e-5, "n %d: %g, want %g", n, q[0] * k[0], want);
    }
    /* decay per pair: zeta_i = (2i + 0.4 hs)/(1.4 hs), hs 8: 3.2/11.2 .. 9.2/11.2 */
    for (int i = 0; i < 4; i++) {
        float q[8] = {0};
        q[i] = 1.0f;
        pe.ops->qk_forward(&pe, q, 512, 0); /* norm of the rotated pair = zeta_i^(512/512) */
        double norm = sqrt((double)q[i] * q[i] + (double)q[i + 4] * q[i + 4]);
        ck_assert_msg(fabs(norm - (2.0 * i + 3.2) / 11.2) < 1e-6, "pair %d: scale %g", i, norm);
    }
    /* backward is the transpose: <J x, y> = <x, J^T y> */
    float x[8], y[8], jx[8], jty[8];
    fill_normal(x, 8, 1.0f, 43);
    fill_normal(y, 8, 1.0f, 44);
    for (int key = 0; key <= 1; key++) {
        memcpy(jx, x, sizeof x);
        memcpy(jty, y, sizeof y);
        pe.ops->qk_forward(&pe, jx, 77, key);
        pe.ops->qk_backward(&pe, jty, 77, key);
        double a = 0, b = 0;
        for (int d = 0; d < 8; d++) a += (double)jx[d] * y[d], b += (double)x[d] * jty[d];
        ck_assert_msg(fabs(a - b) < 1e-5 * (fabs(a) + 1), "key %d: %g vs %g", key, a, b);
    }
    pe_free(&pe);
    c.P = 1 << 20; /* keys scaled beyond float range: refused, naming the key */
    ck_assert(pe_init(&pe, "xpos", &c) != 0);
    ck_assert(strstr(core_error(), "xpos_scale_base") != NULL);
}
END_TEST


/* ---- RoPE scaling at evaluation (docs/SPEC.md §4) ------------------------------ */

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
    ck_assert_msg(pe_init(&pe, "rope", &c) == 0, "%s", core_error());
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
    ck_assert_msg(strstr(core_error(), "must be in [1, 1e6], got 0.5"), "%s", core_error());
    c = scaled(32, 2, 8, PE_ROPE_SCALING_YARN, 2.0f, 0);
    ck_assert(pe_init(&pe, "rope", &c) != 0);
    ck_assert_msg(strstr(core_error(), "original (training) context"), "%s", core_error());
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
    char names[PE_NAMES_MAX];
    pe_names(names, sizeof names);
    for (int i = 0; i < pe_count(); i++) {
        const PEOps *ops = pe_at(i);
        ck_assert_ptr_eq(pe_find(ops->name), ops);
        ck_assert(strstr(names, ops->name) != NULL);
        ck_assert_msg(ops->summary && *ops->summary, "%s: no summary", ops->name);
        for (int j = 0; j < i; j++) ck_assert_str_ne(pe_at(j)->name, ops->name);
    }
    ck_assert_ptr_null(pe_at(pe_count()));
    PE pe;
    PEConfig c = cfg_of(8, 2, 8);
    ck_assert(pe_init(&pe, "rotary", &c) != 0);
    ck_assert(strstr(core_error(), "rotary") && strstr(core_error(), names));
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
    tcase_add_test(tc, test_t5_buckets);
    tcase_add_test(tc, test_t5_grad);
    tcase_add_test(tc, test_kerple_grad);
    tcase_add_test(tc, test_fire_grad);
    tcase_add_test(tc, test_bias_relative);
    tcase_add_test(tc, test_kerple_init);
    tcase_add_test(tc, test_xpos);
    tcase_add_test(tc, test_rope_ntk_base);
    tcase_add_test(tc, test_rope_pi_rotation);
    tcase_add_test(tc, test_rope_yarn);
    tcase_add_test(tc, test_rope_scaling_errors);
    tcase_add_test(tc, test_registry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(pe_suite()); }

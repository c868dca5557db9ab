/*
 * test_layers.c — per-layer central-difference gradient checks (inputs and
 * parameters), and the BLAS linear layer against its plain-C reference.
 *
 * Objective for a layer with output out: J = sum(out * R) for a fixed random
 * R, so dJ/dout = R is what each backward receives. Tolerance: relative error
 * ||analytic - numeric|| / max(norms) below GRAD_RTOL = 1e-3 (worst seen 1.3e-4), float32 forward, eps 1e-2
 * (1e-3 for the attention softmax).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "model/layers.h"
#include "tests/testutil.h"

#define GRAD_RTOL 1e-3

/* ---- shared fixture: one layer under test at a time ------------------- */

enum { N_ = 6, C_ = 8, OC_ = 5, V_ = 7, B_ = 2, T_ = 5, NH_ = 2 };

static float R[4096];       /* dJ/dout */
static float out[4096], tmp[4096], tmp2[4096], tmp3[4096], scratch[4096];
static int use_ref;         /* objective functions call the _ref kernels */

/* The fast kernels with every row live, in their _ref twins' signatures. */
static void ln_fwd(float *o, float *m, float *r, const float *x, const float *w, const float *b, int N, int C) {
    layernorm_forward(o, m, r, x, w, b, N, C, NULL);
}
static void ln_bwd(float *dx, float *dw, float *db, const float *d, const float *x, const float *w, const float *m,
                   const float *r, int N, int C) {
    layernorm_backward(dx, dw, db, d, x, w, m, r, N, C, NULL);
}
static void att_fwd(float *o, float *att, float *qkv, float *sc, const PE *pe, const int *pos, int l, int B, int T,
                    int C, int NH) {
    attention_forward(o, att, qkv, sc, pe, pos, l, B, T, C, NH, NULL);
}
static void att_bwd(float *dqkv, float *datt, float *sc, const float *d, const float *qkv, const float *att,
                    const PE *pe, const int *pos, int l, int B, int T, int C, int NH) {
    attention_backward(dqkv, datt, sc, d, qkv, att, pe, pos, l, B, T, C, NH, NULL);
}

static double dot_R(const float *o, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)o[i] * R[i];
    return s;
}

#define EXPECT_GRAD(f, x, g, n, eps)                                                          \
    do {                                                                                      \
        double mx_, rel_ = grad_check((f), NULL, (x), (g), (n), (eps), &mx_);                 \
        if (getenv("GRADCHECK_VERBOSE")) fprintf(stderr, "%s %s rel %.2e\n", __func__, #x, rel_); \
        ck_assert_msg(rel_ < GRAD_RTOL, "%s: gradient of %s: relative error %.3g (max abs %.3g)", \
                      __func__, #x, rel_, mx_);                                               \
    } while (0)

/* ---- LayerNorm --------------------------------------------------------- */

static float ln_x[N_ * C_], ln_w[C_], ln_b[C_], ln_mean[N_], ln_rstd[N_];

static double ln_obj(void *ctx) {
    (void)ctx;
    (use_ref ? layernorm_forward_ref : ln_fwd)(out, ln_mean, ln_rstd, ln_x, ln_w, ln_b, N_, C_);
    return dot_R(out, N_ * C_);
}

START_TEST(test_layernorm_grad) {
    fill_normal(ln_x, N_ * C_, 1.0f, 1);
    fill_normal(ln_w, C_, 1.0f, 2);
    fill_normal(ln_b, C_, 1.0f, 3);
    fill_normal(R, N_ * C_, 1.0f, 4);
    for (use_ref = 0; use_ref <= 1; use_ref++) {
        float dx[N_ * C_] = {0}, dw[C_] = {0}, db[C_] = {0};
        ln_obj(NULL);
        (use_ref ? layernorm_backward_ref : ln_bwd)(dx, dw, db, R, ln_x, ln_w, ln_mean, ln_rstd, N_, C_);
        EXPECT_GRAD(ln_obj, ln_x, dx, N_ * C_, 1e-2f);
        EXPECT_GRAD(ln_obj, ln_w, dw, C_, 1e-2f);
        EXPECT_GRAD(ln_obj, ln_b, db, C_, 1e-2f);
    }
    use_ref = 0;
}
END_TEST

/* ---- Linear ------------------------------------------------------------ */

static float mm_x[N_ * C_], mm_w[OC_ * C_], mm_b[OC_];
static int mm_use_ref;

static double mm_obj(void *ctx) {
    (void)ctx;
    if (mm_use_ref)
        matmul_forward_ref(out, mm_x, mm_w, mm_b, N_, C_, OC_);
    else
        matmul_forward(out, mm_x, mm_w, mm_b, N_, C_, OC_);
    return dot_R(out, N_ * OC_);
}

START_TEST(test_matmul_grad) {
    fill_normal(mm_x, N_ * C_, 1.0f, 5);
    fill_normal(mm_w, OC_ * C_, 1.0f, 6);
    fill_normal(mm_b, OC_, 1.0f, 7);
    fill_normal(R, N_ * OC_, 1.0f, 8);
    for (mm_use_ref = 0; mm_use_ref <= 1; mm_use_ref++) {
        float dx[N_ * C_] = {0}, dw[OC_ * C_] = {0}, db[OC_] = {0};
        if (mm_use_ref)
            matmul_backward_ref(dx, dw, db, R, mm_x, mm_w, N_, C_, OC_);
        else
            matmul_backward(dx, dw, db, R, mm_x, mm_w, N_, C_, OC_, NULL);
        EXPECT_GRAD(mm_obj, mm_x, dx, N_ * C_, 1e-2f);
        EXPECT_GRAD(mm_obj, mm_w, dw, OC_ * C_, 1e-2f);
        EXPECT_GRAD(mm_obj, mm_b, db, OC_, 1e-2f);
    }
}
END_TEST

/* BLAS vs the plain-C reference at shapes that exercise sgemm's blocking,
 * including accumulation into non-zero gradients and the no-bias case. */
START_TEST(test_matmul_blas_vs_ref) {
    const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {64, 64, 192}, {35, 256, 64}, {130, 48, 14}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
        float *x = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * OC * C);
        float *b = malloc(sizeof(float) * OC), *d = malloc(sizeof(float) * N * OC);
        float *o1 = malloc(sizeof(float) * N * OC), *o2 = malloc(sizeof(float) * N * OC);
        float *dx1 = malloc(sizeof(float) * N * C), *dx2 = malloc(sizeof(float) * N * C);
        float *dw1 = malloc(sizeof(float) * OC * C), *dw2 = malloc(sizeof(float) * OC * C);
        float *db1 = malloc(sizeof(float) * OC), *db2 = malloc(sizeof(float) * OC);
        fill_normal(x, N * C, 1.0f, 10 + s);
        fill_normal(w, OC * C, 1.0f, 20 + s);
        fill_normal(b, OC, 1.0f, 30 + s);
        fill_normal(d, N * OC, 1.0f, 40 + s);
        for (int with_bias = 0; with_bias <= 1; with_bias++) {
            matmul_forward(o1, x, w, with_bias ? b : NULL, N, C, OC);
            matmul_forward_ref(o2, x, w, with_bias ? b : NULL, N, C, OC);
            float tol = 1e-5f * C + 1e-5f;
            ck_assert_msg(max_abs_diff(o1, o2, N * OC) < tol, "forward %dx%dx%d differs by %g", N, C, OC,
                          max_abs_diff(o1, o2, N * OC));
        }
        /* start from the same non-zero gradients: backward must accumulate */
        fill_normal(dx1, N * C, 1.0f, 50 + s);
        memcpy(dx2, dx1, sizeof(float) * N * C);
        fill_normal(dw1, OC * C, 1.0f, 60 + s);
        memcpy(dw2, dw1, sizeof(float) * OC * C);
        fill_normal(db1, OC, 1.0f, 70 + s);
        memcpy(db2, db1, sizeof(float) * OC);
        matmul_backward(dx1, dw1, db1, d, x, w, N, C, OC, NULL);
        matmul_backward_ref(dx2, dw2, db2, d, x, w, N, C, OC);
        ck_assert_msg(max_abs_diff(dx1, dx2, N * C) < 1e-5f * OC + 1e-5f, "dinp %dx%dx%d", N, C, OC);
        ck_assert_msg(max_abs_diff(dw1, dw2, OC * C) < 1e-5f * N + 1e-5f, "dw %dx%dx%d", N, C, OC);
        ck_assert_msg(max_abs_diff(db1, db2, OC) < 1e-5f * N + 1e-5f, "dbias %dx%dx%d", N, C, OC);
        free(x); free(w); free(b); free(d); free(o1); free(o2);
        free(dx1); free(dx2); free(dw1); free(dw2); free(db1); free(db2);
    }
}
END_TEST

/* ---- GELU, residual, embedding ---------------------------------------- */

static float ge_x[64];
static double gelu_obj(void *ctx) {
    (void)ctx;
    if (use_ref)
        gelu_forward_ref(out, ge_x, 64);
    else
        gelu_forward(out, NULL, ge_x, 1, 64, NULL);
    return dot_R(out, 64);
}

START_TEST(test_gelu_grad) {
    fill_normal(ge_x, 64, 2.0f, 11);
    fill_normal(R, 64, 1.0f, 12);
    for (use_ref = 0; use_ref <= 1; use_ref++) {
        float dx[64] = {0}, y[64], grad[64];
        if (use_ref) {
            gelu_backward_ref(dx, ge_x, R, 64);
        } else { /* the fast backward takes the derivative its forward kept */
            gelu_forward(y, grad, ge_x, 1, 64, NULL);
            gelu_backward(dx, grad, R, 1, 64, NULL);
        }
        EXPECT_GRAD(gelu_obj, ge_x, dx, 64, 1e-2f);
        /* known values: gelu(0)=0, gelu(1)=0.841192 (tanh form) */
        float x2[2] = {0.0f, 1.0f}, y2[2];
        if (use_ref)
            gelu_forward_ref(y2, x2, 2);
        else
            gelu_forward(y2, NULL, x2, 1, 2, NULL);
        ck_assert_float_eq_tol(y2[0], 0.0f, 1e-7f);
        ck_assert_float_eq_tol(y2[1], 0.841192f, 1e-5f);
    }
    use_ref = 0;
}
END_TEST

static float rs_a[32], rs_b[32];
static double res_obj(void *ctx) {
    (void)ctx;
    residual_forward(out, rs_a, rs_b, 1, 32, NULL);
    return dot_R(out, 32);
}

START_TEST(test_residual_grad) {
    fill_normal(rs_a, 32, 1.0f, 13);
    fill_normal(rs_b, 32, 1.0f, 14);
    fill_normal(R, 32, 1.0f, 15);
    float da[32] = {0}, db[32] = {0};
    residual_backward(da, db, R, 32);
    EXPECT_GRAD(res_obj, rs_a, da, 32, 1e-2f);
    EXPECT_GRAD(res_obj, rs_b, db, 32, 1e-2f);
}
END_TEST

static float em_w[V_ * C_];
static const int em_inp[N_] = {3, 0, 3, 6, 1, 3};
static double embed_obj(void *ctx) {
    (void)ctx;
    embed_forward(out, em_inp, em_w, 1.7f, N_, C_);
    return dot_R(out, N_ * C_);
}

START_TEST(test_embed_grad) {
    fill_normal(em_w, V_ * C_, 1.0f, 16);
    fill_normal(R, N_ * C_, 1.0f, 17);
    float dw[V_ * C_] = {0};
    embed_backward(dw, R, em_inp, 1.7f, N_, C_);
    EXPECT_GRAD(embed_obj, em_w, dw, V_ * C_, 1e-2f);
    /* unused tokens (2, 4, 5) get exactly zero gradient */
    for (int c = 0; c < C_; c++) {
        ck_assert(dw[2 * C_ + c] == 0.0f);
        ck_assert(dw[5 * C_ + c] == 0.0f);
    }
}
END_TEST

/* ---- masked cross-entropy ---------------------------------------------- */

static float ce_logits[N_ * V_];
static const int ce_targets[N_] = {-1, 2, 6, -1, 0, 4};
static double ce_obj(void *ctx) {
    (void)ctx;
    float losses[N_];
    int count = crossentropy_forward(tmp, losses, ce_logits, ce_targets, N_, V_);
    double s = 0.0;
    for (int n = 0; n < N_; n++) s += losses[n];
    return s / count;
}

START_TEST(test_crossentropy_grad) {
    fill_normal(ce_logits, N_ * V_, 2.0f, 18);
    float losses[N_], dl[N_ * V_] = {0};
    for (int i = 0; i < N_ * V_; i++) tmp[i] = 9.0f;
    int count = crossentropy_forward(tmp, losses, ce_logits, ce_targets, N_, V_);
    ck_assert_int_eq(count, 4);
    ck_assert(losses[0] == 0.0f && losses[3] == 0.0f);
    ck_assert(tmp[0] == 9.0f && tmp[3 * V_] == 9.0f && tmp[V_] != 9.0f); /* only counted rows computed */
    crossentropy_backward(dl, tmp, ce_targets, count, N_, V_);
    EXPECT_GRAD(ce_obj, ce_logits, dl, N_ * V_, 1e-2f);
    /* masked rows get exactly zero gradient */
    for (int v = 0; v < V_; v++) ck_assert(dl[0 * V_ + v] == 0.0f && dl[3 * V_ + v] == 0.0f);
    /* hand case: uniform logits -> loss log V */
    float z[V_] = {0}, p[V_], l1[1];
    int t1[1] = {3};
    crossentropy_forward(p, l1, z, t1, 1, V_);
    ck_assert_float_eq_tol(l1[0], logf((float)V_), 1e-6f);
}
END_TEST

/* ---- attention, with each kind of PE hook ------------------------------- */

static float at_qkv[B_ * T_ * 3 * C_];
static int at_pos[B_ * T_] = {0, 1, 2, 3, 4, 3, 5, 6, 9, 10}; /* row 2: non-contiguous ids */
static PE at_pe;

static double attn_obj(void *ctx) {
    (void)ctx;
    memcpy(tmp2, at_qkv, sizeof at_qkv); /* forward transforms q, k in place */
    (use_ref ? attention_forward_ref : att_fwd)(out, tmp3, tmp2, scratch, &at_pe, at_pos, 1, B_, T_, C_,
                                                          NH_);
    return dot_R(out, B_ * T_ * C_);
}

/* A module for layer `layer` of 2 with its parameters initialised (and a
 * zeroed gradient slice); free with pe_drop. */
static void pe_make(PE *pe, const char *name, int C, int NH, int P) {
    PEConfig pc;
    pe_config_default(&pc);
    pc.C = C, pc.NH = NH, pc.hs = C / NH, pc.L = 2, pc.P = P;
    ck_assert_msg(pe_init(pe, name, &pc) == 0 && pe_full_setup(pe) == 0, "%s", core_error()); /* full path's tables */
    size_t n = pe_num_params(pe);
    if (n) {
        pe->params = calloc(n, sizeof(float));
        pe->grads = calloc(n, sizeof(float));
        Rng rng;
        rng_seed(&rng, 8);
        pe->ops->init_params(pe, pe->params, &rng);
        if (strcmp(name, "fire") == 0) { /* keep the ReLU units off their kinks for x in [0, 1]
                                          * (central differences; see test_gpt.c) */
            PETensor t[PE_MAX_TENSORS];
            int nt = pe_tensors(pe, t);
            ck_assert_int_eq(nt, 6);
            for (int l = 0; l < 2; l++) {
                float *w1 = pe->params + pe_tensor_offset(&pc, t, 0, l), *b1 = pe->params + pe_tensor_offset(&pc, t, 1, l);
                for (size_t k = 0; k < t[0].d0; k++) b1[k] = (b1[k] >= 0.0f ? 1.0f : -1.0f) * (fabsf(w1[k]) + 0.3f);
            }
        }
    }
}

static void pe_drop(PE *pe) {
    free(pe->params);
    free(pe->grads);
    pe_free(pe);
}

static void check_attention(const char *pe_name) {
    pe_make(&at_pe, pe_name, C_, NH_, 16);
    fill_normal(at_qkv, B_ * T_ * 3 * C_, 1.0f, 19);
    fill_normal(R, B_ * T_ * C_, 1.0f, 20);
    static float saved_qkv[B_ * T_ * 3 * C_], att[B_ * NH_ * T_ * T_], datt[B_ * NH_ * T_ * T_];
    for (use_ref = 0; use_ref <= 1; use_ref++) {
        memcpy(saved_qkv, at_qkv, sizeof at_qkv);
        (use_ref ? attention_forward_ref : att_fwd)(out, att, saved_qkv, scratch, &at_pe, at_pos, 1, B_, T_,
                                                              C_, NH_);
        /* causality: probabilities above the diagonal are 0, rows sum to 1 */
        for (int r = 0; r < B_ * NH_ * T_; r++) {
            int i = r % T_;
            float sum = 0.0f;
            for (int j = 0; j < T_; j++) {
                if (j > i) ck_assert(att[r * T_ + j] == 0.0f);
                sum += att[r * T_ + j];
            }
            ck_assert_float_eq_tol(sum, 1.0f, 1e-5f);
        }
        float dqkv[B_ * T_ * 3 * C_] = {0};
        const int np = (int)pe_num_params(&at_pe);
        if (np) memset(at_pe.grads, 0, np * sizeof(float));
        (use_ref ? attention_backward_ref : att_bwd)(dqkv, datt, scratch, R, saved_qkv, att, &at_pe, at_pos,
                                                                1, B_, T_, C_, NH_);
        double mx, rel = grad_check(attn_obj, NULL, at_qkv, dqkv, B_ * T_ * 3 * C_, 1e-3f, &mx);
        if (getenv("GRADCHECK_VERBOSE")) fprintf(stderr, "attention %s%s rel %.2e\n", pe_name, use_ref ? " ref" : "", rel);
        ck_assert_msg(rel < GRAD_RTOL, "attention%s with %s: relative error %.3g (max abs %.3g)",
                      use_ref ? " (ref)" : "", pe_name, rel, mx);
        if (np) { /* the encoding's parameters (layer 1's slice; layer 0's gets 0) */
            float *g = malloc(np * sizeof(float));
            memcpy(g, at_pe.grads, np * sizeof(float));
            /* eps 2e-2: FIRE's parameter gradients (~1e-4) are small against the float32
             * rounding of the outputs; its kinks are kept out of reach (pe_make) */
            rel = grad_check(attn_obj, NULL, at_pe.params, g, np, 2e-2f, &mx);
            if (getenv("GRADCHECK_VERBOSE")) fprintf(stderr, "attention %s%s params rel %.2e\n", pe_name, use_ref ? " ref" : "", rel);
            ck_assert_msg(rel < GRAD_RTOL, "attention%s with %s: parameter gradient relative error %.3g (max abs %.3g)",
                          use_ref ? " (ref)" : "", pe_name, rel, mx);
            free(g);
        }
    }
    use_ref = 0;
    pe_drop(&at_pe);
}

/* Every registered encoding that acts inside attention (and none, which acts
 * nowhere); those acting only on the embedding are checked in test_gpt.c. */
static int in_attention(const PEOps *ops) { return !ops->embed_forward; }

START_TEST(test_attention_grad_each_encoding) {
    if (in_attention(pe_at(_i))) check_attention(pe_at(_i)->name);
}
END_TEST

/* A query must not see the future: changing a later token's k/v leaves
 * earlier outputs bit-identical. */
START_TEST(test_attention_causal) {
    PEConfig pc;
    pe_config_default(&pc);
    pc.C = C_, pc.NH = NH_, pc.hs = C_ / NH_, pc.L = 1, pc.P = 16;
    ck_assert(pe_init(&at_pe, "rope", &pc) == 0 && pe_full_setup(&at_pe) == 0);
    float a[B_ * T_ * 3 * C_], b[B_ * T_ * 3 * C_], att[B_ * NH_ * T_ * T_], o1[B_ * T_ * C_], o2[B_ * T_ * C_];
    fill_normal(a, B_ * T_ * 3 * C_, 1.0f, 21);
    memcpy(b, a, sizeof a);
    for (int c = 0; c < 3 * C_; c++) b[(T_ - 1) * 3 * C_ + c] += 1.0f; /* last token of row 0 */
    attention_forward(o1, att, a, scratch, &at_pe, at_pos, 0, B_, T_, C_, NH_, NULL);
    attention_forward(o2, att, b, scratch, &at_pe, at_pos, 0, B_, T_, C_, NH_, NULL);
    ck_assert(memcmp(o1, o2, sizeof(float) * (T_ - 1) * C_) == 0);
    ck_assert(memcmp(o1 + T_ * C_, o2 + T_ * C_, sizeof(float) * T_ * C_) == 0); /* other row */
    ck_assert(memcmp(o1 + (T_ - 1) * C_, o2 + (T_ - 1) * C_, sizeof(float) * C_) != 0);
    pe_free(&at_pe);
}
END_TEST

/* ---- optimised kernels against their plain-C references ----------------- */

static float rel_diff(const float *a, const float *b, int n) {
    double num = 0.0, den = 0.0;
    for (int i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return (float)sqrt(num / (den > 0 ? den : 1.0));
}

/* Attention at shapes covering the specialised head sizes (8, 16, 32, 64), a
 * generic one (6), T not a multiple of 8, every hook; forward outputs,
 * probabilities and all of dqkv (written by the fast kernel over a non-zero
 * buffer, accumulated by the reference onto a cleared one). */
START_TEST(test_attention_fast_vs_ref) {
    const int shapes[][4] = {{2, 9, 16, 2}, {1, 37, 64, 4}, {2, 21, 64, 2}, {1, 13, 64, 1}, {2, 11, 12, 2}, {1, 70, 32, 4}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int p = 0; p < pe_count(); p++) {
            if (!in_attention(pe_at(p))) continue;
            const int B = shapes[s][0], T = shapes[s][1], C = shapes[s][2], NH = shapes[s][3];
            PE pe;
            pe_make(&pe, pe_at(p)->name, C, NH, 128);
            const int nqkv = B * T * 3 * C, natt = B * NH * T * T, nout = B * T * C;
            float *qkv1 = malloc(sizeof(float) * nqkv), *qkv2 = malloc(sizeof(float) * nqkv);
            float *att1 = malloc(sizeof(float) * natt), *att2 = malloc(sizeof(float) * natt);
            float *datt = malloc(sizeof(float) * natt), *sc = malloc(sizeof(float) * attention_scratch_floats(T, C, NH));
            float *o1 = malloc(sizeof(float) * nout), *o2 = malloc(sizeof(float) * nout);
            float *d = malloc(sizeof(float) * nout), *dq1 = malloc(sizeof(float) * nqkv), *dq2 = malloc(sizeof(float) * nqkv);
            int *ps = malloc(sizeof(int) * B * T);
            for (int i = 0; i < B * T; i++) ps[i] = (i % T) * 3 / 2; /* non-contiguous ids */
            fill_normal(qkv1, nqkv, 1.5f, 100 + s);
            memcpy(qkv2, qkv1, sizeof(float) * nqkv);
            fill_normal(d, nout, 1.0f, 200 + s);
            fill_normal(dq1, nqkv, 1.0f, 300 + s);
            memset(dq2, 0, sizeof(float) * nqkv);
            attention_forward(o1, att1, qkv1, sc, &pe, ps, 1, B, T, C, NH, NULL);
            attention_forward_ref(o2, att2, qkv2, sc, &pe, ps, 1, B, T, C, NH);
            ck_assert_msg(memcmp(qkv1, qkv2, sizeof(float) * nqkv) == 0, "qk hook differs");
            ck_assert_msg(rel_diff(att1, att2, natt) < 1e-6f, "att %s shape %zu: %g", pe_at(p)->name, s, rel_diff(att1, att2, natt));
            for (int i = 0; i < natt; i++) ck_assert((att1[i] == 0.0f) == (att2[i] == 0.0f) || att2[i] < 1e-30f);
            ck_assert_msg(rel_diff(o1, o2, nout) < 1e-6f, "out %s shape %zu: %g", pe_at(p)->name, s, rel_diff(o1, o2, nout));
            const int np = (int)pe_num_params(&pe);
            float *gp = np ? calloc(np, sizeof(float)) : NULL;
            attention_backward(dq1, datt, sc, d, qkv1, att1, &pe, ps, 1, B, T, C, NH, NULL);
            if (np) memcpy(gp, pe.grads, np * sizeof(float)), memset(pe.grads, 0, np * sizeof(float));
            attention_backward_ref(dq2, datt, sc, d, qkv2, att2, &pe, ps, 1, B, T, C, NH);
            ck_assert_msg(rel_diff(dq1, dq2, nqkv) < 1e-5f, "dqkv %s shape %zu: %g", pe_at(p)->name, s, rel_diff(dq1, dq2, nqkv));
            if (np) ck_assert_msg(rel_diff(gp, pe.grads, np) < 1e-5f, "pe grads %s shape %zu: %g", pe_at(p)->name, s,
                                  rel_diff(gp, pe.grads, np));
            free(gp);
            free(qkv1); free(qkv2); free(att1); free(att2); free(datt); free(sc);
            free(o1); free(o2); free(d); free(dq1); free(dq2); free(ps);
            pe_drop(&pe);
        }
    }
}
END_TEST

START_TEST(test_pointwise_fast_vs_ref) {
    enum { N = 37, C = 75, M = N * C };
    static float x[M], y1[M], y2[M], d[M], g1[M], g2[M], w[C], b[C], m1[N], r1[N], m2[N], r2[N];
    static float dw1[C], dw2[C], db1[C], db2[C];
    fill_normal(x, M, 3.0f, 1);
    x[0] = -30.0f, x[1] = 30.0f, x[2] = -120.0f, x[3] = 0.0f; /* saturated GELU */
    fill_normal(d, M, 1.0f, 2);
    fill_normal(w, C, 1.0f, 3);
    fill_normal(b, C, 1.0f, 4);
    static float gr[M];
    gelu_forward(y1, NULL, x, N, C, NULL);
    gelu_forward_ref(y2, x, M);
    for (int i = 0; i < M; i++) ck_assert_msg(fabsf(y1[i] - y2[i]) <= 1e-6f * fabsf(y2[i]) + 1e-30f, "gelu(%g)", x[i]);
    /* a training forward (keeping the derivative) gives an evaluation forward's bits */
    gelu_forward(g1, gr, x, N, C, NULL);
    ck_assert(memcmp(g1, y1, sizeof y1) == 0);
    /* in place (the training step's use), in chunks past the first: the same bits */
    static float z[M], gz[M], e[M];
    memcpy(z, x, sizeof x);
    gelu_forward(z, gz, z, N, C, NULL);
    ck_assert_msg(memcmp(z, y1, sizeof z) == 0 && memcmp(gz, gr, sizeof gz) == 0, "gelu forward in place");
    gelu_backward(y2, gr, d, N, C, NULL);
    memcpy(e, d, sizeof d);
    gelu_backward(e, gr, e, N, C, NULL);
    ck_assert_msg(memcmp(e, y2, sizeof e) == 0, "gelu backward in place");
    fill_normal(g1, M, 1.0f, 5);
    memcpy(g2, g1, sizeof g1);
    gelu_backward(g1, gr, d, N, C, NULL); /* written (=), where the reference accumulates */
    for (int i = 0; i < M; i++) g1[i] += g2[i];
    gelu_backward_ref(g2, x, d, M);
    ck_assert_msg(max_abs_diff(g1, g2, M) < 1e-5f, "gelu backward %g", max_abs_diff(g1, g2, M));
    layernorm_forward(y1, m1, r1, x, w, b, N, C, NULL);
    layernorm_forward_ref(y2, m2, r2, x, w, b, N, C);
    ck_assert_msg(max_abs_diff(y1, y2, M) < 1e-5f, "layernorm %g", max_abs_diff(y1, y2, M));
    ck_assert(max_abs_diff(m1, m2, N) < 1e-5f && max_abs_diff(r1, r2, N) < 1e-5f);
    fill_normal(g1, M, 1.0f, 6);
    memcpy(g2, g1, sizeof g1);
    fill_normal(dw1, C, 1.0f, 7);
    memcpy(dw2, dw1, sizeof dw1);
    fill_normal(db1, C, 1.0f, 8);
    memcpy(db2, db1, sizeof db1);
    layernorm_backward(g1, dw1, db1, d, x, w, m2, r2, N, C, NULL);
    layernorm_backward_ref(g2, dw2, db2, d, x, w, m2, r2, N, C);
    ck_assert_msg(max_abs_diff(g1, g2, M) < 1e-4f, "layernorm dx %g", max_abs_diff(g1, g2, M));
    ck_assert(max_abs_diff(dw1, dw2, C) < 1e-4f && max_abs_diff(db1, db2, C) < 1e-4f);
}
END_TEST

/* ---- live rows: padding skipped, live rows bitwise unchanged ----------- */

/* live rows of a (B, T) batch: bitwise-equal rows of a and b (width W) */
static void expect_live_equal(const float *a, const float *b, const int *live, int B, int T, int W, const char *what) {
    for (int r = 0; r < B * T; r++)
        if (r % T < live[r / T])
            ck_assert_msg(memcmp(a + (size_t)r * W, b + (size_t)r * W, sizeof(float) * W) == 0,
                          "%s: live row %d differs", what, r);
}
static void expect_dead_value(const float *a, const int *live, int B, int T, int W, float v, const char *what) {
    for (int r = 0; r < B * T; r++)
        if (r % T >= live[r / T])
            for (int c = 0; c < W; c++) ck_assert_msg(a[(size_t)r * W + c] == v, "%s: dead row %d holds %g", what, r,
                                                      a[(size_t)r * W + c]);
}

START_TEST(test_live_rows) {
    enum { B = 3, T = 13, C = 32, NH = 2, F = 24, N = B * T };
    const int live[B] = {13, 5, 0}; /* whole, part, none */
    const LiveRows rows = {.B = B, .T = T, .live = live};
    static float x[N * C], d[N * C], w[C], b[C], y1[N * C], y2[N * C], m1[N], r1[N], m2[N], r2[N];
    static float dx1[N * C], dx2[N * C], dw1[C], dw2[C], db1[C], db2[C], h[N * F], g1[N * F], g2[N * F], gr[N * F];
    fill_normal(x, N * C, 1.0f, 31);
    fill_normal(d, N * C, 1.0f, 32);
    fill_normal(w, C, 1.0f, 33);
    fill_normal(b, C, 1.0f, 34);
    /* LayerNorm: live rows as the full pass, dead rows 0; backward skips them */
    layernorm_forward(y1, m1, r1, x, w, b, N, C, NULL);
    layernorm_forward(y2, m2, r2, x, w, b, N, C, &rows);
    expect_live_equal(y1, y2, live, B, T, C, "layernorm");
    expect_live_equal(m1, m2, live, B, T, 1, "layernorm mean");
    expect_dead_value(y2, live, B, T, C, 0.0f, "layernorm");
    for (int r = 0; r < N; r++) /* a dead row's gradient is 0: the skipped terms were zeros */
        if (r % T >= live[r / T]) memset(d + (size_t)r * C, 0, sizeof(float) * C);
    fill_normal(dx1, N * C, 1.0f, 35);
    memcpy(dx2, dx1, sizeof dx1);
    memset(dw1, 0, sizeof dw1), memset(db1, 0, sizeof db1), memset(dw2, 0, sizeof dw2), memset(db2, 0, sizeof db2);
    layernorm_backward(dx1, dw1, db1, d, x, w, m1, r1, N, C, NULL);
    layernorm_backward(dx2, dw2, db2, d, x, w, m2, r2, N, C, &rows);
    expect_live_equal(dx1, dx2, live, B, T, C, "layernorm dx");
    ck_assert(memcmp(dw1, dw2, sizeof dw1) == 0 && memcmp(db1, db2, sizeof db1) == 0);
    /* GELU */
    fill_normal(h, N * F, 2.0f, 36);
    gelu_forward(g1, NULL, h, N, F, NULL);
    gelu_forward(g2, gr, h, N, F, &rows);
    expect_live_equal(g1, g2, live, B, T, F, "gelu");
    expect_dead_value(g2, live, B, T, F, 0.0f, "gelu");
    fill_normal(g1, N * F, 1.0f, 37);
    gelu_backward(g2, gr, g1, N, F, &rows);
    expect_dead_value(g2, live, B, T, F, 0.0f, "gelu backward");
    /* attention: live queries as the full pass, dead ones 0 */
    PE pe;
    pe_make(&pe, "t5", C, NH, 64);
    static float qkv1[N * 3 * C], qkv2[N * 3 * C], att1[B * NH * T * T], att2[B * NH * T * T], datt[B * NH * T * T];
    static float o1[N * C], o2[N * C], dq1[N * 3 * C], dq2[N * 3 * C];
    float *sc = malloc(sizeof(float) * attention_scratch_floats(T, C, NH));
    int pos[N];
    for (int i = 0; i < N; i++) pos[i] = i % T;
    fill_normal(qkv1, N * 3 * C, 1.0f, 38);
    memcpy(qkv2, qkv1, sizeof qkv1);
    for (int i = 0; i < B * NH * T * T; i++) att2[i] = 5.0f;
    attention_forward(o1, att1, qkv1, sc, &pe, pos, 0, B, T, C, NH, NULL);
    attention_forward(o2, att2, qkv2, sc, &pe, pos, 0, B, T, C, NH, live);
    expect_live_equal(o1, o2, live, B, T, C, "attention out");
    expect_dead_value(o2, live, B, T, C, 0.0f, "attention out");
    for (int bh = 0; bh < B * NH; bh++) /* att rows of live queries equal, of dead ones not written */
        for (int i = 0; i < T; i++) {
            const float *r1_ = att1 + ((size_t)bh * T + i) * T, *r2_ = att2 + ((size_t)bh * T + i) * T;
            if (i < live[bh / NH])
                ck_assert(memcmp(r1_, r2_, sizeof(float) * T) == 0);
            else
                for (int j = 0; j < T; j++) ck_assert(r2_[j] == 5.0f);
        }
    memset(dq1, 0, sizeof dq1), memset(dq2, 0, sizeof dq2);
    const size_t np = pe_num_params(&pe);
    attention_backward(dq1, datt, sc, d, qkv1, att1, &pe, pos, 0, B, T, C, NH, NULL);
    float *gp = malloc(sizeof(float) * np);
    memcpy(gp, pe.grads, sizeof(float) * np), memset(pe.grads, 0, sizeof(float) * np);
    attention_backward(dq2, datt, sc, d, qkv2, att2, &pe, pos, 0, B, T, C, NH, live);
    expect_live_equal(dq1, dq2, live, B, T, 3 * C, "attention dqkv");
    expect_dead_value(dq2, live, B, T, 3 * C, 0.0f, "attention dqkv");
    ck_assert_msg(memcmp(gp, pe.grads, sizeof(float) * np) == 0, "t5 bias gradients differ");
    free(gp), free(sc);
    pe_drop(&pe);
    /* a product's backward: dbias from live rows only, dW as from every row (a dead row's dout is 0) */
    static float in[N * C], W[F * C], dW1[F * C], dW2[F * C], dB1[F], dB2[F], dI[N * C];
    memcpy(in, x, sizeof in);
    for (int r = 0; r < N; r++)
        if (r % T >= live[r / T]) memset(in + (size_t)r * C, 0, sizeof(float) * C);
    fill_normal(W, F * C, 1.0f, 39);
    fill_normal(g1, N * F, 1.0f, 41);
    for (int r = 0; r < N; r++)
        if (r % T >= live[r / T]) memset(g1 + (size_t)r * F, 0, sizeof(float) * F);
    memset(dW1, 0, sizeof dW1), memset(dW2, 0, sizeof dW2), memset(dB1, 0, sizeof dB1), memset(dB2, 0, sizeof dB2);
    memset(dI, 0, sizeof dI);
    matmul_backward(dI, dW1, dB1, g1, in, W, N, C, F, NULL);
    memset(dI, 0, sizeof dI);
    matmul_backward(dI, dW2, dB2, g1, in, W, N, C, F, &rows);
    ck_assert(memcmp(dW1, dW2, sizeof dW1) == 0 && memcmp(dB1, dB2, sizeof dB1) == 0);
    /* residual: live rows summed, dead ones left */
    for (int i = 0; i < N * C; i++) y2[i] = 3.0f;
    residual_forward(y2, x, d, N, C, &rows);
    for (int i = 0; i < N * C; i++) y1[i] = x[i] + d[i];
    expect_live_equal(y1, y2, live, B, T, C, "residual");
    expect_dead_value(y2, live, B, T, C, 3.0f, "residual");
}
END_TEST

static Suite *layers_suite(void) {
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("grad");
    tcase_add_test(tc, test_layernorm_grad);
    tcase_add_test(tc, test_matmul_grad);
    tcase_add_test(tc, test_matmul_blas_vs_ref);
    tcase_add_test(tc, test_gelu_grad);
    tcase_add_test(tc, test_residual_grad);
    tcase_add_test(tc, test_embed_grad);
    tcase_add_test(tc, test_crossentropy_grad);
    tcase_add_loop_test(tc, test_attention_grad_each_encoding, 0, pe_count());
    tcase_add_test(tc, test_attention_causal);
    tcase_add_test(tc, test_attention_fast_vs_ref);
    tcase_add_test(tc, test_pointwise_fast_vs_ref);
    tcase_add_test(tc, test_live_rows);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(layers_suite()); }

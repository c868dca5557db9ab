/*
 * test_decode.c — incremental decoding with the key/value cache
 * (attention_decode, gpt_decode_step) against the full forward pass, for
 * every encoding in the registry: attention bitwise equal to
 * attention_forward's rows; logits equal to gpt_forward's to rounding
 * (DECODE_TOL) at every step; the same greedy tokens as recomputing the whole
 * prefix per token; position ids honoured (gaps and an offset, so that a
 * cache using the token's index instead gives other results); the cache's
 * errors.
 *
 * Why the logits are not compared bitwise: OpenBLAS picks its sgemm kernel by
 * the size of the product (on this machine, 0.3.21 with the Cooperlake
 * kernels, a small-matrix kernel below about 13 rows of qkv and the blocked
 * one above), and the kernels sum in different orders. So gpt_forward's own
 * row t already changes in the last bits with the number of rows T after it
 * (row 0 of a forward over 1 token vs over 40: 2.2e-7), and the cache, which
 * multiplies one row at a time, agrees with it to the same rounding. Every
 * other kernel computes a row with the same float operations whatever the
 * row count, which test_attention_decode_bitwise checks for the attention.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "model/gpt.h"
#include "model/layers.h"
#include "tests/testutil.h"

#include "tests/alloc_count.h" /* the Makefile links this program with tests/alloc_count.c, the allocators wrapped */
#include "core/error.h"

enum { V_ = 11, P_ = 96, T_ = 40 };
/* |cached - full| <= DECODE_TOL * (1 + max |full logit|) (worst seen here: 2.4e-7) */
#define DECODE_TOL 1e-5f

/* A model of encoding `pe` with every parameter random (LayerNorm gains and
 * biases too), so that each part of the network moves the logits. */
static void build(GPT *m, const char *pe, int C, int NH) {
    GPTConfig c;
    gpt_config_default(&c);
    c.V = V_;
    c.C = C;
    c.L = 2;
    c.NH = NH;
    c.F = 2 * C + 3;
    c.P = P_;
    snprintf(c.pe, sizeof c.pe, "%s", pe);
    ck_assert_msg(gpt_build(m, &c) == 0, "%s: %s", pe, core_error());
    gpt_init_params(m, 5);
    fill_normal(m->params_memory, (int)m->num_params, 0.3f, 11);
}

/* Tokens and position ids: ids start at 3 and skip some values, so every
 * relative distance but a few differs from the index distance. */
static void sequence(int *seq, int *pos, int T) {
    unsigned s = 12345;
    for (int t = 0; t < T; t++) {
        s = s * 1103515245u + 12345u;
        seq[t] = (int)((s >> 16) % V_);
        pos[t] = 3 + t + t / 4 + (t > 17 ? 5 : 0);
    }
    ck_assert_int_lt(pos[T - 1], P_);
}

/* Decode seq[0..T) with the cache; after each step compare the logits and
 * probabilities with row t of a full forward pass over seq[0..t]. Returns the
 * largest |difference| over (1 + the largest |logit| of the row). */
static float cache_vs_full(GPT *m, const int *seq, const int *pos, int T) {
    GPTCache c;
    ck_assert_int_eq(gpt_cache_init(&c, m, T), 0);
    gpt_reserve(m, 1, T, 0);
    const int V = m->cfg.V;
    float worst = 0.0f;
    for (int t = 0; t < T; t++) {
        ck_assert_msg(gpt_decode_step(m, &c, seq[t], pos[t]) == 0, "%s", core_error());
        gpt_forward(m, seq, NULL, pos, 1, t + 1);
        const float *z = m->acts.logits + (size_t)t * V;
        float zmax = 0.0f;
        for (int v = 0; v < V; v++) zmax = fabsf(z[v]) > zmax ? fabsf(z[v]) : zmax;
        float d = max_abs_diff(c.logits, z, V);
        float dp = max_abs_diff(c.probs, m->acts.probs + (size_t)t * V, V);
        d = d / (1.0f + zmax);
        if (!(d <= worst)) worst = d; /* NaN sticks */
        if (!(dp <= worst)) worst = dp;
    }
    ck_assert_int_eq(c.len, T);
    gpt_cache_free(&c);
    return worst;
}

/* Greedy decoding from prompt[0..np), n more tokens, position ids pos[]:
 * with the cache (recompute 0) or a full forward over the prefix per token
 * (recompute 1, the reference). Writes the tokens to out and the logits of
 * each chosen token's step to logits (n x V). */
static void greedy(GPT *m, const int *prompt, int np, const int *pos, int n, int recompute, int *out, float *logits) {
    const int V = m->cfg.V;
    int seq[T_ + 8];
    memcpy(seq, prompt, sizeof(int) * np);
    int len = np;
    GPTCache c;
    ck_assert_int_eq(gpt_cache_init(&c, m, np + n), 0);
    gpt_reserve(m, 1, np + n, 0);
    for (int k = 0; k < n; k++) {
        const float *z;
        if (recompute) {
            gpt_forward(m, seq, NULL, pos, 1, len);
            z = m->acts.logits + (size_t)(len - 1) * V;
        } else {
            while (c.len < len) ck_assert_int_eq(gpt_decode_step(m, &c, seq[c.len], pos[c.len]), 0);
            z = c.logits;
        }
        int best = 0;
        for (int v = 1; v < V; v++)
            if (z[v] > z[best]) best = v;
        memcpy(logits + (size_t)k * V, z, sizeof(float) * V);
        out[k] = best;
        seq[len++] = best;
    }
    gpt_cache_free(&c);
}

/* An encoding that acts nowhere ignores positions. */
static int uses_positions(const GPT *m) {
    const PEOps *o = m->pe.ops;
    return o->embed_forward || o->qk_forward || o->bias_forward;
}

static void check_encoding(const char *pe, int C, int NH) {
    GPT m;
    build(&m, pe, C, NH);
    int seq[T_], pos[T_], idx[T_];
    sequence(seq, pos, T_);
    for (int t = 0; t < T_; t++) idx[t] = t;

    /* 1. every step's logits agree with the full forward's */
    float d = cache_vs_full(&m, seq, pos, T_);
    ck_assert_msg(d <= DECODE_TOL, "pe %s (C %d, NH %d): cached logits differ from the full forward by %g", pe, C,
                  NH, d);

    /* 2. greedy decoding: the same tokens (and logits) as recomputing the prefix */
    enum { NP = 6, N = T_ - NP };
    int a[N], b[N];
    float za[N * V_], zb[N * V_];
    greedy(&m, seq, NP, pos, N, 0, a, za);
    greedy(&m, seq, NP, pos, N, 1, b, zb);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "pe %s: greedy tokens differ between cache and recompute", pe);
    for (int k = 0; k < N; k++) {
        float zmax = 0.0f;
        for (int v = 0; v < V_; v++) zmax = fabsf(zb[k * V_ + v]) > zmax ? fabsf(zb[k * V_ + v]) : zmax;
        float e = max_abs_diff(za + k * V_, zb + k * V_, V_);
        ck_assert_msg(e <= DECODE_TOL * (1.0f + zmax), "pe %s: greedy step %d: logits differ by %g", pe, k, e);
    }

    /* 3. the comparison above can see a wrong position: decoding the same
     * tokens at the token indices (what a cache ignoring the position ids
     * would compute) gives other logits, for every encoding that uses positions */
    if (uses_positions(&m)) {
        GPTCache c1, c2;
        ck_assert_int_eq(gpt_cache_init(&c1, &m, T_), 0);
        ck_assert_int_eq(gpt_cache_init(&c2, &m, T_), 0);
        float diff = 0.0f;
        for (int t = 0; t < T_; t++) {
            gpt_decode_step(&m, &c1, seq[t], pos[t]);
            gpt_decode_step(&m, &c2, seq[t], idx[t]);
            float e = max_abs_diff(c1.logits, c2.logits, V_);
            diff = e > diff ? e : diff;
        }
        ck_assert_msg(diff > 1e-4f, "pe %s: logits at position ids and at indices agree (%g): the test is blind", pe,
                      diff);
        gpt_cache_free(&c1);
        gpt_cache_free(&c2);
    }

    /* 4. an evaluation-time RoPE scaling (only the encodings that accept one) */
    if (gpt_set_rope_scaling(&m, PE_ROPE_SCALING_YARN, 2.0f, 16) == 0) {
        d = cache_vs_full(&m, seq, pos, T_);
        ck_assert_msg(d <= DECODE_TOL, "pe %s + yarn: cached logits differ from the full forward by %g", pe, d);
    }
    gpt_free(&m);
}

START_TEST(test_cache_matches_full_forward) {
    /* head sizes 16 (the vectorised weighted sum) and 6 (the generic one) */
    for (int i = 0; i < pe_count(); i++) {
        check_encoding(pe_at(i)->name, 32, 2);
        check_encoding(pe_at(i)->name, 12, 2);
    }
}
END_TEST

/* attention_decode, token by token, gives bitwise attention_forward's rows
 * (the PE hooks of layer 1, with the model's random encoding parameters). */
static void check_attention(const char *pe, int C, int NH) {
    GPT m;
    build(&m, pe, C, NH);
    int seq[T_], pos[T_], idx[T_];
    sequence(seq, pos, T_);
    for (int t = 0; t < T_; t++) idx[t] = t;
    const int C3 = 3 * C, hs = C / NH;
    float *qkv = malloc(sizeof(float) * T_ * C3), *full = malloc(sizeof(float) * T_ * C3);
    float *out = malloc(sizeof(float) * T_ * C), *att = malloc(sizeof(float) * NH * T_ * T_);
    float *scratch = malloc(sizeof(float) * attention_scratch_floats(T_, C, NH)), *kt = malloc(sizeof(float) * T_ * C);
    float *v = malloc(sizeof(float) * T_ * C), *row = malloc(sizeof(float) * T_);
    float *o = malloc(sizeof(float) * C), *one = malloc(sizeof(float) * C3);
    fill_normal(qkv, T_ * C3, 1.0f, 3);
    /* decoded first, so that no table the encoding prepared for the full pass is reused */
    float *dec = malloc(sizeof(float) * T_ * C);
    for (int i = 0; i < T_; i++) {
        memcpy(one, qkv + (size_t)i * C3, sizeof(float) * C3);
        attention_decode(dec + (size_t)i * C, row, one, kt, v, T_, &m.pe, pos, 1, i, C, NH);
    }
    memcpy(full, qkv, sizeof(float) * T_ * C3);
    ck_assert(pe_full_setup(&m.pe) == 0); /* the full path's tables (FIRE's), as gpt_reserve makes them */
    attention_forward(out, att, full, scratch, &m.pe, pos, 1, 1, T_, C, NH, NULL);
    for (int i = 0; i < T_; i++)
        ck_assert_msg(memcmp(dec + (size_t)i * C, out + (size_t)i * C, sizeof(float) * C) == 0,
                      "pe %s (hs %d): decoded attention row %d differs from attention_forward's by %g", pe, hs, i,
                      max_abs_diff(dec + (size_t)i * C, out + (size_t)i * C, C));
    float moved = 0.0f; /* decoded at the indices instead of the position ids: how far the rows move */
    for (int i = 0; i < T_; i++) {
        memcpy(one, qkv + (size_t)i * C3, sizeof(float) * C3);
        attention_decode(o, row, one, kt, v, T_, &m.pe, idx, 1, i, C, NH);
        float e = max_abs_diff(o, out + (size_t)i * C, C);
        moved = e > moved ? e : moved;
    }
    if (uses_positions(&m) && !m.pe.ops->embed_forward) /* acting in attention */
        ck_assert_msg(moved > 1e-4f, "pe %s: attention at indices equals attention at position ids", pe);
    free(qkv), free(full), free(out), free(att), free(scratch), free(kt), free(v), free(row), free(o), free(one), free(dec);
    gpt_free(&m);
}

START_TEST(test_attention_decode_bitwise) {
    for (int i = 0; i < pe_count(); i++) {
        check_attention(pe_at(i)->name, 32, 2);
        check_attention(pe_at(i)->name, 12, 2);
    }
}
END_TEST

/* With 2 threads the full forward splits its rows between them (rows 0..15 and
 * 16..39): the cached rows still agree. */
START_TEST(test_cache_matches_full_forward_threads) {
    par_set_threads(2);
    for (int i = 0; i < pe_count(); i++) {
        GPT m;
        build(&m, pe_at(i)->name, 32, 4);
        int seq[T_], pos[T_];
        sequence(seq, pos, T_);
        float d = cache_vs_full(&m, seq, pos, T_);
        ck_assert_msg(d <= DECODE_TOL, "pe %s, 2 threads: cached logits differ by %g", pe_at(i)->name, d);
        gpt_free(&m);
    }
    par_set_threads(1);
}
END_TEST

START_TEST(test_cache_errors) {
    GPT m;
    build(&m, "learned", 8, 2);
    GPTCache c;
    ck_assert_int_ne(gpt_cache_init(&c, &m, 0), 0);
    ck_assert_int_eq(gpt_cache_init(&c, &m, 2), 0);
    ck_assert_int_ne(gpt_decode_step(&m, &c, 0, P_), 0);
    ck_assert_msg(strstr(core_error(), "max_positions") != NULL, "%s", core_error());
    ck_assert_int_ne(gpt_decode_step(&m, &c, V_, 0), 0);
    ck_assert_int_ne(gpt_decode_step(&m, &c, -1, 0), 0);
    ck_assert_int_eq(c.len, 0);
    ck_assert_int_eq(gpt_decode_step(&m, &c, 1, 0), 0);
    ck_assert_int_eq(gpt_decode_step(&m, &c, 2, 1), 0);
    ck_assert_int_ne(gpt_decode_step(&m, &c, 3, 2), 0);
    ck_assert_msg(strstr(core_error(), "full") != NULL, "%s", core_error());
    ck_assert_int_eq(c.len, 2);
    gpt_cache_reset(&c);
    ck_assert_int_eq(c.len, 0);
    ck_assert_int_eq(gpt_decode_step(&m, &c, 1, 0), 0);
    gpt_cache_free(&c);
    gpt_free(&m);
}
END_TEST

/* The cache is allocated once: decoding steps allocate nothing (the counter
 * is checked to see an allocation first). */
START_TEST(test_decode_allocates_nothing) {
    alloc_count = 0;
    alloc_counting = 1;
    void *volatile probe = malloc(16); /* volatile: the compiler may not drop the pair */
    free(probe);
    alloc_counting = 0;
    ck_assert_int_eq(alloc_count, 1);
    for (int i = 0; i < pe_count(); i++) {
        GPT m;
        build(&m, pe_at(i)->name, 32, 2);
        int seq[T_], pos[T_];
        sequence(seq, pos, T_);
        GPTCache c;
        ck_assert_int_eq(gpt_cache_init(&c, &m, T_), 0);
        alloc_count = 0;
        alloc_counting = 1;
        for (int t = 0; t < T_; t++) gpt_decode_step(&m, &c, seq[t], pos[t]);
        alloc_counting = 0;
        ck_assert_msg(alloc_count == 0, "pe %s: %ld allocations in %d decoding steps", pe_at(i)->name, alloc_count,
                      T_);
        ck_assert_int_eq(c.len, T_);
        gpt_cache_free(&c);
        gpt_free(&m);
    }
}
END_TEST

static Suite *decode_suite(void) {
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_attention_decode_bitwise);
    tcase_add_test(tc, test_cache_matches_full_forward);
    tcase_add_test(tc, test_cache_matches_full_forward_threads);
    tcase_add_test(tc, test_cache_errors);
    tcase_add_test(tc, test_decode_allocates_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(decode_suite()); }

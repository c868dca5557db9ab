/*
 * test_infer.c — the inference path (gpt_infer, attention_infer) against the
 * full forward pass (gpt_forward), its reference, for every encoding in the
 * registry: logits, probabilities and losses bitwise equal (the measured
 * difference, and the bound docs/SPEC.md §3.1 states, is 0) at lengths up to
 * and far past the positions a model is trained on (every encoding but
 * learned, whose table ends there), for head sizes with and without the
 * kernels' specialisations, batches with padding (live rows) and position
 * ids with gaps, at 1 and 2 threads; memory linear in the length; no
 * allocation once reserved.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/parallel.h"
#include "model/gpt.h"
#include "tests/testutil.h"

#include "tests/alloc_count.h" /* the Makefile links this program with tests/alloc_count.c, the allocators wrapped */

enum { V_ = 11, TRAIN_P = 64, LONG_P = 400 };

/* A model of encoding `pe` with every parameter random (LayerNorm gains and
 * biases too), room for P positions. */
static void build(GPT *m, const char *pe, int C, int NH, int P) {
    GPTConfig c;
    gpt_config_default(&c);
    c.V = V_;
    c.C = C;
    c.L = 2;
    c.NH = NH;
    c.F = 2 * C + 3;
    c.P = P;
    snprintf(c.pe, sizeof c.pe, "%s", pe);
    ck_assert_msg(gpt_build(m, &c) == 0, "%s: %s", pe, core_error());
    gpt_init_params(m, 5);
    fill_normal(m->params_memory, (int)m->num_params, 0.3f, 11);
}

static unsigned lcg(unsigned *s) { return *s = *s * 1103515245u + 12345u; }

/* B rows of T tokens; row b has len[b] real tokens (then PAD = 0 with target
 * -1), targets on the second half of each row's real tokens; position ids
 * 0.. or, with gaps, increasing by 1 or 2 from an offset, each < P. */
static void batch(int *in, int *tg, int *pos, int B, int T, const int *len, int gaps, int P, unsigned seed) {
    unsigned s = seed;
    for (int b = 0; b < B; b++) {
        int p = gaps ? (int)(lcg(&s) >> 16) % 5 : 0;
        for (int t = 0; t < T; t++) {
            const int k = b * T + t;
            const int real = t < len[b];
            in[k] = real ? (int)(lcg(&s) >> 16) % V_ : 0;
            tg[k] = real && t >= len[b] / 2 ? (int)(lcg(&s) >> 16) % V_ : -1;
            pos[k] = p < P ? p : P - 1;
            p += gaps ? 1 + (int)((lcg(&s) >> 16) & 1) : 1;
        }
    }
}

/* gpt_forward and gpt_infer on the same batch: the same bits. */
static void compare(GPT *m, const int *in, const int *tg, const int *pos, int B, int T, const char *what) {
    const size_t N = (size_t)B * T, V = m->cfg.V;
    gpt_reserve(m, B, T, 0);
    gpt_reserve_infer(m, B, T);
    const float lf = gpt_forward(m, in, tg, pos, B, T);
    float *logits = malloc(sizeof(float) * N * V), *probs = malloc(sizeof(float) * N * V);
    float *losses = malloc(sizeof(float) * N);
    memcpy(logits, m->acts.logits, sizeof(float) * N * V);
    memcpy(probs, m->acts.probs, sizeof(float) * N * V);
    memcpy(losses, m->acts.losses, sizeof(float) * N);
    const float li = gpt_infer(m, in, tg, pos, B, T);
    for (size_t n = 0; n < N; n++) {
        /* with targets, only counted rows are computed (live rows) and only their probs written */
        if (tg && tg[n] < 0) continue;
        ck_assert_msg(memcmp(logits + n * V, m->acts.logits + n * V, sizeof(float) * V) == 0,
                      "%s: row %zu: logits differ (max %g)", what, n,
                      max_abs_diff(logits + n * V, m->acts.logits + n * V, (int)V));
        ck_assert_msg(memcmp(probs + n * V, m->acts.probs + n * V, sizeof(float) * V) == 0, "%s: row %zu: probs differ",
                      what, n);
    }
    if (tg) {
        ck_assert_msg(memcmp(losses, m->acts.losses, sizeof(float) * N) == 0, "%s: losses differ", what);
        ck_assert_msg(memcmp(&lf, &li, sizeof lf) == 0, "%s: mean loss %.9g (full) vs %.9g (inference)", what, lf, li);
    }
    free(logits);
    free(probs);
    free(losses);
}

/* One sequence at lengths up to TRAIN_P and, where the encoding allows, far
 * past it (the model rebuilt with room, as posenc eval does: LONG_P), at head
 * sizes 16 (specialised kernels) and 12 (generic), on 1 thread, and at head
 * size 16 on 2. */
START_TEST(test_infer_matches_full_each_encoding) {
    const char *pe = pe_at(_i)->name;
    const int learned = pe_has(pe, PE_TRAINED_POSITIONS);
    static const int lengths[] = {1, 5, 13, 40, 64, 97, 400};
    static const int shapes[][2] = {{32, 2}, {24, 2}};
    for (int th = 1; th <= 2; th++) {
        par_set_threads(th);
        for (int sh = 0; sh < 3 - th; sh++) { /* 2 threads: head size 16 only */
            GPT m;
            build(&m, pe, shapes[sh][0], shapes[sh][1], learned ? TRAIN_P : LONG_P);
            for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++) {
                const int T = lengths[k];
                if (T > m.cfg.P) continue;
                int *in = calloc(T, sizeof(int)), *tg = calloc(T, sizeof(int)), *pos = calloc(T, sizeof(int));
                batch(in, tg, pos, 1, T, &T, 0, m.cfg.P, 100 + T);
                char what[128];
                snprintf(what, sizeof what, "%s hs %d T %d threads %d", pe, m.cfg.C / m.cfg.NH, T, th);
                compare(&m, in, NULL, pos, 1, T, what);
                compare(&m, in, tg, pos, 1, T, what);
                free(in);
                free(tg);
                free(pos);
            }
            gpt_free(&m);
        }
    }
    par_set_threads(1);
}
END_TEST

/* A batch of rows of different lengths (padding, live rows) with position
 * ids that skip values and start past 0, so that relative distances differ
 * from index distances, on 1 and 3 threads. */
START_TEST(test_infer_batch_each_encoding) {
    const char *pe = pe_at(_i)->name;
    enum { B = 3, T = 75 };
    const int len[B] = {75, 40, 9};
    int in[B * T], tg[B * T], pos[B * T];
    for (int th = 1; th <= 3; th += 2) {
        par_set_threads(th);
        GPT m;
        build(&m, pe, 32, 2, 160);
        batch(in, tg, pos, B, T, len, 1, m.cfg.P, 7);
        char what[96];
        snprintf(what, sizeof what, "%s batch threads %d", pe, th);
        compare(&m, in, tg, pos, B, T, what);
        compare(&m, in, NULL, pos, B, T, what);
        gpt_free(&m);
    }
    par_set_threads(1);
}
END_TEST

/* The inference path's memory is linear in the length: doubling T at most
 * doubles it (plus a little), for every encoding; and the reservation for
 * one 16,384-token sequence of the bench's shape fits in 256 MB with room
 * for the rest. The full path's FIRE tables are not part of it. */
START_TEST(test_infer_memory_linear) {
    for (int i = 0; i < pe_count(); i++) {
        GPTConfig c;
        gpt_config_default(&c);
        c.V = 14;
        c.C = 64;
        c.L = 2;
        c.NH = 4;
        c.F = 256;
        c.P = 16384;
        snprintf(c.pe, sizeof c.pe, "%s", pe_at(i)->name);
        const double b1 = gpt_infer_bytes(&c, 8192, 1, 8192, 2), b2 = gpt_infer_bytes(&c, 16384, 1, 16384, 2);
        ck_assert_msg(b1 > 0 && b2 <= 2.01 * b1, "%s: %.0f bytes at T 8192, %.0f at 16384", c.pe, b1, b2);
        const double all = gpt_estimate_bytes(&c, 0, 0, 1, 16384, NULL);
        ck_assert_msg(all < 128.0 * 1024 * 1024, "%s: %.1f MB for one 16,384-token sequence", c.pe,
                      all / 1048576.0);
    }
}
END_TEST

/* Once reserved, gpt_infer allocates nothing (the counter is checked to see
 * an allocation first). */
START_TEST(test_infer_allocates_nothing) {
    alloc_count = 0;
    alloc_counting = 1;
    void *volatile probe = malloc(16); /* volatile: the compiler may not drop the pair */
    free(probe);
    alloc_counting = 0;
    ck_assert_int_eq(alloc_count, 1);
    par_set_threads(2);
    for (int i = 0; i < pe_count(); i++) {
        GPT m;
        build(&m, pe_at(i)->name, 32, 2, 200);
        enum { T = 150 };
        int in[T], tg[T], pos[T];
        const int len = T;
        batch(in, tg, pos, 1, T, &len, 0, m.cfg.P, 3);
        gpt_reserve_infer(&m, 1, T);
        alloc_count = 0;
        alloc_counting = 1;
        gpt_infer(&m, in, tg, pos, 1, T);
        gpt_infer(&m, in, NULL, pos, 1, T);
        alloc_counting = 0;
        ck_assert_msg(alloc_count == 0, "pe %s: %ld allocations in gpt_infer", pe_at(i)->name, alloc_count);
        gpt_free(&m);
    }
    par_set_threads(1);
}
END_TEST

static Suite *infer_suite(void) {
    Suite *s = suite_create("infer");
    TCase *tc = tcase_create("infer");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_infer_matches_full_each_encoding, 0, pe_count());
    tcase_add_loop_test(tc, test_infer_batch_each_encoding, 0, pe_count());
    tcase_add_test(tc, test_infer_memory_linear);
    tcase_add_test(tc, test_infer_allocates_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(infer_suite()); }

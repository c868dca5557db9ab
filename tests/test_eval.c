/*
 * test_eval.c — docs/SPEC.md §2 metrics on a hand-made case, and evaluation-set
 * determinism.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run/eval.h"
#include "testutil.h"

/* Two examples, V = 3, T = 4. Counted targets: row 0 at t = 1, 2, 3; row 1 at
 * t = 2, 3. Row 0 gets all three right; row 1 gets t = 2 right and t = 3 wrong. */
START_TEST(test_metrics_hand_made) {
    enum { B = 2, T = 4, V = 3 };
    const int targets[B * T] = {-1, 2, 0, 1, /**/ -1, -1, 1, 2};
    const int pos[B * T] = {0, 1, 2, 3, 0, 1, 2, 3};
    float probs[B * T * V] = {
        0.3f, 0.3f, 0.4f, /* t0 (not counted) */
        0.1f, 0.2f, 0.7f, /* t1: argmax 2 = target: right */
        0.5f, 0.4f, 0.1f, /* t2: argmax 0 = target: right */
        0.2f, 0.6f, 0.2f, /* t3: argmax 1 = target: right */
        0.9f, 0.05f, 0.05f,
        0.9f, 0.05f, 0.05f,
        0.1f, 0.8f, 0.1f, /* row 1 t2: argmax 1 = target: right */
        0.6f, 0.1f, 0.3f, /* row 1 t3: argmax 0, target 2: wrong */
    };
    float losses[B * T];
    for (int k = 0; k < B * T; k++) losses[k] = targets[k] >= 0 ? -logf(probs[k * V + targets[k]]) : 0.0f;
    PosAcc pa;
    posacc_init(&pa, 8);
    EvalCounts c = {0};
    eval_counts_add(&c, probs, losses, targets, pos, B, T, V, &pa);
    EvalResult r;
    eval_counts_result(&c, 5, &r);
    ck_assert_int_eq(r.n, 5);
    ck_assert_int_eq(r.examples, 2);
    ck_assert_int_eq((int)r.tokens, 5);
    ck_assert_double_eq_tol(r.token_acc, 4.0 / 5.0, 1e-12);
    ck_assert_double_eq_tol(r.exact_match, 0.5, 1e-12);
    double want_loss = (-log(0.7) - log(0.5) - log(0.6) - log(0.8) - log(0.3)) / 5.0;
    ck_assert_double_eq_tol(r.loss, want_loss, 1e-6);
    /* by absolute position of the predicted token (pos + 1) */
    ck_assert_int_eq((int)pa.total[2], 1);
    ck_assert_int_eq((int)pa.total[3], 2);
    ck_assert_int_eq((int)pa.correct[3], 2);
    ck_assert_int_eq((int)pa.total[4], 2);
    ck_assert_int_eq((int)pa.correct[4], 1);
    ck_assert_int_eq((int)pa.total[1], 0);
    /* loss by position: row 0 t1 (-log 0.7) at 2; row 0 t2 (-log 0.5) and row 1 t2
     * (-log 0.8) at 3; row 0 t3 (-log 0.6) and row 1 t3 (-log 0.3) at 4 */
    ck_assert_double_eq_tol(pa.loss_sum[2], -log(0.7), 1e-6);
    ck_assert_double_eq_tol(pa.loss_sum[3], -log(0.5) - log(0.8), 1e-6);
    ck_assert_double_eq_tol(pa.loss_sum[4], -log(0.6) - log(0.3), 1e-6);
    ck_assert_double_eq(pa.loss_sum[1], 0.0);
    ck_assert_double_eq(pa.loss_sum[0], 0.0);
    /* a second batch accumulates */
    eval_counts_add(&c, probs, losses, targets, pos, B, T, V, NULL);
    eval_counts_result(&c, 5, &r);
    ck_assert_int_eq(r.examples, 4);
    ck_assert_double_eq_tol(r.exact_match, 0.5, 1e-12);
    posacc_free(&pa);
}
END_TEST

/* The examples at length n depend on the eval seed and n only: the same
 * model scores identically whatever the batch size, and another seed gives
 * other examples. */
START_TEST(test_eval_sets_fixed) {
    GPTConfig gc;
    gpt_config_default(&gc);
    gc.V = 14;
    gc.C = 16;
    gc.NH = 2;
    gc.F = 32;
    gc.L = 1;
    gc.P = 40;
    GPT m;
    ck_assert(gpt_build(&m, &gc) == 0);
    gpt_init_params(&m, 1);
    gpt_reserve(&m, 16, 36, 0);
    const TaskOps *t = task_find("sort");
    TaskConfig tc;
    task_config_default(&tc);
    snprintf(tc.name, sizeof tc.name, "sort");
    Batch b = {0};
    ck_assert(batch_alloc(&b, 16, 36) == 0);
    EvalResult r1, r2, r3;
    ck_assert(evaluate_length(&m, t, &tc, 12, 32, 16, 77, 0, &b, &r1, NULL) == 0);
    ck_assert(evaluate_length(&m, t, &tc, 12, 32, 5, 77, 0, &b, &r2, NULL) == 0);
    ck_assert(evaluate_length(&m, t, &tc, 12, 32, 16, 78, 0, &b, &r3, NULL) == 0);
    ck_assert_int_eq((int)r1.tokens, 32 * 13);
    /* the same examples in batches of 16 and of 5 (with a short last batch):
     * bitwise the same numbers (task_eval_T aligns every example to the
     * sgemm kernel's row tiles) */
    ck_assert_double_eq(r1.token_acc, r2.token_acc);
    ck_assert_double_eq(r1.exact_match, r2.exact_match);
    ck_assert_msg(memcmp(&r1.loss, &r2.loss, sizeof r1.loss) == 0, "loss %.17g (batch 16) vs %.17g (batch 5)",
                  r1.loss, r2.loss);
    ck_assert(r1.loss != r3.loss);
    batch_free(&b);
    gpt_free(&m);
}
END_TEST

static Suite *eval_suite(void) {
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_metrics_hand_made);
    tcase_add_test(tc, test_eval_sets_fixed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(eval_suite()); }

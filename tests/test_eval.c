/*
 * test_eval.c — docs/SPEC.md §2 metrics on a hand-made case, evaluation-set
 * determinism, and one run's evaluation through the library (eval_run, the
 * evaluation files' writer and reader).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "run/evaluation.h"
#include "run/score.h"
#include "tests/testutil.h"

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
    gpt_reserve_infer(&m, 16, 36);
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

/* eval_run called as a library function (no CLI): the lengths, samples and
 * variants of its options, nothing printed; eval_file_read reads back
 * exactly the rows eval_run wrote, a run directory that is not one and a
 * RoPE scaling of a non-RoPE run are refused as invalid, and a file of the
 * wrong variant is refused by the reader. */
START_TEST(test_eval_run_library) {
    const char *d = test_tmpdir("eval-run");
    char run[512], path[600];
    snprintf(run, sizeof run, "%s/run", d);
    ck_assert_int_eq(posenc("train configs/smoke.json --set model.pe=alibi --out %s --quiet", run), 0);
    const int lengths[] = {2, 5};
    EvalOptions opt = {.lengths = lengths, .num_lengths = 2, .samples = 6, .out = NULL};
    opt.positions = (1u << EVAL_POS_PLAIN) | (1u << EVAL_POS_RANDOM);
    ck_assert_int_eq(eval_run(run, &opt), EVAL_RUN_OK);
    RunEval *e = calloc(1, sizeof *e);
    /* other lengths and samples than the config's: ad hoc, beside the run's own files, never them */
    ck_assert_int_eq(eval_file_read(run, EVAL_POS_PLAIN, PE_ROPE_SCALING_NONE, 0, e), 0);
    for (int pm = 0; pm < 2; pm++) {
        ck_assert_int_eq(eval_file_read(run, pm, PE_ROPE_SCALING_NONE, 1, e), 1);
        ck_assert(e->adhoc);
        ck_assert_int_eq(e->samples, 6);
        ck_assert_int_eq(e->positions, pm);
        ck_assert_int_eq(e->num, 2);
        ck_assert_int_eq(e->n[0], 2);
        ck_assert_int_eq(e->n[1], 5);
        ck_assert_str_eq(e->pe, "alibi");
        for (int i = 0; i < 2; i++) ck_assert(e->token_acc[i] >= 0 && e->token_acc[i] <= 1 && isfinite(e->loss[i]));
    }
    /* no file for a variant not asked for */
    ck_assert_int_eq(eval_file_read(run, EVAL_POS_PLAIN, PE_ROPE_SCALING_PI, 1, e), 0);
    /* the csv: a header and one row per length, the same numbers as the json at its printed precision */
    ck_assert_int_eq(eval_file_read(run, EVAL_POS_PLAIN, PE_ROPE_SCALING_NONE, 1, e), 1);
    snprintf(path, sizeof path, "%s/eval.adhoc.csv", run);
    char *csv = file_read_all(path, NULL);
    ck_assert_ptr_nonnull(csv);
    char want[128];
    snprintf(want, sizeof want, "\n5,6,");
    ck_assert_ptr_nonnull(strstr(csv, want));
    snprintf(want, sizeof want, ",%.6f,%.6f,%.6f,", e->token_acc[1], e->exact_match[1], e->loss[1]);
    ck_assert_msg(strstr(csv, want) != NULL, "%s not in eval.csv:\n%s", want, csv);
    free(csv);
    /* refused: not a run directory; RoPE scaling of an ALiBi run */
    ck_assert_int_eq(eval_run(d, &opt), EVAL_RUN_INVALID);
    EvalOptions scaled = {.scalings = 1u << PE_ROPE_SCALING_PI};
    ck_assert_int_eq(eval_run(run, &scaled), EVAL_RUN_INVALID);
    ck_assert_ptr_nonnull(strstr(core_error(), "needs a run trained with rope"));
    /* a file holding another variant than its name says */
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "cp %s/eval-random.adhoc.json %s/eval.adhoc.json", run, run);
    ck_assert_int_eq(run_captured(cmd), 0);
    ck_assert_int_eq(eval_file_read(run, EVAL_POS_PLAIN, PE_ROPE_SCALING_NONE, 1, e), EVAL_RUN_INVALID);
    ck_assert_ptr_nonnull(strstr(core_error(), "holds the evaluation variant \"random\""));
    /* an ad-hoc evaluation renamed to the run's own file name is refused as what it is */
    snprintf(cmd, sizeof cmd, "cp %s/eval-random.adhoc.json %s/eval-random.json", run, run);
    ck_assert_int_eq(run_captured(cmd), 0);
    ck_assert_int_eq(eval_file_read(run, EVAL_POS_RANDOM, PE_ROPE_SCALING_NONE, 0, e), EVAL_RUN_INVALID);
    ck_assert_ptr_nonnull(strstr(core_error(), "holds an ad-hoc evaluation"));
    free(e);
}
END_TEST

static Suite *eval_suite(void) {
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_metrics_hand_made);
    tcase_add_test(tc, test_eval_sets_fixed);
    tcase_add_test(tc, test_eval_run_library);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(eval_suite()); }

/* test_task.c — tasks, the example frame, and batches (data/task.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/markov.h"
#include "data/task.h"
#include "tests/testutil.h"

static void expect_ints(const int *got, const int *want, int n, const char *what) {
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s[%d]: got %d, want %d", what, i, got[i], want[i]);
}

static TaskConfig make_cfg(const char *name, int A, int min_len, int max_len) {
    TaskConfig c;
    task_config_default(&c);
    strcpy(c.name, name);
    c.alphabet = A;
    c.min_len = min_len;
    c.max_len = max_len;
    return c;
}

/* ---- the tasks themselves --------------------------------------------- */

/* Every registered task: found by its name, listed in task_names() in
 * registry order, the hooks its frame needs; every setting: read by some
 * task, its default in its own range. */
START_TEST(test_registry) {
    ck_assert_int_ge(task_count(), 1);
    char names[1024] = "";
    for (int i = 0; i < task_count(); i++) {
        const TaskOps *t = task_at(i);
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_eq(task_find(t->name), t);
        ck_assert_ptr_nonnull(t->summary);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", t->name);
        if (t->frame == TASK_FRAME_ANSWER) {
            ck_assert_ptr_nonnull(t->answer_len);
            ck_assert_ptr_nonnull(t->answer);
        } else { /* the LM frame draws x itself */
            ck_assert_msg(t->sample_x != NULL, "%s: an LM task without sample_x", t->name);
        }
    }
    char listed[TASK_NAMES_MAX];
    task_names(listed, sizeof listed);
    ck_assert_str_eq(listed, names);
    ck_assert_ptr_null(task_at(task_count()));
    ck_assert_int_le(task_num_settings(), TASK_MAX_SETTINGS);
    TaskConfig d;
    task_config_default(&d);
    for (int k = 0; k < task_num_settings(); k++) {
        const TaskSetting *s = task_setting_at(k);
        ck_assert_ptr_nonnull(s->help);
        ck_assert_int_eq(task_setting_find(s->name), k);
        ck_assert_msg(task_setting_is_default(&d, k), "task.%s: not at its default in task_config_default", s->name);
        int readers = 0;
        for (int i = 0; i < task_count(); i++) readers += task_uses_setting(task_at(i), k);
        ck_assert_msg(readers > 0, "task.%s: read by no task", s->name);
        if (s->type == TASK_SETTING_INT) ck_assert_msg(s->def >= s->lo && s->def <= s->hi, "task.%s: default out of range", s->name);
    }
    ck_assert_ptr_null(task_setting_at(task_num_settings()));
    ck_assert_int_eq(task_setting_find("no_such_setting"), -1);
    ck_assert_ptr_null(task_find("srot"));
    ck_assert_ptr_null(task_find(""));
}
END_TEST

START_TEST(test_answers) {
    const int x[7] = {3, 1, 4, 1, 5, 9, 2};
    int y[7];
    const TaskOps *copy = task_find("copy"), *rev = task_find("reverse"), *sort = task_find("sort");
    TaskConfig tc; /* the fixed tasks' answer lengths read nothing of it */
    task_config_default(&tc);
    ck_assert_int_eq(copy->answer_len(7, &tc), 7);
    ck_assert_int_eq(rev->answer_len(7, &tc), 7);
    ck_assert_int_eq(sort->answer_len(7, &tc), 7);

    copy->answer(y, x, 7, 10);
    expect_ints(y, (const int[]){3, 1, 4, 1, 5, 9, 2}, 7, "copy");
    rev->answer(y, x, 7, 10);
    expect_ints(y, (const int[]){2, 9, 5, 1, 4, 1, 3}, 7, "reverse");
    sort->answer(y, x, 7, 10);
    expect_ints(y, (const int[]){1, 1, 2, 3, 4, 5, 9}, 7, "sort");

    /* length 1, and the largest symbol of the alphabet */
    const int one[1] = {9};
    sort->answer(y, one, 1, 10);
    ck_assert_int_eq(y[0], 9);
    rev->answer(y, one, 1, 10);
    ck_assert_int_eq(y[0], 9);

    /* an alphabet beyond the counting-sort table still sorts */
    const int big[4] = {1500, 7, 1999, 7};
    sort->answer(y, big, 4, 2000);
    expect_ints(y, (const int[]){7, 7, 1500, 1999}, 4, "sort A=2000");

    ck_assert_int_eq(task_input_len(copy, &tc, 3), 8);
    ck_assert_int_eq(task_input_len(sort, &tc, 1), 4);

    /* duplicate: x x (m = 2n); odds-first: x1 x3 .. x2 x4 .. (m = n), docs/SPEC.md §1 */
    const TaskOps *dup = task_find("duplicate"), *odd = task_find("odds_first");
    int z[14];
    ck_assert_int_eq(dup->answer_len(7, &tc), 14);
    dup->answer(z, x, 7, 10);
    expect_ints(z, (const int[]){3, 1, 4, 1, 5, 9, 2, 3, 1, 4, 1, 5, 9, 2}, 14, "duplicate");
    ck_assert_int_eq(task_input_len(dup, &tc, 3), 11);
    ck_assert_int_eq(task_counted_len(dup, &tc, 3), 7);
    ck_assert_int_eq(odd->answer_len(7, &tc), 7);
    odd->answer(y, x, 7, 10);
    expect_ints(y, (const int[]){3, 4, 5, 2, 1, 1, 9}, 7, "odds_first n=7");
    odd->answer(y, x, 6, 10); /* even n: three odd, three even */
    expect_ints(y, (const int[]){3, 4, 5, 1, 1, 9}, 6, "odds_first n=6");
    odd->answer(y, (const int[]){7, 8}, 2, 10);
    expect_ints(y, (const int[]){7, 8}, 2, "odds_first n=2");
    odd->answer(y, one, 1, 10);
    ck_assert_int_eq(y[0], 9);
    /* Kazemnejad et al.'s copy and reverse variants (docs/SPEC.md §1): repeat (rsc),
     * repeat_map (rdc), copy_twice (cmc2x), reverse_twice (mc2x), reverse_copy (mcrv);
     * SEP = 12 with A = 10 */
    const int aaa[3] = {7, 7, 7}, xyz[3] = {3, 1, 4};
    int w[7];
    ck_assert_int_eq(task_find("repeat")->answer_len(3, &tc), 3);
    task_find("repeat")->answer(w, aaa, 3, 10);
    expect_ints(w, (const int[]){7, 7, 7}, 3, "repeat");
    ck_assert_int_eq(task_find("repeat_map")->answer_len(3, &tc), 3);
    task_find("repeat_map")->answer(w, (const int[]){9, 9, 9}, 3, 10);
    expect_ints(w, (const int[]){0, 0, 0}, 3, "repeat_map wraps");
    ck_assert_int_eq(task_find("copy_twice")->answer_len(3, &tc), 7);
    task_find("copy_twice")->answer(w, xyz, 3, 10);
    expect_ints(w, (const int[]){3, 1, 4, 12, 3, 1, 4}, 7, "copy_twice");
    ck_assert_int_eq(task_find("reverse_twice")->answer_len(3, &tc), 7);
    task_find("reverse_twice")->answer(w, xyz, 3, 10);
    expect_ints(w, (const int[]){4, 1, 3, 12, 4, 1, 3}, 7, "reverse_twice");
    ck_assert_int_eq(task_find("reverse_copy")->answer_len(3, &tc), 7);
    task_find("reverse_copy")->answer(w, xyz, 3, 10);
    expect_ints(w, (const int[]){4, 1, 3, 12, 3, 1, 4}, 7, "reverse_copy");
    ck_assert_int_eq(task_input_len(task_find("reverse_copy"), &tc, 3), 12);
    /* the LM frame: n input tokens, n counted */
    const TaskOps *mk = task_find("markov");
    ck_assert_int_eq(task_input_len(mk, &tc, 5), 5);
    ck_assert_int_eq(task_counted_len(mk, &tc, 5), 5);
    ck_assert_int_eq(task_counted_len(copy, &tc, 5), 6);
}
END_TEST

START_TEST(test_vocab) {
    ck_assert_int_eq(task_pad(10), 10);
    ck_assert_int_eq(task_bos(10), 11);
    ck_assert_int_eq(task_sep(10), 12);
    ck_assert_int_eq(task_eos(10), 13);
    ck_assert_int_eq(task_vocab(10), 14);
}
END_TEST

/* ---- golden batches ----------------------------------------------------
 * Seed 2024: rng_below(4) then rng_below(10) x n, per row. The raw draws are
 *   below(4): 2 | below(10): 0 2 1 8 | below(4): 2 | 1 5 1 4 | below(4): 1 | 8 8 6
 * so with lengths 2..5 the rows are n = 4, 4, 3 with x = 0 2 1 8, 1 5 1 4,
 * 8 8 6. Framed by hand (BOS 11, SEP 12, EOS 13, PAD 10), reverse: */
START_TEST(test_golden_train_reverse) {
    TaskConfig c = make_cfg("reverse", 10, 2, 5);
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 3, 12), 0);
    Rng r;
    rng_seed(&r, 2024);
    ck_assert_int_eq(batch_sample_train(&b, task_find("reverse"), &c, 3, &r), 0);
    ck_assert_int_eq(b.B, 3);
    ck_assert_int_eq(b.T, 10);
    const int inputs[30] = {
        11, 0, 2, 1, 8, 12, 8, 1, 2, 0,   /* */
        11, 1, 5, 1, 4, 12, 4, 1, 5, 1,   /* */
        11, 8, 8, 6, 12, 6, 8, 8, 10, 10, /* */
    };
    const int targets[30] = {
        -1, -1, -1, -1, -1, 8, 1, 2, 0, 13,  /* */
        -1, -1, -1, -1, -1, 4, 1, 5, 1, 13,  /* */
        -1, -1, -1, -1, 6, 8, 8, 13, -1, -1, /* */
    };
    expect_ints(b.inputs, inputs, 30, "inputs");
    expect_ints(b.targets, targets, 30, "targets");
    for (int i = 0; i < 30; i++) ck_assert_int_eq(b.pos[i], i % 10);
    expect_ints(b.lens, (const int[]){10, 10, 8}, 3, "lens");
    expect_ints(b.ns, (const int[]){4, 4, 3}, 3, "ns");
    batch_free(&b);
}
END_TEST

/* The same seed and lengths for copy give the frame of the task.h example. */
START_TEST(test_golden_train_copy_sort) {
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 4, 16), 0);
    Rng r;
    TaskConfig c = make_cfg("copy", 10, 2, 5);
    rng_seed(&r, 2024);
    ck_assert_int_eq(batch_sample_train(&b, task_find("copy"), &c, 3, &r), 0);
    ck_assert_int_eq(b.T, 10);
    expect_ints(b.inputs + 20, (const int[]){11, 8, 8, 6, 12, 8, 8, 6, 10, 10}, 10, "copy row 2");
    expect_ints(b.targets + 20, (const int[]){-1, -1, -1, -1, 8, 8, 6, 13, -1, -1}, 10,
                "copy targets row 2");

    c = make_cfg("sort", 10, 2, 5);
    rng_seed(&r, 2024);
    ck_assert_int_eq(batch_sample_train(&b, task_find("sort"), &c, 3, &r), 0);
    expect_ints(b.inputs + 10, (const int[]){11, 1, 5, 1, 4, 12, 1, 1, 4, 5}, 10, "sort row 1");
    expect_ints(b.targets + 10, (const int[]){-1, -1, -1, -1, -1, 1, 1, 4, 5, 13}, 10,
                "sort targets row 1");
    batch_free(&b);
}
END_TEST

/* The same draws (rows n = 4, 4, 3: 0 2 1 8 | 1 5 1 4 | 8 8 6) for the new
 * answer tasks. duplicate: rows of 3n+2 tokens, so T = 14; odds_first: y of
 * 1 5 1 4 is 1 1 5 4, of 8 8 6 is 8 6 8. */
START_TEST(test_golden_train_duplicate_odds_first) {
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 3, 14), 0);
    Rng r;
    TaskConfig c = make_cfg("duplicate", 10, 2, 5);
    ck_assert_int_eq(task_max_train_input_len(task_find("duplicate"), &c), 17);
    ck_assert_int_ne(batch_sample_train(&b, task_find("duplicate"), &c, 3, &r), 0); /* 17 > 14 */
    batch_free(&b);
    ck_assert_int_eq(batch_alloc(&b, 3, 17), 0);
    rng_seed(&r, 2024);
    ck_assert_int_eq(batch_sample_train(&b, task_find("duplicate"), &c, 3, &r), 0);
    ck_assert_int_eq(b.T, 14);
    const int inputs[42] = {
        11, 0, 2, 1, 8, 12, 0, 2, 1, 8, 0, 2, 1, 8,         /* */
        11, 1, 5, 1, 4, 12, 1, 5, 1, 4, 1, 5, 1, 4,         /* */
        11, 8, 8, 6, 12, 8, 8, 6, 8, 8, 6, 10, 10, 10,      /* */
    };
    const int targets[42] = {
        -1, -1, -1, -1, -1, 0, 2, 1, 8, 0, 2, 1, 8, 13,     /* */
        -1, -1, -1, -1, -1, 1, 5, 1, 4, 1, 5, 1, 4, 13,     /* */
        -1, -1, -1, -1, 8, 8, 6, 8, 8, 6, 13, -1, -1, -1,   /* */
    };
    expect_ints(b.inputs, inputs, 42, "duplicate inputs");
    expect_ints(b.targets, targets, 42, "duplicate targets");
    expect_ints(b.lens, (const int[]){14, 14, 11}, 3, "duplicate lens");

    c = make_cfg("odds_first", 10, 2, 5);
    rng_seed(&r, 2024);
    ck_assert_int_eq(batch_sample_train(&b, task_find("odds_first"), &c, 3, &r), 0);
    ck_assert_int_eq(b.T, 10);
    expect_ints(b.inputs, (const int[]){11, 0, 2, 1, 8, 12, 0, 1, 2, 8}, 10, "odds_first row 0");
    expect_ints(b.inputs + 10, (const int[]){11, 1, 5, 1, 4, 12, 1, 1, 5, 4}, 10, "odds_first row 1");
    expect_ints(b.targets + 10, (const int[]){-1, -1, -1, -1, -1, 1, 1, 5, 4, 13}, 10, "odds_first targets 1");
    expect_ints(b.inputs + 20, (const int[]){11, 8, 8, 6, 12, 8, 6, 8, 10, 10}, 10, "odds_first row 2");
    expect_ints(b.targets + 20, (const int[]){-1, -1, -1, -1, 8, 6, 8, 13, -1, -1}, 10, "odds_first targets 2");
    batch_free(&b);
}
END_TEST

/* Evaluation batches draw x only: seed 2024, n = 3 gives 6 0 2 and 1 8 5. */
START_TEST(test_golden_eval) {
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 2, 12), 0);
    Rng r;
    rng_seed(&r, 2024);
    TaskConfig c = make_cfg("sort", 10, 1, 1); /* training lengths are ignored */
    ck_assert_int_eq(batch_sample_eval(&b, task_find("sort"), &c, 3, 2, &r), 0);
    ck_assert_int_eq(b.B, 2);
    ck_assert_int_eq(b.T, 12); /* 8 input tokens, padded to a whole tile of 12 rows */
    expect_ints(b.inputs, (const int[]){11, 6, 0, 2, 12, 0, 2, 6, 10, 10, 10, 10, 11, 1, 8, 5, 12, 1, 5, 8, 10, 10, 10, 10},
                24, "inputs");
    expect_ints(b.targets,
                (const int[]){-1, -1, -1, -1, 0, 2, 6, 13, -1, -1, -1, -1, -1, -1, -1, -1, 1, 5, 8, 13, -1, -1, -1, -1},
                24, "targets");
    expect_ints(b.pos, (const int[]){0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7}, 24, "pos");
    expect_ints(b.lens, (const int[]){8, 8}, 2, "lens");
    expect_ints(b.ns, (const int[]){3, 3}, 2, "ns");
    batch_free(&b);
}
END_TEST

/* ---- invariants over many seeds ----------------------------------------- */

/* What some tasks' answers satisfy beyond y = answer(x) (checked by every
 * batch of the task; a task without a row here gets the frame's checks only). */
static void reverse_property(const int *x, const int *y, int n, int A) {
    (void)A;
    for (int i = 0; i < n; i++) ck_assert_int_eq(y[i], x[n - 1 - i]);
}
static void sort_property(const int *x, const int *y, int n, int A) {
    int cx[32] = {0}, cy[32] = {0};
    for (int i = 0; i < n; i++) {
        if (i) ck_assert_int_le(y[i - 1], y[i]);
        cx[x[i]]++;
        cy[y[i]]++;
    }
    expect_ints(cy, cx, A, "symbol counts (permutation)");
}
static void duplicate_property(const int *x, const int *y, int n, int A) {
    (void)A;
    expect_ints(y, x, n, "duplicate, first half");
    expect_ints(y + n, x, n, "duplicate, second half");
}
static void odds_first_property(const int *x, const int *y, int n, int A) {
    (void)A;
    for (int i = 0; i < n; i++) /* x_(i+1) lands at (i even) i/2, (i odd) ceil(n/2) + i/2 */
        ck_assert_int_eq(y[i % 2 == 0 ? i / 2 : (n + 1) / 2 + i / 2], x[i]);
}
static void copy_property(const int *x, const int *y, int n, int A) {
    (void)A;
    expect_ints(y, x, n, "copy");
}
/* Kazemnejad et al.'s variants: x one symbol repeated (y the same symbol, or
 * the next one mod A), or y two halves around SEP */
static void repeat_common(const int *x, const int *y, int n, int A, int shift) {
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(x[i], x[0]); /* one symbol, repeated */
        ck_assert_int_eq(y[i], (x[0] + shift) % A);
    }
}
static void repeat_property(const int *x, const int *y, int n, int A) { repeat_common(x, y, n, A, 0); }
static void repeat_map_property(const int *x, const int *y, int n, int A) { repeat_common(x, y, n, A, 1); }
static void halves(const int *x, const int *y, int n, int A, int first_reversed, int second_reversed) {
    ck_assert_int_eq(y[n], task_sep(A));
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(y[i], first_reversed ? x[n - 1 - i] : x[i]);
        ck_assert_int_eq(y[n + 1 + i], second_reversed ? x[n - 1 - i] : x[i]);
    }
}
static void copy_twice_property(const int *x, const int *y, int n, int A) { halves(x, y, n, A, 0, 0); }
static void reverse_twice_property(const int *x, const int *y, int n, int A) { halves(x, y, n, A, 1, 1); }
static void reverse_copy_property(const int *x, const int *y, int n, int A) { halves(x, y, n, A, 1, 0); }
static const struct {
    const char *task;
    void (*check)(const int *x, const int *y, int n, int A);
} answer_properties[] = {
    {"copy", copy_property},           {"reverse", reverse_property},       {"sort", sort_property},
    {"duplicate", duplicate_property}, {"odds_first", odds_first_property}, {"repeat", repeat_property},
    {"repeat_map", repeat_map_property}, {"copy_twice", copy_twice_property},
    {"reverse_twice", reverse_twice_property}, {"reverse_copy", reverse_copy_property},
};

/* Check every documented property of one batch. */
/* eval: an evaluation batch (rows padded to task_eval_T, the padding repeating
 * the last real position id); else a training batch (T = the longest row). */
static void check_batch(const Batch *b, const TaskOps *t, int A, int min_len, int max_len, int B, int eval) {
    TaskConfig tc; /* the fixed tasks' answer lengths read nothing of it */
    task_config_default(&tc);
    ck_assert_int_eq(b->B, B);
    int T = 0;
    for (int r = 0; r < B; r++)
        if (b->lens[r] > T) T = b->lens[r];
    if (eval) {
        ck_assert_int_eq(T, task_input_len(t, &tc, min_len));
        T = task_eval_T(t, &tc, min_len);
        ck_assert_int_eq(T % TASK_EVAL_ROW_ALIGN, 0);
        ck_assert_int_lt(T - task_input_len(t, &tc, min_len), TASK_EVAL_ROW_ALIGN);
    }
    ck_assert_int_eq(b->T, T);
    for (int r = 0; r < B; r++) {
        const int *in = b->inputs + r * T, *tg = b->targets + r * T, *ps = b->pos + r * T;
        int n = b->ns[r], m = t->answer_len(n, &tc), len = b->lens[r];
        ck_assert_int_ge(n, min_len);
        ck_assert_int_le(n, max_len);
        ck_assert_int_eq(len, n + m + 2);
        ck_assert_int_eq(in[0], task_bos(A));
        for (int i = 1; i <= n; i++) ck_assert(in[i] >= 0 && in[i] < A);
        ck_assert_int_eq(in[n + 1], task_sep(A));
        const int *x = in + 1, *y = in + n + 2;
        int want[128];
        t->answer(want, x, n, A);
        expect_ints(y, want, m, "y");
        for (size_t p = 0; p < sizeof answer_properties / sizeof answer_properties[0]; p++)
            if (task_find(answer_properties[p].task) == t) answer_properties[p].check(x, y, n, A);
        int counted = 0;
        for (int i = 0; i < T; i++) {
            ck_assert_int_eq(ps[i], eval && i >= len ? len - 1 : i);
            if (i >= len) {
                ck_assert_int_eq(in[i], task_pad(A));
                ck_assert_int_eq(tg[i], -1);
            }
            if (tg[i] != -1) {
                counted++;
                ck_assert(i >= n + 1 && i < len);
                ck_assert_int_eq(tg[i], i + 1 < len ? in[i + 1] : task_eos(A));
            }
        }
        ck_assert_int_eq(counted, m + 1);
        ck_assert_int_eq(tg[len - 1], task_eos(A));
        ck_assert_int_eq(tg[n], -1); /* the last prompt symbol predicts SEP: not counted */
    }
}

START_TEST(test_invariants) {
    const TaskOps *t = task_at(_i);
    if (t->frame == TASK_FRAME_LM || t->open) return; /* test_markov_invariants; a task over a file: test_jsonl.c */
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 9, 72), 0);
    int seen_len[21] = {0}, seen_sym[20] = {0};
    for (int seed = 1; seed <= 300; seed++) {
        Rng cr;
        rng_seed(&cr, rng_derive(99, (uint64_t)seed));
        int A = 2 + (int)rng_below(&cr, 19);
        int min_len = 1 + (int)rng_below(&cr, 10);
        int max_len = min_len + (int)rng_below(&cr, 11);
        int B = 1 + (int)rng_below(&cr, 9);
        TaskConfig c = make_cfg(t->name, A, min_len, max_len);
        ck_assert_int_eq(task_config_check(&c), 0);
        Rng r, r2;
        rng_seed(&r, (uint64_t)seed);
        r2 = r;
        ck_assert_msg(batch_sample_train(&b, t, &c, B, &r) == 0, "%s", core_error());
        check_batch(&b, t, A, min_len, max_len, B, 0);
        if (A == 20 || max_len - min_len == 10) { /* coverage of the full ranges */
            for (int i = 0; i < B; i++) {
                if (max_len - min_len == 10) seen_len[b.ns[i] - min_len]++;
                for (int k = 1; A == 20 && k <= b.ns[i]; k++) seen_sym[b.inputs[i * b.T + k]]++;
            }
        }
        /* same Rng state, same batch */
        Batch b2;
        ck_assert_int_eq(batch_alloc(&b2, 9, 64), 0);
        ck_assert_int_eq(batch_sample_train(&b2, t, &c, B, &r2), 0);
        ck_assert_int_eq(b2.T, b.T);
        expect_ints(b2.inputs, b.inputs, B * b.T, "determinism");
        ck_assert_int_eq(r.state, r2.state);
        batch_free(&b2);

        /* an evaluation batch at a fixed length */
        int n = 1 + (int)rng_below(&cr, 20);
        ck_assert_msg(batch_sample_eval(&b, t, &c, n, B, &r) == 0, "%s", core_error());
        check_batch(&b, t, A, n, n, B, 1);
    }
    for (int i = 0; i <= 10; i++) ck_assert_msg(seen_len[i] > 0, "offset %d never drawn", i);
    /* a task with its own sampler documents its draws (test_repeat_draws) */
    for (int s = 0; s < 20 && !t->sample_x; s++) ck_assert_msg(seen_sym[s] > 0, "symbol %d never drawn", s);
    batch_free(&b);
}
END_TEST

/* repeat and repeat_map: every row is one symbol, drawn uniformly (2000 rows of
 * A = 20: each symbol 100 +- 40 times), one draw per row after its length. */
START_TEST(test_repeat_draws) {
    const char *names[2] = {"repeat", "repeat_map"};
    for (int k = 0; k < 2; k++) {
        const TaskOps *t = task_find(names[k]);
        TaskConfig c = make_cfg(names[k], 20, 3, 6);
        Batch b;
        ck_assert_int_eq(batch_alloc(&b, 10, task_max_train_input_len(t, &c)), 0);
        Rng r;
        rng_seed(&r, 7);
        int count[20] = {0};
        for (int it = 0; it < 200; it++) {
            Rng before = r;
            ck_assert_int_eq(batch_sample_train(&b, t, &c, 10, &r), 0);
            for (int i = 0; i < 10; i++) {
                const int *x = b.inputs + (size_t)i * b.T + 1;
                for (int q = 1; q < b.ns[i]; q++) ck_assert_int_eq(x[q], x[0]);
                count[x[0]]++;
                /* the draws: the length, then the symbol */
                int n = 3 + (int)rng_below(&before, 4);
                ck_assert_int_eq(n, b.ns[i]);
                ck_assert_int_eq((int)rng_below(&before, 20), x[0]);
            }
            ck_assert_int_eq(before.state, r.state);
        }
        for (int s = 0; s < 20; s++) ck_assert_msg(count[s] >= 60 && count[s] <= 140, "%s: symbol %d drawn %d times",
                                                   names[k], s, count[s]);
        batch_free(&b);
    }
}
END_TEST

/* Lengths are uniform: with 1..4 over 40000 draws each count is 10000 +- 3%. */
START_TEST(test_uniform_lengths) {
    const TaskOps *t = task_find("copy");
    TaskConfig c = make_cfg("copy", 10, 1, 4);
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 100, task_max_train_input_len(t, &c)), 0);
    Rng r;
    rng_seed(&r, 5);
    int count[4] = {0}, sym[10] = {0};
    for (int k = 0; k < 400; k++) {
        ck_assert_int_eq(batch_sample_train(&b, t, &c, 100, &r), 0);
        for (int i = 0; i < 100; i++) {
            count[b.ns[i] - 1]++;
            for (int j = 1; j <= b.ns[i]; j++) sym[b.inputs[i * b.T + j]]++;
        }
    }
    for (int i = 0; i < 4; i++) ck_assert_msg(count[i] > 9700 && count[i] < 10300, "n=%d: %d", i + 1, count[i]);
    for (int s = 0; s < 10; s++) ck_assert_msg(sym[s] > 9500 && sym[s] < 10500, "sym %d: %d", s, sym[s]);
    batch_free(&b);
}
END_TEST

/* ---- randomized positions ------------------------------------------------ */

START_TEST(test_random_positions) {
    /* every row: strictly increasing ids in [0, P), as many as its real tokens; padding
     * repeats the last id; tokens and targets untouched; the same seed gives the same ids */
    const TaskOps *t = task_find("copy");
    TaskConfig c = make_cfg("copy", 10, 1, 8);
    const int T = task_max_train_input_len(t, &c), P = 40;
    Batch b, b2;
    ck_assert_int_eq(batch_alloc(&b, 32, T), 0);
    ck_assert_int_eq(batch_alloc(&b2, 32, T), 0);
    Rng r1, r2, p1, p2;
    rng_seed(&r1, 9), rng_seed(&r2, 9), rng_seed(&p1, 77), rng_seed(&p2, 77);
    ck_assert_int_eq(batch_sample_train(&b, t, &c, 32, &r1), 0);
    ck_assert_int_eq(batch_sample_train(&b2, t, &c, 32, &r2), 0);
    ck_assert_int_eq(batch_random_positions(&b, P, &p1), 0);
    ck_assert_int_eq(batch_random_positions(&b2, P, &p2), 0);
    ck_assert(memcmp(b.pos, b2.pos, sizeof(int) * b.B * b.T) == 0);
    int differs = 0;
    for (int row = 0; row < b.B; row++) {
        const int *pos = b.pos + row * b.T;
        for (int i = 0; i < b.lens[row]; i++) {
            ck_assert_msg(pos[i] >= 0 && pos[i] < P, "row %d: id %d out of [0, %d)", row, pos[i], P);
            if (i) ck_assert_msg(pos[i] > pos[i - 1], "row %d: ids not strictly increasing at %d", row, i);
            differs |= pos[i] != i;
        }
        for (int i = b.lens[row]; i < b.T; i++) ck_assert_int_eq(pos[i], pos[b.lens[row] - 1]);
    }
    ck_assert(differs);
    /* the stream draws exactly sum(lens) numbers */
    Rng q;
    rng_seed(&q, 77);
    long total = 0;
    for (int row = 0; row < b.B; row++) total += b.lens[row];
    for (long k = 0; k < total; k++) rng_below(&q, 2);
    ck_assert(q.state == p1.state);
    /* a row longer than P: an error naming max_positions */
    ck_assert_int_ne(batch_random_positions(&b, 5, &p1), 0);
    ck_assert_msg(strstr(core_error(), "model.max_positions"), "%s", core_error());
    batch_free(&b);
    batch_free(&b2);
}
END_TEST

START_TEST(test_random_positions_uniform) {
    /* k = 3 of P = 7: each of the C(7,3) = 35 subsets equally likely. 35,000 draws with a
     * fixed seed: chi-square over the subsets (34 degrees of freedom; 99.9 %% quantile
     * 65.2) and each id's frequency 3/7 */
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 1, 3), 0);
    b.B = 1, b.T = 3, b.lens[0] = 3;
    Rng r;
    rng_seed(&r, 2024);
    int count[128] = {0}, id[7] = {0};
    const int draws = 35000;
    for (int k = 0; k < draws; k++) {
        ck_assert_int_eq(batch_random_positions(&b, 7, &r), 0);
        count[(1 << b.pos[0]) | (1 << b.pos[1]) | (1 << b.pos[2])]++;
        for (int i = 0; i < 3; i++) id[b.pos[i]]++;
    }
    double chi2 = 0;
    int subsets = 0;
    for (int m = 0; m < 128; m++) {
        if (__builtin_popcount(m) != 3) {
            ck_assert_int_eq(count[m], 0);
            continue;
        }
        subsets++;
        chi2 += (count[m] - 1000.0) * (count[m] - 1000.0) / 1000.0;
    }
    ck_assert_int_eq(subsets, 35);
    ck_assert_msg(chi2 < 65.2, "chi-square over subsets %.1f (34 dof)", chi2);
    for (int p = 0; p < 7; p++) ck_assert_msg(abs(id[p] - 15000) < 450, "id %d drawn %d times, want ~15000", p, id[p]);
    batch_free(&b);
}
END_TEST

/* ---- markov: the local Markov language model ----------------------------- */

static TaskConfig markov_cfg(int A, int order, int branch, uint64_t seed, int min_len, int max_len) {
    TaskConfig c = make_cfg("markov", A, min_len, max_len);
    ck_assert_int_eq(task_setting_set(&c, "markov_order", order), 0);
    ck_assert_int_eq(task_setting_set(&c, "markov_branch", branch), 0);
    ck_assert_int_eq(task_setting_set(&c, "markov_seed", (double)seed), 0);
    ck_assert_msg(task_config_check(&c) == 0, "%s", core_error());
    return c;
}

/* Seed 2024, lengths 2..5: rows n = 4, 4, 3 (the same length draws as above),
 * x = 6 7 8 0 | 3 1 3 7 | 5 1 4 (order 2, branch 3, table seed 1: the start
 * row allows 6, 3, 5). The frame: BOS x1..x(n-1) in, x1..xn counted. */
START_TEST(test_golden_markov) {
    TaskConfig c = markov_cfg(10, 2, 3, 1, 2, 5);
    const TaskOps *t = task_find("markov");
    ck_assert_int_eq(task_max_train_input_len(t, &c), 5);
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 3, 5), 0);
    Rng r;
    rng_seed(&r, 2024);
    ck_assert_int_eq(batch_sample_train(&b, t, &c, 3, &r), 0);
    ck_assert_int_eq(b.T, 4);
    expect_ints(b.inputs, (const int[]){11, 6, 7, 8, 11, 3, 1, 3, 11, 5, 1, 10}, 12, "inputs");
    expect_ints(b.targets, (const int[]){6, 7, 8, 0, 3, 1, 3, 7, 5, 1, 4, -1}, 12, "targets");
    expect_ints(b.lens, (const int[]){4, 4, 3}, 3, "lens");
    expect_ints(b.ns, (const int[]){4, 4, 3}, 3, "ns");
    for (int i = 0; i < 12; i++) ck_assert_int_eq(b.pos[i], i % 4);
    int succ[3];
    double prob[3];
    markov_row(&c, markov_context(10, 2, NULL, 0), succ, prob); /* all-start: index 11^2 - 1 */
    ck_assert_int_eq((int)markov_context(10, 2, NULL, 0), 120);
    expect_ints(succ, (const int[]){6, 3, 5}, 3, "start row");
    batch_free(&b);
    /* an evaluation batch of n = 12 = T = capacity: x_n has room although the row holds n tokens */
    ck_assert_int_eq(batch_alloc(&b, 3, 12), 0);
    rng_seed(&r, 7);
    ck_assert_int_eq(batch_sample_eval(&b, t, &c, 12, 3, &r), 0);
    ck_assert_int_eq(b.T, 12);
    ck_assert_int_ne(batch_sample_eval(&b, t, &c, 13, 3, &r), 0);
    batch_free(&b);
}
END_TEST

/* Every documented property of LM batches, over random configs: lens = n,
 * BOS then the targets shifted, every x_t counted once, PAD never, and every
 * transition allowed by the table. */
START_TEST(test_markov_invariants) {
    const TaskOps *t = task_find("markov");
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 9, 48), 0);
    for (int seed = 1; seed <= 200; seed++) {
        Rng cr;
        rng_seed(&cr, rng_derive(77, (uint64_t)seed));
        const int A = 2 + (int)rng_below(&cr, 15), order = 1 + (int)rng_below(&cr, 3);
        const int branch = 1 + (int)rng_below(&cr, (uint32_t)(A < 8 ? A : 8));
        const int min_len = 1 + (int)rng_below(&cr, 10), max_len = min_len + (int)rng_below(&cr, 20);
        const int B = 1 + (int)rng_below(&cr, 9);
        TaskConfig c = markov_cfg(A, order, branch, rng_u64(&cr) >> 12, min_len, max_len);
        Rng r;
        rng_seed(&r, (uint64_t)seed);
        for (int pass = 0; pass < 2; pass++) {
            const int n_eval = 1 + (int)rng_below(&cr, 40);
            if (pass == 0)
                ck_assert_msg(batch_sample_train(&b, t, &c, B, &r) == 0, "%s", core_error());
            else
                ck_assert_msg(batch_sample_eval(&b, t, &c, n_eval, B, &r) == 0, "%s", core_error());
            int T = 0;
            for (int row = 0; row < B; row++) T = b.lens[row] > T ? b.lens[row] : T;
            if (pass == 1) T = task_eval_T(t, &c, n_eval);
            ck_assert_int_eq(b.T, T);
            for (int row = 0; row < B; row++) {
                const int *in = b.inputs + row * T, *tg = b.targets + row * T;
                const int n = b.ns[row];
                ck_assert_int_eq(b.lens[row], n);
                if (pass == 0) ck_assert(n >= min_len && n <= max_len);
                else ck_assert_int_eq(n, n_eval);
                ck_assert_int_eq(in[0], task_bos(A));
                int counted = 0, x[64];
                for (int i = 0; i < T; i++) {
                    ck_assert_int_eq(b.pos[row * T + i], pass == 1 && i >= n ? n - 1 : i);
                    if (i < n) {
                        ck_assert(tg[i] >= 0 && tg[i] < A); /* a symbol: never PAD, BOS, SEP, EOS */
                        x[i] = tg[i];
                        counted++;
                        if (i > 0) ck_assert_int_eq(in[i], tg[i - 1]);
                    } else {
                        ck_assert_int_eq(tg[i], -1);
                        ck_assert_int_eq(in[i], task_pad(A));
                    }
                }
                ck_assert_int_eq(counted, n);
                double p[16];
                for (int i = 0; i < n; i++) {
                    t->next_dist(p, x, i, &c);
                    ck_assert_msg(p[x[i]] > 0.0, "x_%d = %d has probability 0", i + 1, x[i]);
                }
            }
        }
    }
    batch_free(&b);
}
END_TEST

/* The sampler follows its table: with a fixed seed, 128 000 symbols of an
 * order-2 chain over 5 symbols; in every context seen >= 2000 times each
 * successor's frequency is within 5 standard errors of its probability
 * (sigma <= 0.011, so 5 sigma <= 0.056), and symbols outside the row never
 * occur. The rows are uneven enough that sampling the successors uniformly
 * would fail (checked: some row's probability is 0.1 away from 1/3). */
START_TEST(test_markov_frequencies) {
    TaskConfig c = markov_cfg(5, 2, 3, 11, 1, 1);
    const TaskOps *t = task_find("markov");
    MarkovTable m;
    markov_table_build(&m, &c);
    ck_assert_int_eq(m.contexts, 36);
    static long count[36][5];
    memset(count, 0, sizeof count);
    Batch b;
    ck_assert_int_eq(batch_alloc(&b, 200, 72), 0);
    Rng r;
    rng_seed(&r, 12345);
    for (int k = 0; k < 10; k++) {
        ck_assert_int_eq(batch_sample_eval(&b, t, &c, 64, 200, &r), 0);
        for (int row = 0; row < 200; row++) {
            const int *x = b.targets + row * b.T;
            for (int i = 0; i < 64; i++) count[markov_context(5, 2, x, i)][x[i]]++;
        }
    }
    int checked = 0;
    double uneven = 0.0;
    for (int ctx = 0; ctx < 36; ctx++) {
        long N = 0;
        for (int v = 0; v < 5; v++) N += count[ctx][v];
        double p[5] = {0};
        for (int j = 0; j < 3; j++) p[m.succ[ctx * 3 + j]] += m.prob[ctx * 3 + j];
        for (int v = 0; v < 5; v++)
            if (p[v] == 0.0) ck_assert_msg(count[ctx][v] == 0, "context %d: symbol %d drawn", ctx, v);
        if (N < 2000) continue;
        checked++;
        for (int v = 0; v < 5; v++) {
            const double f = (double)count[ctx][v] / N, tol = 5.0 * sqrt(p[v] * (1.0 - p[v]) / N) + 1e-12;
            ck_assert_msg(fabs(f - p[v]) <= tol, "context %d symbol %d: frequency %.4f, probability %.4f (N %ld)", ctx,
                          v, f, p[v], N);
            if (p[v] > 0.0 && fabs(p[v] - 1.0 / 3.0) > uneven) uneven = fabs(p[v] - 1.0 / 3.0);
        }
    }
    ck_assert_msg(checked >= 10, "only %d contexts seen 2000 times", checked);
    ck_assert_msg(uneven > 0.1, "rows too even (%.3f) for the test to tell", uneven);
    batch_free(&b);
    markov_table_free(&m);
}
END_TEST

/* The table is a function of the config: built twice, the same bytes; rows
 * sum to 1 with distinct successors; another seed, another table. */
START_TEST(test_markov_table_deterministic) {
    TaskConfig c = markov_cfg(10, 2, 3, 1, 1, 16);
    MarkovTable a, b;
    markov_table_build(&a, &c);
    markov_table_build(&b, &c);
    ck_assert_int_eq(a.contexts, 121);
    ck_assert(memcmp(a.succ, b.succ, sizeof(int) * 121 * 3) == 0);
    ck_assert(memcmp(a.prob, b.prob, sizeof(double) * 121 * 3) == 0);
    for (int ctx = 0; ctx < 121; ctx++) {
        double sum = 0.0;
        for (int j = 0; j < 3; j++) {
            sum += a.prob[ctx * 3 + j];
            ck_assert(a.succ[ctx * 3 + j] >= 0 && a.succ[ctx * 3 + j] < 10);
            for (int i = 0; i < j; i++) ck_assert_int_ne(a.succ[ctx * 3 + i], a.succ[ctx * 3 + j]);
        }
        ck_assert_double_eq_tol(sum, 1.0, 1e-12);
    }
    markov_table_free(&b);
    task_setting_set(&c, "markov_seed", 2);
    markov_table_build(&b, &c);
    int differ = 0;
    for (int k = 0; k < 121 * 3; k++) differ += a.succ[k] != b.succ[k];
    ck_assert_int_gt(differ, 121); /* most rows change */
    markov_table_free(&a);
    markov_table_free(&b);
}
END_TEST

/* The conditional entropy on a hand-made table: A = 2, order 1, contexts
 * 0, 1 and start (2). start -> 0 or 1 (1/2 each); 0 -> 0 (0.9) or 1 (0.1);
 * 1 -> 1 always. So P(x_t = 0) = 0.5 * 0.9^(t-1), H_1 = log 2 and
 * H_t = 0.5 * 0.9^(t-2) * h(0.9) for t >= 2 (h the binary entropy), rate 0.
 * A second table, start -> 0; 0 -> 0 or 1 (1/2 each); 1 -> 0: stationary
 * P(0) = 2/3, rate (2/3) log 2. */
START_TEST(test_markov_entropy_hand_made) {
    MarkovTable m;
    markov_table_alloc(&m, 2, 1, 2);
    ck_assert_int_eq(m.contexts, 3);
    const int succ[6] = {0, 1, /* */ 1, 0, /* */ 0, 1};
    const double prob[6] = {0.9, 0.1, /* */ 1.0, 0.0, /* */ 0.5, 0.5};
    memcpy(m.succ, succ, sizeof succ);
    memcpy(m.prob, prob, sizeof prob);
    double h[6], rate = -1;
    markov_table_entropy(&m, h, 6, &rate);
    const double h09 = -0.9 * log(0.9) - 0.1 * log(0.1);
    ck_assert_double_eq_tol(h[0], log(2.0), 1e-12);
    for (int t = 2; t <= 6; t++) ck_assert_double_eq_tol(h[t - 1], 0.5 * pow(0.9, t - 2) * h09, 1e-12);
    ck_assert_double_eq_tol(rate, 0.0, 1e-9);

    const int succ2[6] = {0, 1, /* */ 0, 1, /* */ 0, 1};
    const double prob2[6] = {0.5, 0.5, /* */ 1.0, 0.0, /* */ 1.0, 0.0};
    memcpy(m.succ, succ2, sizeof succ2);
    memcpy(m.prob, prob2, sizeof prob2);
    markov_table_entropy(&m, h, 3, &rate);
    ck_assert_double_eq_tol(h[0], 0.0, 1e-12);          /* start -> 0 surely */
    ck_assert_double_eq_tol(h[1], log(2.0), 1e-12);     /* x1 = 0 */
    ck_assert_double_eq_tol(h[2], 0.5 * log(2.0), 1e-12);
    ck_assert_double_eq_tol(rate, 2.0 / 3.0 * log(2.0), 1e-9);
    markov_table_free(&m);

    /* task_loss_floor: the mean of h over t = 1..n; none for answer tasks */
    TaskConfig c = markov_cfg(10, 2, 3, 1, 1, 16);
    double hh[4], floor[2], r2;
    ck_assert_int_eq(task_find("markov")->entropy(hh, 4, NULL, &c), 0);
    ck_assert_int_eq(task_loss_floor(task_find("markov"), &c, (const int[]){1, 4}, 2, floor, &r2), 1);
    ck_assert_double_eq_tol(floor[0], hh[0], 1e-12);
    ck_assert_double_eq_tol(floor[1], (hh[0] + hh[1] + hh[2] + hh[3]) / 4, 1e-12);
    ck_assert(r2 > 0.5 && r2 < log(3.0)); /* below the entropy of a uniform row of 3 */
    TaskConfig cc = make_cfg("copy", 10, 1, 4);
    floor[0] = -7;
    ck_assert_int_eq(task_loss_floor(task_find("copy"), &cc, (const int[]){4}, 1, floor, &r2), 0);
    ck_assert_double_eq(floor[0], -7);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_capacity) {
    const TaskOps *t = task_find("sort");
    TaskConfig c = make_cfg("sort", 10, 1, 8);
    ck_assert_int_eq(task_max_train_input_len(t, &c), 18);
    Batch b;
    ck_assert_int_ne(batch_alloc(&b, 0, 10), 0);
    ck_assert_int_ne(batch_alloc(&b, 4, 0), 0);
    ck_assert_int_eq(batch_alloc(&b, 4, 17), 0);
    Rng r;
    rng_seed(&r, 1);
    uint64_t before = r.state;
    /* one token short of the worst case: refused, whatever the draw would be */
    ck_assert_int_ne(batch_sample_train(&b, t, &c, 4, &r), 0);
    ck_assert_msg(strstr(core_error(), "capacity"), "message: %s", core_error());
    ck_assert_int_eq(r.state, before); /* nothing drawn */
    ck_assert_int_ne(batch_sample_train(&b, t, &c, 5, &r), 0);
    ck_assert_int_ne(batch_sample_train(&b, t, &c, 0, &r), 0);
    c.max_len = 7; /* worst case 16 tokens fits */
    ck_assert_int_eq(batch_sample_train(&b, t, &c, 4, &r), 0);
    ck_assert_int_eq(batch_sample_eval(&b, t, &c, 2, 4, &r), 0); /* 6 tokens, padded to 12 */
    ck_assert_int_ne(batch_sample_eval(&b, t, &c, 7, 4, &r), 0); /* 16 tokens padded to 24 */
    ck_assert_msg(strstr(core_error(), "capacity"), "message: %s", core_error());
    ck_assert_int_ne(batch_sample_eval(&b, t, &c, 2, 5, &r), 0);
    ck_assert_int_ne(batch_sample_eval(&b, t, &c, 0, 1, &r), 0);
    batch_free(&b);
    batch_free(&b); /* harmless */
}
END_TEST

START_TEST(test_config_check) {
    TaskConfig c;
    task_config_default(&c);
    ck_assert_str_eq(c.name, "copy");
    ck_assert_int_eq(c.alphabet, 10);
    ck_assert_int_eq(c.min_len, 1);
    ck_assert_int_eq(c.max_len, 16);
    ck_assert_int_eq(task_config_check(&c), 0);

    strcpy(c.name, "srot");
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.name") && strstr(core_error(), "\"srot\"") &&
                      strstr(core_error(), "copy, reverse, sort"),
                  "message: %s", core_error());

    task_config_default(&c);
    c.alphabet = 1;
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.alphabet"), "message: %s", core_error());
    c.alphabet = 1001;
    ck_assert_int_ne(task_config_check(&c), 0);
    c.alphabet = 1000;
    ck_assert_int_eq(task_config_check(&c), 0);

    task_config_default(&c);
    c.min_len = 0;
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.min_len"), "message: %s", core_error());
    c.min_len = 5;
    c.max_len = 4;
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.max_len"), "message: %s", core_error());
    c.max_len = TASK_MAX_TRAIN_LEN + 1;
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.max_len"), "message: %s", core_error());

    /* markov keys: ranges for every task, joint limits for markov */
    task_config_default(&c);
    const MarkovParams mp = markov_params(&c);
    ck_assert_int_eq(mp.order, 2);
    ck_assert_int_eq(mp.branch, 3);
    ck_assert_int_eq((int)mp.seed, 1);
    task_setting_set(&c, "markov_order", 0);
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.markov_order: must be in 1..8"), "message: %s", core_error());
    task_setting_set(&c, "markov_order", 2);
    task_setting_set(&c, "markov_branch", 9);
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.markov_branch: must be in 1..8"), "message: %s", core_error());
    c = make_cfg("markov", 4, 1, 8);
    task_setting_set(&c, "markov_branch", 5);
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.markov_branch") && strstr(core_error(), "task.alphabet"), "message: %s",
                  core_error());
    task_setting_set(&c, "markov_branch", 4);
    ck_assert_int_eq(task_config_check(&c), 0);
    c = make_cfg("markov", 255, 1, 8); /* 256^2 = 65536 contexts: the limit */
    ck_assert_int_eq(task_config_check(&c), 0);
    c.alphabet = 256;
    ck_assert_int_ne(task_config_check(&c), 0);
    ck_assert_msg(strstr(core_error(), "task.markov_order") && strstr(core_error(), "65536"), "message: %s", core_error());
    strcpy(c.name, "copy"); /* the joint limit is markov's alone */
    ck_assert_int_eq(task_config_check(&c), 0);
}
END_TEST

Suite *task_suite(void) {
    Suite *s = suite_create("task");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_answers);
    tcase_add_test(tc, test_vocab);
    tcase_add_test(tc, test_golden_train_reverse);
    tcase_add_test(tc, test_golden_train_copy_sort);
    tcase_add_test(tc, test_golden_eval);
    tcase_add_test(tc, test_golden_train_duplicate_odds_first);
    tcase_add_loop_test(tc, test_invariants, 0, task_count());
    tcase_add_test(tc, test_uniform_lengths);
    tcase_add_test(tc, test_repeat_draws);
    tcase_add_test(tc, test_random_positions);
    tcase_add_test(tc, test_random_positions_uniform);
    tcase_add_test(tc, test_golden_markov);
    tcase_add_test(tc, test_markov_invariants);
    tcase_add_test(tc, test_markov_frequencies);
    tcase_add_test(tc, test_markov_table_deterministic);
    tcase_add_test(tc, test_markov_entropy_hand_made);
    tcase_add_test(tc, test_capacity);
    tcase_add_test(tc, test_config_check);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(task_suite()); }

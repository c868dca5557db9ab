/*
 * task_reverse_twice.c — reverse_twice: y = rev(x) SEP rev(x) (m = 2n + 1).
 *
 * Kazemnejad et al. 2023's "mc2x" (reverse multi char, twice):
 * github.com/McGill-NLP/length-generalization at 40f8a44,
 * scripts/dataset_builders/make_reverse_dataset.py,
 * generate_reverse_task_data_multi_char_2x: tgt_seq = rev(x) [NEXT] rev(x), x
 * drawn uniformly from 100 tokens (task.alphabet = 100 for their protocol);
 * their [NEXT] is here SEP.
 */
#include "data/task.h"

static int reverse_twice_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return 2 * n + 1; }

static void reverse_twice_answer(int *y, const int *x, int n, int A) {
    /* y and x never overlap (y starts after SEP) */
    for (int i = 0; i < n; i++) y[i] = y[n + 1 + i] = x[n - 1 - i];
    y[n] = task_sep(A);
}

const TaskOps task_reverse_twice_ops = {
    .name = "reverse_twice",
    .summary = "y = rev(x) SEP rev(x) (Kazemnejad et al.'s mc2x)",
    .answer_len = reverse_twice_answer_len,
    .answer = reverse_twice_answer,
};

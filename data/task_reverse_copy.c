/*
 * task_reverse_copy.c — reverse_copy: y = rev(x) SEP x (m = 2n + 1).
 *
 * Kazemnejad et al. 2023's "mcrv" (reverse multi char, then copy):
 * github.com/McGill-NLP/length-generalization at 40f8a44,
 * scripts/dataset_builders/make_reverse_dataset.py,
 * generate_reverse_task_data_multi_char_rev_cop: tgt_seq = rev(x) [NEXT] x, x
 * drawn uniformly from 100 tokens (task.alphabet = 100 for their protocol);
 * their [NEXT] is here SEP.
 */
#include "data/task.h"

static int reverse_copy_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return 2 * n + 1; }

static void reverse_copy_answer(int *y, const int *x, int n, int A) {
    for (int i = 0; i < n; i++) {
        y[i] = x[n - 1 - i];
        y[n + 1 + i] = x[i];
    }
    y[n] = task_sep(A);
}

const TaskOps task_reverse_copy_ops = {
    .name = "reverse_copy",
    .summary = "y = rev(x) SEP x (Kazemnejad et al.'s mcrv)",
    .answer_len = reverse_copy_answer_len,
    .answer = reverse_copy_answer,
};

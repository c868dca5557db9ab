/*
 * task_copy_twice.c — copy_twice: y = x SEP x (m = 2n + 1).
 *
 * Kazemnejad et al. 2023's "cmc2x" (copy multi char, twice):
 * github.com/McGill-NLP/length-generalization at 40f8a44,
 * scripts/dataset_builders/make_copy_dataset.py,
 * generate_copy_task_data_copy_multi_char_2x: tgt_seq = x [NEXT] x, x drawn
 * uniformly from 100 tokens (task.alphabet = 100 for their protocol). Their
 * separator [NEXT] is a token of its own; here SEP, the frame's separator
 * (duplicate is x x without one).
 */
#include <string.h>

#include "data/task.h"

static int copy_twice_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return 2 * n + 1; }

static void copy_twice_answer(int *y, const int *x, int n, int A) {
    memmove(y, x, (size_t)n * sizeof(int));
    y[n] = task_sep(A);
    memmove(y + n + 1, x, (size_t)n * sizeof(int));
}

const TaskOps task_copy_twice_ops = {
    .name = "copy_twice",
    .summary = "y = x SEP x (Kazemnejad et al.'s cmc2x)",
    .answer_len = copy_twice_answer_len,
    .answer = copy_twice_answer,
};

/*
 * task_repeat.c — repeat: x = a a .. a (one symbol repeated n times), y = x (m = n).
 *
 * Kazemnejad et al. 2023's "rsc" (copy, repeat single char), as their generator
 * makes it: github.com/McGill-NLP/length-generalization at 40f8a44,
 * scripts/dataset_builders/make_copy_dataset.py,
 * generate_copy_task_data_repeat_single_char (src_seq = tgt_seq = tok repeated
 * seq_length times). Their symbol comes from a list of T5 tokens; here from
 * the alphabet. Draws: one rng_below(A) for a.
 */
#include "data/task.h"

static int repeat_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return n; }

static void repeat_answer(int *y, const int *x, int n, int A) {
    (void)A;
    for (int i = 0; i < n; i++) y[i] = x[i];
}

static void repeat_sample_x(int *x, int n, const TaskConfig *cfg, Rng *rng) {
    int a = (int)rng_below(rng, (uint32_t)cfg->alphabet);
    for (int i = 0; i < n; i++) x[i] = a;
}

const TaskOps task_repeat_ops = {
    .name = "repeat",
    .summary = "x = one symbol repeated n times, y = x (Kazemnejad et al.'s rsc)",
    .answer_len = repeat_answer_len,
    .answer = repeat_answer,
    .sample_x = repeat_sample_x,
};

/*
 * task_repeat_map.c — repeat_map: x = a a .. a (one symbol repeated n times),
 * y = b b .. b (m = n) with b = (a + 1) mod A.
 *
 * After Kazemnejad et al. 2023's "rdc" (copy, repeat double char):
 * github.com/McGill-NLP/length-generalization at 40f8a44,
 * scripts/dataset_builders/make_copy_dataset.py,
 * generate_copy_task_data_repeat_double_char: src_seq = tok1 repeated
 * seq_length times, tgt_seq = tok2 repeated as often, over every ordered pair
 * tok1 != tok2; the prompt names both ("Replace tok1 with tok2 in ..."; their
 * src/data/data_instance_processor/copy_instance_processor.py). posenc's frame
 * has no prompt besides x, so b is a fixed function of a that the model
 * learns (one map for all lengths); what is tested past the training range,
 * writing one symbol as many times as x has symbols, is the same.
 * Draws: one rng_below(A) for a.
 */
#include "data/task.h"

static int repeat_map_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return n; }

static void repeat_map_answer(int *y, const int *x, int n, int A) {
    for (int i = 0; i < n; i++) y[i] = (x[i] + 1) % A;
}

static void repeat_map_sample_x(int *x, int n, const TaskConfig *cfg, Rng *rng) {
    int a = (int)rng_below(rng, (uint32_t)cfg->alphabet);
    for (int i = 0; i < n; i++) x[i] = a;
}

const TaskOps task_repeat_map_ops = {
    .name = "repeat_map",
    .summary = "x = a repeated n times, y = b repeated n times, b = (a+1) mod A (Kazemnejad et al.'s rdc)",
    .answer_len = repeat_map_answer_len,
    .answer = repeat_map_answer,
    .sample_x = repeat_map_sample_x,
};

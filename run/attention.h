/*
 * attention.h — what a trained model attends to: the softmax probabilities
 * of every layer and head for one input sequence (posenc attention, posenc
 * report).
 *
 * The probabilities are copied out of the forward pass as it computes them
 * (GPTProbe): nothing is recomputed and the forward pass runs exactly as in
 * evaluation, so the numbers are the model's.
 */
#ifndef POSENC_ATTENTION_H
#define POSENC_ATTENTION_H

#include <stdint.h>

#include "data/task.h"
#include "model/gpt.h"

/* The model input of problem x (n symbols) under teacher forcing, as
 * evaluation sees it: BOS x1..xn SEP y1..ym (n + m + 2 tokens; y the task's
 * true answer), or in the LM frame BOS x1..x(n-1) (n tokens). seq needs
 * task_input_len(t, tc, n) ints. Returns that length. */
int attention_input(const TaskOps *t, const TaskConfig *tc, const int *x, int n, int *seq);

/* The first example evaluate_length draws at length n with eval seed
 * eval_seed (the same one every run of every encoding is scored on), as
 * model input: seq (task_input_len(t, tc, n) ints). Returns that length, or -1
 * after core_errorf. */
int attention_eval_input(const TaskOps *t, const TaskConfig *tc, uint64_t eval_seed, int n, int *seq);

/* One forward pass of seq (T tokens, positions 0..T-1) through m (the
 * inference path, gpt_infer: nothing of size T x T but out); copies the
 * attention probabilities of layer `layer` (every layer: -1) and head `head`
 * (every head: -1) into out, row-major (layer, head, query, key): with both
 * -1, (L, NH, T, T), out[((l * NH + h) * T + i) * T + j] = the weight query i
 * gives key j (0 for j > i); with one layer and one head, (T, T). Reserves
 * the inference path for 1 x T. 0, or -1 after core_errorf (T beyond the
 * model's positions). */
int attention_maps(GPT *m, const int *seq, int T, int layer, int head, float *out);

#endif

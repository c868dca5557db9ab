/*
 * score.h — docs/SPEC.md §2 metrics of a model on a task, per evaluation length.
 *
 * Under teacher forcing, per length n:
 *   token_acc    fraction of answer tokens (y1..ym, EOS) whose argmax is right
 *   exact_match  fraction of examples whose answer tokens are all right
 *                (equal to greedy decoding's exact match)
 *   loss         mean cross-entropy over answer tokens
 * and accuracy and loss by absolute position of the predicted token, summed
 * over all lengths, so the position where an encoding breaks can be read off.
 * For a language-model task (TASK_FRAME_LM) the counted tokens are all of
 * x1..xn, so token_acc is argmax accuracy over every token and loss is the
 * loss per token; exact_match (a whole random chain right) is near 0.
 *
 * The examples of length n come from their own generator seeded with
 * rng_derive(eval seed, n): every run of every encoding, and every choice of
 * other lengths, sees the same examples at n.
 */
#ifndef POSENC_EVAL_H
#define POSENC_EVAL_H

#include <stdint.h>

#include "data/task.h"
#include "model/gpt.h"

typedef struct {
    int n;              /* problem length */
    int examples;
    long tokens;        /* answer tokens counted */
    double token_acc, exact_match, loss;
} EvalResult;

/* Accuracy and loss by absolute position of the predicted token (0..cap-1). */
typedef struct {
    int cap;
    long *correct;     /* (cap) */
    long *total;       /* (cap) */
    double *loss_sum;  /* (cap) summed cross-entropy; mean loss = loss_sum / total */
} PosAcc;

void posacc_init(PosAcc *pa, int cap);
void posacc_free(PosAcc *pa);

/* Running counts over batches (zero-initialise). */
typedef struct {
    long examples, exact, tokens, correct;
    double loss_sum;
} EvalCounts;

/* Score one batch: probs (B, T, V) and per-token losses (B, T) of a forward
 * pass, targets (B, T) with -1 where nothing counts, pos (B, T) position ids.
 * A token is right when the argmax of its row equals the target (ties go to
 * the lowest id); an example is an exact match when all its counted tokens
 * are right. pa (optional) gets per-position counts and loss sums. */
void eval_counts_add(EvalCounts *c, const float *probs, const float *losses, const int *targets, const int *pos,
                     int B, int T, int V, PosAcc *pa);
void eval_counts_result(const EvalCounts *c, int n, EvalResult *r);

/* The largest batch shape evaluate_length will use for n (for batch_alloc;
 * the model's, gpt_reserve_infer, is eval_infer_B(B, T) x T). */
void eval_shape(const TaskOps *t, const TaskConfig *tc, int n, int samples, int batch_size, int *B, int *T);

/* The forward pass of evaluation is the inference path (gpt_infer), on at
 * most EVAL_INFER_TOKENS tokens at a time: a batch of B rows of T tokens runs
 * as eval_infer_B(B, T) sequences at a time (at least one). An example's
 * numbers do not depend on how many others share its forward pass (rows are
 * whole tiles: task_eval_T), so this bounds memory (gpt_infer_bytes) without
 * changing a bit of any result. */
#define EVAL_INFER_TOKENS 16384
int eval_infer_B(int B, int T);

/* Evaluate `samples` examples of length n in batches of batch_size. `batch`
 * must have room for eval_shape's B x T, the model's inference path
 * (gpt_reserve_infer) for eval_infer_B(B, T) x T. pa may be NULL.
 * random_P = 0: position ids 0..T-1; random_P > 0: each example's ids are a
 * sorted random subset of [0, random_P) (batch_random_positions), drawn from
 * a generator of their own seeded with rng_derive(rng_derive(eval_seed, n),
 * EVAL_POS_STREAM), so the examples are the same as with plain positions and
 * the positions the same on every call. pa then counts by position id.
 * 0, or an error (positions beyond the model's range). */
#define EVAL_POS_STREAM 0x9e05u
int evaluate_length(GPT *m, const TaskOps *t, const TaskConfig *tc, int n, int samples, int batch_size,
                    uint64_t eval_seed, int random_P, Batch *batch, EvalResult *r, PosAcc *pa);

/* ---- evaluation variants ----------------------------------------------
 * One trained run can be evaluated several ways: position ids plain or random
 * (EVAL_POS_*, run/config.h) and, for RoPE, a scaling method (PERopeScaling).
 * Each variant's results go to their own files, RUN/<stem>.json and .csv:
 *   stem "eval" for plain positions without scaling (the default), else
 *   "eval-<name>" with name = "random", "pi", "ntk", "yarn" or "random+<method>".
 * Its label, as tables and plots show it: the encoding, "+rand" if trained
 * with random positions, "+<method>" for a RoPE scaling, and " (eval random)"
 * for random evaluation positions: "rope", "rope+yarn", "learned+rand",
 * "learned+rand (eval random)". */
void eval_variant_name(int positions, int scaling, char *buf, size_t cap);   /* "" for the default */
void eval_variant_stem(int positions, int scaling, char *buf, size_t cap);   /* "eval", "eval-pi", ... */
void eval_variant_label(const char *pe, int train_random, int positions, int scaling, char *buf, size_t cap);

#endif

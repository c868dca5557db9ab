/*
 * markov.h — the local Markov language model behind the `markov` task.
 *
 * The source. x_t depends on the k = markov_order symbols before it. A
 * context is those k symbols, c_1..c_k = x_(t-k)..x_(t-1), where a position
 * before x_1 holds the start symbol A (so the first symbols follow the table
 * too, and the model knows the start from BOS). Its index is
 *
 *     ctx = sum_i c_i (A+1)^(k-i)        (0 .. (A+1)^k - 1; all-start = the last)
 *
 * Each context has `branch` = markov_branch distinct successors, drawn
 * uniformly from the alphabet, with probabilities from Dirichlet(1, .., 1)
 * (normalised exponentials); every other symbol has probability 0. Why: a
 * context allows only a few of the A symbols, so the chain is learnable from
 * local context and its entropy rate (about psi(branch+1) - psi(2) = 0.83
 * nats for branch 3) sits far below log A (2.30 for A = 10); a model that
 * ignores the context cannot get near it.
 *
 * The row of a context is a pure function of (markov_seed, ctx): the
 * generator rng_derive(markov_seed, ctx) draws the successors (rng_below(A),
 * redrawing repeats) and then one exponential per successor
 * (-log of a 53-bit uniform in (0, 1]). The sampler computes the row of each
 * context as it needs it, so it holds no table and never allocates; the
 * table (MarkovTable) is built from the same function for the entropy.
 *
 * Draws. sample_x takes one rng_u64 per symbol: u = (rng_u64 >> 11) * 2^-53
 * picks the first successor whose cumulative probability exceeds u.
 */
#ifndef POSENC_MARKOV_H
#define POSENC_MARKOV_H

#include "data/task.h"

/* Bounds of the settings task.markov_order and task.markov_branch. */
#define MARKOV_MAX_ORDER 8
#define MARKOV_MAX_BRANCH 8
#define MARKOV_MAX_CONTEXTS 65536 /* (A+1)^order */

/* The chain's parameters, read from cfg's settings once. */
typedef struct {
    int A, order, branch;
    uint64_t seed;
} MarkovParams;
MarkovParams markov_params(const TaskConfig *cfg);

typedef struct {
    int A, order, branch;
    int contexts;  /* (A+1)^order */
    int *succ;     /* (contexts, branch) successor symbols */
    double *prob;  /* (contexts, branch) their probabilities (a row sums to 1) */
} MarkovTable;

/* The row of context ctx for this config: succ[branch], prob[branch]. */
void markov_row(const TaskConfig *cfg, uint32_t ctx, int *succ, double *prob);
/* The context index of x_(t+1), given x_1..x_t (x[0..t-1]). */
uint32_t markov_context(int A, int order, const int *x, int t);

/* The whole table of a config (allocates; cfg passes task_config_check). */
void markov_table_build(MarkovTable *m, const TaskConfig *cfg);
/* An empty table of the given shape (rows all zero), e.g. to fill by hand. */
void markov_table_alloc(MarkovTable *m, int A, int order, int branch);
void markov_table_free(MarkovTable *m);

/* Exact conditional entropies in nats, propagating the distribution of the
 * context from the all-start context: h[t-1] = H(x_t | x_<t) =
 * sum_ctx P(context of x_t = ctx) H(row ctx), t = 1..n (h may be NULL, n may
 * be 0); *rate (may be NULL) = the limit of h for large t (for a periodic
 * chain, the long-run average), from the lazy chain (P + I)/2, which has
 * the same long-run distribution and always converges. */
void markov_table_entropy(const MarkovTable *m, double *h, int n, double *rate);

#endif

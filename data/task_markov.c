/* task_markov.c — markov: a fixed random order-k Markov chain over the
 * alphabet, trained as a language model (loss on every token). The source is
 * described in markov.h, the frame in task.h (TASK_FRAME_LM). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/rng.h"
#include "core/error.h"
#include "data/markov.h"

/* ---- settings ------------------------------------------------------------- */

static const TaskSetting order_setting = {"markov_order", TASK_SETTING_INT, 2, 1, MARKOV_MAX_ORDER, NULL,
                                          "order k of the chain, with (alphabet+1)^k <= 65536 contexts"};
static const TaskSetting branch_setting = {"markov_branch", TASK_SETTING_INT, 3, 1, MARKOV_MAX_BRANCH, NULL,
                                           "successors with non-zero probability per context, at most the alphabet"};
static const TaskSetting seed_setting = {"markov_seed", TASK_SETTING_SEED, 1, 0, 0, NULL,
                                         "seed of the transition table"};
static const TaskSetting *const markov_settings[] = {&order_setting, &branch_setting, &seed_setting, NULL};

MarkovParams markov_params(const TaskConfig *cfg) {
    return (MarkovParams){cfg->alphabet, (int)task_setting(cfg, &order_setting),
                          (int)task_setting(cfg, &branch_setting), (uint64_t)task_setting(cfg, &seed_setting)};
}

static int markov_check(const TaskConfig *cfg) {
    const MarkovParams mp = markov_params(cfg);
    if (mp.branch > cfg->alphabet)
        return core_errorf("task.markov_branch: %d successors need task.alphabet >= %d, got %d", mp.branch,
                           mp.branch, cfg->alphabet);
    double contexts = 1.0;
    for (int i = 0; i < mp.order; i++) contexts *= cfg->alphabet + 1;
    if (contexts > MARKOV_MAX_CONTEXTS)
        return core_errorf("task.markov_order: (task.alphabet + 1)^%d = %.0f contexts exceed %d; "
                           "lower the order or the alphabet",
                           mp.order, contexts, MARKOV_MAX_CONTEXTS);
    return 0;
}

static void markov_describe(const TaskConfig *cfg, char *buf, size_t n) {
    const MarkovParams mp = markov_params(cfg);
    snprintf(buf, n, "order-%d chain, %d successors per context, table seed %llu", mp.order, mp.branch,
             (unsigned long long)mp.seed);
}

/* ---- the source ------------------------------------------------------------ */

static void row_of(const MarkovParams *mp, uint32_t ctx, int *succ, double *prob) {
    const int A = mp->A, b = mp->branch;
    Rng r;
    rng_seed(&r, rng_derive(mp->seed, ctx));
    for (int j = 0; j < b; j++) {
        int v, dup;
        do {
            v = (int)rng_below(&r, (uint32_t)A);
            dup = 0;
            for (int i = 0; i < j; i++) dup |= succ[i] == v;
        } while (dup);
        succ[j] = v;
    }
    double sum = 0.0;
    for (int j = 0; j < b; j++) {
        double u = (double)((rng_u64(&r) >> 11) + 1) * 0x1p-53; /* (0, 1] */
        prob[j] = -dm_log(u);
        sum += prob[j];
    }
    for (int j = 0; j < b; j++) prob[j] = sum > 0.0 ? prob[j] / sum : 1.0 / b;
}

void markov_row(const TaskConfig *cfg, uint32_t ctx, int *succ, double *prob) {
    const MarkovParams mp = markov_params(cfg);
    row_of(&mp, ctx, succ, prob);
}

uint32_t markov_context(int A, int order, const int *x, int t) {
    uint32_t ctx = 0;
    for (int i = t - order; i < t; i++) ctx = ctx * (uint32_t)(A + 1) + (uint32_t)(i >= 0 ? x[i] : A);
    return ctx;
}

static void markov_sample_x(int *x, int n, const TaskConfig *cfg, Rng *rng) {
    const MarkovParams mp = markov_params(cfg);
    const int b = mp.branch;
    int succ[MARKOV_MAX_BRANCH];
    double prob[MARKOV_MAX_BRANCH];
    for (int t = 0; t < n; t++) {
        row_of(&mp, markov_context(mp.A, mp.order, x, t), succ, prob);
        const double u = (double)(rng_u64(rng) >> 11) * 0x1p-53; /* [0, 1) */
        double acc = 0.0;
        int pick = -1;
        for (int j = 0; j < b && pick < 0; j++) {
            acc += prob[j];
            if (u < acc) pick = j;
        }
        if (pick < 0) /* rounding left u above the last sum: the last possible successor */
            for (int j = b - 1; j >= 0 && pick < 0; j--)
                if (prob[j] > 0.0) pick = j;
        x[t] = succ[pick];
    }
}

static void markov_next_dist(double *p, const int *x, int t, const TaskConfig *cfg) {
    const MarkovParams mp = markov_params(cfg);
    int succ[MARKOV_MAX_BRANCH];
    double prob[MARKOV_MAX_BRANCH];
    row_of(&mp, markov_context(mp.A, mp.order, x, t), succ, prob);
    for (int v = 0; v < cfg->alphabet; v++) p[v] = 0.0;
    for (int j = 0; j < mp.branch; j++) p[succ[j]] += prob[j];
}

/* ---- the table and its entropy ------------------------------------------ */

void markov_table_alloc(MarkovTable *m, int A, int order, int branch) {
    m->A = A;
    m->order = order;
    m->branch = branch;
    m->contexts = 1;
    for (int i = 0; i < order; i++) m->contexts *= A + 1;
    m->succ = core_calloc((size_t)m->contexts * branch, sizeof(int));
    m->prob = core_calloc((size_t)m->contexts * branch, sizeof(double));
}

void markov_table_build(MarkovTable *m, const TaskConfig *cfg) {
    const MarkovParams mp = markov_params(cfg);
    markov_table_alloc(m, mp.A, mp.order, mp.branch);
    for (int c = 0; c < m->contexts; c++)
        row_of(&mp, (uint32_t)c, m->succ + (size_t)c * m->branch, m->prob + (size_t)c * m->branch);
}

void markov_table_free(MarkovTable *m) {
    free(m->succ);
    free(m->prob);
    memset(m, 0, sizeof *m);
}

/* next = P propagated one step (lazy: (P + I)/2 when lazy != 0) */
static void propagate(const MarkovTable *m, const double *cur, double *next, int lazy) {
    const int K = m->contexts, b = m->branch;
    memset(next, 0, sizeof(double) * K);
    for (int c = 0; c < K; c++) {
        if (cur[c] == 0.0) continue;
        const double w = lazy ? 0.5 * cur[c] : cur[c];
        if (lazy) next[c] += w;
        for (int j = 0; j < b; j++) {
            const double p = m->prob[(size_t)c * b + j];
            if (p > 0.0) next[(int)(((long)c * (m->A + 1) + m->succ[(size_t)c * b + j]) % K)] += w * p;
        }
    }
}

void markov_table_entropy(const MarkovTable *m, double *h, int n, double *rate) {
    const int K = m->contexts, b = m->branch;
    double *H = core_calloc(K, sizeof(double)); /* entropy of each row */
    for (int c = 0; c < K; c++)
        for (int j = 0; j < b; j++) {
            const double p = m->prob[(size_t)c * b + j];
            if (p > 0.0) H[c] -= p * dm_log(p);
        }
    double *cur = core_calloc(K, sizeof(double)), *next = core_calloc(K, sizeof(double));
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !rate) break;
        memset(cur, 0, sizeof(double) * K);
        cur[K - 1] = 1.0; /* the all-start context */
        /* pass 0: h for t = 1..n; pass 1: the lazy chain until it settles */
        long cap = (long)(1e9 / ((double)K * (b + 1)));
        cap = cap < 1000 ? 1000 : cap > 1000000 ? 1000000 : cap;
        const long steps = pass == 0 ? n : cap;
        for (long t = 0; t < steps; t++) {
            if (pass == 0) {
                double e = 0.0;
                for (int c = 0; c < K; c++) e += cur[c] * H[c];
                if (h) h[t] = e;
            }
            propagate(m, cur, next, pass);
            double diff = 0.0;
            for (int c = 0; c < K; c++) diff += fabs(next[c] - cur[c]);
            double *s = cur;
            cur = next;
            next = s;
            if (pass == 1 && diff < 1e-13) break;
        }
        if (pass == 1) {
            double e = 0.0;
            for (int c = 0; c < K; c++) e += cur[c] * H[c];
            *rate = e;
        }
    }
    free(H);
    free(cur);
    free(next);
}

static int markov_entropy(double *h, int n, double *rate, const TaskConfig *cfg) {
    MarkovTable m;
    markov_table_build(&m, cfg);
    markov_table_entropy(&m, h, n, rate);
    markov_table_free(&m);
    return 0;
}

const TaskOps task_markov_ops = {
    .name = "markov",
    .summary = "language model of a fixed random order-k Markov chain (task.markov_*), loss on every token",
    .frame = TASK_FRAME_LM,
    .sample_x = markov_sample_x,
    .next_dist = markov_next_dist,
    .entropy = markov_entropy,
    .settings = markov_settings,
    .check = markov_check,
    .describe = markov_describe,
};

#include "run/score.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "run/config.h"

void posacc_init(PosAcc *pa, int cap) {
    pa->cap = cap;
    pa->correct = core_calloc(cap, sizeof(long));
    pa->total = core_calloc(cap, sizeof(long));
    pa->loss_sum = core_calloc(cap, sizeof(double));
}

void posacc_free(PosAcc *pa) {
    free(pa->correct);
    free(pa->total);
    free(pa->loss_sum);
    pa->correct = pa->total = NULL;
    pa->loss_sum = NULL;
    pa->cap = 0;
}

void eval_shape(const TaskOps *t, const TaskConfig *tc, int n, int samples, int batch_size, int *B, int *T) {
    *B = samples < batch_size ? samples : batch_size;
    *T = task_eval_T(t, tc, n);
}

void eval_counts_add(EvalCounts *c, const float *probs, const float *losses, const int *targets, const int *pos,
                     int B, int T, int V, PosAcc *pa) {
    for (int b = 0; b < B; b++) {
        int all = 1;
        for (int i = 0; i < T; i++) {
            const int k = b * T + i, tgt = targets[k];
            if (tgt < 0) continue;
            const float *p = probs + (size_t)k * V;
            int best = 0; /* argmax; ties go to the lowest token id */
            for (int v = 1; v < V; v++)
                if (p[v] > p[best]) best = v;
            const int ok = best == tgt;
            c->correct += ok;
            all &= ok;
            c->tokens++;
            c->loss_sum += losses[k];
            const int at = pos[k] + 1; /* absolute position of the predicted token */
            if (pa && at < pa->cap) {
                pa->correct[at] += ok;
                pa->total[at]++;
                pa->loss_sum[at] += losses[k];
            }
        }
        c->exact += all;
        c->examples++;
    }
}

void eval_counts_result(const EvalCounts *c, int n, EvalResult *r) {
    r->n = n;
    r->examples = (int)c->examples;
    r->tokens = c->tokens;
    r->token_acc = c->tokens ? (double)c->correct / c->tokens : 0.0;
    r->exact_match = c->examples ? (double)c->exact / c->examples : 0.0;
    r->loss = c->tokens ? c->loss_sum / c->tokens : 0.0;
}

int eval_infer_B(int B, int T) {
    const int fit = T > 0 ? EVAL_INFER_TOKENS / T : B;
    return fit < 1 ? 1 : fit < B ? fit : B;
}

int evaluate_length(GPT *m, const TaskOps *t, const TaskConfig *tc, int n, int samples, int batch_size,
                    uint64_t eval_seed, int random_P, Batch *batch, EvalResult *r, PosAcc *pa) {
    Rng rng, prng;
    rng_seed(&rng, rng_derive(eval_seed, (uint64_t)n));
    rng_seed(&prng, rng_derive(rng_derive(eval_seed, (uint64_t)n), EVAL_POS_STREAM));
    EvalCounts counts = {0};
    for (int done = 0; done < samples;) {
        const int B = samples - done < batch_size ? samples - done : batch_size;
        if (batch_sample_eval(batch, t, tc, n, B, &rng) != 0) return -1;
        const int T = batch->T;
        if (random_P > 0 && batch_random_positions(batch, random_P, &prng) != 0) return -1;
        if (gpt_check_positions(m, batch->pos, B * T) != 0) return -1;
        for (int b0 = 0, g = eval_infer_B(B, T); b0 < B; b0 += g) {
            const int nb = B - b0 < g ? B - b0 : g;
            const size_t o = (size_t)b0 * T;
            gpt_infer(m, batch->inputs + o, batch->targets + o, batch->pos + o, nb, T);
            eval_counts_add(&counts, m->acts.probs, m->acts.losses, batch->targets + o, batch->pos + o, nb, T,
                            m->cfg.V, pa);
        }
        done += B;
    }
    eval_counts_result(&counts, n, r);
    return 0;
}

void eval_variant_name(int positions, int scaling, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s%s", positions == EVAL_POS_RANDOM ? "random" : "",
             positions == EVAL_POS_RANDOM && scaling != PE_ROPE_SCALING_NONE ? "+" : "",
             scaling != PE_ROPE_SCALING_NONE ? pe_rope_scaling_name(scaling) : "");
}

void eval_variant_stem(int positions, int scaling, char *buf, size_t cap) {
    char name[64];
    eval_variant_name(positions, scaling, name, sizeof name);
    snprintf(buf, cap, "eval%s%s", name[0] ? "-" : "", name);
}

void eval_variant_label(const char *pe, int train_random, int positions, int scaling, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s%s%s%s", pe, train_random ? "+rand" : "", scaling != PE_ROPE_SCALING_NONE ? "+" : "",
             scaling != PE_ROPE_SCALING_NONE ? pe_rope_scaling_name(scaling) : "",
             positions == EVAL_POS_RANDOM ? " (eval random)" : "");
}

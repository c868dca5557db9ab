#include "eval.h"

#include <stdlib.h>

void posacc_init(PosAcc *pa, int cap) {
    pa->cap = cap;
    pa->correct = pe_calloc(cap, sizeof(long));
    pa->total = pe_calloc(cap, sizeof(long));
}

void posacc_free(PosAcc *pa) {
    free(pa->correct);
    free(pa->total);
    pa->correct = pa->total = NULL;
    pa->cap = 0;
}

void eval_shape(const TaskOps *t, int n, int samples, int batch_size, int *B, int *T) {
    *B = samples < batch_size ? samples : batch_size;
    *T = task_input_len(t, n);
}

int evaluate_length(GPT *m, const TaskOps *t, const TaskConfig *tc, int n, int samples, int batch_size,
                    uint64_t eval_seed, Batch *batch, EvalResult *r, PosAcc *pa) {
    Rng rng;
    rng_seed(&rng, rng_derive(eval_seed, (uint64_t)n));
    const int V = m->cfg.V;
    long correct = 0, tokens = 0, exact = 0;
    double loss_sum = 0.0;
    for (int done = 0; done < samples;) {
        int B = samples - done < batch_size ? samples - done : batch_size;
        if (batch_sample_eval(batch, t, tc, n, B, &rng) != 0) return -1;
        const int T = batch->T;
        if (gpt_check_positions(m, batch->pos, B * T) != 0) return -1;
        gpt_forward(m, batch->inputs, batch->targets, batch->pos, B, T);
        for (int b = 0; b < B; b++) {
            int all = 1;
            for (int i = 0; i < T; i++) {
                int k = b * T + i, tgt = batch->targets[k];
                if (tgt < 0) continue;
                const float *p = m->acts.probs + (size_t)k * V;
                int best = 0;
                for (int v = 1; v < V; v++)
                    if (p[v] > p[best]) best = v;
                int ok = best == tgt;
                correct += ok;
                all &= ok;
                tokens++;
                loss_sum += m->acts.losses[k];
                int at = batch->pos[k] + 1; /* absolute position of the predicted token */
                if (pa && at < pa->cap) {
                    pa->correct[at] += ok;
                    pa->total[at]++;
                }
            }
            exact += all;
        }
        done += B;
    }
    r->n = n;
    r->examples = samples;
    r->tokens = tokens;
    r->token_acc = tokens ? (double)correct / tokens : 0.0;
    r->exact_match = samples ? (double)exact / samples : 0.0;
    r->loss = tokens ? loss_sum / tokens : 0.0;
    return 0;
}

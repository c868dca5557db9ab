/*
 * attention.c — attention probabilities of one forward pass (attention.h).
 */
#include "run/attention.h"

#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/rng.h"

int attention_input(const TaskOps *t, const TaskConfig *tc, const int *x, int n, int *seq) {
    const int A = tc->alphabet;
    seq[0] = task_bos(A);
    if (t->frame == TASK_FRAME_LM) {
        for (int i = 0; i + 1 < n; i++) seq[i + 1] = x[i];
        return n;
    }
    for (int i = 0; i < n; i++) seq[i + 1] = x[i];
    seq[n + 1] = task_sep(A);
    t->answer(seq + n + 2, x, n, A);
    return n + t->answer_len(n, tc) + 2;
}

int attention_eval_input(const TaskOps *t, const TaskConfig *tc, uint64_t eval_seed, int n, int *seq) {
    const int T = task_input_len(t, tc, n);
    Batch b; /* an evaluation batch has room for its rows' tile padding (task_eval_T) */
    if (batch_alloc(&b, 1, task_eval_T(t, tc, n)) != 0) return -1;
    Rng rng; /* evaluate_length's generator for n: its first draw is its first example */
    rng_seed(&rng, rng_derive(eval_seed, (uint64_t)n));
    int rc = batch_sample_eval(&b, t, tc, n, 1, &rng);
    if (rc == 0) memcpy(seq, b.inputs, sizeof(int) * (size_t)T);
    batch_free(&b);
    return rc == 0 ? T : -1;
}

int attention_maps(GPT *m, const int *seq, int T, int layer, int head, float *out) {
    int *pos = core_calloc(T, sizeof(int));
    for (int i = 0; i < T; i++) pos[i] = i;
    if (gpt_check_positions(m, pos, T) != 0) {
        free(pos);
        return -1;
    }
    gpt_reserve_infer(m, 1, T);
    m->probe = (GPTProbe){.att = out, .layer = layer, .head = head};
    gpt_infer(m, seq, NULL, pos, 1, T);
    m->probe = (GPTProbe){0};
    free(pos);
    return 0;
}

/*
 * adamw.h — AdamW with decoupled weight decay, linear warmup + cosine decay,
 * and global gradient-norm clipping (docs/SPEC.md §3).
 *
 * The moments m and v share the parameter buffer's layout (gpt.h), so the
 * update is one flat loop per parameter tensor; weight decay applies only to
 * tensors whose ParamInfo.decay is set.
 */
#ifndef POSENC_ADAMW_H
#define POSENC_ADAMW_H

#include <stddef.h>

#include "model/gpt.h"

typedef struct {
    float beta1, beta2, eps, weight_decay;
    float *m;   /* (num_params) first moment */
    float *v;   /* (num_params) second moment */
    size_t n;   /* num_params */
    long t;     /* updates done so far */
} AdamW;

void adamw_init(AdamW *opt, size_t num_params, float weight_decay);
void adamw_free(AdamW *opt);

/* Learning rate at 0-based `step` of `steps`: linear warmup from lr/warmup to
 * lr over `warmup` steps, then cosine decay to 0.1*lr at the last step. */
float lr_schedule(int step, int steps, int warmup, float lr);

/* Global L2 norm of all gradients (accumulated in double). */
float grad_global_norm(const GPT *m);
/* Scale the gradients so that their global norm is at most max_norm
 * (max_norm <= 0: no clipping). `norm` is grad_global_norm's value. */
void grad_clip(GPT *m, float norm, float max_norm);

/* One AdamW update of m's parameters with m's gradients at learning rate lr. */
void adamw_step(AdamW *opt, GPT *m, float lr);

#endif

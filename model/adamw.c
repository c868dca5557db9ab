/*
 * adamw.c — AdamW, learning-rate schedule, gradient clipping (see adamw.h).
 */
#include "core/dmath.h"
#include "model/adamw.h"
#include "model/kernel.h"

#include <math.h>
#include <stdlib.h>
#include "core/alloc.h"

void adamw_init(AdamW *opt, size_t num_params, float weight_decay) {
    opt->beta1 = 0.9f;
    opt->beta2 = 0.95f;
    opt->eps = 1e-8f;
    opt->weight_decay = weight_decay;
    opt->m = core_calloc_big(num_params, sizeof(float));
    opt->v = core_calloc_big(num_params, sizeof(float));
    opt->n = num_params;
    opt->t = 0;
}

void adamw_free(AdamW *opt) {
    free(opt->m);
    free(opt->v);
    opt->m = opt->v = NULL;
}

float lr_schedule(int step, int steps, int warmup, float lr) {
    if (step < warmup) return lr * (float)(step + 1) / (float)warmup;
    const float min_lr = 0.1f * lr;
    int decay_steps = steps - warmup - 1;
    if (decay_steps <= 0) return lr;
    double progress = (double)(step - warmup) / decay_steps;
    if (progress > 1.0) progress = 1.0;
    return min_lr + 0.5f * (lr - min_lr) * (float)(1.0 + dm_cos(M_PI * progress));
}

float grad_global_norm(const GPT *m) {
    double sum = 0.0;
    for (size_t i = 0; i < m->num_params; i++) sum += (double)m->grads_memory[i] * m->grads_memory[i];
    return (float)sqrt(sum);
}

void grad_clip(GPT *m, float norm, float max_norm) {
    if (max_norm <= 0.0f || !(norm > max_norm)) return;
    const float scale = max_norm / norm;
    for (size_t i = 0; i < m->num_params; i++) m->grads_memory[i] *= scale;
}

/* One tensor's update, element by element (vectorised: sqrtf is inlined,
 * the kernels being built with -fno-math-errno). */
KERNEL static void adamw_update(float *restrict p, const float *restrict g, float *restrict mm, float *restrict vv,
                                size_t n, float b1, float b2, float c1, float c2, float lr, float eps, float wd) {
    for (size_t i = 0; i < n; i++) {
        mm[i] = b1 * mm[i] + (1.0f - b1) * g[i];
        vv[i] = b2 * vv[i] + (1.0f - b2) * g[i] * g[i];
        float mhat = mm[i] * c1, vhat = vv[i] * c2;
        p[i] -= lr * (mhat / (sqrtf(vhat) + eps) + wd * p[i]);
    }
}

void adamw_step(AdamW *opt, GPT *m, float lr) {
    opt->t++;
    const float b1 = opt->beta1, b2 = opt->beta2;
    const float c1 = 1.0f / (1.0f - dm_powf(b1, (float)opt->t));
    const float c2 = 1.0f / (1.0f - dm_powf(b2, (float)opt->t));
    for (int k = 0; k < GPT_NUM_PARAM_TENSORS; k++) {
        const ParamInfo *info = &m->param_info[k];
        const float wd = info->decay ? opt->weight_decay : 0.0f;
        float *p = m->params_memory + info->offset, *g = m->grads_memory + info->offset;
        float *mm = opt->m + info->offset, *vv = opt->v + info->offset;
        adamw_update(p, g, mm, vv, info->size, b1, b2, c1, c2, lr, opt->eps, wd);
    }
}

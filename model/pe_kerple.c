/*
 * pe_kerple.c — KERPLE, logarithmic variant (Chi et al. 2022, "KERPLE: Kernelized
 * Relative Positional Embedding for Length Extrapolation"):
 *
 *   score[i, j] += -p_{l,h} * log(1 + a_{l,h} * (pos[i] - pos[j])),   p, a > 0
 *
 * with a learned pair (p, a) per head and per layer (the reference,
 * chijames/KERPLE in GPT-NeoX `ParallelKerpleLog`, owns one module per
 * attention layer with bias_p, bias_a of shape (heads, 1, 1)).
 *
 * Positivity. The reference initialises p ~ 2*U(0,1), a ~ U(0,1) and clamps
 * both at eps = 0.01 by overwriting the parameters inside forward (a
 * projection outside autograd). Here p = softplus(p_raw), a = softplus(a_raw),
 * and p_raw, a_raw are the trained parameters: positivity then holds for
 * every value the optimiser can reach, the bias is smooth in its parameters
 * (so the central-difference gradient checks apply everywhere), and the
 * forward pass never writes parameters. The initial p, a follow the
 * reference's distribution (clamped at 0.01 like its first forward) and are
 * stored as p_raw = softplus^-1(p). Checkpoints hold p_raw and a_raw
 * (`transformer.h.<l>.attn.kerple.bias_p_raw`, `.bias_a_raw`, (NH) each).
 *
 * Cost. The bias depends on the distance only, so bias_prepare tabulates it
 * per layer for distances 0..P-1 and bias_forward is a lookup; bias_backward
 * accumulates d bias per (head, distance) and bias_reduce folds that into
 * p_raw, a_raw (pe.h). No parameters depend on P.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/rng.h"
#include "model/pe.h"

#define KERPLE_EPS 0.01f /* the reference's clamp of the initial values */

typedef struct {
    float *table;  /* (NH, P): bias of the layer last prepared, per distance */
    float *gtable; /* (NH, P): d bias per distance, accumulated by bias_backward */
    int pm;        /* distances 0..pm-1 can occur in the last prepared batch */
} KerpleState;

static size_t kerple_num_params(const PEConfig *cfg) { return (size_t)2 * cfg->L * cfg->NH; }

static int kerple_tensors(const PEConfig *cfg, PETensor *out) {
    out[0] = (PETensor){"attn.kerple.bias_p_raw", 1, (size_t)cfg->NH, 0};
    out[1] = (PETensor){"attn.kerple.bias_a_raw", 1, (size_t)cfg->NH, 0};
    return 2;
}

static float softplus(float x) { return x > 20.0f ? x : dm_log1pf(dm_expf(x)); }
static float sigmoid(float x) { return 1.0f / (1.0f + dm_expf(-x)); }
static float softplus_inv(float y) { return y > 20.0f ? y : dm_logf(dm_expm1f(y)); }

/* views: p_raw (L, NH) then a_raw (L, NH) */
static const float *p_raw(const PE *pe, int l) { return pe->params + (size_t)l * pe->cfg.NH; }
static const float *a_raw(const PE *pe, int l) { return pe->params + (size_t)(pe->cfg.L + l) * pe->cfg.NH; }

static void kerple_init_params(const PE *pe, float *params, Rng *rng) {
    const size_t n = (size_t)pe->cfg.L * pe->cfg.NH;
    for (size_t i = 0; i < n; i++) params[i] = softplus_inv(fmaxf(2.0f * rng_uniform(rng), KERPLE_EPS));
    for (size_t i = 0; i < n; i++) params[n + i] = softplus_inv(fmaxf(rng_uniform(rng), KERPLE_EPS));
}

static int kerple_setup(PE *pe) {
    KerpleState *s = core_calloc(1, sizeof *s);
    s->table = core_calloc((size_t)pe->cfg.NH * pe->cfg.P, sizeof(float));
    s->gtable = core_calloc((size_t)pe->cfg.NH * pe->cfg.P, sizeof(float));
    pe->state = s;
    return 0;
}

static void kerple_teardown(PE *pe) {
    KerpleState *s = pe->state;
    if (s) {
        free(s->table);
        free(s->gtable);
        free(s);
    }
}

static void kerple_bias_prepare(const PE *pe, int l, const int *pos, int N) {
    KerpleState *s = pe->state;
    const int P = pe->cfg.P;
    int mx = 0;
    for (int n = 0; n < N; n++) mx = pos[n] > mx ? pos[n] : mx;
    s->pm = mx + 1; /* distances are at most the largest position */
    for (int h = 0; h < pe->cfg.NH; h++) {
        const float p = softplus(p_raw(pe, l)[h]), a = softplus(a_raw(pe, l)[h]);
        float *t = s->table + (size_t)h * P;
        for (int d = 0; d < s->pm; d++) t[d] = -p * dm_log1pf(a * (float)d);
    }
}

static void kerple_bias_forward(const PE *pe, float *row, int l, int h, const int *pos, int i) {
    (void)l; /* the table holds layer l's bias (bias_prepare) */
    const KerpleState *s = pe->state;
    const float *t = s->table + (size_t)h * pe->cfg.P;
    const int pi = pos[i];
    for (int j = 0; j <= i; j++) {
        int d = pi - pos[j];
        row[j] += t[d > 0 ? d : 0];
    }
}

static void kerple_bias_backward(const PE *pe, const float *drow, int l, int h, const int *pos, int i) {
    (void)l;
    KerpleState *s = pe->state;
    float *g = s->gtable + (size_t)h * pe->cfg.P;
    const int pi = pos[i];
    for (int j = 0; j <= i; j++) {
        int d = pi - pos[j];
        g[d > 0 ? d : 0] += drow[j];
    }
}

static void kerple_bias_reduce(const PE *pe, int l) {
    KerpleState *s = pe->state;
    const int P = pe->cfg.P, NH = pe->cfg.NH;
    float *gp = pe->grads + (size_t)l * NH, *ga = pe->grads + (size_t)(pe->cfg.L + l) * NH;
    for (int h = 0; h < NH; h++) {
        const float pr = p_raw(pe, l)[h], ar = a_raw(pe, l)[h];
        const float p = softplus(pr), a = softplus(ar);
        float *g = s->gtable + (size_t)h * P;
        double dp = 0.0, da = 0.0;
        /* t[d] = -p log(1 + a d):  dt/dp = -log(1 + a d),  dt/da = -p d / (1 + a d) */
        for (int d = 0; d < s->pm; d++) {
            dp += (double)g[d] * -dm_log1pf(a * (float)d);
            da += (double)g[d] * (-p * (float)d / (1.0f + a * (float)d));
            g[d] = 0.0f;
        }
        gp[h] += (float)dp * sigmoid(pr); /* p = softplus(p_raw) */
        ga[h] += (float)da * sigmoid(ar);
    }
}

/* p = softplus(p_raw) and a = softplus(a_raw) of head h of layer l. */
static int kerple_scalars(const PE *pe, int l, int h, PEScalar *out) {
    if (h < 0) return 0;
    out[0] = (PEScalar){"p", softplus(p_raw(pe, l)[h])};
    out[1] = (PEScalar){"a", softplus(a_raw(pe, l)[h])};
    return 2;
}

const PEOps pe_kerple_ops = {
    .name = "kerple",
    .summary = "learned log bias -p*log(1+a*(i-j)), p, a > 0 per head and layer (Chi et al. 2022)",
    .scalars = kerple_scalars,
    .num_params = kerple_num_params,
    .tensors = kerple_tensors,
    .init_params = kerple_init_params,
    .setup = kerple_setup,
    .teardown = kerple_teardown,
    .bias_prepare = kerple_bias_prepare,
    .bias_forward = kerple_bias_forward,
    .bias_backward = kerple_bias_backward,
    .bias_reduce = kerple_bias_reduce,
};

/*
 * pe_learned.c — a trained absolute position table W (P, C), added to the
 * embedding, init N(0, 0.02). Rows for positions never seen in training
 * receive no gradient and are excluded from weight decay, so they keep
 * their initial noise (docs/SPEC.md §4).
 */
#include "core/rng.h"
#include "model/pe.h"

static size_t learned_num_params(const PEConfig *cfg) { return (size_t)cfg->P * cfg->C; }

static int learned_tensors(const PEConfig *cfg, PETensor *out) {
    out[0] = (PETensor){"wpe.weight", 0, (size_t)cfg->P, (size_t)cfg->C}; /* GPT-2's name */
    return 1;
}

static void learned_init_params(const PE *pe, float *params, Rng *rng) {
    size_t n = learned_num_params(&pe->cfg);
    for (size_t i = 0; i < n; i++) params[i] = 0.02f * rng_normal(rng);
}

static void learned_embed_forward(const PE *pe, float *x, const int *pos, int N) {
    const int C = pe->cfg.C;
    for (int n = 0; n < N; n++) {
        const float *row = pe->params + (size_t)pos[n] * C; /* W[pos[n]] */
        float *xn = x + (size_t)n * C;
        for (int c = 0; c < C; c++) xn[c] += row[c];
    }
}

static void learned_embed_backward(const PE *pe, const float *dx, const int *pos, int N) {
    const int C = pe->cfg.C;
    for (int n = 0; n < N; n++) {
        float *drow = pe->grads + (size_t)pos[n] * C; /* x[n] += W[pos[n]] */
        const float *d = dx + (size_t)n * C;
        for (int c = 0; c < C; c++) drow[c] += d[c];
    }
}

const PEOps pe_learned_ops = {
    .name = "learned",
    .summary = "trained absolute table (max_positions, d_model) added to the token embedding (GPT-2)",
    .flags = PE_TRAINED_POSITIONS,
    .num_params = learned_num_params,
    .tensors = learned_tensors,
    .init_params = learned_init_params,
    .embed_forward = learned_embed_forward,
    .embed_backward = learned_embed_backward,
};

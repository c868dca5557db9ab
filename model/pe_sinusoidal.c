/*
 * pe_sinusoidal.c — Vaswani et al. 2017, added to the embedding:
 *   PE[p, 2i] = sin(p / 10000^(2i/C)),  PE[p, 2i+1] = cos(p / 10000^(2i/C))
 * Precomputed once as a (P, C) table (in double, rounded to float).
 */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "model/pe.h"

static int sin_check(const PEConfig *cfg) {
    if (cfg->C % 2) return core_errorf("model.d_model: the sinusoidal encoding needs an even d_model, got %d", cfg->C);
    return 0;
}

static int sin_setup(PE *pe) {
    const int C = pe->cfg.C, P = pe->cfg.P;
    float *table = core_calloc((size_t)P * C, sizeof(float)); /* (P, C) */
    for (int p = 0; p < P; p++) {
        for (int i = 0; i < C / 2; i++) {
            double angle = p / dm_pow(10000.0, 2.0 * i / C);
            table[(size_t)p * C + 2 * i] = (float)dm_sin(angle);
            table[(size_t)p * C + 2 * i + 1] = (float)dm_cos(angle);
        }
    }
    pe->state = table;
    return 0;
}

static void sin_embed_forward(const PE *pe, float *x, const int *pos, int N) {
    const int C = pe->cfg.C;
    const float *table = pe->state;
    for (int n = 0; n < N; n++) {
        const float *row = table + (size_t)pos[n] * C;
        float *xn = x + (size_t)n * C;
        for (int c = 0; c < C; c++) xn[c] += row[c];
    }
}

const PEOps pe_sinusoidal_ops = {
    .name = "sinusoidal",
    .summary = "fixed sin/cos of p/10000^(2i/C) added to the token embedding (Vaswani et al. 2017)",
    .check = sin_check,
    .setup = sin_setup,
    .embed_forward = sin_embed_forward,
    /* no parameters: nothing to do in backward */
};

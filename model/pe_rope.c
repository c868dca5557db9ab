/*
 * pe_rope.c — rotary position embedding (Su et al. 2021), GPT-NeoX / HF
 * "rotate-half" pairing: within each head, dimension i pairs with i + R/2,
 * where R = the rotated dimensions (rope_fraction * hs, rounded down to even;
 * dimensions R..hs-1 pass unchanged), and the pair is rotated by the angle
 *   theta(p, i) = p * base^(-2i/R),  i = 0 .. R/2-1.
 * Queries and keys are rotated alike; <rope(q,m), rope(k,n)> depends on m-n only.
 * cos/sin are precomputed as (P, R/2) tables.
 */
#include <math.h>
#include <stdlib.h>

#include "pe.h"

typedef struct {
    int R;       /* rotated dims per head (even) */
    float *cos;  /* (P, R/2) */
    float *sin;  /* (P, R/2) */
} RopeState;

static int rope_setup(PE *pe) {
    const PEConfig *c = &pe->cfg;
    if (!(c->rope_fraction > 0.0f && c->rope_fraction <= 1.0f))
        return pe_errorf("model.rope_fraction must be in (0, 1], got %g", c->rope_fraction);
    if (!(c->rope_base > 1.0f)) return pe_errorf("model.rope_base must be > 1, got %g", c->rope_base);
    int R = (int)(c->rope_fraction * c->hs + 1e-4f);
    R -= R % 2;
    if (R < 2)
        return pe_errorf("rope rotates no dimension: rope_fraction %g of head size %d leaves %d",
                         c->rope_fraction, c->hs, R);
    RopeState *s = pe_calloc(1, sizeof *s);
    s->R = R;
    const int half = R / 2;
    s->cos = pe_calloc((size_t)c->P * half, sizeof(float));
    s->sin = pe_calloc((size_t)c->P * half, sizeof(float));
    for (int p = 0; p < c->P; p++) {
        for (int i = 0; i < half; i++) {
            double theta = p * pow((double)c->rope_base, -2.0 * i / R);
            s->cos[(size_t)p * half + i] = (float)cos(theta);
            s->sin[(size_t)p * half + i] = (float)sin(theta);
        }
    }
    pe->state = s;
    return 0;
}

static void rope_teardown(PE *pe) {
    RopeState *s = pe->state;
    if (s) {
        free(s->cos);
        free(s->sin);
        free(s);
    }
}

static void rope_qk_forward(const PE *pe, float *x, int p, int is_key) {
    (void)is_key;
    const RopeState *s = pe->state;
    const int half = s->R / 2;
    const float *cs = s->cos + (size_t)p * half, *sn = s->sin + (size_t)p * half;
    for (int i = 0; i < half; i++) {
        float x1 = x[i], x2 = x[i + half];
        x[i] = x1 * cs[i] - x2 * sn[i];
        x[i + half] = x2 * cs[i] + x1 * sn[i];
    }
}

static void rope_qk_backward(const PE *pe, float *dx, int p, int is_key) {
    (void)is_key;
    const RopeState *s = pe->state;
    const int half = s->R / 2;
    const float *cs = s->cos + (size_t)p * half, *sn = s->sin + (size_t)p * half;
    /* transpose of the rotation = rotation by -theta */
    for (int i = 0; i < half; i++) {
        float d1 = dx[i], d2 = dx[i + half];
        dx[i] = d1 * cs[i] + d2 * sn[i];
        dx[i + half] = d2 * cs[i] - d1 * sn[i];
    }
}

const PEOps pe_rope_ops = {
    .name = "rope",
    .summary = "rotary: q and k of each head rotated by p*base^(-2i/R), rotate-half pairing (Su et al. 2021)",
    .setup = rope_setup,
    .teardown = rope_teardown,
    .qk_forward = rope_qk_forward,
    .qk_backward = rope_qk_backward,
};

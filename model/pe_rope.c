/*
 * pe_rope.c — rotary position embedding (Su et al. 2021), GPT-NeoX / HF
 * "rotate-half" pairing: within each head, dimension i pairs with i + R/2,
 * where R = the rotated dimensions (rope_fraction * hs, rounded down to even;
 * dimensions R..hs-1 pass unchanged), and the pair is rotated by the angle
 *   theta(p, i) = p * base^(-2i/R),  i = 0 .. R/2-1.
 * Queries and keys are rotated alike; <rope(q,m), rope(k,n)> depends on m-n only.
 * cos/sin are precomputed as (P, R/2) tables. At evaluation the angles may
 * be rescaled (PI, NTK-aware, YaRN; see pe.h, PERopeScaling): only the
 * tables change, so the hooks below are the same for every method.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "model/pe.h"

const PESetting pe_rope_base_setting = {
    "rope_base", PE_SETTING_FLOAT, 10000, 1, INFINITY, 1,
    "RoPE (and xPos) base: pair i turns by p * base^(-2i/R)"};
static const PESetting fraction_setting = {
    "rope_fraction", PE_SETTING_FLOAT, 1, 0, 1, 1,
    "fraction of each head's dimensions RoPE rotates; fraction * head size must be an even whole number"};
static const PESetting *const rope_settings[] = {&pe_rope_base_setting, &fraction_setting, NULL};

typedef struct {
    int R;       /* rotated dims per head (even) */
    float *cos;  /* (P, R/2) */
    float *sin;  /* (P, R/2) */
} RopeState;

static const char *const scaling_names[PE_ROPE_SCALING_COUNT] = {"none", "pi", "ntk", "yarn"};

const char *pe_rope_scaling_name(int scaling) {
    return scaling >= 0 && scaling < PE_ROPE_SCALING_COUNT ? scaling_names[scaling] : NULL;
}

int pe_rope_scaling_find(const char *name) {
    for (int i = 0; i < PE_ROPE_SCALING_COUNT; i++)
        if (strcmp(name, scaling_names[i]) == 0) return i;
    return -1;
}

/* The rotated dimensions R (even), or -1 with an error. */
static int rope_dims(const PEConfig *c) {
    const float fraction = (float)pe_setting(c, &fraction_setting), base = (float)pe_setting(c, &pe_rope_base_setting);
    if (!(fraction > 0.0f && fraction <= 1.0f))
        return core_errorf("model.rope_fraction: must be in (0, 1], got %g", fraction);
    if (!(base > 1.0f)) return core_errorf("model.rope_base: must be > 1, got %g", base);
    int R = (int)(fraction * c->hs + 1e-4f);
    R -= R % 2;
    if (R < 2)
        return core_errorf("model.rope_fraction: rope rotates no dimension: %g of head size %d leaves %d",
                         fraction, c->hs, R);
    return R;
}

/* The rotated dimensions must be an even whole number: R = fraction * hs
 * exactly (not rounded down), so that a config says what it does. */
static int rope_check(const PEConfig *c) {
    const double fraction = (float)pe_setting(c, &fraction_setting), R = fraction * c->hs;
    const long Ri = lround(R);
    if (fabs(R - (double)Ri) > 1e-4 || Ri < 2 || Ri % 2 != 0)
        return core_errorf("model.rope_fraction: %g of head size %d rotates %g dimensions; RoPE needs an even "
                         "whole number >= 2",
                         fraction, c->hs, R);
    return 0;
}

/* YaRN's d(r): the pair index whose wavelength fits r rotations into the
 * original context L (Peng et al. 2023, eq. 17; find_correction_dim). */
static double yarn_correction_dim(double rotations, int R, double base, int L) {
    return R * dm_log(L / (rotations * 2.0 * M_PI)) / (2.0 * dm_log(base));
}

int pe_rope_frequencies(const PEConfig *c, double *freqs, double *mscale) {
    const int R = rope_dims(c);
    if (R < 0) return -1;
    const int half = R / 2, sc = c->rope_scaling;
    const double base = (float)pe_setting(c, &pe_rope_base_setting), s = c->rope_scale;
    if (sc < 0 || sc >= PE_ROPE_SCALING_COUNT) return core_errorf("rope scaling: unknown method %d", sc);
    if (sc != PE_ROPE_SCALING_NONE && !(s >= 1.0 && s <= 1e6))
        return core_errorf("rope scaling %s: the scale factor s must be in [1, 1e6], got %g", scaling_names[sc], s);
    if (sc == PE_ROPE_SCALING_YARN && c->rope_orig_len < 1)
        return core_errorf("rope scaling yarn: needs the original (training) context length, got %d",
                         c->rope_orig_len);
    *mscale = 1.0;
    for (int i = 0; i < half; i++) freqs[i] = dm_pow(base, -2.0 * i / R);
    switch (sc) {
    case PE_ROPE_SCALING_PI:
        for (int i = 0; i < half; i++) freqs[i] /= s;
        break;
    case PE_ROPE_SCALING_NTK: {
        const double b2 = base * dm_pow(s, (double)R / (R - 2)); /* R = 2: no pair but i = 0, unchanged */
        for (int i = 0; i < half; i++) freqs[i] = dm_pow(b2, -2.0 * i / R);
        break;
    }
    case PE_ROPE_SCALING_YARN: {
        /* beta_fast = 32, beta_slow = 1 rotations over the original context */
        double lo = floor(yarn_correction_dim(32.0, R, base, c->rope_orig_len));
        double hi = ceil(yarn_correction_dim(1.0, R, base, c->rope_orig_len));
        if (lo < 0) lo = 0;
        if (hi > R - 1) hi = R - 1;
        if (hi == lo) hi += 0.001;
        for (int i = 0; i < half; i++) {
            double ramp = (i - lo) / (hi - lo);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            const double keep = 1.0 - ramp; /* 1: extrapolate (w_i), 0: interpolate (w_i / s) */
            freqs[i] = freqs[i] / s * (1.0 - keep) + freqs[i] * keep;
        }
        if (s > 1.0) *mscale = 0.1 * dm_log(s) + 1.0;
        break;
    }
    default:
        break;
    }
    return half;
}

static int rope_setup(PE *pe) {
    const PEConfig *c = &pe->cfg;
    const int R = rope_dims(c);
    if (R < 0) return -1;
    const int half = R / 2;
    double *freqs = core_calloc(half, sizeof(double)), mscale = 1.0;
    if (pe_rope_frequencies(c, freqs, &mscale) < 0) {
        free(freqs);
        return -1;
    }
    RopeState *s = core_calloc(1, sizeof *s);
    s->R = R;
    s->cos = core_calloc((size_t)c->P * half, sizeof(float));
    s->sin = core_calloc((size_t)c->P * half, sizeof(float));
    for (int p = 0; p < c->P; p++) {
        for (int i = 0; i < half; i++) {
            double theta = p * freqs[i];
            s->cos[(size_t)p * half + i] = (float)(dm_cos(theta) * mscale);
            s->sin[(size_t)p * half + i] = (float)(dm_sin(theta) * mscale);
        }
    }
    free(freqs);
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
    .flags = PE_SCALABLE,
    .settings = rope_settings,
    .check = rope_check,
    .setup = rope_setup,
    .teardown = rope_teardown,
    .qk_forward = rope_qk_forward,
    .qk_backward = rope_qk_backward,
};

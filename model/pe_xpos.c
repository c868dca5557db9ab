/*
 * pe_xpos.c — xPos (Sun et al. 2022, "A Length-Extrapolatable Transformer";
 * reference: microsoft/torchscale `XPOS`): RoPE with a per-pair exponential
 * decay. For head size hs, pair i = 0 .. hs/2-1 rotates by theta(p, i) =
 * p * base^(-2i/hs) (base = model.rope_base, 10000 as in torchscale) and is
 * scaled by
 *
 *   zeta_i = (2i + 0.4 hs) / (1.4 hs)         (in (0.29, 1))
 *   query at position n:  zeta_i^( n / gamma)  (torchscale: downscale=False)
 *   key   at position m:  zeta_i^(-m / gamma)  (torchscale: downscale=True)
 *
 * gamma = model.xpos_scale_base (512), so the score of pair i carries
 * zeta_i^((n - m) / gamma): a relative rotation times a decay in the
 * distance, faster for the fast-rotating (low i) pairs. The pairing is the
 * rotate-half one of pe_rope.c (dimension i with i + hs/2) rather than
 * torchscale's interleaved one: a fixed permutation of the same operator,
 * consistent with this project's RoPE. torchscale offsets positions by
 * -length/2 to keep the scales near 1; the score is the same for any offset,
 * and here positions are used as they are (no dependence of the numbers on
 * the batch length), with setup refusing a P whose largest scale,
 * zeta_0^(-(P-1)/gamma), would exceed 1e30 in float32.
 * No trainable parameters; cos, sin and both scale tables are (P, hs/2).
 */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "model/pe.h"

static const PESetting scale_base_setting = {
    "xpos_scale_base", PE_SETTING_FLOAT, 512, 0, INFINITY, 1,
    "xPos: decay divisor gamma (scale zeta^(n/gamma)); large enough that zeta^(-P/gamma) stays in float range"};
static const PESetting *const xpos_settings[] = {&pe_rope_base_setting, &scale_base_setting, NULL};

typedef struct {
    int half;
    float *cos, *sin; /* (P, half) */
    float *sq, *sk;   /* (P, half): zeta^(p/gamma) for queries, zeta^(-p/gamma) for keys */
} XposState;

/* Pairs of dimensions need an even head size; the largest key scale,
 * zeta_0^(-(P-1)/gamma) with zeta_0 = 0.4/1.4, must stay below 1e30. */
static int xpos_check(const PEConfig *c) {
    if (c->hs < 2 || c->hs % 2)
        return core_errorf("model.pe: xpos rotates dimension pairs and needs an even head size, got %d "
                         "(model.d_model %d / model.n_heads %d)",
                         c->hs, c->C, c->NH);
    const float gamma = (float)pe_setting(c, &scale_base_setting);
    const double zeta0 = 0.4 / 1.4, worst = -dm_log(zeta0) * (c->P - 1) / gamma;
    if (worst > dm_log(1e30))
        return core_errorf("model.xpos_scale_base: %g is too small for %d positions: the key scale "
                         "zeta^(-p/gamma) would leave float range; use at least %.0f",
                         gamma, c->P, ceil(-dm_log(zeta0) * (c->P - 1) / dm_log(1e30)));
    return 0;
}

static int xpos_setup(PE *pe) {
    const PEConfig *c = &pe->cfg;
    const float base = (float)pe_setting(c, &pe_rope_base_setting), gamma = (float)pe_setting(c, &scale_base_setting);
    const int half = c->hs / 2;
    XposState *s = core_calloc(1, sizeof *s);
    s->half = half;
    const size_t n = (size_t)c->P * half;
    s->cos = core_calloc(n, sizeof(float));
    s->sin = core_calloc(n, sizeof(float));
    s->sq = core_calloc(n, sizeof(float));
    s->sk = core_calloc(n, sizeof(float));
    for (int p = 0; p < c->P; p++) {
        for (int i = 0; i < half; i++) {
            const double theta = p * dm_pow((double)base, -2.0 * i / c->hs);
            const double zeta = (2.0 * i + 0.4 * c->hs) / (1.4 * c->hs);
            const double e = (double)p / gamma;
            s->cos[(size_t)p * half + i] = (float)dm_cos(theta);
            s->sin[(size_t)p * half + i] = (float)dm_sin(theta);
            s->sq[(size_t)p * half + i] = (float)dm_pow(zeta, e);
            s->sk[(size_t)p * half + i] = (float)dm_pow(zeta, -e);
        }
    }
    pe->state = s;
    return 0;
}

static void xpos_teardown(PE *pe) {
    XposState *s = pe->state;
    if (s) {
        free(s->cos);
        free(s->sin);
        free(s->sq);
        free(s->sk);
        free(s);
    }
}

static void xpos_qk_forward(const PE *pe, float *x, int p, int is_key) {
    const XposState *s = pe->state;
    const int half = s->half;
    const size_t o = (size_t)p * half;
    const float *cs = s->cos + o, *sn = s->sin + o, *sc = (is_key ? s->sk : s->sq) + o;
    for (int i = 0; i < half; i++) {
        const float x1 = x[i], x2 = x[i + half];
        x[i] = (x1 * cs[i] - x2 * sn[i]) * sc[i];
        x[i + half] = (x2 * cs[i] + x1 * sn[i]) * sc[i];
    }
}

static void xpos_qk_backward(const PE *pe, float *dx, int p, int is_key) {
    const XposState *s = pe->state;
    const int half = s->half;
    const size_t o = (size_t)p * half;
    const float *cs = s->cos + o, *sn = s->sin + o, *sc = (is_key ? s->sk : s->sq) + o;
    /* J = scale * R(theta): J^T = scale * R(-theta) */
    for (int i = 0; i < half; i++) {
        const float d1 = dx[i] * sc[i], d2 = dx[i + half] * sc[i];
        dx[i] = d1 * cs[i] + d2 * sn[i];
        dx[i + half] = d2 * cs[i] - d1 * sn[i];
    }
}

const PEOps pe_xpos_ops = {
    .name = "xpos",
    .summary = "RoPE with a per-pair decay: q scaled zeta_i^(n/512), k zeta_i^(-m/512) (Sun et al. 2022)",
    .settings = xpos_settings,
    .check = xpos_check,
    .setup = xpos_setup,
    .teardown = xpos_teardown,
    .qk_forward = xpos_qk_forward,
    .qk_backward = xpos_qk_backward,
};

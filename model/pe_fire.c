/*
 * pe_fire.c — FIRE, Functional Interpolation for Relative positional Encoding
 * (Li et al. 2023, "Functional Interpolation for Relative Positions Improves
 * Long Context Transformers", arXiv:2310.04418):
 *
 *   score[i, j] += f_theta( psi(i - j) / psi(max(L, i)) )[h],
 *   psi(x) = log(|c| x + 1),      i, j the position ids pos[i], pos[j]
 *
 * per layer: f_theta is an MLP R -> R^NH (one output per head) with one
 * hidden ReLU layer of model.fire_hidden units (32 in the paper),
 * f(x) = W2 relu(W1 x + b1) + b2; c and L are learned scalars. The
 * normaliser psi(max(L, i)) is the paper's "progressive interpolation": the
 * normalised distance lies in [0, 1] for every query, and for queries closer
 * than L to the start it is a fixed function of the distance alone.
 * As in the paper's listing, c is initialised to 0.1 and L is learned as a
 * multiplier of its initial value (L = |L_multiplier| * model.fire_init_L,
 * init_L 512, multiplier 1), the normaliser gets + 1e-6, and the MLP has the
 * PyTorch nn.Linear default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
 * weights and biases. The distance is max(i - j, 0) (causal). (A public
 * reimplementation differs: two hidden layers without biases, L = L_sqrt^2
 * with L_sqrt = 16, and min(L, i) where the paper has max(L, i); this file
 * follows the paper. model.fire_hidden and model.fire_init_L change the
 * defaults.)
 *
 * Cost. The MLP per (i, j, layer) would cost more than the attention itself,
 * so bias_prepare evaluates it once per layer and forward over the pairs
 * (i, d = i - j) that can occur, i below the batch's largest position + 1,
 * into a table (NH, P, P); bias_forward is a lookup. Decoding one query at a
 * time fills only the query's row, in a separate (NH, P) buffer that
 * bias_forward reads for that position (bias_prepare_query), so decoding
 * touches NH x P floats, not the table's NH x P^2. bias_backward
 * accumulates d bias into a matching gradient table and bias_reduce
 * backpropagates it through the MLP, c and L (recomputing the hidden layer)
 * and clears it (pe.h). Both tables, 2 * NH * P^2 floats, are the full
 * path's (training): full_setup allocates them when gpt_reserve reserves it
 * (fire_full_bytes); setup only decoding's row, NH * P, and the inference
 * path's psi table, P (fire_state_bytes). The inference path (evaluation:
 * attention_infer) holds no table over pairs: bias_prepare_rows tabulates
 * psi(d) for the layer, and bias_rows evaluates the MLP for every pair of a
 * query, all heads at once, eight distances per vector, with the table's
 * float operations (the same bits as the table's entries). No parameters
 * depend on P.
 *
 * Parameters per layer, checkpoint names under transformer.h.<l>.attn.fire.:
 * mlp.0.weight (H, 1), mlp.0.bias (H), mlp.2.weight (NH, H), mlp.2.bias (NH),
 * c (1), L_multiplier (1) — the names of the paper's nn.Sequential.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/rng.h"
#include "model/kernel.h"
#include "model/pe.h"

#define FIRE_EPS 1e-6f
#define FIRE_INIT_C 0.1f

static const PESetting hidden_setting = {
    "fire_hidden", PE_SETTING_INT, 32, 1, 4096, 0, "FIRE: hidden units of each layer's MLP"};
static const PESetting init_L_setting = {
    "fire_init_L", PE_SETTING_FLOAT, 512, 0, INFINITY, 1,
    "FIRE: initial threshold L of the normaliser psi(max(L, i))"};
static const PESetting *const fire_settings[] = {&hidden_setting, &init_L_setting, NULL};

typedef struct {
    float *table;  /* (NH, P, P): [h][i][d] bias of the layer last prepared */
    float *gtable; /* (NH, P, P): d bias, accumulated by bias_backward */
    float *hid;    /* (H) scratch: hidden pre-activations of one pair */
    float *dh;     /* (H) scratch */
    int pm;        /* query positions 0..pm-1 occur in the last prepared batch */
    float *qrow;   /* (NH, P): [h][d] bias of query position qpos (bias_prepare_query) */
    float *psi;    /* (P): psi(d) = log(|c| d + 1) of the layer last prepared for rows (bias_prepare_rows) */
    int qpos;      /* the position qrow holds, or -1: bias_forward reads the table */
    int H;         /* model.fire_hidden */
    float L0;      /* model.fire_init_L */
} FireState;

/* One layer's parameters, views into the module's slice. */
typedef struct {
    const float *w1, *b1, *w2, *b2, *c, *lm;
} FireLayer;

enum { T_W1, T_B1, T_W2, T_B2, T_C, T_LM, FIRE_TENSORS };

static int fire_tensors(const PEConfig *cfg, PETensor *out) {
    const size_t H = (size_t)pe_setting(cfg, &hidden_setting), NH = cfg->NH;
    out[T_W1] = (PETensor){"attn.fire.mlp.0.weight", 1, H, 1};
    out[T_B1] = (PETensor){"attn.fire.mlp.0.bias", 1, H, 0};
    out[T_W2] = (PETensor){"attn.fire.mlp.2.weight", 1, NH, H};
    out[T_B2] = (PETensor){"attn.fire.mlp.2.bias", 1, NH, 0};
    out[T_C] = (PETensor){"attn.fire.c", 1, 1, 0};
    out[T_LM] = (PETensor){"attn.fire.L_multiplier", 1, 1, 0};
    return FIRE_TENSORS;
}

static size_t fire_num_params(const PEConfig *cfg) {
    PETensor t[PE_MAX_TENSORS];
    int n = fire_tensors(cfg, t);
    size_t total = 0;
    for (int k = 0; k < n; k++) total += (size_t)cfg->L * t[k].d0 * (t[k].d1 ? t[k].d1 : 1);
    return total;
}

/* Views of layer l inside base (params or grads). */
static void fire_layer(const PEConfig *cfg, const float *base, int l, FireLayer *v) {
    PETensor t[PE_MAX_TENSORS];
    int n = fire_tensors(cfg, t);
    const float *ptr[FIRE_TENSORS];
    for (int k = 0; k < n; k++) ptr[k] = base + pe_tensor_offset(cfg, t, k, l);
    *v = (FireLayer){ptr[T_W1], ptr[T_B1], ptr[T_W2], ptr[T_B2], ptr[T_C], ptr[T_LM]};
}

static void fire_init_params(const PE *pe, float *params, Rng *rng) {
    const PEConfig *cfg = &pe->cfg;
    const int H = (int)pe_setting(cfg, &hidden_setting), NH = cfg->NH;
    const float k2 = 1.0f / sqrtf((float)H); /* fan_in of the second layer; the first has fan_in 1 */
    for (int l = 0; l < cfg->L; l++) {
        FireLayer v;
        fire_layer(cfg, params, l, &v);
        float *w1 = (float *)v.w1, *b1 = (float *)v.b1, *w2 = (float *)v.w2, *b2 = (float *)v.b2;
        for (int k = 0; k < H; k++) w1[k] = 2.0f * rng_uniform(rng) - 1.0f;
        for (int k = 0; k < H; k++) b1[k] = 2.0f * rng_uniform(rng) - 1.0f;
        for (int k = 0; k < NH * H; k++) w2[k] = k2 * (2.0f * rng_uniform(rng) - 1.0f);
        for (int k = 0; k < NH; k++) b2[k] = k2 * (2.0f * rng_uniform(rng) - 1.0f);
        *(float *)v.c = FIRE_INIT_C;
        *(float *)v.lm = 1.0f;
    }
}

static size_t fire_state_bytes(const PEConfig *cfg) {
    return ((size_t)cfg->NH * cfg->P + (size_t)cfg->P + 2 * (size_t)pe_setting(cfg, &hidden_setting)) * sizeof(float);
}

static size_t fire_full_bytes(const PEConfig *cfg) { return (size_t)2 * cfg->NH * cfg->P * cfg->P * sizeof(float); }

static int fire_setup(PE *pe) {
    const PEConfig *c = &pe->cfg;
    FireState *s = core_calloc(1, sizeof *s);
    s->H = (int)pe_setting(c, &hidden_setting);
    s->L0 = (float)pe_setting(c, &init_L_setting);
    s->hid = core_calloc(s->H, sizeof(float));
    s->dh = core_calloc(s->H, sizeof(float));
    s->qrow = core_calloc((size_t)c->NH * c->P, sizeof(float));
    s->psi = core_calloc((size_t)c->P, sizeof(float));
    s->qpos = -1;
    pe->state = s;
    return 0;
}

static int fire_full_setup(PE *pe) {
    FireState *s = pe->state;
    if (s->table) return 0;
    const size_t n = (size_t)pe->cfg.NH * pe->cfg.P * pe->cfg.P;
    s->table = core_calloc_big(n, sizeof(float));
    s->gtable = core_calloc_big(n, sizeof(float));
    return 0;
}

static void fire_teardown(PE *pe) {
    FireState *s = pe->state;
    if (s) {
        free(s->table);
        free(s->gtable);
        free(s->hid);
        free(s->dh);
        free(s->qrow);
        free(s->psi);
        free(s);
    }
}

/* The normalised distance x(i, d) = psi(d) / (psi(max(L, i)) + eps). */
static float fire_x(float c, float thr, int i, int d) {
    const float ac = fabsf(c), n = thr > (float)i ? thr : (float)i;
    return dm_logf(ac * (float)d + 1.0f) / (dm_logf(ac * n + 1.0f) + FIRE_EPS);
}

/* The bias of the pairs (i, d), d = 0..i, of layer v: head h's at dst[h * hstride + d]. */
static void fire_table_row(FireState *s, const PEConfig *cfg, const FireLayer *v, float thr, int i, float *dst,
                           size_t hstride) {
    const int H = s->H, NH = cfg->NH;
    for (int d = 0; d <= i; d++) {
        const float x = fire_x(*v->c, thr, i, d);
        for (int k = 0; k < H; k++) {
            float z = v->w1[k] * x + v->b1[k];
            s->hid[k] = z > 0.0f ? z : 0.0f;
        }
        for (int h = 0; h < NH; h++) {
            const float *w2 = v->w2 + (size_t)h * H;
            float o = v->b2[h];
            for (int k = 0; k < H; k++) o += w2[k] * s->hid[k];
            dst[h * hstride + d] = o;
        }
    }
}

static void fire_bias_prepare(const PE *pe, int l, const int *pos, int N) {
    FireState *s = pe->state;
    FireLayer v;
    fire_layer(&pe->cfg, pe->params, l, &v);
    int mx = 0;
    for (int n = 0; n < N; n++) mx = pos[n] > mx ? pos[n] : mx;
    s->pm = mx + 1;
    s->qpos = -1;
    const float thr = fabsf(*v.lm) * s->L0;
    const size_t P = pe->cfg.P;
    for (int i = 0; i < s->pm; i++) fire_table_row(s, &pe->cfg, &v, thr, i, s->table + (size_t)i * P, P * P);
}

/* Decoding one query: only its row, O(pos[i]) pairs instead of O(P^2), into
 * qrow (NH x P floats touched, not the table's NH x P^2). */
static void fire_bias_prepare_query(const PE *pe, int l, const int *pos, int i) {
    FireState *s = pe->state;
    FireLayer v;
    fire_layer(&pe->cfg, pe->params, l, &v);
    const float thr = fabsf(*v.lm) * s->L0;
    fire_table_row(s, &pe->cfg, &v, thr, pos[i], s->qrow, (size_t)pe->cfg.P);
    s->qpos = pos[i];
}

/* The inference path: psi(d) of layer l for the distances 0..max pos (the
 * numerator of fire_x, its float operations). */
static void fire_bias_prepare_rows(const PE *pe, int l, const int *pos, int N) {
    FireState *s = pe->state;
    FireLayer v;
    fire_layer(&pe->cfg, pe->params, l, &v);
    int mx = 0;
    for (int n = 0; n < N; n++) mx = pos[n] > mx ? pos[n] : mx;
    const float ac = fabsf(*v.c);
    for (int d = 0; d <= mx; d++) s->psi[d] = dm_logf(ac * (float)d + 1.0f);
}

typedef float fire_v8 __attribute__((vector_size(32)));
typedef int fire_v8i __attribute__((vector_size(32)));
#pragma GCC diagnostic ignored "-Wpsabi"

/* Every head's bias of query i against keys 0..i: fire_table_row's pairs
 * (pos[i], max(pos[i] - pos[j], 0)), eight keys per vector, each lane the
 * scalar code's operations in its order (x = psi(d) / (psi(n) + eps), the
 * hidden ReLU layer, out[h] = b2[h] + sum_k w2[h,k] hid[k] in ascending k). */
KERNEL static void fire_bias_rows(const PE *pe, float *dst, size_t hstride, int l, const int *pos, int i) {
    const FireState *s = pe->state;
    const int H = s->H, NH = pe->cfg.NH, pi = pos[i];
    FireLayer v;
    fire_layer(&pe->cfg, pe->params, l, &v);
    const float ac = fabsf(*v.c), thr = fabsf(*v.lm) * s->L0, n = thr > (float)pi ? thr : (float)pi;
    const float den = dm_logf(ac * n + 1.0f) + FIRE_EPS;
    enum { MAXH = 64 };
    for (int j0 = 0; j0 <= i; j0 += 8) {
        fire_v8 x;
        for (int k = 0; k < 8; k++) {
            const int j = j0 + k, d = j <= i ? pi - pos[j] : 0;
            x[k] = s->psi[d > 0 ? d : 0] / den;
        }
        for (int h0 = 0; h0 < NH; h0 += MAXH) { /* heads in groups whose sums stay in registers or L1 */
            const int nh = NH - h0 < MAXH ? NH - h0 : MAXH;
            fire_v8 o[MAXH];
            for (int h = 0; h < nh; h++) {
                const float b = v.b2[h0 + h];
                o[h] = (fire_v8){b, b, b, b, b, b, b, b};
            }
            for (int k = 0; k < H; k++) {
                const float w = v.w1[k], b = v.b1[k];
                const fire_v8 z = x * (fire_v8){w, w, w, w, w, w, w, w} + (fire_v8){b, b, b, b, b, b, b, b};
                const fire_v8 hid = (fire_v8)((fire_v8i)z & (z > (fire_v8){0})); /* z > 0 ? z : +0 */
                for (int h = 0; h < nh; h++) {
                    const float c = v.w2[(size_t)(h0 + h) * H + k];
                    o[h] += (fire_v8){c, c, c, c, c, c, c, c} * hid;
                }
            }
            for (int h = 0; h < nh; h++) __builtin_memcpy(dst + (size_t)(h0 + h) * hstride + j0, &o[h], sizeof o[h]);
        }
    }
}

static void fire_bias_forward(const PE *pe, float *row, int l, int h, const int *pos, int i) {
    (void)l; /* the table holds layer l's bias (bias_prepare) */
    const FireState *s = pe->state;
    const int P = pe->cfg.P, pi = pos[i];
    const float *t = pi == s->qpos ? s->qrow + (size_t)h * P : s->table + ((size_t)h * P + pi) * P;
    for (int j = 0; j <= i; j++) {
        int d = pi - pos[j];
        row[j] += t[d > 0 ? d : 0];
    }
}

static void fire_bias_backward(const PE *pe, const float *drow, int l, int h, const int *pos, int i) {
    (void)l;
    FireState *s = pe->state;
    const int P = pe->cfg.P, pi = pos[i];
    float *g = s->gtable + ((size_t)h * P + pi) * P;
    for (int j = 0; j <= i; j++) {
        int d = pi - pos[j];
        g[d > 0 ? d : 0] += drow[j];
    }
}

static void fire_bias_reduce(const PE *pe, int l) {
    FireState *s = pe->state;
    const PEConfig *cfg = &pe->cfg;
    const int H = s->H, NH = cfg->NH, P = cfg->P;
    FireLayer v, gv;
    fire_layer(cfg, pe->params, l, &v);
    fire_layer(cfg, pe->grads, l, &gv);
    float *gw1 = (float *)gv.w1, *gb1 = (float *)gv.b1, *gw2 = (float *)gv.w2, *gb2 = (float *)gv.b2;
    const float c = *v.c, ac = fabsf(c), L0 = s->L0, lm = *v.lm, thr = fabsf(lm) * L0;
    double dc = 0.0, dlm = 0.0;
    for (int i = 0; i < s->pm; i++) {
        const int use_thr = thr > (float)i; /* n = max(L, i) */
        const float n = use_thr ? thr : (float)i;
        const float den = dm_logf(ac * n + 1.0f) + FIRE_EPS;
        for (int d = 0; d <= i; d++) {
            float gsum = 0.0f;
            for (int h = 0; h < NH; h++) gsum += fabsf(s->gtable[((size_t)h * P + i) * P + d]);
            if (gsum == 0.0f) continue; /* pair not in the batch */
            const float num = dm_logf(ac * (float)d + 1.0f), x = num / den;
            for (int k = 0; k < H; k++) {
                float z = v.w1[k] * x + v.b1[k];
                s->hid[k] = z > 0.0f ? z : 0.0f;
                s->dh[k] = 0.0f;
            }
            /* out[h] = b2[h] + sum_k w2[h,k] relu(z[k]) */
            for (int h = 0; h < NH; h++) {
                float *gp = &s->gtable[((size_t)h * P + i) * P + d];
                const float go = *gp;
                *gp = 0.0f;
                if (go == 0.0f) continue;
                gb2[h] += go;
                const float *w2 = v.w2 + (size_t)h * H;
                float *gw2h = gw2 + (size_t)h * H;
                for (int k = 0; k < H; k++) {
                    gw2h[k] += go * s->hid[k];
                    s->dh[k] += go * w2[k];
                }
            }
            /* z[k] = w1[k] x + b1[k] */
            float dx = 0.0f;
            for (int k = 0; k < H; k++) {
                if (s->hid[k] <= 0.0f) continue; /* relu'(z) = [z > 0] */
                gw1[k] += s->dh[k] * x;
                gb1[k] += s->dh[k];
                dx += s->dh[k] * v.w1[k];
            }
            /* x = log(|c| d + 1) / (log(|c| n + 1) + eps) */
            const float dnum_dac = (float)d / (ac * (float)d + 1.0f);
            const float dden_dac = n / (ac * n + 1.0f);
            dc += (double)dx * (dnum_dac * den - num * dden_dac) / (den * den);
            if (use_thr) { /* n = |lm| L0:  dden/dlm = |c| / (|c| n + 1) * sign(lm) L0 */
                const float sgn = lm > 0.0f ? 1.0f : lm < 0.0f ? -1.0f : 0.0f;
                dlm += (double)dx * (-num / (den * den)) * (ac / (ac * n + 1.0f)) * sgn * L0;
            }
        }
    }
    *(float *)gv.c += (float)dc * (c > 0.0f ? 1.0f : c < 0.0f ? -1.0f : 0.0f);
    *(float *)gv.lm += (float)dlm;
}

/* c and L = |L_multiplier| * model.fire_init_L of layer l (none per head). */
static int fire_scalars(const PE *pe, int l, int h, PEScalar *out) {
    if (h >= 0) return 0;
    FireLayer v;
    fire_layer(&pe->cfg, pe->params, l, &v);
    const float L0 = (float)pe_setting(&pe->cfg, &init_L_setting);
    out[0] = (PEScalar){"c", *v.c};
    out[1] = (PEScalar){"L_multiplier", *v.lm};
    out[2] = (PEScalar){"L", fabsf(*v.lm) * L0};
    return 3;
}

const PEOps pe_fire_ops = {
    .name = "fire",
    .summary = "learned bias: per-layer MLP of log distance normalised by log max(L, i) (Li et al. 2023)",
    .settings = fire_settings,
    .scalars = fire_scalars,
    .num_params = fire_num_params,
    .tensors = fire_tensors,
    .init_params = fire_init_params,
    .setup = fire_setup,
    .state_bytes = fire_state_bytes,
    .full_setup = fire_full_setup,
    .full_bytes = fire_full_bytes,
    .teardown = fire_teardown,
    .bias_prepare = fire_bias_prepare,
    .bias_prepare_query = fire_bias_prepare_query,
    .bias_forward = fire_bias_forward,
    .bias_backward = fire_bias_backward,
    .bias_reduce = fire_bias_reduce,
    .bias_prepare_rows = fire_bias_prepare_rows,
    .bias_rows = fire_bias_rows,
};

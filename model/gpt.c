/*
 * gpt.c — the model: parameter layout, forward, backward (see gpt.h).
 */
#include "model/gpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "model/layers.h"

const char *const gpt_part_names[GPT_NUM_PARTS] = {
    "embed+pe", "layernorm", "attn linear", "attention", "mlp", "residual", "loss",
};

/* Profiling: t0 holds the time of the previous lap; each lap charges the time
 * since then to `part`. A no-op unless m->profile.enabled. */
static double prof_now(const GPT *m) {
    if (!m->profile.enabled) return 0.0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static inline void prof_lap(GPT *m, GPTPart part, double *t0) {
    if (!m->profile.enabled) return;
    double t = prof_now(m);
    m->profile.seconds[part] += t - *t0;
    *t0 = t;
}

/* ------------------------------------------------------------------------
 * Configuration
 */

void gpt_config_default(GPTConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->C = 64;
    cfg->L = 2;
    cfg->NH = 4;
    cfg->F = 256;
    cfg->P = 64;
    snprintf(cfg->pe, sizeof cfg->pe, "rope");
    cfg->emb_scale = 1.0f;
    pe_settings_default(&cfg->pe_set); /* each encoding's defaults, from its own table */
}

PEConfig gpt_pe_config(const GPTConfig *cfg) {
    PEConfig pc = {
        .C = cfg->C, .NH = cfg->NH, .hs = cfg->C / cfg->NH, .L = cfg->L, .P = cfg->P,
        .set = cfg->pe_set,
        .rope_scaling = cfg->rope_scaling, .rope_scale = cfg->rope_scale, .rope_orig_len = cfg->rope_orig_len,
    };
    return pc;
}

int gpt_config_check(const GPTConfig *c) {
    if (c->V < 2) return core_errorf("model: vocabulary size must be >= 2, got %d", c->V);
    if (c->C < 1) return core_errorf("model.d_model: must be >= 1, got %d", c->C);
    if (c->L < 1) return core_errorf("model.n_layers: must be >= 1, got %d", c->L);
    if (c->NH < 1) return core_errorf("model.n_heads: must be >= 1, got %d", c->NH);
    if (c->C % c->NH)
        return core_errorf("model.n_heads: %d does not divide model.d_model (%d)", c->NH, c->C);
    if (c->F < 1) return core_errorf("model.d_ff: must be >= 1, got %d", c->F);
    if (c->P < 1) return core_errorf("model.max_positions: must be >= 1, got %d", c->P);
    if (!pe_find(c->pe)) {
        char names[PE_NAMES_MAX];
        pe_names(names, sizeof names);
        return core_errorf("model.pe: unknown position encoding \"%s\" (valid: %s)", c->pe, names);
    }
    if (!(c->emb_scale > 0.0f && isfinite(c->emb_scale)))
        return core_errorf("model.emb_scale: must be > 0, got %g", c->emb_scale);
    return 0;
}

/* ------------------------------------------------------------------------
 * Parameters: one buffer, named views
 */

static void param_sizes(const GPT *m, size_t sizes[GPT_NUM_PARAM_TENSORS]) {
    const size_t V = m->cfg.V, C = m->cfg.C, L = m->cfg.L, F = m->cfg.F;
    size_t s[GPT_NUM_PARAM_TENSORS] = {
        V * C,          /* wte */
        L * C, L * C,   /* ln1w, ln1b */
        L * 3 * C * C,  /* qkvw */
        L * 3 * C,      /* qkvb */
        L * C * C,      /* attprojw */
        L * C,          /* attprojb */
        L * C, L * C,   /* ln2w, ln2b */
        L * F * C,      /* fcw */
        L * F,          /* fcb */
        L * C * F,      /* fcprojw */
        L * C,          /* fcprojb */
        C, C,           /* lnfw, lnfb */
        V * C,          /* lmw */
        pe_num_params(&m->pe), /* pe */
    };
    memcpy(sizes, s, sizeof s);
}

static const char *const param_names[GPT_NUM_PARAM_TENSORS] = {
    "wte", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b",
    "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb", "lmw", "pe",
};
/* weight decay on the matrices of linear layers and the token embedding only */
static const int param_decay[GPT_NUM_PARAM_TENSORS] = {
    1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0,
};

static void point_params(ParamTensors *t, float *memory, const ParamInfo *info) {
    float **ptrs = (float **)t; /* ParamTensors is GPT_NUM_PARAM_TENSORS float* in order */
    for (int i = 0; i < GPT_NUM_PARAM_TENSORS; i++) ptrs[i] = memory + info[i].offset;
}

int gpt_build(GPT *m, const GPTConfig *cfg) {
    memset(m, 0, sizeof *m);
    if (gpt_config_check(cfg) != 0) return -1;
    m->cfg = *cfg;
    PEConfig pc = gpt_pe_config(cfg);
    if (pe_init(&m->pe, cfg->pe, &pc) != 0) return -1;

    size_t sizes[GPT_NUM_PARAM_TENSORS];
    param_sizes(m, sizes);
    size_t off = 0;
    for (int i = 0; i < GPT_NUM_PARAM_TENSORS; i++) {
        m->param_info[i] = (ParamInfo){param_names[i], off, sizes[i], param_decay[i]};
        off += sizes[i];
    }
    m->num_params = off;
    m->params_memory = core_calloc_big(off, sizeof(float));
    m->grads_memory = core_calloc_big(off, sizeof(float));
    point_params(&m->params, m->params_memory, m->param_info);
    point_params(&m->grads, m->grads_memory, m->param_info);
    m->pe.params = sizes[16] ? m->params.pe : NULL;
    m->pe.grads = sizes[16] ? m->grads.pe : NULL;
    m->mean_loss = -1.0f;
    return 0;
}

void gpt_init_params(GPT *m, uint64_t seed) {
    Rng rng;
    rng_seed(&rng, rng_derive(seed, 0x1417));
    const int L = m->cfg.L;
    const float std = 0.02f, std_res = 0.02f / sqrtf(2.0f * L);
    memset(m->params_memory, 0, m->num_params * sizeof(float));
    ParamTensors *p = &m->params;
    struct { float *w; size_t n; float std; } normal[] = {
        {p->wte, m->param_info[0].size, std},
        {p->qkvw, m->param_info[3].size, std},
        {p->attprojw, m->param_info[5].size, std_res},
        {p->fcw, m->param_info[9].size, std},
        {p->fcprojw, m->param_info[11].size, std_res},
        {p->lmw, m->param_info[15].size, std},
    };
    for (size_t t = 0; t < sizeof normal / sizeof normal[0]; t++)
        for (size_t i = 0; i < normal[t].n; i++) normal[t].w[i] = normal[t].std * rng_normal(&rng);
    for (size_t i = 0; i < m->param_info[1].size; i++) p->ln1w[i] = 1.0f;
    for (size_t i = 0; i < m->param_info[7].size; i++) p->ln2w[i] = 1.0f;
    for (size_t i = 0; i < m->param_info[13].size; i++) p->lnfw[i] = 1.0f;
    if (m->pe.params && m->pe.ops->init_params) m->pe.ops->init_params(&m->pe, m->pe.params, &rng);
}

/* ------------------------------------------------------------------------
 * Activations: views re-pointed for the current B x T inside the reserved buffer
 */

#define GPT_NUM_ACT_TENSORS 20

static size_t act_sizes(const GPTConfig *c, size_t BT, size_t BTT, size_t s[GPT_NUM_ACT_TENSORS]) {
    const size_t C = c->C, L = c->L, F = c->F, V = c->V, NH = c->NH;
    size_t v[GPT_NUM_ACT_TENSORS] = {
        BT * C,                       /* encoded */
        L * BT * C, L * BT, L * BT,   /* ln1, mean, rstd */
        L * BT * 3 * C,               /* qkv */
        L * BT * C,                   /* atty */
        L * NH * BTT,                 /* att */
        BT * C, L * BT * C,           /* proj (one layer's), residual2 */
        L * BT * C, L * BT, L * BT,   /* ln2, mean, rstd */
        L * BT * F,                   /* fch_gelu */
        L * BT * C,                   /* residual3 */
        BT * C, BT, BT,               /* lnf, mean, rstd */
        BT * V, BT * V,               /* logits, probs */
        BT,                           /* losses */
    };
    size_t total = 0;
    for (int i = 0; i < GPT_NUM_ACT_TENSORS; i++) total += (s[i] = v[i]);
    return total;
}

static void point_acts(GPT *m, int B, int T) {
    size_t s[GPT_NUM_ACT_TENSORS];
    act_sizes(&m->cfg, (size_t)B * T, (size_t)B * T * T, s);
    float **ptrs = (float **)&m->acts;
    float *p = m->acts_memory;
    for (int i = 0; i < GPT_NUM_ACT_TENSORS; i++) {
        ptrs[i] = p;
        p += s[i];
    }
}

/* dres, dc, the work area (dfch; or dqkv then datt), dlogits, dgelu */
#define GPT_NUM_SCRATCH 5
static size_t scratch_sizes(const GPTConfig *c, size_t BT, size_t BTT, size_t s[GPT_NUM_SCRATCH]) {
    const size_t mlp = BT * c->F, attn = BT * 3 * c->C + (size_t)c->NH * BTT;
    size_t v[GPT_NUM_SCRATCH] = {BT * c->C, BT * c->C, mlp > attn ? mlp : attn, BT * c->V, (size_t)c->L * BT * c->F};
    size_t total = 0;
    for (int i = 0; i < GPT_NUM_SCRATCH; i++) total += (s[i] = v[i]);
    return total;
}

static void point_scratch(GPT *m, int B, int T) {
    size_t s[GPT_NUM_SCRATCH];
    scratch_sizes(&m->cfg, (size_t)B * T, (size_t)B * T * T, s);
    GradScratch *g = &m->scratch;
    float *p = m->scratch_memory;
    g->dres = p, p += s[0];
    g->dc = p, p += s[1];
    g->dfch = g->dqkv = p, g->datt = p + (size_t)B * T * 3 * m->cfg.C, p += s[2];
    g->dlogits = p, p += s[3];
    g->dgelu = p;
}

void gpt_reserve(GPT *m, int B, int T, int training) {
    size_t bt = (size_t)B * T, btt = bt * T, s[GPT_NUM_ACT_TENSORS];
    if (pe_full_setup(&m->pe) != 0) { /* the encoding's full-path tables (FIRE's) */
        fprintf(stderr, "posenc: %s\n", core_error());
        abort();
    }
    if ((size_t)T > m->attn_scratch_T) {
        free(m->attn_scratch);
        m->attn_scratch = core_calloc_big(attention_scratch_floats(T, m->cfg.C, m->cfg.NH), sizeof(float));
        m->attn_scratch_T = T;
    }
    if (bt > m->acts_tokens || btt > m->acts_att) {
        if (bt < m->acts_tokens) bt = m->acts_tokens;
        if (btt < m->acts_att) btt = m->acts_att;
        free(m->acts_memory);
        m->acts_memory = core_calloc_big(act_sizes(&m->cfg, bt, btt, s), sizeof(float));
        free(m->live);
        m->live = core_calloc(bt, sizeof(int)); /* B <= B*T sequences */
        m->acts_tokens = bt;
        m->acts_att = btt;
    }
    bt = (size_t)B * T;
    btt = bt * T;
    if (training && (bt > m->scratch_tokens || btt > m->scratch_att)) {
        if (bt < m->scratch_tokens) bt = m->scratch_tokens;
        if (btt < m->scratch_att) btt = m->scratch_att;
        size_t ss[GPT_NUM_SCRATCH];
        free(m->scratch_memory);
        m->scratch_memory = core_calloc_big(scratch_sizes(&m->cfg, bt, btt, ss), sizeof(float));
        m->dgelu_ready = 0;
        m->scratch_tokens = bt;
        m->scratch_att = btt;
    }
}

int gpt_check_positions(const GPT *m, const int *pos, int n) {
    for (int i = 0; i < n; i++)
        if (pos[i] < 0 || pos[i] >= m->cfg.P)
            return core_errorf("position id %d is outside the model's range [0, %d): raise "
                             "model.max_positions to at least %d",
                             pos[i], m->cfg.P, pos[i] + 1);
    return 0;
}

/* ------------------------------------------------------------------------
 * Forward and backward
 */

float gpt_forward(GPT *m, const int *inputs, const int *targets, const int *pos, int B, int T) {
    const int C = m->cfg.C, L = m->cfg.L, NH = m->cfg.NH, F = m->cfg.F, V = m->cfg.V;
    const size_t N = (size_t)B * T;
    if (N > m->acts_tokens || N * T > m->acts_att || (size_t)T > m->attn_scratch_T) {
        fprintf(stderr, "posenc: internal error: forward at B=%d T=%d exceeds the reserved "
                        "activations (call gpt_reserve first)\n", B, T);
        abort();
    }
    m->B = B;
    m->T = T;
    point_acts(m, B, T);
    /* With targets, a row past the last counted target of its sequence is
     * padding no counted output depends on: the row kernels skip it
     * (layers.h, LiveRows). Without targets every row is live. */
    const LiveRows *rows = NULL;
    const int *live = NULL;
    if (targets) {
        for (int b = 0; b < B; b++) {
            int last = -1;
            for (int t = 0; t < T; t++)
                if (targets[(size_t)b * T + t] >= 0) last = t;
            m->live[b] = last + 1;
        }
        m->rows = (LiveRows){.B = B, .T = T, .live = m->live};
        rows = &m->rows;
        live = m->live;
    }
    /* a forward that backward may follow keeps GELU's derivative (scratch) */
    const int keep_grad = targets && m->scratch_memory && N <= m->scratch_tokens && N * T <= m->scratch_att;
    if (keep_grad) point_scratch(m, B, T);
    m->dgelu_ready = keep_grad;
    ParamTensors *p = &m->params;
    ActTensors *a = &m->acts;

    double t0 = prof_now(m);
    embed_forward(a->encoded, inputs, p->wte, m->cfg.emb_scale, N, C);
    if (m->pe.ops->embed_forward) m->pe.ops->embed_forward(&m->pe, a->encoded, pos, N);
    prof_lap(m, GPT_PART_EMBED, &t0);

    const float *residual = a->encoded;
    for (int l = 0; l < L; l++) {
        float *ln1 = a->ln1 + l * N * C, *ln1_mean = a->ln1_mean + l * N, *ln1_rstd = a->ln1_rstd + l * N;
        float *qkv = a->qkv + l * N * 3 * C, *atty = a->atty + l * N * C;
        float *att = a->att + l * N * NH * T, *proj = a->proj;
        float *residual2 = a->residual2 + l * N * C;
        float *ln2 = a->ln2 + l * N * C, *ln2_mean = a->ln2_mean + l * N, *ln2_rstd = a->ln2_rstd + l * N;
        float *fch_gelu = a->fch_gelu + l * N * F, *residual3 = a->residual3 + l * N * C;

        layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, p->ln1w + l * C, p->ln1b + l * C, N, C, rows);
        prof_lap(m, GPT_PART_LAYERNORM, &t0);
        matmul_forward(qkv, ln1, p->qkvw + (size_t)l * 3 * C * C, p->qkvb + l * 3 * C, N, C, 3 * C);
        prof_lap(m, GPT_PART_ATTN_LINEAR, &t0);
        attention_forward(atty, att, qkv, m->attn_scratch, &m->pe, pos, l, B, T, C, NH, live);
        prof_lap(m, GPT_PART_ATTENTION, &t0);
        matmul_forward(proj, atty, p->attprojw + (size_t)l * C * C, p->attprojb + l * C, N, C, C);
        prof_lap(m, GPT_PART_ATTN_LINEAR, &t0);
        residual_forward(residual2, residual, proj, N, C, rows);
        prof_lap(m, GPT_PART_RESIDUAL, &t0);
        layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, p->ln2w + l * C, p->ln2b + l * C, N, C, rows);
        prof_lap(m, GPT_PART_LAYERNORM, &t0);
        matmul_forward(fch_gelu, ln2, p->fcw + (size_t)l * F * C, p->fcb + l * F, N, C, F);
        gelu_forward(fch_gelu, keep_grad ? m->scratch.dgelu + l * N * F : NULL, fch_gelu, N, F, rows);
        matmul_forward(proj, fch_gelu, p->fcprojw + (size_t)l * C * F, p->fcprojb + l * C, N, F, C);
        prof_lap(m, GPT_PART_MLP, &t0);
        residual_forward(residual3, residual2, proj, N, C, rows);
        prof_lap(m, GPT_PART_RESIDUAL, &t0);
        residual = residual3;
    }
    layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, residual, p->lnfw, p->lnfb, N, C, rows);
    prof_lap(m, GPT_PART_LAYERNORM, &t0);
    matmul_forward(a->logits, a->lnf, p->lmw, NULL, N, C, V);
    int count = crossentropy_forward(a->probs, a->losses, a->logits, targets, N, V);
    prof_lap(m, GPT_PART_LOSS, &t0);

    m->num_targets = count;
    if (!targets) {
        m->mean_loss = -1.0f;
        return NAN;
    }
    double sum = 0.0;
    for (size_t n = 0; n < N; n++) sum += a->losses[n];
    m->mean_loss = count ? (float)(sum / count) : 0.0f;
    return m->mean_loss;
}

void gpt_zero_grad(GPT *m) { memset(m->grads_memory, 0, m->num_params * sizeof(float)); }

void gpt_backward(GPT *m, const int *inputs, const int *targets, const int *pos) {
    const int B = m->B, T = m->T;
    const int C = m->cfg.C, L = m->cfg.L, NH = m->cfg.NH, F = m->cfg.F, V = m->cfg.V;
    const size_t N = (size_t)B * T;
    if (m->mean_loss < 0.0f || !m->dgelu_ready || N > m->scratch_tokens || N * T > m->scratch_att ||
        (size_t)T > m->attn_scratch_T) {
        fprintf(stderr, "posenc: internal error: backward needs a forward with targets and "
                        "training scratch reserved for B=%d T=%d\n", B, T);
        abort();
    }
    point_scratch(m, B, T);
    ParamTensors *p = &m->params, *g = &m->grads;
    ActTensors *a = &m->acts;
    GradScratch *s = &m->scratch;
    const LiveRows *rows = &m->rows; /* the forward's (it had targets) */
    const int *live = m->live;

    double t0 = prof_now(m);
    memset(s->dlogits, 0, N * V * sizeof(float));
    crossentropy_backward(s->dlogits, a->probs, targets, m->num_targets, N, V);
    memset(s->dc, 0, N * C * sizeof(float));
    matmul_backward(s->dc, g->lmw, NULL, s->dlogits, a->lnf, p->lmw, N, C, V, rows);
    prof_lap(m, GPT_PART_LOSS, &t0);
    const float *last = a->residual3 + (L - 1) * N * C;
    memset(s->dres, 0, N * C * sizeof(float));
    layernorm_backward(s->dres, g->lnfw, g->lnfb, s->dc, last, p->lnfw, a->lnf_mean, a->lnf_rstd, N, C, rows);
    prof_lap(m, GPT_PART_LAYERNORM, &t0);

    for (int l = L - 1; l >= 0; l--) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (l - 1) * N * C;
        float *ln1 = a->ln1 + l * N * C, *ln1_mean = a->ln1_mean + l * N, *ln1_rstd = a->ln1_rstd + l * N;
        float *qkv = a->qkv + l * N * 3 * C, *atty = a->atty + l * N * C;
        float *att = a->att + l * N * NH * T;
        float *residual2 = a->residual2 + l * N * C;
        float *ln2 = a->ln2 + l * N * C, *ln2_mean = a->ln2_mean + l * N, *ln2_rstd = a->ln2_rstd + l * N;
        float *fch_gelu = a->fch_gelu + l * N * F;

        /* residual3 = residual2 + fcproj: dres is d residual3, = d fcproj */
        memset(s->dfch, 0, N * F * sizeof(float));
        matmul_backward(s->dfch, g->fcprojw + (size_t)l * C * F, g->fcprojb + l * C, s->dres, fch_gelu,
                        p->fcprojw + (size_t)l * C * F, N, F, C, rows);
        /* fch_gelu = gelu(fch): dfch becomes d fch, in place (every row written) */
        gelu_backward(s->dfch, s->dgelu + l * N * F, s->dfch, N, F, rows);
        /* fch = ln2 @ fcw^T + fcb */
        memset(s->dc, 0, N * C * sizeof(float));
        matmul_backward(s->dc, g->fcw + (size_t)l * F * C, g->fcb + l * F, s->dfch, ln2, p->fcw + (size_t)l * F * C,
                        N, C, F, rows);
        prof_lap(m, GPT_PART_MLP, &t0);
        /* ln2 = layernorm(residual2): dres becomes d residual2 */
        layernorm_backward(s->dres, g->ln2w + l * C, g->ln2b + l * C, s->dc, residual2, p->ln2w + l * C, ln2_mean,
                           ln2_rstd, N, C, rows);
        prof_lap(m, GPT_PART_LAYERNORM, &t0);
        /* residual2 = residual + attproj: dres is d attproj */
        memset(s->dc, 0, N * C * sizeof(float));
        matmul_backward(s->dc, g->attprojw + (size_t)l * C * C, g->attprojb + l * C, s->dres, atty,
                        p->attprojw + (size_t)l * C * C, N, C, C, rows);
        prof_lap(m, GPT_PART_ATTN_LINEAR, &t0);
        /* atty = attention(qkv) */
        attention_backward(s->dqkv, s->datt, m->attn_scratch, s->dc, qkv, att, &m->pe, pos, l, B, T, C, NH, live);
        prof_lap(m, GPT_PART_ATTENTION, &t0);
        /* qkv = ln1 @ qkvw^T + qkvb */
        memset(s->dc, 0, N * C * sizeof(float));
        matmul_backward(s->dc, g->qkvw + (size_t)l * 3 * C * C, g->qkvb + l * 3 * C, s->dqkv, ln1,
                        p->qkvw + (size_t)l * 3 * C * C, N, C, 3 * C, rows);
        prof_lap(m, GPT_PART_ATTN_LINEAR, &t0);
        /* ln1 = layernorm(residual): dres becomes d residual */
        layernorm_backward(s->dres, g->ln1w + l * C, g->ln1b + l * C, s->dc, residual, p->ln1w + l * C, ln1_mean,
                           ln1_rstd, N, C, rows);
        prof_lap(m, GPT_PART_LAYERNORM, &t0);
    }
    /* encoded = wte[inputs] * scale (+ PE(pos)) */
    if (m->pe.ops->embed_backward) m->pe.ops->embed_backward(&m->pe, s->dres, pos, N);
    embed_backward(g->wte, s->dres, inputs, m->cfg.emb_scale, N, C);
    prof_lap(m, GPT_PART_EMBED, &t0);
}

double gpt_estimate_bytes(const GPTConfig *cfg, int train_B, int train_T, int eval_B, int eval_T,
                          double *param_bytes) {
    if (gpt_config_check(cfg) != 0) return 0;
    /* the parameter count without allocating them: sizes of a model with no buffers */
    GPT m;
    memset(&m, 0, sizeof m);
    m.cfg = *cfg;
    PEConfig pc = gpt_pe_config(cfg);
    if (pe_init(&m.pe, cfg->pe, &pc) != 0) return 0;
    size_t sizes[GPT_NUM_PARAM_TENSORS], np = 0;
    param_sizes(&m, sizes);
    const double pe_state = (double)pe_state_bytes(&m.pe) + (train_B > 0 ? (double)pe_full_bytes(&m.pe) : 0.0);
    pe_free(&m.pe);
    for (int i = 0; i < GPT_NUM_PARAM_TENSORS; i++) np += sizes[i];
    const double params = (double)np * (train_B > 0 ? 4 : 2);
    size_t s[GPT_NUM_ACT_TENSORS], ss[GPT_NUM_SCRATCH];
    size_t tbt = (size_t)train_B * train_T;
    double floats = params;
    if (train_B > 0) /* the full path: activations, attention's scratch, live rows (one int per token), backward */
        floats += (double)act_sizes(cfg, tbt, tbt * train_T, s) +
                  (double)attention_scratch_floats(train_T, cfg->C, cfg->NH) + (double)tbt +
                  (double)scratch_sizes(cfg, tbt, tbt * train_T, ss);
    if (param_bytes) *param_bytes = params * sizeof(float);
    const double infer =
        eval_B > 0 && eval_T > 0 ? gpt_infer_bytes(cfg, (long)eval_B * eval_T, eval_B, eval_T, par_threads()) : 0.0;
    return floats * sizeof(float) + pe_state + infer;
}

size_t gpt_reserved_bytes(const GPT *m) {
    size_t s[GPT_NUM_ACT_TENSORS], ss[GPT_NUM_SCRATCH];
    size_t floats = 2 * m->num_params;
    if (m->acts_memory) floats += act_sizes(&m->cfg, m->acts_tokens, m->acts_att, s);
    if (m->scratch_memory) floats += scratch_sizes(&m->cfg, m->scratch_tokens, m->scratch_att, ss);
    if (m->attn_scratch) floats += attention_scratch_floats((int)m->attn_scratch_T, m->cfg.C, m->cfg.NH);
    if (m->live) floats += m->acts_tokens; /* live rows: one int per token */
    size_t bytes = floats * sizeof(float) + pe_state_bytes(&m->pe) + (m->acts_memory ? pe_full_bytes(&m->pe) : 0);
    if (m->inf_memory) bytes += (size_t)gpt_infer_bytes(&m->cfg, m->inf_tokens, m->inf_B, m->inf_T, m->inf_parts);
    return bytes;
}

int gpt_set_rope_scaling(GPT *m, int scaling, float s, int orig_len) {
    if (scaling != PE_ROPE_SCALING_NONE && !pe_has(m->cfg.pe, PE_SCALABLE))
        return core_errorf("RoPE scaling %s needs a model trained with rope; this one uses %s",
                         pe_rope_scaling_name(scaling) ? pe_rope_scaling_name(scaling) : "?", m->cfg.pe);
    GPTConfig c = m->cfg;
    c.rope_scaling = scaling;
    c.rope_scale = scaling == PE_ROPE_SCALING_NONE ? 0.0f : s;
    c.rope_orig_len = scaling == PE_ROPE_SCALING_NONE ? 0 : orig_len;
    PEConfig pc = gpt_pe_config(&c);
    PE fresh;
    if (pe_init(&fresh, c.pe, &pc) != 0) return -1;
    fresh.params = m->pe.params;
    fresh.grads = m->pe.grads;
    if (m->acts_memory && pe_full_setup(&fresh) != 0) {
        pe_free(&fresh);
        return -1;
    }
    pe_free(&m->pe);
    m->pe = fresh;
    m->cfg = c;
    return 0;
}

/* ------------------------------------------------------------------------
 * Incremental decoding with a key/value cache
 */

#define GPT_NUM_CACHE_TENSORS 12
static size_t cache_sizes(const GPTConfig *g, size_t cap, size_t s[GPT_NUM_CACHE_TENSORS]) {
    const size_t C = g->C, L = g->L, F = g->F, V = g->V;
    size_t v[GPT_NUM_CACHE_TENSORS] = {
        L * cap * C, L * cap * C,   /* kt, v */
        C, C, C, 3 * C, C, C,       /* x, x2, ln, qkv, atty, proj */
        F, F,                       /* fch, fch_gelu */
        cap,                        /* row */
        2 * V,                      /* logits, probs */
    };
    size_t total = 0;
    for (int i = 0; i < GPT_NUM_CACHE_TENSORS; i++) total += (s[i] = v[i]);
    return total;
}

int gpt_cache_init(GPTCache *c, const GPT *m, int cap) {
    memset(c, 0, sizeof *c);
    if (cap < 1) return core_errorf("decoding cache: capacity must be >= 1, got %d", cap);
    size_t s[GPT_NUM_CACHE_TENSORS];
    c->memory = core_calloc_big(cache_sizes(&m->cfg, (size_t)cap, s), sizeof(float));
    c->pos = core_calloc((size_t)cap, sizeof(int));
    float **ptrs[GPT_NUM_CACHE_TENSORS] = {&c->kt, &c->v, &c->x, &c->x2, &c->ln, &c->qkv,
                                           &c->atty, &c->proj, &c->fch, &c->fch_gelu, &c->row, &c->logits};
    float *p = c->memory;
    for (int i = 0; i < GPT_NUM_CACHE_TENSORS; i++) {
        *ptrs[i] = p;
        p += s[i];
    }
    c->probs = c->logits + m->cfg.V;
    c->cap = cap;
    return 0;
}

void gpt_cache_reset(GPTCache *c) { c->len = 0; }

int gpt_decode_step(GPT *m, GPTCache *c, int token, int p) {
    const int C = m->cfg.C, L = m->cfg.L, NH = m->cfg.NH, F = m->cfg.F, V = m->cfg.V;
    if (c->len >= c->cap) return core_errorf("decoding cache: full (%d tokens)", c->cap);
    if (token < 0 || token >= V) return core_errorf("decoding: token %d is outside [0, %d)", token, V);
    if (gpt_check_positions(m, &p, 1) != 0) return -1;
    const int i = c->len;
    const size_t layer_kv = (size_t)c->cap * C; /* floats of one layer's keys (or values) */
    ParamTensors *w = &m->params;
    float mean, rstd, loss;
    c->pos[i] = p;
    embed_forward(c->x, &token, w->wte, m->cfg.emb_scale, 1, C);
    if (m->pe.ops->embed_forward) m->pe.ops->embed_forward(&m->pe, c->x, &c->pos[i], 1);
    for (int l = 0; l < L; l++) {
        layernorm_forward(c->ln, &mean, &rstd, c->x, w->ln1w + l * C, w->ln1b + l * C, 1, C, NULL);
        matmul_forward(c->qkv, c->ln, w->qkvw + (size_t)l * 3 * C * C, w->qkvb + l * 3 * C, 1, C, 3 * C);
        attention_decode(c->atty, c->row, c->qkv, c->kt + l * layer_kv, c->v + l * layer_kv, c->cap, &m->pe, c->pos,
                         l, i, C, NH);
        matmul_forward(c->proj, c->atty, w->attprojw + (size_t)l * C * C, w->attprojb + l * C, 1, C, C);
        residual_forward(c->x2, c->x, c->proj, 1, C, NULL);
        layernorm_forward(c->ln, &mean, &rstd, c->x2, w->ln2w + l * C, w->ln2b + l * C, 1, C, NULL);
        matmul_forward(c->fch, c->ln, w->fcw + (size_t)l * F * C, w->fcb + l * F, 1, C, F);
        gelu_forward(c->fch_gelu, NULL, c->fch, 1, F, NULL);
        matmul_forward(c->proj, c->fch_gelu, w->fcprojw + (size_t)l * C * F, w->fcprojb + l * C, 1, F, C);
        residual_forward(c->x, c->x2, c->proj, 1, C, NULL);
    }
    layernorm_forward(c->ln, &mean, &rstd, c->x, w->lnfw, w->lnfb, 1, C, NULL);
    matmul_forward(c->logits, c->ln, w->lmw, NULL, 1, C, V);
    crossentropy_forward(c->probs, &loss, c->logits, NULL, 1, V);
    c->len = i + 1;
    return 0;
}

void gpt_cache_free(GPTCache *c) {
    free(c->memory);
    free(c->pos);
    memset(c, 0, sizeof *c);
}

void gpt_free(GPT *m) {
    pe_free(&m->pe);
    free(m->params_memory);
    free(m->grads_memory);
    free(m->acts_memory);
    free(m->scratch_memory);
    free(m->attn_scratch);
    free(m->live);
    free(m->inf_memory);
    free(m->inf_live);
    free(m->inf_scratch);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------
 * The inference path
 */

#define GPT_NUM_INF_TENSORS 12
/* Sizes for N tokens in B rows of T (kt < 0: room for any B' <= B rows of
 * T' <= T tokens with B' T' <= N: ld(T') <= T' + 15, attention_infer_kt_floats). */
static size_t inf_sizes(const GPTConfig *c, size_t N, size_t B, size_t T, int exact, size_t s[GPT_NUM_INF_TENSORS]) {
    const size_t C = c->C, F = c->F, V = c->V;
    size_t v[GPT_NUM_INF_TENSORS] = {
        N * C, N * C, N * C, N, N, /* x, x2, ln, mean, rstd */
        N * 3 * C, N * C, N * C,   /* qkv, atty, proj */
        N * F,                     /* fch */
        exact ? attention_infer_kt_floats((int)B, (int)T, (int)C) : C * (N + 16 * B), /* kt */
        N * V, N * V,              /* logits, probs */
    };
    size_t total = N; /* losses */
    for (int i = 0; i < GPT_NUM_INF_TENSORS; i++) total += (s[i] = v[i]);
    return total;
}

double gpt_infer_bytes(const GPTConfig *cfg, long tokens, int B, int T, int threads) {
    size_t s[GPT_NUM_INF_TENSORS];
    PE pe = {.ops = pe_find(cfg->pe)}; /* attention's scratch depends on the encoding's hooks only */
    if (!pe.ops) return 0;
    const double floats = (double)inf_sizes(cfg, (size_t)tokens, (size_t)B, (size_t)T, 0, s) +
                          (double)attention_infer_scratch_floats(T, cfg->NH, threads, &pe);
    return floats * sizeof(float) + (double)B * sizeof(int);
}

void gpt_reserve_infer(GPT *m, int B, int T) {
    const int parts = par_threads();
    const long N = (long)B * T;
    if (N <= m->inf_tokens && B <= m->inf_B && T <= m->inf_T && parts <= m->inf_parts) return;
    const long tokens = N > m->inf_tokens ? N : m->inf_tokens;
    B = B > m->inf_B ? B : m->inf_B;
    T = T > m->inf_T ? T : m->inf_T;
    size_t s[GPT_NUM_INF_TENSORS];
    free(m->inf_memory);
    free(m->inf_live);
    free(m->inf_scratch);
    m->inf_memory = core_calloc_big(inf_sizes(&m->cfg, (size_t)tokens, (size_t)B, (size_t)T, 0, s), sizeof(float));
    m->inf_live = core_calloc((size_t)B, sizeof(int));
    m->inf_scratch = core_calloc_big(attention_infer_scratch_floats(T, m->cfg.NH, parts, &m->pe), sizeof(float));
    m->inf_tokens = tokens;
    m->inf_B = B;
    m->inf_T = T;
    m->inf_parts = parts;
}

/* The views of m->inf for B x T (inside the capacity: every size at most its
 * counterpart's in the reservation). */
static void point_inf(GPT *m, int B, int T) {
    size_t s[GPT_NUM_INF_TENSORS];
    inf_sizes(&m->cfg, (size_t)B * T, (size_t)B, (size_t)T, 1, s);
    float **ptrs[GPT_NUM_INF_TENSORS] = {&m->inf.x, &m->inf.x2, &m->inf.ln, &m->inf.mean, &m->inf.rstd,
                                         &m->inf.qkv, &m->inf.atty, &m->inf.proj, &m->inf.fch, &m->inf.kt,
                                         &m->inf.logits, &m->inf.probs};
    float *p = m->inf_memory;
    for (int i = 0; i < GPT_NUM_INF_TENSORS; i++) {
        *ptrs[i] = p;
        p += s[i];
    }
    m->inf.losses = p;
}

float gpt_infer(GPT *m, const int *inputs, const int *targets, const int *pos, int B, int T) {
    const int C = m->cfg.C, L = m->cfg.L, NH = m->cfg.NH, F = m->cfg.F, V = m->cfg.V;
    const size_t N = (size_t)B * T;
    if ((long)B * T > m->inf_tokens || B > m->inf_B || T > m->inf_T || (m->probe.att && B != 1)) {
        fprintf(stderr, "posenc: internal error: inference at B=%d T=%d exceeds the reservation (%ld tokens, "
                        "B <= %d, T <= %d: call gpt_reserve_infer first)%s\n", B, T, m->inf_tokens, m->inf_B,
                m->inf_T, m->probe.att && B != 1 ? ", or a probe with B > 1" : "");
        abort();
    }
    m->B = B;
    m->T = T;
    point_inf(m, B, T);
    /* live rows as gpt_forward's (layers.h, LiveRows) */
    LiveRows lr;
    const LiveRows *rows = NULL;
    const int *live = NULL;
    if (targets) {
        for (int b = 0; b < B; b++) {
            int last = -1;
            for (int t = 0; t < T; t++)
                if (targets[(size_t)b * T + t] >= 0) last = t;
            m->inf_live[b] = last + 1;
        }
        lr = (LiveRows){.B = B, .T = T, .live = m->inf_live};
        rows = &lr;
        live = m->inf_live;
    }
    m->dgelu_ready = 0; /* no backward after this */
    ParamTensors *p = &m->params;
    InferTensors *a = &m->inf;
    const GPTProbe *pr = &m->probe;
    const size_t probe_layer = (size_t)(pr->head < 0 ? NH : 1) * T * T; /* floats of one layer's probe */

    double t0 = prof_now(m);
    embed_forward(a->x, inputs, p->wte, m->cfg.emb_scale, N, C);
    if (m->pe.ops->embed_forward) m->pe.ops->embed_forward(&m->pe, a->x, pos, N);
    prof_lap(m, GPT_PART_EMBED, &t0);
    /* gpt_forward's layer with residual = x, residual2 = x2, residual3 = x again */
    for (int l = 0; l < L; l++) {
        float *probe = NULL;
        if (pr->att && (pr->layer < 0 || pr->layer == l)) probe = pr->att + (pr->layer < 0 ? l * probe_layer : 0);
        layernorm_forward(a->ln, a->mean, a->rstd, a->x, p->ln1w + l * C, p->ln1b + l * C, N, C, rows);
        prof_lap(m, GPT_PART_LAYERNORM, &t0);
        matmul_forward(a->qkv, a->ln, p->qkvw + (size_t)l * 3 * C * C, p->qkvb + l * 3 * C, N, C, 3 * C);
        prof_lap(m, GPT_PART_ATTN_LINEAR, &t0);
        attention_infer(a->atty, a->qkv, a->kt, m->inf_scratch, m->inf_parts, &m->pe, pos, l, B, T, C, NH, live, probe,
                        pr->head);
        prof_lap(m, GPT_PART_ATTENTION, &t0);
        matmul_forward(a->proj, a->atty, p->attprojw + (size_t)l * C * C, p->attprojb + l * C, N, C, C);
        prof_lap(m, GPT_PART_ATTN_LINEAR, &t0);
        residual_forward(a->x2, a->x, a->proj, N, C, rows);
        prof_lap(m, GPT_PART_RESIDUAL, &t0);
        layernorm_forward(a->ln, a->mean, a->rstd, a->x2, p->ln2w + l * C, p->ln2b + l * C, N, C, rows);
        prof_lap(m, GPT_PART_LAYERNORM, &t0);
        matmul_forward(a->fch, a->ln, p->fcw + (size_t)l * F * C, p->fcb + l * F, N, C, F);
        gelu_forward(a->fch, NULL, a->fch, N, F, rows);
        matmul_forward(a->proj, a->fch, p->fcprojw + (size_t)l * C * F, p->fcprojb + l * C, N, F, C);
        prof_lap(m, GPT_PART_MLP, &t0);
        residual_forward(a->x, a->x2, a->proj, N, C, rows);
        prof_lap(m, GPT_PART_RESIDUAL, &t0);
    }
    layernorm_forward(a->ln, a->mean, a->rstd, a->x, p->lnfw, p->lnfb, N, C, rows);
    prof_lap(m, GPT_PART_LAYERNORM, &t0);
    matmul_forward(a->logits, a->ln, p->lmw, NULL, N, C, V);
    int count = crossentropy_forward(a->probs, a->losses, a->logits, targets, N, V);
    prof_lap(m, GPT_PART_LOSS, &t0);

    memset(&m->acts, 0, sizeof m->acts); /* the outputs are views into the inference buffer */
    m->acts.logits = a->logits;
    m->acts.probs = a->probs;
    m->acts.losses = a->losses;
    m->num_targets = count;
    if (!targets) {
        m->mean_loss = -1.0f;
        return NAN;
    }
    double sum = 0.0;
    for (size_t n = 0; n < N; n++) sum += a->losses[n];
    m->mean_loss = count ? (float)(sum / count) : 0.0f;
    return m->mean_loss;
}

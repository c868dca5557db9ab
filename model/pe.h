/*
 * pe.h — position encodings as pluggable modules.
 *
 * A position encoding is an ops table (PEOps) chosen by name from a registry
 * (pe_registry.c). It may act at any of three places in the model, each a
 * hook with its backward:
 *
 *   1. embed:  x[t] += PE(pos[t])                after the token embedding
 *   2. qk:     q, k of every head transformed      (e.g. RoPE rotation)
 *   3. bias:   score[i, j] += bias(h, pos[i], pos[j])   before the softmax
 *
 * Every hook receives explicit position ids per token, which need not be
 * 0..T-1 (randomized positions, scaled positions at evaluation, ...).
 * A module may own trainable parameters: it reports their count and the
 * model places them in the shared parameter buffer (so gradients and the
 * AdamW moments get the same layout automatically) and hands the module a
 * pointer to its slice. Hooks a module does not need are NULL.
 *
 * Adding an encoding = one file (pe_<name>.c) defining a `const PEOps`, plus
 * one line in the registry table.
 */
#ifndef POSENC_PE_H
#define POSENC_PE_H

#include <stddef.h>

#include "common.h"

/* Everything a module may need to know about the model it is part of. */
typedef struct {
    int C;        /* channels */
    int NH;       /* heads */
    int hs;       /* head size = C/NH */
    int L;        /* layers */
    int P;        /* position table size: position ids must lie in [0, P) */
    float rope_base;     /* RoPE base (default 10000) */
    float rope_fraction; /* fraction of each head's dimensions rotated (default 1) */
    /* RoPE scaling at evaluation (pe_rope.c; ignored by other encodings; all
     * zero = none, the trained model as it is): */
    int rope_scaling;    /* PERopeScaling */
    float rope_scale;    /* the factor s >= 1 (used unless rope_scaling is none) */
    int rope_orig_len;   /* the original context (YaRN's original_max_position_embeddings):
                            the longest training input, >= 1 for yarn */
} PEConfig;

/* RoPE context-extension methods applied to a RoPE-trained model at
 * evaluation (SPEC §4). For rotated pair i (R dims, i = 0..R/2-1) with
 * w_i = base^(-2i/R), the angle at position p becomes p * w'_i where
 *   none  w'_i = w_i
 *   pi    w'_i = w_i / s                       (position interpolation, Chen et al. 2023)
 *   ntk   w'_i = base'^(-2i/R), base' = base * s^(R/(R-2))   ("NTK-aware", bloc97 2023)
 *   yarn  w'_i = w_i * (1 - g_i) / s + w_i * g_i  (Peng et al. 2023, "NTK-by-parts"), where
 *         g_i = 1 - clamp((i - lo)/(hi - lo), 0, 1), lo = max(floor(d(32)), 0),
 *         hi = min(ceil(d(1)), R - 1) (hi += 0.001 if equal to lo), and
 *         d(r) = R * ln(L / (2 pi r)) / (2 ln base), L = rope_orig_len: pairs that turn
 *         more than beta_fast = 32 times over the original context keep w_i, pairs that
 *         turn less than beta_slow = 1 time are interpolated (w_i / s), a linear ramp between;
 *         and cos/sin are multiplied by the attention factor m = 0.1 ln s + 1 (s > 1), so
 *         that q.k, i.e. every attention logit, is multiplied by m^2 — as in the YaRN
 *         reference code and HF transformers (attention_scaling on cos and sin). */
typedef enum {
    PE_ROPE_SCALING_NONE = 0,
    PE_ROPE_SCALING_PI,
    PE_ROPE_SCALING_NTK,
    PE_ROPE_SCALING_YARN,
    PE_ROPE_SCALING_COUNT
} PERopeScaling;

/* "none", "pi", "ntk", "yarn" (NULL out of range). */
const char *pe_rope_scaling_name(int scaling);
/* The PERopeScaling called `name`, or -1. */
int pe_rope_scaling_find(const char *name);

/* The per-pair angular frequencies w'_i (R/2 of them, R = rotated dims) of
 * RoPE under cfg's scaling, and the factor cos/sin are multiplied by (1 but
 * for yarn). freqs needs room for hs/2. Returns R/2, or -1 with an error
 * (bad rope_fraction/base, s < 1, yarn without rope_orig_len). */
int pe_rope_frequencies(const PEConfig *cfg, double *freqs, double *mscale);

/* A module instance: its ops, its configuration, precomputed tables owned by
 * the module (freed by pe_free), and its slice of the parameter buffer. */
typedef struct PE PE;
typedef struct PEOps PEOps;

struct PE {
    const PEOps *ops;
    PEConfig cfg;
    void *state;     /* module-private precomputed tables (optional) */
    float *params;   /* its trainable parameters inside the model buffer, or NULL */
    float *grads;    /* matching gradient slice, or NULL */
};

struct PEOps {
    const char *name;
    const char *summary;  /* one line for --help */

    /* Number of trainable floats (optional: NULL means 0). */
    size_t (*num_params)(const PEConfig *cfg);
    /* Initialise the trainable parameters (optional). */
    void (*init_params)(const PE *pe, float *params, Rng *rng);
    /* Build precomputed tables into pe->state (optional). Returns 0 or
     * an error via pe_errorf. */
    int (*setup)(PE *pe);
    /* Free pe->state (optional; default free()). */
    void (*teardown)(PE *pe);

    /* Hook 1 (optional): x (N, C) += PE(pos[n]) for every token n. */
    void (*embed_forward)(const PE *pe, float *x, const int *pos, int N);
    /* Backward of hook 1: accumulate into pe->grads given dx (N, C). */
    void (*embed_backward)(const PE *pe, const float *dx, const int *pos, int N);

    /* Hook 2 (optional): transform one head vector x (hs) of a query
     * (is_key = 0) or key (is_key = 1) at position p, in place. */
    void (*qk_forward)(const PE *pe, float *x, int p, int is_key);
    /* Backward of hook 2: dx (hs) <- J^T dx, in place (J = d out / d in). */
    void (*qk_backward)(const PE *pe, float *dx, int p, int is_key);

    /* Hook 3 (optional): for query i of head h in layer l, add the bias
     * b(h, pos[i], pos[j]) to row[j] for j = 0..i (causal). */
    void (*bias_forward)(const PE *pe, float *row, int l, int h, const int *pos, int i);
    /* Backward of hook 3: accumulate d bias = drow[j] into pe->grads. */
    void (*bias_backward)(const PE *pe, const float *drow, int l, int h, const int *pos, int i);
};

/* Registry. */
const PEOps *pe_find(const char *name);
/* Comma-separated list of valid names, e.g. "none, sinusoidal, ...". */
const char *pe_names(void);
int pe_count(void);
const PEOps *pe_at(int i);

/* Look up `name`, fill the instance and run setup. On an unknown name the
 * error lists the valid ones. Parameters are attached later (pe_attach). */
int pe_init(PE *pe, const char *name, const PEConfig *cfg);
size_t pe_num_params(const PE *pe);
void pe_free(PE *pe);

/* ALiBi slopes as in Press et al.'s get_slopes, for any head count
 * (exported for tests and for `posenc show`). */
void pe_alibi_slopes(float *slopes, int NH);

#endif

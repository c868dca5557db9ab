/*
 * pe.h — position encodings as pluggable modules.
 *
 * A position encoding is an ops table (PEOps) chosen by name from a registry
 * (pe_registry.c). It may act at any of three places in the model, each a
 * hook with its backward:
 *
 *   1. embed:  x[t] += PE(pos[t])                after the token embedding
 *   2. qk:     q, k of every head transformed      (e.g. RoPE rotation)
 *   3. bias:   score[i, j] += bias(l, h, pos[i], pos[j])   before the softmax
 *
 * A bias that is expensive per element (FIRE: a small MLP per (i, j)) may
 * precompute it once per attention call instead: bias_prepare runs once,
 * serially, before the first bias_forward of layer l, and may fill a table
 * over the (pos[i], pos[i] - pos[j]) pairs that can occur (positions < P) in
 * pe->state; bias_forward then only looks the table up. In backward,
 * bias_backward accumulates d bias into a matching gradient table and
 * bias_reduce, called once after the last bias_backward of layer l, reduces it
 * into pe->grads (and leaves the gradient table zero). Tables are allocated
 * in setup (sized by P), or, when only the full path needs them and they grow
 * faster than P, in full_setup (gpt_reserve for the full path): nothing is
 * allocated in a forward or backward pass.
 * Incremental decoding (one query at a time against cached keys) prepares
 * with bias_prepare_query where a module defines it (FIRE: one table row);
 * the inference path (attention_infer) with bias_prepare_rows and computes
 * every head's bias of a query with bias_rows (FIRE), so that it holds
 * nothing of size P x P.
 * Hooks with trainable bias parameters run their backward on one thread
 * (layers.c), so bias_backward and bias_reduce need no locking; bias_forward
 * runs concurrently for different (batch, head) units and must only read.
 *
 * Every hook receives explicit position ids per token, which need not be
 * 0..T-1 (randomized positions, scaled positions at evaluation, ...).
 * A module may own trainable parameters: it reports their count and the
 * model places them in the shared parameter buffer (so gradients and the
 * AdamW moments get the same layout automatically) and hands the module a
 * pointer to its slice. Hooks a module does not need are NULL.
 *
 * Adding an encoding = one file (pe_<name>.c) defining a `const PEOps` (with
 * its settings, if it has any: they become config keys), plus one line in
 * the registry table.
 */
#ifndef POSENC_PE_H
#define POSENC_PE_H

#include <stddef.h>

#include "core/error.h"
#include "core/rng.h"

/* ---- settings: each encoding's own config keys ---------------------------
 *
 * An encoding declares the settings it reads as a table of PESetting rows
 * (name, type, default, valid range, help line): `posenc` turns each into the
 * config key model.<name> (run/config.c), lists them in `posenc config --keys`
 * and in docs/CONFIG.md's table of config keys, all from the registry. A setting
 * read by several encodings is one row, defined by one module and listed (by
 * pointer) by the others (xPos lists RoPE's rope_base), so every default is
 * in one place. The values of all encodings' settings travel together in a
 * PESettings, one slot per distinct row in registry order (pe_setting_slot);
 * a module reads its own with pe_setting(cfg, &row). A value other than the
 * default for a setting the chosen encoding does not read is an error
 * (run/config.c; a sweep's job puts it back to the default instead,
 * config_for_job), and a resolved config.json lists every setting.
 */
#define PE_MAX_SETTINGS 16

typedef enum { PE_SETTING_INT, PE_SETTING_FLOAT } PESettingType;

typedef struct {
    const char *name;    /* the config key is model.<name> */
    PESettingType type;  /* int: an integer; float: a 32-bit float */
    double def;          /* default */
    double lo, hi;       /* valid range, inclusive (hi may be INFINITY) ... */
    int lo_open;         /* ... but (lo, hi] when set */
    const char *help;    /* one line: what it means (the range is printed from lo, hi) */
} PESetting;

/* Every setting's value by slot; a float setting holds a float's value. */
typedef struct {
    double v[PE_MAX_SETTINGS];
} PESettings;

/* Everything a module may need to know about the model it is part of. */
typedef struct {
    int C;        /* channels */
    int NH;       /* heads */
    int hs;       /* head size = C/NH */
    int L;        /* layers */
    int P;        /* position table size: position ids must lie in [0, P) */
    PESettings set; /* the encodings' settings (read with pe_setting) */
    /* RoPE scaling at evaluation (pe_rope.c; only for encodings with
     * PE_SCALABLE; all zero = none, the trained model as it is): */
    int rope_scaling;    /* PERopeScaling */
    float rope_scale;    /* the factor s >= 1 (used unless rope_scaling is none) */
    int rope_orig_len;   /* the original context (YaRN's original_max_position_embeddings):
                            the longest training input, >= 1 for yarn */
} PEConfig;

/* Properties of an encoding, for code outside model/ that must treat
 * encodings differently (never by comparing names): */
enum {
    /* trained parameters indexed by position (rows 0..P-1): the model cannot
     * be rebuilt for positions >= model.max_positions (learned) */
    PE_TRAINED_POSITIONS = 1 << 0,
    /* RoPE's evaluation-time scaling (PERopeScaling) applies */
    PE_SCALABLE = 1 << 1,
};

/* The value of setting `s` in cfg (s must be a row of a registered encoding). */
double pe_setting(const PEConfig *cfg, const PESetting *s);
/* RoPE's base, shared with xPos. */
extern const PESetting pe_rope_base_setting;

/* RoPE context-extension methods applied to a RoPE-trained model at
 * evaluation (docs/SPEC.md §4). For rotated pair i (R dims, i = 0..R/2-1) with
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


/* A named trainable tensor of a module, for checkpoints and `posenc show`:
 * the module's parameters are its tensors in table order, each (L, d0, d1)
 * when per_layer, else (d0, d1); d1 == 0 means 1-D. `name` is the
 * checkpoint name: "transformer.<name>" or, per layer, "transformer.h.<l>.<name>". */
#define PE_MAX_TENSORS 8
typedef struct {
    char name[48];
    int per_layer;
    size_t d0, d1;
} PETensor;

/* One named scalar derived from a module's parameters (the scalars hook). */
#define PE_MAX_SCALARS 8
typedef struct {
    const char *name;
    double value;
} PEScalar;

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
    unsigned flags;       /* PE_TRAINED_POSITIONS, PE_SCALABLE */
    /* The settings this encoding reads (NULL-terminated; optional). */
    const PESetting *const *settings;
    /* (optional) Check the settings together with the model's shape (C, NH,
     * hs, L, P), beyond each setting's own range (checked before from the
     * table): 0, or -1 with an error via core_errorf that starts with the
     * config key at fault, "model.<key>: ...". Called by pe_check, so both
     * the config loader and pe_init refuse the same values. */
    int (*check)(const PEConfig *cfg);
    /* (optional) Derived scalars of the parameters of layer l, head h (h =
     * -1: those of the whole layer), as the module computes them from its
     * parameters (for `posenc show`): fills out[0..n), n <= PE_MAX_SCALARS,
     * and returns n. */
    int (*scalars)(const PE *pe, int l, int h, PEScalar *out);

    /* Number of trainable floats (optional: NULL means 0). */
    size_t (*num_params)(const PEConfig *cfg);
    /* The parameters as named tensors (optional; required for checkpoint
     * names other than a flat "transformer.pe.<name>"): fills out[0..n) and
     * returns n <= PE_MAX_TENSORS; their sizes sum to num_params. */
    int (*tensors)(const PEConfig *cfg, PETensor *out);
    /* Initialise the trainable parameters (optional). */
    void (*init_params)(const PE *pe, float *params, Rng *rng);
    /* Build precomputed tables into pe->state (optional). Returns 0 or
     * an error via core_errorf. */
    int (*setup)(PE *pe);
    /* Bytes setup allocates for pe->state (optional: NULL means small), for
     * the memory estimate before a model is built. */
    size_t (*state_bytes)(const PEConfig *cfg);
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
    /* Backward of hook 3: accumulate d bias = drow[j] into pe->grads (or
     * into a gradient table that bias_reduce folds into pe->grads). */
    void (*bias_backward)(const PE *pe, const float *drow, int l, int h, const int *pos, int i);
    /* (optional) Once per attention forward of layer l, before its first
     * bias_forward: pos holds the N = B*T position ids of the batch. */
    void (*bias_prepare)(const PE *pe, int l, const int *pos, int N);
    /* (optional) Once per attention backward of layer l, after its last
     * bias_backward: fold the accumulated gradient table into pe->grads. */
    void (*bias_reduce)(const PE *pe, int l);
    /* (optional) Incremental decoding (gpt_decode_step): before the
     * bias_forward calls of the single query i of layer l (pos[0..i] the
     * position ids of the sequence so far), prepare what those calls read,
     * at a cost linear in i. An encoding whose bias_prepare costs more than
     * linear in the largest position defines it; without it, decoding calls
     * bias_prepare(pe, l, pos, i + 1). Either way bias_forward must then give
     * the bitwise same row as after a bias_prepare over the whole sequence. */
    void (*bias_prepare_query)(const PE *pe, int l, const int *pos, int i);
    /* (optional) The inference path (attention_infer: evaluation, predict,
     * the attention view) never holds anything of size T x T. It calls
     * bias_prepare and bias_forward as the full path does, so for an encoding
     * without the two hooks below their cost and memory must be linear in P
     * (ALiBi, T5, KERPLE). An encoding whose bias_prepare fills a table over
     * (query, distance) pairs (FIRE) defines instead:
     * bias_prepare_rows: once per layer l, serially, before its bias_rows
     * calls (pos: the N = B*T position ids), linear in P; and
     * bias_rows: the bias of query i for EVERY head, dst[h * hstride + j] =
     * b(h, pos[i], pos[j]) for j = 0..i, bitwise the values bias_forward
     * adds; dst has room for i + 1 rounded up to 8 per head. Called
     * concurrently: it reads pe only. */
    void (*bias_prepare_rows)(const PE *pe, int l, const int *pos, int N);
    void (*bias_rows)(const PE *pe, float *dst, size_t hstride, int l, const int *pos, int i);
    /* (optional) Tables only the full path (gpt_forward, gpt_backward) needs,
     * when they grow faster than P (FIRE's (NH, P, P)): allocated by
     * full_setup, which gpt_reserve calls for the full path (idempotent; 0 or
     * an error), freed by teardown; full_bytes: their size, for the memory
     * estimate. Without them, setup holds everything. */
    int (*full_setup)(PE *pe);
    size_t (*full_bytes)(const PEConfig *cfg);
};

/* Registry. */
const PEOps *pe_find(const char *name);
/* Comma-separated list of valid names, e.g. "none, sinusoidal, ...", into
 * buf (PE_NAMES_MAX bytes hold them all). */
#define PE_NAMES_MAX 512
void pe_names(char *buf, size_t n);
int pe_count(void);
const PEOps *pe_at(int i);
/* Whether the encoding called `name` has property flag (PE_*); 0 for an
 * unknown name. */
int pe_has(const char *name, unsigned flag);
/* The names of the encodings with property flag, "a, b" (or "a"), into buf. */
void pe_names_with(unsigned flag, char *buf, size_t n);
/* The encoding's colour, "#rrggbb", the same in every figure and page posenc
 * draws (the table beside the registry in pe_registry.c: colour-blind-safe,
 * Okabe & Ito's eight hues and Tol's); PE_COLOUR_OTHER for a name not in the
 * registry. */
#define PE_COLOUR_OTHER "#7f7f7f"
const char *pe_colour(const char *name);

/* The distinct settings of all encodings, in registry order: slots 0..n-1. */
int pe_num_settings(void);
const PESetting *pe_setting_at(int slot);
/* The slot of the setting called `name`, or -1. */
int pe_setting_find(const char *name);
/* Whether encoding ops reads the setting in `slot`. */
int pe_uses_setting(const PEOps *ops, int slot);
/* Every setting at its default. */
void pe_settings_default(PESettings *set);
/* The encodings that read the setting in `slot`, "\"a\"" or "\"a\", \"b\"", into buf. */
void pe_setting_readers(int slot, char *buf, size_t n);
/* Check cfg for the encoding ops: each of its settings in range, then its
 * check hook. 0 or -1 with an error naming the key ("model.<key>: ..."). */
int pe_check(const PEOps *ops, const PEConfig *cfg);

/* Look up `name`, fill the instance and run setup. On an unknown name the
 * error lists the valid ones. Parameters are attached later (pe_attach). */
int pe_init(PE *pe, const char *name, const PEConfig *cfg);
size_t pe_num_params(const PE *pe);
/* The module's named tensors (see PETensor); 0 for a module without
 * parameters, and one flat tensor "pe.<name>" for a module without a table. */
int pe_tensors(const PE *pe, PETensor *out);
/* Offset in floats, inside the module's parameters, of tensor k of t[] (as
 * returned by pe_tensors / the tensors hook) at layer l (0 if not per layer). */
size_t pe_tensor_offset(const PEConfig *cfg, const PETensor *t, int k, int l);
/* Bytes of pe->state (the state_bytes hook, else 0). */
size_t pe_state_bytes(const PE *pe);
/* The full path's tables (full_setup, full_bytes hooks): allocate them (0,
 * or -1 after core_errorf; nothing to do for most encodings), their bytes. */
int pe_full_setup(PE *pe);
size_t pe_full_bytes(const PE *pe);
/* A PEConfig with every setting at its default and nothing else set (C, NH,
 * hs, L, P and the RoPE scaling 0). */
void pe_config_default(PEConfig *cfg);
void pe_free(PE *pe);

/* ALiBi slopes as in Press et al.'s get_slopes, for any head count
 * (exported for tests and for `posenc show`). */
void pe_alibi_slopes(float *slopes, int NH);
/* T5's causal bucket of a distance d >= 0 (HF _relative_position_bucket with
 * bidirectional=False): d itself below buckets/2, then logarithmic up to
 * max_distance, then the last bucket (exported for tests and `posenc show`). */
int pe_t5_bucket(int d, int buckets, int max_distance);

#endif

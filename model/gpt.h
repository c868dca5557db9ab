/*
 * gpt.h — a Pre-LayerNorm decoder-only GPT (docs/SPEC.md §3) with hand-written
 * backward passes and a pluggable position encoding (pe.h).
 *
 *   x = wte[tokens] (* emb_scale)  (+ PE(pos) for absolute encodings)
 *   for l in 0..L-1:
 *       x += attproj(attn(ln1(x)))        attention causal, scaled 1/sqrt(hs),
 *       x += fcproj(gelu(fc(ln2(x))))     q/k rotated or scores biased by the PE
 *   logits = lm_head(lnf(x))              untied, no bias
 *
 * Memory model. All parameters live in one buffer with named views (ParamTensors);
 * gradients and the AdamW moments use the same layout, so zeroing gradients is
 * one memset and the optimizer is one flat loop. Activations live in a second
 * buffer reserved once (gpt_reserve) for the largest B x T a run will use, for
 * training and for the longest evaluation; a forward pass at any smaller B x T
 * only re-points the views. Backward uses a few scratch buffers sized for the
 * training shape. Nothing is allocated inside gpt_forward / gpt_backward.
 *
 * Dimension legend (never changes meaning anywhere in the code):
 *   B  batch size (sequences)          T  time (padded sequence length)
 *   N  B*T tokens                      C  channels (d_model)
 *   NH attention heads                 hs head size = C/NH
 *   F  MLP hidden size (d_ff)          L  layers
 *   V  vocabulary size                 P  position table size (max_positions)
 *
 * Weights use the PyTorch nn.Linear layout (out, in): y = x W^T + b.
 *
 * Batches: B sequences right-padded to T. targets[b*T+t] is the next token
 * whose prediction is counted in the loss, or -1 where nothing is counted
 * (prompt and padding). The causal mask alone guarantees that no real token
 * attends to padding, because padding only ever follows the real tokens.
 */
#ifndef POSENC_GPT_H
#define POSENC_GPT_H

#include <stddef.h>

#include "core/error.h"
#include "model/layers.h" /* LiveRows */
#include "model/pe.h"

typedef struct {
    int V;              /* vocabulary size */
    int C;              /* d_model */
    int L;              /* layers */
    int NH;             /* heads */
    int F;              /* MLP hidden size (d_ff) */
    int P;              /* max_positions: position ids must be < P */
    char pe[32];        /* position encoding name (pe_names()) */
    float emb_scale;    /* token embeddings are multiplied by this (1 = as they are) */
    PESettings pe_set;  /* every encoding's settings (pe.h; model.<name> config keys) */
    /* RoPE scaling at evaluation (pe.h PERopeScaling; not config keys: set by
     * posenc eval on a loaded model; zero = none) */
    int rope_scaling;
    float rope_scale;
    int rope_orig_len;
} GPTConfig;

/* Default values for every field except V. */
void gpt_config_default(GPTConfig *cfg);
/* Check every field; 0 or an error naming the field (core_errorf). */
int gpt_config_check(const GPTConfig *cfg);
/* The position-encoding module's view of cfg. */
PEConfig gpt_pe_config(const GPTConfig *cfg);

#define GPT_NUM_PARAM_TENSORS 17
typedef struct {
    float *wte;       /* (V, C)     token embedding */
    float *ln1w;      /* (L, C) */
    float *ln1b;      /* (L, C) */
    float *qkvw;      /* (L, 3C, C) */
    float *qkvb;      /* (L, 3C) */
    float *attprojw;  /* (L, C, C) */
    float *attprojb;  /* (L, C) */
    float *ln2w;      /* (L, C) */
    float *ln2b;      /* (L, C) */
    float *fcw;       /* (L, F, C) */
    float *fcb;       /* (L, F) */
    float *fcprojw;   /* (L, C, F) */
    float *fcprojb;   /* (L, C) */
    float *lnfw;      /* (C) */
    float *lnfb;      /* (C) */
    float *lmw;       /* (V, C)     LM head */
    float *pe;        /* (pe_num_params) position-encoding parameters, may be empty */
} ParamTensors;

/* Description of one parameter tensor in the buffer. */
typedef struct {
    const char *name;  /* e.g. "qkvw" */
    size_t offset;     /* in floats from the start of the buffer */
    size_t size;       /* floats */
    int decay;         /* AdamW weight decay applies (matrices of linear layers, wte) */
} ParamInfo;

typedef struct {
    float *encoded;   /* (B, T, C)  embedding (+ absolute PE): input of layer 0 */
    float *ln1;       /* (L, B, T, C) */
    float *ln1_mean;  /* (L, B, T) */
    float *ln1_rstd;  /* (L, B, T) */
    float *qkv;       /* (L, B, T, 3C)  q and k after the PE qk hook */
    float *atty;      /* (L, B, T, C) */
    float *att;       /* (L, B, NH, T, T)  softmax probabilities, 0 above the diagonal */
    float *proj;      /* (B, T, C)  the current layer's attention projection, then its MLP
                       * projection (each added to the residual stream before the next is
                       * computed; backward reads neither) */
    float *residual2; /* (L, B, T, C) */
    float *ln2;       /* (L, B, T, C) */
    float *ln2_mean;  /* (L, B, T) */
    float *ln2_rstd;  /* (L, B, T) */
    float *fch_gelu;  /* (L, B, T, F)  fc's output, made GELU's in place (backward reads
                       * GELU's derivative, not its input) */
    float *residual3; /* (L, B, T, C) */
    float *lnf;       /* (B, T, C) */
    float *lnf_mean;  /* (B, T) */
    float *lnf_rstd;  /* (B, T) */
    float *logits;    /* (B, T, V) */
    float *probs;     /* (B, T, V) */
    float *losses;    /* (B, T)  per-token cross-entropy, 0 where not counted */
} ActTensors;

/* Backward scratch: per-layer gradients that need not outlive the layer.
 * dfch, dqkv and datt share one region (the work area): the MLP's backward
 * is done with dfch before the attention's backward writes dqkv and datt,
 * and the next layer's MLP starts after the qkv product has read dqkv. A
 * smaller working set keeps more of the activations in cache (about 1 % of
 * the small model's step). */
typedef struct {
    float *dres;      /* (B, T, C) gradient of the residual stream */
    float *dc;        /* (B, T, C) scratch (d ln, d atty) */
    float *dfch;      /* (B, T, F) d fch_gelu, made d fch in place (work area) */
    float *dqkv;      /* (B, T, 3C) (work area, from its start) */
    float *datt;      /* (B, NH, T, T) (work area, after dqkv) */
    float *dlogits;   /* (B, T, V) */
    float *dgelu;     /* (L, B, T, F) GELU'(fch), written by a forward with targets */
} GradScratch;

/* Optional per-part timing of forward + backward (for `make bench`): when
 * `enabled` is set, gpt_forward / gpt_backward add the wall-clock seconds of
 * each part to `seconds` (clock_gettime around each layer call, no allocation).
 * Off by default; costs one branch per layer call when off. */
typedef enum {
    GPT_PART_EMBED,       /* token embedding + absolute position encoding */
    GPT_PART_LAYERNORM,   /* ln1, ln2, lnf */
    GPT_PART_ATTN_LINEAR, /* qkv and output projection matmuls */
    GPT_PART_ATTENTION,   /* scores, softmax, weighted sum (with the PE qk/bias hooks) */
    GPT_PART_MLP,         /* fc, GELU, fcproj */
    GPT_PART_RESIDUAL,    /* residual adds and gradient buffer clears */
    GPT_PART_LOSS,        /* LM head matmul + softmax cross-entropy */
    GPT_NUM_PARTS
} GPTPart;
extern const char *const gpt_part_names[GPT_NUM_PARTS];

typedef struct {
    int enabled;
    double seconds[GPT_NUM_PARTS];
} GPTProfile;

/* The inference path's activations (gpt_infer): one layer's at a time, and
 * nothing of size T x T. */
typedef struct {
    float *x, *x2;    /* (B, T, C) the residual stream, alternating between the two */
    float *ln;        /* (B, T, C) ln1, ln2 or lnf of the current layer */
    float *mean;      /* (B, T) */
    float *rstd;      /* (B, T) */
    float *qkv;       /* (B, T, 3C) */
    float *atty;      /* (B, T, C) */
    float *proj;      /* (B, T, C) */
    float *fch;       /* (B, T, F) fc's output, made GELU's in place */
    float *kt;        /* (B, C, ld) keys packed transposed (attention_infer_kt_floats) */
    float *logits;    /* (B, T, V) */
    float *probs;     /* (B, T, V) */
    float *losses;    /* (B, T) */
} InferTensors;

/* Optional: the attention probabilities a gpt_infer computes, copied out
 * (posenc attention, report): att receives layer `layer`'s (or, layer < 0,
 * every layer's, one after the other) rows of head `head` ((T, T) per
 * layer), or every head's (head < 0: (NH, T, T) per layer), 0 above the
 * diagonal: attention_forward's att. B must be 1. att NULL: nothing. */
typedef struct {
    float *att;
    int layer, head;
} GPTProbe;
typedef struct {
    GPTConfig cfg;
    PE pe;
    /* parameters */
    ParamTensors params;
    ParamTensors grads;
    ParamInfo param_info[GPT_NUM_PARAM_TENSORS];
    size_t num_params;
    float *params_memory;
    float *grads_memory;
    /* activations, reserved by gpt_reserve */
    ActTensors acts;
    float *acts_memory;
    size_t acts_tokens;   /* capacity: B*T */
    size_t acts_att;      /* capacity: B*T*T */
    GradScratch scratch;
    float *scratch_memory;
    float *attn_scratch;  /* attention_scratch_floats(attn_scratch_T, C, NH): the attention kernels' working memory */
    size_t attn_scratch_T;
    size_t scratch_tokens, scratch_att;
    /* shape of the last forward pass */
    int B, T;
    float mean_loss;      /* of the last forward with targets; -1 if none */
    int num_targets;      /* counted targets in the last forward */
    int dgelu_ready;      /* the last forward wrote scratch.dgelu for backward */
    int *live;            /* (acts_tokens) live rows per sequence of the last forward with targets */
    LiveRows rows;        /* that forward's B, T and live */
    GPTProfile profile;   /* per-part timing, off unless profile.enabled */
    /* the inference path, reserved by gpt_reserve_infer */
    InferTensors inf;
    float *inf_memory;
    int *inf_live;        /* (inf_B) */
    float *inf_scratch;   /* attention_infer_scratch_floats(inf_T, NH, inf_parts, pe) */
    long inf_tokens;      /* capacity: B*T ... */
    int inf_B, inf_T, inf_parts; /* ... B, T and the pool's threads, each the largest reserved */
    GPTProbe probe;       /* off (att NULL) unless set */
} GPT;

/* Build a model: validate the config, allocate parameters, set up the
 * position encoding. Parameters are zero until gpt_init_params. */
int gpt_build(GPT *m, const GPTConfig *cfg);
/* Initialise parameters as docs/SPEC.md §3 (N(0,0.02), residual projections
 * N(0,0.02/sqrt(2L)), biases 0, LayerNorm gains 1, PE module's own init). */
void gpt_init_params(GPT *m, uint64_t seed);
/* Reserve activation memory for forward passes up to B x T, and, if
 * training != 0, backward scratch too. Call before the training loop with
 * every shape the run will use; never allocates when capacity suffices. */
void gpt_reserve(GPT *m, int B, int T, int training);
/* Forward pass. inputs, pos: (B, T); targets (B, T) or NULL. Returns the mean
 * loss over counted targets (0 if there are none), or NAN without targets.
 * Positions must lie in [0, P) (checked by the caller, see gpt_check_positions). */
float gpt_forward(GPT *m, const int *inputs, const int *targets, const int *pos, int B, int T);
/* Zero all parameter gradients (one memset). */
void gpt_zero_grad(GPT *m);
/* Backward pass of the last forward (which must have had targets):
 * accumulates into m->grads. */
void gpt_backward(GPT *m, const int *inputs, const int *targets, const int *pos);
void gpt_free(GPT *m);

/* The inference path, for evaluation, predict and the attention view: a
 * forward pass without backward, layer by layer, holding one layer's
 * activations and nothing of size T x T (attention_infer), in memory linear
 * in B x T (gpt_infer_bytes). Every number is bitwise gpt_forward's with the
 * same arguments, at any thread count: the same kernels on the same rows in
 * the same order, attention's rows included (tests/test_gpt.c). After it,
 * acts.logits, acts.probs and acts.losses are its outputs (views into the
 * inference buffer; with targets, probs as gpt_forward's: only counted rows)
 * and every other view of acts is NULL; gpt_backward refuses to follow it.
 * Reserve with gpt_reserve_infer first: the reservation grows to hold the
 * largest B x T tokens, B and T reserved so far (each its own maximum, so
 * reserving 1 x 16384 and 24 x 12 holds 16,384 tokens, not 24 x 16384);
 * it never allocates when capacity suffices, and is sized for the pool's
 * thread count at the time. Returns the mean loss over counted targets (0
 * if none), or NAN without targets. */
void gpt_reserve_infer(GPT *m, int B, int T);
float gpt_infer(GPT *m, const int *inputs, const int *targets, const int *pos, int B, int T);
/* Bytes a reservation of `tokens` tokens, B rows and T per row holds for a
 * model of cfg on `threads` threads (the activations, the packed keys, the
 * live rows and attention's per-thread scratch; parameters not included). */
double gpt_infer_bytes(const GPTConfig *cfg, long tokens, int B, int T, int threads);

/* Bytes held by the model: parameters and gradients, the activation and
 * backward-scratch memory reserved so far (the full path's and the inference
 * path's), and the position encoding's tables when they are large
 * (pe_state_bytes, and pe_full_bytes once the full path is reserved: FIRE's)
 * (AdamW's two moments, another 2 x num_params floats, are the optimizer's). */
size_t gpt_reserved_bytes(const GPT *m);

/* Bytes a model of cfg will hold before anything is allocated (an upper
 * estimate from the same size formulas gpt_build and gpt_reserve use):
 * parameters and gradients; AdamW's two moments, forward activations,
 * backward scratch and the encoding's full-path tables for train_B x train_T
 * if train_B > 0; the inference path's memory for eval_B x eval_T
 * (gpt_infer_bytes, at the pool's thread count). *param_bytes (optional) receives the share of
 * parameters, gradients and moments. 0 after core_errorf if cfg is invalid. */
double gpt_estimate_bytes(const GPTConfig *cfg, int train_B, int train_T, int eval_B, int eval_T,
                          double *param_bytes);

/* Evaluation-time RoPE scaling (pe.h PERopeScaling): rebuild the encoding's
 * tables of a built model for `scaling` with factor s and original context
 * orig_len (parameters untouched). PE_ROPE_SCALING_NONE restores the trained
 * encoding. 0, or an error (the model is unchanged): the encoding is not
 * rope, or s / orig_len are invalid. */
int gpt_set_rope_scaling(GPT *m, int scaling, float s, int orig_len);

/* 0 if every position id lies in [0, P), else an error naming the offender. */
int gpt_check_positions(const GPT *m, const int *pos, int n);

/* Incremental (key/value-cached) decoding of one sequence. gpt_decode_step
 * runs one new token through the model: its q, k, v are computed, k and v
 * are kept in the cache, and its query attends to the cached keys and values
 * of every earlier token, so a step costs O(len) per layer (attention) plus
 * the per-token matmuls, instead of a forward pass over the whole prefix.
 * The logits (and softmax) of the token after it are left in the cache.
 * They equal row len of gpt_forward over the sequence decoded so far with
 * the same position ids to rounding, not bitwise (tests/test_decode.c): the
 * attention (attention_decode), LayerNorm, GELU and softmax compute a row
 * with the same float operations as the full pass, but OpenBLAS chooses its
 * sgemm kernel by the size of the product, so a one-row product can round
 * differently from the same row inside a larger one (as gpt_forward's own
 * row t does between forward passes of different lengths).
 * All memory is allocated by gpt_cache_init; a step allocates nothing. */
typedef struct {
    int cap;          /* tokens the cache holds */
    int len;          /* tokens decoded so far */
    int *pos;         /* (cap) their position ids */
    float *kt;        /* (L, NH, hs, cap) keys after the PE qk hook, each head's transposed */
    float *v;         /* (L, NH, cap, hs) values */
    float *x, *x2, *ln, *qkv, *atty, *proj, *fch, *fch_gelu; /* one token's activations */
    float *row;       /* (cap) one head's attention row */
    float *logits;    /* (V) of the token after the last one decoded */
    float *probs;     /* (V) their softmax */
    float *memory;
} GPTCache;

/* Allocate a cache for up to cap tokens of model m (len 0). 0, or an error. */
int gpt_cache_init(GPTCache *c, const GPT *m, int cap);
/* Forget the decoded tokens (len 0), keeping the memory. */
void gpt_cache_reset(GPTCache *c);
/* Decode token `token` at position id p as token c->len of the sequence;
 * afterwards c->logits / c->probs predict the next one. 0, or an error (the
 * cache unchanged): the cache is full, token is not in [0, V) or p not in [0, P). */
int gpt_decode_step(GPT *m, GPTCache *c, int token, int p);
void gpt_cache_free(GPTCache *c);

#endif

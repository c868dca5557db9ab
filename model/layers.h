/*
 * layers.h — forward/backward pairs of every layer, side by side.
 *
 * Argument order mirrors llm.c: outputs first, then inputs, then weights,
 * then sizes. Backward functions ACCUMULATE (+=) into every gradient they
 * receive (inputs' and parameters'); callers zero them when needed.
 * Shapes use the legend of model/gpt.h; N is the number of token rows.
 *
 * Kernels with a _ref twin: the _ref version is the plain-C definition, kept
 * beside the optimised one and tested against it (tests/test_layers.c). The
 * optimised ones vectorise (no -ffast-math: fixed 8-lane partial sums where a
 * reduction is needed, a polynomial exp good to ~2 ulp), so they agree with
 * the reference to rounding, and are deterministic run to run.
 */
#ifndef POSENC_LAYERS_H
#define POSENC_LAYERS_H

#include "model/pe.h"

/* Live rows. A batch holds B sequences of T rows; in sequence b, rows
 * 0..live[b]-1 reach a counted output (the rest, padding past its last
 * target, never do: causal attention lets no earlier row see a later one, and
 * their loss is not counted, so their gradients are zeros). The kernels
 * given a LiveRows compute only the live rows (each says below what it does
 * with the others: LayerNorm and GELU write 0 there, so that the products
 * that read them add exact zeros). A live row's numbers are bitwise those of
 * the whole computation (tests/test_layers.c test_live_rows; whole training
 * runs: tests/test_repro.c test_published_numerics). NULL: every row is live. */
typedef struct {
    int B, T;
    const int *live; /* (B) */
} LiveRows;

/* out (N, C) = wte[inp[n]] * scale */
void embed_forward(float *out, const int *inp, const float *wte, float scale, int N, int C);
void embed_backward(float *dwte, const float *dout, const int *inp, float scale, int N, int C);

/* out (N, C) = (inp - mean) * rstd * w + b;  mean, rstd (N) saved for backward.
 * rows: dead rows get 0 in out, mean and rstd; backward skips them. */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int N, int C, const LiveRows *rows);
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *w, const float *mean, const float *rstd, int N, int C, const LiveRows *rows);
void layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, int N, int C);
void layernorm_backward_ref(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                            const float *w, const float *mean, const float *rstd, int N, int C);

/* The BLAS products are split across the thread pool at multiples of this
 * many rows of their output: bitwise the same rows as one whole call (why:
 * model/layers.c, above matmul_forward). */
#define SGEMM_ROW_ALIGN 24

/* out (N, OC) = inp (N, C) @ w^T + bias;  w (OC, C) in nn.Linear layout, bias (OC) or NULL.
 * matmul_forward uses cblas_sgemm; the _ref versions are the plain-C definition,
 * kept beside them and tested against them. The forward computes every row
 * (the product runs on all of them; laying the bias on dead rows too costs
 * less than the product meeting their rows of out cold). Backward, rows
 * (LiveRows or NULL): dbias sums only live rows (a dead row's dout is 0). */
void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C, int OC);
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, int N, int C, int OC, const LiveRows *rows);
void matmul_forward_ref(float *out, const float *inp, const float *w, const float *bias, int N, int C, int OC);
void matmul_backward_ref(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                         const float *w, int N, int C, int OC);

/* Causal multi-head self-attention.
 *   qkv (B, T, 3C): q | k | v per token, heads contiguous (head h uses dims h*hs..h*hs+hs-1).
 *   The PE qk hook (if any) is applied IN PLACE to q and k of qkv before the scores
 *   (so the saved qkv holds the transformed q, k that backward needs).
 *   att (B, NH, T, T): softmax((q.k)/sqrt(hs) + bias), 0 above the diagonal.
 *   out (B, T, C) = att @ v.
 *   pos (B, T): position ids passed to the PE hooks; layer: index for per-layer PE parameters.
 *   scratch: attention_scratch_floats(T, C, NH) floats of working memory (unused by the _ref versions).
 * The optimised kernel computes only the causal half, one sequence (all heads) at a time. */
size_t attention_scratch_floats(int T, int C, int NH);
/* live (B) or NULL: queries past live[b] are not computed, as LiveRows:
 * their rows of out are 0, their rows of att are not written (backward
 * reads only live rows; without targets every row is live), and backward
 * writes 0 to their gradients. */
void attention_forward(float *out, float *att, float *qkv, float *scratch, const PE *pe, const int *pos, int layer,
                       int B, int T, int C, int NH, const int *live);
/* dqkv WRITTEN (=; unlike the other backward kernels, it need not be
 * cleared) and the PE's parameter gradients (+=) from dout; datt is scratch
 * (B, NH, T, T). attention_backward_ref accumulates (+=) into dqkv. */
void attention_backward(float *dqkv, float *datt, float *scratch, const float *dout, const float *qkv,
                        const float *att, const PE *pe, const int *pos, int layer, int B, int T, int C, int NH,
                        const int *live);
void attention_forward_ref(float *out, float *att, float *qkv, float *scratch, const PE *pe, const int *pos,
                           int layer, int B, int T, int C, int NH);
void attention_backward_ref(float *dqkv, float *datt, float *scratch, const float *dout, const float *qkv,
                            const float *att, const PE *pe, const int *pos, int layer, int B, int T, int C, int NH);

/* Inference attention: attention_forward's out without its att, for
 * evaluation, predict and the attention view (gpt_infer). Memory: kt, of
 * attention_infer_kt_floats(B, T, C) floats, the packed keys (B, C, ld), ld
 * = T rounded up to 8 (and 8 more at multiples of 64: cache sets), and scratch, of
 * attention_infer_scratch_floats(T, NH, parts, pe) floats: `parts` slices
 * of ATT_QB (4) rows of Tp scores (and, for an encoding with bias_rows, every
 * head's bias of those rows), one per part of the thread pool (it uses
 * min(parts, par_threads()) parts). Nothing of size T x T: O(T) per part.
 * Every row of out is bitwise attention_forward's (same operations in the
 * same order, whatever the thread count); live as attention_forward's.
 * probe (optional): the softmax rows, as attention_forward's att, of every
 * head (probe_head < 0: (NH, T, T)) or of head probe_head ((T, T)); rows
 * past live are not written. The qk hook transforms q and k in qkv in place. */
size_t attention_infer_kt_floats(int B, int T, int C);
size_t attention_infer_scratch_floats(int T, int NH, int parts, const PE *pe);
void attention_infer(float *out, float *qkv, float *kt, float *scratch, int parts, const PE *pe, const int *pos,
                     int layer, int B, int T, int C, int NH, const int *live, float *probe, int probe_head);

/* Incremental decoding: causal attention of ONE new token, the i-th (0-based)
 * of its sequence, against the keys and values of tokens 0..i-1 cached by
 * earlier calls. qkv (3C): the token's q | k | v; the PE qk hook transforms
 * q and k in place at pos[i], then k and v are stored at slot i of the cache:
 *   kt (NH, hs, cap): each head's keys transposed (key j of head h at kt[(h*hs + d)*cap + j]),
 *   v  (NH, cap, hs): each head's values.
 * out (C) = softmax(q.k_j / sqrt(hs) + bias(pos[i], pos[j])) @ v_j over j = 0..i, computed
 * with the same float operations in the same order as row i of attention_forward
 * (bitwise the same result). pos: the position ids of tokens 0..i. row: cap floats of
 * scratch. The PE bias is prepared with bias_prepare_query (else bias_prepare over
 * pos[0..i]). Serial, no allocation. */
void attention_decode(float *out, float *row, float *qkv, float *kt, float *v, int cap, const PE *pe,
                      const int *pos, int layer, int i, int C, int NH);

/* GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
/* gelu_forward also writes grad = GELU'(inp) when grad is not NULL (a training
 * forward); gelu_backward then needs only it, and WRITES dinp = grad * dout
 * (0 on dead rows) where every other backward accumulates: the caller need
 * not clear it. The pair is bitwise the _ref pair's float operations, in
 * their order (the _ref backward onto a cleared dinp), but for exp. Both
 * may work in place (out == inp, dinp == dout): the training step does. */
void gelu_forward(float *out, float *grad, const float *inp, int N, int F, const LiveRows *rows);
void gelu_backward(float *dinp, const float *grad, const float *dout, int N, int F, const LiveRows *rows);
void gelu_forward_ref(float *out, const float *inp, int n);
void gelu_backward_ref(float *dinp, const float *inp, const float *dout, int n);

/* out (N, C) = a + b on the live rows (the others' are left as they are:
 * dead rows of the residual stream reach nothing live) */
void residual_forward(float *out, const float *a, const float *b, int N, int C, const LiveRows *rows);
void residual_backward(float *da, float *db, const float *dout, int n);

/* Softmax over V of logits (N, V) into probs, and masked cross-entropy:
 * losses[n] = -log probs[n, targets[n]] where targets[n] >= 0, else 0.
 * With targets, only the counted rows' probs are written (no one reads the
 * others'); without (targets NULL), every row's. Returns the number of
 * counted targets. */
int crossentropy_forward(float *probs, float *losses, const float *logits, const int *targets, int N, int V);
/* dlogits (+=) of mean loss = sum(losses) / count: (probs - onehot) / count on counted rows. */
void crossentropy_backward(float *dlogits, const float *probs, const int *targets, int count, int N, int V);

#endif

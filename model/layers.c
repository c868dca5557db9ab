/*
 * layers.c — forward/backward pairs (see layers.h for the contracts).
 */
#include "core/dmath.h"
#include "model/layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "model/kernel.h" /* KERNEL: AVX2 and baseline clones, bitwise-equal */
#include "core/parallel.h"


/* The run of rows starting at n (< hi) that are all live or all dead:
 * returns its end (<= hi) and sets *live. */
static inline int live_run(const LiveRows *r, int n, int hi, int *live) {
    if (!r) {
        *live = 1;
        return hi;
    }
    const int b = n / r->T, t = n % r->T, L = r->live[b];
    *live = t < L;
    const int end = b * r->T + (t < L ? L : r->T);
    return end < hi ? end : hi;
}

/* ------------------------------------------------------------------------
 * Embedding
 */

void embed_forward(float *out, const int *inp, const float *wte, float scale, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *row = wte + (size_t)inp[n] * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = row[c] * scale;
    }
}

void embed_backward(float *dwte, const float *dout, const int *inp, float scale, int N, int C) {
    /* out[n] = wte[inp[n]] * scale */
    for (int n = 0; n < N; n++) {
        float *drow = dwte + (size_t)inp[n] * C;
        const float *d = dout + (size_t)n * C;
        for (int c = 0; c < C; c++) drow[c] += d[c] * scale;
    }
}

/* ------------------------------------------------------------------------
 * LayerNorm (eps 1e-5, biased variance, as torch.nn.LayerNorm)
 */

void layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int N, int C) {
    const float eps = 1e-5f;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float m = 0.0f;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        float v = 0.0f;
        for (int c = 0; c < C; c++) {
            float d = x[c] - m;
            v += d * d;
        }
        v /= C;
        float s = 1.0f / sqrtf(v + eps);
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

void layernorm_backward_ref(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *w, const float *mean, const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float *d = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float m = mean[n], s = rstd[n];
        /* norm = (x - m) * s;  out = norm * w + b */
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * s;
            float dnorm = w[c] * d[c];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= C;
        dnorm_norm_mean /= C;
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * s;
            float dnorm = w[c] * d[c];
            db[c] += d[c];
            dw[c] += norm * d[c];
            dx[c] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

/* ------------------------------------------------------------------------
 * Linear: out = inp @ w^T + bias, w (OC, C)
 */

void matmul_forward_ref(float *out, const float *inp, const float *w, const float *bias, int N, int C, int OC) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        for (int o = 0; o < OC; o++) {
            const float *wr = w + (size_t)o * C;
            float acc = bias ? bias[o] : 0.0f;
            for (int c = 0; c < C; c++) acc += x[c] * wr[c];
            out[(size_t)n * OC + o] = acc;
        }
    }
}

void matmul_backward_ref(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                         const float *w, int N, int C, int OC) {
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * OC;
        const float *x = inp + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        for (int o = 0; o < OC; o++) {
            const float *wr = w + (size_t)o * C;
            float *dwr = dw + (size_t)o * C;
            for (int c = 0; c < C; c++) {
                dx[c] += d[o] * wr[c];
                dwr[c] += d[o] * x[c];
            }
            if (dbias) dbias[o] += d[o];
        }
    }
}

/* The BLAS versions split the work across the thread pool (parallel.h): the
 * forward and dinp by rows of tokens, dweight by rows of the output features
 * (each a full sum over tokens), dbias by columns.
 *
 * Thread-count invariance: OpenBLAS's sgemm computes C in tiles of rows, and
 * a row's last bit depends on the tile it falls in (a partial tile at the end
 * of a call takes another code path). With the pinned kernel family (blas.h)
 * every tile boundary is a multiple of 12 rows, so splitting a product at
 * multiples of SGEMM_ROW_ALIGN gives bitwise the same rows as the whole
 * product: the result does not depend on how many parts there are
 * (tests/test_repro.c checks both this property of the library and whole
 * training runs at 1, 2 and 3 threads). SGEMM_ROW_ALIGN is in layers.h. */
typedef struct {
    float *out, *dinp, *dw, *dbias;
    const float *inp, *w, *bias, *dout;
    const LiveRows *rows;
    int N, C, OC;
} MatmulArgs;

/* out (rows, OC) = bias in every row (no call per row) */
KERNEL static void fill_rows(float *restrict out, const float *restrict bias, int rows, int OC) {
    for (int r = 0; r < rows; r++, out += OC) {
        int o = 0;
        for (; o + 8 <= OC; o += 8) memcpy(out + o, bias + o, 8 * sizeof(float));
        for (; o < OC; o++) out[o] = bias[o];
    }
}

static void matmul_forward_part(void *ctx, int part, int nparts) {
    const MatmulArgs *a = ctx;
    const int C = a->C, OC = a->OC;
    int lo, hi;
    par_range(a->N, part, nparts, SGEMM_ROW_ALIGN, &lo, &hi);
    if (lo >= hi) return;
    float *out = a->out + (size_t)lo * OC;
    float beta = 0.0f;
    if (a->bias) { /* every row, dead ones too: the product then finds all of out in cache (faster) */
        fill_rows(out, a->bias, hi - lo, OC);
        beta = 1.0f;
    }
    /* out (N, OC) = inp (N, C) @ w^T (C, OC) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, OC, C, 1.0f, a->inp + (size_t)lo * C, C, a->w, C,
                beta, out, OC);
}

void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C, int OC) {
    MatmulArgs a = {.out = out, .inp = inp, .w = w, .bias = bias, .N = N, .C = C, .OC = OC};
    par_run(matmul_forward_part, &a);
}

/* acc[o] += d[n * stride + o] for o in [lo, hi), rows n in order */
KERNEL static void sum_rows(float *restrict acc, const float *restrict d, int rows, int stride, int lo, int hi) {
    for (int n = 0; n < rows; n++, d += stride)
        for (int o = lo; o < hi; o++) acc[o] += d[o];
}

static void matmul_backward_part(void *ctx, int part, int nparts) {
    const MatmulArgs *a = ctx;
    const int N = a->N, C = a->C, OC = a->OC;
    int lo, hi;
    par_range(N, part, nparts, SGEMM_ROW_ALIGN, &lo, &hi);
    /* dinp (N, C) += dout (N, OC) @ w (OC, C) */
    if (lo < hi)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, C, OC, 1.0f, a->dout + (size_t)lo * OC, OC,
                    a->w, C, 1.0f, a->dinp + (size_t)lo * C, C);
    par_range(OC, part, nparts, SGEMM_ROW_ALIGN, &lo, &hi);
    if (lo >= hi) return;
    /* dw (OC, C) += dout^T (OC, N) @ inp (N, C) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, C, N, 1.0f, a->dout + lo, OC, a->inp, C, 1.0f,
                a->dw + (size_t)lo * C, C);
    if (a->dbias) {
        for (int n0 = 0, live, end; n0 < N; n0 = end) {
            end = live_run(a->rows, n0, N, &live);
            if (live) sum_rows(a->dbias, a->dout + (size_t)n0 * OC, end - n0, OC, lo, hi);
        }
    }
}

void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, int N, int C, int OC, const LiveRows *rows) {
    MatmulArgs a = {.dinp = dinp, .dw = dw, .dbias = dbias, .dout = dout, .inp = inp, .w = w, .rows = rows,
                    .N = N, .C = C, .OC = OC};
    par_run(matmul_backward_part, &a);
}

/* ------------------------------------------------------------------------
 * Causal multi-head attention with position-encoding hooks
 */

void attention_forward_ref(float *out, float *att, float *qkv, float *scratch, const PE *pe, const int *pos,
                           int layer, int B, int T, int C, int NH) {
    (void)scratch;
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    const PEOps *ops = pe->ops;
    if (ops->bias_prepare) ops->bias_prepare(pe, layer, pos, B * T);

    /* hook 2: transform q and k of every head in place */
    if (ops->qk_forward) {
        for (int n = 0; n < B * T; n++) {
            float *q = qkv + (size_t)n * C3, *k = q + C;
            for (int h = 0; h < NH; h++) {
                ops->qk_forward(pe, q + h * hs, pos[n], 0);
                ops->qk_forward(pe, k + h * hs, pos[n], 1);
            }
        }
    }

    for (int b = 0; b < B; b++) {
        const int *pb = pos + (size_t)b * T;
        for (int h = 0; h < NH; h++) {
            for (int i = 0; i < T; i++) {
                const float *q = qkv + ((size_t)b * T + i) * C3 + h * hs;
                float *row = att + (((size_t)b * NH + h) * T + i) * T;
                /* scores, j <= i */
                for (int j = 0; j <= i; j++) {
                    const float *k = qkv + ((size_t)b * T + j) * C3 + C + h * hs;
                    float s = 0.0f;
                    for (int d = 0; d < hs; d++) s += q[d] * k[d];
                    row[j] = s * scale;
                }
                /* hook 3: additive bias */
                if (ops->bias_forward) ops->bias_forward(pe, row, layer, h, pb, i);
                /* softmax over j <= i */
                float mx = -INFINITY;
                for (int j = 0; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
                float sum = 0.0f;
                for (int j = 0; j <= i; j++) {
                    row[j] = expf(row[j] - mx);
                    sum += row[j];
                }
                float inv = 1.0f / sum;
                for (int j = 0; j <= i; j++) row[j] *= inv;
                for (int j = i + 1; j < T; j++) row[j] = 0.0f;
                /* out = att @ v */
                float *o = out + ((size_t)b * T + i) * C + h * hs;
                for (int d = 0; d < hs; d++) o[d] = 0.0f;
                for (int j = 0; j <= i; j++) {
                    const float *v = qkv + ((size_t)b * T + j) * C3 + 2 * C + h * hs;
                    float a = row[j];
                    for (int d = 0; d < hs; d++) o[d] += a * v[d];
                }
            }
        }
    }
}

void attention_backward_ref(float *dqkv, float *datt, float *scratch, const float *dout, const float *qkv,
                            const float *att, const PE *pe, const int *pos, int layer, int B, int T, int C,
                            int NH) {
    (void)scratch;
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    const PEOps *ops = pe->ops;

    for (int b = 0; b < B; b++) {
        const int *pb = pos + (size_t)b * T;
        for (int h = 0; h < NH; h++) {
            for (int i = 0; i < T; i++) {
                const float *row = att + (((size_t)b * NH + h) * T + i) * T;
                float *drow = datt + (((size_t)b * NH + h) * T + i) * T;
                const float *d = dout + ((size_t)b * T + i) * C + h * hs;
                /* out[i] = sum_j att[i,j] v[j] */
                float dot = 0.0f;
                for (int j = 0; j <= i; j++) {
                    const float *v = qkv + ((size_t)b * T + j) * C3 + 2 * C + h * hs;
                    float *dv = dqkv + ((size_t)b * T + j) * C3 + 2 * C + h * hs;
                    float da = 0.0f;
                    for (int e = 0; e < hs; e++) {
                        da += d[e] * v[e];
                        dv[e] += row[j] * d[e];
                    }
                    drow[j] = da;
                    dot += da * row[j];
                }
                /* softmax: dpre[j] = att[j] (datt[j] - sum_k att[k] datt[k]) */
                for (int j = 0; j <= i; j++) drow[j] = row[j] * (drow[j] - dot);
                /* hook 3 backward: the bias adds straight to the pre-softmax score */
                if (ops->bias_backward) ops->bias_backward(pe, drow, layer, h, pb, i);
                /* pre[j] = scale * q[i] . k[j] */
                const float *q = qkv + ((size_t)b * T + i) * C3 + h * hs;
                float *dq = dqkv + ((size_t)b * T + i) * C3 + h * hs;
                for (int j = 0; j <= i; j++) {
                    const float *k = qkv + ((size_t)b * T + j) * C3 + C + h * hs;
                    float *dk = dqkv + ((size_t)b * T + j) * C3 + C + h * hs;
                    float g = drow[j] * scale;
                    for (int e = 0; e < hs; e++) {
                        dq[e] += g * k[e];
                        dk[e] += g * q[e];
                    }
                }
            }
        }
    }

    if (ops->bias_reduce) ops->bias_reduce(pe, layer);

    /* hook 2 backward: q, k were transformed in place after the qkv matmul */
    if (ops->qk_backward) {
        for (int n = 0; n < B * T; n++) {
            float *dq = dqkv + (size_t)n * C3, *dk = dq + C;
            for (int h = 0; h < NH; h++) {
                ops->qk_backward(pe, dq + h * hs, pos[n], 0);
                ops->qk_backward(pe, dk + h * hs, pos[n], 1);
            }
        }
    }
}

/* ------------------------------------------------------------------------
 * GELU (tanh form), residual
 */

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */

/* 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3):
 * the same function, computed with one expf instead of tanhf (3x faster). */
void gelu_forward_ref(float *out, const float *inp, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i];
        float u = GELU_SCALE * (x + 0.044715f * x * x * x);
        out[i] = x / (1.0f + expf(-2.0f * u));
    }
}

void gelu_backward_ref(float *dinp, const float *inp, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        /* d/dx x s(2u) = s + x s (1 - s) 2 du/dx,  s = sigmoid(2u) */
        float x = inp[i];
        float u = GELU_SCALE * (x + 0.044715f * x * x * x);
        float s = 1.0f / (1.0f + expf(-2.0f * u));
        float du = GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += (s + 2.0f * x * s * (1.0f - s) * du) * dout[i];
    }
}

KERNEL static void add_range(float *restrict out, const float *restrict a, const float *restrict b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void residual_forward(float *out, const float *a, const float *b, int N, int C, const LiveRows *rows) {
    for (int n = 0, live, end; n < N; n = end) {
        end = live_run(rows, n, N, &live);
        if (!live) continue; /* dead rows: left as they are */
        const size_t o = (size_t)n * C;
        add_range(out + o, a + o, b + o, (size_t)(end - n) * C);
    }
}

void residual_backward(float *da, float *db, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

/* ------------------------------------------------------------------------
 * Softmax + masked cross-entropy (exp by exp_neg below, log by dmath.h: the
 * same bits on every machine)
 */

INLINE float exp_neg(float x);

int crossentropy_forward(float *probs, float *losses, const float *logits, const int *targets, int N, int V) {
    int count = 0;
    for (int n = 0; n < N; n++) {
        if (targets && targets[n] < 0) { /* not counted: nothing reads its probabilities */
            losses[n] = 0.0f;
            continue;
        }
        const float *z = logits + (size_t)n * V;
        float *p = probs + (size_t)n * V;
        float mx = -INFINITY;
        for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        float sum = 0.0f;
        for (int v = 0; v < V; v++) {
            p[v] = exp_neg(z[v] - mx); /* z - mx <= 0 */
            sum += p[v];
        }
        for (int v = 0; v < V; v++) p[v] /= sum;
        int t = targets ? targets[n] : -1;
        if (t >= 0) {
            /* log-sum-exp form: exact even when p[t] underflows */
            losses[n] = dm_logf(sum) + mx - z[t];
            count++;
        } else {
            losses[n] = 0.0f;
        }
    }
    return count;
}

void crossentropy_backward(float *dlogits, const float *probs, const int *targets, int count, int N, int V) {
    if (count == 0) return;
    const float inv = 1.0f / (float)count;
    for (int n = 0; n < N; n++) {
        int t = targets[n];
        if (t < 0) continue;
        const float *p = probs + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        for (int v = 0; v < V; v++) d[v] += (p[v] - (v == t ? 1.0f : 0.0f)) * inv;
    }
}

/* ========================================================================
 * Optimised kernels. Same contracts as the _ref versions above, tested
 * against them (tests/test_layers.c). Three habits make them fast without
 * -ffast-math: loops run over a contiguous dimension with no float reduction
 * in the inner loop (so the compiler vectorises them), reductions use eight
 * fixed partial sums (a different but fixed order: deterministic), and exp
 * is a polynomial the compiler can vectorise (exp_neg).
 */

/* exp(x) for x <= 0, to about 2 ulp down to exp(-87.3) = 2^-126; below that
 * 0 (no subnormal results, which cost a microcode assist per instruction).
 * Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, Cephes' polynomial for
 * e^r, 2^n built in the exponent bits (n clamped as an integer, so the scale
 * is exactly 0 below the range). Branch-free plain C: loops calling it
 * vectorise. The float clamp at -100 keeps n's rounding trick in range; its
 * value there is 0, so nothing the compiler may evaluate speculatively for
 * the clamped case is subnormal. */
INLINE float exp_neg(float x) {
    x = x < -100.0f ? -100.0f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float n = (x * 1.44269504088896341f + magic) - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t e = (int32_t)(n == n ? n : 0.0f) + 127; /* NaN stays NaN through p, without an undefined cast */
    e = e < 0 ? 0 : e;
    int32_t bits = e << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Eight floats as one value (GCC vector extensions: an AVX register in the
 * x86-64-v3 clone, two SSE registers in the baseline). Arithmetic on it is
 * the scalar arithmetic of each lane. */
typedef float v8sf __attribute__((vector_size(32)));
typedef int32_t v8si __attribute__((vector_size(32)));
/* The helpers below pass and return such values; they are always inlined,
 * so no call crosses the ABI GCC warns about for the baseline clone. */
#pragma GCC diagnostic ignored "-Wpsabi"

INLINE v8sf vload(const float *p) {
    v8sf v;
    memcpy(&v, p, sizeof v);
    return v;
}
INLINE void vstore(float *p, v8sf v) { memcpy(p, &v, sizeof v); }
INLINE v8sf vbcast(float x) { return (v8sf){x, x, x, x, x, x, x, x}; }
/* lanes of a where the mask (all ones or zero per lane) is set, else of b */
INLINE v8sf vselect(v8si mask, v8sf a, v8sf b) {
    v8si ai, bi;
    memcpy(&ai, &a, sizeof ai);
    memcpy(&bi, &b, sizeof bi);
    const v8si r = (mask & ai) | (~mask & bi);
    v8sf out;
    memcpy(&out, &r, sizeof out);
    return out;
}
/* ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) */
INLINE float vreduce_add(v8sf a) { return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])); }

/* exp_neg of each lane: its operations, lane by lane (the same bits) */
INLINE v8sf vexp_neg(v8sf x) {
    x = vselect(x < vbcast(-100.0f), vbcast(-100.0f), x);
    const v8sf magic = vbcast(12582912.0f);
    const v8sf n = (x * vbcast(1.44269504088896341f) + magic) - magic;
    v8sf r = x - n * vbcast(0.693359375f);
    r = r - n * vbcast(-2.12194440e-4f);
    v8sf p = vbcast(1.9875691500e-4f);
    p = p * r + vbcast(1.3981999507e-3f);
    p = p * r + vbcast(8.3334519073e-3f);
    p = p * r + vbcast(4.1665795894e-2f);
    p = p * r + vbcast(1.6666665459e-1f);
    p = p * r + vbcast(5.0000001201e-1f);
    p = p * (r * r) + r + vbcast(1.0f);
    v8si e = __builtin_convertvector(vselect(n == n, n, (v8sf){0}), v8si) + 127;
    e &= ~(e < 0);
    e <<= 23;
    v8sf scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

/* Sum and max of x[0..n) with eight fixed lanes (deterministic): lane l sums
 * x[l], x[l+8], ... over whole blocks of 8; the tail is summed on its own
 * and added last. */
INLINE float sum_lanes(const float *x, int n) {
    v8sf acc = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) acc += vload(x + j);
    float tail = 0.0f;
    for (; j < n; j++) tail += x[j];
    return vreduce_add(acc) + tail;
}

INLINE float dot_lanes(const float *x, const float *y, int n) {
    v8sf acc = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) acc += vload(x + j) * vload(y + j);
    float tail = 0.0f;
    for (; j < n; j++) tail += x[j] * y[j];
    return vreduce_add(acc) + tail;
}

INLINE float max_lanes(const float *x, int n) {
    v8sf acc = vbcast(-INFINITY);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const v8sf v = vload(x + j);
        acc = vselect(v > acc, v, acc);
    }
    float m = -INFINITY;
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    for (int l = 0; l < 8; l++) m = acc[l] > m ? acc[l] : m;
    return m;
}

/* ------------------------------------------------------------------------
 * LayerNorm: rows in parallel; dw, db by columns, each summed over rows in
 * order (the reference's order, whatever the thread count). Dead rows (a
 * LiveRows) are not computed: forward writes 0, backward skips them.
 */

typedef struct {
    float *out, *mean, *rstd, *dinp, *dw, *db;
    const float *inp, *w, *b, *dout, *cmean, *crstd;
    const LiveRows *rows;
    int N, C;
} LayerNormArgs;

KERNEL static void layernorm_forward_rows(const LayerNormArgs *a, int lo, int hi) {
    const float eps = 1e-5f;
    const int C = a->C;
    for (int n = lo; n < hi; n++) {
        const float *x = a->inp + (size_t)n * C;
        float *o = a->out + (size_t)n * C;
        const float m = sum_lanes(x, C) / C;
        for (int c = 0; c < C; c++) o[c] = x[c] - m; /* o holds x - m for the variance */
        const float v = dot_lanes(o, o, C) / C;
        const float s = 1.0f / sqrtf(v + eps);
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * a->w[c] + a->b[c];
        a->mean[n] = m;
        a->rstd[n] = s;
    }
}

static void layernorm_forward_part(void *ctx, int part, int nparts) {
    const LayerNormArgs *a = ctx;
    int lo, hi;
    par_range(a->N, part, nparts, 1, &lo, &hi);
    for (int n = lo, live, end; n < hi; n = end) {
        end = live_run(a->rows, n, hi, &live);
        if (live) {
            layernorm_forward_rows(a, n, end);
        } else {
            memset(a->out + (size_t)n * a->C, 0, sizeof(float) * a->C * (end - n));
            memset(a->mean + n, 0, sizeof(float) * (end - n));
            memset(a->rstd + n, 0, sizeof(float) * (end - n));
        }
    }
}

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b, int N,
                       int C, const LiveRows *rows) {
    LayerNormArgs a = {.out = out, .mean = mean, .rstd = rstd, .inp = inp, .w = w, .b = b, .rows = rows,
                       .N = N, .C = C};
    par_run(layernorm_forward_part, &a);
}

KERNEL static void layernorm_backward_rows(const LayerNormArgs *a, int lo, int hi) {
    const int C = a->C;
    const float *w = a->w;
    for (int n = lo; n < hi; n++) {
        const float *x = a->inp + (size_t)n * C;
        const float *d = a->dout + (size_t)n * C;
        float *dx = a->dinp + (size_t)n * C;
        const float m = a->cmean[n], s = a->crstd[n];
        /* norm = (x - m) * s;  out = norm * w + b */
        /* lane l of acc_d, acc_dn sums columns l, l+8, ... of whole blocks */
        const v8sf mv = vbcast(m), sv = vbcast(s);
        v8sf acc_d = {0}, acc_dn = {0};
        int c = 0;
        for (; c + 8 <= C; c += 8) {
            const v8sf dnorm = vload(w + c) * vload(d + c);
            acc_d += dnorm;
            acc_dn += dnorm * ((vload(x + c) - mv) * sv);
        }
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (; c < C; c++) {
            float dnorm = w[c] * d[c];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * ((x[c] - m) * s);
        }
        for (int l = 0; l < 8; l++) {
            dnorm_mean += acc_d[l];
            dnorm_norm_mean += acc_dn[l];
        }
        dnorm_mean /= C;
        dnorm_norm_mean /= C;
        const v8sf dmv = vbcast(dnorm_mean), dnmv = vbcast(dnorm_norm_mean);
        for (c = 0; c + 8 <= C; c += 8) {
            const v8sf norm = (vload(x + c) - mv) * sv;
            vstore(dx + c, vload(dx + c) + (vload(w + c) * vload(d + c) - dmv - norm * dnmv) * sv);
        }
        for (; c < C; c++) {
            float norm = (x[c] - m) * s;
            dx[c] += (w[c] * d[c] - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

/* dw, db for columns lo..hi-1 from rows r0..r1-1, in row order */
KERNEL static void layernorm_backward_cols(const LayerNormArgs *a, int r0, int r1, int lo, int hi) {
    const int C = a->C;
    for (int n = r0; n < r1; n++) {
        const float *x = a->inp + (size_t)n * C;
        const float *d = a->dout + (size_t)n * C;
        const float m = a->cmean[n], s = a->crstd[n];
        for (int c = lo; c < hi; c++) {
            a->db[c] += d[c];
            a->dw[c] += ((x[c] - m) * s) * d[c];
        }
    }
}

static void layernorm_backward_part(void *ctx, int part, int nparts) {
    const LayerNormArgs *a = ctx;
    int lo, hi;
    par_range(a->N, part, nparts, 1, &lo, &hi);
    for (int n = lo, live, end; n < hi; n = end) {
        end = live_run(a->rows, n, hi, &live);
        if (live) layernorm_backward_rows(a, n, end);
    }
    par_range(a->C, part, nparts, 16, &lo, &hi);
    if (lo >= hi) return;
    for (int n = 0, live, end; n < a->N; n = end) {
        end = live_run(a->rows, n, a->N, &live);
        if (live) layernorm_backward_cols(a, n, end, lo, hi);
    }
}

void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                        const float *mean, const float *rstd, int N, int C, const LiveRows *rows) {
    LayerNormArgs a = {.dinp = dinp, .dw = dw, .db = db, .dout = dout, .inp = inp, .w = w, .cmean = mean,
                       .crstd = rstd, .rows = rows, .N = N, .C = C};
    par_run(layernorm_backward_part, &a);
}

/* ------------------------------------------------------------------------
 * GELU: rows in parallel; dead rows (a LiveRows) are not computed: forward
 * writes 0, backward skips them.
 */

typedef struct {
    float *out, *grad;
    const float *inp, *dout;
    const LiveRows *rows;
    int N, F;
} GeluArgs;

/* GELU over chunks of GELU_CHUNK elements in three passes: u for the chunk,
 * then t = e^(-2|u|), then the sigmoid s = sigmoid(2u) = 1 / (1 + e^(-2u))
 * from t in (0, 1] (never overflows: 1/(1+t) for u >= 0, t/(1+t) below), the
 * output and, when grad is not NULL, the derivative. One pass chains the
 * cube, the exp polynomial, the division and the rest into one long
 * dependency per element, and the core overlaps few of them; short loops
 * keep more in flight (one pass 1.37 ns per element, two 1.11, three 0.89 on
 * the bench machine, the same bits). Computing the derivative here saves the
 * backward pass its own exp and division. */
#define GELU_CHUNK 256

KERNEL static void gelu_forward_range(float *out, float *grad, const float *inp, size_t lo, size_t hi) {
    float u[GELU_CHUNK], t[GELU_CHUNK];
    for (size_t c0 = lo; c0 < hi; c0 += GELU_CHUNK) {
        const size_t m = hi - c0 < GELU_CHUNK ? hi - c0 : GELU_CHUNK;
        const float *x = inp + c0;
        for (size_t i = 0; i < m; i++) u[i] = GELU_SCALE * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
        for (size_t i = 0; i < m; i++) t[i] = exp_neg(-2.0f * fabsf(u[i]));
        for (size_t i = 0; i < m; i++) {
            const float xi = x[i]; /* out may be inp (in place) */
            const float inv = 1.0f / (1.0f + t[i]);
            const float s = u[i] >= 0.0f ? inv : t[i] * inv;
            if (grad) {
                const float du = GELU_SCALE * (1.0f + 3.0f * 0.044715f * xi * xi);
                grad[c0 + i] = s + 2.0f * xi * s * (1.0f - s) * du;
            }
            out[c0 + i] = xi * s;
        }
    }
}

/* written, not accumulated: 0 + g * d is the bits of += onto a cleared dinp */
KERNEL static void gelu_backward_range(float *dinp, const float *grad, const float *dout, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) dinp[i] = 0.0f + grad[i] * dout[i];
}

static void gelu_forward_part(void *ctx, int part, int nparts) {
    const GeluArgs *a = ctx;
    const size_t F = a->F;
    int lo, hi;
    par_range(a->N, part, nparts, 1, &lo, &hi);
    for (int n = lo, live, end; n < hi; n = end) {
        end = live_run(a->rows, n, hi, &live);
        if (!live) { /* (grad of a dead row: never read) */
            memset(a->out + n * F, 0, sizeof(float) * F * (end - n));
        } else {
            gelu_forward_range(a->out, a->grad, a->inp, n * F, end * F);
        }
    }
}

static void gelu_backward_part(void *ctx, int part, int nparts) {
    const GeluArgs *a = ctx;
    const size_t F = a->F;
    int lo, hi;
    par_range(a->N, part, nparts, 1, &lo, &hi);
    for (int n = lo, live, end; n < hi; n = end) {
        end = live_run(a->rows, n, hi, &live);
        if (live)
            gelu_backward_range(a->out, a->grad, a->dout, n * F, end * F);
        else
            memset(a->out + n * F, 0, sizeof(float) * F * (end - n));
    }
}

void gelu_forward(float *out, float *grad, const float *inp, int N, int F, const LiveRows *rows) {
    GeluArgs a = {.out = out, .grad = grad, .inp = inp, .rows = rows, .N = N, .F = F};
    par_run(gelu_forward_part, &a);
}

void gelu_backward(float *dinp, const float *grad, const float *dout, int N, int F, const LiveRows *rows) {
    GeluArgs a = {.out = dinp, .grad = (float *)grad, .dout = dout, .rows = rows, .N = N, .F = F};
    par_run(gelu_backward_part, &a);
}

/* ------------------------------------------------------------------------
 * Attention. Work unit: one sequence, all its heads, in parallel over the
 * pool (each part with its own slice of scratch, attention_scratch_floats).
 * Within a unit, the keys (forward) or values (backward) of every head are
 * first packed transposed in one sequential pass over the rows, (C, Tp) with
 * Tp = T rounded up to 8 and zero columns past the live rows, so that scores
 * are computed a whole vector of 8 keys at a time, for a block of ATT_QB
 * queries at once: each score summed over d from 0 in ascending order, as
 * the reference. Only the causal half j <= i of the live rows is computed.
 * Weighted sums over rows (att @ v, and the gradients of q, k, v) accumulate
 * head vectors in registers for several outputs at once (specialised for
 * common head sizes), each output summed in ascending order of its terms,
 * from 0, as one output at a time would be: the blocking adds independent
 * work, not a different order, so the results are bitwise those of the
 * one-row-at-a-time kernel (tests/test_repro.c pins them). The PE qk hook
 * runs per unit on its own rows.
 */

#define ATT_QB 4 /* queries per block of scores */

static inline int round8(int n) { return (n + 7) & ~7; }


size_t attention_scratch_floats(int T, int C, int NH) {
    /* per part (at most NH): C x Tp packed keys or values + ATT_QB x Tp scores */
    return (size_t)NH * (size_t)(C + ATT_QB) * (size_t)round8(T);
}

/* row[j] = sum_d q[d] * kt[d*T + j] for j < n (d ascending, as the reference;
 * scores_block's sums, for one query: decoding). */
INLINE void rowdot_t(float *restrict row, const float *restrict q, const float *restrict kt, int n, int T, int hs) {
    for (int j = 0; j < n; j++) row[j] = 0.0f;
    int d = 0;
    for (; d + 8 <= hs; d += 8) {
        const float q0 = q[d], q1 = q[d + 1], q2 = q[d + 2], q3 = q[d + 3];
        const float q4 = q[d + 4], q5 = q[d + 5], q6 = q[d + 6], q7 = q[d + 7];
        const float *k0 = kt + (size_t)d * T, *k1 = k0 + T, *k2 = k1 + T, *k3 = k2 + T;
        const float *k4 = k3 + T, *k5 = k4 + T, *k6 = k5 + T, *k7 = k6 + T;
        for (int j = 0; j < n; j++) {
            float s = row[j];
            s += q0 * k0[j];
            s += q1 * k1[j];
            s += q2 * k2[j];
            s += q3 * k3[j];
            s += q4 * k4[j];
            s += q5 * k5[j];
            s += q6 * k6[j];
            s += q7 * k7[j];
            row[j] = s;
        }
    }
    for (; d + 4 <= hs; d += 4) {
        const float q0 = q[d], q1 = q[d + 1], q2 = q[d + 2], q3 = q[d + 3];
        const float *k0 = kt + (size_t)d * T, *k1 = k0 + T, *k2 = k1 + T, *k3 = k2 + T;
        for (int j = 0; j < n; j++) {
            float s = row[j];
            s += q0 * k0[j];
            s += q1 * k1[j];
            s += q2 * k2[j];
            s += q3 * k3[j];
            row[j] = s;
        }
    }
    for (; d < hs; d++) {
        const float qd = q[d], *kd = kt + (size_t)d * T;
        for (int j = 0; j < n; j++) row[j] += qd * kd[j];
    }
}

/* Scores of ATT_QB queries against keys 0..nj-1 (nj a multiple of 8):
 * s[r*Tp + j] = sum_d x_r[d] * kt[d*Tp + j], d ascending from 0 (rowdot_t's
 * sums). x_r = x + r * xstride for r < nq. Two vectors of keys per pass: 2 x ATT_QB
 * independent sums in flight. */
INLINE void scores_block(float *restrict s, const float *restrict x, size_t xstride, int nq, const float *restrict kt,
                         int Tp, int nj, int hs) {
    /* rows past nq (the last block) repeat the last real one: computed, never used */
    const float *x0 = x, *x1 = x + (nq > 1 ? 1 : 0) * xstride, *x2 = x + (nq > 2 ? 2 : nq - 1) * xstride;
    const float *x3 = x + (nq > 3 ? 3 : nq - 1) * xstride;
    int j = 0;
    for (; j + 16 <= nj; j += 16) {
        v8sf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0}, k, l;
        for (int d = 0; d < hs; d++) {
            memcpy(&k, kt + (size_t)d * Tp + j, sizeof k);
            memcpy(&l, kt + (size_t)d * Tp + j + 8, sizeof l);
            const v8sf q0 = {x0[d], x0[d], x0[d], x0[d], x0[d], x0[d], x0[d], x0[d]};
            const v8sf q1 = {x1[d], x1[d], x1[d], x1[d], x1[d], x1[d], x1[d], x1[d]};
            const v8sf q2 = {x2[d], x2[d], x2[d], x2[d], x2[d], x2[d], x2[d], x2[d]};
            const v8sf q3 = {x3[d], x3[d], x3[d], x3[d], x3[d], x3[d], x3[d], x3[d]};
            a0 += q0 * k, a1 += q1 * k, a2 += q2 * k, a3 += q3 * k;
            b0 += q0 * l, b1 += q1 * l, b2 += q2 * l, b3 += q3 * l;
        }
        memcpy(s + j, &a0, sizeof a0), memcpy(s + Tp + j, &a1, sizeof a1);
        memcpy(s + 2 * Tp + j, &a2, sizeof a2), memcpy(s + 3 * Tp + j, &a3, sizeof a3);
        memcpy(s + j + 8, &b0, sizeof b0), memcpy(s + Tp + j + 8, &b1, sizeof b1);
        memcpy(s + 2 * Tp + j + 8, &b2, sizeof b2), memcpy(s + 3 * Tp + j + 8, &b3, sizeof b3);
    }
    for (; j < nj; j += 8) {
        v8sf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, k;
        for (int d = 0; d < hs; d++) {
            memcpy(&k, kt + (size_t)d * Tp + j, sizeof k);
            const v8sf q0 = {x0[d], x0[d], x0[d], x0[d], x0[d], x0[d], x0[d], x0[d]};
            const v8sf q1 = {x1[d], x1[d], x1[d], x1[d], x1[d], x1[d], x1[d], x1[d]};
            const v8sf q2 = {x2[d], x2[d], x2[d], x2[d], x2[d], x2[d], x2[d], x2[d]};
            const v8sf q3 = {x3[d], x3[d], x3[d], x3[d], x3[d], x3[d], x3[d], x3[d]};
            a0 += q0 * k, a1 += q1 * k, a2 += q2 * k, a3 += q3 * k;
        }
        memcpy(s + j, &a0, sizeof a0), memcpy(s + Tp + j, &a1, sizeof a1);
        memcpy(s + 2 * Tp + j, &a2, sizeof a2), memcpy(s + 3 * Tp + j, &a3, sizeof a3);
    }
}

/* Weighted sums for R outputs at once, each output's terms in ascending k:
 *   rows (causal forward, dq):   out_r (+)= sum_{k=0..kr+r}      a[r*ar + k*ak] * x_k
 *   cols (backward of k and v):  out_r (+)= sum_{k=kr+r..kend-1} a[r*ar + k*ak] * x_k
 * x_k = x + k * xk, HS floats; out_r = out + r * ostride. Each sum starts from
 * 0 and is then stored (add = 0) or added to out_r (add = 1), as one output
 * at a time would be summed. The terms every output takes run in one
 * loop (R x HS/8 independent sums); the R-1 ragged ones on their own. */
INLINE void wsum_multi(float *restrict out, size_t ostride, const float *restrict a, size_t ar, size_t ak,
                       const float *restrict x, size_t xk, int kr, int kend, int cols, int add, const int R,
                       const int HS) {
    v8sf acc[4][8], xv;
    for (int r = 0; r < R; r++)
        for (int v = 0; v < HS / 8; v++) acc[r][v] = (v8sf){0};
    const int k0 = cols ? kr + R - 1 : 0, k1 = cols ? kend : kr + 1;
    if (cols) /* k = kr .. kr+R-2: outputs r <= k - kr have started */
        for (int k = kr; k < k0; k++)
            for (int v = 0; v < HS / 8; v++) {
                memcpy(&xv, x + k * xk + 8 * v, sizeof xv);
                for (int r = 0; r < R; r++) /* constant indices: the sums stay in registers */
                    if (r <= k - kr) {
                        const float c = a[r * ar + k * ak];
                        acc[r][v] += (v8sf){c, c, c, c, c, c, c, c} * xv;
                    }
            }
    for (int k = k0; k < k1; k++)
        for (int v = 0; v < HS / 8; v++) {
            memcpy(&xv, x + k * xk + 8 * v, sizeof xv);
            for (int r = 0; r < R; r++) {
                const float c = a[r * ar + k * ak];
                acc[r][v] += (v8sf){c, c, c, c, c, c, c, c} * xv;
            }
        }
    if (!cols) /* k = kr+1 .. kr+R-1: outputs r >= k - kr still take terms */
        for (int k = kr + 1; k < kr + R; k++)
            for (int v = 0; v < HS / 8; v++) {
                memcpy(&xv, x + k * xk + 8 * v, sizeof xv);
                for (int r = 0; r < R; r++)
                    if (r >= k - kr) {
                        const float c = a[r * ar + k * ak];
                        acc[r][v] += (v8sf){c, c, c, c, c, c, c, c} * xv;
                    }
            }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < HS / 8; v++) {
            float *o = out + r * ostride + 8 * v;
            if (add) {
                memcpy(&xv, o, sizeof xv);
                acc[r][v] += xv;
            }
            memcpy(o, &acc[r][v], sizeof xv);
        }
}

/* wsum_multi for nout outputs (<= ATT_QB) and any head size: blocks of as
 * many outputs as keep the sums in registers, then one at a time; a head size
 * without a specialisation sums straight into out_r (from 0 when add = 0), as
 * the generic one-output kernel always has. */
INLINE void wsum_block(float *out, size_t ostride, const float *a, size_t ar, size_t ak, const float *x, size_t xk,
                       int kr, int kend, int cols, int add, int nout, int hs) {
    int r = 0;
#define WSUM_CASE(HS, R)                                                                                          \
    case HS:                                                                                                      \
        for (; r + R <= nout; r += R)                                                                             \
            wsum_multi(out + r * ostride, ostride, a + r * ar, ar, ak, x, xk, kr + r, kend, cols, add, R, HS);    \
        for (; r < nout; r++) wsum_multi(out + r * ostride, ostride, a + r * ar, ar, ak, x, xk, kr + r, kend, cols, add, 1, HS); \
        return;
    switch (hs) {
        WSUM_CASE(8, 4)
        WSUM_CASE(16, 4)
        WSUM_CASE(32, 2)
        WSUM_CASE(64, 1)
    default: break;
    }
#undef WSUM_CASE
    for (; r < nout; r++) {
        float *o = out + r * ostride;
        const float *ar_ = a + r * ar;
        const int lo = cols ? kr + r : 0, hi = cols ? kend : kr + r + 1;
        if (!add)
            for (int d = 0; d < hs; d++) o[d] = 0.0f;
        for (int k = lo; k < hi; k++) {
            const float c = ar_[k * ak];
            const float *xk_ = x + k * xk;
            for (int d = 0; d < hs; d++) o[d] += c * xk_[d];
        }
    }
}

/* __builtin_shufflevector with constant lanes: GCC >= 12 and clang both have it
 * (GCC's __builtin_shuffle is not clang's: `make fuzz` builds with clang). */
#define SHUF_LO(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 4, 12, 5, 13)
#define SHUF_HI(a, b) __builtin_shufflevector(a, b, 2, 10, 3, 11, 6, 14, 7, 15)
#define SHUF_S0(a, b) __builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13)
#define SHUF_S1(a, b) __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15)
#define SHUF_H0(a, b) __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11)
#define SHUF_H1(a, b) __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15)

/* dst (hs, Tp) = src rows (T, hs at stride `stride`) transposed; columns T..Tp-1 zero.
 * Blocks of 8 rows x 8 columns go through registers (eight loads, an 8 x 8
 * transpose, eight stores of 8 consecutive columns): storing one float at a
 * time, the 64 scattered stores of each row held back the loads of the next. */
INLINE void pack_t(float *restrict dst, const float *restrict src, size_t stride, int T, int Tp, int hs) {
    const int T8 = T & ~7;
    int d = 0;
    for (; d + 8 <= hs; d += 8) {
        for (int j = 0; j < T8; j += 8) {
            v8sf r[8], t[8], u[8];
            for (int l = 0; l < 8; l++) memcpy(&r[l], src + (size_t)(j + l) * stride + d, sizeof r[l]);
            for (int l = 0; l < 8; l += 2) { /* t: rows l, l+1 interleaved */
                t[l] = SHUF_LO(r[l], r[l + 1]);
                t[l + 1] = SHUF_HI(r[l], r[l + 1]);
            }
            for (int l = 0; l < 8; l += 4) { /* u[l + c]: columns c and c + 4 of rows l..l+3 */
                u[l] = SHUF_S0(t[l], t[l + 2]);
                u[l + 1] = SHUF_S1(t[l], t[l + 2]);
                u[l + 2] = SHUF_S0(t[l + 1], t[l + 3]);
                u[l + 3] = SHUF_S1(t[l + 1], t[l + 3]);
            }
            for (int c = 0; c < 4; c++) { /* columns c and c + 4 of rows j..j+7 */
                const v8sf x = SHUF_H0(u[c], u[c + 4]), y = SHUF_H1(u[c], u[c + 4]);
                memcpy(dst + (size_t)(d + c) * Tp + j, &x, sizeof x);
                memcpy(dst + (size_t)(d + c + 4) * Tp + j, &y, sizeof y);
            }
        }
        for (int j = T8; j < T; j++) {
            const float *s = src + (size_t)j * stride + d;
            for (int l = 0; l < 8; l++) dst[(size_t)(d + l) * Tp + j] = s[l];
        }
    }
    for (; d < hs; d++)
        for (int j = 0; j < T; j++) dst[(size_t)d * Tp + j] = src[(size_t)j * stride + d];
    for (d = 0; d < hs; d++)
        for (int j = T; j < Tp; j++) dst[(size_t)d * Tp + j] = 0.0f;
}

#undef SHUF_LO
#undef SHUF_HI
#undef SHUF_S0
#undef SHUF_S1
#undef SHUF_H0
#undef SHUF_H1

typedef struct {
    float *out, *att, *qkv, *scratch, *dqkv, *datt;
    const float *dout;
    const PE *pe;
    const int *pos, *live;
    int layer, B, T, C, NH, parts;
} AttnArgs;

/* One sequence b, every head. kt: C x Tp, the keys of all heads packed
 * transposed (head h's at kt + h*hs*Tp), read from the rows in one sequential
 * pass; S: ATT_QB x Tp scores. */
KERNEL static void attention_forward_unit(const AttnArgs *a, int b, float *kt, float *S) {
    const int T = a->T, Tp = round8(T), C = a->C, NH = a->NH, hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    const PEOps *ops = a->pe->ops;
    const int *pb = a->pos + (size_t)b * T;
    float *base = a->qkv + (size_t)b * T * C3;
    const int TL = a->live ? a->live[b] : T; /* queries (and keys) 0..TL-1 */
    /* hook 2: transform q and k of every head in place */
    if (ops->qk_forward) {
        for (int t = 0; t < TL; t++)
            for (int h = 0; h < NH; h++) {
                ops->qk_forward(a->pe, base + (size_t)t * C3 + h * hs, pb[t], 0);
                ops->qk_forward(a->pe, base + (size_t)t * C3 + C + h * hs, pb[t], 1);
            }
    }
    /* dead queries: their rows of out are 0 (the next product's input); their
     * rows of att are not written (nothing reads them) */
    if (TL < T) memset(a->out + ((size_t)b * T + TL) * C, 0, sizeof(float) * (size_t)(T - TL) * C);
    pack_t(kt, base + C, C3, TL, Tp, C);
    for (int h = 0; h < NH; h++) {
        const float *kth = kt + (size_t)h * hs * Tp;
        for (int i0 = 0; i0 < TL; i0 += ATT_QB) {
            const int nq = TL - i0 < ATT_QB ? TL - i0 : ATT_QB;
            const int nj = round8(i0 + nq);
            scores_block(S, base + (size_t)i0 * C3 + h * hs, C3, nq, kth, Tp, nj, hs);
            float mx[ATT_QB];
            for (int r = 0; r < nq; r++) {
                const int i = i0 + r, n = i + 1;
                float *srow = S + (size_t)r * Tp;
                for (int j = 0; j < nj; j += 8) vstore(srow + j, vload(srow + j) * vbcast(scale));
                if (ops->bias_forward) ops->bias_forward(a->pe, srow, a->layer, h, pb, i);
                mx[r] = max_lanes(srow, n);
            }
            const v8si iota = {0, 1, 2, 3, 4, 5, 6, 7};
            for (int r = 0; r < nq; r++) { /* exp of the live lanes j < n (0 past them), whole vectors */
                float *srow = S + (size_t)r * Tp;
                const int n = i0 + r + 1;
                for (int j = 0; j < nj; j += 8) {
                    const v8si in = (iota + j) < n;
                    const v8sf e = vexp_neg(vselect(in, vload(srow + j) - vbcast(mx[r]), vbcast(-INFINITY)));
                    vstore(srow + j, vselect(in, e, (v8sf){0}));
                }
            }
            for (int r = 0; r < nq; r++) {
                const int i = i0 + r, n = i + 1;
                float *srow = S + (size_t)r * Tp;
                const float inv = 1.0f / sum_lanes(srow, n);
                for (int j = 0; j < nj; j += 8) vstore(srow + j, vload(srow + j) * vbcast(inv));
                float *row = a->att + (((size_t)b * NH + h) * T + i) * T;
                memcpy(row, srow, sizeof(float) * n);
                for (int j = n; j < T; j++) row[j] = 0.0f;
            }
            /* out = att @ v */
            wsum_block(a->out + ((size_t)b * T + i0) * C + h * hs, C, S, Tp, 1, base + 2 * C + h * hs, C3, i0, 0, 0, 0,
                       nq, hs);
        }
    }
}

/* One sequence b, every head. vt: C x Tp, the values of all heads packed
 * transposed; S: ATT_QB x Tp gradients of scores. */
KERNEL static void attention_backward_unit(const AttnArgs *a, int b, float *vt, float *S) {
    const int T = a->T, Tp = round8(T), C = a->C, NH = a->NH, hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    const PEOps *ops = a->pe->ops;
    const int *pb = a->pos + (size_t)b * T;
    const float *base = a->qkv + (size_t)b * T * C3;
    float *dbase = a->dqkv + (size_t)b * T * C3;
    const float *dob = a->dout + (size_t)b * T * C;
    /* dead queries (TL..T-1) have zero gradients: their terms would add
     * exact zeros, after every live term; they are skipped. Each dq, dk, dv
     * is a sum computed once, here: written, not accumulated (the bits of +=
     * onto a cleared dqkv: a sum started from 0 is never -0) */
    const int TL = a->live ? a->live[b] : T;
    pack_t(vt, base + 2 * C, C3, TL, Tp, C);
    for (int h = 0; h < NH; h++) {
        const float *vth = vt + (size_t)h * hs * Tp;
        const float *A = a->att + ((size_t)b * NH + h) * T * T;
        float *G = a->datt + ((size_t)b * NH + h) * T * T;
        for (int i0 = 0; i0 < TL; i0 += ATT_QB) {
            const int nq = TL - i0 < ATT_QB ? TL - i0 : ATT_QB;
            /* out[i] = sum_j att[i,j] v[j]:  datt[i,j] = dout[i] . v[j] */
            scores_block(S, dob + (size_t)i0 * C + h * hs, C, nq, vth, Tp, round8(i0 + nq), hs);
            for (int r = 0; r < nq; r++) {
                const int i = i0 + r, n = i + 1;
                const float *row = A + (size_t)i * T;
                float *grow = S + (size_t)r * Tp;
                /* softmax: dpre[j] = att[j] (datt[j] - sum_k att[k] datt[k]) */
                const float dot = dot_lanes(grow, row, n);
                for (int j = 0; j < n; j++) grow[j] = row[j] * (grow[j] - dot);
                /* hook 3 backward: the bias adds straight to the pre-softmax score */
                if (ops->bias_backward) ops->bias_backward(a->pe, grow, a->layer, h, pb, i);
                for (int j = 0; j < n; j++) grow[j] *= scale;
                memcpy(G + (size_t)i * T, grow, sizeof(float) * n);
            }
            /* pre[j] = scale * q[i] . k[j]:  dq[i] = sum_j scale dpre[j] k[j] */
            wsum_block(dbase + (size_t)i0 * C3 + h * hs, C3, S, Tp, 1, base + C + h * hs, C3, i0, 0, 0, 0, nq, hs);
        }
        /* dk[j] = sum_{i>=j} scale dpre[i,j] q[i];  dv[j] = sum_{i>=j} att[i,j] dout[i] */
        for (int j0 = 0; j0 < TL; j0 += ATT_QB) {
            const int nk = TL - j0 < ATT_QB ? TL - j0 : ATT_QB;
            wsum_block(dbase + (size_t)j0 * C3 + C + h * hs, C3, G + j0, 1, T, base + h * hs, C3, j0, TL, 1, 0, nk, hs);
            wsum_block(dbase + (size_t)j0 * C3 + 2 * C + h * hs, C3, A + j0, 1, T, dob + h * hs, C, j0, TL, 1, 0, nk,
                       hs);
        }
    }
    if (TL < T) memset(dbase + (size_t)TL * C3, 0, sizeof(float) * (size_t)(T - TL) * C3); /* dead rows */
    /* hook 2 backward: q, k were transformed in place after the qkv matmul */
    if (ops->qk_backward) {
        for (int t = 0; t < TL; t++)
            for (int h = 0; h < NH; h++) {
                ops->qk_backward(a->pe, dbase + (size_t)t * C3 + h * hs, pb[t], 0);
                ops->qk_backward(a->pe, dbase + (size_t)t * C3 + C + h * hs, pb[t], 1);
            }
    }
}

/* Sequences of part `part` of a->parts (at most NH parts: one scratch slice each). */
static void attention_part(const AttnArgs *a, int part, int backward) {
    if (part >= a->parts) return;
    const int Tp = round8(a->T);
    float *slice = a->scratch + (size_t)part * (a->C + ATT_QB) * Tp, *S = slice + (size_t)a->C * Tp;
    int lo, hi;
    par_range(a->B, part, a->parts, 1, &lo, &hi);
    for (int b = lo; b < hi; b++) {
        if (backward)
            attention_backward_unit(a, b, slice, S);
        else
            attention_forward_unit(a, b, slice, S);
    }
}

static void attention_forward_part(void *ctx, int part, int nparts) {
    (void)nparts;
    attention_part(ctx, part, 0);
}

static void attention_backward_part(void *ctx, int part, int nparts) {
    (void)nparts;
    attention_part(ctx, part, 1);
}

static int attention_parts(int NH, int serial) {
    int n = par_threads();
    return serial ? 1 : n < NH ? n : NH;
}

void attention_forward(float *out, float *att, float *qkv, float *scratch, const PE *pe, const int *pos, int layer,
                       int B, int T, int C, int NH, const int *live) {
    AttnArgs a = {.out = out, .att = att, .qkv = qkv, .scratch = scratch, .pe = pe, .pos = pos, .live = live, .layer = layer,
                  .B = B, .T = T, .C = C, .NH = NH, .parts = attention_parts(NH, 0)};
    if (pe->ops->bias_prepare) pe->ops->bias_prepare(pe, layer, pos, B * T);
    par_run(attention_forward_part, &a);
}

void attention_backward(float *dqkv, float *datt, float *scratch, const float *dout, const float *qkv,
                        const float *att, const PE *pe, const int *pos, int layer, int B, int T, int C, int NH,
                        const int *live) {
    /* an encoding whose bias has parameters accumulates their gradients from
     * every (batch, head): that stays on one thread (race-free, fixed order) */
    const int serial = pe->ops->bias_backward != NULL && pe->grads != NULL;
    AttnArgs a = {.dqkv = dqkv, .datt = datt, .scratch = scratch, .dout = dout, .qkv = (float *)qkv,
                  .att = (float *)att, .pe = pe, .pos = pos, .live = live, .layer = layer, .B = B, .T = T, .C = C, .NH = NH,
                  .parts = attention_parts(NH, serial)};
    par_run(attention_backward_part, &a);
    if (pe->ops->bias_reduce) pe->ops->bias_reduce(pe, layer);
}

/* ------------------------------------------------------------------------
 * Inference attention (attention_infer): the forward kernel's rows without
 * its (B, NH, T, T) output. Two regions of the pool:
 *   1. per (sequence, head): the PE qk hook on q and k of every live row, then
 *      the head's keys packed transposed into kt (B, C, Tp);
 *   2. per (sequence, block of ATT_QB queries), every head: scores against
 *      keys 0..i, bias, softmax, weighted sum of values, into the block's
 *      ATT_QB x Tp scores of the part's scratch.
 * Region 2's blocks go to the parts in turn (block k to part k mod parts):
 * the causal triangle's cost grows with the query, so neighbouring blocks
 * on different parts keep the parts even, for one sequence as for many.
 * Each row is computed with attention_forward_unit's operations in its
 * order (scores_block, the scale, the bias, max_lanes, vexp_neg, sum_lanes,
 * wsum_block), only the block it falls in differs: the rows are bitwise
 * attention_forward's, at any thread count (tests/test_layers.c,
 * tests/test_gpt.c).
 */

/* Row stride of the packed keys and the scores: T rounded up to 8, and 8
 * more when that is a multiple of 64 floats, so that the 16 or more rows a
 * block of scores reads at once do not all fall into the same cache sets
 * (a stride of 16384 floats put every one of them in one set of L1: 20x
 * slower at T = 16384). The extra columns are zeros, never read as keys. */
static inline int infer_ld(int T) {
    const int t = round8(T);
    return t % 64 == 0 ? t + 8 : t;
}

#define INFER_QB (2 * ATT_QB) /* queries per unit: two of scores_block's groups */
#define INFER_KC 256          /* keys per chunk: one head's chunk of keys (or values) stays in L1 */

size_t attention_infer_kt_floats(int B, int T, int C) { return (size_t)B * C * infer_ld(T); }

size_t attention_infer_scratch_floats(int T, int NH, int parts, const PE *pe) {
    const size_t rows = (size_t)INFER_QB * infer_ld(T); /* one block's scores */
    const size_t bias = pe->ops->bias_rows ? (size_t)NH * rows : 0; /* every head's bias of the block */
    return (size_t)parts * (rows + bias);
}

typedef struct {
    float *out, *qkv, *kt, *scratch, *probe;
    const PE *pe;
    const int *pos, *live;
    int layer, B, T, C, NH, parts, probe_head;
} InferArgs;

static inline int infer_live(const InferArgs *a, int b) { return a->live ? a->live[b] : a->T; }

/* Region 1, unit (b, h): the qk hook on head h's q and k of sequence b's live
 * rows, then its keys into kt; dead rows' out is 0 (as the forward kernel's). */
static void infer_pack_unit(const InferArgs *a, int b, int h) {
    const int T = a->T, Tp = infer_ld(T), C = a->C, hs = C / a->NH, C3 = 3 * C, TL = infer_live(a, b);
    const PEOps *ops = a->pe->ops;
    const int *pb = a->pos + (size_t)b * T;
    float *base = a->qkv + (size_t)b * T * C3;
    if (ops->qk_forward)
        for (int t = 0; t < TL; t++) {
            ops->qk_forward(a->pe, base + (size_t)t * C3 + h * hs, pb[t], 0);
            ops->qk_forward(a->pe, base + (size_t)t * C3 + C + h * hs, pb[t], 1);
        }
    pack_t(a->kt + ((size_t)b * C + (size_t)h * hs) * Tp, base + C + h * hs, C3, TL, Tp, hs);
    if (TL < T)
        for (int t = TL; t < T; t++) memset(a->out + ((size_t)b * T + t) * C + h * hs, 0, sizeof(float) * hs);
}

static void infer_pack_part(void *ctx, int part, int nparts) {
    (void)nparts;
    const InferArgs *a = ctx;
    if (part >= a->parts) return;
    for (int u = part; u < a->B * a->NH; u += a->parts) infer_pack_unit(a, u / a->NH, u % a->NH);
}

/* Inference's weighted sum, continued over chunks of keys: for R rows,
 *   out_r += sum_{k = k0 .. min(k1, kr + r + 1) - 1} (a[r*ar + k] * inv[r]) * x_k,
 * each out_r's terms in ascending k after those of the earlier chunks, its
 * sum held in out_r between chunks (stored and reloaded: the same floats).
 * Started from zeroed out rows, the chunks together are wsum_multi's rows
 * sums with the coefficients a * inv (the normalised probabilities, the same
 * product the forward kernel stores): bitwise its result. */
INLINE void iwsum_multi(float *restrict out, size_t ostride, const float *restrict a, size_t ar,
                        const float *restrict inv, const float *restrict x, size_t xk, int k0, int k1, int kr,
                        const int R, const int HS) {
    v8sf acc[4][8], xv;
    for (int r = 0; r < R; r++)
        for (int v = 0; v < HS / 8; v++) memcpy(&acc[r][v], out + r * ostride + 8 * v, sizeof xv);
    const int kall = k1 < kr + 1 ? k1 : kr + 1; /* keys every row takes */
    for (int k = k0; k < kall; k++)
        for (int v = 0; v < HS / 8; v++) {
            memcpy(&xv, x + k * xk + 8 * v, sizeof xv);
            for (int r = 0; r < R; r++) {
                const float c = a[r * ar + k] * inv[r];
                acc[r][v] += (v8sf){c, c, c, c, c, c, c, c} * xv;
            }
        }
    const int kend = k1 < kr + R ? k1 : kr + R; /* k = kr+1 .. kr+R-1: rows r >= k - kr */
    for (int k = k0 > kr + 1 ? k0 : kr + 1; k < kend; k++)
        for (int v = 0; v < HS / 8; v++) {
            memcpy(&xv, x + k * xk + 8 * v, sizeof xv);
            for (int r = 0; r < R; r++)
                if (r >= k - kr) {
                    const float c = a[r * ar + k] * inv[r];
                    acc[r][v] += (v8sf){c, c, c, c, c, c, c, c} * xv;
                }
        }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < HS / 8; v++) memcpy(out + r * ostride + 8 * v, &acc[r][v], sizeof xv);
}

/* iwsum_multi for nout rows and any head size, in wsum_block's groups of
 * rows (the generic head size sums straight into out, as wsum_block's). */
INLINE void iwsum_block(float *out, size_t ostride, const float *a, size_t ar, const float *inv, const float *x,
                        size_t xk, int k0, int k1, int kr, int nout, int hs) {
    int r = 0;
#define IWSUM_CASE(HS, R)                                                                                         \
    case HS:                                                                                                      \
        for (; r + R <= nout; r += R)                                                                             \
            iwsum_multi(out + r * ostride, ostride, a + r * ar, ar, inv + r, x, xk, k0, k1, kr + r, R, HS);       \
        for (; r < nout; r++) iwsum_multi(out + r * ostride, ostride, a + r * ar, ar, inv + r, x, xk, k0, k1, kr + r, 1, HS); \
        return;
    switch (hs) {
        IWSUM_CASE(8, 4)
        IWSUM_CASE(16, 4)
        IWSUM_CASE(32, 2)
        IWSUM_CASE(64, 1)
    default: break;
    }
#undef IWSUM_CASE
    for (; r < nout; r++) {
        float *o = out + r * ostride;
        const int hi = k1 < kr + r + 1 ? k1 : kr + r + 1;
        for (int k = k0; k < hi; k++) {
            const float c = a[r * ar + k] * inv[r];
            const float *xk_ = x + k * xk;
            for (int d = 0; d < hs; d++) o[d] += c * xk_[d];
        }
    }
}

/* Region 2, unit (b, queries i0 .. i0+nq-1, nq <= INFER_QB): S (INFER_QB, ld)
 * scores; Bb (NH, INFER_QB, ld) every head's bias of the block (encodings
 * with bias_rows) or NULL. Per head: the scores of both groups of queries a
 * chunk of keys at a time (the chunk read once for both), scaled while in
 * cache; per row the bias, the maximum, exp and its sum in sum_lanes's lanes;
 * then the weighted sums a chunk of values at a time. */
KERNEL static void infer_query_unit(const InferArgs *a, int b, int i0, float *S, float *Bb) {
    const int T = a->T, ld = infer_ld(T), C = a->C, NH = a->NH, hs = C / NH, C3 = 3 * C;
    const int TL = infer_live(a, b), nq = TL - i0 < INFER_QB ? TL - i0 : INFER_QB, nj = round8(i0 + nq);
    const float scale = 1.0f / sqrtf((float)hs);
    const PE *pe = a->pe;
    const PEOps *ops = pe->ops;
    const int *pb = a->pos + (size_t)b * T;
    const float *base = a->qkv + (size_t)b * T * C3;
    float *out = a->out + ((size_t)b * T + i0) * C;
    if (Bb)
        for (int r = 0; r < nq; r++) ops->bias_rows(pe, Bb + (size_t)r * ld, (size_t)INFER_QB * ld, a->layer, pb, i0 + r);
    const v8si iota = {0, 1, 2, 3, 4, 5, 6, 7};
    const int ng = (nq + ATT_QB - 1) / ATT_QB;
    for (int h = 0; h < NH; h++) {
        const float *kth = a->kt + ((size_t)b * C + (size_t)h * hs) * ld;
        for (int c0 = 0; c0 < nj; c0 += INFER_KC)
            for (int g = 0; g < ng; g++) {
                const int q0 = g * ATT_QB, gq = nq - q0 < ATT_QB ? nq - q0 : ATT_QB;
                const int gj = round8(i0 + q0 + gq), c1 = c0 + INFER_KC < gj ? c0 + INFER_KC : gj;
                if (c1 <= c0) continue;
                float *Sg = S + (size_t)q0 * ld;
                scores_block(Sg + c0, base + (size_t)(i0 + q0) * C3 + h * hs, C3, gq, kth + c0, ld, c1 - c0, hs);
                for (int r = 0; r < gq; r++)
                    for (int j = c0; j < c1; j += 8) vstore(Sg + (size_t)r * ld + j, vload(Sg + (size_t)r * ld + j) * vbcast(scale));
            }
        float inv[INFER_QB];
        for (int r = 0; r < nq; r++) {
            const int i = i0 + r, n = i + 1, rj = round8(n);
            float *srow = S + (size_t)r * ld;
            if (Bb) {
                const float *brow = Bb + ((size_t)h * INFER_QB + r) * ld;
                for (int j = 0; j < n; j++) srow[j] += brow[j];
            } else if (ops->bias_forward) {
                ops->bias_forward(pe, srow, a->layer, h, pb, i);
            }
            const float mx = max_lanes(srow, n);
            /* exp of the live lanes, and their sum as sum_lanes(srow, n) adds them */
            v8sf acc = {0};
            float tail = 0.0f;
            for (int j = 0; j < rj; j += 8) {
                const v8si in = (iota + j) < n;
                const v8sf e = vselect(in, vexp_neg(vselect(in, vload(srow + j) - vbcast(mx), vbcast(-INFINITY))), (v8sf){0});
                vstore(srow + j, e);
                if (j + 8 <= n)
                    acc += e;
                else
                    for (int l = 0; l < n - j; l++) tail += e[l];
            }
            inv[r] = 1.0f / (vreduce_add(acc) + tail);
            if (a->probe && (a->probe_head < 0 || a->probe_head == h)) {
                float *row = a->probe + ((size_t)(a->probe_head < 0 ? h : 0) * T + i) * T;
                for (int j = 0; j < n; j++) row[j] = srow[j] * inv[r];
                memset(row + n, 0, sizeof(float) * (size_t)(T - n));
            }
        }
        for (int r = 0; r < nq; r++) memset(out + (size_t)r * C + h * hs, 0, sizeof(float) * hs);
        for (int c0 = 0; c0 < nj; c0 += INFER_KC) {
            const int c1 = c0 + INFER_KC < nj ? c0 + INFER_KC : nj;
            iwsum_block(out + h * hs, C, S, ld, inv, base + 2 * C + h * hs, C3, c0, c1, i0, nq, hs);
        }
    }
}

static void infer_query_part(void *ctx, int part, int nparts) {
    (void)nparts;
    const InferArgs *a = ctx;
    if (part >= a->parts) return;
    const size_t rows = (size_t)INFER_QB * infer_ld(a->T);
    const size_t slice = rows + (a->pe->ops->bias_rows ? (size_t)a->NH * rows : 0);
    float *S = a->scratch + (size_t)part * slice, *Bb = a->pe->ops->bias_rows ? S + rows : NULL;
    int u = 0;
    for (int b = 0; b < a->B; b++)
        for (int i0 = 0, TL = infer_live(a, b); i0 < TL; i0 += INFER_QB, u++)
            if (u % a->parts == part) infer_query_unit(a, b, i0, S, Bb);
}

void attention_infer(float *out, float *qkv, float *kt, float *scratch, int parts, const PE *pe, const int *pos,
                     int layer, int B, int T, int C, int NH, const int *live, float *probe, int probe_head) {
    const int n = par_threads();
    InferArgs a = {.out = out, .qkv = qkv, .kt = kt, .scratch = scratch, .probe = probe, .pe = pe, .pos = pos,
                   .live = live, .layer = layer, .B = B, .T = T, .C = C, .NH = NH, .parts = n < parts ? n : parts,
                   .probe_head = probe_head};
    const PEOps *ops = pe->ops;
    if (ops->bias_rows) {
        if (ops->bias_prepare_rows) ops->bias_prepare_rows(pe, layer, pos, B * T);
    } else if (ops->bias_prepare) {
        ops->bias_prepare(pe, layer, pos, B * T);
    }
    par_run(infer_pack_part, &a);
    par_run(infer_query_part, &a);
}

/* One query against cached keys and values: row i of attention_forward_unit
 * for every head, the same operations in the same order, one row at a time
 * (rowdot_t over keys packed transposed, scale, bias, max/exp/sum in fixed
 * lanes, wsum_block): the scalar exp_neg here, its lane-by-lane vexp_neg
 * there, the same bits (tests/test_decode.c). */
KERNEL void attention_decode(float *out, float *row, float *qkv, float *kt, float *v, int cap, const PE *pe,
                             const int *pos, int layer, int i, int C, int NH) {
    const int hs = C / NH, n = i + 1;
    const float scale = 1.0f / sqrtf((float)hs);
    const PEOps *ops = pe->ops;
    if (ops->bias_prepare_query) ops->bias_prepare_query(pe, layer, pos, i);
    else if (ops->bias_prepare) ops->bias_prepare(pe, layer, pos, n);
    for (int h = 0; h < NH; h++) {
        float *q = qkv + h * hs, *k = qkv + C + h * hs;
        float *kth = kt + (size_t)h * hs * cap, *vh = v + (size_t)h * cap * hs;
        /* hook 2: transform q and k of this head in place */
        if (ops->qk_forward) {
            ops->qk_forward(pe, q, pos[i], 0);
            ops->qk_forward(pe, k, pos[i], 1);
        }
        for (int d = 0; d < hs; d++) kth[(size_t)d * cap + i] = k[d];
        memcpy(vh + (size_t)i * hs, qkv + 2 * C + h * hs, sizeof(float) * hs);
        rowdot_t(row, q, kth, n, cap, hs);
        for (int j = 0; j < n; j++) row[j] *= scale;
        if (ops->bias_forward) ops->bias_forward(pe, row, layer, h, pos, i);
        const float mx = max_lanes(row, n);
        for (int j = 0; j < n; j++) row[j] = exp_neg(row[j] - mx);
        const float inv = 1.0f / sum_lanes(row, n);
        for (int j = 0; j < n; j++) row[j] *= inv;
        wsum_block(out + h * hs, 0, row, 0, 1, vh, hs, i, 0, 0, 0, 1, hs);
    }
}

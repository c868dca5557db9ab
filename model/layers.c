/*
 * layers.c — forward/backward pairs (see layers.h for the contracts).
 */
#include "layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

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

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
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

void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
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

void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C, int OC) {
    float beta = 0.0f;
    if (bias) {
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * OC, bias, sizeof(float) * OC);
        beta = 1.0f;
    }
    /* out (N, OC) = inp (N, C) @ w^T (C, OC) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, int N, int C, int OC) {
    /* dinp (N, C) += dout (N, OC) @ w (OC, C) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    /* dw (OC, C) += dout^T (OC, N) @ inp (N, C) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
    if (dbias) {
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++) dbias[o] += d[o];
        }
    }
}

/* ------------------------------------------------------------------------
 * Causal multi-head attention with position-encoding hooks
 */

void attention_forward(float *out, float *att, float *qkv, const PE *pe, const int *pos, int layer,
                       int B, int T, int C, int NH) {
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / sqrtf((float)hs);
    const PEOps *ops = pe->ops;

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

void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                        const PE *pe, const int *pos, int layer, int B, int T, int C, int NH) {
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
void gelu_forward(float *out, const float *inp, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i];
        float u = GELU_SCALE * (x + 0.044715f * x * x * x);
        out[i] = x / (1.0f + expf(-2.0f * u));
    }
}

void gelu_backward(float *dinp, const float *inp, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        /* d/dx x s(2u) = s + x s (1 - s) 2 du/dx,  s = sigmoid(2u) */
        float x = inp[i];
        float u = GELU_SCALE * (x + 0.044715f * x * x * x);
        float s = 1.0f / (1.0f + expf(-2.0f * u));
        float du = GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += (s + 2.0f * x * s * (1.0f - s) * du) * dout[i];
    }
}

void residual_forward(float *out, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void residual_backward(float *da, float *db, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

/* ------------------------------------------------------------------------
 * Softmax + masked cross-entropy
 */

int crossentropy_forward(float *probs, float *losses, const float *logits, const int *targets, int N, int V) {
    int count = 0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * V;
        float *p = probs + (size_t)n * V;
        float mx = -INFINITY;
        for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        float sum = 0.0f;
        for (int v = 0; v < V; v++) {
            p[v] = expf(z[v] - mx);
            sum += p[v];
        }
        for (int v = 0; v < V; v++) p[v] /= sum;
        int t = targets ? targets[n] : -1;
        if (t >= 0) {
            /* log-sum-exp form: exact even when p[t] underflows */
            losses[n] = logf(sum) + mx - z[t];
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

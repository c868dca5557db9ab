/*
 * pe_alibi.c — ALiBi (Press et al. 2022): a fixed linear bias on attention
 * scores, score[i, j] += -m_h * (pos[i] - pos[j]) for j <= i, with the
 * head slopes m_h of the paper's get_slopes (geometric, for any head count).
 */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "model/pe.h"

/* get_slopes_power_of_2(n): start = 2^(-8/n), slopes start^1 .. start^n */
static void slopes_pow2(float *out, int n) {
    double start = dm_pow(2.0, -dm_pow(2.0, -(dm_log2((double)n) - 3.0)));
    double s = start;
    for (int i = 0; i < n; i++, s *= start) out[i] = (float)s;
}

void pe_alibi_slopes(float *slopes, int NH) {
    int p2 = 1;
    while (p2 * 2 <= NH) p2 *= 2; /* closest power of two <= NH */
    slopes_pow2(slopes, p2);
    if (p2 == NH) return;
    /* get_slopes(2*p2)[0::2][:NH-p2] */
    float *extra = core_calloc((size_t)2 * p2, sizeof(float));
    pe_alibi_slopes(extra, 2 * p2);
    for (int i = 0; i < NH - p2; i++) slopes[p2 + i] = extra[2 * i];
    free(extra);
}

static int alibi_setup(PE *pe) {
    float *slopes = core_calloc(pe->cfg.NH, sizeof(float));
    pe_alibi_slopes(slopes, pe->cfg.NH);
    pe->state = slopes;
    return 0;
}

static void alibi_bias_forward(const PE *pe, float *row, int l, int h, const int *pos, int i) {
    (void)l;
    const float m = ((const float *)pe->state)[h];
    const int pi = pos[i];
    for (int j = 0; j <= i; j++) row[j] -= m * (float)(pi - pos[j]);
}

const PEOps pe_alibi_ops = {
    .name = "alibi",
    .summary = "fixed linear attention bias -m_h*(i-j), geometric head slopes (Press et al. 2022)",
    .setup = alibi_setup,
    .bias_forward = alibi_bias_forward,
    /* no parameters: nothing to do in backward */
};

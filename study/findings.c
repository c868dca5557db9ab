/*
 * findings.c — intervals, paired differences and break lengths (findings.h).
 * Only +, -, *, / and sqrt (correctly rounded everywhere): the same bits on
 * every machine.
 */
#include "study/findings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define Z975 1.959963984540054

double t975(int df) {
    static const double table[31] = {0,      12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646,
                                      2.3060, 2.2622,  2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314,
                                      2.1199, 2.1098,  2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687,
                                      2.0639, 2.0595,  2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
    if (df < 1) df = 1;
    if (df <= 30) return table[df];
    return Z975 + 2.3722 / df; /* Cornish-Fisher's first term: within 0.003 of the exact value past 30 */
}

void wilson95(double p, long n, double *lo, double *hi) {
    if (n < 1) {
        *lo = 0.0, *hi = 1.0;
        return;
    }
    if (p < 0) p = 0;
    if (p > 1) p = 1;
    const double z2 = Z975 * Z975, nn = (double)n, den = 1.0 + z2 / nn;
    const double centre = (p + z2 / (2.0 * nn)) / den;
    const double half = Z975 * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / den;
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

static double clip01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

Interval interval_of(const double *v, int k, long examples) {
    Interval r = {0};
    r.k = k;
    r.examples = examples;
    if (k < 1) return r;
    double sum = 0;
    r.min = r.max = v[0];
    for (int i = 0; i < k; i++) {
        sum += v[i];
        if (v[i] < r.min) r.min = v[i];
        if (v[i] > r.max) r.max = v[i];
    }
    r.mean = sum / k;
    if (k > 1) {
        double ss = 0;
        for (int i = 0; i < k; i++) ss += (v[i] - r.mean) * (v[i] - r.mean);
        r.std = sqrt(ss / (k - 1));
        r.hw_seed = t975(k - 1) * r.std / sqrt((double)k);
    }
    double wl, wh;
    wilson95(r.mean, examples, &wl, &wh);
    const double below = r.mean - wl > 0 ? r.mean - wl : 0, above = wh - r.mean > 0 ? wh - r.mean : 0;
    r.hw_sample = below > above ? below : above;
    r.lo = clip01(r.mean - sqrt(r.hw_seed * r.hw_seed + below * below));
    r.hi = clip01(r.mean + sqrt(r.hw_seed * r.hw_seed + above * above));
    return r;
}

Interval interval_seeds(const double *v, int k) {
    Interval r = {0};
    r.k = k;
    if (k < 1) return r;
    double sum = 0;
    r.min = r.max = v[0];
    for (int i = 0; i < k; i++) {
        sum += v[i];
        if (v[i] < r.min) r.min = v[i];
        if (v[i] > r.max) r.max = v[i];
    }
    r.mean = sum / k;
    if (k > 1) {
        double ss = 0;
        for (int i = 0; i < k; i++) ss += (v[i] - r.mean) * (v[i] - r.mean);
        r.std = sqrt(ss / (k - 1));
        r.hw_seed = t975(k - 1) * r.std / sqrt((double)k);
    }
    r.lo = r.mean - r.hw_seed;
    r.hi = r.mean + r.hw_seed;
    return r;
}

Paired paired_of(const double *a, const double *b, int k, long examples) {
    Paired r = {0};
    r.k = k;
    if (k < 1) return r;
    double sum = 0, sa = 0, sb = 0;
    for (int i = 0; i < k; i++) {
        const double d = a[i] - b[i];
        sum += d, sa += a[i], sb += b[i];
        r.pos += d > 0, r.neg += d < 0, r.zero += d == 0;
    }
    r.mean = sum / k;
    if (k > 1) {
        double ss = 0;
        for (int i = 0; i < k; i++) {
            const double d = a[i] - b[i] - r.mean;
            ss += d * d;
        }
        r.hw_seed = t975(k - 1) * sqrt(ss / (k - 1)) / sqrt((double)k);
    }
    /* the sample part: the sum of the two Wilson half-widths (their wider sides), which bounds the
     * difference whatever the correlation on the shared examples, and is not 0 at p = 0 or 1 */
    const double pa = clip01(sa / k), pb = clip01(sb / k);
    if (examples > 0) {
        double lo, hi, wa, wb;
        wilson95(pa, examples, &lo, &hi);
        wa = pa - lo > hi - pa ? pa - lo : hi - pa;
        wilson95(pb, examples, &lo, &hi);
        wb = pb - lo > hi - pb ? pb - lo : hi - pb;
        r.hw_sample = wa + wb;
    }
    const double hw = sqrt(r.hw_seed * r.hw_seed + r.hw_sample * r.hw_sample);
    r.lo = r.mean - hw;
    r.hi = r.mean + hw;
    /* one seed has no seed part: nothing is resolved from it */
    r.verdict = k < 2 ? 0 : r.lo > 0 ? 1 : r.hi < 0 ? -1 : 0;
    return r;
}

int paired_support(const Paired *p) {
    const int sign = p->verdict ? p->verdict : (p->mean > 0) - (p->mean < 0);
    return sign > 0 ? p->pos : sign < 0 ? p->neg : p->zero;
}

int in_range_mean(const int *n, const double *v, int num, int min_len, int max_len, double *mean) {
    double sum = 0;
    int cnt = 0;
    for (int i = 0; i < num; i++)
        if (n[i] >= min_len && n[i] <= max_len) sum += v[i], cnt++;
    *mean = cnt ? sum / cnt : 0;
    return cnt;
}

Break break_find(const int *n, const double *v, const double *thr, int num, int min_len, int max_len, int above) {
    Break b = {0};
    int prev = 0;
    for (int i = 0; i < num; i++) {
        if (n[i] < min_len) continue; /* shorter than anything trained on: not this question */
        if (thr[i] == thr[i] && (above ? v[i] > thr[i] : v[i] < thr[i])) { /* NaN: not checked */
            b.n = n[i];
            b.last_ok = prev;
            b.in_range = n[i] <= max_len;
            return b;
        }
        prev = n[i];
    }
    return b;
}

int break_coarse(int last_ok, int n) { return last_ok > 0 && n > 0 && 4 * (n - last_ok) > last_ok; }

static int cmp_break(const void *x, const void *y) {
    /* censored (0) sorts above every length */
    int a = *(const int *)x, b = *(const int *)y;
    if (a == 0) a = 1 << 30;
    if (b == 0) b = 1 << 30;
    return (a > b) - (a < b);
}

int break_summary(const int *b, int k, int *median, int *min, int *max, int *censored) {
    int v[FINDINGS_MAX_SEEDS], m = 0;
    *censored = 0;
    for (int i = 0; i < k && m < FINDINGS_MAX_SEEDS; i++) {
        if (b[i] < 0) continue;
        *censored += b[i] == 0;
        v[m++] = b[i];
    }
    *median = *min = *max = -1;
    if (!m) return 0;
    qsort(v, m, sizeof *v, cmp_break);
    *min = v[0];
    *max = v[m - 1];
    *median = v[(m - 1) / 2]; /* the lower median: an evaluated length */
    return m;
}

void break_n_text(int b, int n_max, char *buf, unsigned cap) {
    if (b < 0)
        snprintf(buf, cap, "n/a");
    else if (b == 0)
        snprintf(buf, cap, "> %d", n_max);
    else
        snprintf(buf, cap, "%d", b);
}

void break_text(const Break *b, int n_max, char *buf, unsigned cap) {
    if (b->n <= 0)
        break_n_text(b->n, n_max, buf, cap);
    else if (b->in_range)
        snprintf(buf, cap, "in range: %d", b->n);
    else
        snprintf(buf, cap, "%d to %d", b->last_ok, b->n);
}

void break_range_text(const BreakSummary *s, char *buf, unsigned cap) {
    char med[48], lo[24], hi[24];
    if (s->defined < 1) {
        snprintf(buf, cap, "n/a");
        return;
    }
    const Break mb = {.n = s->median, .last_ok = s->median_last_ok, .in_range = s->median > 0 && s->median <= s->max_len};
    break_text(&mb, s->n_max, med, sizeof med);
    const char *coarse = !mb.in_range && break_coarse(mb.last_ok, mb.n) ? " (coarse grid)" : "";
    if (s->defined == 1) {
        snprintf(buf, cap, "%s%s (one seed)", med, coarse);
        return;
    }
    if (s->min == s->max) {
        snprintf(buf, cap, "%s%s", med, coarse);
        return;
    }
    break_n_text(s->min, s->n_max, lo, sizeof lo);
    break_n_text(s->max, s->n_max, hi, sizeof hi);
    snprintf(buf, cap, "%s%s (median; %s to %s over the seeds)", med, coarse, lo, hi);
}

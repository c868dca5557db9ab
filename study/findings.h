/*
 * findings.h — the statistics behind a finding (docs/SPEC.md §2.1): 95 %
 * intervals that account for both the evaluation sample and the seeds, paired
 * differences between encodings, and the break length.
 *
 * Two sources of uncertainty, combined and also reported apart:
 *
 *   seed part     a Student t interval over the seeds' values (k seeds, k - 1
 *                 degrees of freedom): the spread of training runs. None with
 *                 one seed.
 *   sample part   the finite evaluation set: N examples per length. Every run
 *                 of an experiment is evaluated on the SAME examples (eval.seed,
 *                 run/score.h), so this part does not shrink with the seeds: it is
 *                 the Wilson score interval of the mean with N examples (for
 *                 token_acc too: a mean of per-example accuracies in [0, 1] has a
 *                 variance of at most p (1 - p) / N, so counting examples, not
 *                 correlated tokens, is the conservative choice).
 *
 *   The 95 % interval of a cell is mean -/+ sqrt(seed half-width^2 + sample
 *   half-width^2) on each side (the Wilson interval is asymmetric), clipped to
 *   [0, 1].
 *
 * A paired difference of encodings A and B at a length uses the seeds both
 * have: d_s = A(s) - B(s), same seed, same evaluation examples. Its interval
 * is the t interval of the mean d widened in quadrature by the sample part:
 * the sum of the two means' Wilson half-widths (the wider side of each), a
 * bound whatever the correlation of the two on the shared examples (the
 * per-example outcomes are not kept), and not 0 when both are 0 or 1. The verdict is A > B when the interval
 * lies above 0, A < B below 0, and unresolved when it covers 0; the support is
 * in how many seeds d_s has the sign of the mean.
 *
 * The break length of a run: the in-distribution value is the mean of the
 * metric over the evaluated lengths inside the training range; the break length
 * is the first evaluated n past the training range where the metric falls
 * below fraction x that value (fraction 0.5 by default). A run that does not
 * break up to its longest evaluated length is censored (reported as "> n_max").
 */
#ifndef POSENC_FINDINGS_H
#define POSENC_FINDINGS_H

#define FINDINGS_BREAK_FRACTION 0.5
#define FINDINGS_MAX_SEEDS 64

/* the two-sided 95 % quantile of Student's t with df degrees of freedom (df >= 1) */
double t975(int df);

/* Wilson score 95 % interval of a proportion p measured on n trials (n >= 1). */
void wilson95(double p, long n, double *lo, double *hi);

typedef struct {
    int k;                 /* seeds */
    long examples;         /* N: evaluation examples per run (the smallest over the seeds) */
    double mean, std, min, max;
    double lo, hi;         /* the combined 95 % interval, clipped to [0, 1] */
    double hw_seed;        /* half-width of the seed part (t interval); 0 with one seed */
    double hw_sample;      /* half-width of the sample part: the wider side of the Wilson interval */
} Interval;

/* The interval of k >= 1 per-seed values of a proportion, each on N examples. */
Interval interval_of(const double *v, int k, long examples);

typedef struct {
    int k;                 /* seeds both have */
    double mean, lo, hi;   /* mean of d_s = a_s - b_s and its 95 % interval */
    double hw_seed, hw_sample;
    int pos, neg, zero;    /* seeds with d_s > 0, < 0, == 0 */
    int verdict;           /* +1: a > b, -1: a < b, 0: unresolved (the interval covers 0) */
} Paired;

/* The paired difference of a[i] - b[i] over k >= 1 seeds, on N examples. */
Paired paired_of(const double *a, const double *b, int k, long examples);

/* In how many seeds d_s has the sign of the verdict (or, unresolved, of the mean). */
int paired_support(const Paired *p);

/* The break length of one run: n[0..num-1] ascending, v[] the metric.
 * Returns the first n > max_len with v < fraction * (mean of v over min_len..max_len);
 * 0 when it never does (censored), -1 when undefined (no evaluated length in the
 * training range, or an in-distribution value of 0). *in_dist gets that mean. */
int break_length(const int *n, const double *v, int num, int min_len, int max_len, double fraction,
                 double *in_dist);

/* Median, min and max of k break lengths (0 = censored, taken as above every
 * length; -1 = undefined, skipped). *censored counts the censored ones; returns
 * the number of defined ones. A censored median or max is 0. */
int break_summary(const int *b, int k, int *median, int *min, int *max, int *censored);

/* "10", "> 32" (censored at n_max), "n/a" */
void break_text(int b, int n_max, char *buf, unsigned cap);
/* A summary over seeds (break_summary's): "10 [10 to 12]", "12 (one seed)" or "n/a" (none defined). */
void break_range_text(int median, int min, int max, int defined, int n_max, char *buf, unsigned cap);

#endif

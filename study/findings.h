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
 * The break of a run (docs/SPEC.md §2.1), what the evaluated lengths know of
 * where a metric leaves its in-distribution value. The reference is the mean
 * of the metric over the evaluated lengths inside the training range. The
 * threshold: for a metric where higher is better (exact_match, token_acc)
 * fraction x the reference (fraction 0.5 by default), crossed when the metric
 * falls below it; for loss and perplexity, perplexity above factor x the
 * reference perplexity (factor 2 by default), i.e. loss above the reference
 * loss + ln(factor): the same length either way. The break is located on the
 * grid: the first evaluated n past the training range on the wrong side, and
 * the evaluated length before it (the training range's last, or one past it):
 * it breaks somewhere in (last_ok, n]. An evaluation variant (a RoPE scaling)
 * is measured against its run's unscaled evaluation: past the training range
 * against the same threshold, and inside it length by length (fraction x, or
 * factor x in perplexity, the unscaled value at that n), so a scaling that
 * already loses inside the training range is reported as such. A run that
 * never crosses up to its longest evaluated length is censored ("> n_max").
 */
#ifndef POSENC_FINDINGS_H
#define POSENC_FINDINGS_H

#define FINDINGS_BREAK_FRACTION 0.5 /* exact_match, token_acc: below 0.5 x the reference */
#define FINDINGS_BREAK_FACTOR 2.0   /* loss, perplexity: perplexity above 2 x the reference */
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
/* The seed part alone, unclipped: loss and perplexity, whose per-example
 * spread the evaluation files do not keep (hw_sample 0; none with one seed). */
Interval interval_seeds(const double *v, int k);

typedef struct {
    int k;                 /* seeds both have */
    double mean, lo, hi;   /* mean of d_s = a_s - b_s and its 95 % interval */
    double hw_seed, hw_sample;
    int pos, neg, zero;    /* seeds with d_s > 0, < 0, == 0 */
    int verdict;           /* +1: a > b, -1: a < b, 0: unresolved (the interval covers 0) */
} Paired;

/* The paired difference of a[i] - b[i] over k >= 1 seeds, on N examples
 * (examples <= 0: the seed part alone, as for loss and perplexity). */
Paired paired_of(const double *a, const double *b, int k, long examples);

/* In how many seeds d_s has the sign of the verdict (or, unresolved, of the mean). */
int paired_support(const Paired *p);

/* The break of one run at one metric. */
typedef struct {
    int n;           /* the first evaluated n on the wrong side of the threshold; 0: none up to the longest
                        evaluated length (censored); -1: undefined (no evaluated length in the training
                        range, or a reference of 0 for a fraction rule) */
    int last_ok;     /* the evaluated length before n (>= min_len), on the right side; 0: none (n is the
                        first evaluated length >= min_len) */
    int in_range;    /* n <= max_len: already past the threshold inside the training range */
    double ref;      /* the reference: the in-range mean (of the unscaled evaluation for a variant) */
} Break;

/* The mean of v over the evaluated lengths in [min_len, max_len] into *mean;
 * returns how many there are (0: *mean = 0). */
int in_range_mean(const int *n, const double *v, int num, int min_len, int max_len, double *mean);

/* The break of one run (ref is the caller's): n[0..num-1] ascending, v[]
 * the metric, thr[] the threshold per length (NaN: not checked; a run's own
 * training range is not checked against its own mean). above = 0: breaks
 * where v < thr; above = 1: where v > thr. */
Break break_find(const int *n, const double *v, const double *thr, int num, int min_len, int max_len, int above);

/* Whether the grid is coarse at a break (last_ok, n]: wider than a quarter
 * of last_ok (between 20 and 32 is; between 8 and 10 is not). */
int break_coarse(int last_ok, int n);

/* Median, min and max of k break lengths (0 = censored, taken as above every
 * length; -1 = undefined, skipped). *censored counts the censored ones; returns
 * the number of defined ones. A censored median or max is 0. */
int break_summary(const int *b, int k, int *median, int *min, int *max, int *censored);

/* One run's break: "8 to 10" (last at or past the threshold's right side, first on
 * its wrong side), "in range: 8", "> 32" (censored at n_max), "n/a" */
void break_text(const Break *b, int n_max, char *buf, unsigned cap);
/* A first-below length alone: "10", "> 32" (0: censored at n_max), "n/a" (-1) */
void break_n_text(int b, int n_max, char *buf, unsigned cap);

/* A cell's break over its seeds. */
typedef struct {
    int defined;       /* seeds with a break defined */
    int censored;      /* of them, censored */
    int in_range;      /* of them, past the threshold inside the training range */
    int median, min, max; /* of the first lengths past the threshold (break_summary's) */
    int median_last_ok;   /* the evaluated length before the median (a seed whose n is the median) */
    int max_len, n_max;   /* the training range's end and the longest evaluated length */
} BreakSummary;

/* "8 to 10", "8 to 10 (one seed)", "8 to 10 (median; 10 to > 32 over the seeds)",
 * "16 to 32 (coarse grid)", "in range: 8", "> 32", "n/a" */
void break_range_text(const BreakSummary *s, char *buf, unsigned cap);

#endif

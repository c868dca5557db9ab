/*
 * test_findings.c — intervals, paired differences and break lengths
 * (study/findings.h), against values computed by hand (Python, the formulas of
 * findings.h) and the textbook tables.
 */
#include <check.h>
#include <math.h>

#include "study/findings.h"
#include "tests/testutil.h"

START_TEST(test_t975) {
    /* Student t, two-sided 95 %: the textbook table */
    ck_assert_double_eq_tol(t975(1), 12.7062, 1e-4);
    ck_assert_double_eq_tol(t975(2), 4.3027, 1e-4);
    ck_assert_double_eq_tol(t975(4), 2.7764, 1e-4);
    ck_assert_double_eq_tol(t975(30), 2.0423, 1e-4);
    ck_assert_double_eq_tol(t975(60), 2.0003, 3e-3);
    ck_assert_double_eq_tol(t975(120), 1.9799, 3e-3);
    ck_assert(t975(1000) > 1.96 && t975(1000) < 1.963);
}
END_TEST

START_TEST(test_wilson) {
    double lo, hi;
    wilson95(0.5, 100, &lo, &hi);
    ck_assert_double_eq_tol(lo, 0.403832, 1e-6);
    ck_assert_double_eq_tol(hi, 0.596168, 1e-6);
    /* at 0 (and 1) the interval is not empty: 0 of 200 does not say "never" */
    wilson95(0.0, 200, &lo, &hi);
    ck_assert_double_eq_tol(lo, 0.0, 1e-12);
    ck_assert_double_eq_tol(hi, 0.018845, 1e-6);
    wilson95(1.0, 200, &lo, &hi);
    ck_assert_double_eq_tol(lo, 1 - 0.018845, 1e-6);
    ck_assert_double_eq_tol(hi, 1.0, 1e-12);
}
END_TEST

START_TEST(test_interval) {
    const double v[3] = {0.9, 0.8, 0.85};
    Interval r = interval_of(v, 3, 200);
    ck_assert_int_eq(r.k, 3);
    ck_assert_double_eq_tol(r.mean, 0.85, 1e-12);
    ck_assert_double_eq_tol(r.std, 0.05, 1e-12);
    ck_assert_double_eq_tol(r.min, 0.8, 1e-12);
    ck_assert_double_eq_tol(r.max, 0.9, 1e-12);
    ck_assert_double_eq_tol(r.hw_seed, 0.124208, 1e-5);  /* 4.3027 * 0.05 / sqrt(3) */
    ck_assert_double_eq_tol(r.hw_sample, 0.056056, 1e-5); /* 0.85 - Wilson's 0.793944 */
    ck_assert_double_eq_tol(r.lo, 0.713728, 1e-5);
    ck_assert_double_eq_tol(r.hi, 0.981396, 1e-5);
    /* one seed: the sample part only */
    Interval one = interval_of(v, 1, 200);
    ck_assert_double_eq_tol(one.hw_seed, 0.0, 1e-12);
    ck_assert(one.lo > 0.85 && one.lo < 0.9 && one.hi > 0.9 && one.hi < 0.95);
    /* clipped to [0, 1] */
    const double w[2] = {0.475, 0.0};
    Interval c = interval_of(w, 2, 200);
    ck_assert_double_eq_tol(c.lo, 0.0, 1e-12);
    ck_assert_double_eq_tol(c.hi, 1.0, 1e-12);
    /* more examples: a smaller sample part, the same seed part */
    Interval big = interval_of(v, 3, 20000);
    ck_assert(big.hw_sample < r.hw_sample / 5);
    ck_assert_double_eq_tol(big.hw_seed, r.hw_seed, 1e-12);
}
END_TEST

START_TEST(test_paired) {
    const double a[3] = {0.9, 0.8, 0.85}, b[3] = {0.1, 0.2, 0.0};
    Paired p = paired_of(a, b, 3, 200);
    ck_assert_int_eq(p.k, 3);
    ck_assert_double_eq_tol(p.mean, 0.75, 1e-12);
    ck_assert_double_eq_tol(p.hw_seed, 0.328624, 1e-5);
    ck_assert_double_eq_tol(p.hw_sample, 0.105462, 1e-5);
    ck_assert_double_eq_tol(p.lo, 0.404868, 1e-5);
    ck_assert_double_eq_tol(p.hi, 1.095132, 1e-5);
    ck_assert_int_eq(p.verdict, 1);
    ck_assert_int_eq(p.pos, 3);
    ck_assert_int_eq(paired_support(&p), 3);
    /* the other way round: the mirror */
    Paired q = paired_of(b, a, 3, 200);
    ck_assert_int_eq(q.verdict, -1);
    ck_assert_int_eq(paired_support(&q), 3);
    ck_assert_double_eq_tol(q.lo, -p.hi, 1e-12);
    /* equal everywhere, even at 0: not resolved, and the interval is not a point */
    const double z[3] = {0, 0, 0};
    Paired e = paired_of(z, z, 3, 200);
    ck_assert_int_eq(e.verdict, 0);
    ck_assert_int_eq(e.zero, 3);
    ck_assert(e.lo < 0 && e.hi > 0);
    /* one seed never resolves */
    Paired one = paired_of(a, b, 1, 200);
    ck_assert_int_eq(one.verdict, 0);
    /* a sign that does not hold in every seed: support counts the seeds with the mean's sign */
    const double c[3] = {0.5, 0.4, 0.1}, d[3] = {0.3, 0.3, 0.2};
    Paired m = paired_of(c, d, 3, 200);
    ck_assert_int_eq(m.verdict, 0);
    ck_assert_int_eq(m.pos, 2);
    ck_assert_int_eq(m.neg, 1);
    ck_assert_int_eq(paired_support(&m), 2);
}
END_TEST

/* the break of a run's own evaluation: in-range lengths make the reference and are not checked */
static Break own_break(const int *n, const double *v, int num, int min_len, int max_len, double fraction) {
    double mean;
    const int cnt = in_range_mean(n, v, num, min_len, max_len, &mean);
    double thr[16];
    for (int i = 0; i < num; i++) thr[i] = n[i] > max_len ? fraction * mean : NAN;
    Break b = cnt && mean > 0 ? break_find(n, v, thr, num, min_len, max_len, 0) : (Break){.n = -1};
    b.ref = mean;
    return b;
}

START_TEST(test_break_length) {
    const int n[7] = {1, 2, 4, 8, 10, 12, 16};
    const double v[7] = {1, 1, 1, 0.9, 0.6, 0.4, 0.1};
    /* in range 1..8: mean 0.975; half of it 0.4875: first below at 12, the last at or above at 10 */
    Break b = own_break(n, v, 7, 1, 8, 0.5);
    ck_assert_int_eq(b.n, 12);
    ck_assert_int_eq(b.last_ok, 10);
    ck_assert_int_eq(b.in_range, 0);
    ck_assert_double_eq_tol(b.ref, 0.975, 1e-12);
    char t[48];
    break_text(&b, 16, t, sizeof t);
    ck_assert_str_eq(t, "10 to 12");
    /* a stricter rule breaks earlier: right after the training range */
    b = own_break(n, v, 7, 1, 8, 0.7);
    ck_assert_int_eq(b.n, 10);
    ck_assert_int_eq(b.last_ok, 8);
    /* lengths inside the training range never count against the run's own mean */
    ck_assert_int_eq(own_break(n, v, 7, 1, 2, 0.95).n, 8);
    /* never below: censored */
    const double h[7] = {1, 1, 1, 1, 0.9, 0.8, 0.7};
    b = own_break(n, h, 7, 1, 8, 0.5);
    ck_assert_int_eq(b.n, 0);
    break_text(&b, 16, t, sizeof t);
    ck_assert_str_eq(t, "> 16");
    /* nothing inside the training range, or nothing right there: undefined */
    ck_assert_int_eq(own_break(n, v, 7, 20, 30, 0.5).n, -1);
    const double zero[7] = {0};
    ck_assert_int_eq(own_break(n, zero, 7, 1, 8, 0.5).n, -1);
    /* a variant checked inside the training range against another evaluation's values: below at n = 4 */
    const double thr[7] = {0.5, 0.5, 0.5, 0.45, 0.4875, 0.4875, 0.4875};
    const double var[7] = {0.9, 0.7, 0.3, 0.2, 0.2, 0.1, 0.1};
    b = break_find(n, var, thr, 7, 1, 8, 0);
    ck_assert_int_eq(b.n, 4);
    ck_assert_int_eq(b.last_ok, 2);
    ck_assert_int_eq(b.in_range, 1);
    break_text(&b, 16, t, sizeof t);
    ck_assert_str_eq(t, "in range: 4");
    /* above: loss past a threshold (perplexity's rule); lengths below min_len are not this question */
    const double loss[7] = {3.0, 1.0, 1.0, 1.1, 1.5, 2.0, 2.5};
    const double lthr[7] = {1.7, 1.7, 1.7, 1.7, 1.7, 1.7, 1.7};
    b = break_find(n, loss, lthr, 7, 2, 8, 1);
    ck_assert_int_eq(b.n, 12);
    ck_assert_int_eq(b.last_ok, 10);
    /* the grid is coarse where the two are more than a quarter apart */
    ck_assert(!break_coarse(8, 10));
    ck_assert(!break_coarse(16, 20));
    ck_assert(break_coarse(16, 32));
    ck_assert(break_coarse(20, 32));
}
END_TEST

START_TEST(test_break_summary) {
    int med, lo, hi, cens;
    const int b[3] = {10, 0, 12};
    /* censored sorts above every length: 10, 12, > n_max */
    ck_assert_int_eq(break_summary(b, 3, &med, &lo, &hi, &cens), 3);
    ck_assert_int_eq(med, 12);
    ck_assert_int_eq(lo, 10);
    ck_assert_int_eq(hi, 0);
    ck_assert_int_eq(cens, 1);
    /* undefined ones are skipped; an even count takes the lower median (an evaluated length) */
    const int c[5] = {16, -1, 10, 12, 20};
    ck_assert_int_eq(break_summary(c, 5, &med, &lo, &hi, &cens), 4);
    ck_assert_int_eq(med, 12);
    ck_assert_int_eq(lo, 10);
    ck_assert_int_eq(hi, 20);
    ck_assert_int_eq(cens, 0);
    const int u[2] = {-1, -1};
    ck_assert_int_eq(break_summary(u, 2, &med, &lo, &hi, &cens), 0);
    ck_assert_int_eq(med, -1);
    char t[32];
    break_n_text(0, 32, t, sizeof t);
    ck_assert_str_eq(t, "> 32");
    break_n_text(-1, 32, t, sizeof t);
    ck_assert_str_eq(t, "n/a");
    break_n_text(12, 32, t, sizeof t);
    ck_assert_str_eq(t, "12");
    char r[128];
    BreakSummary s = {.defined = 3, .median = 12, .min = 10, .max = 0, .median_last_ok = 10, .max_len = 8, .n_max = 32};
    break_range_text(&s, r, sizeof r);
    ck_assert_str_eq(r, "10 to 12 (median; 10 to > 32 over the seeds)");
    s = (BreakSummary){.defined = 1, .median = 12, .min = 12, .max = 12, .median_last_ok = 10, .max_len = 8, .n_max = 32};
    break_range_text(&s, r, sizeof r);
    ck_assert_str_eq(r, "10 to 12 (one seed)");
    s = (BreakSummary){.defined = 3, .median = 32, .min = 32, .max = 32, .median_last_ok = 16, .max_len = 8, .n_max = 64};
    break_range_text(&s, r, sizeof r);
    ck_assert_str_eq(r, "16 to 32 (coarse grid)");
    s = (BreakSummary){.defined = 2, .in_range = 2, .median = 4, .min = 4, .max = 4, .median_last_ok = 2, .max_len = 8,
                       .n_max = 32};
    break_range_text(&s, r, sizeof r);
    ck_assert_str_eq(r, "in range: 4");
    s = (BreakSummary){.defined = 0, .median = -1, .n_max = 32};
    break_range_text(&s, r, sizeof r);
    ck_assert_str_eq(r, "n/a");
}
END_TEST

int main(void) {
    Suite *s = suite_create("findings");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_t975);
    tcase_add_test(tc, test_wilson);
    tcase_add_test(tc, test_interval);
    tcase_add_test(tc, test_paired);
    tcase_add_test(tc, test_break_length);
    tcase_add_test(tc, test_break_summary);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

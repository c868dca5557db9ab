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

START_TEST(test_break_length) {
    const int n[7] = {1, 2, 4, 8, 10, 12, 16};
    const double v[7] = {1, 1, 1, 0.9, 0.6, 0.4, 0.1};
    double in;
    /* in range 1..8: mean 0.975; half of it 0.4875: first below at 12 */
    ck_assert_int_eq(break_length(n, v, 7, 1, 8, 0.5, &in), 12);
    ck_assert_double_eq_tol(in, 0.975, 1e-12);
    /* a stricter rule breaks earlier */
    ck_assert_int_eq(break_length(n, v, 7, 1, 8, 0.7, &in), 10);
    /* lengths inside the training range never count as the break */
    ck_assert_int_eq(break_length(n, v, 7, 1, 2, 0.95, &in), 8);
    /* never below: censored */
    const double h[7] = {1, 1, 1, 1, 0.9, 0.8, 0.7};
    ck_assert_int_eq(break_length(n, h, 7, 1, 8, 0.5, &in), 0);
    /* nothing inside the training range, or nothing right there: undefined */
    ck_assert_int_eq(break_length(n, v, 7, 20, 30, 0.5, &in), -1);
    const double zero[7] = {0};
    ck_assert_int_eq(break_length(n, zero, 7, 1, 8, 0.5, &in), -1);
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
    break_text(0, 32, t, sizeof t);
    ck_assert_str_eq(t, "> 32");
    break_text(-1, 32, t, sizeof t);
    ck_assert_str_eq(t, "n/a");
    break_text(12, 32, t, sizeof t);
    ck_assert_str_eq(t, "12");
    char r[64];
    break_range_text(12, 10, 0, 3, 32, r, sizeof r);
    ck_assert_str_eq(r, "12 [10 to > 32]");
    break_range_text(12, 12, 12, 1, 32, r, sizeof r);
    ck_assert_str_eq(r, "12 (one seed)");
    break_range_text(-1, -1, -1, 0, 32, r, sizeof r);
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

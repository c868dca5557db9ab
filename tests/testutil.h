/* testutil.h — small helpers shared by the Check suites. */
#ifndef POSENC_TESTUTIL_H
#define POSENC_TESTUTIL_H

#include <check.h>
#include <string.h>
#include <sys/types.h>

/* Run one suite with CK_NORMAL output; returns the process exit status
 * (0 when every test passed). Use as: return run_suite(my_suite()); */
int run_suite(Suite *s);

/* A fresh empty directory under tests/tmp/ (created; path is static
 * storage, valid until the next call). */
const char *test_tmpdir(const char *tag);

/* Largest absolute difference between two arrays (NaN if any is NaN). */
float max_abs_diff(const float *a, const float *b, int n);

/* Central-difference gradient check. f(ctx) evaluates a scalar objective
 * (accumulate it in double) that depends on x (n floats). analytic holds the
 * gradient computed by the code under test. Each x[i] is perturbed by +-eps
 * and restored. Returns the relative error ||a - num|| / max(||a||, ||num||)
 * (0 when both vanish); *max_abs (optional) receives max |a - num|. */
double grad_check(double (*f)(void *ctx), void *ctx, float *x, const float *analytic, int n,
                  float eps, double *max_abs);

/* Run the posenc program ($POSENC_BIN, set by `make test`; else ./posenc)
 * with ARGS (a shell fragment, printf-formatted); its stdout and stderr are
 * captured in posenc_out. Returns the exit status (128+signal if killed). */
int posenc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char posenc_out[1 << 16];
/* Run a shell command, stdout and stderr captured in posenc_out; the exit
 * status as posenc() returns it. */
int run_captured(const char *cmd);
/* DIR/metrics.jsonl re-printed one entry per line without the timing fields
 * (tokens_per_s, padded_tokens_per_s, elapsed): what must be identical
 * between an interrupted and an uninterrupted run. Fails the test on a torn
 * line. malloc'd. */
char *metrics_without_timing(const char *dir);
/* The program posenc() runs. */
const char *posenc_bin(void);
/* The test build of the program, with the crash-test hooks (core/fsutil.h
 * fault_point): $POSENC_FAULT_BIN (set by `make test`), else build/posenc-test. */
const char *posenc_fault_bin(void);
/* Wait until the file at path holds at least min_bytes (polling; no time
 * limit of its own, Check's timeout bounds it): 0, or -1 as soon as the
 * process pid (> 0) has exited instead (*status, if not NULL, gets its wait
 * status; it is reaped). */
int wait_for_file(const char *path, size_t min_bytes, pid_t pid, int *status);
/* A test whose precondition is missing: print "SKIP <test>: <why>" (so the
 * run says what it did not check); the caller then returns. */
void test_skip(const char *test, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define EXPECT_OUT(s) \
    ck_assert_msg(strstr(posenc_out, (s)) != NULL, "expected \"%s\" in output:\n%s", (s), posenc_out)

/* Fill with N(0, std) from a fixed seed. */
void fill_normal(float *x, int n, float std, unsigned long long seed);

/* The shell command formatted from fmt, run with run_captured (its output
 * where EXPECT_OUT finds it): the exit status. */
int shell_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The whole file at the formatted path (the test fails if it cannot be read); free it. */
char *file_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether the formatted path exists (lstat: a dangling link counts). */
int path_present(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* testutil.h — small helpers shared by the Check suites. */
#ifndef POSENC_TESTUTIL_H
#define POSENC_TESTUTIL_H

#include <check.h>

/* Run one suite with CK_NORMAL output; returns the process exit status
 * (0 when every test passed). Use as: return run_suite(my_suite()); */
int run_suite(Suite *s);

/* A fresh empty directory under tests/tmp/ (created; path is static
 * storage, valid until the next call). */
const char *test_tmpdir(const char *tag);

/* Largest absolute difference between two arrays (NaN if any is NaN). */
float max_abs_diff(const float *a, const float *b, int n);

#endif

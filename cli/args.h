/*
 * args.h — the argument helpers the subcommands share. Each returns -1
 * after core_errorf (core/error.h) naming the option and the value.
 */
#ifndef POSENC_ARGS_H
#define POSENC_ARGS_H

/* "8,16,24:64:8" -> 8 16 24 32 40 48 56 64 (a:b:s inclusive, a:b step 1).
 * Returns the count, or -1 after core_errorf. */
int parse_lengths(const char *spec, int *out, int cap);
/* Whole positive integer option value, or -1 after core_errorf. */
long parse_count(const char *opt, const char *value, long max);
/* A fraction 0 < F < 1 option value, or -1 after core_errorf. */
double parse_fraction(const char *opt, const char *value);
/* A factor > 1 (at most 1e6), e.g. --break-factor; -1 after core_errorf naming opt. */
double parse_factor(const char *opt, const char *value);
/* True for -h / --help. */
int is_help(const char *arg);

#endif

/*
 * cli.h — shared pieces of the `posenc` subcommands.
 *
 * Exit codes: 0 success; 1 runtime failure; 2 usage or config error;
 * 3 training stopped on a non-finite loss/gradient; 130 interrupted (Ctrl-C,
 * a checkpoint was saved).
 */
#ifndef POSENC_CLI_H
#define POSENC_CLI_H

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_NONFINITE = 3, EXIT_INTERRUPTED = 130 };

int cmd_train(int argc, char **argv);
/* cmd_train; evaluate_next != 0 (posenc run, which evaluates right after)
 * leaves out the closing "evaluate with: posenc eval DIR" hint. */
int train_command(int argc, char **argv, int evaluate_next);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_attention(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_config(int argc, char **argv);

#include <stddef.h>

/* Parse space/comma-separated tokens into out (at most cap): symbols 0..A-1,
 * or with names != 0 token ids 0..V-1 and the names BOS SEP EOS PAD.
 * Returns the count, or -1 after pe_errorf (cmd_predict.c). */
int parse_tokens(const char *s, int A, int names, int *out, int cap);
/* A token's name: the symbol's digits, or PAD, BOS, SEP, EOS (cmd_predict.c). */
void token_name(char *buf, size_t cap, int t, int A);

struct PE;
/* curves[(l * NH + h) * len + d]: the bias the encoding's bias_forward adds
 * at distance d for a query at position qi (keys at 0..qi), NaN for d > qi
 * (cmd_show.c; pe->cfg.P >= len). */
void show_bias_curves(const struct PE *pe, int len, int qi, float *curves);

/* "8,16,24:64:8" -> 8 16 24 32 40 48 56 64 (a:b:s inclusive, a:b step 1).
 * Returns the count, or -1 after pe_errorf. */
int parse_lengths(const char *spec, int *out, int cap);
/* Whole positive integer option value, or -1 after pe_errorf. */
long parse_count(const char *opt, const char *value, long max);
/* True for -h / --help. */
int is_help(const char *arg);

#endif

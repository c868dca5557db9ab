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

/* "8,16,24:64:8" -> 8 16 24 32 40 48 56 64 (a:b:s inclusive, a:b step 1).
 * Returns the count, or -1 after pe_errorf. */
int parse_lengths(const char *spec, int *out, int cap);
/* Whole positive integer option value, or -1 after pe_errorf. */
long parse_count(const char *opt, const char *value, long max);
/* True for -h / --help. */
int is_help(const char *arg);

#endif

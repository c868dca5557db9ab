/*
 * cli.h — shared pieces of the `posenc` subcommands.
 *
 * Exit codes: 0 success; 1 runtime failure; 2 usage or config error;
 * 3 training stopped on a non-finite loss/gradient; 130 interrupted (Ctrl-C,
 * a checkpoint was saved).
 */
#ifndef POSENC_CLI_H
#define POSENC_CLI_H

#include "run/rundir.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_NONFINITE = 3, EXIT_INTERRUPTED = 130 };

int cmd_train(int argc, char **argv);
/* Prepare the run directory (rundir_prepare, run/rundir.h: errors exit 2 or
 * 1 with their message) and train in it: train_run with Ctrl-C / SIGTERM
 * saving a checkpoint and the progress on stderr (none if quiet);
 * stop_after > 0 stops as Ctrl-C would after that many steps.
 * evaluate_next != 0 (posenc run, which evaluates right after) leaves out the
 * closing "evaluate with: posenc eval DIR" hint. The exit status: 0,
 * EXIT_USAGE, EXIT_RUNTIME, EXIT_INTERRUPTED or EXIT_NONFINITE
 * (cmd_train.c). */
int train_in(const RunDirSetup *setup, long stop_after, int quiet, int evaluate_next);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_attention(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_robustness(int argc, char **argv);
/* posenc sweep SPEC --out OUT --jobs JOBS (0: cores / threads), run here; an exit status. */
int sweep_local(const char *spec, const char *out, long jobs, int plots);
int cmd_config(int argc, char **argv);

#include <stddef.h>

#include "cli/args.h" /* is_help, parse_count, parse_lengths */

/* Parse space/comma-separated tokens into out (at most cap): symbols 0..A-1
 * (by their names sym[0..A-1] when sym is not NULL: a task's file of
 * strings, TaskOps.symbols), or with names != 0 token ids 0..V-1 and the
 * names BOS SEP EOS PAD. Returns the count, or -1 after core_errorf
 * (cmd_predict.c). */
int parse_tokens(const char *s, int A, int names, const char *const *sym, int *out, int cap);
/* A token's name: the symbol's digits (its name sym[t] when sym is not
 * NULL), or PAD, BOS, SEP, EOS (cmd_predict.c). TOKEN_NAME_MAX bytes hold any. */
#define TOKEN_NAME_MAX 48
void token_name(char *buf, size_t cap, int t, int A, const char *const *sym);

struct PE;
/* curves[(l * NH + h) * len + d]: the bias the encoding's bias_forward adds
 * at distance d for a query at position qi (keys at 0..qi), NaN for d > qi
 * (cmd_show.c; pe->cfg.P >= len). */
void show_bias_curves(const struct PE *pe, int len, int qi, float *curves);

#endif

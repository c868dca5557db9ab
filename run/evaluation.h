/*
 * evaluation.h — one run's evaluation (docs/SPEC.md §2), and its files.
 *
 * eval_run loads a run directory's checkpoint, evaluates it at every length
 * under every variant asked for (run/score.h: plain or random positions, a
 * RoPE scaling), prints the tables and writes RUN/<stem>.json and .csv per
 * variant (stem "eval", "eval-pi", "eval-random", ...), the files that
 * run/evalfile.h reads back. Two RoPE scalings or more are printed side by
 * side: one table, a column per scaling.
 */
#ifndef POSENC_EVALUATION_H
#define POSENC_EVALUATION_H

#include <stdio.h>

#include "model/pe.h"
#include "run/config.h"
#include "run/evalfile.h"

/* ---- eval_run ------------------------------------------------------------- */

typedef struct {
    const int *lengths;  /* the lengths n to evaluate; NULL: the config's eval.lengths */
    int num_lengths;
    long samples;        /* examples per length; 0: the config's eval.samples */
    long batch_size;     /* 0: the config's eval.batch_size */
    long threads;        /* posenc's pool; 0: the config's train.threads */
    unsigned positions;  /* bit set of EVAL_POS_*; 0: the config's eval.positions */
    unsigned scalings;   /* bit set of PE_ROPE_SCALING_*; 0: the config's eval.rope_scaling */
    double rope_scale;   /* the factor s >= 1; <= 0: the config's eval.rope_scale, else derived */
    int scale_past_train; /* apply a RoPE scaling only at lengths whose input is longer than the
                             original context (the longest training input); 0 (the default): at
                             every length, inside the training range too. Recorded in the file
                             ("rope_scaling_applies"); an ad-hoc evaluation (the config cannot say it) */
    FILE *out;           /* the tables and what was written (stdout for the CLI); NULL: nothing */
} EvalOptions;

/* Evaluate run directory `run` (core_error() says why it failed). Its session
 * is recorded in RUN/provenance.json. Nothing is written for a variant whose
 * loss is not finite. */
int eval_run(const char *run, const EvalOptions *opt);

#endif

/*
 * aggregate.h — results of a sweep folder, over seeds.
 *
 * Reads OUT/sweep.json (the grid keys) and every OUT/runs/<id>/ holding a
 * config.json and evaluation files made at the final step (eval.json and
 * eval-<variant>.json, run/eval.h; others are reported as incomplete and left
 * out); groups results into cells by the values of the grid keys in their
 * configs and the evaluation variant; and for each cell and evaluation length n
 * computes, over the cell's seeds, the mean, standard deviation (sample, n-1;
 * with one seed there is none: an empty field in results.csv, "n/a" in the
 * tables, no band in the plots), min and max of token_acc, exact_match and loss.
 *
 * Outputs (all rewritten atomically):
 *   OUT/results.csv                      one row per cell x length: the grid values, the
 *                                        label ("rope+yarn", "learned+rand", ...) and the
 *                                        variant ("default", "pi", "random", ...), then n, ...
 *   OUT/results.md                       the tables in markdown (mean ± std), plots linked
 *   OUT/<group>_accuracy.png / .svg      per group of cells that differ only in
 *   OUT/<group>_loss.png / .svg          model.pe, train.random_positions and the
 *                                        RoPE scaling (e.g. per task; random evaluation
 *                                        positions get groups of their own, named
 *                                        <group>_evalrandom): one line
 *                                        per label, a band over seeds (min..max),
 *                                        a vertical line at the longest training length
 * and a terminal table: encodings as columns, lengths as rows, the training
 * range marked. The tables show exact_match and token_acc; for a
 * language-model task (TASK_FRAME_LM) the loss per token (with the task's
 * loss_floor from eval.json in a last column) and token_acc, and the loss
 * plot draws the floor.
 */
#ifndef POSENC_AGGREGATE_H
#define POSENC_AGGREGATE_H

#include <stdio.h>

typedef struct {
    double mean, std, min, max;
} Stat;

/* Mean, sample std, min, max of x[0..n-1] (n >= 1). */
Stat stat_of(const double *x, int n);

/* Aggregate OUT; print the tables to `f` (may be NULL); write results.csv
 * and, if plots != 0, the plots. Returns the number of runs aggregated
 * (0 or more), or -1 after pe_errorf. Incomplete runs are listed on stderr
 * and left out. The runs must share one result identity (provenance.h:
 * prov_collect): otherwise -2 after pe_errorf naming two of them, unless
 * allow_mixed (then results.md says that the numbers are mixed). results.md
 * opens with the line naming what produced the numbers. */
int aggregate_sweep(const char *out, FILE *f, int plots, int allow_mixed);

#endif

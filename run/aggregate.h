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
 * (1 or more), or after pe_errorf -1 (a file could not be read or written)
 * or RUN_INVALID (-2, run/runinfo.h: run files that disagree or hold values
 * out of range, or runs whose provenance differs (provenance.h:
 * prov_collect) unless allow_mixed; nothing is written). What a run is and
 * whether it is finished is run_inspect's decision; unfinished runs and
 * evaluations not made at the final step are listed on stderr and left out.
 * results.md opens with the line naming what produced the numbers (with
 * allow_mixed: that they are mixed). */
int aggregate_sweep(const char *out, FILE *f, int plots, int allow_mixed);

/* The same for runs that are not one sweep's (several `posenc train` runs):
 * each path is a run directory or a folder of run directories; the grid keys
 * are the config keys whose values differ between the runs (but name and
 * seed: runs equal in everything else are seeds of one cell). Outputs go to
 * out (created beforehand). */
int aggregate_runs(const char *const *paths, int npaths, const char *out, FILE *f, int plots, int allow_mixed);

/* Parse a sweep.json's text (origin names it): the grid keys (at most
 * SWEEP_MAX_KEYS, each < 64 characters, at most SWEEP_MAX_JOBS cells), the
 * name, and (grid_out, optional) the grid object (cJSON_Delete it). 0 or -1
 * after pe_errorf. */
#include <cJSON.h>
int aggregate_parse_sweep(const char *text, const char *origin, char keys[][64], int *nkeys, char *name,
                          size_t name_cap, cJSON **grid_out);

#endif

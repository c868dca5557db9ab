/*
 * compare.h — comparisons of encodings with their support (docs/SPEC.md §2.1):
 * the ranking of a group's cells at a length, every pair's paired difference
 * over the seeds they share (study/findings.h: paired_of) and in how many seeds
 * its sign holds; the break lengths; and the text of `posenc compare`, which
 * scripts/report.sh splices into the READMEs.
 *
 * A ranking orders the cells by their mean, best first: highest for
 * exact_match and token_acc, lowest for loss and perplexity; between
 * neighbours ">" (or "<" where lower is better) means the paired interval
 * lies on that side of 0 and "~" that it covers 0 (not resolved with these
 * seeds; compare_unresolved_reason says why). The lengths compared by default are 1.25x, 1.5x and 2x the
 * longest training length (those evaluated) and "beyond": per seed, the mean
 * over every evaluated length past the training range.
 */
#ifndef POSENC_COMPARE_H
#define POSENC_COMPARE_H

#include <stdio.h>

#include "study/aggregate.h"

#define COMPARE_MAX_CELLS 32
#define COMPARE_BEYOND 0 /* the n of "beyond": the mean over the lengths past the training range */

typedef struct {
    int n;                            /* the length, or COMPARE_BEYOND */
    int beyond_lo, beyond_hi, beyond_count; /* for beyond: the lengths averaged */
    int metric;                       /* AGG_EM, AGG_ACC, AGG_LOSS or AGG_PPL */
    int num;                          /* cells compared */
    int cell[COMPARE_MAX_CELLS];      /* their indices in the table, in ranking order (best mean first) */
    double mean[COMPARE_MAX_CELLS];   /* the mean over seeds, in that order */
    int seeds[COMPARE_MAX_CELLS];     /* seeds with a value */
    Paired pair[COMPARE_MAX_CELLS][COMPARE_MAX_CELLS]; /* pair[i][j]: ranked i minus ranked j */
} CompareAt;

/* The comparison of group g's cells (g: the index of its first cell,
 * AggTable.group) at length n (COMPARE_BEYOND: the mean past the training
 * range). Cells that were not evaluated at n are left out. 0, or -1 when
 * fewer than two cells can be compared there. */
int compare_at(const AggTable *t, int g, int metric, int n, CompareAt *out);

/* The per-seed values of cell `cell` at length n, or (n = COMPARE_BEYOND)
 * each seed's mean over the lengths ns[0..nb-1] (a seed counts when it
 * evaluated every one of them); seeds[] and v[] (FINDINGS_MAX_SEEDS) in
 * ascending seed, *examples the evaluation examples behind one seed's value
 * (0 for loss and perplexity: their intervals are the seeds' alone).
 * Returns how many seeds. */
int compare_seed_values(const AggTable *t, int cell, int metric, int n, const int *ns, int nb, uint64_t *seeds,
                        double *v, long *examples);

/* The default lengths of group g: those of 1.25x, 1.5x and 2x its longest
 * training length that were evaluated (rounded to the nearest evaluated
 * length at or past it), then COMPARE_BEYOND. Returns how many (<= cap). */
int compare_default_lengths(const AggTable *t, int g, int *ns, int cap);

/* The verdict of the better of a pair: +1 where higher is better, -1 for loss and perplexity. */
int compare_better(int metric);
/* Why a paired verdict is not resolved: "one seed: no interval over seeds", "the interval includes 0",
 * "equal on every seed", "no seed in common" ("" when it is resolved). */
void compare_unresolved_reason(const Paired *p, char *buf, size_t cap);

/* "alibi > none ~ rope > learned ~ sinusoidal"; in perplexity "alibi < rope ~ none" */
void compare_ranking_text(const AggTable *t, const CompareAt *c, char *buf, size_t cap);
/* "n = 10 (1.25x)" or "beyond (mean over n = 10..32)" */
void compare_at_text(const AggTable *t, int g, const CompareAt *c, char *buf, size_t cap);
/* a cell's name in comparisons: its label, or its grid values */
void compare_cell_name(const AggTable *t, int cell, char *buf, size_t cap);

/* Print the comparisons of every group at lengths ns (nn of them; nn = 0:
 * each group's defaults): break lengths, rankings, pairwise differences.
 * md: markdown (tables) for experiments/README.md; else terminal text. */
void compare_print(FILE *f, const AggTable *t, int metric, const int *ns, int nn, int md);

/* The headline paragraph (markdown sentences, every number from t) of
 * group g: where each cell breaks, then the ranking at each default length
 * with the support of its first pair. */
void compare_headline(FILE *f, const AggTable *t, int g, int metric);

#endif

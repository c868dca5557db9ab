/*
 * aggregate_internal.h — what study/aggregate.c (aggregation: runs, cells,
 * statistics, breaks) shares with its renderers: study/results_csv.c
 * (results.csv, breaks.csv, by_position.csv), study/results_md.c (a group's
 * tables, terminal and Markdown) and study/results_plot.c (a group's gnuplot
 * scripts). Included only by those four files; everything else uses
 * study/aggregate.h.
 */
#ifndef POSENC_STUDY_AGGREGATE_INTERNAL_H
#define POSENC_STUDY_AGGREGATE_INTERNAL_H

#include <stdio.h>

#include "study/aggregate.h"
#include "study/plot.h"

#define MAX_LEN_ROWS AGG_MAX_LENGTHS

typedef AggRun RunResult;
typedef AggCell Cell;

/* ---- aggregate.c ----------------------------------------------------------- */

/* the metrics' names, indexed by AGG_EM .. AGG_PPL (agg_metric_name) */
extern const char *const metric_names[AGG_NMETRICS];

/* a cell's name in its group's table, plot and comparisons (aggregate_cell_label) */
void cell_label(const AggTable *t, int cell, char *buf, size_t cap);

/* Cell c's loss at position bin b over its seeds: mean, min, max of each
 * seed's mean loss in the bin, the mean of their perplexities and token
 * accuracies; the number of seeds that predicted a token there (0: none). */
typedef struct {
    int seeds;
    long tokens;
    double loss_mean, loss_min, loss_max, ppl_mean, acc_mean;
} PosStat;

PosStat pos_stat(const AggTable *t, const Cell *c, int b);

/* the last position a cell's training predicts */
int cell_train_T(const Cell *c);

/* ---- results_csv.c: the files' formats are in docs/SPEC.md ---------------- */

/* OUT/results.csv, OUT/breaks.csv, OUT/by_position.csv: 0, or -1 after core_errorf */
int write_csv(const char *out, const AggTable *t);
int write_breaks_csv(const char *out, const AggTable *t);
int write_by_position_csv(const char *out, const AggTable *t);

/* ---- results_md.c ---------------------------------------------------------- */

/* a group's tables (members: its cells, nm of them) to f: terminal text, or Markdown if md */
void print_group(FILE *f, const AggTable *t, const int *members, int nm, int md);

/* ---- results_plot.c -------------------------------------------------------- */

/* a group's loss by position drawn to base.png/.svg: 0, 1 if it has no by-position data, or -1 */
int by_position_plot(const AggTable *t, const int *members, int nm, const char *head, const char *base);
/* the width of a group's accuracy (loss = 0) or loss plot, and the height that fits its legend */
int aggregate_plot_width(int loss);
int aggregate_plot_height(const AggTable *t, const int *members, int nm, int loss);
/* a group's accuracy or loss plot as a gnuplot script into s (strings escaped here) */
void group_script(PlotScript *s, const AggTable *t, const int *members, int nm,
                  const char *head, int loss, int height);

#endif

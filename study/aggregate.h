/*
 * aggregate.h — results of a sweep folder, over seeds.
 *
 * Reads OUT/sweep.json (the grid keys) and every OUT/runs/<id>/ holding a
 * config.json and evaluation files made at the final step (eval.json and
 * eval-<variant>.json, run/score.h; others are reported as incomplete and left
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
 *
 * aggregate.c gathers and computes; the outputs are drawn by results_csv.c,
 * results_md.c and results_plot.c (aggregate_internal.h, theirs alone).
 */
#ifndef POSENC_AGGREGATE_H
#define POSENC_AGGREGATE_H

#include <stdint.h>
#include <stdio.h>

#include "run/inspect.h"
#include "study/findings.h"
#include "study/sweep.h"

typedef struct {
    double mean, std, min, max;
} Stat;

/* How to aggregate (zero-initialise for the defaults). */
typedef struct {
    int plots;             /* draw the plots (gnuplot) */
    int allow_mixed;       /* aggregate runs whose provenance differs (provenance.h: prov_collect) */
    double break_fraction; /* the break rule's fraction (findings.h); 0 = FINDINGS_BREAK_FRACTION */
    double break_factor;   /* the loss/perplexity rule's factor (findings.h); 0 = FINDINGS_BREAK_FACTOR */
} AggOptions;

#define AGG_MAX_LENGTHS RUN_EVAL_MAX_ROWS
/* The metrics (docs/SPEC.md §2): exact_match and token_acc (higher is better),
 * loss per answer token in nats and perplexity exp(loss) (lower is better). A
 * run's perplexity at n is exp of its loss at n; over seeds, the mean of the
 * seeds' perplexities. */
enum { AGG_EM = 0, AGG_ACC = 1, AGG_LOSS = 2, AGG_PPL = 3, AGG_NMETRICS = 4 };
/* "exact_match", "token_acc", "loss", "ppl" */
const char *agg_metric_name(int metric);
/* the metric of a name (also "perplexity"), or -1 */
int agg_metric_parse(const char *name);
/* lower is better: loss and perplexity */
static inline int agg_lower_better(int metric) { return metric == AGG_LOSS || metric == AGG_PPL; }

/* One evaluation file of one run (a run with several evaluation variants gives several). */
typedef struct {
    char values[SWEEP_MAX_KEYS][64]; /* grid values (text) */
    uint64_t seed;                   /* its training seed */
    int min_len, max_len;            /* training range */
    char task[32];                   /* task.name */
    int alphabet;                    /* task.alphabet: chance levels in the plots */
    char variant[64];                /* evaluation variant ("default", "pi", "random", ...) */
    char label[128];                 /* its label: "rope+pi", "learned+rand", ... (run/score.h) */
    int variant_rank;
    int ref;                         /* the index of the evaluation its breaks are measured against: the
                                        same run's unscaled one (same positions) for a RoPE scaling, else -1
                                        (itself) */                /* positions * PE_ROPE_SCALING_COUNT + scaling: the column order */
    int num;                         /* evaluation rows */
    int n[AGG_MAX_LENGTHS];
    double acc[AGG_MAX_LENGTHS], em[AGG_MAX_LENGTHS], loss[AGG_MAX_LENGTHS];
    double floor[AGG_MAX_LENGTHS];   /* loss_floor (LM tasks), -1 if absent */
    long examples[AGG_MAX_LENGTHS];  /* evaluation examples (0: not recorded) */
    Break brk[AGG_NMETRICS];         /* the break per metric (findings.h); loss and ppl share one: perplexity's
                                        (brk.ref: the reference, in the metric's units) */
    /* by absolute position of the predicted token, binned (run/evalfile.h eval_pos_bin) */
    long pos_total[RUN_EVAL_POS_BINS], pos_correct[RUN_EVAL_POS_BINS];
    double pos_loss[RUN_EVAL_POS_BINS];  /* summed */
} AggRun;

/* A cell: the runs (seeds) of one grid point and evaluation variant. */
typedef struct {
    char values[SWEEP_MAX_KEYS][64];
    char variant[64], label[128];    /* evaluation variant and label (AggRun) */
    int variant_rank;
    int min_len, max_len;
    char task[32];
    int alphabet;                    /* task.alphabet (0 if unknown) */
    int num_runs;
    int *runs;                       /* indices into the table's runs, ascending seed */
    int num_lengths;
    int lengths[AGG_MAX_LENGTHS];
    int seeds[AGG_MAX_LENGTHS];      /* runs evaluated at the length */
    long examples[AGG_MAX_LENGTHS];  /* evaluation examples per run (the fewest over its runs; 0 unknown) */
    Stat acc[AGG_MAX_LENGTHS], em[AGG_MAX_LENGTHS], loss[AGG_MAX_LENGTHS], ppl[AGG_MAX_LENGTHS];
    Interval acc_ci[AGG_MAX_LENGTHS], em_ci[AGG_MAX_LENGTHS]; /* 95 % intervals (findings.h) */
    Interval loss_ci[AGG_MAX_LENGTHS], ppl_ci[AGG_MAX_LENGTHS]; /* the seed part alone (interval_seeds) */
    double floor[AGG_MAX_LENGTHS];   /* the task's loss floor at the length (LM tasks), else -1 */
    int lm;                          /* a language-model task: tables show loss, not exact_match */
    int n_max;                       /* the longest evaluated length */
    BreakSummary brk[AGG_NMETRICS];  /* the break over the seeds, per metric (findings.h) */
    long rank;                       /* position in the spec's grid (first key slowest) */
} AggCell;

/* A loaded aggregate: runs, cells in the spec's grid order, groups. */
typedef struct {
    char keys[SWEEP_MAX_KEYS][64];   /* the grid keys */
    int nkeys, pe_key, rand_key;     /* the index of model.pe and train.random_positions (-1: not keys) */
    int enc_key[SWEEP_MAX_KEYS];     /* 1 for a key of the encoding's identity: model.pe,
                                        train.random_positions or an encoding's setting
                                        (model.rope_fraction, ...; aggregate_encoding_key) */
    char title[128];                 /* the experiment's name (or the output folder's) */
    AggRun *runs;                    /* one per evaluation file aggregated (a run with RoPE scalings gives several) */
    int nruns, incomplete;
    int nrundirs;                    /* the run folders they come from */
    AggCell *cells;
    int ncells;
    int *group;                      /* per cell: the index of its group's first cell (cells equal in every
                                        grid key but model.pe and train.random_positions, and evaluated on
                                        the same positions; for runs that are not one sweep's (adhoc), cells
                                        of the same task and training range) */
    int adhoc;                       /* runs that are not one sweep's (aggregate_load_runs) */
    double break_fraction, break_factor; /* the break rules (findings.h) */
    char prov_line[3000], prov_details[3000];
    int prov_mixed;                  /* aggregated with allow_mixed over different provenance */
} AggTable;

/* Load a sweep folder (dir/sweep.json, dir/runs/ID/) into *t. The number of
 * runs (run folders) aggregated (>= 1), or -1 (a file could not be read) or RUN_INVALID
 * (-2) after core_errorf, as aggregate_sweep. Free with aggregate_free. */
int aggregate_load_sweep(const char *dir, const AggOptions *o, AggTable *t);
/* Load run directories (or folders of them) as aggregate_runs does; title names the table. */
int aggregate_load_runs(const char *const *paths, int npaths, const char *title, const AggOptions *o, AggTable *t);
void aggregate_free(AggTable *t);

/* Whether a grid key is part of the encoding's identity: model.pe,
 * train.random_positions, or an encoding's setting model.<name> (model/pe.h).
 * Cells that differ only in such keys form one group: they are compared. */
int aggregate_encoding_key(const char *key);

/* A cell's name in tables, plots and comparisons: its label (encoding, its settings that are grid keys
 * and not at their default, variant: "rope(rope_fraction=0.25)+ntk") and the other grid keys that
 * differ within its group as short key=value ("rope lr=0.004"). */
void aggregate_cell_label(const AggTable *t, int cell, char *buf, size_t cap);
/* A group's title: the task (when not a grid key) and the grid values its cells share ("copy", "task.name=sort"). */
void aggregate_group_title(const AggTable *t, int g, char *buf, size_t cap);

/* The per-seed values of a cell at length n, of a metric (AGG_*); seeds[]
 * and v[] get up to FINDINGS_MAX_SEEDS of them, in ascending seed. Returns
 * how many (0 if n was not evaluated). */
int aggregate_values(const AggTable *t, const AggCell *c, int n, int metric, uint64_t *seeds, double *v);
/* A run's value of a metric at row q (perplexity: exp of its loss). */
double aggregate_run_value(const AggRun *r, int q, int metric);
/* A cell's statistics at length index m, of a metric: its Stat and its interval. */
const Stat *aggregate_stat(const AggCell *c, int m, int metric);
const Interval *aggregate_interval(const AggCell *c, int m, int metric);
/* The break rule of a metric in words: "falls below 0.5 x", "perplexity exceeds 2 x" */
void aggregate_rule_text(const AggTable *t, int metric, char *buf, size_t cap);

/* Write t's outputs to out (results.csv, breaks.csv, results.md, plots if
 * o->plots) and print its tables to f (may be NULL). 0 or -1 after core_errorf. */
int aggregate_write(const AggTable *t, const char *out, FILE *f, const AggOptions *o);

/* Mean, sample std, min, max of x[0..n-1] (n >= 1). */
Stat stat_of(const double *x, int n);

/* Aggregate OUT; print the tables to `f` (may be NULL); write results.csv
 * and, if plots != 0, the plots. Returns the number of runs aggregated
 * (1 or more), or after core_errorf -1 (a file could not be read or written)
 * or RUN_INVALID (-2, run/inspect.h: run files that disagree or hold values
 * out of range, or runs whose provenance differs (provenance.h:
 * prov_collect) unless allow_mixed; nothing is written). What a run is and
 * whether it is finished is run_inspect's decision; unfinished runs and
 * evaluations not made at the final step are listed on stderr and left out.
 * results.md opens with the line naming what produced the numbers (with
 * allow_mixed: that they are mixed). */
int aggregate_sweep(const char *out, FILE *f, const AggOptions *o);

/* The same for runs that are not one sweep's (several `posenc train` runs):
 * each path is a run directory or a folder of run directories; the grid keys
 * are the config keys whose values differ between the runs (but name and
 * seed: runs equal in everything else are seeds of one cell). Outputs go to
 * out (created beforehand). */
int aggregate_runs(const char *const *paths, int npaths, const char *out, FILE *f, const AggOptions *o);

/* Parse a sweep.json's text (origin names it): the grid keys (at most
 * SWEEP_MAX_KEYS, each < 64 characters, at most SWEEP_MAX_JOBS cells), the
 * name, and (grid_out, optional) the grid object (cJSON_Delete it). 0 or -1
 * after core_errorf. */
#include <cJSON.h>
int aggregate_parse_sweep(const char *text, const char *origin, char keys[][64], int *nkeys, char *name,
                          size_t name_cap, cJSON **grid_out);

#endif

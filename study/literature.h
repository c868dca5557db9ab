/*
 * literature.h — published numbers beside posenc's (`posenc compare DIR
 * --against FILE`): a paper's cells (a file of experiments/literature/, format
 * "posenc-literature-1", described in experiments/literature/README.md)
 * matched to a sweep's cells, the paper's claims judged on posenc's seeds,
 * and the rank agreement of the encodings.
 *
 * The value compared is "beyond": per seed, the mean of the paper's metric
 * over the test lengths (the paper: its whole test split; posenc: the mean
 * over the evaluated lengths inside the paper's test range, past the
 * training range, docs/SPEC.md §2.1).
 *
 * A claim is a pairwise order the paper's own seeds resolve: on a task, for
 * two of its encodings A and B, the paired difference of the paper's
 * per-seed values (paired by seed; interval as docs/SPEC.md §2.1, the sample
 * part from the paper's test examples) lies above 0 (A > B) or below it. The
 * same difference on posenc's seeds gives the verdict:
 *
 *   reproduced     posenc's interval lies on the claim's side of 0
 *   contradicted   it lies on the other side
 *   not resolved   it covers 0 (the reason: one seed, or the interval includes 0)
 *   not run        posenc has no cell for A or B on the task
 *
 * Rank agreement: Kendall's tau-b between the paper's ranking of its
 * encodings on a task (by the mean over its seeds) and posenc's per seed
 * (each posenc seed's values against the paper's means), its mean over
 * posenc's seeds with a t interval over them.
 */
#ifndef POSENC_LITERATURE_H
#define POSENC_LITERATURE_H

#include <stdint.h>
#include <stdio.h>

#include "study/aggregate.h"
#include "study/findings.h"

#define LIT_MAX_NAMES 16   /* tasks, encodings */
#define LIT_MAX_KEYS 4     /* config keys that make a posenc run a task or an encoding */
#define LIT_MAX_SEEDS 16
#define LIT_MAX_CELLS (LIT_MAX_NAMES * LIT_MAX_NAMES)
#define LIT_MAX_STATEMENTS 16

typedef struct {
    char name[32];
    int nkeys;                       /* 0: posenc has no run of it (no "posenc" mapping) */
    char key[LIT_MAX_KEYS][64];      /* run-config keys ("model.pe") ... */
    char value[LIT_MAX_KEYS][64];    /* ... and their values as text ("rope", "0.25") */
} LitName;

typedef struct {
    int task, encoding;              /* indices into Literature.tasks, .encodings */
    int k;                           /* seeds */
    uint64_t seed[LIT_MAX_SEEDS];
    double beyond[LIT_MAX_SEEDS];    /* the metric over the test range */
    double in_range[LIT_MAX_SEEDS];  /* the metric inside the training range; -1 if not given */
    long examples;                   /* test examples per seed (0: not given) */
} LitCell;

typedef struct {
    char path[4096];
    char id[64], title[256], authors[256], arxiv[32], source[512];
    char metric[32];                 /* "exact_match" or "token_acc" */
    int train_lo, train_hi, test_lo, test_hi;
    int ntasks, nencodings, ncells, nstatements;
    LitName tasks[LIT_MAX_NAMES], encodings[LIT_MAX_NAMES];
    LitCell cells[LIT_MAX_CELLS];
    char statements[LIT_MAX_STATEMENTS][512];
} Literature;

/* Read and check a literature file. 0, or -1 after core_errorf naming the
 * file and the key ("x.json: cells[3].seeds[0].beyond: expected a number in
 * [0, 1]"); *lit is then unusable. */
int literature_load(Literature *lit, const char *path);

/* Kendall's tau-b of x and y (n pairs): (concordant - discordant) /
 * sqrt((pairs - ties in x) (pairs - ties in y)). NAN when n < 2 or either
 * side is all ties. */
double kendall_tau_b(const double *x, const double *y, int n);

/* LIT_UNFIT: posenc ran both encodings, but one of them does not fit the
 * task inside its training range (its mean there below the report's `fit`):
 * a model that has not learned the task cannot test its extrapolation. */
typedef enum {
    LIT_REPRODUCED = 0,
    LIT_CONTRADICTED = 1,
    LIT_UNRESOLVED = 2,
    LIT_NOT_RUN = 3,
    LIT_UNFIT = 4,
    LIT_VERDICTS = 5
} LitVerdict;

/* The verdict of a claim of sign `claim` (+1: A > B, -1: A < B) given
 * posenc's paired difference p (NULL: not run); *why gets the reason of a
 * "not resolved" ("one seed", "interval includes 0"). */
LitVerdict literature_verdict(int claim, const Paired *p, const char **why);

/* One row of a task's table: a paper encoding, or a posenc cell of the task
 * that no paper encoding names (enc = -1, e.g. RoPE rotating all of each head). */
typedef struct {
    int enc;                         /* index into Literature.encodings, or -1 */
    int lit_cell;                    /* index into Literature.cells, or -1 (the paper has no value) */
    int cell;                        /* index into AggTable.cells, or -1 (posenc did not run it) */
    char name[128];                  /* the paper's encoding name, or the posenc cell's label */
    double paper_mean, paper_in_range; /* the mean over the paper's seeds; in range -1 if not given */
    int k;                           /* posenc seeds with a value */
    uint64_t seeds[FINDINGS_MAX_SEEDS];
    double v[FINDINGS_MAX_SEEDS];    /* posenc's per-seed values, ascending seed */
    Interval iv;                     /* their mean and 95 % interval */
    double in_range;                 /* posenc: the mean over seeds of the metric inside its training range, -1 if none */
} LitRow;

typedef struct {
    int a, b;                        /* rows of the task (paper encodings) */
    int sign;                        /* the paper's order: +1 a > b, -1 a < b */
    Paired paper, posenc;            /* a - b over the paper's and posenc's seeds */
    LitVerdict verdict;
    const char *why;                 /* why not resolved, or NULL */
} LitClaim;

typedef struct {
    int task;                        /* index into Literature.tasks */
    int run;                         /* posenc ran the task */
    char posenc_task[32];            /* its posenc task name */
    int nrows, nclaims;
    LitRow rows[2 * LIT_MAX_NAMES];
    LitClaim claims[LIT_MAX_NAMES * (LIT_MAX_NAMES - 1) / 2];
    int tau_k;                       /* posenc seeds with a defined tau */
    double tau[FINDINGS_MAX_SEEDS];  /* tau-b per posenc seed */
    uint64_t tau_seed[FINDINGS_MAX_SEEDS];
    double tau_mean, tau_lo, tau_hi; /* NAN when tau_k = 0; the interval needs tau_k >= 2 */
    int ranked;                      /* encodings ranked (both the paper and posenc have them) */
} LitTask;

typedef struct {
    int ntasks;
    LitTask tasks[LIT_MAX_NAMES];
    int count[LIT_VERDICTS];         /* claims per verdict (LitVerdict) */
    double fit;                      /* the least in-range mean of an encoding whose claims are tested */
    int beyond_lo, beyond_hi, beyond_count; /* posenc's lengths averaged ("beyond") */
    long examples;                   /* posenc's evaluation examples per seed behind a beyond value */
    int train_lo, train_hi;          /* posenc's training range */
    int tau_k;                       /* posenc seeds with a tau on some task */
    double tau[FINDINGS_MAX_SEEDS];  /* per seed: the mean over tasks of its tau-b */
    double tau_mean, tau_lo, tau_hi;
} LitReport;

/* Match lit's cells to t's, judge the claims and rank the encodings
 * (metric AGG_EM or AGG_ACC, as lit's). A claim on an encoding whose mean
 * inside posenc's training range is below `fit` is LIT_UNFIT, and the rank
 * agreement leaves that encoding out (fit 0: every encoding counts). 0, or -1
 * after core_errorf: a paper cell matches several cells of t, or no task of
 * the paper matches any cell of t, or t's cells evaluated no length in the
 * paper's test range. */
int literature_compare(const Literature *lit, const AggTable *t, double fit, LitReport *r);

#endif

/*
 * robustness.h — does an experiment's conclusion survive standard changes
 * of its recipe? (`posenc robustness SPEC`)
 *
 * A robustness spec (experiments/robustness.json):
 *
 *   {
 *     "name": "robustness",
 *     "description": "...",
 *     "experiment": "demo.json",         the experiment re-run (a sweep spec; path relative
 *                                         to this file's folder)
 *     "perturbations": [                  one change of the recipe at a time (1..16)
 *       {"name": "wd 0.01", "set": {"train.weight_decay": 0.01}},
 *       {"name": "lr x2",   "set": {"train.lr": 0.004}}
 *     ],
 *     "metric": "both",                   the metric of the conclusions: exact_match,
 *                                         token_acc, loss, ppl or both (the default:
 *                                         exact_match and token_acc; for a language
 *                                         model perplexity and token_acc)
 *     "lengths": [10, 12, 16]             where the ranking is checked (default: 1.25x, 1.5x
 *                                         and 2x the longest training length)
 *   }
 *
 * The experiment is run as it is ("baseline") and once per perturbation,
 * each a sweep folder of its own: OUT/baseline/, OUT/<perturbation>/ (the
 * derived specs in OUT/specs/). The baseline's conclusions are (study/compare.h):
 *
 *   order     every pair of encodings whose paired difference at one of the
 *             lengths is resolved (the interval excludes 0): "alibi > rope at n = 10";
 *   break     every encoding's break length: its range over the seeds.
 *
 * Under a perturbation an order conclusion "holds" (the same verdict),
 * is "not resolved" (the interval covers 0), or "FLIPS" (the opposite verdict);
 * a break conclusion holds when the perturbed range over the seeds overlaps
 * the baseline's, else it moves "earlier" or "later" (a flip).
 */
#ifndef POSENC_ROBUSTNESS_H
#define POSENC_ROBUSTNESS_H

#include <stdio.h>

#include "study/aggregate.h"

#define ROB_MAX_PERTURBATIONS 16

typedef struct {
    char name[64];                         /* as the spec names it */
    char slug[64];                         /* its folder name: the name with [^A-Za-z0-9._-] as '_' */
    char *spec_json;                       /* the derived sweep spec (malloc'd) */
} RobVariant;

typedef struct {
    char name[64];
    char description[1024];
    char spec_path[4096];
    char experiment[4096];                 /* as the spec names it */
    char experiment_path[4096];            /* resolved against the spec's folder */
    unsigned metrics;                      /* 1 << AGG_*: the metrics checked */
    int both;                              /* "both" (the default): exact_match and token_acc, for a
                                              language model perplexity and token_acc */
    int num_lengths;
    int lengths[16];                       /* 0: the defaults */
    int num;                               /* variants: [0] the baseline, then the perturbations */
    RobVariant v[ROB_MAX_PERTURBATIONS + 1];
} RobSpec;

/* Read and check a robustness spec; derive each variant's sweep spec (the
 * experiment with the perturbation's "set" applied; a relative "base" made
 * absolute). 0, or -1 after core_errorf naming the file and the key. */
int rob_load(RobSpec *r, const char *path);
void rob_free(RobSpec *r);

/* Compare the variants' aggregates t[0..num-1] (t[0]: the baseline) and
 * write the verdicts: terminal text to f, markdown to md, one row per
 * conclusion and perturbation to csv (each may be NULL). Returns the number
 * of conclusions that flip under some perturbation, or -1 after core_errorf
 * (the baseline has no group to compare). */
int rob_report(const RobSpec *r, const AggTable *t, FILE *f, FILE *md, FILE *csv);

#endif

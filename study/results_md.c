/*
 * results_md.c — a group's tables: mean over seeds per length in the terminal,
 * mean and 95 % interval with per-seed values and break lengths in
 * results.md (aggregate_internal.h)
 */
#include "study/aggregate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "data/task.h"
#include "model/pe.h"
#include "run/config.h"
#include "run/inspect.h"
#include "run/provenance.h"
#include "run/score.h"
#include "study/findings.h"
#include "study/plot.h"

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* the cell of length n in c: its index, or -1 */
static int cell_length_index(const Cell *c, int n) {
    for (int m = 0; m < c->num_lengths; m++)
        if (c->lengths[m] == n) return m;
    return -1;
}

/* "8 to 10", "in range: 8", "> 32": a cell's break over its seeds (findings.h: break_range_text) */
static void break_cell_text(const Cell *c, int metric, char *buf, size_t cap) {
    break_range_text(&c->brk[metric], buf, (unsigned)cap);
}

/* "8 to 10 / 8 to 10 / > 32" */
static void break_seeds_text(const AggTable *t, const Cell *c, int metric, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->num_runs && len + 32 < cap; i++) {
        char b[48];
        break_text(&t->runs[c->runs[i]].brk[metric], c->n_max, b, sizeof b);
        len += snprintf(buf + len, cap - len, "%s%s", i ? " / " : "", b);
    }
}

/* A group's title line: its name, the training range, the seeds and
 * examples behind its numbers (in markdown, what its intervals are). */
static void group_heading(FILE *f, const AggTable *t, const int *members, int nm, int md) {
    const Cell *cells = t->cells;
    const Cell *c0 = &cells[members[0]];
    char gtitle[1024];
    aggregate_group_title(t, members[0], gtitle, sizeof gtitle);
    fprintf(f, "\n%s%s", md ? "**" : "", gtitle);
    const int any = gtitle[0] != '\0';
    /* the seeds and examples behind the numbers: fewest and most over the group's cells and lengths */
    int smin = 0, smax = 0;
    long exmin = 0, exmax = 0;
    double sample_max = 0, seed_max = 0;
    for (int i = 0; i < nm; i++)
        for (int m = 0; m < cells[members[i]].num_lengths; m++) {
            const Cell *c = &cells[members[i]];
            const int k = c->seeds[m];
            if (!smin || k < smin) smin = k;
            if (k > smax) smax = k;
            if (!exmin || c->examples[m] < exmin) exmin = c->examples[m];
            if (c->examples[m] > exmax) exmax = c->examples[m];
            const Interval *ci[2] = {&c->em_ci[m], &c->acc_ci[m]};
            for (int q = 0; q < 2; q++) {
                if (ci[q]->hw_sample > sample_max) sample_max = ci[q]->hw_sample;
                if (ci[q]->hw_seed > seed_max) seed_max = ci[q]->hw_seed;
            }
        }
    char seeds[64], ex[64];
    if (smin == smax)
        snprintf(seeds, sizeof seeds, "%d seed%s", smax, smax == 1 ? "" : "s");
    else
        snprintf(seeds, sizeof seeds, "%d to %d seeds", smin, smax);
    if (exmin == exmax)
        snprintf(ex, sizeof ex, "%ld", exmax);
    else
        snprintf(ex, sizeof ex, "%ld to %ld", exmin, exmax);
    const int intervals = exmin > 0; /* evaluation files that record their examples */
    if (md && intervals)
        fprintf(f, "** trained on n = %d..%d; mean [95 %% interval] over %s, %s evaluation examples per length; "
                   "**bold** n = training range\n\nThe interval is a t interval over the seeds widened by the Wilson "
                   "interval of the evaluation sample (docs/SPEC.md §2.1); %s. Largest half-widths in this group: "
                   "seed part %.3f, sample part %.3f.\n",
                c0->min_len, c0->max_len, seeds, ex,
                smin < 2 ? "with one seed there is no seed part, so the interval is the sample's alone"
                         : "the same examples for every run, so the sample part does not shrink with more seeds",
                seed_max, sample_max);
    else if (md)
        fprintf(f, "** trained on n = %d..%d; mean ± std over %s%s; **bold** n = training range (the evaluation "
                   "files do not record their examples: no intervals)\n",
                c0->min_len, c0->max_len, seeds, smin < 2 ? " (std n/a for one seed)" : "");
    else
        fprintf(f, "%strained on n = %d..%d; mean over %s; * = training range\n", any ? "; " : "", c0->min_len,
                c0->max_len, seeds);
}

/* The rows of a group's tables: the union of its cells' lengths, sorted; their number. */
static int group_lengths(const AggTable *t, const int *members, int nm, int lengths[MAX_LEN_ROWS]) {
    const Cell *cells = t->cells;
    /* rows: the union of lengths of the group */
    int nl = 0;
    for (int i = 0; i < nm; i++)
        for (int m = 0; m < cells[members[i]].num_lengths; m++) {
            int n = cells[members[i]].lengths[m], seen = 0;
            for (int q = 0; q < nl; q++) seen |= lengths[q] == n;
            if (!seen && nl < MAX_LEN_ROWS) lengths[nl++] = n;
        }
    qsort(lengths, nl, sizeof(int), cmp_int);
    return nl;
}

/* A group's tables, one per metric shown (cells as columns, lengths as
 * rows); in markdown, then the per-seed values, folded. */
static void group_tables(FILE *f, const AggTable *t, const int *members, int nm, int md, const int *lengths, int nl) {
    const Cell *cells = t->cells;
    const Cell *c0 = &cells[members[0]];
    /* an LM task: loss per token (with the floor), perplexity and token_acc; exact
     * match of a whole random chain is near 0 and stays in results.csv only */
    const int shown_lm[3] = {AGG_LOSS, AGG_PPL, AGG_ACC}, shown_seq[2] = {AGG_EM, AGG_ACC};
    const int *shown = c0->lm ? shown_lm : shown_seq, nshown = c0->lm ? 3 : 2;
    char *pst = core_calloc(64 * FINDINGS_MAX_SEEDS, 1);
    /* pass 0: the tables; pass 1 (markdown): the per-seed values, folded */
    for (int pass = 0; pass < 1 + md; pass++) {
        if (pass == 1) {
            char ids[512] = "";
            const Cell *cs = &cells[members[0]];
            for (int i = 0; i < cs->num_runs && strlen(ids) < 480; i++)
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%llu", i ? ", " : "",
                         (unsigned long long)t->runs[cs->runs[i]].seed);
            fprintf(f, "\n<details><summary>per-seed values (seed%s %s, in that order)</summary>\n",
                    cs->num_runs == 1 ? "" : "s", ids);
        }
        /* the terminal's column width: the longest label, at least 11 */
        int w = 11;
        for (int i = 0; i < nm && !md; i++) {
            char label[256];
            cell_label(t, members[i], label, sizeof label);
            if ((int)strlen(label) > w) w = (int)strlen(label) < 40 ? (int)strlen(label) : 40;
        }
        for (int si = 0; si < nshown; si++) {
            const int which = shown[si];
            const char *title = which == AGG_LOSS  ? "loss (per token; floor = lowest possible)"
                                : which == AGG_PPL ? "perplexity (exp of the loss per token)"
                                                   : metric_names[which];
            fprintf(f, md ? "\n%s\n\n| n |" : "%-12.12s", title);
            for (int i = 0; i < nm; i++) {
                char label[256];
                cell_label(t, members[i], label, sizeof label);
                if (md) fprintf(f, " %s |", label);
                else fprintf(f, " %*.*s", w, w, label);
            }
            const int floor_col = which == AGG_LOSS && pass == 0;
            if (floor_col) fprintf(f, md ? " floor |" : " %*s", w, "floor");
            fprintf(f, "\n");
            if (md) {
                fprintf(f, "| ---: |");
                for (int i = 0; i < nm + floor_col; i++) fprintf(f, " ---: |");
                fprintf(f, "\n");
            }
            for (int q = 0; q < nl; q++) {
                const int n = lengths[q], in_train = n >= c0->min_len && n <= c0->max_len;
                if (md)
                    fprintf(f, in_train ? "| **%d** |" : "| %d |", n);
                else
                    fprintf(f, "n=%-4d%s     ", n, in_train ? "*" : " ");
                for (int i = 0; i < nm; i++) {
                    const Cell *c = &cells[members[i]];
                    const int m = cell_length_index(c, n);
                    const Stat *st = m < 0 ? NULL : aggregate_stat(c, m, which);
                    /* loss and perplexity: mean ± std (their intervals are the seed part alone: results.csv) */
                    const Interval *ci = m < 0 || agg_lower_better(which) ? NULL : aggregate_interval(c, m, which);
                    if (!st)
                        fprintf(f, md ? " - |" : " %*s", w, "-");
                    else if (pass == 1) {
                        uint64_t sd[FINDINGS_MAX_SEEDS];
                        double v[FINDINGS_MAX_SEEDS];
                        const int k = aggregate_values(t, c, n, which, sd, v);
                        size_t len = 0;
                        pst[0] = '\0';
                        for (int r = 0; r < k; r++)
                            len += snprintf(pst + len, 64 * FINDINGS_MAX_SEEDS - len, "%s%.3f", r ? " / " : "", v[r]);
                        fprintf(f, " %s |", pst);
                    } else if (md && ci && c->examples[m] > 0)
                        fprintf(f, " %.3f [%.3f, %.3f] |", st->mean, ci->lo, ci->hi);
                    else if (md && c->seeds[m] < 2)
                        fprintf(f, " %.3f ± n/a |", st->mean);
                    else if (md)
                        fprintf(f, " %.3f ± %.3f |", st->mean, st->std);
                    else
                        fprintf(f, " %*.3f", w, st->mean);
                }
                if (floor_col) {
                    const int m = cell_length_index(c0, n);
                    double fl = m >= 0 ? c0->floor[m] : -1.0;
                    if (fl >= 0 && md)
                        fprintf(f, " %.3f |", fl);
                    else if (fl >= 0)
                        fprintf(f, " %*.3f", w, fl);
                    else
                        fprintf(f, md ? " - |" : " %*s", w, "-");
                }
                fprintf(f, "\n");
            }
        }
        if (pass == 1) fprintf(f, "\n</details>\n");
    }
    free(pst);
}

/* Where a group's cells break: per cell, the break over its seeds and per seed. */
static void group_breaks(FILE *f, const AggTable *t, const int *members, int nm, int md) {
    const Cell *cells = t->cells;
    const Cell *c0 = &cells[members[0]];
    /* where it breaks (a language model: perplexity and token_acc; a whole random chain is never exactly right) */
    const int lm = c0->lm, bm[2] = {lm ? AGG_PPL : AGG_EM, AGG_ACC};
    char rule[160];
    if (lm)
        snprintf(rule, sizeof rule, "perplexity above %g x and token_acc below %g x their value inside the training "
                 "range", t->break_factor, t->break_fraction);
    else
        snprintf(rule, sizeof rule, "the metric below %g x its mean inside the training range", t->break_fraction);
    if (md)
        fprintf(f, "\nWhere it breaks (%s): per seed, the last evaluated n within the rule and the first past it "
                   "(\"8 to 10\"); per cell the median over the seeds (\"> n\": not up to the longest evaluated "
                   "length; \"in range\": already inside the training range, an evaluation variant measured against "
                   "the unscaled evaluation; docs/SPEC.md §2.1)\n\n| | %s | per seed | token_acc | per seed |\n"
                   "| --- | ---: | ---: | ---: | ---: |\n",
                rule, lm ? "perplexity" : "exact_match");
    else
        fprintf(f, "where it breaks (%s; last n within it to the first past it, median over seeds):\n", rule);
    for (int i = 0; i < nm; i++) {
        const Cell *c = &cells[members[i]];
        char label[256], b[2][160], ps[2][512];
        cell_label(t, members[i], label, sizeof label);
        for (int q = 0; q < 2; q++) {
            break_cell_text(c, bm[q], b[q], sizeof b[q]);
            break_seeds_text(t, c, bm[q], ps[q], sizeof ps[q]);
        }
        if (md)
            fprintf(f, "| %s | %s | %s | %s | %s |\n", label, b[0], ps[0], b[1], ps[1]);
        else
            fprintf(f, "  %-16s %s %-28s token_acc %s\n", label, lm ? "perplexity" : "exact_match", b[0], b[1]);
    }
}

/* A group: cells equal in every grid key but those of the encoding (model.pe,
 * train.random_positions, the encodings' settings).
 * Prints one table per metric with the group's cells as columns and the
 * lengths as rows, the training range marked: in the terminal the mean over
 * seeds, in markdown the mean and its 95 % interval (findings.h), then the
 * per-seed values (folded) and the break lengths. */
void print_group(FILE *f, const AggTable *t, const int *members, int nm, int md) {
    group_heading(f, t, members, nm, md);
    int lengths[MAX_LEN_ROWS];
    const int nl = group_lengths(t, members, nm, lengths);
    group_tables(f, t, members, nm, md, lengths, nl);
    group_breaks(f, t, members, nm, md);
}

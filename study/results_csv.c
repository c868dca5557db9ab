/*
 * results_csv.c — a sweep's aggregate as files: OUT/results.csv, OUT/breaks.csv,
 * OUT/by_position.csv (docs/SPEC.md; aggregate_internal.h)
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

/* the cells' per-seed values of one metric at length index m, space-separated ("%.6f"), or their seeds */
static size_t per_seed_text(const RunResult *runs, const Cell *c, int m, int metric, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->num_runs && len + 40 < cap; i++) {
        const RunResult *r = &runs[c->runs[i]];
        for (int q = 0; q < r->num; q++)
            if (r->n[q] == c->lengths[m]) {
                if (metric < 0)
                    len += snprintf(buf + len, cap - len, "%s%llu", len ? " " : "", (unsigned long long)r->seed);
                else
                    len += snprintf(buf + len, cap - len, "%s%.6f", len ? " " : "", aggregate_run_value(r, q, metric));
                break;
            }
    }
    return len;
}

int write_csv(const char *out, const AggTable *t) {
    const Cell *cells = t->cells;
    const int ncells = t->ncells, nkeys = t->nkeys;
    size_t cap = 4096, len = 0;
    for (int i = 0; i < ncells; i++)
        cap += (size_t)cells[i].num_lengths * (nkeys * 64 + 900 + (size_t)cells[i].num_runs * 100);
    char *csv = core_calloc(cap, 1);
    for (int k = 0; k < nkeys; k++) len += snprintf(csv + len, cap - len, "%s,", t->keys[k]);
    len += snprintf(csv + len, cap - len,
                    "label,variant,n,seeds,in_training_range,train_max_len,"
                    "token_acc_mean,token_acc_std,token_acc_min,token_acc_max,"
                    "exact_match_mean,exact_match_std,exact_match_min,exact_match_max,"
                    "loss_mean,loss_std,loss_min,loss_max,examples,"
                    "token_acc_lo,token_acc_hi,token_acc_hw_seed,token_acc_hw_sample,"
                    "exact_match_lo,exact_match_hi,exact_match_hw_seed,exact_match_hw_sample,"
                    "seed_ids,token_acc_per_seed,exact_match_per_seed,"
                    "ppl_mean,ppl_std,ppl_min,ppl_max,loss_lo,loss_hi,ppl_lo,ppl_hi,loss_per_seed\n");
    char *buf = core_calloc(64 * FINDINGS_MAX_SEEDS + 64, 1);
    for (int i = 0; i < ncells; i++) {
        const Cell *c = &cells[i];
        for (int m = 0; m < c->num_lengths; m++) {
            for (int k = 0; k < nkeys; k++) len += snprintf(csv + len, cap - len, "%s,", c->values[k]);
            len += snprintf(csv + len, cap - len, "%s,%s,", c->label, c->variant);
            int n = c->lengths[m];
            len += snprintf(csv + len, cap - len, "%d,%d,%d,%d", n, c->seeds[m],
                            n >= c->min_len && n <= c->max_len, c->max_len);
            const Stat *st[3] = {&c->acc[m], &c->em[m], &c->loss[m]};
            for (int q = 0; q < 3; q++) {
                /* one seed has no sample std: an empty field (NaN to pandas and R), not 0 */
                char sd[32] = "";
                if (c->seeds[m] > 1) snprintf(sd, sizeof sd, "%.6f", st[q]->std);
                len += snprintf(csv + len, cap - len, ",%.6f,%s,%.6f,%.6f", st[q]->mean, sd, st[q]->min, st[q]->max);
            }
            /* the 95 % intervals (findings.h); no examples recorded: no interval, empty fields */
            if (c->examples[m] > 0) {
                len += snprintf(csv + len, cap - len, ",%ld", c->examples[m]);
                const Interval *ci[2] = {&c->acc_ci[m], &c->em_ci[m]};
                for (int q = 0; q < 2; q++)
                    len += snprintf(csv + len, cap - len, ",%.6f,%.6f,%.6f,%.6f", ci[q]->lo, ci[q]->hi, ci[q]->hw_seed,
                                    ci[q]->hw_sample);
            } else {
                len += snprintf(csv + len, cap - len, ",,,,,,,,,");
            }
            per_seed_text(t->runs, c, m, -1, buf, 64 * FINDINGS_MAX_SEEDS);
            len += snprintf(csv + len, cap - len, ",%s", buf);
            per_seed_text(t->runs, c, m, AGG_ACC, buf, 64 * FINDINGS_MAX_SEEDS);
            len += snprintf(csv + len, cap - len, ",%s", buf);
            per_seed_text(t->runs, c, m, AGG_EM, buf, 64 * FINDINGS_MAX_SEEDS);
            len += snprintf(csv + len, cap - len, ",%s", buf);
            /* perplexity (the mean of the seeds' exp(loss)); loss and perplexity intervals: the seed part
             * alone (empty with one seed) */
            char sd[32] = "", ci[128] = ",,,";
            if (c->seeds[m] > 1) {
                snprintf(sd, sizeof sd, "%.6f", c->ppl[m].std);
                snprintf(ci, sizeof ci, "%.6f,%.6f,%.6f,%.6f", c->loss_ci[m].lo, c->loss_ci[m].hi, c->ppl_ci[m].lo,
                         c->ppl_ci[m].hi);
            }
            len += snprintf(csv + len, cap - len, ",%.6f,%s,%.6f,%.6f,%s", c->ppl[m].mean, sd, c->ppl[m].min,
                            c->ppl[m].max, ci);
            per_seed_text(t->runs, c, m, AGG_LOSS, buf, 64 * FINDINGS_MAX_SEEDS);
            len += snprintf(csv + len, cap - len, ",%s\n", buf);
        }
    }
    free(buf);
    char path[4096];
    int rc = path_join(path, sizeof path, out, "results.csv") == 0 ? file_write_atomic(path, csv, len) : -1;
    free(csv);
    return rc;
}


/* breaks.csv: per cell and metric, the break over the seeds (findings.h) */
int write_breaks_csv(const char *out, const AggTable *t) {
    size_t cap = 4096, len = 0;
    for (int i = 0; i < t->ncells; i++)
        cap += AGG_NMETRICS * ((size_t)t->nkeys * 64 + 500 + (size_t)t->cells[i].num_runs * 40);
    char *csv = core_calloc(cap, 1);
    for (int k = 0; k < t->nkeys; k++) len += snprintf(csv + len, cap - len, "%s,", t->keys[k]);
    len += snprintf(csv + len, cap - len,
                    "label,variant,metric,fraction,train_max_len,n_max,seeds,defined,censored,"
                    "median,min,max,seed_ids,per_seed,in_distribution_per_seed,"
                    "rule,median_last_ok,coarse,in_range,per_seed_last_ok\n");
    for (int i = 0; i < t->ncells; i++) {
        const Cell *c = &t->cells[i];
        for (int metric = 0; metric < AGG_NMETRICS; metric++) {
            const BreakSummary *bs = &c->brk[metric];
            const int lower = agg_lower_better(metric);
            for (int k = 0; k < t->nkeys; k++) len += snprintf(csv + len, cap - len, "%s,", c->values[k]);
            len += snprintf(csv + len, cap - len, "%s,%s,%s,%g,%d,%d,%d,%d,%d,", c->label, c->variant,
                            metric_names[metric], lower ? t->break_factor : t->break_fraction, c->max_len, c->n_max,
                            c->num_runs, bs->defined, bs->censored);
            /* median, min, max: a length, or empty when censored (past n_max) or undefined */
            const int v3[3] = {bs->median, bs->min, bs->max};
            for (int q = 0; q < 3; q++)
                len += v3[q] > 0 ? snprintf(csv + len, cap - len, "%d,", v3[q]) : snprintf(csv + len, cap - len, ",");
            for (int pass = 0; pass < 3; pass++) {
                for (int r = 0; r < c->num_runs; r++) {
                    const Break *rb = &t->runs[c->runs[r]].brk[metric];
                    char b[32];
                    if (pass == 0) snprintf(b, sizeof b, "%llu", (unsigned long long)t->runs[c->runs[r]].seed);
                    else if (pass == 1 && rb->n == 0) snprintf(b, sizeof b, ">%d", c->n_max);
                    else if (pass == 1) break_n_text(rb->n, c->n_max, b, sizeof b);
                    else snprintf(b, sizeof b, "%.6f", rb->ref);
                    len += snprintf(csv + len, cap - len, "%s%s", r ? " " : "", b);
                }
                len += snprintf(csv + len, cap - len, ",");
            }
            /* the rule; the median's interval (median_last_ok, median], whether the grid is coarse there, and
             * how many seeds cross inside the training range */
            len += snprintf(csv + len, cap - len, "%s,", lower ? "perplexity above factor x" : "below fraction x");
            if (bs->median > 0) len += snprintf(csv + len, cap - len, "%d,", bs->median_last_ok);
            else len += snprintf(csv + len, cap - len, ",");
            len += snprintf(csv + len, cap - len, "%d,%d,",
                            bs->median > c->max_len && break_coarse(bs->median_last_ok, bs->median), bs->in_range);
            for (int r = 0; r < c->num_runs; r++) {
                const Break *rb = &t->runs[c->runs[r]].brk[metric];
                len += snprintf(csv + len, cap - len, "%s%d", r ? " " : "", rb->n > 0 ? rb->last_ok : 0);
            }
            len += snprintf(csv + len, cap - len, "\n");
        }
    }
    char path[4096];
    int rc = path_join(path, sizeof path, out, "breaks.csv") == 0 ? file_write_atomic(path, csv, len) : -1;
    free(csv);
    return rc;
}

/* OUT/by_position.csv: per cell and position bin (positions pos_lo..pos_hi, the
 * absolute position of the predicted token, summed over the evaluated lengths). */
int write_by_position_csv(const char *out, const AggTable *t) {
    const Cell *cells = t->cells;
    size_t cap = 1024 + (size_t)t->ncells * RUN_EVAL_POS_BINS * (t->nkeys * 64 + 400), len = 0;
    char *csv = core_calloc(cap, 1);
    for (int k = 0; k < t->nkeys; k++) len += snprintf(csv + len, cap - len, "%s,", t->keys[k]);
    len += snprintf(csv + len, cap - len,
                    "label,variant,pos_lo,pos_hi,in_training_range,seeds,tokens,loss_mean,loss_min,loss_max,ppl_mean,"
                    "token_acc_mean\n");
    for (int i = 0; i < t->ncells; i++) {
        const Cell *c = &cells[i];
        const int train_T = cell_train_T(c);
        for (int b = 0; b < RUN_EVAL_POS_BINS; b++) {
            const PosStat p = pos_stat(t, c, b);
            if (!p.seeds) continue;
            for (int k = 0; k < t->nkeys; k++) len += snprintf(csv + len, cap - len, "%s,", c->values[k]);
            const long lo = eval_pos_bin_lo(b), hi = eval_pos_bin_lo(b + 1) - 1;
            len += snprintf(csv + len, cap - len, "%s,%s,%ld,%ld,%d,%d,%ld,%.6f,%.6f,%.6f,%.6f,%.6f\n", c->label,
                            c->variant, lo, hi, hi <= train_T, p.seeds, p.tokens, p.loss_mean, p.loss_min, p.loss_max,
                            p.ppl_mean, p.acc_mean);
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/by_position.csv", out);
    const int rc = file_write_atomic(path, csv, len);
    free(csv);
    return rc;
}

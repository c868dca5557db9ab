/*
 * aggregate.c — a sweep folder's (or a list of runs') results gathered into
 * an AggTable: runs, cells, over-seed statistics, break lengths, groups
 * (aggregate.h); its renderers: results_csv.c, results_md.c, results_plot.c.
 */
#include "study/aggregate.h"
#include "study/aggregate_internal.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
#include "study/plot.h"
#include "study/sweep.h"

const char *const metric_names[AGG_NMETRICS] = {"exact_match", "token_acc", "loss", "ppl"};

const char *agg_metric_name(int metric) {
    return metric >= 0 && metric < AGG_NMETRICS ? metric_names[metric] : "?";
}

int agg_metric_parse(const char *name) {
    for (int m = 0; m < AGG_NMETRICS; m++)
        if (strcmp(name, metric_names[m]) == 0) return m;
    return strcmp(name, "perplexity") == 0 ? AGG_PPL : -1;
}

double aggregate_run_value(const AggRun *r, int q, int metric) {
    switch (metric) {
    case AGG_EM: return r->em[q];
    case AGG_ACC: return r->acc[q];
    case AGG_LOSS: return r->loss[q];
    default: return dm_exp(r->loss[q]);
    }
}

const Stat *aggregate_stat(const AggCell *c, int m, int metric) {
    return metric == AGG_EM ? &c->em[m] : metric == AGG_ACC ? &c->acc[m] : metric == AGG_LOSS ? &c->loss[m] : &c->ppl[m];
}

const Interval *aggregate_interval(const AggCell *c, int m, int metric) {
    return metric == AGG_EM    ? &c->em_ci[m]
           : metric == AGG_ACC ? &c->acc_ci[m]
           : metric == AGG_LOSS ? &c->loss_ci[m]
                                : &c->ppl_ci[m];
}

void aggregate_rule_text(const AggTable *t, int metric, char *buf, size_t cap) {
    if (agg_lower_better(metric))
        snprintf(buf, cap, "perplexity exceeds %g x", t->break_factor);
    else
        snprintf(buf, cap, "%s falls below %g x", metric_names[metric], t->break_fraction);
}

Stat stat_of(const double *x, int n) {
    Stat s = {0, 0, x[0], x[0]};
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < s.min) s.min = x[i];
        if (x[i] > s.max) s.max = x[i];
    }
    s.mean = sum / n;
    if (n > 1) {
        double ss = 0.0;
        for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
        s.std = sqrt(ss / (n - 1));
    }
    return s;
}

/* the value at a dotted key path of a JSON object, as text (sweep_value_text) */
static int json_path_text(const cJSON *root, const char *key, char *buf, size_t cap) {
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", key);
    const cJSON *v = root;
    char *save = NULL;
    for (char *part = strtok_r(tmp, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
        v = cJSON_GetObjectItemCaseSensitive(v, part);
    if (!v) return -1;
    sweep_value_text(v, buf, cap);
    return 0;
}

int aggregate_parse_sweep(const char *text, const char *origin, char keys[][64], int *nkeys, char *name,
                          size_t name_cap, cJSON **grid_out) {
    *nkeys = 0;
    name[0] = '\0';
    if (grid_out) *grid_out = NULL;
    cJSON *spec = cJSON_Parse(text);
    if (!spec || !cJSON_IsObject(spec)) {
        cJSON_Delete(spec);
        return core_errorf("%s: not a JSON object: not a sweep.json of posenc sweep", origin);
    }
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(spec, "name");
    if (nm && (!cJSON_IsString(nm) || strlen(nm->valuestring) >= name_cap)) {
        cJSON_Delete(spec);
        return core_errorf("%s: name: expected a string of fewer than %zu characters", origin, name_cap);
    }
    snprintf(name, name_cap, "%s", nm ? nm->valuestring : "sweep");
    cJSON *grid = cJSON_DetachItemFromObjectCaseSensitive(spec, "grid");
    cJSON_Delete(spec);
    if (grid && !cJSON_IsObject(grid)) {
        cJSON_Delete(grid);
        return core_errorf("%s: grid: expected an object of config keys", origin);
    }
    long cells = 1;
    for (const cJSON *g = grid ? grid->child : NULL; g; g = g->next) {
        const int n = cJSON_GetArraySize(g);
        if (*nkeys == SWEEP_MAX_KEYS || strlen(g->string) >= 64 || !cJSON_IsArray(g) || n < 1 ||
            (cells *= n) > SWEEP_MAX_JOBS) {
            int k = *nkeys;
            cJSON_Delete(grid);
            return core_errorf("%s: grid: %s", origin,
                             k == SWEEP_MAX_KEYS ? "more keys than a sweep can have (8)"
                             : !cJSON_IsArray(g) || n < 1 ? "expected a non-empty array of values per key"
                             : cells > SWEEP_MAX_JOBS ? "more cells than a sweep can have (4096)"
                                                      : "a key longer than 63 characters");
        }
        snprintf(keys[(*nkeys)++], 64, "%s", g->string);
    }
    if (grid_out) *grid_out = grid;
    else cJSON_Delete(grid);
    return 0;
}

/* ---- reading runs -------------------------------------------------------- */



typedef struct {
    RunResult *runs;
    int num, cap, incomplete;
    char **dirs; /* the folders of the runs aggregated, for their provenance */
    int ndirs;
} RunList;

static void run_list_free(RunList *l) {
    for (int i = 0; i < l->ndirs; i++) free(l->dirs[i]);
    free(l->dirs);
    free(l->runs);
}

int aggregate_encoding_key(const char *key) {
    if (strcmp(key, "model.pe") == 0 || strcmp(key, "train.random_positions") == 0) return 1;
    return strncmp(key, "model.", 6) == 0 && pe_setting_find(key + 6) >= 0;
}

/* Insert into label, after the encoding's name, each setting of encoding pe
 * that is a grid key and not at its default: "rope+pi" -> "rope(rope_fraction=0.25)+pi". */
static void label_settings(char *label, size_t cap, const char *pe, char keys[][64], char values[][64], int nkeys) {
    const PEOps *ops = pe_find(pe);
    size_t at = strlen(pe);
    if (!ops || strncmp(label, pe, at) != 0) return;
    char add[256] = "";
    for (int k = 0; k < nkeys; k++) {
        if (strncmp(keys[k], "model.", 6) != 0) continue;
        int slot = pe_setting_find(keys[k] + 6);
        if (slot < 0 || !pe_uses_setting(ops, slot)) continue;
        char *end;
        double v = strtod(values[k], &end);
        if (end != values[k] && *end == '\0' && v == pe_setting_at(slot)->def) continue;
        size_t len = strlen(add);
        snprintf(add + len, sizeof add - len, "%s%s=%s", len ? ", " : "(", keys[k] + 6, values[k]);
    }
    if (!add[0]) return;
    strncat(add, ")", sizeof add - strlen(add) - 1);
    char rest[128];
    snprintf(rest, sizeof rest, "%s", label + at);
    snprintf(label + at, cap - at, "%s%s", add, rest);
}

/* The results of one run directory (run_inspect: the one judge of what a
 * run is) into list: one per evaluation file made at the final step. A run
 * that is not finished, or an evaluation not made at its final step, is
 * listed on stderr and left out. 0, or RUN_IO / RUN_INVALID after core_errorf
 * (files that disagree or hold values out of range: nothing is aggregated). */
static int add_run(const char *dir, char keys[][64], int nkeys, RunList *list, RunInfo *ri) {
    int st = run_inspect(dir, ri);
    if (st == RUN_NOT_A_RUN) {
        fprintf(stderr, "collect: %s; left out\n", core_error());
        list->incomplete++;
        return 0;
    }
    if (st != RUN_OK) return st;
    if (!ri->trained) {
        fprintf(stderr, "collect: %s: %s; left out\n", dir, ri->why);
        list->incomplete++;
        return 0;
    }
    if (!ri->complete) list->incomplete++;
    if (!ri->complete && strncmp(ri->why, "not evaluated", 13) == 0) /* stale files are listed below */
        fprintf(stderr, "collect: %s: %s; its other evaluations are counted\n", dir, ri->why);
    char *cj = config_to_json(&ri->cfg);
    cJSON *cfg = cJSON_Parse(cj);
    free(cj);
    int rc = 0;
    for (int pm = 0; pm < EVAL_POS_COUNT && rc == 0; pm++) {
        int unscaled = -1; /* the index of this run's unscaled evaluation at these positions */
        for (int sc = 0; sc < PE_ROPE_SCALING_COUNT && rc == 0; sc++) {
            const RunEval *e = &ri->eval[pm][sc];
            if (!e->present) continue;
            char stem[80];
            eval_variant_stem(pm, sc, stem, sizeof stem);
            if (e->stale[0]) { /* not the evaluation config.json describes now (run_inspect) */
                fprintf(stderr, "collect: %s: %s; left out\n", dir, e->stale);
                continue;
            }
            if (list->num == list->cap) {
                list->cap = list->cap ? 2 * list->cap : 64;
                RunResult *nr = core_calloc((size_t)list->cap, sizeof *nr);
                if (list->num) memcpy(nr, list->runs, (size_t)list->num * sizeof *nr);
                free(list->runs);
                list->runs = nr;
            }
            RunResult *r = &list->runs[list->num];
            memset(r, 0, sizeof *r);
            for (int k = 0; k < nkeys && rc == 0; k++)
                if (json_path_text(cfg, keys[k], r->values[k], sizeof r->values[k]) != 0) {
                    core_errorf("%s/config.json: no key %s (a grid key of the sweep)", dir, keys[k]);
                    rc = RUN_INVALID;
                }
            if (rc) break;
            r->min_len = ri->cfg.task.min_len;
            r->max_len = ri->cfg.task.max_len;
            r->alphabet = ri->cfg.task.alphabet;
            snprintf(r->task, sizeof r->task, "%s", ri->cfg.task.name);
            eval_variant_name(pm, sc, r->variant, sizeof r->variant);
            if (!r->variant[0]) snprintf(r->variant, sizeof r->variant, "default");
            eval_variant_label(ri->cfg.model.pe, ri->cfg.train.random_positions, pm, sc, r->label, sizeof r->label);
            label_settings(r->label, sizeof r->label, ri->cfg.model.pe, keys, r->values, nkeys);
            r->variant_rank = pm * PE_ROPE_SCALING_COUNT + sc;
            r->ref = sc == 0 ? -1 : unscaled;
            if (sc == 0) unscaled = list->num;
            r->seed = ri->cfg.seed;
            r->num = e->num;
            for (int q = 0; q < e->num; q++) {
                r->n[q] = e->n[q];
                r->acc[q] = e->token_acc[q];
                r->em[q] = e->exact_match[q];
                r->loss[q] = e->loss[q];
                r->floor[q] = e->floor[q];
                r->examples[q] = e->examples[q];
            }
            memcpy(r->pos_total, e->pos_total, sizeof r->pos_total);
            memcpy(r->pos_correct, e->pos_correct, sizeof r->pos_correct);
            memcpy(r->pos_loss, e->pos_loss, sizeof r->pos_loss);
            list->num++;
            if (!list->ndirs || strcmp(list->dirs[list->ndirs - 1], dir) != 0) {
                if (!list->dirs) list->dirs = core_calloc(SWEEP_MAX_JOBS + 1, sizeof *list->dirs);
                if (list->ndirs < SWEEP_MAX_JOBS + 1) list->dirs[list->ndirs++] = core_strdup(dir);
            }
        }
    }
    cJSON_Delete(cfg);
    return rc;
}

/* ---- cells --------------------------------------------------------------- */

/* the mixed-radix index of a cell's values in the grid's arrays */
static long cell_rank(const Cell *c, const cJSON *grid, int nkeys) {
    long rank = 0;
    const cJSON *g = grid ? grid->child : NULL;
    for (int k = 0; k < nkeys && g; k++, g = g->next) {
        int n = cJSON_GetArraySize(g), idx = n;
        for (int i = 0; i < n; i++) {
            char text[64];
            sweep_value_text(cJSON_GetArrayItem(g, i), text, sizeof text);
            if (strcmp(text, c->values[k]) == 0) {
                idx = i;
                break;
            }
        }
        rank = rank * (n + 1) + idx;
    }
    return rank * EVAL_POS_COUNT * PE_ROPE_SCALING_COUNT + c->variant_rank;
}

static int cmp_cell_rank(const void *a, const void *b) {
    long x = ((const Cell *)a)->rank, y = ((const Cell *)b)->rank;
    return (x > y) - (x < y);
}

/* equal in every grid key */
static int same_values(char a[][64], char b[][64], int nkeys) {
    for (int k = 0; k < nkeys; k++)
        if (strcmp(a[k], b[k]) != 0) return 0;
    return 1;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int group_key(const AggTable *t, int k);
/* equal in every key that separates groups (group_key) */
static int same_group_values(const AggTable *t, const Cell *a, const Cell *b) {
    for (int k = 0; k < t->nkeys; k++)
        if (group_key(t, k) && strcmp(a->values[k], b->values[k]) != 0) return 0;
    return 1;
}

/* A run's values of metric (AGG_EM, AGG_ACC, AGG_LOSS) */
static const double *run_values(const RunResult *r, int metric) {
    return metric == AGG_EM ? r->em : metric == AGG_ACC ? r->acc : r->loss;
}

/* The break of run r at a metric (AGG_EM, AGG_ACC, AGG_LOSS) (findings.h):
 * against the in-range mean of ref's values (ref: r itself, or its unscaled
 * evaluation), accuracy below fraction x it, or loss above it + ln(factor)
 * (perplexity above factor x); a variant's training range is checked length by
 * length against ref's value at the same n. */
static Break run_break(const RunResult *r, const RunResult *ref, int metric, double fraction, double factor) {
    double mean;
    const double *rv = run_values(ref, metric), *v = run_values(r, metric);
    const int cnt = in_range_mean(ref->n, rv, ref->num, ref->min_len, ref->max_len, &mean);
    const int lower = metric == AGG_LOSS;
    Break b = {.n = -1, .ref = mean};
    if (!cnt || (!lower && mean <= 0)) return b;
    const double up = lower ? dm_log(factor) : 0.0;
    double thr[AGG_MAX_LENGTHS];
    for (int q = 0; q < r->num; q++) {
        thr[q] = lower ? mean + up : fraction * mean;
        if (r->n[q] > r->max_len) continue;
        thr[q] = NAN; /* inside the training range: the run's own values make the reference */
        if (ref == r) continue;
        for (int j = 0; j < ref->num; j++)
            if (ref->n[j] == r->n[q]) thr[q] = lower ? rv[j] + up : fraction * rv[j];
    }
    b = break_find(r->n, v, thr, r->num, r->min_len, r->max_len, lower);
    b.ref = mean;
    return b;
}

/* A cell's statistics: per length the mean, std, min, max and 95 % interval
 * over its seeds; per run and over the seeds, the break length (findings.h). */
static void compute_cell(Cell *c, RunResult *runs, double break_fraction, double break_factor) {
    for (int i = 1; i < c->num_runs; i++) /* seeds in order everywhere (insertion sort: a few runs) */
        for (int j = i; j > 0 && runs[c->runs[j - 1]].seed > runs[c->runs[j]].seed; j--) {
            const int tmp = c->runs[j];
            c->runs[j] = c->runs[j - 1];
            c->runs[j - 1] = tmp;
        }
    /* the union of lengths, sorted */
    c->num_lengths = 0;
    for (int i = 0; i < c->num_runs; i++) {
        const RunResult *r = &runs[c->runs[i]];
        for (int k = 0; k < r->num; k++) {
            int seen = 0;
            for (int m = 0; m < c->num_lengths; m++) seen |= c->lengths[m] == r->n[k];
            if (!seen && c->num_lengths < MAX_LEN_ROWS) c->lengths[c->num_lengths++] = r->n[k];
        }
    }
    qsort(c->lengths, c->num_lengths, sizeof(int), cmp_int);
    c->n_max = c->num_lengths ? c->lengths[c->num_lengths - 1] : 0;
    double *a = core_calloc(c->num_runs, sizeof *a), *e = core_calloc(c->num_runs, sizeof *e),
           *l = core_calloc(c->num_runs, sizeof *l), *pp = core_calloc(c->num_runs, sizeof *pp);
    for (int m = 0; m < c->num_lengths; m++) {
        int k = 0;
        long ex = 0;
        c->floor[m] = -1.0;
        for (int i = 0; i < c->num_runs; i++) {
            const RunResult *r = &runs[c->runs[i]];
            for (int q = 0; q < r->num; q++)
                if (r->n[q] == c->lengths[m]) {
                    a[k] = r->acc[q], e[k] = r->em[q], l[k] = r->loss[q], pp[k] = aggregate_run_value(r, q, AGG_PPL);
                    if (r->floor[q] >= 0) c->floor[m] = r->floor[q]; /* a property of the task */
                    if (k == 0 || r->examples[q] < ex) ex = r->examples[q];
                    k++;
                    break;
                }
        }
        c->seeds[m] = k;
        c->examples[m] = ex;
        c->acc[m] = stat_of(a, k);
        c->em[m] = stat_of(e, k);
        c->loss[m] = stat_of(l, k);
        c->ppl[m] = stat_of(pp, k);
        c->acc_ci[m] = interval_of(a, k, ex);
        c->em_ci[m] = interval_of(e, k, ex);
        c->loss_ci[m] = interval_seeds(l, k);
        c->ppl_ci[m] = interval_seeds(pp, k);
    }
    free(a);
    free(e);
    free(l);
    free(pp);
    /* breaks: per run, then over the seeds */
    int *b = core_calloc(c->num_runs, sizeof *b);
    for (int metric = 0; metric < AGG_NMETRICS; metric++) {
        BreakSummary *bs = &c->brk[metric];
        for (int i = 0; i < c->num_runs; i++) {
            RunResult *r = &runs[c->runs[i]];
            if (metric == AGG_PPL) { /* perplexity's rule is the loss's, in other units */
                r->brk[AGG_PPL] = r->brk[AGG_LOSS];
                if (r->brk[AGG_PPL].n >= 0) r->brk[AGG_PPL].ref = dm_exp(r->brk[AGG_LOSS].ref);
            } else {
                r->brk[metric] = run_break(r, r->ref >= 0 ? &runs[r->ref] : r, metric, break_fraction, break_factor);
            }
            b[i] = r->brk[metric].n;
        }
        memset(bs, 0, sizeof *bs);
        bs->defined = break_summary(b, c->num_runs, &bs->median, &bs->min, &bs->max, &bs->censored);
        bs->max_len = c->max_len;
        bs->n_max = c->n_max;
        for (int i = 0; i < c->num_runs; i++) {
            const Break *rb = &runs[c->runs[i]].brk[metric];
            bs->in_range += rb->n > 0 && rb->in_range;
            if (rb->n == bs->median && bs->median > 0) bs->median_last_ok = rb->last_ok;
        }
    }
    free(b);
}

int aggregate_values(const AggTable *t, const AggCell *c, int n, int metric, uint64_t *seeds, double *v) {
    int k = 0;
    for (int i = 0; i < c->num_runs && k < FINDINGS_MAX_SEEDS; i++) {
        const AggRun *r = &t->runs[c->runs[i]];
        for (int q = 0; q < r->num; q++)
            if (r->n[q] == n) {
                seeds[k] = r->seed;
                v[k++] = aggregate_run_value(r, q, metric);
                break;
            }
    }
    return k;
}

/* ---- groups and labels ----------------------------------------------------- */


/* The evaluation positions of a cell (EVAL_POS_*): plain and random
 * evaluations go to separate groups (different test distributions), RoPE
 * scalings of one run share a group (alternatives on the same test). */
static int cell_positions(const Cell *c) { return c->variant_rank / PE_ROPE_SCALING_COUNT; }

/* Whether grid key k separates groups: every key but those of the
 * encoding's identity (AggTable.enc_key) in a sweep; for runs that are not one sweep's, only
 * the task and its training range (the rest, what the runs differ in, is
 * compared inside a group). */
static int group_key(const AggTable *t, int k) {
    if (t->enc_key[k]) return 0;
    if (!t->adhoc) return 1;
    return strcmp(t->keys[k], "task.name") == 0 || strcmp(t->keys[k], "task.min_len") == 0 ||
           strcmp(t->keys[k], "task.max_len") == 0;
}

/* whether key k takes more than one value among the cells of group g */
static int key_varies(const AggTable *t, int g, int k) {
    for (int c = g; c < t->ncells; c++)
        if (t->group[c] == g && strcmp(t->cells[c].values[k], t->cells[g].values[k]) != 0) return 1;
    return 0;
}

/* A cell's name in a group's table, plot and comparisons: its label (the
 * encoding with its settings, "+rand", the evaluation variant: "rope+ntk")
 * and, for each other grid key (not of the encoding's identity) whose value
 * differs within its group, key=value with the key's last part ("rope lr=0.004";
 * the whole key where two keys share their last part). */
void cell_label(const AggTable *t, int cell, char *buf, size_t cap) {
    const Cell *c = &t->cells[cell];
    size_t len = (size_t)snprintf(buf, cap, "%s", c->label);
    for (int k = 0; k < t->nkeys && len < cap; k++) {
        if (t->enc_key[k] || !key_varies(t, t->group[cell], k)) continue;
        const char *dot = strrchr(t->keys[k], '.'), *shortk = dot ? dot + 1 : t->keys[k];
        for (int q = 0; q < t->nkeys; q++) {
            const char *d2 = strrchr(t->keys[q], '.');
            if (q != k && strcmp(d2 ? d2 + 1 : t->keys[q], shortk) == 0) shortk = t->keys[k];
        }
        len += (size_t)snprintf(buf + len, cap - len, " %s=%.24s", shortk, c->values[k]);
    }
}

/* ---- loss by position ------------------------------------------------------ */

PosStat pos_stat(const AggTable *t, const Cell *c, int b) {
    PosStat p = {0};
    for (int i = 0; i < c->num_runs; i++) {
        const RunResult *r = &t->runs[c->runs[i]];
        if (r->pos_total[b] <= 0) continue;
        const double l = r->pos_loss[b] / (double)r->pos_total[b];
        p.loss_min = p.seeds ? fmin(p.loss_min, l) : l;
        p.loss_max = p.seeds ? fmax(p.loss_max, l) : l;
        p.loss_mean += l;
        p.ppl_mean += dm_exp(l);
        p.acc_mean += (double)r->pos_correct[b] / (double)r->pos_total[b];
        p.tokens += r->pos_total[b];
        p.seeds++;
    }
    if (p.seeds) p.loss_mean /= p.seeds, p.ppl_mean /= p.seeds, p.acc_mean /= p.seeds;
    return p;
}

/* The last position a cell's training predicts: the longest training input (LM
 * tasks: max_len; the answer frame: n + m + 2 at max_len, counted from BOS). */
int cell_train_T(const Cell *c) {
    const TaskOps *tk = task_find(c->task);
    if (!tk) return c->max_len;
    TaskConfig tc;
    task_config_default(&tc);
    tc.min_len = c->min_len;
    tc.max_len = c->max_len;
    return task_max_train_input_len(tk, &tc);
}


static int cmp_name(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* The sorted names of the subfolders of dir (no dot files); *n of them, malloc'd; NULL after core_errorf. */
static char (*list_dir(const char *dir, int *n))[256] {
    DIR *d = opendir(dir);
    if (!d) {
        core_errorf("%s: cannot list: %s", dir, strerror(errno));
        return NULL;
    }
    char (*names)[256] = core_calloc(SWEEP_MAX_JOBS, sizeof *names);
    *n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && *n < SWEEP_MAX_JOBS && strlen(e->d_name) < 256)
            snprintf(names[(*n)++], 256, "%s", e->d_name);
    closedir(d);
    qsort(names, *n, sizeof *names, cmp_name);
    return names;
}

static int table_build(AggTable *t, const AggOptions *o, char keys[][64], int nkeys, const cJSON *grid,
                       const char *title, RunList *list, int adhoc);

int aggregate_load_sweep(const char *out, const AggOptions *o, AggTable *t) {
    memset(t, 0, sizeof *t);
    char path[4096];
    if (path_join(path, sizeof path, out, "sweep.json") != 0) return -1;
    int has = path_probe(path, "the sweep's spec");
    if (has < 0) return -1;
    if (!has)
        return core_errorf("%s: no sweep.json: not a sweep folder (posenc sweep SPEC writes one; to compare runs "
                         "of posenc train, give their folders: posenc collect RUN... --out DIR)", out);
    char *text = file_read_capped(path, (size_t)16 << 20, NULL);
    if (!text) return -1;
    char keys[SWEEP_MAX_KEYS][64], title_base[128];
    int nkeys = 0;
    cJSON *grid = NULL;
    int bad = aggregate_parse_sweep(text, path, keys, &nkeys, title_base, sizeof title_base, &grid);
    free(text);
    if (bad) return RUN_INVALID;

    /* every run directory with results */
    char runs_dir[4096];
    if (path_join(runs_dir, sizeof runs_dir, out, "runs") != 0) {
        cJSON_Delete(grid);
        return -1;
    }
    int nnames = 0;
    char (*names)[256] = list_dir(runs_dir, &nnames);
    if (!names) {
        cJSON_Delete(grid);
        return core_errorf("%s: no runs yet", runs_dir);
    }
    RunList list = {0};
    RunInfo *ri = core_calloc(1, sizeof *ri);
    int rc = 0;
    for (int i = 0; i < nnames && rc == 0; i++) {
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/%s", runs_dir, names[i]);
        rc = add_run(dir, keys, nkeys, &list, ri);
    }
    free(ri);
    free(names);
    if (rc == 0) rc = table_build(t, o, keys, nkeys, grid, title_base, &list, 0);
    cJSON_Delete(grid);
    run_list_free(&list);
    return rc;
}

int aggregate_sweep(const char *out, FILE *f, const AggOptions *o) {
    AggTable t;
    int n = aggregate_load_sweep(out, o, &t);
    if (n > 0 && aggregate_write(&t, out, f, o) != 0) n = -1;
    aggregate_free(&t);
    return n;
}

/* leaves of a config's JSON as "a.b" keys, for finding what differs between runs */
static void config_leaves(const cJSON *o, const char *prefix, char (*keys)[64], int *n, int cap) {
    for (const cJSON *x = o->child; x; x = x->next) {
        char k[64];
        snprintf(k, sizeof k, "%s%s%s", prefix, *prefix ? "." : "", x->string);
        if (cJSON_IsObject(x)) config_leaves(x, k, keys, n, cap);
        else if (*n < cap) snprintf(keys[(*n)++], 64, "%s", k);
    }
}

int aggregate_load_runs(const char *const *paths, int npaths, const char *title, const AggOptions *o, AggTable *t) {
    memset(t, 0, sizeof *t);
    /* the run folders: each path a run, or a folder whose subfolders are runs */
    char (*dirs)[4400] = core_calloc(SWEEP_MAX_JOBS, sizeof *dirs);
    int ndirs = 0, rc = 0;
    RunInfo *ri = core_calloc(1, sizeof *ri);
    for (int p = 0; p < npaths && rc == 0; p++) {
        int st = run_inspect(paths[p], ri);
        if (st == RUN_OK) {
            if (ndirs < SWEEP_MAX_JOBS) snprintf(dirs[ndirs++], sizeof dirs[0], "%s", paths[p]);
            continue;
        }
        struct stat sb;
        if (st != RUN_NOT_A_RUN || stat(paths[p], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            rc = st == RUN_NOT_A_RUN ? RUN_INVALID : st;
            break;
        }
        int nn = 0, found = 0;
        char (*names)[256] = list_dir(paths[p], &nn);
        if (!names) {
            rc = -1;
            break;
        }
        for (int i = 0; i < nn && rc == 0; i++) {
            char dir[4400];
            snprintf(dir, sizeof dir, "%s/%s", paths[p], names[i]);
            int s2 = run_inspect(dir, ri);
            if (s2 == RUN_NOT_A_RUN) continue; /* another folder (logs, plots...) */
            if (s2 != RUN_OK) rc = s2;
            else if (ndirs < SWEEP_MAX_JOBS) snprintf(dirs[ndirs++], sizeof dirs[0], "%s", dir), found++;
        }
        free(names);
        if (rc == 0 && !found) {
            core_errorf("%s: not a sweep folder (no sweep.json), a run directory or a folder of run directories",
                      paths[p]);
            rc = RUN_INVALID;
        }
    }
    /* the grid: every config key whose value differs between the runs (but the name and the seed) */
    char keys[SWEEP_MAX_KEYS][64];
    int nkeys = 0;
    cJSON *grid = cJSON_CreateObject();
    if (rc == 0 && ndirs > 0) {
        cJSON **cfgs = core_calloc(ndirs, sizeof *cfgs);
        for (int i = 0; i < ndirs && rc == 0; i++) {
            if ((rc = run_inspect(dirs[i], ri)) != RUN_OK) break;
            char *cj = config_to_json(&ri->cfg);
            cfgs[i] = cJSON_Parse(cj);
            free(cj);
        }
        char (*leaves)[64] = core_calloc(512, sizeof *leaves);
        int nl = 0;
        if (rc == 0) config_leaves(cfgs[0], "", leaves, &nl, 512);
        for (int l = 0; l < nl && rc == 0; l++) {
            if (strcmp(leaves[l], "name") == 0 || strcmp(leaves[l], "seed") == 0) continue;
            cJSON *vals = cJSON_CreateArray();
            for (int i = 0; i < ndirs; i++) {
                char text[64];
                if (json_path_text(cfgs[i], leaves[l], text, sizeof text) != 0) continue;
                int seen = 0;
                for (const cJSON *v = vals->child; v && !seen; v = v->next) {
                    char t2[64];
                    sweep_value_text(v, t2, sizeof t2);
                    seen = strcmp(t2, text) == 0;
                }
                if (!seen) {
                    char tmp[128];
                    snprintf(tmp, sizeof tmp, "%s", leaves[l]);
                    const cJSON *v = cfgs[i];
                    char *save = NULL;
                    for (char *part = strtok_r(tmp, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
                        v = cJSON_GetObjectItemCaseSensitive(v, part);
                    cJSON_AddItemToArray(vals, cJSON_Duplicate(v, 1));
                }
            }
            if (cJSON_GetArraySize(vals) < 2) {
                cJSON_Delete(vals);
                continue;
            }
            if (nkeys == SWEEP_MAX_KEYS) {
                cJSON_Delete(vals);
                core_errorf("the runs differ in more than %d config keys (%s, %s, ...): collect runs that differ in a "
                          "few settings", SWEEP_MAX_KEYS, keys[0], keys[1]);
                rc = RUN_INVALID;
                break;
            }
            snprintf(keys[nkeys++], 64, "%s", leaves[l]);
            cJSON_AddItemToObject(grid, leaves[l], vals);
        }
        free(leaves);
        for (int i = 0; i < ndirs; i++) cJSON_Delete(cfgs[i]);
        free(cfgs);
    }
    RunList list = {0};
    for (int i = 0; i < ndirs && rc == 0; i++) rc = add_run(dirs[i], keys, nkeys, &list, ri);
    free(ri);
    free(dirs);
    if (rc == 0) rc = table_build(t, o, keys, nkeys, grid, title, &list, 1);
    cJSON_Delete(grid);
    run_list_free(&list);
    return rc;
}

int aggregate_runs(const char *const *paths, int npaths, const char *out, FILE *f, const AggOptions *o) {
    /* the title: the output folder's name */
    char tmp[4096], title[128];
    snprintf(tmp, sizeof tmp, "%s", out);
    size_t k = strlen(tmp);
    while (k > 1 && tmp[k - 1] == '/') tmp[--k] = '\0';
    const char *slash = strrchr(tmp, '/');
    snprintf(title, sizeof title, "%s", slash ? slash + 1 : tmp);
    AggTable t;
    int n = aggregate_load_runs(paths, npaths, title, o, &t);
    if (n > 0 && aggregate_write(&t, out, f, o) != 0) n = -1;
    aggregate_free(&t);
    return n;
}

void aggregate_cell_label(const AggTable *t, int cell, char *buf, size_t cap) { cell_label(t, cell, buf, cap); }

void aggregate_group_title(const AggTable *t, int g, char *buf, size_t cap) {
    const Cell *c0 = &t->cells[g];
    int task_in_grid = 0;
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < t->nkeys; k++) task_in_grid |= strcmp(t->keys[k], "task.name") == 0;
    if (!task_in_grid) len += snprintf(buf + len, cap - len, "%s", c0->task);
    for (int k = 0; k < t->nkeys && len < cap; k++)
        if (!t->enc_key[k] && !key_varies(t, g, k))
            len += snprintf(buf + len, cap - len, "%s%s=%s", len ? ", " : "", t->keys[k], c0->values[k]);
    if (len < cap && cell_positions(c0) == EVAL_POS_RANDOM)
        snprintf(buf + len, cap - len, "%srandom evaluation positions", len ? ", " : "");
}

void aggregate_free(AggTable *t) {
    for (int c = 0; c < t->ncells; c++) free(t->cells[c].runs);
    free(t->cells);
    free(t->group);
    free(t->runs);
    memset(t, 0, sizeof *t);
}

/* The table of the runs in list (which gives up its runs to it): the
 * provenance check, cells in the grid's order, their statistics, groups. */
static int table_build(AggTable *t, const AggOptions *o, char keys[][64], int nkeys, const cJSON *grid,
                       const char *title, RunList *list, int adhoc) {
    memset(t, 0, sizeof *t);
    t->adhoc = adhoc;
    const int nruns = list->num;
    t->pe_key = t->rand_key = -1;
    t->nkeys = nkeys;
    for (int k = 0; k < nkeys; k++) {
        snprintf(t->keys[k], sizeof t->keys[k], "%s", keys[k]);
        if (strcmp(keys[k], "model.pe") == 0) t->pe_key = k;
        if (strcmp(keys[k], "train.random_positions") == 0) t->rand_key = k;
        t->enc_key[k] = aggregate_encoding_key(keys[k]);
    }
    snprintf(t->title, sizeof t->title, "%s", title);
    t->break_fraction = o && o->break_fraction > 0 ? o->break_fraction : FINDINGS_BREAK_FRACTION;
    t->break_factor = o && o->break_factor > 0 ? o->break_factor : FINDINGS_BREAK_FACTOR;
    if (nruns == 0) return core_errorf("%s: no complete runs to aggregate", title);
    /* what produced them: one result identity, or refuse (docs/REPRODUCIBILITY.md) */
    const int pc = prov_collect(list->dirs, list->ndirs, o && o->allow_mixed, t->prov_line, sizeof t->prov_line,
                                t->prov_details, sizeof t->prov_details);
    if (pc < 0) return RUN_INVALID;
    t->prov_mixed = pc == 1;
    t->runs = list->runs;
    t->nruns = nruns;
    t->nrundirs = list->ndirs;
    t->incomplete = list->incomplete;
    list->runs = NULL;
    list->num = list->cap = 0;
    RunResult *runs = t->runs;

    /* cells, in order of first appearance (runs sorted by id) */
    Cell *cells = core_calloc(nruns, sizeof *cells);
    int ncells = 0;
    for (int i = 0; i < nruns; i++) {
        int c = 0;
        while (c < ncells && !(same_values(cells[c].values, runs[i].values, nkeys) &&
                               strcmp(cells[c].variant, runs[i].variant) == 0))
            c++;
        if (c == ncells) {
            memcpy(cells[c].values, runs[i].values, sizeof cells[c].values);
            memcpy(cells[c].variant, runs[i].variant, sizeof cells[c].variant);
            memcpy(cells[c].label, runs[i].label, sizeof cells[c].label);
            cells[c].variant_rank = runs[i].variant_rank;
            cells[c].min_len = runs[i].min_len;
            memcpy(cells[c].task, runs[i].task, sizeof cells[c].task);
            cells[c].max_len = runs[i].max_len;
            cells[c].alphabet = runs[i].alphabet;
            const TaskOps *tk = task_find(runs[i].task);
            cells[c].lm = tk && tk->frame == TASK_FRAME_LM;
            cells[c].runs = core_calloc(nruns, sizeof(int));
            ncells++;
        }
        cells[c].runs[cells[c].num_runs++] = i;
    }
    for (int c = 0; c < ncells; c++) {
        compute_cell(&cells[c], runs, t->break_fraction, t->break_factor);
        cells[c].rank = cell_rank(&cells[c], grid, nkeys);
    }
    qsort(cells, ncells, sizeof *cells, cmp_cell_rank); /* the spec's grid order */
    t->cells = cells;
    t->ncells = ncells;
    /* groups: cells equal but for the encoding (model.pe, train.random_positions, its settings) and the RoPE scaling */
    t->group = core_calloc(ncells ? ncells : 1, sizeof(int));
    for (int c = 0; c < ncells; c++) t->group[c] = -1;
    for (int c = 0; c < ncells; c++) {
        if (t->group[c] >= 0) continue;
        for (int q = c; q < ncells; q++)
            if (t->group[q] < 0 && same_group_values(t, &cells[c], &cells[q]) &&
                cell_positions(&cells[q]) == cell_positions(&cells[c]))
                t->group[q] = c;
    }
    return t->nrundirs;
}

/* Cells that do not match the others of their group (the most common seed
 * count and length list there), and lengths only some of a cell's seeds were
 * evaluated at: each said as one line on f (prefix before it). An aggregate
 * over uneven cells compares different things; nothing may change it
 * silently (a run evaluated again with other lengths, a missing seed).
 * Returns how many lines. */
static int report_uneven_cells(const AggTable *t, FILE *f, const char *prefix) {
    int lines = 0;
    for (int g = 0; g < t->ncells; g++) {
        if (t->group[g] != g) continue;
        /* the group's most common seed count and length list */
        int ref = -1, ref_votes = 0;
        for (int c = g; c < t->ncells; c++) {
            if (t->group[c] != g) continue;
            int votes = 0;
            for (int q = g; q < t->ncells; q++)
                votes += t->group[q] == g && t->cells[q].num_runs == t->cells[c].num_runs &&
                         t->cells[q].num_lengths == t->cells[c].num_lengths &&
                         memcmp(t->cells[q].lengths, t->cells[c].lengths, sizeof(int) * t->cells[c].num_lengths) == 0;
            if (votes > ref_votes) ref = c, ref_votes = votes;
        }
        const AggCell *r = &t->cells[ref];
        for (int c = g; c < t->ncells; c++) {
            if (t->group[c] != g) continue;
            const AggCell *x = &t->cells[c];
            char label[200], la[160], lb[160];
            aggregate_cell_label(t, c, label, sizeof label);
            size_t na = 0, nb = 0;
            la[0] = lb[0] = '\0';
            for (int m = 0; m < x->num_lengths && na + 12 < sizeof la; m++)
                na += snprintf(la + na, sizeof la - na, "%s%d", m ? "," : "", x->lengths[m]);
            for (int m = 0; m < r->num_lengths && nb + 12 < sizeof lb; m++)
                nb += snprintf(lb + nb, sizeof lb - nb, "%s%d", m ? "," : "", r->lengths[m]);
            if (x->num_runs != r->num_runs) {
                if (f) fprintf(f, "%s%s (%s) has %d seed%s, the other cells of its group %d\n", prefix, label,
                               x->variant, x->num_runs, x->num_runs == 1 ? "" : "s", r->num_runs);
                lines++;
            }
            if (strcmp(la, lb) != 0) {
                if (f) fprintf(f, "%s%s (%s) is evaluated at n = %s, the other cells of its group at n = %s\n", prefix,
                               label, x->variant, la, lb);
                lines++;
            }
            for (int m = 0; m < x->num_lengths; m++)
                if (x->seeds[m] != x->num_runs) {
                    if (f) fprintf(f, "%s%s (%s): n = %d is evaluated in %d of its %d seeds\n", prefix, label,
                                   x->variant, x->lengths[m], x->seeds[m], x->num_runs);
                    lines++;
                }
        }
    }
    return lines;
}

int aggregate_write(const AggTable *t, const char *out, FILE *f, const AggOptions *o) {
    const Cell *cells = t->cells;
    const int ncells = t->ncells, nkeys = t->nkeys;
    const int plots = o && o->plots;
    const char *title_base = t->title;
    if (f) fprintf(f, "provenance: %s\n\n", t->prov_details);
    int rc = write_csv(out, t);
    if (rc == 0) rc = write_breaks_csv(out, t);
    if (rc == 0) rc = write_by_position_csv(out, t);
    int *members = core_calloc(ncells ? ncells : 1, sizeof(int));
    /* results.md: the same tables in markdown, for reports (figures linked relative to OUT) */
    char *md_text = NULL;
    size_t md_len = 0;
    FILE *md = open_memstream(&md_text, &md_len);
    if (md) fprintf(md, "%s\n\n", t->prov_line);
    /* cells unlike their neighbours: said before any number, on stderr and in results.md */
    const int uneven = report_uneven_cells(t, stderr, "collect: warning: ");
    if (uneven && md) {
        fprintf(md, "**Uneven cells** (their numbers are not over the same seeds or lengths as their neighbours'):\n\n");
        report_uneven_cells(t, md, "- ");
        fprintf(md, "\n");
    }
    for (int c = 0; rc == 0 && c < ncells; c++) {
        if (t->group[c] != c) continue;
        int nm = 0;
        for (int q = c; q < ncells; q++)
            if (t->group[q] == c) members[nm++] = q;
        if (f) print_group(f, t, members, nm, 0);
        if (md) print_group(md, t, members, nm, 1);
        if (!plots) continue;
        /* the group's name: the task (when the grid does not vary it), then the other grid values */
        char gname[512] = "";
        int task_in_grid = 0;
        for (int k = 0; k < nkeys; k++) task_in_grid |= strcmp(t->keys[k], "task.name") == 0;
        if (!task_in_grid) snprintf(gname, sizeof gname, "%s", cells[c].task);
        for (int k = 0; k < nkeys; k++) {
            if (t->enc_key[k] || key_varies(t, c, k)) continue;
            if (gname[0]) strncat(gname, "_", sizeof gname - strlen(gname) - 1);
            strncat(gname, cells[c].values[k], sizeof gname - strlen(gname) - 1);
        }
        if (cell_positions(&cells[c]) == EVAL_POS_RANDOM) strncat(gname, "_evalrandom", sizeof gname - strlen(gname) - 1);
        char head[700];
        if (strcmp(gname, title_base) == 0) /* experiment named after its only task */
            snprintf(head, sizeof head, "%s", title_base);
        else
            snprintf(head, sizeof head, "%s: %s", title_base, gname);
        for (int loss = 0; loss <= 1 && rc == 0; loss++) {
            char base[4096 + 600];
            snprintf(base, sizeof base, "%s/%s_%s", out, gname, loss ? "loss" : "accuracy");
            PlotScript script;
            plot_script_init(&script);
            const int height = aggregate_plot_height(t, members, nm, loss);
            group_script(&script, t, members, nm, head, loss, height); /* strings escaped there */
            rc = plot_render(script.text, base, aggregate_plot_width(loss), height);
            plot_script_free(&script);
            if (rc == 0 && f) fprintf(f, "plot: %s.png (and .svg)\n", base);
            if (rc == 0 && md) fprintf(md, "\n![%s %s](%s_%s.svg)\n", gname, loss ? "loss" : "accuracy", gname,
                                       loss ? "loss" : "accuracy");
        }
        if (rc == 0 && cells[c].lm) { /* a language model: loss by absolute position (Press et al. plot it) */
            char base[4096 + 600];
            snprintf(base, sizeof base, "%s/%s_loss_by_position", out, gname);
            const int drawn = by_position_plot(t, members, nm, head, base);
            if (drawn < 0) rc = -1;
            if (drawn == 0 && f) fprintf(f, "plot: %s.png (and .svg)\n", base);
            if (drawn == 0 && md) fprintf(md, "\n![%s loss by position](%s_loss_by_position.svg)\n", gname, gname);
        }
    }
    if (md) {
        fclose(md);
        char mdpath[4200];
        snprintf(mdpath, sizeof mdpath, "%s/results.md", out);
        if (rc == 0 && file_write_atomic(mdpath, md_text, md_len) != 0) rc = -1;
        free(md_text);
    }
    if (f && rc == 0) {
        char evals[64] = "";
        if (t->nruns != t->nrundirs) snprintf(evals, sizeof evals, " with %d evaluations", t->nruns);
        fprintf(f, "\nresults: %s/results.csv, breaks.csv and by_position.csv (%d run%s%s, %d cell%s%s%s)\n", out, t->nrundirs,
                t->nrundirs == 1 ? "" : "s", evals, ncells, ncells == 1 ? "" : "s",
                t->incomplete ? "; some runs incomplete, see above" : "",
                uneven ? "; some cells uneven (other seed counts or lengths than their neighbours'), see above" : "");
    }
    free(members);
    return rc == 0 ? 0 : -1;
}

/*
 * evalfile.c — reading a run's evaluation files back (evalfile.h).
 */
#include "run/evalfile.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fsutil.h"
#include "model/pe.h"
#include "run/config.h"
#include "run/score.h"

#define EVAL_FILE_MAX ((size_t)64 << 20)

/* ---- reading the evaluation files ----------------------------------------- */

/* a whole number in [lo, hi] (checked before any conversion: no out-of-range cast) */
static int whole(const cJSON *v, double lo, double hi, long *out) {
    if (!cJSON_IsNumber(v)) return 0;
    const double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != floor(d)) return 0;
    *out = (long)d;
    return 1;
}

static int fraction(const cJSON *v, double *out) {
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble <= 1.0)) return 0;
    *out = v->valuedouble;
    return 1;
}

static int nonneg_finite(const cJSON *v, double *out) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0.0) return 0;
    *out = v->valuedouble;
    return 1;
}

void json_value_text(const void *value, char *buf, size_t cap) {
    const cJSON *v = value;
    if (!v) {
        snprintf(buf, cap, "(missing)");
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    snprintf(buf, cap, "%.60s%s", s ? s : "?", s && strlen(s) > 60 ? "..." : "");
    free(s);
}

int eval_pos_bin(long p) {
    if (p < 1) return -1;
    if (p < 8) return (int)p - 1;
    int k = 3;
    while (k < 22 && p >= 2L << k) k++;
    if (k == 22) return -1;
    return 7 + (k - 3) * 4 + (int)((p - (1L << k)) / (1L << (k - 2)));
}

long eval_pos_bin_lo(int b) {
    if (b < 7) return b + 1;
    const int k = 3 + (b - 7) / 4, q = (b - 7) % 4;
    return (1L << k) + (long)q * (1L << (k - 2));
}

/* by_position (optional): rows of ascending pos, each counted into its bin */
static int parse_by_position(const cJSON *bp, const char *origin, RunEval *e) {
    e->bp_max_pos = -1;
    if (!bp) return 0;
    if (!cJSON_IsArray(bp) || cJSON_GetArraySize(bp) > RUN_EVAL_MAX_BYPOS)
        return core_errorf("%s: by_position: expected an array of at most %d rows", origin, RUN_EVAL_MAX_BYPOS);
    char got[80];
    long last = -1;
    int i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, bp) {
        long pos = 0, total = 0, correct = 0;
        double loss = 0;
        const cJSON *f = NULL;
        const char *bad = !cJSON_IsObject(row) ? "" :
                          !whole(f = cJSON_GetObjectItemCaseSensitive(row, "pos"), 0, 1e7, &pos) ? "pos" :
                          !whole(f = cJSON_GetObjectItemCaseSensitive(row, "total"), 1, 1e12, &total) ? "total" :
                          !whole(f = cJSON_GetObjectItemCaseSensitive(row, "correct"), 0, (double)total, &correct) ? "correct" :
                          !nonneg_finite(f = cJSON_GetObjectItemCaseSensitive(row, "loss"), &loss) ? "loss" : NULL;
        if (bad) {
            json_value_text(*bad ? f : row, got, sizeof got);
            return core_errorf("%s: by_position[%d]%s%s: expected %s, got %s", origin, i, *bad ? "." : "", bad,
                               !*bad ? "an object" : strcmp(bad, "loss") == 0 ? "a finite number >= 0"
                               : strcmp(bad, "correct") == 0 ? "a whole number in 0..total" : "a whole number",
                               got);
        }
        if (pos <= last)
            return core_errorf("%s: by_position[%d].pos: %ld after %ld; positions must ascend", origin, i, pos, last);
        last = pos;
        e->bp_max_pos = pos; /* run_inspect bounds it by the longest input the evaluation could see */
        e->bp_num++;
        const int b = eval_pos_bin(pos);
        if (b >= 0) {
            e->pos_total[b] += total;
            e->pos_correct[b] += correct;
            e->pos_loss[b] += loss * (double)total; /* the row's loss is its mean */
        }
        i++;
    }
    return 0;
}

/* An evaluation file's header: step; samples, eval_seed, adhoc, positions,
 * rope_scaling, pe and task when present. 0, or -1 after core_errorf. */
static int parse_header(const cJSON *j, const char *origin, RunEval *e) {
    char got[80];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "step");
    if (!whole(v, 0, 1e12, &e->step)) {
        json_value_text(v, got, sizeof got);
        core_errorf("%s: step: expected a whole number >= 0, got %s", origin, got);
        return -1;
    }
    /* what it was made with (absent in older files) */
    e->samples = -1;
    e->eval_seed = -1;
    v = cJSON_GetObjectItemCaseSensitive(j, "samples");
    if (v && !whole(v, 1, 1e7, &e->samples)) {
        json_value_text(v, got, sizeof got);
        core_errorf("%s: samples: expected a whole number in 1..10000000, got %s", origin, got);
        return -1;
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "eval_seed");
    long seed_hi = 0;
    if (v && !whole(v, 0, 9007199254740992.0, &seed_hi)) {
        json_value_text(v, got, sizeof got);
        core_errorf("%s: eval_seed: expected a whole number in 0..2^53, got %s", origin, got);
        return -1;
    }
    if (v) e->eval_seed = v->valuedouble;
    v = cJSON_GetObjectItemCaseSensitive(j, "adhoc");
    if (v && !cJSON_IsBool(v)) {
        json_value_text(v, got, sizeof got);
        core_errorf("%s: adhoc: expected true or false, got %s", origin, got);
        return -1;
    }
    e->adhoc = cJSON_IsTrue(v);
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(j, "positions");
    const cJSON *scl = cJSON_GetObjectItemCaseSensitive(j, "rope_scaling");
    e->positions = EVAL_POS_PLAIN;
    e->scaling = PE_ROPE_SCALING_NONE;
    if (pos && (!cJSON_IsString(pos) || (e->positions = eval_positions_find(pos->valuestring)) < 0)) {
        json_value_text(pos, got, sizeof got);
        core_errorf("%s: positions: expected \"plain\" or \"random\", got %s", origin, got);
        return -1;
    }
    if (scl && (!cJSON_IsString(scl) || (e->scaling = pe_rope_scaling_find(scl->valuestring)) < 0)) {
        json_value_text(scl, got, sizeof got);
        core_errorf("%s: rope_scaling: expected one of none, pi, ntk, yarn, got %s", origin, got);
        return -1;
    }
    const char *strs[2] = {"pe", "task"};
    char *dst[2] = {e->pe, e->task};
    for (int k = 0; k < 2; k++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, strs[k]);
        if (!s) continue;
        if (!cJSON_IsString(s) || strlen(s->valuestring) >= sizeof e->pe) {
            json_value_text(s, got, sizeof got);
            core_errorf("%s: %s: expected a name, got %s", origin, strs[k], got);
            return -1;
        }
        snprintf(dst[k], sizeof e->pe, "%s", s->valuestring);
    }
    return 0;
}

/* An evaluation file's results: one row per length (n, token_acc, exact_match,
 * loss; examples and loss_floor when present). 0, or -1 after core_errorf. */
static int parse_results(const cJSON *j, const char *origin, RunEval *e) {
    char got[80];
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results");
    if (!cJSON_IsArray(res) || cJSON_GetArraySize(res) < 1 || cJSON_GetArraySize(res) > RUN_EVAL_MAX_ROWS) {
        core_errorf("%s: results: expected an array of 1 to %d rows", origin, RUN_EVAL_MAX_ROWS);
        return -1;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, res) {
        const int i = e->num;
        long n = 0;
        const cJSON *f;
        if (!cJSON_IsObject(row) || !whole(f = cJSON_GetObjectItemCaseSensitive(row, "n"), 1, 1e6, &n)) {
            json_value_text(cJSON_IsObject(row) ? cJSON_GetObjectItemCaseSensitive(row, "n") : row, got, sizeof got);
            core_errorf("%s: results[%d].n: expected a length, a whole number in 1..1000000, got %s", origin, i, got);
            return -1;
        }
        for (int q = 0; q < i; q++)
            if (e->n[q] == n) {
                core_errorf("%s: results: n = %ld appears twice (rows %d and %d)", origin, n, q, i);
                return -1;
            }
        e->n[i] = (int)n;
        static const char *const fr[2] = {"token_acc", "exact_match"};
        double *fd[2] = {&e->token_acc[i], &e->exact_match[i]};
        for (int k = 0; k < 2; k++)
            if (!fraction(f = cJSON_GetObjectItemCaseSensitive(row, fr[k]), fd[k])) {
                json_value_text(f, got, sizeof got);
                core_errorf("%s: results[%d].%s: expected a fraction in [0, 1], got %s", origin, i, fr[k], got);
                return -1;
            }
        if (!nonneg_finite(f = cJSON_GetObjectItemCaseSensitive(row, "loss"), &e->loss[i])) {
            json_value_text(f, got, sizeof got);
            core_errorf("%s: results[%d].loss: expected a finite number >= 0, got %s", origin, i, got);
            return -1;
        }
        /* the evaluation sample (the intervals' sample part, study/findings.h); 0 if absent */
        f = cJSON_GetObjectItemCaseSensitive(row, "examples");
        if (f && !whole(f, 1, 1e9, &e->examples[i])) {
            json_value_text(f, got, sizeof got);
            core_errorf("%s: results[%d].examples: expected a whole number in 1..1000000000, got %s", origin, i, got);
            return -1;
        }
        e->floor[i] = -1.0;
        f = cJSON_GetObjectItemCaseSensitive(row, "loss_floor");
        if (f && !nonneg_finite(f, &e->floor[i])) {
            json_value_text(f, got, sizeof got);
            core_errorf("%s: results[%d].loss_floor: expected a finite number >= 0, got %s", origin, i, got);
            return -1;
        }
        e->num++;
    }
    return 0;
}

int eval_file_parse(const char *text, const char *origin, RunEval *e) {
    memset(e, 0, sizeof *e);
    cJSON *j = cJSON_Parse(text);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return core_errorf("%s: not a JSON object: not an evaluation file of posenc eval", origin);
    }
    int rc = -1;
    if (parse_header(j, origin, e) != 0 || parse_results(j, origin, e) != 0) goto done;
    if (parse_by_position(cJSON_GetObjectItemCaseSensitive(j, "by_position"), origin, e) != 0) goto done;
    e->present = 1;
    rc = 0;
done:
    cJSON_Delete(j);
    return rc;
}

int eval_file_read(const char *dir, int positions, int scaling, int adhoc, RunEval *e) {
    char stem[80], path[4400];
    memset(e, 0, sizeof *e);
    eval_variant_stem(positions, scaling, stem, sizeof stem);
    snprintf(path, sizeof path, "%s/%s%s.json", dir, stem, adhoc ? ".adhoc" : "");
    int has = path_probe(path, "an evaluation file");
    if (has <= 0) return has < 0 ? EVAL_RUN_FAILED : 0;
    char *text = file_read_capped(path, EVAL_FILE_MAX, NULL);
    if (!text) return EVAL_RUN_FAILED;
    int bad = eval_file_parse(text, path, e);
    free(text);
    if (bad) return EVAL_RUN_INVALID;
    if (e->positions != positions || e->scaling != scaling) {
        char vname[64];
        eval_variant_name(e->positions, e->scaling, vname, sizeof vname);
        core_errorf("%s: holds the evaluation variant \"%s\", not the one its name says", path,
                  vname[0] ? vname : "default");
        return EVAL_RUN_INVALID;
    }
    if (e->adhoc != adhoc) {
        core_errorf("%s: holds %s evaluation (\"adhoc\": %s), not what its name says: the run's own evaluation is "
                    "<stem>.json, an ad-hoc one <stem>.adhoc.json",
                    path, e->adhoc ? "an ad-hoc" : "a canonical", e->adhoc ? "true" : "false");
        return EVAL_RUN_INVALID;
    }
    return 1;
}

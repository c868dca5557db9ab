/*
 * runinfo.c — what a run directory is (runinfo.h).
 */
#include "runinfo.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run/checkpoint.h"
#include "run/eval.h"
#include "run/fsutil.h"

#define EVAL_FILE_MAX ((size_t)64 << 20)

/* ---- evaluation files ----------------------------------------------------- */

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

static void value_text(const cJSON *v, char *buf, size_t cap) {
    if (!v) {
        snprintf(buf, cap, "(missing)");
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    snprintf(buf, cap, "%.60s%s", s ? s : "?", s && strlen(s) > 60 ? "..." : "");
    free(s);
}

int run_eval_parse(const char *text, const char *origin, RunEval *e) {
    memset(e, 0, sizeof *e);
    cJSON *j = cJSON_Parse(text);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pe_errorf("%s: not a JSON object: not an evaluation file of posenc eval", origin);
    }
    int rc = -1;
    char got[80];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "step");
    if (!whole(v, 0, 1e12, &e->step)) {
        value_text(v, got, sizeof got);
        pe_errorf("%s: step: expected a whole number >= 0, got %s", origin, got);
        goto done;
    }
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(j, "positions");
    const cJSON *scl = cJSON_GetObjectItemCaseSensitive(j, "rope_scaling");
    e->positions = EVAL_POS_PLAIN;
    e->scaling = PE_ROPE_SCALING_NONE;
    if (pos && (!cJSON_IsString(pos) || (e->positions = eval_positions_find(pos->valuestring)) < 0)) {
        value_text(pos, got, sizeof got);
        pe_errorf("%s: positions: expected \"plain\" or \"random\", got %s", origin, got);
        goto done;
    }
    if (scl && (!cJSON_IsString(scl) || (e->scaling = pe_rope_scaling_find(scl->valuestring)) < 0)) {
        value_text(scl, got, sizeof got);
        pe_errorf("%s: rope_scaling: expected one of none, pi, ntk, yarn, got %s", origin, got);
        goto done;
    }
    const char *strs[2] = {"pe", "task"};
    char *dst[2] = {e->pe, e->task};
    for (int k = 0; k < 2; k++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, strs[k]);
        if (!s) continue;
        if (!cJSON_IsString(s) || strlen(s->valuestring) >= sizeof e->pe) {
            value_text(s, got, sizeof got);
            pe_errorf("%s: %s: expected a name, got %s", origin, strs[k], got);
            goto done;
        }
        snprintf(dst[k], sizeof e->pe, "%s", s->valuestring);
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results");
    if (!cJSON_IsArray(res) || cJSON_GetArraySize(res) < 1 || cJSON_GetArraySize(res) > RUN_EVAL_MAX_ROWS) {
        pe_errorf("%s: results: expected an array of 1 to %d rows", origin, RUN_EVAL_MAX_ROWS);
        goto done;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, res) {
        const int i = e->num;
        long n = 0;
        const cJSON *f;
        if (!cJSON_IsObject(row) || !whole(f = cJSON_GetObjectItemCaseSensitive(row, "n"), 1, 1e6, &n)) {
            value_text(cJSON_IsObject(row) ? cJSON_GetObjectItemCaseSensitive(row, "n") : row, got, sizeof got);
            pe_errorf("%s: results[%d].n: expected a length, a whole number in 1..1000000, got %s", origin, i, got);
            goto done;
        }
        for (int q = 0; q < i; q++)
            if (e->n[q] == n) {
                pe_errorf("%s: results: n = %ld appears twice (rows %d and %d)", origin, n, q, i);
                goto done;
            }
        e->n[i] = (int)n;
        static const char *const fr[2] = {"token_acc", "exact_match"};
        double *fd[2] = {&e->token_acc[i], &e->exact_match[i]};
        for (int k = 0; k < 2; k++)
            if (!fraction(f = cJSON_GetObjectItemCaseSensitive(row, fr[k]), fd[k])) {
                value_text(f, got, sizeof got);
                pe_errorf("%s: results[%d].%s: expected a fraction in [0, 1], got %s", origin, i, fr[k], got);
                goto done;
            }
        if (!nonneg_finite(f = cJSON_GetObjectItemCaseSensitive(row, "loss"), &e->loss[i])) {
            value_text(f, got, sizeof got);
            pe_errorf("%s: results[%d].loss: expected a finite number >= 0, got %s", origin, i, got);
            goto done;
        }
        /* the evaluation sample (the intervals' sample part, run/findings.h); 0 if absent */
        f = cJSON_GetObjectItemCaseSensitive(row, "examples");
        if (f && !whole(f, 1, 1e9, &e->examples[i])) {
            value_text(f, got, sizeof got);
            pe_errorf("%s: results[%d].examples: expected a whole number in 1..1000000000, got %s", origin, i, got);
            goto done;
        }
        e->floor[i] = -1.0;
        f = cJSON_GetObjectItemCaseSensitive(row, "loss_floor");
        if (f && !nonneg_finite(f, &e->floor[i])) {
            value_text(f, got, sizeof got);
            pe_errorf("%s: results[%d].loss_floor: expected a finite number >= 0, got %s", origin, i, got);
            goto done;
        }
        e->num++;
    }
    e->present = 1;
    rc = 0;
done:
    cJSON_Delete(j);
    return rc;
}

/* ---- configs -------------------------------------------------------------- */

/* the first differing leaf of two JSON values, its dotted path in key */
static int json_diff(const cJSON *a, const cJSON *b, const char *prefix, char *key, size_t kcap, char *va,
                     char *vb, size_t vcap) {
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        for (const cJSON *x = a->child; x; x = x->next) {
            char path[256];
            snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", x->string);
            if (json_diff(x, cJSON_GetObjectItemCaseSensitive(b, x->string), path, key, kcap, va, vb, vcap)) return 1;
        }
        for (const cJSON *y = b->child; y; y = y->next)
            if (!cJSON_GetObjectItemCaseSensitive(a, y->string)) {
                snprintf(key, kcap, "%s%s%s", prefix, *prefix ? "." : "", y->string);
                value_text(NULL, va, vcap);
                value_text(y, vb, vcap);
                return 1;
            }
        return 0;
    }
    if (a && b && cJSON_Compare(a, b, 1)) return 0;
    snprintf(key, kcap, "%s", prefix);
    value_text(a, va, vcap);
    value_text(b, vb, vcap);
    return 1;
}

int run_config_diff(const RunConfig *a, const RunConfig *b, int identity_only, char *key, size_t key_cap, char *va,
                    char *vb, size_t val_cap) {
    char *ta = config_to_json(a), *tb = config_to_json(b);
    cJSON *ja = cJSON_Parse(ta), *jb = cJSON_Parse(tb);
    free(ta);
    free(tb);
    int d = 0;
    if (identity_only) {
        static const char *const parts[] = {"seed", "task", "model"};
        for (int k = 0; k < 3 && !d; k++)
            d = json_diff(cJSON_GetObjectItemCaseSensitive(ja, parts[k]), cJSON_GetObjectItemCaseSensitive(jb, parts[k]),
                          parts[k], key, key_cap, va, vb, val_cap);
    } else {
        d = json_diff(ja, jb, "", key, key_cap, va, vb, val_cap);
    }
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return d;
}

/* ---- file names ----------------------------------------------------------- */

int run_file_is_ours(const char *name) {
    static const char *const fixed[] = {"config.json",       "metrics.jsonl",          "model.safetensors",
                                        "optim.safetensors", "optim.next.safetensors", "provenance.json"};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        if (strcmp(name, fixed[k]) == 0) return 1;
    for (int pm = 0; pm < EVAL_POS_COUNT; pm++)
        for (int sc = 0; sc < PE_ROPE_SCALING_COUNT; sc++) {
            char stem[80], file[96];
            eval_variant_stem(pm, sc, stem, sizeof stem);
            snprintf(file, sizeof file, "%s.json", stem);
            if (strcmp(name, file) == 0) return 1;
            snprintf(file, sizeof file, "%s.csv", stem);
            if (strcmp(name, file) == 0) return 1;
        }
    return 0;
}

/* ---- the run --------------------------------------------------------------- */

int run_inspect(const char *dir, RunInfo *ri) {
    memset(ri, 0, sizeof *ri);
    snprintf(ri->dir, sizeof ri->dir, "%s", dir);
    ri->ckpt_step = -1;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) {
            pe_errorf("%s: no such run directory", dir);
            return RUN_NOT_A_RUN;
        }
        pe_errorf("%s: cannot read the run directory: %s", dir, strerror(errno));
        return RUN_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        pe_errorf("%s: not a directory, so not a run directory", dir);
        return RUN_NOT_A_RUN;
    }
    char cfg_path[4200], ckpt_path[4200];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/model.safetensors", dir);
    const int has_cfg = path_probe(cfg_path, "the run's config");
    if (has_cfg < 0) return RUN_IO;
    const int has_ckpt = path_probe(ckpt_path, "the checkpoint");
    if (has_ckpt < 0) return RUN_IO;
    if (!has_cfg && !has_ckpt) {
        pe_errorf("%s: not a posenc run directory (no config.json, no model.safetensors)", dir);
        return RUN_NOT_A_RUN;
    }
    if (!has_cfg) {
        pe_errorf("%s: has a checkpoint (model.safetensors) but no config.json: not a complete run directory", dir);
        return RUN_INVALID;
    }
    if (config_load(&ri->cfg, cfg_path, NULL, 0) != 0) return RUN_INVALID;
    char key[256], va[80], vb[80];
    if (has_ckpt) {
        char *json = NULL;
        /* an unreadable or damaged checkpoint is a runtime failure, as in train and eval */
        if (checkpoint_read_meta(ckpt_path, &json, &ri->ckpt_step) != 0) return RUN_IO;
        RunConfig ck;
        int bad = config_from_string(&ck, json, ckpt_path, NULL, 0) != 0;
        free(json);
        if (bad) return RUN_INVALID;
        if (run_config_diff(&ri->cfg, &ck, 1, key, sizeof key, va, vb, sizeof va)) {
            pe_errorf("%s: %s is %s in config.json but %s in the checkpoint (model.safetensors): the files are not "
                      "of one run",
                      dir, key, va, vb);
            return RUN_INVALID;
        }
        if (ri->ckpt_step < 0 || ri->ckpt_step > ri->cfg.train.steps) {
            pe_errorf("%s: the checkpoint is at step %ld but config.json says train.steps = %d: a run cannot be "
                      "past its last step",
                      dir, ri->ckpt_step, ri->cfg.train.steps);
            return RUN_INVALID;
        }
    }
    ri->trained = ri->ckpt_step == ri->cfg.train.steps;
    if (!has_ckpt)
        snprintf(ri->why, sizeof ri->why, "not trained yet (no checkpoint)");
    else if (!ri->trained)
        snprintf(ri->why, sizeof ri->why, "training at step %ld of %d", ri->ckpt_step, ri->cfg.train.steps);
    int complete = ri->trained;
    for (int pm = 0; pm < EVAL_POS_COUNT; pm++)
        for (int sc = 0; sc < PE_ROPE_SCALING_COUNT; sc++) {
            RunEval *e = &ri->eval[pm][sc];
            char stem[80], path[4400];
            eval_variant_stem(pm, sc, stem, sizeof stem);
            snprintf(path, sizeof path, "%s/%s.json", dir, stem);
            const int wanted = (ri->cfg.eval.positions & (1u << pm)) && (ri->cfg.eval.rope_scaling & (1u << sc));
            int has = path_probe(path, "an evaluation file");
            if (has < 0) return RUN_IO;
            if (!has) {
                if (wanted && complete) {
                    snprintf(ri->why, sizeof ri->why, "not evaluated yet (no %s.json)", stem);
                    complete = 0;
                }
                continue;
            }
            char *text = file_read_capped(path, EVAL_FILE_MAX, NULL);
            if (!text) return RUN_IO;
            int bad = run_eval_parse(text, path, e);
            free(text);
            if (bad) return RUN_INVALID;
            if (e->positions != pm || e->scaling != sc) {
                char vname[64];
                eval_variant_name(e->positions, e->scaling, vname, sizeof vname);
                pe_errorf("%s: holds the evaluation variant \"%s\", not the one its name says", path,
                          vname[0] ? vname : "default");
                return RUN_INVALID;
            }
            if (e->pe[0] && strcmp(e->pe, ri->cfg.model.pe) != 0) {
                pe_errorf("%s: pe is \"%s\" but config.json says model.pe = \"%s\": the files are not of one run",
                          path, e->pe, ri->cfg.model.pe);
                return RUN_INVALID;
            }
            if (e->task[0] && strcmp(e->task, ri->cfg.task.name) != 0) {
                pe_errorf("%s: task is \"%s\" but config.json says task.name = \"%s\": the files are not of one run",
                          path, e->task, ri->cfg.task.name);
                return RUN_INVALID;
            }
            if (e->step > ri->ckpt_step) {
                if (has_ckpt)
                    pe_errorf("%s: evaluated at step %ld, but the checkpoint is at step %ld: the files are not of "
                              "one run",
                              path, e->step, ri->ckpt_step);
                else
                    pe_errorf("%s: evaluated at step %ld, but the run has no checkpoint: the files are not of one run",
                              path, e->step);
                return RUN_INVALID;
            }
            if (e->step < ri->ckpt_step && wanted && complete) {
                snprintf(ri->why, sizeof ri->why,
                         "%s.json is from step %ld but the checkpoint is at step %ld: evaluate again (posenc eval %.300s)",
                         stem, e->step, ri->ckpt_step, dir);
                complete = 0;
            }
        }
    ri->complete = complete;
    return RUN_OK;
}

/*
 * inspect.c — what a run directory is (inspect.h).
 */
#include "run/inspect.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "data/task.h"
#include "core/alloc.h"
#include "run/checkpoint.h"
#include "run/provenance.h"
#include "run/score.h"

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
                json_value_text(NULL, va, vcap);
                json_value_text(y, vb, vcap);
                return 1;
            }
        return 0;
    }
    if (a && b && cJSON_Compare(a, b, 1)) return 0;
    snprintf(key, kcap, "%s", prefix);
    json_value_text(a, va, vcap);
    json_value_text(b, vb, vcap);
    return 1;
}

int run_config_diff(const RunConfig *a, const RunConfig *b, int identity_only, char *key, size_t key_cap, char *va,
                    char *vb, size_t val_cap) {
    /* a setting recorded when a run is prepared (a file's hash) that one side leaves "" takes the other's value */
    RunConfig *ca = core_calloc(2, sizeof *ca), *cb = ca + 1;
    *ca = *a;
    *cb = *b;
    for (int i = 0; i < task_count(); i++)
        for (const TaskSetting *const *st = task_at(i)->recorded; st && *st; st++) {
            if (!task_setting_text(&ca->task, *st)[0])
                task_setting_set_text(&ca->task, *st, task_setting_text(&cb->task, *st));
            if (!task_setting_text(&cb->task, *st)[0])
                task_setting_set_text(&cb->task, *st, task_setting_text(&ca->task, *st));
        }
    char *ta = config_to_json(ca), *tb = config_to_json(cb);
    free(ca);
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
            snprintf(file, sizeof file, "%s.adhoc.json", stem);
            if (strcmp(name, file) == 0) return 1;
            snprintf(file, sizeof file, "%s.adhoc.csv", stem);
            if (strcmp(name, file) == 0) return 1;
        }
    return 0;
}

/* ---- evaluation files ------------------------------------------------------ */

/* An evaluation file (at path) must be of this run: its encoding, its task,
 * a step no later than the checkpoint's. 0, or -1 after core_errorf. */
static int check_eval_identity(const RunInfo *ri, const RunEval *e, const char *path, int has_ckpt) {
    if (e->pe[0] && strcmp(e->pe, ri->cfg.model.pe) != 0)
        return core_errorf("%s: pe is \"%s\" but config.json says model.pe = \"%s\": the files are not of one run",
                           path, e->pe, ri->cfg.model.pe);
    if (e->task[0] && strcmp(e->task, ri->cfg.task.name) != 0)
        return core_errorf("%s: task is \"%s\" but config.json says task.name = \"%s\": the files are not of one "
                           "run", path, e->task, ri->cfg.task.name);
    /* positions past the longest input it could have seen (or the random ids' range) */
    int longest = 0;
    const TaskOps *t = task_find(ri->cfg.task.name);
    for (int i = 0; i < e->num && t; i++) {
        const int len = task_input_len(t, &ri->cfg.task, e->n[i]);
        longest = len > longest ? len : longest;
    }
    if (ri->cfg.model.P > longest) longest = ri->cfg.model.P;
    if (e->bp_max_pos > longest)
        return core_errorf("%s: by_position: pos %ld is past every position its evaluation could see (at most %d): "
                           "not an evaluation of this run", path, e->bp_max_pos, longest);
    if (e->step > ri->ckpt_step) {
        if (has_ckpt)
            return core_errorf("%s: evaluated at step %ld, but the checkpoint is at step %ld: the files are not of "
                               "one run", path, e->step, ri->ckpt_step);
        return core_errorf("%s: evaluated at step %ld, but the run has no checkpoint: the files are not of one run",
                           path, e->step);
    }
    return 0;
}

/* Why the canonical file e of variant stem is not the run's result now, into
 * e->stale ("" when it is): a variant config.json does not ask for, an
 * earlier step than the checkpoint's, or other lengths, samples or eval.seed
 * than config.json's eval.*. */
static void canonical_check(const RunInfo *ri, RunEval *e, const char *stem, int wanted) {
    const EvalConfig *ec = &ri->cfg.eval;
    const char *d = ri->dir;
    e->stale[0] = '\0';
    if (!wanted) {
        snprintf(e->stale, sizeof e->stale, "%s.json: not one of the variants config.json asks for "
                 "(eval.positions, eval.rope_scaling), so not counted", stem);
        return;
    }
    if (e->step < ri->ckpt_step) {
        snprintf(e->stale, sizeof e->stale, "%s.json is from step %ld but the checkpoint is at step %ld: evaluate "
                 "again (posenc eval %.200s)", stem, e->step, ri->ckpt_step, d);
        return;
    }
    if (e->eval_seed >= 0 && e->eval_seed != (double)ec->seed) {
        snprintf(e->stale, sizeof e->stale, "%s.json was made with eval.seed = %.0f but config.json says eval.seed = "
                 "%llu: evaluate again (posenc eval %.200s)", stem, e->eval_seed, (unsigned long long)ec->seed, d);
        return;
    }
    if (e->samples >= 0 && e->samples != ec->samples) {
        snprintf(e->stale, sizeof e->stale, "%s.json was made with %ld samples per length but config.json says "
                 "eval.samples = %d: evaluate again (posenc eval %.200s)", stem, e->samples, ec->samples, d);
        return;
    }
    int same = e->num == ec->num_lengths;
    for (int i = 0; i < e->num && same; i++) {
        int found = 0;
        for (int k = 0; k < ec->num_lengths && !found; k++) found = e->n[i] == ec->lengths[k];
        same = found;
    }
    if (!same)
        snprintf(e->stale, sizeof e->stale, "%s.json holds other lengths than config.json's eval.lengths (%d of "
                 "them): evaluate again (posenc eval %.200s)", stem, ec->num_lengths, d);
}

/* ---- what posenc can prove it wrote ---------------------------------------- */

/* A safetensors file whose header's __metadata__ says "format": "posenc". */
static int safetensors_is_posenc(const char *path) {
    const int fd = file_open_regular(path, (size_t)1 << 40, NULL);
    if (fd < 0) return 0;
    unsigned char len8[8];
    int ours = 0;
    if (read(fd, len8, 8) == 8) {
        unsigned long long n = 0;
        for (int i = 7; i >= 0; i--) n = n << 8 | len8[i];
        char *head = n > 0 && n <= ((unsigned long long)16 << 20) ? core_calloc((size_t)n + 1, 1) : NULL;
        if (head && read(fd, head, (size_t)n) == (ssize_t)n) {
            cJSON *j = cJSON_Parse(head);
            const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "__metadata__");
            const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "format"));
            ours = fmt && strcmp(fmt, "posenc") == 0;
            cJSON_Delete(j);
        }
        free(head);
    }
    close(fd);
    return ours;
}

int run_file_proven_ours(const char *dir, const char *name) {
    if (!run_file_is_ours(name)) return 0;
    char path[4400];
    if (path_join(path, sizeof path, dir, name) != 0) return 0;
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0; /* a link, a folder...: not a file of ours */
    if (st.st_size == 0) return 1; /* empty (a write killed before its first byte): nothing to lose */
    const size_t len = strlen(name);
    int ours = 0;
    if (strcmp(name + (len > 12 ? len - 12 : 0), ".safetensors") == 0) {
        ours = safetensors_is_posenc(path); /* a checkpoint or optimizer state in posenc's format */
    } else if (strcmp(name, "provenance.json") == 0) {
        ours = prov_check(dir) == 0;
    } else {
        char *text = file_read_capped(path, (size_t)64 << 20, NULL);
        if (!text) return 0;
        if (strcmp(name, "config.json") == 0) {
            /* the resolved config, byte for byte as config_to_json writes it */
            RunConfig c;
            char *again = config_from_string(&c, text, path, NULL, 0) == 0 ? config_to_json(&c) : NULL;
            ours = again && strcmp(again, text) == 0;
            free(again);
        } else if (strcmp(name, "metrics.jsonl") == 0) {
            cJSON *first = cJSON_Parse(text); /* its first line: a JSON object with a step */
            const char *nl = strchr(text, '\n');
            if (!first && nl) {
                char *line = strndup(text, (size_t)(nl - text));
                first = line ? cJSON_Parse(line) : NULL;
                free(line);
            }
            ours = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(first, "step"));
            cJSON_Delete(first);
        } else if (strcmp(name + len - 4, ".csv") == 0) {
            ours = strncmp(text, "n,examples,tokens,token_acc,exact_match,loss,in_training_range", 62) == 0;
        } else { /* an evaluation file */
            RunEval *e = core_calloc(1, sizeof *e);
            ours = eval_file_parse(text, path, e) == 0;
            free(e);
        }
        free(text);
    }
    return ours;
}

/* ---- the run --------------------------------------------------------------- */

int run_inspect(const char *dir, RunInfo *ri) {
    memset(ri, 0, sizeof *ri);
    snprintf(ri->dir, sizeof ri->dir, "%s", dir);
    ri->ckpt_step = -1;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) {
            core_errorf("%s: no such run directory", dir);
            return RUN_NOT_A_RUN;
        }
        core_errorf("%s: cannot read the run directory: %s", dir, strerror(errno));
        return RUN_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        core_errorf("%s: not a directory, so not a run directory", dir);
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
        core_errorf("%s: not a posenc run directory (no config.json, no model.safetensors)", dir);
        return RUN_NOT_A_RUN;
    }
    if (!has_cfg) {
        core_errorf("%s: has a checkpoint (model.safetensors) but no config.json: not a complete run directory", dir);
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
            core_errorf("%s: %s is %s in config.json but %s in the checkpoint (model.safetensors): the files are not "
                      "of one run",
                      dir, key, va, vb);
            return RUN_INVALID;
        }
        if (ri->ckpt_step < 0 || ri->ckpt_step > ri->cfg.train.steps) {
            core_errorf("%s: the checkpoint is at step %ld but config.json says train.steps = %d: a run cannot be "
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
            char stem[80];
            eval_variant_stem(pm, sc, stem, sizeof stem);
            const int wanted = (ri->cfg.eval.positions & (1u << pm)) && (ri->cfg.eval.rope_scaling & (1u << sc));
            /* the canonical file, then the ad-hoc one (read to be checked; never a result) */
            for (int adhoc = 0; adhoc < 2; adhoc++) {
                RunEval tmp, *f = adhoc ? &tmp : e;
                const int has = eval_file_read(dir, pm, sc, adhoc, f); /* the one reader (run/evalfile.h) */
                if (has == EVAL_RUN_FAILED) return RUN_IO;
                if (has == EVAL_RUN_INVALID) return RUN_INVALID;
                if (!has) continue;
                char path[4400];
                snprintf(path, sizeof path, "%s/%s%s.json", dir, stem, adhoc ? ".adhoc" : "");
                if (check_eval_identity(ri, f, path, has_ckpt) != 0) return RUN_INVALID;
            }
            if (!e->present) {
                if (wanted && complete) {
                    snprintf(ri->why, sizeof ri->why, "not evaluated yet (no %s.json)", stem);
                    complete = 0;
                }
                continue;
            }
            /* does it hold the evaluation config.json describes, at the checkpoint's step? */
            canonical_check(ri, e, stem, wanted);
            if (e->stale[0] && wanted && complete) {
                snprintf(ri->why, sizeof ri->why, "%.590s", e->stale);
                complete = 0;
            }
        }
    ri->complete = complete;
    return RUN_OK;
}

/*
 * sweep.c — experiment specs, grid expansion, plans, local executor (sweep.h).
 */
#include "study/sweep.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "data/task.h"
#include "model/pe.h"
#include "run/inspect.h"
#include "run/score.h"
#include "run/train.h"

/* ------------------------------------------------------------------------
 * Loading and expanding a spec
 */

static const char *const spec_keys[] = {"name",  "description", "base",  "set",      "grid",
                                        "seeds", "eval",        "threads", "overrides", "slurm"};

static int check_spec_keys(const char *path, const cJSON *root) {
    for (const cJSON *it = root->child; it; it = it->next) {
        int ok = 0;
        for (size_t k = 0; k < sizeof spec_keys / sizeof spec_keys[0]; k++) ok |= strcmp(it->string, spec_keys[k]) == 0;
        if (!ok)
            return core_errorf("%s: %s: unknown key (valid: name, description, base, set, grid, seeds, eval, threads, "
                             "overrides, slurm)",
                             path, it->string);
    }
    return 0;
}

/* "key=<json>" for config_from_string's overrides */
static char *assignment(const char *key, const cJSON *value) {
    char *v = cJSON_PrintUnformatted(value);
    size_t n = strlen(key) + strlen(v) + 2;
    char *s = core_calloc(n, 1);
    snprintf(s, n, "%s=%s", key, v);
    free(v);
    return s;
}

void sweep_value_text(const cJSON *v, char *buf, size_t cap) {
    if (cJSON_IsString(v)) {
        snprintf(buf, cap, "%s", v->valuestring);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        snprintf(buf, cap, "%s", s ? s : "");
        free(s);
    }
}

/* a value's text as part of a job id (a folder name): characters other than
 * [A-Za-z0-9_+.-] become '-' */
static void id_part(const char *text, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", text);
    for (char *p = buf; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '+' || *p == '-' || *p == '.'))
            *p = '-';
}

/* Whether grid key `key` is an encoding's or a task's setting that the job's
 * model.pe or task.name (in cfg) does not read; then the text of the value the
 * job holds, the setting's default, goes into buf. Such a setting varies only
 * the jobs that read it: the others run once, at the default (config_for_job). */
static int unread_setting(const char *key, const RunConfig *cfg, char *buf, size_t cap) {
    double def;
    if (strncmp(key, "model.", 6) == 0) {
        const int slot = pe_setting_find(key + 6);
        if (slot < 0 || pe_uses_setting(pe_find(cfg->model.pe), slot)) return 0;
        def = pe_setting_at(slot)->def;
    } else if (strncmp(key, "task.", 5) == 0) {
        const int slot = task_setting_find(key + 5);
        if (slot < 0 || task_uses_setting(task_find(cfg->task.name), slot)) return 0;
        const TaskSetting *r = task_setting_at(slot);
        if (r->type == TASK_SETTING_TEXT) {
            snprintf(buf, cap, "%s", r->def_text ? r->def_text : "");
            return 1;
        }
        def = r->def;
    } else {
        return 0;
    }
    cJSON *d = cJSON_CreateNumber(def);
    sweep_value_text(d, buf, cap);
    cJSON_Delete(d);
    return 1;
}

/* job->id from its grid values and seed: the values made folder-safe, joined by '.', then "s<seed>" */
static void job_id(const Sweep *s, SweepJob *job) {
    char id[512] = "";
    for (int k = 0; k < s->num_keys; k++) {
        char part[64];
        id_part(job->values[k], part, sizeof part);
        strncat(id, part, sizeof id - strlen(id) - 2);
        strcat(id, ".");
    }
    snprintf(id + strlen(id), sizeof id - strlen(id), "s%llu", (unsigned long long)job->seed);
    snprintf(job->id, sizeof job->id, "%s", id);
}

int sweep_load(Sweep *s, const char *spec_path) { return sweep_load_set(s, spec_path, NULL, 0); }

/* Check the "overrides" of a spec (after the command line's were appended):
 * an array of "key=value" strings, none a grid key or a key the sweep sets
 * per job (seed, name, train.threads). 0 or -1 after core_errorf. */
static int check_overrides(const char *spec_path, const cJSON *ov, const cJSON *grid) {
    if (!ov) return 0;
    if (!cJSON_IsArray(ov))
        return core_errorf("%s: overrides: expected an array of \"key=value\" strings (what posenc sweep --set adds)",
                           spec_path);
    int i = 0;
    for (const cJSON *it = ov->child; it; it = it->next, i++) {
        const char *eq = cJSON_IsString(it) ? strchr(it->valuestring, '=') : NULL;
        if (!eq || eq == it->valuestring)
            return core_errorf("%s: overrides[%d]: expected a \"key=value\" string, e.g. \"train.lr=0.004\"", spec_path,
                               i);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - it->valuestring < 127 ? eq - it->valuestring : 127),
                 it->valuestring);
        if (grid && cJSON_GetObjectItemCaseSensitive(grid, key))
            return core_errorf("%s: %s (--set or \"overrides\"): a grid key of the sweep (its values are the grid's; "
                               "change the spec's grid instead)", spec_path, key);
        if (strcmp(key, "seed") == 0 || strcmp(key, "name") == 0 || strcmp(key, "train.threads") == 0)
            return core_errorf("%s: %s (--set or \"overrides\"): set by the sweep for every job (%s)", spec_path, key,
                               strcmp(key, "train.threads") == 0 ? "use the spec's \"threads\""
                               : strcmp(key, "seed") == 0        ? "use the spec's \"seeds\""
                                                                 : "the job's id");
    }
    return 0;
}

/* The spec's name (else its file name without .json) and description. */
static int spec_name(Sweep *s, const char *spec_path, const cJSON *root) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (name && !cJSON_IsString(name)) {
        core_errorf("%s: name: expected a string", spec_path);
        return -1;
    }
    if (name) {
        snprintf(s->name, sizeof s->name, "%s", name->valuestring);
    } else { /* the spec's file name without .json */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", spec_path);
        snprintf(s->name, sizeof s->name, "%s", basename(tmp));
        char *dot = strrchr(s->name, '.');
        if (dot) *dot = '\0';
    }
    for (const char *p = s->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.')) {
            core_errorf("%s: name: \"%s\" may hold only letters, digits, '.', '_' and '-'", spec_path, s->name);
            return -1;
        }
    /* the name is a folder under runs/: "", "." and ".." would be another folder */
    if (strspn(s->name, ".") == strlen(s->name)) {
        core_errorf("%s: name: \"%s\" is not a folder name of its own (it names the output folder runs/NAME); use "
                  "letters or digits",
                  spec_path, s->name);
        return -1;
    }
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc && !cJSON_IsString(desc)) {
        core_errorf("%s: description: expected a string", spec_path);
        return -1;
    }
    if (desc) snprintf(s->description, sizeof s->description, "%s", desc->valuestring);
    return 0;
}

/* The base config, a path relative to the spec's folder (inlined into root)
 * or an inline object: its JSON text into *base_json (malloc'd; NULL without
 * one) and where it came from into base_origin. */
static int spec_base(const char *spec_path, cJSON *root, char **base_json, char *base_origin, size_t origin_cap) {
    /* the base config: a path relative to the spec's folder, or an inline object */
    cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "base");
    snprintf(base_origin, origin_cap, "%s: base", spec_path);
    if (cJSON_IsString(base)) {
        char dir[4096], path[8192];
        snprintf(dir, sizeof dir, "%s", spec_path);
        if (base->valuestring[0] == '/')
            snprintf(path, sizeof path, "%s", base->valuestring);
        else
            snprintf(path, sizeof path, "%s/%s", dirname(dir), base->valuestring);
        *base_json = file_read_all(path, NULL);
        if (!*base_json) {
            core_errorf("%s: base: %s (paths are relative to the spec's folder)", spec_path, core_error());
            return -1;
        }
        snprintf(base_origin, origin_cap, "%s", path);
        cJSON *parsed = cJSON_Parse(*base_json);
        if (!parsed) {
            RunConfig tmp;
            config_from_string(&tmp, *base_json, path, NULL, 0); /* for its line/column message */
            return -1;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(root, "base", parsed); /* inline it in the resolved spec */
    } else if (cJSON_IsObject(base)) {
        *base_json = cJSON_PrintUnformatted(base);
    } else if (base) {
        core_errorf("%s: base: expected a config path (string) or an inline config object", spec_path);
        return -1;
    }
    return 0;
}

/* The shape of the grid: "set", "eval" and "grid" objects, the overrides
 * (the spec's, then the command line's --set, added to root), "threads", the
 * seeds and the grid keys (into s->keys); the seed count and the cell count. */
static int spec_grid(Sweep *s, const char *spec_path, cJSON *root, const char *const *cli_sets, int ncli,
                     int *nseeds_out, long *ncells_out) {
    /* overrides: "set" then "eval", then per job the grid values and the seed */
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "set");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "eval");
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(root, "threads");
    /* the command line's --set go after the spec's own overrides, and into the resolved spec */
    cJSON *ov = cJSON_GetObjectItemCaseSensitive(root, "overrides");
    if (ncli > 0 && !ov) ov = cJSON_AddArrayToObject(root, "overrides");
    for (int k = 0; k < ncli && cJSON_IsArray(ov); k++) cJSON_AddItemToArray(ov, cJSON_CreateString(cli_sets[k]));
    if (check_overrides(spec_path, ov, grid) != 0) return -1;
    if ((set && !cJSON_IsObject(set)) || (ev && !cJSON_IsObject(ev)) || (grid && !cJSON_IsObject(grid))) {
        core_errorf("%s: %s: expected an object of config keys", spec_path,
                  set && !cJSON_IsObject(set) ? "set" : ev && !cJSON_IsObject(ev) ? "eval" : "grid");
        return -1;
    }
    s->threads = 1;
    if (threads) {
        if (!cJSON_IsNumber(threads) || !(threads->valuedouble >= 1 && threads->valuedouble <= 1024) ||
            threads->valuedouble != floor(threads->valuedouble)) {
            core_errorf("%s: threads: expected a whole number in 1..1024", spec_path);
            return -1;
        }
        s->threads = (int)threads->valuedouble;
    }
    const int nseeds = seeds ? cJSON_GetArraySize(seeds) : 1;
    if (seeds && (!cJSON_IsArray(seeds) || nseeds < 1)) {
        core_errorf("%s: seeds: expected a non-empty array of integers", spec_path);
        return -1;
    }
    for (int i = 0; seeds && i < nseeds; i++) {
        const cJSON *v = cJSON_GetArrayItem(seeds, i);
        /* range first (below 2^64): a cast of an out-of-range double is undefined */
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0) ||
            v->valuedouble != floor(v->valuedouble)) {
            core_errorf("%s: seeds[%d]: expected a whole number >= 0", spec_path, i);
            return -1;
        }
    }
    long ncells = 1;
    *nseeds_out = nseeds;
    for (const cJSON *g = grid ? grid->child : NULL; g; g = g->next) {
        if (s->num_keys == SWEEP_MAX_KEYS) {
            core_errorf("%s: grid: more than %d keys", spec_path, SWEEP_MAX_KEYS);
            return -1;
        }
        if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) < 1) {
            core_errorf("%s: grid.%s: expected a non-empty array of values", spec_path, g->string);
            return -1;
        }
        /* a key that a run's config.json does not record cannot tell cells apart when they are aggregated */
        if (strcmp(g->string, "train.threads") == 0 || strcmp(g->string, "seed") == 0 ||
            strcmp(g->string, "name") == 0) {
            core_errorf("%s: grid.%s: cannot be a grid key: %s", spec_path, g->string,
                        g->string[0] == 't' ? "a speed setting, not recorded in a run's config.json (results are "
                                              "bitwise the same for any value); give the spec's \"threads\""
                        : g->string[0] == 's' ? "the seeds are the spec's \"seeds\""
                                              : "each job is named after its grid values and seed");
            return -1;
        }
        snprintf(s->keys[s->num_keys++], sizeof s->keys[0], "%s", g->string);
        ncells *= cJSON_GetArraySize(g);
    }
    if (ncells * nseeds > SWEEP_MAX_JOBS) {
        core_errorf("%s: the grid expands to %ld jobs; at most %d", spec_path, ncells * nseeds, SWEEP_MAX_JOBS);
        return -1;
    }
    *ncells_out = ncells;
    return 0;
}

/* Load one job's config (config_for_job). RoPE scaling variants apply to the
 * jobs whose encoding can be rescaled: when the spec's list has "none", the
 * others are evaluated with it alone (their config says eval.rope_scaling
 * ["none"]); a list without "none" still needs RoPE in every job. */
static int load_job(SweepJob *job, const char *base_json, const char *base_origin, const char **sets, int nsets,
                    int scaling_set) {
    const char *scaling = scaling_set >= 0 && strstr(sets[scaling_set], "none") ? sets[scaling_set] : NULL;
    if (scaling) {
        sets[scaling_set] = "eval.rope_scaling=none";
        if (config_for_job(&job->cfg, base_json, base_origin, sets, nsets) != 0 ||
            pe_has(job->cfg.model.pe, PE_SCALABLE))
            sets[scaling_set] = scaling;
    }
    const int rc = config_for_job(&job->cfg, base_json, base_origin, sets, nsets);
    if (scaling) sets[scaling_set] = scaling;
    return rc;
}

/* Every job: the base config with "set", "eval", the cell's grid values, the
 * seed and the job's name applied; ids unique. */
static int spec_jobs(Sweep *s, const char *spec_path, const cJSON *root, const char *base_json,
                     const char *base_origin, int nseeds, long ncells) {
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "set");
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(root, "overrides");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "eval");
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(root, "grid");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    const char **sets = NULL;
    int nsets = 0, nfixed = 0, rc = -1;
    /* fixed overrides */
    int cap = 8 + (set ? cJSON_GetArraySize(set) : 0) + (ev ? cJSON_GetArraySize(ev) : 0) +
              (ov ? cJSON_GetArraySize(ov) : 0) + SWEEP_MAX_KEYS;
    sets = core_calloc(cap, sizeof *sets);
    for (const cJSON *it = set ? set->child : NULL; it; it = it->next) sets[nsets++] = assignment(it->string, it);
    int scaling_set = -1; /* the index of eval.rope_scaling among the sets, if the spec gives it */
    for (const cJSON *it = ev ? ev->child : NULL; it; it = it->next) {
        char key[128];
        snprintf(key, sizeof key, "eval.%s", it->string);
        if (strcmp(it->string, "rope_scaling") == 0) scaling_set = nsets;
        sets[nsets++] = assignment(key, it);
    }
    {
        cJSON *th = cJSON_CreateNumber(s->threads);
        sets[nsets++] = assignment("train.threads", th);
        cJSON_Delete(th);
    }
    /* "overrides" (posenc sweep --set): after "set" and "eval", as `posenc train --set` after a config */
    for (const cJSON *it = ov ? ov->child : NULL; it; it = it->next) sets[nsets++] = core_strdup(it->valuestring);
    nfixed = nsets;

    s->jobs = core_calloc(ncells * nseeds, sizeof *s->jobs);
    s->num_jobs = 0;
    for (long cell = 0; cell < ncells; cell++) {
        /* mixed-radix decomposition: the last grid key varies fastest */
        long rest = cell;
        int idx[SWEEP_MAX_KEYS];
        for (int k = s->num_keys - 1; k >= 0; k--) {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(grid, s->keys[k]);
            int n = cJSON_GetArraySize(g);
            idx[k] = (int)(rest % n);
            rest /= n;
        }
        for (int si = 0; si < nseeds; si++) {
            SweepJob *job = &s->jobs[s->num_jobs];
            nsets = nfixed;
            for (int k = 0; k < s->num_keys; k++) {
                const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(grid, s->keys[k]), idx[k]);
                sets[nsets++] = assignment(s->keys[k], v);
                sweep_value_text(v, job->values[k], sizeof job->values[k]);
            }
            const cJSON *sv = seeds ? cJSON_GetArrayItem(seeds, si) : NULL;
            job->seed = sv ? (uint64_t)sv->valuedouble : 1;
            char seed_set[64];
            snprintf(seed_set, sizeof seed_set, "seed=%llu", (unsigned long long)job->seed);
            sets[nsets++] = core_strdup(seed_set);
            const int name_at = nsets++;
            int bad = 0, skip = 0;
            /* twice when the job holds a grid setting its encoding or task does not read: its id then
             * names the default the job runs with, not the grid's first value */
            for (int pass = 0; pass < 2 && !bad && !skip; pass++) {
                job_id(s, job);
                char name_set[200];
                snprintf(name_set, sizeof name_set, "name=%s", job->id);
                sets[name_at] = name_set;
                bad = load_job(job, base_json, base_origin, sets, nsets, scaling_set) != 0;
                int changed = 0;
                for (int k = 0; k < s->num_keys && !bad; k++) {
                    char text[64];
                    if (!unread_setting(s->keys[k], &job->cfg, text, sizeof text)) continue;
                    if (idx[k] != 0) skip = 1; /* the first listed value's job runs it */
                    if (strcmp(text, job->values[k]) != 0) {
                        snprintf(job->values[k], sizeof job->values[k], "%s", text);
                        changed = 1;
                    }
                }
                if (!changed) break;
            }
            sets[name_at] = NULL;
            for (int k = nfixed; k < nsets; k++) free((void *)sets[k]);
            if (bad) {
                core_errorf("%s: job %s: %s", spec_path, job->id, core_error());
                goto done;
            }
            if (!skip) s->num_jobs++;
            else memset(job, 0, sizeof *job);
        }
    }
    /* ids must be unique (values that differ only in characters mapped to '-') */
    for (int i = 0; i < s->num_jobs; i++)
        for (int j = i + 1; j < s->num_jobs; j++)
            if (strcmp(s->jobs[i].id, s->jobs[j].id) == 0) {
                core_errorf("%s: two jobs get the same id \"%s\" (duplicate grid values or seeds?)", spec_path,
                          s->jobs[i].id);
                goto done;
            }
    rc = 0;
done:
    for (int k = 0; k < nfixed; k++) free((void *)sets[k]);
    free(sets);
    return rc;
}

int sweep_load_set(Sweep *s, const char *spec_path, const char *const *cli_sets, int ncli) {
    memset(s, 0, sizeof *s);
    snprintf(s->spec_path, sizeof s->spec_path, "%s", spec_path);
    char *text = file_read_all(spec_path, NULL);
    if (!text) return -1;
    cJSON *root = cJSON_Parse(text);
    int rc = -1, nseeds = 0;
    long ncells = 0;
    char *base_json = NULL, base_origin[8300];
    if (!root || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1, col = 1;
        for (const char *p = text; at && p < at && *p; p++) {
            if (*p == '\n') line++, col = 1;
            else col++;
        }
        core_errorf("%s: invalid JSON at line %d, column %d (an experiment spec is a JSON object)", spec_path, line,
                  col);
        goto done;
    }
    if (check_spec_keys(spec_path, root) != 0 || spec_name(s, spec_path, root) != 0 ||
        spec_base(spec_path, root, &base_json, base_origin, sizeof base_origin) != 0 ||
        spec_grid(s, spec_path, root, cli_sets, ncli, &nseeds, &ncells) != 0 ||
        spec_jobs(s, spec_path, root, base_json, base_origin, nseeds, ncells) != 0)
        goto done;
    if (!cJSON_GetObjectItemCaseSensitive(root, "name")) cJSON_AddStringToObject(root, "name", s->name);
    s->resolved_json = cJSON_Print(root);
    rc = 0;
done:
    free(base_json);
    cJSON_Delete(root);
    free(text);
    if (rc != 0) {
        free(s->jobs);
        s->jobs = NULL;
    }
    return rc;
}

void sweep_free(Sweep *s) {
    free(s->jobs);
    free(s->resolved_json);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------
 * Plans
 */

int sweep_plan_paths_check(const char *out, const char *bin, int slurm) {
    char abs_out[4096], cwd[4096];
    if (!realpath(out, abs_out)) { /* not created yet: where it will be */
        if (out[0] != '/' && !getcwd(cwd, sizeof cwd)) return core_errorf("the current folder: %s", strerror(errno));
        if (snprintf(abs_out, sizeof abs_out, "%s%s%s", out[0] == '/' ? "" : cwd, out[0] == '/' ? "" : "/", out) >=
            (int)sizeof abs_out)
            return core_errorf("%s: path too long", out);
    }
    if (strchr(abs_out, '\n'))
        return core_errorf("the sweep folder \"%s\": a path with a newline cannot be written into plan.txt (one "
                           "command per line); choose another --out", abs_out);
    char *q = esc_sh_dq(bin, "the posenc program");
    if (!q) return -1;
    free(q);
    if (slurm) { /* the #SBATCH lines take the folder as a file-name pattern */
        q = esc_sbatch(abs_out, 1, "the sweep folder");
        if (!q) return -1;
        free(q);
    }
    return 0;
}

int sweep_write_plan(const Sweep *s, const char *out, const char *bin) {
    char *qbin = esc_sh_dq(bin, "the posenc program"); /* inside "${POSENC:-...}" */
    if (!qbin) return -1;
    char path[4096], dir[4096], abs_out[4096];
    if (dir_create(out) != 0 || path_join(dir, sizeof dir, out, "configs") != 0 || dir_create(dir) != 0 ||
        path_join(path, sizeof path, out, "sweep.json") != 0 ||
        file_write_atomic(path, s->resolved_json, strlen(s->resolved_json)) != 0) {
        free(qbin);
        return -1;
    }
    /* absolute paths, so that a line runs unchanged from any folder and on any
     * host that mounts the sweep folder at the same path */
    if (!realpath(out, abs_out)) {
        free(qbin);
        return core_errorf("%s: %s", out, strerror(errno));
    }
    if (strchr(abs_out, '\n')) {
        free(qbin);
        return core_errorf("the sweep folder \"%s\": a path with a newline cannot be written into plan.txt (one "
                         "command per line)", abs_out);
    }
    size_t cap = 1024 + (size_t)s->num_jobs * (8 * strlen(abs_out) + strlen(qbin) + 800), len = 0;
    char *plan = core_calloc(cap, 1);
    for (int i = 0; i < s->num_jobs; i++) {
        const SweepJob *j = &s->jobs[i];
        char cfgpath[4096];
        snprintf(cfgpath, sizeof cfgpath, "%s/configs/%s.json", abs_out, j->id);
        char *json = config_to_json_plan(&j->cfg);
        int rc = file_write_atomic(cfgpath, json, strlen(json));
        free(json);
        if (rc != 0) {
            free(plan);
            free(qbin);
            return -1;
        }
        char rundir[4400];
        snprintf(rundir, sizeof rundir, "%s/runs/%s", abs_out, j->id);
        char *qcfg = esc_sh(cfgpath), *qrun = esc_sh(rundir);
        len += snprintf(plan + len, cap - len, "\"${" SWEEP_PROGRAM_VAR ":-%s}\" run %s --out %s\n", qbin, qcfg, qrun);
        free(qcfg);
        free(qrun);
    }
    free(qbin);
    int rc = path_join(path, sizeof path, out, "plan.txt") == 0 ? file_write_atomic(path, plan, len) : -1;
    free(plan);
    return rc;
}

int sweep_run_complete(const char *run_dir) {
    RunInfo *ri = core_calloc(1, sizeof *ri);
    int complete = run_inspect(run_dir, ri) == RUN_OK && ri->complete;
    free(ri);
    return complete;
}

int sweep_check_runs(const Sweep *s, const char *out) {
    RunInfo *ri = core_calloc(1, sizeof *ri);
    int rc = 0;
    for (int i = 0; i < s->num_jobs && rc == 0; i++) {
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/runs/%s", out, s->jobs[i].id);
        struct stat st;
        if (lstat(dir, &st) != 0) continue; /* not started */
        if (S_ISLNK(st.st_mode)) {
            core_errorf("%s: a symbolic link; a sweep writes its runs only into folders of its own (remove the "
                      "link, or sweep into another --out)", dir);
            rc = RUN_INVALID;
            break;
        }
        int st2 = run_inspect(dir, ri);
        if (st2 == RUN_NOT_A_RUN) continue;
        if (st2 != RUN_OK) {
            rc = st2;
            break;
        }
        char key[256], va[80], vb[80];
        if (run_config_diff(&ri->cfg, &s->jobs[i].cfg, 0, key, sizeof key, va, vb, sizeof va)) {
            core_errorf("%s holds a run with %s = %s, but %s now gives %s = %s: its results would not be of this spec; "
                      "sweep into another --out, or remove that run folder",
                      dir, key, va, s->spec_path, key, vb);
            rc = RUN_INVALID;
        }
    }
    free(ri);
    return rc;
}

/* ------------------------------------------------------------------------
 * The local executor
 */

typedef struct {
    char *line;
    char id[128];
    char run_dir[4096];
    pid_t pid;
    int state; /* 0 pending, 1 running, 2 done, 3 failed, 4 skipped */
    double started;
    long start_step; /* the checkpoint it starts from, -1 none */
} PlanJob;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* the run directory and id of a plan line ("${POSENC:-...}" run 'CONFIG' --out 'DIR',
 * the words quoted by esc_sh) */
static int parse_plan_line(const char *line, PlanJob *j) {
    const char *o = strstr(line, "}\" run ");
    if (!o) return -1;
    o += 7;
    char cfg[4096];
    if (esc_sh_unquote(&o, cfg, sizeof cfg) != 0 || strncmp(o, " --out ", 7) != 0) return -1;
    o += 7;
    if (esc_sh_unquote(&o, j->run_dir, sizeof j->run_dir) != 0 || *o) return -1;
    const char *slash = strrchr(j->run_dir, '/');
    snprintf(j->id, sizeof j->id, "%.127s", slash ? slash + 1 : j->run_dir);
    return 0;
}

static void fmt_time(char *buf, size_t cap, double s) {
    long t = (long)(s + 0.5);
    snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

/* The training steps of run_dir's config (0 if unreadable). */
static long run_steps(const char *run_dir) {
    char path[4096];
    RunConfig c;
    if (path_join(path, sizeof path, run_dir, "config.json") != 0 || config_load(&c, path, NULL, 0) != 0) return 0;
    return c.train.steps;
}

/* The jobs of plan.txt (its text, cut in place into lines; path names it in
 * errors): *n of them, malloc'd; NULL after core_errorf. */
static PlanJob *plan_jobs(const char *path, char *text, int *n_out) {
    int n = 0;
    for (char *p = text; *p; p++) n += *p == '\n';
    PlanJob *pj = core_calloc(n ? n : 1, sizeof *pj);
    n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!*line) continue;
        pj[n].line = line;
        if (parse_plan_line(line, &pj[n]) != 0) {
            core_errorf("%s: line %d is not a posenc plan line (\"${POSENC:-...}\" run 'CONFIG' --out 'DIR')", path, n + 1);
            free(pj);
            return NULL;
        }
        n++;
    }
    *n_out = n;
    return pj;
}

/* Start job j (its output appended to LOGS/ID.log): running (state 1), or -1
 * when fork failed (said on stderr; state 3, failed). */
static int start_job(PlanJob *j, const char *logs) {
    char logpath[4400];
    snprintf(logpath, sizeof logpath, "%s/%s.log", logs, j->id);
    j->start_step = train_checkpoint_step(j->run_dir); /* posenc run resumes from it */
    /* exec: the job's signals and exit status are posenc's, not the shell's
     * (the command is built before fork: the child only execs) */
    size_t len = strlen(j->line) + 6;
    char *cmd = core_calloc(len, 1);
    snprintf(cmd, len, "exec %s", j->line);
    pid_t pid = fork();
    if (pid != 0) free(cmd);
    if (pid < 0) {
        fprintf(stderr, "sweep: fork failed: %s\n", strerror(errno));
        j->state = 3;
        return -1;
    }
    if (pid == 0) {
        /* the job's log: its stdout and stderr, appended as they come */
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0644); /* writer-exempt: log */
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        /* its own process group: a terminal's Ctrl-C reaches the sweep only,
         * which passes exactly one SIGINT on (two would mean "stop now") */
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    j->pid = pid;
    j->state = 1;
    j->started = now_s();
    return 0;
}

/* the failed jobs and their logs, on stderr */
static void report_failed(const PlanJob *pj, int n, int failed, const char *logs) {
    fprintf(stderr, "sweep: %d job(s) failed:\n", failed);
    for (int i = 0; i < n; i++)
        if (pj[i].state == 3) fprintf(stderr, "  %s (log: %s/%s.log)\n", pj[i].id, logs, pj[i].id);
}

int sweep_run_plan(const char *out, int jobs, volatile sig_atomic_t *stop, int *interrupted, int *ran,
                   int *resumed, double *trained) {
    char path[4096], logs[4096];
    *interrupted = 0;
    *ran = 0;
    *resumed = 0;
    *trained = 0.0;
    if (path_join(path, sizeof path, out, "plan.txt") != 0 || path_join(logs, sizeof logs, out, "logs") != 0)
        return -1;
    char *text = file_read_all(path, NULL);
    if (!text) return -1;
    if (dir_create(logs) != 0) {
        free(text);
        return -1;
    }
    int n = 0;
    PlanJob *pj = plan_jobs(path, text, &n);
    if (!pj) {
        free(text);
        return -1;
    }
    int skipped = 0;
    for (int i = 0; i < n; i++)
        if (sweep_run_complete(pj[i].run_dir)) pj[i].state = 4, skipped++;
    const int live = isatty(fileno(stderr));
    fprintf(stderr, "sweep %s: %d jobs (%d already complete), %d at a time; logs in %s\n", out, n, skipped, jobs,
            logs);
    const double t0 = now_s();
    int running = 0, done = 0, failed = 0, next = 0, forwarded = 0, started_said = 0;
    double work_time = 0.0; /* summed wall time of finished jobs, for the ETA */
    for (;;) {
        while (!*stop && running < jobs && next < n) {
            PlanJob *j = &pj[next++];
            if (j->state == 4) continue;
            if (start_job(j, logs) != 0) {
                failed++;
                continue;
            }
            running++;
            /* the first jobs started, said at once (piped too): nothing else is printed until one finishes */
            if (!started_said && (running == jobs || next == n)) {
                fprintf(stderr, "sweep: started");
                for (int i = 0; i < next; i++)
                    if (pj[i].state == 1) fprintf(stderr, " %s", pj[i].id);
                fprintf(stderr, "; a line per finished job follows\n");
                fflush(stderr);
                started_said = 1;
            }
        }
        if (running == 0) break;
        if (*stop && !forwarded) {
            /* pass the interruption on: each job checkpoints and exits with 130 */
            for (int i = 0; i < n; i++)
                if (pj[i].state == 1) kill(pj[i].pid, SIGINT);
            forwarded = 1;
        }
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (pj[i].state != 1 || pj[i].pid != pid) continue;
            running--;
            double dt = now_s() - pj[i].started;
            int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            char from[96] = "";
            if (ok) {
                pj[i].state = 2;
                done++;
                work_time += dt;
                const long steps = run_steps(pj[i].run_dir), k = pj[i].start_step;
                if (k > 0 && steps > 0) {
                    (*resumed)++;
                    if (k >= steps) snprintf(from, sizeof from, "  (trained before; evaluated only)");
                    else snprintf(from, sizeof from, "  (resumed from step %ld of %ld)", k, steps);
                }
                if (steps > 0) *trained += k > 0 ? (k < steps ? (double)(steps - k) / steps : 0.0) : 1.0;
            } else {
                pj[i].state = 3;
                if (!(*stop && WIFEXITED(st) && WEXITSTATUS(st) == 130)) failed++;
            }
            int remaining = n - skipped - done - failed;
            double per = done ? work_time / done : 0.0;
            char el[32], eta[32];
            fmt_time(el, sizeof el, now_s() - t0);
            fmt_time(eta, sizeof eta, per * remaining / (jobs > 0 ? jobs : 1));
            fprintf(stderr, "%s[%d/%d] %-28s %s in %.1fs%s   (%d running, %d failed; elapsed %s, ETA %s)%s",
                    live ? "\r\033[K" : "", done + failed + skipped, n, pj[i].id,
                    ok ? "done" : (*stop ? "interrupted" : "FAILED"), dt, from, running, failed, el,
                    done ? eta : "?", live ? "" : "\n");
            if (live && (!ok || running == 0)) fprintf(stderr, "\n");
            fflush(stderr);
        }
    }
    if (*stop) *interrupted = 1;
    *ran = done;
    if (failed) report_failed(pj, n, failed, logs);
    free(pj);
    free(text);
    return failed;
}

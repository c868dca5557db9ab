#include "run/rundir.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/parallel.h"
#include "run/checkpoint.h"
#include "run/inspect.h"
#include "run/provenance.h"
#include "run/train.h"

/* The model a config describes can be built (every encoding's own checks,
 * e.g. model.rope_base > 1, an even d_model for sinusoidal): a config error,
 * found before anything is written. */
static int check_model_config(const RunConfig *cfg) {
    if (gpt_config_check(&cfg->model) != 0) return -1;
    PE pe;
    PEConfig pc = gpt_pe_config(&cfg->model);
    if (pe_init(&pe, cfg->model.pe, &pc) != 0) return -1;
    pe_free(&pe);
    return 0;
}

/* Resuming s->resume: what the folder holds, its lock, the config with the
 * train.* overrides. */
static int prepare_resume(const RunDirSetup *s, RunConfig *cfg, const char *dir) {
    for (int i = 0; i < s->nsets; i++)
        if (strncmp(s->sets[i], "train.", 6) != 0) {
            core_errorf("--set %s: only train.* keys can change when resuming (the model and task are fixed by the "
                      "checkpoint)", s->sets[i]);
            return RUNDIR_INVALID;
        }
    /* what the folder is, before anything is created in it (not even the lock) */
    RunInfo *ri = core_calloc(1, sizeof *ri);
    int st = run_inspect(dir, ri);
    const long ck = ri->ckpt_step;
    const int old_steps = ri->cfg.train.steps, was_trained = ri->trained;
    free(ri);
    if (st != RUN_OK) {
        core_errorf("--resume %s: %s", dir, core_error());
        return st == RUN_IO ? RUNDIR_FAILED : RUNDIR_INVALID;
    }
    if (ck < 0) {
        core_errorf("--resume %s: no checkpoint to resume from (training stopped before its first checkpoint); "
                  "start it again with: posenc train %s/config.json --out %s --force", dir, dir, dir);
        return RUNDIR_INVALID;
    }
    if (dir_lock(dir) != 0) return RUNDIR_FAILED;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir); /* its length checked by rundir_prepare */
    if (config_load(cfg, path, s->sets, s->nsets) != 0) return RUNDIR_INVALID;
    if (cfg->train.steps < ck) {
        core_errorf("--resume %s: train.steps = %d is below the checkpoint's step %ld; a run cannot go back "
                  "(train.steps must be at least %ld)", dir, cfg->train.steps, ck, ck);
        return RUNDIR_INVALID;
    }
    if (cfg->train.steps != old_steps && s->notes) {
        /* the learning-rate schedule (warmup, then cosine decay to train.steps) changes from here on */
        fprintf(s->notes, "posenc train: note: train.steps changes from %d to %d at step %ld: the learning-rate "
                          "schedule (cosine decay to train.steps) bends here, so this run differs from a %d-step "
                          "run trained from scratch\n",
                old_steps, cfg->train.steps, ck, cfg->train.steps);
        if (was_trained)
            fprintf(s->notes, "posenc train: note: %s had finished at step %ld; its evaluation files (eval*.json) "
                              "are from that step and no longer count as its results (run, sweep and collect "
                              "see them as stale) until `posenc eval %s` evaluates the new last step\n",
                    dir, ck, dir);
    }
    if (prov_check(dir) != 0) return RUNDIR_INVALID; /* the session's record is appended to it at the end */
    return RUNDIR_OK;
}

/* NAME.tmp.<digits> of one of posenc's file names (a killed write's leftover) */
static int stale_tmp_of_ours(const char *name) {
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name || !t[5] || strspn(t + 5, "0123456789") != strlen(t + 5)) return 0;
    char base[256];
    if ((size_t)(t - name) >= sizeof base) return 0;
    memcpy(base, name, (size_t)(t - name));
    base[t - name] = '\0';
    return run_file_is_ours(base);
}

/* A new run in dir. Refused before anything is written: ".", ".." or "/"
 * (a run needs a folder of its own), a folder that holds files but no run of
 * posenc's (recognised by content: run_file_proven_ours, not by names), a run
 * unless s->force. Then the lock, and with force the old run's files
 * removed: only those posenc can prove it wrote. */
static int prepare_new(const RunDirSetup *s, const char *dir) {
    char base[4096], abs[4096];
    snprintf(base, sizeof base, "%s", dir);
    for (size_t n = strlen(base); n > 1 && base[n - 1] == '/'; n--) base[n - 1] = '\0';
    const char *last = strrchr(base, '/');
    last = last ? last + 1 : base;
    if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0 || (realpath(dir, abs) && strcmp(abs, "/") == 0)) {
        core_errorf("--out %s: a run needs a folder of its own (a new or empty one, or a run folder of posenc's); "
                    "name it, e.g. --out runs/NAME", dir);
        return RUNDIR_INVALID;
    }
    int ours = 0;
    char foreign[256] = "", impostor[256] = "";
    DIR *dd = opendir(dir);
    for (struct dirent *e; dd && (e = readdir(dd));) {
        const char *nm = e->d_name;
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 || strcmp(nm, ".lock") == 0 || stale_tmp_of_ours(nm))
            continue;
        if (run_file_proven_ours(dir, nm)) ours++;
        else if (run_file_is_ours(nm) && !impostor[0]) snprintf(impostor, sizeof impostor, "%.200s", nm);
        else if (!foreign[0]) snprintf(foreign, sizeof foreign, "%.200s", nm);
    }
    if (dd) closedir(dd);
    if (impostor[0]) { /* training would write over it (or append to it): never a file posenc did not write */
        core_errorf("%s/%s is named like a file of posenc's but was not written by it: posenc would replace it; "
                    "move it away, or choose another --out", dir, impostor);
        return RUNDIR_INVALID;
    }
    if (ours && !s->force) {
        core_errorf("%s already holds a run; continue it with --resume %s, replace it with --force, or choose "
                  "another --out", dir, dir);
        return RUNDIR_INVALID;
    }
    if (!ours && foreign[0]) {
        core_errorf("%s holds files but no posenc run (\"%s\" is not posenc's): posenc trains only into a new or "
                    "empty folder, or a run folder of its own; choose another --out", dir, foreign);
        return RUNDIR_INVALID;
    }
    if (dir_create(dir) != 0 || dir_lock(dir) != 0) return RUNDIR_FAILED;
    dd = s->force ? opendir(dir) : NULL;
    for (struct dirent *e; dd && (e = readdir(dd));) {
        char f[4400];
        snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
        if (run_file_proven_ours(dir, e->d_name)) unlink(f);
    }
    if (dd) closedir(dd);
    return RUNDIR_OK;
}

int task_open_for_run(RunConfig *cfg) {
    return task_open(task_find(cfg->task.name), &cfg->task, cfg->eval.lengths, cfg->eval.num_lengths);
}

int rundir_prepare(const RunDirSetup *s, RunConfig *cfg, char *dir, size_t cap) {
    if (!s->resume && (config_load(cfg, s->config_path, s->sets, s->nsets) != 0 || check_model_config(cfg) != 0))
        return RUNDIR_INVALID;
    /* a training that cannot fit in memory is refused before its folder is touched */
    if (!s->resume && train_memory_check(cfg) != 0) return RUNDIR_FAILED;
    const char *name = s->resume ? s->resume : s->out;
    const int k = name ? snprintf(dir, cap, "%s", name) : snprintf(dir, cap, "runs/%s", cfg->name);
    char path[4096];
    if (k < 0 || (size_t)k >= cap || path_join(path, sizeof path, dir, "config.json") != 0) {
        core_errorf("%s: path too long", name ? name : cfg->name);
        return RUNDIR_INVALID;
    }
    /* a task over a file: read and check it before anything is written (a new run records its hash) */
    if (!s->resume && task_open_for_run(cfg) != 0) return RUNDIR_INVALID;
    int rc = s->resume ? prepare_resume(s, cfg, dir) : prepare_new(s, dir);
    if (rc != RUNDIR_OK) return rc;
    if (s->resume && task_open_for_run(cfg) != 0) return RUNDIR_INVALID;
    dir_remove_stale_tmp(dir, run_file_is_ours); /* left by a process killed while writing */
    /* the resolved config (with any train.* overrides of a resume) */
    char *json = config_to_json(cfg);
    rc = file_write_atomic(path, json, strlen(json));
    free(json);
    return rc != 0 ? RUNDIR_FAILED : RUNDIR_OK;
}

/* Every parameter of m (read from path) is finite: NaN or infinite weights
 * give no result anywhere (eval, predict, attention, report, show). */
static int check_finite(const char *path, const GPT *m) {
    const int count = checkpoint_tensor_table(m, NULL, m->params_memory, NULL, 0);
    if (count < 0) return -1;
    CheckpointTensor *t = core_calloc((size_t)count, sizeof *t);
    const int n = checkpoint_tensor_table(m, NULL, m->params_memory, t, count);
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < t[k].size; i++)
            if (!isfinite(t[k].data[i])) {
                core_errorf("%s: %s[%zu] is %s: the checkpoint holds non-finite weights, so the model computes "
                                   "no numbers (retrain, or resume from an earlier copy)",
                                   path, t[k].name, i, isnan(t[k].data[i]) ? "NaN" : "infinite");
                free(t);
                return -1;
            }
    free(t);
    return n < 0 ? -1 : 0;
}

void rundir_table_error(const char *dir, const char *pe, int need, int P) {
    core_errorf("%s: %d positions needed, but the %s position table has model.max_positions = %d rows: a position "
                "past them has no row at all (and rows past the longest training input exist but were never "
                "trained); use at most %d positions, or retrain with --set model.max_positions=%d or more",
                dir, need, pe, P, P, need);
}

int rundir_load(const char *dir, int min_P, RunConfig *cfg, GPT *m, long *step) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "model.safetensors") != 0) return -1;
    int has = path_probe(path, "the checkpoint"); /* permission or link errors are reported as such */
    if (has < 0) return -1;
    if (!has)
        return core_errorf("%s: no checkpoint (model.safetensors) in this directory; is it a posenc run "
                         "directory, and has its training written a checkpoint?", dir);
    char *json = NULL;
    long s = 0;
    if (checkpoint_read_meta(path, &json, &s) != 0) return -1;
    int rc = config_from_string(cfg, json, path, NULL, 0);
    free(json);
    if (rc != 0) return -1;
    /* OpenBLAS's buffers and the model must have room: OpenBLAS retries a buffer it cannot get forever */
    if (!mem_headroom(MEM_BLAS_BUFFER_BYTES * (par_threads() + 1) + (double)((size_t)64 << 20)))
        return core_errorf("%s: not enough memory to load the model: OpenBLAS's work buffers alone need %.0f MiB of "
                           "address space and ulimit -v leaves less; raise ulimit -v", dir,
                           MEM_BLAS_BUFFER_BYTES * (par_threads() + 1) / 1048576.0);
    GPTConfig mc = cfg->model;
    if (min_P > mc.P) {
        if (pe_has(mc.pe, PE_TRAINED_POSITIONS)) {
            rundir_table_error(dir, mc.pe, min_P, mc.P);
            return RUNDIR_INVALID;
        }
        mc.P = min_P; /* tables are recomputed; no parameters depend on P */
    }
    if (gpt_build(m, &mc) != 0) return -1;
    if (checkpoint_load(path, m) != 0 || check_finite(path, m) != 0) {
        gpt_free(m);
        return -1;
    }
    cfg->model = mc;
    if (step) *step = s;
    return 0;
}

int rundir_open(const char *dir, int min_P, RunConfig *cfg, GPT *m, long *step) {
    RunInfo *ri = core_calloc(1, sizeof *ri);
    const int st = run_inspect(dir, ri);
    free(ri);
    if (st == RUN_IO) return RUNDIR_FAILED;
    if (st != RUN_OK) return RUNDIR_INVALID; /* not a run, or files that disagree: core_error() says which */
    return rundir_load(dir, min_P, cfg, m, step);
}

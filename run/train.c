/*
 * train.c — the training loop (see train.h).
 */
#include "run/train.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "model/adamw.h"
#include "run/checkpoint.h"
#include "run/provenance.h"
#include "run/score.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

long train_checkpoint_step(const char *run_dir) {
    char path[4096];
    if (path_join(path, sizeof path, run_dir, "model.safetensors") != 0 || path_probe(path, "the checkpoint") != 1)
        return -1;
    char *cfg = NULL;
    long step = -1;
    if (checkpoint_read_meta(path, &cfg, &step) != 0) return -1;
    free(cfg);
    return step;
}

char *metrics_keep_until(const char *text, long step, size_t *len_out, double *elapsed) {
    *elapsed = 0.0;
    char *copy = core_strdup(text);
    size_t cap = strlen(text) + 1, len = 0;
    char *kept = core_calloc(cap, 1);
    for (char *line = copy, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        else break; /* a torn last line (no newline) is dropped */
        cJSON *j = cJSON_Parse(line);
        const cJSON *s = j ? cJSON_GetObjectItemCaseSensitive(j, "step") : NULL;
        if (cJSON_IsNumber(s) && s->valuedouble <= (double)step) { /* no cast of an untrusted double */
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "elapsed");
            if (cJSON_IsNumber(e) && isfinite(e->valuedouble)) *elapsed = e->valuedouble;
            size_t n = strlen(line);
            memcpy(kept + len, line, n);
            kept[len + n] = '\n';
            len += n + 1;
        }
        cJSON_Delete(j);
    }
    kept[len] = '\0';
    free(copy);
    *len_out = len;
    return kept;
}

/* Keep only the metrics lines of steps <= step (those written before the
 * checkpoint being resumed); returns the elapsed time of the last kept line. */
static int metrics_truncate(const char *path, long step, double *elapsed) {
    *elapsed = 0.0;
    int has = path_probe(path, "the training log");
    if (has <= 0) return has;
    char *text = file_read_all(path, NULL);
    if (!text) return -1;
    size_t len = 0;
    char *kept = metrics_keep_until(text, step, &len, elapsed);
    free(text);
    if (!kept) return core_errorf("%s: out of memory", path);
    int rc = file_write_atomic(path, kept, len);
    free(kept);
    return rc;
}

static int log_json(const char *path, cJSON *obj) {
    char *s = cJSON_PrintUnformatted(obj);
    int rc = file_append_line(path, s);
    free(s);
    cJSON_Delete(obj);
    return rc;
}

/* A checkpoint is a pair of files that must agree on the step: the model
 * (model.safetensors, parameters) and the optimizer state
 * (optim.safetensors, moments and data RNG). Each file is replaced
 * atomically, but two renames cannot be one, so a kill -9 between them must
 * leave a pair that still agrees. The order:
 *
 *   1. write optim.next.safetensors  (step k+N; optim.safetensors still at k)
 *   2. write model.safetensors       (the step of this file is the checkpoint)
 *   3. rename optim.next.safetensors over optim.safetensors
 *
 * Killed before 2: model and optim.safetensors are both at k. Killed between
 * 2 and 3: the model is at k+N and optim.next.safetensors holds step k+N;
 * resuming (load_checkpoint) takes it and finishes step 3. */
static int save_checkpoint(const char *dir, const GPT *m, const AdamW *opt, const char *cfg_json, long step,
                           uint64_t rng_state) {
    char next[4096], optim[4096], model[4096];
    if (path_join(next, sizeof next, dir, "optim.next.safetensors") != 0 ||
        path_join(optim, sizeof optim, dir, "optim.safetensors") != 0 ||
        path_join(model, sizeof model, dir, "model.safetensors") != 0)
        return -1;
    if (optim_save(next, opt, m, step, rng_state) != 0) return -1;
    fault_point("ckpt.optim");
    if (checkpoint_save(model, m, cfg_json, step) != 0) return -1;
    fault_point("ckpt.model");
    return file_rename_durable(next, optim);
}

/* Load the checkpoint pair (see save_checkpoint) into m and opt. */
static int load_checkpoint(const char *dir, GPT *m, AdamW *opt, long *step, uint64_t *rng_state) {
    char model[4096], optim[4096], next[4096];
    if (path_join(model, sizeof model, dir, "model.safetensors") != 0 ||
        path_join(optim, sizeof optim, dir, "optim.safetensors") != 0 ||
        path_join(next, sizeof next, dir, "optim.next.safetensors") != 0)
        return -1;
    char *saved_cfg = NULL;
    long mstep = -1, ostep = -1;
    if (checkpoint_read_meta(model, &saved_cfg, &mstep) != 0) return -1;
    free(saved_cfg);
    if (checkpoint_load(model, m) != 0) return -1;
    /* killed between writing the model and renaming its optimizer state into place? */
    if (path_exists(next) && optim_load(next, opt, m, &ostep, rng_state) == 0 && ostep == mstep) {
        if (file_rename_durable(next, optim) != 0) return -1;
        *step = mstep;
        return 0;
    }
    if (optim_load(optim, opt, m, &ostep, rng_state) != 0) return -1;
    if (ostep != mstep)
        return core_errorf("%s: optimizer state is at step %ld but the model checkpoint at step %ld; "
                         "the run cannot be resumed exactly", optim, ostep, mstep);
    *step = mstep;
    return 0;
}

static void fmt_duration(char *buf, size_t cap, double s) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

/* The periodic evaluation's lengths (the longest training length, and the
 * longest evaluation length if the model can take it) and its batch shape. */
static int periodic_shape(const RunConfig *cfg, const TaskOps *task, int eval_ns[2], int *eval_B, int *eval_T) {
    eval_ns[0] = eval_ns[1] = cfg->task.max_len;
    for (int i = 0; i < cfg->eval.num_lengths; i++)
        if (cfg->eval.lengths[i] > eval_ns[1]) eval_ns[1] = cfg->eval.lengths[i];
    int n_periodic = eval_ns[1] > eval_ns[0] ? 2 : 1;
    /* the same examples, in the same batches, as `posenc eval` at these lengths: the same numbers */
    eval_shape(task, &cfg->task, eval_ns[n_periodic - 1], cfg->eval.samples, cfg->eval.batch_size, eval_B, eval_T);
    if (task_input_len(task, &cfg->task, eval_ns[n_periodic - 1]) > cfg->model.P) {
        /* a position-table encoding cannot be evaluated past its table: evaluate in-distribution only */
        eval_shape(task, &cfg->task, eval_ns[0], cfg->eval.samples, cfg->eval.batch_size, eval_B, eval_T);
        eval_ns[1] = eval_ns[0];
    }
    return n_periodic;
}

int train_memory_check(const RunConfig *cfg) {
    const TaskOps *task = task_find(cfg->task.name);
    int eval_ns[2], eval_B, eval_T;
    periodic_shape(cfg, task, eval_ns, &eval_B, &eval_T);
    const int train_T = task_max_train_input_len(task, &cfg->task);
    double param_bytes = 0;
    double need = gpt_estimate_bytes(&cfg->model, cfg->train.batch_size, train_T, eval_infer_B(eval_B, eval_T), eval_T,
                                     &param_bytes);
    if (need <= 0) return core_errorf("training: the memory estimate overflows (a model or batch far too large)");
    return mem_check("training", need, param_bytes, cfg->train.batch_size, train_T);
}

/* The run's task, found and (a task over a file) opened and checked against
 * the recorded hash: NULL with an error set. */
static const TaskOps *train_task(const RunConfig *cfg) {
    const TaskOps *task = task_find(cfg->task.name);
    if (!task) {
        char names[TASK_NAMES_MAX];
        task_names(names, sizeof names);
        core_errorf("task.name: unknown task \"%s\" (valid: %s)", cfg->task.name, names);
        return NULL;
    }
    /* opened usually by rundir_prepare already */
    TaskConfig tc = cfg->task;
    if (task_open(task, &tc, NULL, 0) != 0) return NULL;
    if (memcmp(&tc, &cfg->task, sizeof tc) != 0) {
        core_errorf("task %s: the config does not record its file's hash (task.file_hash); a run's "
                    "config gets it when the run is prepared (rundir_prepare)", cfg->task.name);
        return NULL;
    }
    return task;
}

/* The periodic evaluation during training: the longest training length and
 * the longest evaluation length (n of them), the same examples in the same
 * batches as `posenc eval` at these lengths (the same numbers), in batches of
 * B x T at most. */
typedef struct {
    int ns[2], n, samples, B, T;
} PeriodicEval;

static PeriodicEval periodic_eval(const RunConfig *cfg, const TaskOps *task) {
    PeriodicEval pe = {{0, 0}, 0, cfg->eval.samples, 0, 0};
    pe.n = periodic_shape(cfg, task, pe.ns, &pe.B, &pe.T);
    return pe;
}

/* The periodic evaluation after done_steps: a line of metrics.jsonl per length. */
static int periodic_evaluate(GPT *m, const RunConfig *cfg, const TaskOps *task, const PeriodicEval *pe,
                             Batch *eval_batch, long done_steps, const char *metrics, const TrainOptions *o) {
    for (int k = 0; k < pe->n; k++) {
        EvalResult r;
        if (evaluate_length(m, task, &cfg->task, pe->ns[k], pe->samples, cfg->eval.batch_size, cfg->eval.seed, 0,
                            eval_batch, &r, NULL) != 0)
            return -1;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", "eval");
        cJSON_AddNumberToObject(j, "step", (double)done_steps);
        cJSON_AddNumberToObject(j, "n", r.n);
        cJSON_AddNumberToObject(j, "token_acc", r.token_acc);
        cJSON_AddNumberToObject(j, "exact_match", r.exact_match);
        cJSON_AddNumberToObject(j, "loss", r.loss);
        if (log_json(metrics, j) != 0) return -1;
        if (o->log)
            fprintf(o->log, "%seval step %ld  n=%d  token_acc %.4f  exact_match %.4f  loss %.4f\n",
                    o->live ? "\r\033[K" : "", done_steps, r.n, r.token_acc, r.exact_match, r.loss);
    }
    return 0;
}

/* The error of a non-finite loss or gradient norm at step done_steps: how to
 * resume from the last good checkpoint, or start again without one. */
static int nonfinite_error(const RunConfig *cfg, const TrainOptions *o, long done_steps, float loss, float norm) {
    const long ck = train_checkpoint_step(o->run_dir);
    const char *what = !isfinite(loss) ? "the loss" : "the gradient norm",
               *kind = isnan(!isfinite(loss) ? loss : norm) ? "NaN" : "infinite";
    if (ck >= 0)
        return core_errorf("step %ld: %s is %s (loss %g, gradient norm %g); training stopped. The last good "
                           "checkpoint is kept (step %ld). Resume with a lower learning rate: posenc train --resume %s "
                           "--set train.lr=%g",
                           done_steps, what, kind, loss, norm, ck, o->run_dir, cfg->train.lr / 10);
    /* nothing to resume from: start again */
    return core_errorf("step %ld: %s is %s (loss %g, gradient norm %g); training stopped before its first "
                       "checkpoint, so there is nothing to resume. Start again with a lower learning rate: "
                       "posenc train %s/config.json --out %s --force --set train.lr=%g",
                       done_steps, what, kind, loss, norm, o->run_dir, o->run_dir, cfg->train.lr / 10);
}

/* Tokens since the last log line, for its rates. */
typedef struct {
    double t;
    long tokens, padded;
} LogWindow;

/* The log line of step done_steps: metrics.jsonl, and the log (a line, or the live status line's ETA). */
static int log_step(const TrainOptions *o, const TrainConfig *tr, const char *metrics, LogWindow *w, long done_steps,
                    float loss, float lr, float norm, double t, double elapsed, double rate) {
    double dt = t - w->t > 0 ? t - w->t : 1e-9;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "train");
    cJSON_AddNumberToObject(j, "step", (double)done_steps);
    cJSON_AddNumberToObject(j, "loss", loss);
    cJSON_AddNumberToObject(j, "lr", lr);
    cJSON_AddNumberToObject(j, "grad_norm", norm);
    cJSON_AddNumberToObject(j, "tokens_per_s", round(w->tokens / dt));
    cJSON_AddNumberToObject(j, "padded_tokens_per_s", round(w->padded / dt));
    cJSON_AddNumberToObject(j, "elapsed", round(elapsed * 1000) / 1000);
    if (log_json(metrics, j) != 0) return -1;
    if (o->log && !o->live) {
        char eta[32];
        fmt_duration(eta, sizeof eta, rate > 0 ? (tr->steps - done_steps) / rate : 0);
        fprintf(o->log, "step %ld/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %s\n", done_steps, tr->steps,
                loss, lr, norm, w->tokens / dt, eta);
    }
    *w = (LogWindow){t, 0, 0};
    return 0;
}

/* One optimizer step (step = the steps done before it): a batch from rng
 * (its position ids redrawn for random positions), forward, backward, the
 * gradient norm, then clipping and AdamW at the scheduled learning rate. 0;
 * 1 if the loss or the gradient norm is not finite (the parameters are left
 * as they were); -1 on error. */
static int train_step(GPT *m, AdamW *opt, Batch *batch, const RunConfig *cfg, const TaskOps *task, Rng *rng,
                      long step, float *loss, float *norm, float *lr) {
    const TrainConfig *tr = &cfg->train;
    if (batch_sample_train(batch, task, &cfg->task, tr->batch_size, rng) != 0) return -1;
    if (tr->random_positions) {
        /* a generator per step, so resuming needs no extra state and the batch stream is untouched */
        Rng prng;
        rng_seed(&prng, rng_derive(rng_derive(cfg->seed, TRAIN_POS_STREAM), (uint64_t)step));
        if (batch_random_positions(batch, cfg->model.P, &prng) != 0) return -1;
    }
    *loss = gpt_forward(m, batch->inputs, batch->targets, batch->pos, batch->B, batch->T);
    gpt_zero_grad(m);
    gpt_backward(m, batch->inputs, batch->targets, batch->pos);
    *norm = grad_global_norm(m);
    *lr = 0.0f;
    if (!isfinite(*loss) || !isfinite(*norm)) return 1;
    grad_clip(m, *norm, tr->grad_clip);
    *lr = lr_schedule((int)step, tr->steps, tr->warmup, tr->lr);
    adamw_step(opt, m, *lr);
    return 0;
}

/* The live status line (a terminal): the step, the loss, the rate and the ETA. */
static void draw_status(FILE *log, long done_steps, int steps, float loss, double rate) {
    char eta[32];
    fmt_duration(eta, sizeof eta, rate > 0 ? (steps - done_steps) / rate : 0);
    fprintf(log, "\r\033[Kstep %ld/%d  loss %.4f  %.1f steps/s  ETA %s", done_steps, steps, loss, rate, eta);
    fflush(log);
}

int train_run(const RunConfig *cfg, const TrainOptions *o) {
    const TrainConfig *tr = &cfg->train;
    const TaskOps *task = train_task(cfg);
    if (!task) return TRAIN_ERROR;
    /* train.threads threads in all: posenc's pool, with OpenBLAS on one thread */
    par_set_threads(tr->threads);

    char metrics[4096];
    if (path_join(metrics, sizeof metrics, o->run_dir, "metrics.jsonl") != 0) return TRAIN_ERROR;
    char *cfg_json = config_to_json(cfg);

    const PeriodicEval pe = periodic_eval(cfg, task);
    const int eval_B = pe.B, eval_T = pe.T;
    const int train_T = task_max_train_input_len(task, &cfg->task);

    /* refuse before allocating what cannot fit (rundir_prepare refused a new run before writing) */
    if (train_memory_check(cfg) != 0) {
        free(cfg_json);
        return TRAIN_ERROR;
    }

    GPT m;
    AdamW opt = {0};
    Batch train_batch = {0}, eval_batch = {0};
    int rc = TRAIN_ERROR;
    ProvSession prov; /* recorded once begun (below), completed at done: */
    int begun = 0;
    long saved = 0; /* the last step checkpointed */
    if (gpt_build(&m, &cfg->model) != 0) {
        free(cfg_json);
        return TRAIN_ERROR;
    }
    gpt_init_params(&m, cfg->seed);
    adamw_init(&opt, m.num_params, tr->weight_decay);
    gpt_reserve(&m, tr->batch_size, train_T, 1);
    for (int k = 0; k < pe.n; k++) { /* the inference path for each periodic evaluation's shape */
        int B, T;
        eval_shape(task, &cfg->task, pe.ns[k], pe.samples, cfg->eval.batch_size, &B, &T);
        gpt_reserve_infer(&m, eval_infer_B(B, T), T);
    }
    if (batch_alloc(&train_batch, tr->batch_size, train_T) != 0 || batch_alloc(&eval_batch, eval_B, eval_T) != 0)
        goto done;

    Rng rng;
    rng_seed(&rng, rng_derive(cfg->seed, 1));
    long start = 0;
    double elapsed0 = 0.0;
    if (o->resume) {
        uint64_t rng_state = 0;
        if (load_checkpoint(o->run_dir, &m, &opt, &start, &rng_state) != 0) goto done;
        rng.state = rng_state;
        if (metrics_truncate(metrics, start, &elapsed0) != 0) goto done;
        if (o->log) fprintf(o->log, "resuming %s at step %ld of %d\n", o->run_dir, start, tr->steps);
    }

    /* what produces this stretch of training: recorded in provenance.json now, completed at the end */
    if (prov_begin(&prov, o->run_dir, o->resume ? "train --resume" : "train", par_threads(), start) != 0) goto done;
    begun = 1;
    saved = start;

    const double t0 = now_s();
    double last_draw = 0.0;
    LogWindow window = {t0, 0, 0};
    for (long step = start; step < tr->steps; step++) {
        float loss, norm, lr;
        const int stepped = train_step(&m, &opt, &train_batch, cfg, task, &rng, step, &loss, &norm, &lr);
        if (stepped < 0) goto done;
        const long done_steps = step + 1;
        if (stepped > 0) {
            nonfinite_error(cfg, o, done_steps, loss, norm);
            rc = TRAIN_NONFINITE;
            goto done;
        }
        const int B = train_batch.B, T = train_batch.T;
        for (int b = 0; b < B; b++) window.tokens += train_batch.lens[b];
        window.padded += (long)B * T;
        const double t = now_s();
        const double elapsed = elapsed0 + (t - t0);
        const double rate = (t - t0) > 0 ? (double)(done_steps - start) / (t - t0) : 0.0;

        if ((done_steps % tr->log_every == 0 || done_steps == 1 || done_steps == tr->steps) &&
            log_step(o, tr, metrics, &window, done_steps, loss, lr, norm, t, elapsed, rate) != 0)
            goto done;
        if (o->log && o->live && (t - last_draw > 0.1 || done_steps == tr->steps)) {
            draw_status(o->log, done_steps, tr->steps, loss, rate);
            last_draw = t;
        }
        if (((tr->eval_every && done_steps % tr->eval_every == 0) || done_steps == tr->steps) &&
            periodic_evaluate(&m, cfg, task, &pe, &eval_batch, done_steps, metrics, o) != 0)
            goto done;
        const int stopping = (o->stop && *o->stop) || (o->stop_after > 0 && done_steps >= o->stop_after);
        if ((tr->checkpoint_every && done_steps % tr->checkpoint_every == 0) || done_steps == tr->steps ||
            stopping) {
            if (save_checkpoint(o->run_dir, &m, &opt, cfg_json, done_steps, rng.state) != 0) goto done;
            saved = done_steps;
        }
        if (stopping && done_steps < tr->steps) {
            if (o->log)
                fprintf(o->log, "%sinterrupted: checkpoint saved at step %ld; continue with: posenc train --resume %s\n",
                        o->live ? "\r\033[K" : "", done_steps, o->run_dir);
            rc = TRAIN_INTERRUPTED;
            goto done;
        }
    }
    if (o->log && o->live) fprintf(o->log, "\n");
    rc = TRAIN_OK;
done:
    if (begun && prov_end(&prov, o->run_dir, saved) != 0 && rc == TRAIN_OK) rc = TRAIN_ERROR;
    batch_free(&train_batch);
    batch_free(&eval_batch);
    adamw_free(&opt);
    gpt_free(&m);
    free(cfg_json);
    return rc;
}

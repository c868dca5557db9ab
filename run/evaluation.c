/*
 * evaluation.c — one run's evaluation (evaluation.h).
 */
#include "run/evaluation.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/parallel.h"
#include "run/inspect.h"
#include "run/provenance.h"
#include "run/rundir.h"
#include "run/score.h"

/* ---- one run's evaluation --------------------------------------------------- */

/* Whether two length lists hold the same lengths (as sets: the order does not change a result). */
static int same_lengths(const int *a, int na, const int *b, int nb) {
    if (na != nb) return 0;
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int k = 0; k < nb && !found; k++) found = a[i] == b[k];
        if (!found) return 0;
    }
    return 1;
}

/* "4,8,16" ("..." at the end if it does not fit in cap, at least 24) */
static void lengths_text(const int *v, int n, char *buf, size_t cap) {
    size_t len = 0;
    int i = 0;
    buf[0] = '\0';
    for (; i < n && len + 16 < cap; i++) len += snprintf(buf + len, cap - len, "%s%d", i ? "," : "", v[i]);
    if (i < n) snprintf(buf + len, cap - len, "...");
}

/* printf to out, if there is one */
static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *out, const char *fmt, ...) {
    if (!out) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

/* What every variant of one evaluation shares. */
typedef struct {
    FILE *out;                 /* the tables (NULL: none, when the variants are printed side by side) */
    FILE *notes;               /* what was written (the CLI: stdout) */
    const char *run;
    const RunConfig *cfg;
    long step;                 /* the checkpoint's */
    GPT *m;
    const TaskOps *task;
    const int *lengths;
    int nl, samples, batch_size;
    int trained_P;             /* the trained model.max_positions: random ids come from [0, trained_P) */
    double s_used;             /* RoPE scaling factor, derived or given */
    int s_derived, train_T;    /* train_T: the original context, the longest training input */
    Batch *batch;
    EvalResult *res;           /* (nl) */
    const double *floor;       /* (nl) the LM task's loss floor, or NULL */
    double rate;               /* the LM task's entropy rate */
    const char *adhoc_common;  /* why every variant of this evaluation is ad hoc ("" if none is) */
    const char *adhoc_scale;   /* why every RoPE-scaled variant is ("" if none is) */
    int scale_past_train;      /* a RoPE scaling only at lengths whose input is longer than train_T */
} EvalContext;

/* Why variant (pm, sc) of this evaluation is not the run's canonical one
 * (the config's eval.* describe it: lengths, samples, variants, rope_scale),
 * into why (cap bytes); "" if it is. */
static void adhoc_reason(const EvalContext *x, int pm, int sc, char *why, size_t cap) {
    const EvalConfig *ec = &x->cfg->eval;
    if (x->adhoc_common[0] && sc != PE_ROPE_SCALING_NONE && x->adhoc_scale[0])
        snprintf(why, cap, "%s; %s", x->adhoc_common, x->adhoc_scale);
    else if (x->adhoc_common[0])
        snprintf(why, cap, "%s", x->adhoc_common);
    else if (sc != PE_ROPE_SCALING_NONE && x->adhoc_scale[0])
        snprintf(why, cap, "%s", x->adhoc_scale);
    else if (!(ec->positions & (1u << pm)) || !(ec->rope_scaling & (1u << sc)))
        snprintf(why, cap, "the variant is not one of the config's (eval.positions, eval.rope_scaling)");
    else
        why[0] = '\0';
}

/* Write RUN/<stem>.json and RUN/<stem>.csv of variant (pm, sc) from x->res
 * and pa: the one writer of the evaluation files. */
static int eval_file_write(const EvalContext *x, int pm, int sc, const PosAcc *pa, const char *adhoc) {
    FILE *out = x->notes;
    const char *run = x->run;
    const RunConfig *cfg = x->cfg;
    const EvalResult *res = x->res;
    const double *floor = x->floor;
    const int nl = x->nl;
    char vname[64], stem[80], label[128];
    eval_variant_name(pm, sc, vname, sizeof vname);
    eval_variant_stem(pm, sc, stem, sizeof stem);
    eval_variant_label(cfg->model.pe, cfg->train.random_positions, pm, sc, label, sizeof label);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "run", cfg->name); /* the name, not the path: the same bytes wherever the run folder is */
    cJSON_AddNumberToObject(j, "step", (double)x->step);
    cJSON_AddStringToObject(j, "task", cfg->task.name);
    cJSON_AddStringToObject(j, "pe", cfg->model.pe);
    cJSON_AddNumberToObject(j, "train_min_len", cfg->task.min_len);
    cJSON_AddNumberToObject(j, "train_max_len", cfg->task.max_len);
    cJSON_AddNumberToObject(j, "eval_seed", (double)cfg->eval.seed);
    cJSON_AddNumberToObject(j, "samples", x->samples);
    if (adhoc[0]) {
        cJSON_AddBoolToObject(j, "adhoc", 1);
        cJSON_AddStringToObject(j, "adhoc_reason", adhoc);
    }
    if (floor) cJSON_AddNumberToObject(j, "entropy_rate", x->rate);
    if (cfg->train.random_positions || pm != EVAL_POS_PLAIN || sc != PE_ROPE_SCALING_NONE) {
        /* only beside the defaults, so that a default evaluation's eval.json is as before */
        cJSON_AddStringToObject(j, "variant", vname[0] ? vname : "default");
        cJSON_AddStringToObject(j, "label", label);
        cJSON_AddBoolToObject(j, "train_random_positions", cfg->train.random_positions);
        cJSON_AddStringToObject(j, "positions", eval_positions_name(pm));
        if (pm == EVAL_POS_RANDOM) cJSON_AddNumberToObject(j, "positions_range", x->trained_P);
        cJSON_AddStringToObject(j, "rope_scaling", pe_rope_scaling_name(sc));
        if (sc != PE_ROPE_SCALING_NONE) {
            /* only with the option, so that a default scaled evaluation's file is as before */
            if (x->scale_past_train)
                cJSON_AddStringToObject(j, "rope_scaling_applies", "past the original context only");
            cJSON_AddNumberToObject(j, "rope_scale", x->s_used);
            cJSON_AddBoolToObject(j, "rope_scale_derived", x->s_derived);
            cJSON_AddNumberToObject(j, "rope_original_context", x->train_T);
        }
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "results");
    size_t cap = 256 + (size_t)nl * 128, len = 0;
    char *csv = core_calloc(cap, 1);
    len += snprintf(csv, cap, "n,examples,tokens,token_acc,exact_match,loss,in_training_range%s\n",
                    floor ? ",loss_floor" : "");
    for (int i = 0; i < nl; i++) {
        int in_train = res[i].n >= cfg->task.min_len && res[i].n <= cfg->task.max_len;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "n", res[i].n);
        cJSON_AddNumberToObject(r, "examples", res[i].examples);
        cJSON_AddNumberToObject(r, "tokens", (double)res[i].tokens);
        cJSON_AddNumberToObject(r, "token_acc", res[i].token_acc);
        cJSON_AddNumberToObject(r, "exact_match", res[i].exact_match);
        cJSON_AddNumberToObject(r, "loss", res[i].loss);
        cJSON_AddBoolToObject(r, "in_training_range", in_train);
        if (floor) cJSON_AddNumberToObject(r, "loss_floor", floor[i]);
        cJSON_AddItemToArray(arr, r);
        len += snprintf(csv + len, cap - len, "%d,%d,%ld,%.6f,%.6f,%.6f,%d", res[i].n, res[i].examples,
                        res[i].tokens, res[i].token_acc, res[i].exact_match, res[i].loss, in_train);
        if (floor) len += snprintf(csv + len, cap - len, ",%.6f", floor[i]);
        len += snprintf(csv + len, cap - len, "\n");
    }
    cJSON *bp = cJSON_AddArrayToObject(j, "by_position");
    for (int p = 0; p < pa->cap; p++) {
        if (!pa->total[p]) continue;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "pos", p);
        cJSON_AddNumberToObject(r, "correct", (double)pa->correct[p]);
        cJSON_AddNumberToObject(r, "total", (double)pa->total[p]);
        cJSON_AddNumberToObject(r, "acc", (double)pa->correct[p] / pa->total[p]);
        cJSON_AddNumberToObject(r, "loss", pa->loss_sum[p] / pa->total[p]);
        cJSON_AddItemToArray(bp, r);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    char path[4096], file[128];
    int rc = 0;
    char fstem[96]; /* the file's stem: an ad-hoc evaluation's beside the run's own */
    snprintf(fstem, sizeof fstem, "%s%s", stem, adhoc[0] ? ".adhoc" : "");
    snprintf(file, sizeof file, "%s.json", fstem);
    if (path_join(path, sizeof path, run, file) != 0 || file_write_atomic(path, text, strlen(text)) != 0)
        rc = -1;
    snprintf(file, sizeof file, "%s.csv", fstem);
    if (rc == 0 && (path_join(path, sizeof path, run, file) != 0 || file_write_atomic(path, csv, len) != 0)) rc = -1;
    if (rc == 0) say(out, "\nwrote %s/%s.json and %s/%s.csv\n", run, fstem, run, fstem);
    if (rc == 0 && adhoc[0])
        say(out, "an ad-hoc evaluation (%s): written beside the run's own evaluation (%s.json), never counted as "
                 "the run's result\n", adhoc, stem);
    free(text);
    free(csv);
    return rc;
}

/* Evaluate one variant (positions pm, RoPE scaling sc, the model already
 * rescaled) at every length into x->res and pa; print the table, then write
 * RUN/<stem>.json/.csv (eval_file_write). */
static int eval_variant(const EvalContext *x, int pm, int sc, PosAcc *pa, int blank_line) {
    FILE *out = x->out;
    const char *run = x->run;
    const RunConfig *cfg = x->cfg;
    const TaskOps *task = x->task;
    const int *lengths = x->lengths, nl = x->nl, random_P = pm == EVAL_POS_RANDOM ? x->trained_P : 0;
    const double *floor = x->floor;
    EvalResult *res = x->res;
    const int lm = task->frame == TASK_FRAME_LM;
    char vname[64], stem[80], label[128];
    eval_variant_name(pm, sc, vname, sizeof vname);
    eval_variant_stem(pm, sc, stem, sizeof stem);
    eval_variant_label(cfg->model.pe, cfg->train.random_positions, pm, sc, label, sizeof label);
    if (blank_line) say(out, "\n");
    say(out, "run %s: task %s, pe %s, trained on n = %d..%d%s, step %ld\n", run, cfg->task.name, cfg->model.pe,
           cfg->task.min_len, cfg->task.max_len, cfg->train.random_positions ? " with random positions" : "", x->step);
    if (pm == EVAL_POS_RANDOM || sc != PE_ROPE_SCALING_NONE) {
        say(out, "variant %s (%s):", vname, label);
        if (pm == EVAL_POS_RANDOM) say(out, " random position ids from [0, %d)", random_P);
        if (sc != PE_ROPE_SCALING_NONE)
            say(out, "%s RoPE %s, s = %.4g%s, original context %d", pm == EVAL_POS_RANDOM ? ";" : "",
                   pe_rope_scaling_name(sc), x->s_used, x->s_derived ? " (derived)" : "", x->train_T);
        say(out, "\n");
    }
    if (lm && !floor) {
        char source[256] = "the data";
        if (task->describe) task->describe(&cfg->task, source, sizeof source);
        say(out, "%s\nloss = mean cross-entropy per token of x1..xn in nats (perplexity = exp(loss))\n", source);
    } else if (lm) {
        char source[256] = "the source";
        if (task->describe) task->describe(&cfg->task, source, sizeof source);
        say(out, "%s: entropy rate %.4f nats/token (uniform: %.4f)\nloss = mean cross-entropy per token of x1..xn; "
                 "floor = its lowest possible value at n\n",
            source, x->rate, log((double)cfg->task.alphabet));
    } else if (task->describe) { /* a task over a file: which file, what it holds */
        char source[512];
        task->describe(&cfg->task, source, sizeof source);
        say(out, "%s\n", source);
    }
    say(out, "%6s  %8s  %9s  %11s  %8s%s\n", "n", "examples", "token_acc", "exact_match", "loss",
           floor ? "     floor" : "");
    for (int i = 0; i < nl; i++) {
        /* scaling past the original context only: lengths within it are evaluated unscaled */
        if (x->scale_past_train && sc != PE_ROPE_SCALING_NONE &&
            gpt_set_rope_scaling(x->m, task_input_len(task, &cfg->task, lengths[i]) > x->train_T ? sc : PE_ROPE_SCALING_NONE,
                                 (float)x->s_used, x->train_T) != 0)
            return -1;
        if (evaluate_length(x->m, task, &cfg->task, lengths[i], x->samples, x->batch_size, cfg->eval.seed, random_P, x->batch,
                            &res[i], pa) != 0)
            return -1;
        int in_train = lengths[i] >= cfg->task.min_len && lengths[i] <= cfg->task.max_len;
        say(out, "%6d  %8d  %9.4f  %11.4f  %8.4f", res[i].n, res[i].examples, res[i].token_acc,
               res[i].exact_match, res[i].loss);
        if (floor) say(out, "  %8.4f", floor[i]);
        say(out, "%s\n", in_train ? "  (training range)" : "");
        if (out) fflush(out);
    }

    say(out, "\naccuracy by %s of the predicted token (over all lengths above):\n",
           random_P ? "position id" : "absolute position");
    int per_line = 0;
    for (int p0 = 0; p0 < pa->cap; p0 += 8) {
        long c = 0, t = 0;
        for (int p = p0; p < p0 + 8 && p < pa->cap; p++) c += pa->correct[p], t += pa->total[p];
        if (!t) continue;
        say(out, "  %3d-%-3d %.3f", p0, p0 + 7, (double)c / t);
        if (++per_line % 6 == 0) say(out, "\n");
    }
    if (per_line % 6) say(out, "\n");
    if (lm) {
        say(out, "\nloss by %s of the predicted token (over all lengths above):\n",
               random_P ? "position id" : "absolute position");
        per_line = 0;
        for (int p0 = 0; p0 < pa->cap; p0 += 8) {
            double l = 0;
            long t = 0;
            for (int p = p0; p < p0 + 8 && p < pa->cap; p++) l += pa->loss_sum[p], t += pa->total[p];
            if (!t) continue;
            say(out, "  %3d-%-3d %.3f", p0, p0 + 7, l / t);
            if (++per_line % 6 == 0) say(out, "\n");
        }
        if (per_line % 6) say(out, "\n");
    }

    /* a non-finite loss (non-finite weights in the checkpoint) is no result: nothing is written */
    for (int i = 0; i < nl; i++)
        if (!isfinite(res[i].loss))
            return core_errorf("%s: the loss at n = %d is %s: the model computes non-finite values (non-finite "
                             "weights in model.safetensors?); %s.json not written",
                             run, res[i].n, isnan(res[i].loss) ? "NaN" : "infinite", stem);

    char why[512];
    adhoc_reason(x, pm, sc, why, sizeof why);
    return eval_file_write(x, pm, sc, pa, why);
}

/* The RoPE scalings of one evaluation (positions pm) side by side, after
 * each was evaluated with its tables withheld: one table, n down, per metric a
 * column per scaling; then accuracy (and an LM's loss) by absolute position,
 * a column per scaling. res[v * nl + i], pa[v]: scaling scs[v]. */
static void print_side_by_side(const EvalContext *x, FILE *out, int pm, const int *scs, int nv, const EvalResult *res,
                               const PosAcc *pa) {
    const RunConfig *cfg = x->cfg;
    const int nl = x->nl, lm = x->task->frame == TASK_FRAME_LM, random_P = pm == EVAL_POS_RANDOM ? x->trained_P : 0;
    say(out, "\nrun %s: task %s, pe %s, trained on n = %d..%d%s, step %ld\n", x->run, cfg->task.name, cfg->model.pe,
        cfg->task.min_len, cfg->task.max_len, cfg->train.random_positions ? " with random positions" : "", x->step);
    say(out, "RoPE scalings side by side%s: s = %.4g%s, original context %d (the longest training input); ",
        pm == EVAL_POS_RANDOM ? " (random position ids)" : "", x->s_used, x->s_derived ? " (derived)" : "", x->train_T);
    if (x->scale_past_train)
        say(out, "scaled only at lengths whose input is longer than it (--rope-scale-past-training)\n");
    else
        say(out, "scaled at every length, inside the training range too (--rope-scale-past-training: only past it)\n");
    if (lm) say(out, "loss = mean cross-entropy per token of x1..xn in nats%s\n", x->floor ? "; floor = its lowest possible value at n" : "");
    static const char *const metric[3] = {"token_acc", "exact_match", "loss"};
    const int w = 9, group = nv * (w + 1);
    say(out, "%6s  %8s", "", "");
    for (int k = 0; k < 3; k++) say(out, "  %-*s", k < 2 ? group - 1 : 0, metric[k]);
    say(out, "\n%6s  %8s", "n", "examples");
    for (int k = 0; k < 3; k++) {
        say(out, " ");
        for (int v = 0; v < nv; v++) say(out, " %*s", w, pe_rope_scaling_name(scs[v]));
    }
    if (x->floor) say(out, "  %8s", "floor");
    say(out, "\n");
    for (int i = 0; i < nl; i++) {
        const int n = res[i].n, in_train = n >= cfg->task.min_len && n <= cfg->task.max_len;
        say(out, "%6d  %8d", n, res[i].examples);
        for (int k = 0; k < 3; k++) {
            say(out, " ");
            for (int v = 0; v < nv; v++) {
                const EvalResult *r = &res[v * nl + i];
                say(out, " %*.4f", w, k == 0 ? r->token_acc : k == 1 ? r->exact_match : r->loss);
            }
        }
        if (x->floor) say(out, "  %8.4f", x->floor[i]);
        say(out, "%s\n", in_train ? "  (training range)" : "");
    }
    for (int kind = 0; kind < 1 + lm; kind++) {
        say(out, "\n%s by %s of the predicted token (over all lengths above):\n%9s", kind ? "loss" : "accuracy",
            random_P ? "position id" : "absolute position", "positions");
        for (int v = 0; v < nv; v++) say(out, " %*s", w, pe_rope_scaling_name(scs[v]));
        say(out, "\n");
        for (int p0 = 0; p0 < pa[0].cap; p0 += 8) {
            long t0 = 0;
            for (int p = p0; p < p0 + 8 && p < pa[0].cap; p++) t0 += pa[0].total[p];
            if (!t0) continue;
            say(out, "  %3d-%-3d", p0, p0 + 7);
            for (int v = 0; v < nv; v++) {
                double c = 0;
                long t = 0;
                for (int p = p0; p < p0 + 8 && p < pa[v].cap; p++)
                    c += kind ? pa[v].loss_sum[p] : (double)pa[v].correct[p], t += pa[v].total[p];
                say(out, " %*.3f", w, t ? c / t : 0.0);
            }
            say(out, "\n");
        }
    }
}

/* The run's files agree (run/inspect.h) and it has a checkpoint: 0, with
 * config.json's evaluation config and the run's name; else EVAL_RUN_INVALID or
 * EVAL_RUN_FAILED with an error set. */
static int eval_inspect(const char *run, EvalConfig *run_eval_cfg, char *run_name, size_t name_cap) {
    RunInfo *ri = core_calloc(1, sizeof *ri);
    int st = run_inspect(run, ri);
    const long ck = ri->ckpt_step;
    *run_eval_cfg = ri->cfg.eval;
    snprintf(run_name, name_cap, "%s", ri->cfg.name);
    free(ri);
    if (st == RUN_NOT_A_RUN || st == RUN_INVALID) return EVAL_RUN_INVALID;
    if (st == RUN_IO) return EVAL_RUN_FAILED;
    if (ck < 0) {
        core_errorf("%s: no checkpoint (model.safetensors) in this run directory yet; train it first "
                    "(posenc train --resume %s, or posenc run)", run, run);
        return EVAL_RUN_FAILED;
    }
    return 0;
}

/* Why an evaluation with these options is ad hoc, not the run's canonical one
 * (the config's eval.*): the lengths or the samples (common), the RoPE scale
 * (scale); "" where it is not. */
static void adhoc_reasons(const EvalOptions *opt, const EvalConfig *ev, const int *lengths, int nl, char *common,
                          size_t common_cap, char *scale, size_t scale_cap) {
    if (opt->lengths && !same_lengths(lengths, nl, ev->lengths, ev->num_lengths)) {
        char a[120], b[120];
        lengths_text(lengths, nl, a, sizeof a);
        lengths_text(ev->lengths, ev->num_lengths, b, sizeof b);
        snprintf(common, common_cap, "--lengths %s, the config's eval.lengths are %s", a, b);
    } else if (opt->samples && opt->samples != ev->samples) {
        snprintf(common, common_cap, "--samples %ld, the config's eval.samples is %d", opt->samples, ev->samples);
    }
    if (opt->scale_past_train)
        snprintf(scale, scale_cap, "--rope-scale-past-training: the config's scalings apply at every length");
    else if (opt->rope_scale > 0 && opt->rope_scale != ev->rope_scale)
        snprintf(scale, scale_cap, "--rope-scale %g, the config's eval.rope_scale is %g%s", opt->rope_scale,
                 ev->rope_scale, ev->rope_scale > 0 ? "" : " (derived)");
}

/* Whether the model (mc, encoding pe) can be evaluated at max_len positions:
 * a learned table needs the rows, an encoding whose tables have a range
 * (xPos's scales) must accept the length. 0 with a usage error set if not. */
static int fits_positions(const char *run, const GPTConfig *mc, const char *pe, int max_len) {
    if (max_len <= mc->P) return 1;
    if (pe_has(pe, PE_TRAINED_POSITIONS)) {
        /* a length the learned table has no rows for: a usage error, worded as in predict and attention */
        rundir_table_error(run, pe, max_len, mc->P);
        return 0;
    }
    GPTConfig wide = *mc;
    wide.P = max_len;
    const PEConfig pc = gpt_pe_config(&wide);
    if (pe_check(pe_find(pe), &pc) != 0) {
        core_errorf("%s: %s cannot be evaluated at %d positions: %s (a setting of the trained model); evaluate "
                    "shorter lengths", run, pe, max_len, core_error());
        return 0;
    }
    return 1;
}

/* The memory the inference path needs at these lengths (eval_infer_B
 * sequences per forward pass: linear memory) fits: 0, or an error. */
static int eval_memory_check(const GPTConfig *mc, const TaskOps *task, const TaskConfig *tc, const int *lengths,
                             int nl, int samples, int batch_size, int maxT) {
    long inferN = 1;
    int inferB = 1;
    for (int i = 0; i < nl; i++) {
        int B, T;
        eval_shape(task, tc, lengths[i], samples, batch_size, &B, &T);
        const int g = eval_infer_B(B, T);
        inferN = (long)g * T > inferN ? (long)g * T : inferN;
        inferB = g > inferB ? g : inferB;
    }
    double param_bytes = 0, need = gpt_estimate_bytes(mc, 0, 0, 0, 0, &param_bytes) +
                                   gpt_infer_bytes(mc, inferN, inferB, maxT, par_threads());
    return mem_check("evaluation", need, param_bytes, inferB, maxT);
}

/* The largest batch shape B x T (rows padded: task_eval_T) and the longest
 * real input over the lengths. */
static void eval_extent(const TaskOps *task, const TaskConfig *tc, const int *lengths, int nl, int samples, int batch_size, int *maxB,
                        int *maxT, int *maxLen) {
    *maxB = *maxT = *maxLen = 1;
    for (int i = 0; i < nl; i++) {
        int B, T, len = task_input_len(task, tc, lengths[i]);
        eval_shape(task, tc, lengths[i], samples, batch_size, &B, &T);
        *maxB = B > *maxB ? B : *maxB;
        *maxT = T > *maxT ? T : *maxT;
        *maxLen = len > *maxLen ? len : *maxLen;
    }
}

/* Whether a length is listed twice (the error set). */
static int repeated_length(const int *lengths, int nl) {
    for (int i = 0; i < nl; i++)
        for (int k = 0; k < i; k++)
            if (lengths[i] == lengths[k]) {
                core_errorf("--lengths: n = %d appears twice", lengths[i]);
                return 1;
            }
    return 0;
}

/* Every variant asked for: each position mode of pos_mask, each RoPE scaling
 * scs[0..nv), the model rescaled for each; two scalings or more are printed
 * side by side once all are evaluated (x->res holds nv x nl results). 0 or -1. */
static int eval_variants(const EvalContext *x, GPT *m, FILE *out, unsigned pos_mask, const int *scs, int nv,
                         int pa_cap) {
    const int side = nv > 1, nl = x->nl;
    int rc = 0, variants = 0;
    PosAcc *pa = core_calloc(nv, sizeof *pa);
    for (int pm = 0; pm < EVAL_POS_COUNT && rc == 0; pm++) {
        if (!(pos_mask & (1u << pm))) continue;
        int done = 0;
        for (int v = 0; v < nv && rc == 0; v++) {
            const int sc = scs[v];
            if (pe_has(x->cfg->model.pe, PE_SCALABLE) && gpt_set_rope_scaling(m, sc, (float)x->s_used, x->train_T) != 0) {
                rc = -1;
                break;
            }
            EvalContext xv = *x; /* this variant's results; its tables withheld when side by side */
            xv.res = x->res + (size_t)v * nl;
            if (side) xv.out = NULL;
            posacc_init(&pa[v], pa_cap);
            rc = eval_variant(&xv, pm, sc, &pa[v], !side && variants++ > 0);
            done = v + 1;
        }
        if (rc == 0 && side) print_side_by_side(x, out, pm, scs, nv, x->res, pa);
        for (int v = 0; v < done; v++) posacc_free(&pa[v]);
    }
    free(pa);
    return rc;
}

/* The RoPE scaling options against the run's encoding: 0, or -1 after core_errorf. */
static int scaling_check(const char *run, const char *pe, unsigned scl_mask, const EvalOptions *opt) {
    if ((scl_mask & ~(1u << PE_ROPE_SCALING_NONE)) && !pe_has(pe, PE_SCALABLE)) {
        core_errorf("--rope-scaling: %s was trained with %s; RoPE scaling (pi, ntk, yarn) needs a run trained "
                  "with rope (use --rope-scaling none)", run, pe);
        return -1;
    }
    if (opt->scale_past_train && !(scl_mask & ~(1u << PE_ROPE_SCALING_NONE))) {
        core_errorf("--rope-scale-past-training: no RoPE scaling to apply (add --rope-scaling pi, ntk or yarn)");
        return -1;
    }
    return 0;
}

/* A task over a file: the file the run was trained on, with room for (examples of) the lengths. 0, or -1 after
 * core_errorf. */
static int open_task(const TaskOps *task, TaskConfig *tc, const char *run, const int *lengths, int nl) {
    if (task_open(task, tc, lengths, nl) != 0) {
        core_errorf("%s: %s", run, core_error());
        return -1;
    }
    return 0;
}

int eval_run(const char *run, const EvalOptions *opt) {
    EvalConfig run_eval_cfg; /* config.json's eval.*: what the run's canonical evaluation is */
    char run_name[64];
    /* its files must agree (run/inspect.h) before anything is evaluated */
    const int irc = eval_inspect(run, &run_eval_cfg, run_name, sizeof run_name);
    if (irc != 0) return irc;
    /* a run folder is written by one process at a time (train, eval, a sweep's job): an evaluation
     * never lands in a run that another process retrains meanwhile */
    if (dir_lock(run) != 0) return EVAL_RUN_FAILED;
    if (prov_check(run) != 0) return EVAL_RUN_INVALID; /* this evaluation's record is appended to it */
    /* the config first, to know the lengths, then the model sized for them */
    RunConfig cfg;
    GPT m;
    long step = 0;
    int lr = rundir_load(run, 1, &cfg, &m, &step);
    if (lr != 0) return lr == RUNDIR_INVALID ? EVAL_RUN_INVALID : EVAL_RUN_FAILED;
    /* the evaluation config.json describes (the checkpoint's copy is the one of its training) */
    cfg.eval = run_eval_cfg;
    memcpy(cfg.name, run_name, sizeof cfg.name);
    const int trained_P = cfg.model.P;
    const unsigned pos_mask = opt->positions ? opt->positions : cfg.eval.positions;
    const unsigned scl_mask = opt->scalings ? opt->scalings : cfg.eval.rope_scaling;
    if (scaling_check(run, cfg.model.pe, scl_mask, opt) != 0) {
        gpt_free(&m);
        return EVAL_RUN_INVALID;
    }
    const int *lengths = opt->lengths ? opt->lengths : cfg.eval.lengths;
    const int nl = opt->lengths ? opt->num_lengths : cfg.eval.num_lengths;
    const long samples = opt->samples ? opt->samples : cfg.eval.samples;
    const long batch_size = opt->batch_size ? opt->batch_size : cfg.eval.batch_size;
    if (repeated_length(lengths, nl)) {
        gpt_free(&m);
        return EVAL_RUN_INVALID;
    }
    /* the run's canonical evaluation is the one its config describes; anything else is ad hoc */
    char adhoc_common[300] = "", adhoc_scale[160] = "";
    adhoc_reasons(opt, &cfg.eval, lengths, nl, adhoc_common, sizeof adhoc_common, adhoc_scale, sizeof adhoc_scale);
    const TaskOps *task = task_find(cfg.task.name);
    if (open_task(task, &cfg.task, run, lengths, nl) != 0) {
        gpt_free(&m);
        return EVAL_RUN_INVALID;
    }
    int maxB, maxT, maxLen; /* batch shape (rows padded: task_eval_T), longest real input */
    eval_extent(task, &cfg.task, lengths, nl, (int)samples, (int)batch_size, &maxB, &maxT, &maxLen);
    if ((pos_mask & (1u << EVAL_POS_RANDOM)) && maxLen > trained_P) {
        core_errorf("--positions random: the longest evaluation input (%d tokens) does not fit in the %d positions "
                  "random ids are drawn from (model.max_positions of %s); evaluate shorter lengths or retrain "
                  "with a larger model.max_positions", maxLen, trained_P, run);
        gpt_free(&m);
        return EVAL_RUN_INVALID;
    }
    /* RoPE scaling: the original context is the longest training input; s derived from the lengths */
    const double rope_scale = opt->rope_scale;
    const int train_T = task_max_train_input_len(task, &cfg.task);
    double s_used = rope_scale > 0 ? rope_scale : cfg.eval.rope_scale > 0 ? cfg.eval.rope_scale : (double)maxLen / train_T;
    if (s_used < 1.0) s_used = 1.0;
    const int s_derived = !(rope_scale > 0) && !(cfg.eval.rope_scale > 0);
    if (!fits_positions(run, &m.cfg, cfg.model.pe, maxLen)) {
        gpt_free(&m);
        return EVAL_RUN_INVALID;
    }
    if (maxLen > m.cfg.P) { /* rebuild with room for the longest length */
        gpt_free(&m);
        if ((lr = rundir_load(run, maxLen, &cfg, &m, &step)) != 0)
            return lr == RUNDIR_INVALID ? EVAL_RUN_INVALID : EVAL_RUN_FAILED;
        cfg.eval = run_eval_cfg;
        memcpy(cfg.name, run_name, sizeof cfg.name);
    }
    par_set_threads(opt->threads ? (int)opt->threads : cfg.train.threads);
    if (eval_memory_check(&m.cfg, task, &cfg.task, lengths, nl, (int)samples, (int)batch_size, maxT) != 0) {
        gpt_free(&m);
        return EVAL_RUN_FAILED;
    }
    ProvSession prov;
    if (prov_begin(&prov, run, "eval", par_threads(), -1) != 0) {
        gpt_free(&m);
        return EVAL_RUN_FAILED;
    }
    for (int i = 0; i < nl; i++) {
        int B, T;
        eval_shape(task, &cfg.task, lengths[i], (int)samples, (int)batch_size, &B, &T);
        gpt_reserve_infer(&m, eval_infer_B(B, T), T);
    }
    Batch batch = {0};
    if (batch_alloc(&batch, maxB, maxT) != 0) {
        gpt_free(&m);
        return EVAL_RUN_FAILED;
    }
    const int pa_cap = (maxT > trained_P ? maxT : trained_P) + 1;
    /* two RoPE scalings or more are printed side by side: their results kept until all are evaluated */
    int scs[PE_ROPE_SCALING_COUNT], nv = 0;
    for (int sc = 0; sc < PE_ROPE_SCALING_COUNT; sc++)
        if (scl_mask & (1u << sc)) scs[nv++] = sc;
    EvalResult *res = core_calloc((size_t)nl * nv, sizeof *res);
    double *floor = core_calloc(nl, sizeof *floor), rate = 0.0;
    const int has_floor = task_loss_floor(task, &cfg.task, lengths, nl, floor, &rate);
    const EvalContext x = {
        .out = opt->out, .run = run, .cfg = &cfg, .step = step, .m = &m, .task = task,
        .lengths = lengths, .nl = nl, .samples = (int)samples, .batch_size = (int)batch_size,
        .trained_P = trained_P, .s_used = s_used, .s_derived = s_derived, .train_T = train_T,
        .batch = &batch, .res = res, .floor = has_floor > 0 ? floor : NULL, .rate = rate,
        .adhoc_common = adhoc_common, .adhoc_scale = adhoc_scale, .notes = opt->out,
        .scale_past_train = opt->scale_past_train,
    };
    const int rc = has_floor < 0 ? -1 : eval_variants(&x, &m, opt->out, pos_mask, scs, nv, pa_cap);
    free(res);
    free(floor);
    batch_free(&batch);
    gpt_free(&m);
    const int ended = prov_end(&prov, run, step); /* recorded whatever the outcome */
    return rc != 0 || ended != 0 ? EVAL_RUN_FAILED : EVAL_RUN_OK;
}

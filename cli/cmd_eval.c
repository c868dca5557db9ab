/*
 * cmd_eval.c — `posenc eval RUN`: SPEC §2 metrics per evaluation length,
 * written to RUN/eval.json and RUN/eval.csv and printed as a table, plus
 * accuracy by absolute position.
 */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/parallel.h"
#include "run/eval.h"
#include "run/fsutil.h"
#include "run/provenance.h"
#include "run/rundir.h"
#include "run/runinfo.h"

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: posenc eval RUN [--lengths LIST] [--samples N] [--batch-size N] [--threads N]\n"
            "                      [--positions plain|random[,...]] [--rope-scaling none|pi|ntk|yarn[,...]]\n"
            "                      [--rope-scale S]\n"
            "\n"
            "Evaluate the trained model in run directory RUN at each length n of LIST under\n"
            "teacher forcing: token_acc, exact_match, loss, examples. Writes RUN/eval.json and\n"
            "RUN/eval.csv and prints a table with the training range marked, then accuracy by\n"
            "absolute position. The examples at each n are fixed by the config's eval.seed, so\n"
            "every run of every encoding sees the same ones.\n"
            "\n"
            "Variants: each combination of --positions and --rope-scaling is one evaluation with\n"
            "its own files: RUN/eval.json/.csv for plain positions without scaling, else\n"
            "RUN/eval-<variant>.json/.csv, variant = random, pi, ntk, yarn or random+<method>.\n"
            "  --positions random   each example's position ids are a sorted random subset of\n"
            "                   [0, model.max_positions), as in training with train.random_positions\n"
            "                   (Ruoss et al. 2023); reproducible: drawn from eval.seed and n\n"
            "  --rope-scaling M     rescale RoPE's angles (the run must be trained with rope):\n"
            "                   pi   positions divided by s (Chen et al. 2023)\n"
            "                   ntk  base * s^(R/(R-2)), R = rotated dims (NTK-aware, bloc97)\n"
            "                   yarn per-pair ramp between w and w/s (beta_fast 32, beta_slow 1 rotations\n"
            "                        over the original context) and q.k scaled by (0.1 ln s + 1)^2\n"
            "                        (Peng et al. 2023)\n"
            "                   the original context is the run's longest training input\n"
            "  --rope-scale S   the factor s >= 1 (default: the config's eval.rope_scale; 0 there means\n"
            "                   derived = longest evaluation input / longest training input, at least 1)\n"
            "\n"
            "Language-model tasks (markov) count every token x1..xn: loss is the loss per\n"
            "token, printed beside its floor (the source's exact conditional entropy, the\n"
            "lowest mean loss any model can reach at that n), followed by the loss by\n"
            "absolute position.\n"
            "\n"
            "options:\n"
            "  --lengths LIST   n, a:b or a:b:step, comma-separated, e.g. 8,16,24:64:8\n"
            "                   (default: the config's eval.lengths)\n"
            "  --samples N      examples per length (default: the config's eval.samples)\n"
            "  --batch-size N   evaluation batch size (default: the config's eval.batch_size)\n"
            "  --threads N      threads of posenc's pool (default: the config's train.threads)\n"
            "  --positions L    plain, random or both, comma-separated (default: the config's eval.positions)\n"
            "  --rope-scaling L none, pi, ntk, yarn, comma-separated (default: the config's eval.rope_scaling)\n"
            "  --rope-scale S   see above\n");
}

/* A comma-separated list of names into a bit set: positions (plain, random)
 * or RoPE scalings (none, pi, ntk, yarn). */
static int parse_names(const char *list, const char *opt, int scaling, unsigned *mask) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i = scaling ? pe_rope_scaling_find(tok) : eval_positions_find(tok);
        if (i < 0)
            return pe_errorf("%s: unknown value \"%s\" (valid: %s)", opt, tok,
                             scaling ? "none, pi, ntk, yarn" : "plain, random");
        *mask |= 1u << i;
    }
    if (!*mask) return pe_errorf("%s: expected at least one value", opt);
    return 0;
}

/* Evaluate one variant (positions pm, RoPE scaling sc, the model already
 * rescaled) at every length; print the table and write RUN/<stem>.json/.csv. */
static int eval_variant(const char *run, const RunConfig *cfg, long step, GPT *m, const TaskOps *task,
                        const int *lengths, int nl, int samples, int batch_size, int random_P, int pm, int sc,
                        double s_used, int s_derived, int train_T, Batch *batch, EvalResult *res, PosAcc *pa,
                        const double *floor, double rate, int blank_line) {
    const int lm = task->frame == TASK_FRAME_LM;
    char vname[64], stem[80], label[128];
    eval_variant_name(pm, sc, vname, sizeof vname);
    eval_variant_stem(pm, sc, stem, sizeof stem);
    eval_variant_label(cfg->model.pe, cfg->train.random_positions, pm, sc, label, sizeof label);
    if (blank_line) printf("\n");
    printf("run %s: task %s, pe %s, trained on n = %d..%d%s, step %ld\n", run, cfg->task.name, cfg->model.pe,
           cfg->task.min_len, cfg->task.max_len, cfg->train.random_positions ? " with random positions" : "", step);
    if (pm == EVAL_POS_RANDOM || sc != PE_ROPE_SCALING_NONE) {
        printf("variant %s (%s):", vname, label);
        if (pm == EVAL_POS_RANDOM) printf(" random position ids from [0, %d)", random_P);
        if (sc != PE_ROPE_SCALING_NONE)
            printf("%s RoPE %s, s = %.4g%s, original context %d", pm == EVAL_POS_RANDOM ? ";" : "",
                   pe_rope_scaling_name(sc), s_used, s_derived ? " (derived)" : "", train_T);
        printf("\n");
    }
    if (lm)
        printf("order-%d chain, %d successors per context, table seed %llu: entropy rate %.4f nats/token "
               "(uniform: %.4f)\nloss = mean cross-entropy per token of x1..xn; floor = its lowest possible "
               "value at n\n",
               cfg->task.markov_order, cfg->task.markov_branch, (unsigned long long)cfg->task.markov_seed, rate,
               log((double)cfg->task.alphabet));
    printf("%6s  %8s  %9s  %11s  %8s%s\n", "n", "examples", "token_acc", "exact_match", "loss",
           floor ? "     floor" : "");
    for (int i = 0; i < nl; i++) {
        if (evaluate_length(m, task, &cfg->task, lengths[i], samples, batch_size, cfg->eval.seed, random_P, batch,
                            &res[i], pa) != 0)
            return -1;
        int in_train = lengths[i] >= cfg->task.min_len && lengths[i] <= cfg->task.max_len;
        printf("%6d  %8d  %9.4f  %11.4f  %8.4f", res[i].n, res[i].examples, res[i].token_acc,
               res[i].exact_match, res[i].loss);
        if (floor) printf("  %8.4f", floor[i]);
        printf("%s\n", in_train ? "  (training range)" : "");
        fflush(stdout);
    }

    printf("\naccuracy by %s of the predicted token (over all lengths above):\n",
           random_P ? "position id" : "absolute position");
    int per_line = 0;
    for (int p0 = 0; p0 < pa->cap; p0 += 8) {
        long c = 0, t = 0;
        for (int p = p0; p < p0 + 8 && p < pa->cap; p++) c += pa->correct[p], t += pa->total[p];
        if (!t) continue;
        printf("  %3d-%-3d %.3f", p0, p0 + 7, (double)c / t);
        if (++per_line % 6 == 0) printf("\n");
    }
    if (per_line % 6) printf("\n");
    if (lm) {
        printf("\nloss by %s of the predicted token (over all lengths above):\n",
               random_P ? "position id" : "absolute position");
        per_line = 0;
        for (int p0 = 0; p0 < pa->cap; p0 += 8) {
            double l = 0;
            long t = 0;
            for (int p = p0; p < p0 + 8 && p < pa->cap; p++) l += pa->loss_sum[p], t += pa->total[p];
            if (!t) continue;
            printf("  %3d-%-3d %.3f", p0, p0 + 7, l / t);
            if (++per_line % 6 == 0) printf("\n");
        }
        if (per_line % 6) printf("\n");
    }

    /* a non-finite loss (non-finite weights in the checkpoint) is no result: nothing is written */
    for (int i = 0; i < nl; i++)
        if (!isfinite(res[i].loss))
            return pe_errorf("%s: the loss at n = %d is %s: the model computes non-finite values (non-finite "
                             "weights in model.safetensors?); %s.json not written",
                             run, res[i].n, isnan(res[i].loss) ? "NaN" : "infinite", stem);

    /* <stem>.json and <stem>.csv */
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "run", cfg->name); /* the name, not the path: the same bytes wherever the run folder is */
    cJSON_AddNumberToObject(j, "step", (double)step);
    cJSON_AddStringToObject(j, "task", cfg->task.name);
    cJSON_AddStringToObject(j, "pe", cfg->model.pe);
    cJSON_AddNumberToObject(j, "train_min_len", cfg->task.min_len);
    cJSON_AddNumberToObject(j, "train_max_len", cfg->task.max_len);
    cJSON_AddNumberToObject(j, "eval_seed", (double)cfg->eval.seed);
    if (floor) cJSON_AddNumberToObject(j, "entropy_rate", rate);
    if (cfg->train.random_positions || pm != EVAL_POS_PLAIN || sc != PE_ROPE_SCALING_NONE) {
        /* only beside the defaults, so that a default evaluation's eval.json is as before */
        cJSON_AddStringToObject(j, "variant", vname[0] ? vname : "default");
        cJSON_AddStringToObject(j, "label", label);
        cJSON_AddBoolToObject(j, "train_random_positions", cfg->train.random_positions);
        cJSON_AddStringToObject(j, "positions", eval_positions_name(pm));
        if (pm == EVAL_POS_RANDOM) cJSON_AddNumberToObject(j, "positions_range", random_P);
        cJSON_AddStringToObject(j, "rope_scaling", pe_rope_scaling_name(sc));
        if (sc != PE_ROPE_SCALING_NONE) {
            cJSON_AddNumberToObject(j, "rope_scale", s_used);
            cJSON_AddBoolToObject(j, "rope_scale_derived", s_derived);
            cJSON_AddNumberToObject(j, "rope_original_context", train_T);
        }
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "results");
    size_t cap = 256 + (size_t)nl * 128, len = 0;
    char *csv = pe_calloc(cap, 1);
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
    snprintf(file, sizeof file, "%s.json", stem);
    if (path_join(path, sizeof path, run, file) != 0 || file_write_atomic(path, text, strlen(text)) != 0)
        rc = -1;
    snprintf(file, sizeof file, "%s.csv", stem);
    if (rc == 0 && (path_join(path, sizeof path, run, file) != 0 || file_write_atomic(path, csv, len) != 0)) rc = -1;
    if (rc == 0) printf("\nwrote %s/%s.json and %s/%s.csv\n", run, stem, run, stem);
    free(text);
    free(csv);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *run = NULL;
    int lengths[EVAL_MAX_LENGTHS * 4], nl = 0;
    long samples = 0, batch_size = 0, threads = 0;
    const char *positions_opt = NULL, *scaling_opt = NULL;
    double rope_scale = -1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (is_help(a)) {
            eval_usage(stdout);
            return 0;
        } else if (strcmp(a, "--lengths") == 0) {
            if (!v || (nl = parse_lengths(v, lengths, EVAL_MAX_LENGTHS * 4)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--samples") == 0) {
            if ((samples = parse_count(a, v, 10000000)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--batch-size") == 0) {
            if ((batch_size = parse_count(a, v, 65536)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if ((threads = parse_count(a, v, 1024)) < 0) goto usage_error;
            i++;
        } else if (strcmp(a, "--positions") == 0 || strcmp(a, "--rope-scaling") == 0) {
            if (!v) {
                pe_errorf("%s needs a value", a);
                goto usage_error;
            }
            if (a[2] == 'p') positions_opt = v;
            else scaling_opt = v;
            i++;
        } else if (strcmp(a, "--rope-scale") == 0) {
            char *end = NULL;
            rope_scale = v ? strtod(v, &end) : -1.0;
            if (!v || *end || end == v || !(rope_scale >= 1.0 && rope_scale <= 1e6)) {
                pe_errorf("--rope-scale: expected a number in [1, 1e6], got \"%s\"", v ? v : "");
                goto usage_error;
            }
            i++;
        } else if (a[0] == '-') {
            pe_errorf("unknown option \"%s\" (see posenc eval --help)", a);
            goto usage_error;
        } else if (!run) {
            run = a;
        } else {
            pe_errorf("more than one RUN (\"%s\", \"%s\")", run, a);
            goto usage_error;
        }
    }
    if (!run) {
        pe_errorf("missing RUN directory (see posenc eval --help)");
        goto usage_error;
    }

    /* the config first, to know the lengths, then the model sized for them */
    RunConfig cfg;
    GPT m;
    long step = 0;
    {
        /* its files must agree (run/runinfo.h) before anything is evaluated */
        RunInfo *ri = pe_calloc(1, sizeof *ri);
        int st = run_inspect(run, ri);
        const long ck = ri->ckpt_step;
        free(ri);
        if (st == RUN_NOT_A_RUN || st == RUN_INVALID) goto usage_error;
        if (st == RUN_IO) goto runtime_error;
        if (ck < 0) {
            pe_errorf("%s: no checkpoint (model.safetensors) in this run directory yet; train it first "
                      "(posenc train --resume %s, or posenc run)", run, run);
            goto runtime_error;
        }
    }
    if (prov_check(run) != 0) goto usage_error; /* this evaluation's record is appended to it */
    if (rundir_load(run, 1, &cfg, &m, &step) != 0) goto runtime_error;
    const int trained_P = cfg.model.P;
    unsigned pos_mask = cfg.eval.positions, scl_mask = cfg.eval.rope_scaling;
    if ((positions_opt && parse_names(positions_opt, "--positions", 0, &pos_mask) != 0) ||
        (scaling_opt && parse_names(scaling_opt, "--rope-scaling", 1, &scl_mask) != 0)) {
        gpt_free(&m);
        goto usage_error;
    }
    if ((scl_mask & ~(1u << PE_ROPE_SCALING_NONE)) && !pe_has(cfg.model.pe, PE_SCALABLE)) {
        pe_errorf("--rope-scaling: %s was trained with %s; RoPE scaling (pi, ntk, yarn) needs a run trained "
                  "with rope (use --rope-scaling none)", run, cfg.model.pe);
        gpt_free(&m);
        goto usage_error;
    }
    if (nl == 0) {
        nl = cfg.eval.num_lengths;
        memcpy(lengths, cfg.eval.lengths, sizeof(int) * nl);
    }
    if (!samples) samples = cfg.eval.samples;
    if (!batch_size) batch_size = cfg.eval.batch_size;
    const TaskOps *task = task_find(cfg.task.name);
    int maxB = 1, maxT = 1, maxLen = 1; /* batch shape (rows padded: task_eval_T), longest real input */
    for (int i = 0; i < nl; i++) {
        int B, T, len = task_input_len(task, lengths[i]);
        eval_shape(task, lengths[i], (int)samples, (int)batch_size, &B, &T);
        maxB = B > maxB ? B : maxB;
        maxT = T > maxT ? T : maxT;
        maxLen = len > maxLen ? len : maxLen;
    }
    if ((pos_mask & (1u << EVAL_POS_RANDOM)) && maxLen > trained_P) {
        pe_errorf("--positions random: the longest evaluation input (%d tokens) does not fit in the %d positions "
                  "random ids are drawn from (model.max_positions of %s); evaluate shorter lengths or retrain "
                  "with a larger model.max_positions", maxLen, trained_P, run);
        gpt_free(&m);
        goto usage_error;
    }
    /* RoPE scaling: the original context is the longest training input; s derived from the lengths */
    const int train_T = task_max_train_input_len(task, &cfg.task);
    double s_used = rope_scale > 0 ? rope_scale : cfg.eval.rope_scale > 0 ? cfg.eval.rope_scale : (double)maxLen / train_T;
    if (s_used < 1.0) s_used = 1.0;
    const int s_derived = !(rope_scale > 0) && !(cfg.eval.rope_scale > 0);
    if (maxLen > m.cfg.P && pe_has(cfg.model.pe, PE_TRAINED_POSITIONS)) {
        /* a length the learned table has no rows for: a usage error, like the other length errors */
        pe_errorf("%s: evaluation needs %d positions but the learned position table has only model.max_positions "
                  "= %d rows (trained rows beyond the training length do not exist); evaluate shorter lengths, or "
                  "retrain with --set model.max_positions=%d or more",
                  run, maxLen, m.cfg.P, maxLen);
        gpt_free(&m);
        goto usage_error;
    }
    if (maxLen > m.cfg.P) { /* rebuild with room for the longest length */
        gpt_free(&m);
        if (rundir_load(run, maxLen, &cfg, &m, &step) != 0) goto runtime_error;
    }
    double param_bytes = 0, need = gpt_estimate_bytes(&m.cfg, 0, 0, maxB, maxT, &param_bytes);
    if (mem_check("evaluation", need, param_bytes, maxB, maxT) != 0) {
        gpt_free(&m);
        goto runtime_error;
    }
    par_set_threads(threads ? (int)threads : cfg.train.threads);
    ProvSession prov;
    if (prov_begin(&prov, run, "eval", par_threads(), -1) != 0) {
        gpt_free(&m);
        goto runtime_error;
    }
    gpt_reserve(&m, maxB, maxT, 0);
    Batch batch = {0};
    if (batch_alloc(&batch, maxB, maxT) != 0) {
        gpt_free(&m);
        goto runtime_error;
    }
    const int pa_cap = (maxT > trained_P ? maxT : trained_P) + 1;
    EvalResult *res = pe_calloc(nl, sizeof *res);
    double *floor = pe_calloc(nl, sizeof *floor), rate = 0.0;
    const int has_floor = task_loss_floor(task, &cfg.task, lengths, nl, floor, &rate);
    int rc = has_floor < 0 ? -1 : 0, variants = 0;
    for (int pm = 0; pm < EVAL_POS_COUNT && rc == 0; pm++) {
        if (!(pos_mask & (1u << pm))) continue;
        for (int sc = 0; sc < PE_ROPE_SCALING_COUNT && rc == 0; sc++) {
            if (!(scl_mask & (1u << sc))) continue;
            if (pe_has(cfg.model.pe, PE_SCALABLE) && gpt_set_rope_scaling(&m, sc, (float)s_used, train_T) != 0) {
                rc = -1;
                break;
            }
            PosAcc pa;
            posacc_init(&pa, pa_cap);
            rc = eval_variant(run, &cfg, step, &m, task, lengths, nl, (int)samples, (int)batch_size,
                              pm == EVAL_POS_RANDOM ? trained_P : 0, pm, sc, s_used, s_derived, train_T, &batch,
                              res, &pa, has_floor > 0 ? floor : NULL, rate, variants++ > 0);
            posacc_free(&pa);
        }
    }
    free(res);
    free(floor);
    batch_free(&batch);
    gpt_free(&m);
    if (prov_end(&prov, run, step) != 0) rc = -1;
    if (rc != 0) goto runtime_error;
    return 0;

usage_error:
    fprintf(stderr, "posenc eval: %s\n", pe_error());
    return EXIT_USAGE;
runtime_error:
    fprintf(stderr, "posenc eval: %s\n", pe_error());
    return EXIT_RUNTIME;
}

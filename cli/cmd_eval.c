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
#include "run/rundir.h"

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: posenc eval RUN [--lengths LIST] [--samples N] [--batch-size N] [--threads N]\n"
            "\n"
            "Evaluate the trained model in run directory RUN at each length n of LIST under\n"
            "teacher forcing: token_acc, exact_match, loss, examples. Writes RUN/eval.json and\n"
            "RUN/eval.csv and prints a table with the training range marked, then accuracy by\n"
            "absolute position. The examples at each n are fixed by the config's eval.seed, so\n"
            "every run of every encoding sees the same ones.\n"
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
            "  --threads N      BLAS threads (default: the config's train.threads)\n");
}

int cmd_eval(int argc, char **argv) {
    const char *run = NULL;
    int lengths[EVAL_MAX_LENGTHS * 4], nl = 0;
    long samples = 0, batch_size = 0, threads = 0;
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
    if (rundir_load(run, 1, &cfg, &m, &step) != 0) goto runtime_error;
    if (nl == 0) {
        nl = cfg.eval.num_lengths;
        memcpy(lengths, cfg.eval.lengths, sizeof(int) * nl);
    }
    if (!samples) samples = cfg.eval.samples;
    if (!batch_size) batch_size = cfg.eval.batch_size;
    const TaskOps *task = task_find(cfg.task.name);
    int maxB = 1, maxT = 1;
    for (int i = 0; i < nl; i++) {
        int B, T;
        eval_shape(task, lengths[i], (int)samples, (int)batch_size, &B, &T);
        maxB = B > maxB ? B : maxB;
        maxT = T > maxT ? T : maxT;
    }
    if (maxT > m.cfg.P) { /* rebuild with room for the longest length (or a clear error for learned) */
        gpt_free(&m);
        if (rundir_load(run, maxT, &cfg, &m, &step) != 0) goto runtime_error;
    }
    double param_bytes = 0, need = gpt_estimate_bytes(&m.cfg, 0, 0, maxB, maxT, &param_bytes);
    if (mem_check("evaluation", need, param_bytes, maxB, maxT) != 0) {
        gpt_free(&m);
        goto runtime_error;
    }
    par_set_threads(threads ? (int)threads : cfg.train.threads);
    gpt_reserve(&m, maxB, maxT, 0);
    Batch batch = {0};
    if (batch_alloc(&batch, maxB, maxT) != 0) {
        gpt_free(&m);
        goto runtime_error;
    }
    PosAcc pa;
    posacc_init(&pa, maxT + 1);
    EvalResult *res = pe_calloc(nl, sizeof *res);
    double *floor = pe_calloc(nl, sizeof *floor), rate = 0.0;
    const int has_floor = task_loss_floor(task, &cfg.task, lengths, nl, floor, &rate);
    const int lm = task->frame == TASK_FRAME_LM;

    printf("run %s: task %s, pe %s, trained on n = %d..%d, step %ld\n", run, cfg.task.name, cfg.model.pe,
           cfg.task.min_len, cfg.task.max_len, step);
    if (lm)
        printf("order-%d chain, %d successors per context, table seed %llu: entropy rate %.4f nats/token "
               "(uniform: %.4f)\nloss = mean cross-entropy per token of x1..xn; floor = its lowest possible "
               "value at n\n",
               cfg.task.markov_order, cfg.task.markov_branch, (unsigned long long)cfg.task.markov_seed, rate,
               log((double)cfg.task.alphabet));
    printf("%6s  %8s  %9s  %11s  %8s%s\n", "n", "examples", "token_acc", "exact_match", "loss",
           has_floor > 0 ? "     floor" : "");
    int rc = has_floor < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < nl; i++) {
        if (evaluate_length(&m, task, &cfg.task, lengths[i], (int)samples, (int)batch_size, cfg.eval.seed, &batch,
                            &res[i], &pa) != 0) {
            rc = -1;
            break;
        }
        int in_train = lengths[i] >= cfg.task.min_len && lengths[i] <= cfg.task.max_len;
        printf("%6d  %8d  %9.4f  %11.4f  %8.4f", res[i].n, res[i].examples, res[i].token_acc,
               res[i].exact_match, res[i].loss);
        if (has_floor > 0) printf("  %8.4f", floor[i]);
        printf("%s\n", in_train ? "  (training range)" : "");
        fflush(stdout);
    }

    if (rc == 0) {
        printf("\naccuracy by absolute position of the predicted token (over all lengths above):\n");
        int per_line = 0;
        for (int p0 = 0; p0 < pa.cap; p0 += 8) {
            long c = 0, t = 0;
            for (int p = p0; p < p0 + 8 && p < pa.cap; p++) c += pa.correct[p], t += pa.total[p];
            if (!t) continue;
            printf("  %3d-%-3d %.3f", p0, p0 + 7, (double)c / t);
            if (++per_line % 6 == 0) printf("\n");
        }
        if (per_line % 6) printf("\n");
        if (lm) {
            printf("\nloss by absolute position of the predicted token (over all lengths above):\n");
            per_line = 0;
            for (int p0 = 0; p0 < pa.cap; p0 += 8) {
                double l = 0;
                long t = 0;
                for (int p = p0; p < p0 + 8 && p < pa.cap; p++) l += pa.loss_sum[p], t += pa.total[p];
                if (!t) continue;
                printf("  %3d-%-3d %.3f", p0, p0 + 7, l / t);
                if (++per_line % 6 == 0) printf("\n");
            }
            if (per_line % 6) printf("\n");
        }

        /* eval.json and eval.csv */
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "run", run);
        cJSON_AddNumberToObject(j, "step", (double)step);
        cJSON_AddStringToObject(j, "task", cfg.task.name);
        cJSON_AddStringToObject(j, "pe", cfg.model.pe);
        cJSON_AddNumberToObject(j, "train_min_len", cfg.task.min_len);
        cJSON_AddNumberToObject(j, "train_max_len", cfg.task.max_len);
        cJSON_AddNumberToObject(j, "eval_seed", (double)cfg.eval.seed);
        if (has_floor > 0) cJSON_AddNumberToObject(j, "entropy_rate", rate);
        cJSON *arr = cJSON_AddArrayToObject(j, "results");
        size_t cap = 256 + (size_t)nl * 128, len = 0;
        char *csv = pe_calloc(cap, 1);
        len += snprintf(csv, cap, "n,examples,tokens,token_acc,exact_match,loss,in_training_range%s\n",
                        has_floor > 0 ? ",loss_floor" : "");
        for (int i = 0; i < nl; i++) {
            int in_train = res[i].n >= cfg.task.min_len && res[i].n <= cfg.task.max_len;
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "n", res[i].n);
            cJSON_AddNumberToObject(r, "examples", res[i].examples);
            cJSON_AddNumberToObject(r, "tokens", (double)res[i].tokens);
            cJSON_AddNumberToObject(r, "token_acc", res[i].token_acc);
            cJSON_AddNumberToObject(r, "exact_match", res[i].exact_match);
            cJSON_AddNumberToObject(r, "loss", res[i].loss);
            cJSON_AddBoolToObject(r, "in_training_range", in_train);
            if (has_floor > 0) cJSON_AddNumberToObject(r, "loss_floor", floor[i]);
            cJSON_AddItemToArray(arr, r);
            len += snprintf(csv + len, cap - len, "%d,%d,%ld,%.6f,%.6f,%.6f,%d", res[i].n, res[i].examples,
                            res[i].tokens, res[i].token_acc, res[i].exact_match, res[i].loss, in_train);
            if (has_floor > 0) len += snprintf(csv + len, cap - len, ",%.6f", floor[i]);
            len += snprintf(csv + len, cap - len, "\n");
        }
        cJSON *bp = cJSON_AddArrayToObject(j, "by_position");
        for (int p = 0; p < pa.cap; p++) {
            if (!pa.total[p]) continue;
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "pos", p);
            cJSON_AddNumberToObject(r, "correct", (double)pa.correct[p]);
            cJSON_AddNumberToObject(r, "total", (double)pa.total[p]);
            cJSON_AddNumberToObject(r, "acc", (double)pa.correct[p] / pa.total[p]);
            cJSON_AddNumberToObject(r, "loss", pa.loss_sum[p] / pa.total[p]);
            cJSON_AddItemToArray(bp, r);
        }
        char *text = cJSON_Print(j);
        cJSON_Delete(j);
        char path[4096];
        if (path_join(path, sizeof path, run, "eval.json") != 0 || file_write_atomic(path, text, strlen(text)) != 0 ||
            path_join(path, sizeof path, run, "eval.csv") != 0 || file_write_atomic(path, csv, len) != 0)
            rc = -1;
        else
            printf("\nwrote %s/eval.json and %s/eval.csv\n", run, run);
        free(text);
        free(csv);
    }
    free(res);
    free(floor);
    posacc_free(&pa);
    batch_free(&batch);
    gpt_free(&m);
    if (rc != 0) goto runtime_error;
    return 0;

usage_error:
    fprintf(stderr, "posenc eval: %s\n", pe_error());
    return EXIT_USAGE;
runtime_error:
    fprintf(stderr, "posenc eval: %s\n", pe_error());
    return EXIT_RUNTIME;
}

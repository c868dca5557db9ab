/*
 * cmd_attention.c — `posenc attention RUN "3 1 4"`: the attention weights of
 * every layer and head of a trained model on one example, as tables or JSON.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "run/attention.h"
#include "run/rundir.h"

static void attention_usage(FILE *f) {
    fprintf(f,
            "usage: posenc attention RUN \"X1 X2 ...\" [--json] [--layer L] [--head H]\n"
            "\n"
            "Run the model of run directory RUN on the problem x (symbols 0..A-1 separated\n"
            "by spaces) under teacher forcing, as evaluation does: the input is\n"
            "BOS x SEP y with y the task's true answer (for a language-model task BOS\n"
            "x1..x(n-1)), at positions 0..T-1. Print the attention weights of every layer\n"
            "and head: row = query token, column = key token, each row sums to 1 over the\n"
            "keys at or before the query (the causal mask). The weights are the forward\n"
            "pass's own softmax probabilities (nothing recomputed).\n"
            "\n"
            "options:\n"
            "  --json      print JSON instead: run, pe, task, tokens, token_names, positions,\n"
            "              layers, heads and attention[layer][head][query][key]\n"
            "  --layer L   only layer L (0-based)\n"
            "  --head H    only head H (0-based)\n");
}

/* What is shown: the maps of layers l0..l1-1 and heads h0..h1-1 of model m on seq (T tokens). */
typedef struct {
    const char *run;
    const RunConfig *cfg;
    GPT *m;
    const int *seq;
    char (*names)[TOKEN_NAME_MAX];
    int T, l0, l1, h0, h1;
    float *att; /* T x T scratch: one map at a time */
} AttnView;

/* The maps as one JSON document on stdout: 0, or EXIT_RUNTIME. */
static int print_attention_json(const AttnView *v) {
    const char *run = v->run;
    const int T = v->T, l0 = v->l0, l1 = v->l1, h0 = v->h0, h1 = v->h1;
    float *att = v->att;
    int rc = 0;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "run", run);
    cJSON_AddStringToObject(j, "pe", v->cfg->model.pe);
    cJSON_AddStringToObject(j, "task", v->cfg->task.name);
    cJSON_AddItemToObject(j, "tokens", cJSON_CreateIntArray(v->seq, T));
    cJSON *tn = cJSON_AddArrayToObject(j, "token_names");
    for (int t = 0; t < T; t++) cJSON_AddItemToArray(tn, cJSON_CreateString(v->names[t]));
    cJSON *ps = cJSON_AddArrayToObject(j, "positions");
    for (int t = 0; t < T; t++) cJSON_AddItemToArray(ps, cJSON_CreateNumber(t));
    cJSON *ls = cJSON_AddArrayToObject(j, "layers"), *hs = cJSON_AddArrayToObject(j, "heads");
    for (int l = l0; l < l1; l++) cJSON_AddItemToArray(ls, cJSON_CreateNumber(l));
    for (int h = h0; h < h1; h++) cJSON_AddItemToArray(hs, cJSON_CreateNumber(h));
    cJSON *al = cJSON_AddArrayToObject(j, "attention");
    for (int l = l0; l < l1 && rc == 0; l++) {
        cJSON *ah = cJSON_CreateArray();
        cJSON_AddItemToArray(al, ah);
        for (int h = h0; h < h1 && rc == 0; h++) {
            if (attention_maps(v->m, v->seq, T, l, h, att) != 0) {
                rc = EXIT_RUNTIME;
                break;
            }
            cJSON *rows = cJSON_CreateArray();
            for (int i = 0; i < T; i++) cJSON_AddItemToArray(rows, cJSON_CreateFloatArray(att + (size_t)i * T, T));
            cJSON_AddItemToArray(ah, rows);
        }
    }
    if (rc == 0) {
        char *s = cJSON_PrintUnformatted(j);
        printf("%s\n", s);
        free(s);
    }
    cJSON_Delete(j);
    return rc;
}

/* The maps as text, weight x 100: 0, or EXIT_RUNTIME. */
static int print_attention_text(const AttnView *v) {
    const char *run = v->run;
    const int T = v->T, l0 = v->l0, l1 = v->l1, h0 = v->h0, h1 = v->h1;
    float *att = v->att;
    int rc = 0;
    const int L = v->m->cfg.L, NH = v->m->cfg.NH;
    printf("run %s: task %s, pe %s, %d layers x %d heads; input of %d tokens at positions 0..%d\n", run,
           v->cfg->task.name, v->cfg->model.pe, L, NH, T, T - 1);
    printf("rows: query, columns: key; weight x 100, '.' above the diagonal (masked)\n");
    for (int l = l0; l < l1 && rc == 0; l++)
        for (int h = h0; h < h1 && rc == 0; h++) {
            if (attention_maps(v->m, v->seq, T, l, h, att) != 0) {
                rc = EXIT_RUNTIME;
                break;
            }
            printf("\nlayer %d, head %d\n%5s", l, h, "");
            for (int k = 0; k < T; k++) printf(" %4s", v->names[k]);
            printf("\n");
            for (int i = 0; i < T; i++) {
                printf("%5s", v->names[i]);
                const float *row = att + (size_t)i * T;
                for (int k = 0; k < T; k++)
                    if (k > i) printf(" %4s", ".");
                    else printf(" %4.0f", 100.0 * row[k]);
                printf("\n");
            }
        }
    return rc;
}

int cmd_attention(int argc, char **argv) {
    const char *run = NULL, *problem = NULL;
    int json = 0;
    long only_layer = -1, only_head = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            attention_usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--layer") == 0 || strcmp(a, "--head") == 0) {
            /* 0-based: parse_count checks 1..max, so parse the value + 1 */
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            char *end = NULL;
            long x = v ? strtol(v, &end, 10) : -1;
            if (!v || end == v || *end || x < 0 || x > 4095) {
                fprintf(stderr, "posenc attention: %s: expected a whole number >= 0 (0-based), got \"%s\"\n", a,
                        v ? v : "");
                return EXIT_USAGE;
            }
            *(a[2] == 'l' ? &only_layer : &only_head) = x;
            i++;
        } else if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) {
            fprintf(stderr, "posenc attention: unknown option \"%s\" (see posenc attention --help)\n", a);
            return EXIT_USAGE;
        } else if (!run) {
            run = a;
        } else if (!problem) {
            problem = a;
        } else {
            fprintf(stderr, "posenc attention: too many arguments (quote the problem: \"3 1 4\")\n");
            return EXIT_USAGE;
        }
    }
    if (!run || !problem) {
        fprintf(stderr, "posenc attention: give RUN and a problem \"X1 X2 ...\" (see posenc attention --help)\n");
        return EXIT_USAGE;
    }
    RunConfig cfg;
    GPT m;
    int lr = rundir_open(run, 1, &cfg, &m, NULL); /* the run's files agree, its weights are finite */
    if (lr != 0) {
        fprintf(stderr, "posenc attention: %s\n", core_error());
        return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    const int A = cfg.task.alphabet;
    const TaskOps *task = task_find(cfg.task.name);
    int x[4096];
    const char *const *sym = NULL; /* a task's file of strings: the problem is read by their names */
    if (task->symbols && task_open(task, &cfg.task, NULL, 0) != 0) {
        fprintf(stderr, "posenc attention: %s: %s\n", run, core_error());
        gpt_free(&m);
        return EXIT_USAGE;
    }
    if (task->symbols) sym = task->symbols(&cfg.task);
    const int n = parse_tokens(problem, A, 0, sym, x, 4096);
    if (n < 0 || task_open_problem(task, &cfg.task, x, n) != 0) { /* a task over a file: its answer to x */
        fprintf(stderr, "posenc attention: %s%s%s\n", n < 0 ? "" : run, n < 0 ? "" : ": ", core_error());
        gpt_free(&m);
        return EXIT_USAGE;
    }
    if (only_layer >= m.cfg.L || only_head >= m.cfg.NH) {
        fprintf(stderr, "posenc attention: --%s %ld: the model has %d %s (0..%d)\n",
                only_layer >= m.cfg.L ? "layer" : "head", only_layer >= m.cfg.L ? only_layer : only_head,
                only_layer >= m.cfg.L ? m.cfg.L : m.cfg.NH, only_layer >= m.cfg.L ? "layers" : "heads",
                (only_layer >= m.cfg.L ? m.cfg.L : m.cfg.NH) - 1);
        gpt_free(&m);
        return EXIT_USAGE;
    }
    const int T = task_input_len(task, &cfg.task, n);
    if (T > m.cfg.P) { /* rebuild with room: every encoding but learned (which gives a clear error) */
        gpt_free(&m);
        if ((lr = rundir_load(run, T, &cfg, &m, NULL)) != 0) {
            fprintf(stderr, "posenc attention: %s\n", core_error());
            return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME; /* too long for a learned table: as eval */
        }
    }
    int *seq = core_calloc(T, sizeof(int));
    attention_input(task, &cfg.task, x, n, seq);
    const int L = m.cfg.L, NH = m.cfg.NH;
    /* one head at a time: a forward pass per (layer, head) shown, T x T floats held */
    float *att = core_calloc((size_t)T * T, sizeof(float));
    int rc = 0;
    char (*names)[TOKEN_NAME_MAX] = core_calloc(T, sizeof *names);
    for (int t = 0; t < T; t++) token_name(names[t], sizeof names[t], seq[t], A, sym);
    const int l0 = only_layer >= 0 ? (int)only_layer : 0, l1 = only_layer >= 0 ? (int)only_layer + 1 : L;
    const int h0 = only_head >= 0 ? (int)only_head : 0, h1 = only_head >= 0 ? (int)only_head + 1 : NH;
    const AttnView v = {run, &cfg, &m, seq, names, T, l0, l1, h0, h1, att};
    rc = json ? print_attention_json(&v) : print_attention_text(&v);
    if (rc != 0) fprintf(stderr, "posenc attention: %s\n", core_error());
    free(names);
    free(att);
    free(seq);
    gpt_free(&m);
    return rc;
}

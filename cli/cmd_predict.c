/*
 * cmd_predict.c — `posenc predict RUN "3 1 4 1 5"`: greedy answer with
 * per-token probabilities, compared with the task's true answer; or
 * `--logits "..."`: the full logits of a token sequence as JSON, so that
 * other implementations can be checked against posenc.
 *
 * Decoding runs each token through the model once, attending to the cached
 * keys and values of the earlier ones (gpt_decode_step): the cost of a token
 * grows linearly with the sequence so far, so a whole answer costs one
 * forward pass's worth of attention, not one forward pass per token. With
 * --recompute it runs a full forward pass over the whole prefix per token
 * instead (the reference the cache is tested against; quadratically slower).
 */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "data/corpus.h"
#include "run/rundir.h"

static void predict_usage(FILE *f) {
    fprintf(f,
            "usage: posenc predict RUN \"X1 X2 ...\"\n"
            "       posenc predict RUN --logits \"TOKENS\"\n"
            "\n"
            "Greedy-decode the answer to the problem x (symbols 0..A-1 separated by spaces)\n"
            "with the model of run directory RUN, printing each answer token with its\n"
            "probability beside the task's true answer.\n"
            "\n"
            "For a language-model task (markov) x is a sequence to score instead: for each\n"
            "symbol x_t the model's probability beside the source's true one, the model's\n"
            "most likely symbol beside the source's, the loss per token of both, and the\n"
            "model's and the source's next symbol after x_n.\n"
            "\n"
            "For the text task, x is text (its UTF-8 bytes are the tokens): the model's loss\n"
            "per byte on it (and perplexity), then its greedy continuation of --generate bytes.\n"
            "\n"
            "  --generate N     text task: bytes of greedy continuation (default 64, 0..4096)\n"
            "  --logits TOKENS  print the logits (and position ids) of every position of a\n"
            "                   raw token sequence as JSON. Tokens are ids 0..V-1 or the names\n"
            "                   BOS SEP EOS PAD, e.g. \"BOS 3 1 4 SEP 3\". Longer than the run's\n"
            "                   model.max_positions only for an encoding without a trained\n"
            "                   position table (not learned), as in posenc eval.\n"
            "  --recompute      decode with a full forward pass over the whole prefix per\n"
            "                   token (the reference for the key/value cache used by default;\n"
            "                   the same tokens, probabilities equal to rounding; slow on long\n"
            "                   inputs)\n"
            "\n"
            "Long decodes report their progress on stderr (a live line on a terminal,\n"
            "otherwise a line every 10 s).\n");
}

int parse_tokens(const char *s, int A, int names, const char *const *sym, int *out, int cap) {
    int n = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        char tok[TOKEN_NAME_MAX];
        size_t len = (size_t)(p - start);
        if (len >= sizeof tok) return core_errorf("token \"%.*s...\" is too long", 16, start);
        memcpy(tok, start, len);
        tok[len] = '\0';
        int v;
        if (names && strcmp(tok, "BOS") == 0) v = task_bos(A);
        else if (names && strcmp(tok, "SEP") == 0) v = task_sep(A);
        else if (names && strcmp(tok, "EOS") == 0) v = task_eos(A);
        else if (names && strcmp(tok, "PAD") == 0) v = task_pad(A);
        else if (sym) {
            for (v = 0; v < A && strcmp(sym[v], tok) != 0; v++) continue;
            if (v == A) return core_errorf("\"%s\" is not one of the task's symbols (%s, %s, ...; separate them with "
                                           "spaces)", tok, sym[0], A > 1 ? sym[1] : "");
        } else {
            char *end;
            errno = 0;
            long x = strtol(tok, &end, 10);
            int hi = names ? task_vocab(A) : A;
            /* digits only: no sign, no comma list ("3,1"), nothing strtol would also take */
            if (strspn(tok, "0123456789") != len || *end || errno || x < 0 || x >= hi)
                return core_errorf("\"%s\" is not a %s (0..%d%s; separate them with spaces)", tok,
                                   names ? "token" : "symbol", hi - 1, names ? " or BOS, SEP, EOS, PAD" : "");
            v = (int)x;
        }
        if (n == cap) return core_errorf("more than %d tokens", cap);
        out[n++] = v;
    }
    if (n == 0) return core_errorf("no tokens given");
    return n;
}

static int argmax_f(const float *p, int n) {
    int best = 0;
    for (int v = 1; v < n; v++)
        if (p[v] > p[best]) best = v;
    return best;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Where the next-token distributions come from: the key/value cache (one
 * decode step per token), or with `recompute` a full forward pass over the
 * prefix. The sequence seq[0..len) only ever grows; seq[0..known) is known in
 * advance (the LM frame scores a given sequence: one forward pass over it). */
typedef struct {
    GPT *m;
    GPTCache cache;
    int recompute;
    int known;      /* tokens of seq known in advance (recompute: one pass over them) */
    int fwd_len;    /* recompute: length of the last forward pass */
    int total;      /* tokens the whole decode will run through the model (for progress) */
    int live;       /* progress as a live line (stderr is a terminal) */
    int tty_out;    /* stdout is a terminal too: clear the line before the caller prints */
    int shown;      /* a live line is on screen */
    double t0, last;/* start, last progress report */
} Decoder;

static int decoder_init(Decoder *d, GPT *m, int recompute, int total, int known) {
    memset(d, 0, sizeof *d);
    d->m = m;
    d->recompute = recompute;
    d->total = total;
    d->known = known;
    d->live = isatty(fileno(stderr));
    d->tty_out = isatty(fileno(stdout));
    d->t0 = d->last = now_s();
    if (recompute) {
        gpt_reserve_infer(m, 1, total);
        return 0;
    }
    return gpt_cache_init(&d->cache, m, total);
}

/* A live line at most 5 times a second once a decode takes more than half a
 * second; on a file or pipe, a line every 10 s. */
static void decoder_progress(Decoder *d, int done) {
    const double t = now_s();
    if (d->live ? (t - d->t0 < 0.5 || t - d->last < 0.2) : t - d->last < 10.0) return;
    d->last = t;
    fprintf(stderr, "%spredict: %d of %d tokens through the model, %.0f s%s", d->live ? "\r\033[K" : "", done,
            d->total, t - d->t0, d->live ? "" : "\n");
    d->shown = d->live;
}

static void decoder_clear(Decoder *d) {
    if (d->shown) fprintf(stderr, "\r\033[K");
    d->shown = 0;
}

static void decoder_free(Decoder *d) {
    decoder_clear(d);
    if (!d->recompute) gpt_cache_free(&d->cache);
}

/* The probabilities of the token after seq[0..len) (position ids pos). */
static const float *next_probs(Decoder *d, const int *seq, const int *pos, int len) {
    GPT *m = d->m;
    const float *p;
    if (d->recompute) {
        if (len > d->fwd_len) {
            d->fwd_len = len > d->known ? len : d->known;
            gpt_infer(m, seq, NULL, pos, 1, d->fwd_len);
            decoder_progress(d, d->fwd_len);
        }
        p = m->acts.probs + (size_t)(len - 1) * m->cfg.V;
    } else {
        GPTCache *c = &d->cache;
        while (c->len < len) {
            /* cannot fail: the cache holds `total` tokens and positions were checked */
            if (gpt_decode_step(m, c, seq[c->len], pos[c->len]) != 0) {
                fprintf(stderr, "posenc: internal error: %s\n", core_error());
                abort();
            }
            decoder_progress(d, c->len);
        }
        p = c->probs;
    }
    if (d->tty_out) decoder_clear(d); /* the caller prints a line next */
    return p;
}

/* The LM frame: score x1..xn under the model and the source (TaskOps.next_dist).
 * The model has room for n+1 positions. */
static void predict_lm(GPT *m, const TaskOps *task, const RunConfig *cfg, const char *run, const int *x, int n,
                       int *seq, int *pos, int recompute) {
    const int A = cfg->task.alphabet, V = m->cfg.V;
    seq[0] = task_bos(A);
    for (int i = 0; i < n; i++) seq[i + 1] = x[i];
    for (int t = 0; t <= n; t++) pos[t] = t;
    Decoder dec;
    if (decoder_init(&dec, m, recompute, n + 1, n + 1) != 0) {
        fprintf(stderr, "posenc: internal error: %s\n", core_error());
        abort();
    }
    double *p = core_calloc(A, sizeof(double));
    printf("run %s: task %s, pe %s: the model beside the source, one symbol at a time\n", run, cfg->task.name,
           cfg->model.pe);
    printf("%-4s %-6s %-8s %-8s %-7s %s\n", "t", "x_t", "p_model", "p_true", "argmax", "true argmax");
    double lm = 0.0, lt = 0.0;
    int impossible = 0, agree = 0;
    for (int t = 0; t <= n; t++) { /* row t predicts x_(t+1) */
        const float *q = next_probs(&dec, seq, pos, t + 1);
        task->next_dist(p, x, t, &cfg->task);
        int best_true = 0;
        for (int v = 1; v < A; v++)
            if (p[v] > p[best_true]) best_true = v;
        const int best = argmax_f(q, V);
        char bn[TOKEN_NAME_MAX];
        token_name(bn, sizeof bn, best, A, NULL);
        if (t == n) {
            printf("next %-6s %-8s %-8s %-7s %d (p_true %.4f, p_model %.4f)\n", "?", "", "", bn, best_true,
                   p[best_true], (double)q[best_true]);
            break;
        }
        const int v = x[t];
        lm -= log((double)q[v]);
        if (p[v] > 0.0) lt -= log(p[v]);
        else impossible++;
        agree += best == best_true;
        printf("%-4d %-6d %-8.4f %-8.4f %-7s %d%s\n", t + 1, v, (double)q[v], p[v], bn, best_true,
               p[v] > 0.0 ? "" : "   <- impossible under the source");
    }
    printf("loss per token: model %.4f", lm / n);
    if (impossible)
        printf(", source infinite (%d symbol(s) the source never emits there)\n", impossible);
    else
        printf(", source %.4f (the source's own loss on this sequence)\n", lt / n);
    printf("model argmax = source argmax at %d of %d positions\n", agree, n);
    free(p);
    decoder_free(&dec);
}

/* Write bytes b[0..n) for a terminal: valid UTF-8 characters of U+00A0 and
 * above and printable ASCII as they are, a newline as \\n, a backslash as
 * \\\\, every other byte (controls, C1 controls, broken UTF-8) as \\xNN. */
static void print_text_escaped(const unsigned char *b, int n) {
    for (int i = 0; i < n;) {
        const unsigned c = b[i];
        if (c == '\n') printf("\\n"), i++;
        else if (c == '\\') printf("\\\\"), i++;
        else if (c >= 0x20 && c < 0x7f) putchar((int)c), i++;
        else if (c >= 0x80) {
            int nul, len = 0;
            for (int k = 2; k <= 4 && i + k <= n && !len; k++)
                if (corpus_first_bad(b + i, (size_t)k, &nul) == (size_t)k) len = k;
            if (len && !(c == 0xc2 && b[i + 1] < 0xa0)) { /* not a C1 control */
                fwrite(b + i, 1, (size_t)len, stdout);
                i += len;
            } else {
                printf("\\x%02x", c), i++;
            }
        } else {
            printf("\\x%02x", c), i++;
        }
    }
}

/* The text task: x is text whose bytes are the tokens. The model's loss per
 * byte on it, then `gen` bytes of greedy continuation. seq and pos have room
 * for n + gen + 1 tokens, the model for as many positions. */
static void predict_text(GPT *m, const RunConfig *cfg, const char *run, const unsigned char *x, int n, int gen,
                         int *seq, int *pos, int recompute) {
    const int A = cfg->task.alphabet, V = m->cfg.V;
    seq[0] = task_bos(A);
    for (int i = 0; i < n; i++) seq[i + 1] = x[i];
    for (int t = 0; t <= n + gen; t++) pos[t] = t;
    Decoder dec;
    if (decoder_init(&dec, m, recompute, n + gen + 1, n + 1) != 0) {
        fprintf(stderr, "posenc: internal error: %s\n", core_error());
        abort();
    }
    double loss = 0.0;
    int right = 0;
    for (int t = 0; t < n; t++) { /* row t predicts x_(t+1) */
        const float *q = next_probs(&dec, seq, pos, t + 1);
        loss -= log((double)q[x[t]]);
        right += argmax_f(q, V) == x[t];
    }
    printf("run %s: task text, pe %s\n", run, cfg->model.pe);
    printf("text (%d bytes): \"", n);
    print_text_escaped(x, n);
    printf("\"\nloss per byte %.4f nats (perplexity %.4f); the model's most likely byte is right at %d of %d\n",
           loss / n, exp(loss / n), right, n);
    unsigned char *out = core_calloc((size_t)gen + 1, 1);
    int len = n + 1, made = 0;
    for (; made < gen; made++) {
        const int best = argmax_f(next_probs(&dec, seq, pos, len), V);
        if (best >= A) break; /* a special token: no text */
        out[made] = (unsigned char)best;
        seq[len++] = best;
    }
    printf("greedy continuation (%d bytes): \"", made);
    print_text_escaped(out, made);
    printf("\"\n");
    free(out);
    decoder_free(&dec);
}

void token_name(char *buf, size_t cap, int t, int A, const char *const *sym) {
    if (t < A && sym) snprintf(buf, cap, "%s", sym[t]);
    else if (t < A) snprintf(buf, cap, "%d", t);
    else if (t == task_pad(A)) snprintf(buf, cap, "PAD");
    else if (t == task_bos(A)) snprintf(buf, cap, "BOS");
    else if (t == task_sep(A)) snprintf(buf, cap, "SEP");
    else snprintf(buf, cap, "EOS");
}

/* The command line: 0, or the exit status after printing (--help: 0 with *help set). */
typedef struct {
    const char *run, *problem, *logits;
    int recompute;
    long generate;
} PredictOptions;

static int predict_options(int argc, char **argv, PredictOptions *o, int *help) {
    const char *run = NULL, *problem = NULL, *logits = NULL;
    int recompute = 0;
    long generate = -1;
    *help = 0;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            predict_usage(stdout);
            *help = 1;
            return 0;
        } else if (strcmp(argv[i], "--logits") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "posenc predict: --logits needs a token sequence\n");
                return EXIT_USAGE;
            }
            logits = argv[++i];
        } else if (strcmp(argv[i], "--generate") == 0) {
            char *end;
            if (i + 1 >= argc || (errno = 0, generate = strtol(argv[i + 1], &end, 10), *end || errno) ||
                generate < 0 || generate > 4096) {
                fprintf(stderr, "posenc predict: --generate needs a number of bytes in 0..4096\n");
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(argv[i], "--recompute") == 0) {
            recompute = 1;
        } else if (argv[i][0] == '-' && argv[i][1] && !(argv[i][1] >= '0' && argv[i][1] <= '9')) {
            fprintf(stderr, "posenc predict: unknown option \"%s\" (see posenc predict --help)\n", argv[i]);
            return EXIT_USAGE;
        } else if (!run) {
            run = argv[i];
        } else if (!problem) {
            problem = argv[i];
        } else {
            fprintf(stderr, "posenc predict: too many arguments (quote the problem: \"3 1 4\")\n");
            return EXIT_USAGE;
        }
    }
    if (logits && recompute) {
        fprintf(stderr, "posenc predict: --recompute applies to decoding a problem, not to --logits (one "
                        "forward pass already)\n");
        return EXIT_USAGE;
    }
    if (!run || (!problem && !logits) || (problem && logits)) {
        fprintf(stderr, "posenc predict: give RUN and either a problem \"X1 X2 ...\" or --logits TOKENS "
                        "(see posenc predict --help)\n");
        return EXIT_USAGE;
    }
    *o = (PredictOptions){run, problem, logits, recompute, generate};
    return 0;
}

/* --logits: one forward pass over seq[0..n), every position's logits as JSON. */
static void print_logits(GPT *m, int *seq, int *pos, int n) {
    const int V = m->cfg.V;
    for (int t = 0; t < n; t++) pos[t] = t;
    gpt_reserve_infer(m, 1, n);
    gpt_infer(m, seq, NULL, pos, 1, n);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "tokens", cJSON_CreateIntArray(seq, n));
    cJSON_AddItemToObject(j, "positions", cJSON_CreateIntArray(pos, n));
    cJSON *rows = cJSON_AddArrayToObject(j, "logits");
    for (int t = 0; t < n; t++) cJSON_AddItemToArray(rows, cJSON_CreateFloatArray(m->acts.logits + (size_t)t * V, V));
    char *s = cJSON_PrintUnformatted(j);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
}

/* A problem x of an answer-frame task: the answer decoded greedily, token by
 * token, beside the expected one. 0, or EXIT_RUNTIME after saying why. */
static int predict_answer(GPT *m, const TaskOps *task, const RunConfig *cfg, const char *run, const int *x, int n,
                          int *seq, int *pos, int recompute) {
    const int A = cfg->task.alphabet, V = m->cfg.V, mlen = task->answer_len(n, &cfg->task);
    const int total = task_input_len(task, &cfg->task, n) + 1;
    const char *const *sym = task->symbols ? task->symbols(&cfg->task) : NULL; /* a file of strings: their names */
    int *want = core_calloc(mlen + 1, sizeof(int));
    task->answer(want, x, n, A);
    want[mlen] = task_eos(A);
    int len = 0;
    seq[len++] = task_bos(A);
    for (int i = 0; i < n; i++) seq[len++] = x[i];
    seq[len++] = task_sep(A);
    for (int t = 0; t < total; t++) pos[t] = t;
    Decoder dec;
    if (decoder_init(&dec, m, recompute, total, len) != 0) {
        fprintf(stderr, "posenc predict: %s\n", core_error());
        free(want);
        return EXIT_RUNTIME;
    }

    printf("run %s: task %s, pe %s\n", run, cfg->task.name, cfg->model.pe);
    printf("input     ");
    for (int i = 0; i < n; i++) {
        char xn[TOKEN_NAME_MAX];
        token_name(xn, sizeof xn, x[i], A, sym);
        printf(" %s", xn);
    }
    printf("\n%-6s %-9s %-9s %s\n", "step", "predicted", "expected", "probability");
    int correct = 0;
    for (int k = 0; k <= mlen; k++) {
        const float *p = next_probs(&dec, seq, pos, len);
        int best = 0;
        for (int v = 1; v < V; v++)
            if (p[v] > p[best]) best = v;
        char bn[TOKEN_NAME_MAX], wn[TOKEN_NAME_MAX];
        token_name(bn, sizeof bn, best, A, sym);
        token_name(wn, sizeof wn, want[k], A, sym);
        correct += best == want[k];
        printf("%-6d %-9s %-9s %.4f%s\n", k + 1, bn, wn, p[best], best == want[k] ? "" : "   <- wrong");
        seq[len++] = best;
        if (best == task_eos(A)) break;
    }
    decoder_free(&dec);
    printf("%s: %d of %d answer tokens (with EOS) correct\n", correct == mlen + 1 ? "exact match" : "not exact",
           correct, mlen + 1);
    free(want);
    return 0;
}

int cmd_predict(int argc, char **argv) {
    PredictOptions po;
    int help;
    const int orc = predict_options(argc, argv, &po, &help);
    if (orc != 0 || help) return orc;
    const char *run = po.run, *problem = po.problem, *logits = po.logits;
    const int recompute = po.recompute;
    const long generate = po.generate;
    RunConfig cfg;
    GPT m;
    int lr = rundir_open(run, 1, &cfg, &m, NULL); /* the run's files agree, its weights are finite */
    if (lr != 0) {
        fprintf(stderr, "posenc predict: %s\n", core_error());
        return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    const int A = cfg.task.alphabet;
    enum { CAP = 3 * 4096 + 8 }; /* the longest sequence: duplicate at n = 4096 (BOS x SEP x x EOS) */
    int *seq = core_calloc(CAP, sizeof(int)), *pos = core_calloc(CAP, sizeof(int));
    int rc = 0;
    const TaskOps *task = task_find(cfg.task.name);

    if (logits) {
        int n = parse_tokens(logits, A, 1, NULL, seq, CAP);
        if (n < 0 || (n > m.cfg.P && pe_has(cfg.model.pe, PE_TRAINED_POSITIONS))) {
            if (n > m.cfg.P) rundir_table_error(run, cfg.model.pe, n, m.cfg.P);
            fprintf(stderr, "posenc predict: --logits: %s\n", core_error());
            rc = EXIT_USAGE;
            goto done;
        }
        if (n > m.cfg.P) { /* no parameter depends on P: rebuild the tables with room for n positions */
            gpt_free(&m);
            if ((lr = rundir_load(run, n, &cfg, &m, NULL)) != 0) {
                fprintf(stderr, "posenc predict: %s\n", core_error());
                free(seq);
                free(pos);
                return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
            }
        }
        print_logits(&m, seq, pos, n);
        goto done;
    }

    if (task->alphabet && task->sample_eval_x) { /* the text task: the problem is text */
        const size_t bytes = strlen(problem);
        int nul;
        if (bytes == 0 || bytes > 4096 || corpus_first_bad((const unsigned char *)problem, bytes, &nul) < bytes) {
            fprintf(stderr, "posenc predict: the text must be 1..4096 bytes of UTF-8, got %zu bytes%s\n", bytes,
                    bytes && bytes <= 4096 ? " that are not UTF-8" : "");
            rc = EXIT_USAGE;
            goto done;
        }
        const int tn = (int)bytes, gen = generate < 0 ? 64 : (int)generate;
        if (tn + gen + 1 > m.cfg.P) {
            gpt_free(&m);
            if ((lr = rundir_load(run, tn + gen + 1, &cfg, &m, NULL)) != 0) {
                fprintf(stderr, "posenc predict: %s\n", core_error());
                free(seq);
                free(pos);
                return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
            }
        }
        predict_text(&m, &cfg, run, (const unsigned char *)problem, tn, gen, seq, pos, recompute);
        goto done;
    }
    if (generate >= 0) {
        fprintf(stderr, "posenc predict: --generate applies to the text task only (this run's task is %s)\n",
                cfg.task.name);
        rc = EXIT_USAGE;
        goto done;
    }
    int x[4096];
    const char *const *sym = NULL; /* a task's file of strings: the problem is read by their names */
    if (task->symbols && task_open(task, &cfg.task, NULL, 0) != 0) {
        fprintf(stderr, "posenc predict: %s: %s\n", run, core_error());
        rc = EXIT_USAGE;
        goto done;
    }
    if (task->symbols) sym = task->symbols(&cfg.task);
    int n = parse_tokens(problem, A, 0, sym, x, 4096);
    if (n < 0) {
        fprintf(stderr, "posenc predict: %s\n", core_error());
        rc = EXIT_USAGE;
        goto done;
    }
    if (task_open_problem(task, &cfg.task, x, n) != 0) { /* a task over a file: its answer to x */
        fprintf(stderr, "posenc predict: %s: %s\n", run, core_error());
        rc = EXIT_USAGE;
        goto done;
    }
    const int lm = task->frame == TASK_FRAME_LM;
    int total = lm ? n + 2 : task_input_len(task, &cfg.task, n) + 1; /* BOS x SEP y EOS; LM: BOS x, next */
    if (total - 1 > m.cfg.P) {
        /* rebuild with room: fine for every encoding but learned (clear error) */
        gpt_free(&m);
        if ((lr = rundir_load(run, total - 1, &cfg, &m, NULL)) != 0) {
            fprintf(stderr, "posenc predict: %s\n", core_error());
            free(seq);
            free(pos);
            return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME; /* too long for a learned table: as eval */
        }
    }
    if (lm) {
        if (!task->next_dist) {
            fprintf(stderr, "posenc predict: task %s has no known source distribution to compare with\n",
                    cfg.task.name);
            rc = EXIT_USAGE;
        } else {
            predict_lm(&m, task, &cfg, run, x, n, seq, pos, recompute);
        }
        goto done;
    }
    rc = predict_answer(&m, task, &cfg, run, x, n, seq, pos, recompute);
done:
    free(seq);
    free(pos);
    gpt_free(&m);
    return rc;
}

/*
 * cmd_report.c — `posenc report DIR`: one self-contained, interactive HTML
 * page of a sweep folder (or of one run directory).
 *
 * The page is cli/report_page.html, built into the program (report_asset.S),
 * with one JSON document put in place of its data marker. Everything the page
 * draws comes from that document, which this file computes with posenc's own
 * code:
 *   runs       every run directory: its config, every evaluation file
 *              (eval.json, eval-<variant>.json: results per length and
 *              accuracy by absolute position, and where each length's answer
 *              sits), or why it has none (failed, unfinished); chance levels
 *              per length
 *   attention  for every run with results: the attention probabilities of
 *              every layer and head (run/attention.h)
 *              on the first evaluation example at the longest training length
 *              and at 2x and 4x it, and for learned-bias encodings (alibi, t5,
 *              fire, kerple) the bias against distance (bias_forward)
 *   schemes    one card per view of `posenc show` with a card hook (cli/show.h),
 *              from model/pe.h's modules: the sinusoidal table (embed_forward), a
 *              trained learned table, RoPE's angles and cos(angle) vs distance
 *              (qk_forward on unit vectors), ALiBi's biases for 1..16 heads
 *              (bias_forward); and each view's verdicts (its judge hook), as the
 *              lines `posenc show` prints ("verdicts") and as data
 *              ("verdict_data": prediction, outcome, detail)
 *   breaks     the break length of every cell (study/aggregate.h: median, min and
 *              max over the seeds, per metric), drawn on the curves
 *              (report_page.html, drawBreaks)
 *   colours    every encoding's colour (model/pe.h, pe_colour); each evaluation
 *              also carries its series' colour and dash (study/style.h), so a
 *              series looks the same on the page as in every figure
 * Every string from a run folder reaches the page only inside that JSON, made
 * safe by html_escape_script_json (study/html.h); the page inserts strings as
 * text only.
 */
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/show.h"
#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "model/pe.h"
#include "run/attention.h"
#include "run/config.h"
#include "run/inspect.h"
#include "run/rundir.h"
#include "run/score.h"
#include "study/aggregate.h"
#include "study/html.h"
#include "study/style.h"
#include "study/sweep.h"

/* the page template, linked in by report_asset.S (NUL-terminated) */
extern const char posenc_report_page[];

#define DATA_MARKER "@@POSENC_REPORT_DATA@@"
#define MAX_RUNS 4096

static void report_usage(FILE *f) {
    fprintf(f,
            "usage: posenc report DIR [--out FILE] [--max-weights N]\n"
            "\n"
            "Write one self-contained HTML page about DIR, a sweep folder (posenc sweep --out\n"
            "DIR) or a single run directory, to FILE (default DIR/report.html). The page works\n"
            "offline from file:// (data, script and styles inline; no network request) and\n"
            "has four interactive panels:\n"
            "  curves     exact match, token accuracy or loss vs evaluation length, one line per\n"
            "             encoding (mean over seeds, band = min..max), seeds on demand, the\n"
            "             training range shaded, chance drawn; hover for values, click the\n"
            "             legend to hide a series\n"
            "  positions  accuracy by absolute position, a heatmap per encoding\n"
            "  attention  attention maps of each trained run, layer and head\n"
            "             selectable, on one evaluation example at the longest training length,\n"
            "             2x and 4x; learned biases (alibi, t5, fire, kerple) vs distance\n"
            "  schemes    sinusoidal, learned, RoPE and ALiBi as computed by posenc's encoding\n"
            "             modules, with the predictions and verdicts of posenc show\n"
            "The page's selections live in the URL fragment (#...), so a view can be linked.\n"
            "Runs without results (failed or unfinished) are listed with the reason.\n"
            "\n"
            "options:\n"
            "  --out FILE       where to write the page (default DIR/report.html)\n"
            "  --max-weights N  attention weights the page holds in all (default 1500000, a few\n"
            "                   MB); above it, only the first seed of each encoding's maps\n");
}

/* ---- small JSON helpers ---------------------------------------------------- */


static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* the value at a dotted key path, as text (sweep_value_text); "" if absent */
static void path_text(const cJSON *root, const char *key, char *buf, size_t cap) {
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", key);
    const cJSON *v = root;
    char *save = NULL;
    for (char *part = strtok_r(tmp, ".", &save); part && v; part = strtok_r(NULL, ".", &save)) v = jget(v, part);
    if (v) sweep_value_text(v, buf, cap);
    else buf[0] = '\0';
}

/* ---- runs ------------------------------------------------------------------ */

typedef struct {
    char dir[4400], id[256];
    char log[4400];      /* the sweep's log of the run (DIR/logs/<id>.log), "" for a single run */
    int ok;              /* config loaded */
    RunConfig cfg;
    char group[512];     /* task + the grid values other than model.pe / train.random_positions */
    int has_default;     /* eval.json complete */
} ReportRun;

static int cmp_names(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* Variant (pm, sc) of run r, as run_inspect judged it (*v: range-checked,
 * of this run, canonical), into the page's object. by_position comes from
 * the same file, parsed and checked again (eval_file_parse): it must be what
 * run_inspect saw. NULL (and *why) if it cannot be read or changed meanwhile. */
static cJSON *eval_entry(const ReportRun *r, int pm, int sc, const RunEval *v, char *why, size_t cap) {
    char stem[80], path[4700];
    eval_variant_stem(pm, sc, stem, sizeof stem);
    snprintf(path, sizeof path, "%s/%s.json", r->dir, stem);
    char *text = file_read_capped(path, (size_t)64 << 20, NULL);
    RunEval *again = core_calloc(1, sizeof *again);
    cJSON *ev = NULL;
    if (!text || eval_file_parse(text, path, again) != 0 || !(ev = cJSON_Parse(text))) {
        snprintf(why, cap, "%s", core_error());
        free(text);
        free(again);
        return NULL;
    }
    free(text);
    const int same = again->num == v->num && again->bp_num == v->bp_num && again->bp_max_pos == v->bp_max_pos &&
                     memcmp(again->n, v->n, sizeof(int) * (size_t)v->num) == 0;
    free(again);
    if (!same) {
        snprintf(why, cap, "%.900s: changed while it was read; report again", path);
        cJSON_Delete(ev);
        return NULL;
    }
    char vname[64], label[160], file[96];
    eval_variant_name(pm, sc, vname, sizeof vname);
    eval_variant_label(r->cfg.model.pe, r->cfg.train.random_positions, pm, sc, label, sizeof label);
    snprintf(file, sizeof file, "%s.json", stem);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "file", file);
    cJSON_AddStringToObject(e, "variant", vname[0] ? vname : "default");
    cJSON_AddStringToObject(e, "label", label);
    SeriesStyle ss; /* the series' colour and dash, as in every figure (study/style.h) */
    series_style(label, &ss);
    cJSON_AddStringToObject(e, "colour", ss.colour);
    cJSON_AddStringToObject(e, "dash", ss.dash_svg);
    cJSON_AddBoolToObject(e, "random_positions", pm == EVAL_POS_RANDOM);
    const TaskOps *t = task_find(r->cfg.task.name);
    const int A = r->cfg.task.alphabet, lm = t && t->frame == TASK_FRAME_LM;
    cJSON *ns = cJSON_AddArrayToObject(e, "n"), *em = cJSON_AddArrayToObject(e, "exact_match"),
          *acc = cJSON_AddArrayToObject(e, "token_acc"), *loss = cJSON_AddArrayToObject(e, "loss"),
          *ppl = cJSON_AddArrayToObject(e, "ppl"), *cem = cJSON_AddArrayToObject(e, "chance_exact_match");
    cJSON *floor = NULL;
    for (int i = 0; i < v->num; i++) { /* every value range-checked by eval_file_parse */
        const int n = v->n[i];
        cJSON_AddItemToArray(ns, cJSON_CreateNumber(n));
        cJSON_AddItemToArray(em, cJSON_CreateNumber(round(v->exact_match[i] * 1e5) / 1e5));
        cJSON_AddItemToArray(acc, cJSON_CreateNumber(round(v->token_acc[i] * 1e5) / 1e5));
        cJSON_AddItemToArray(loss, cJSON_CreateNumber(round(v->loss[i] * 1e5) / 1e5));
        /* perplexity: exp of the loss per counted token, as collect and compare compute it */
        const double pv = dm_exp(v->loss[i]);
        cJSON_AddItemToArray(ppl, isfinite(pv) ? cJSON_CreateNumber(round(pv * 1e4) / 1e4) : cJSON_CreateNull());
        /* an LM task: the lowest loss any model can reach at n (eval.json's loss_floor) */
        if (v->floor[i] >= 0) {
            if (!floor) floor = cJSON_AddArrayToObject(e, "loss_floor");
            cJSON_AddItemToArray(floor, cJSON_CreateNumber(round(v->floor[i] * 1e5) / 1e5));
        }
        /* guessing every counted symbol uniformly: A^-(answer length), A^-n for an LM task */
        const int m = lm || !t ? n : t->answer_len(n, &r->cfg.task);
        cJSON_AddItemToArray(cem, cJSON_CreateNumber(pow((double)A, -(double)m)));
        /* where the answer sits (BOS x1..xn SEP y1..ym EOS): y1 at n + 2, EOS at n + m + 2, in
         * by_position's numbering (the predicted token's index); an LM task has no answer */
        cJSON *af = jget(e, "answer_from") ? (cJSON *)jget(e, "answer_from") : cJSON_AddArrayToObject(e, "answer_from");
        cJSON *ae = jget(e, "answer_end") ? (cJSON *)jget(e, "answer_end") : cJSON_AddArrayToObject(e, "answer_end");
        cJSON_AddItemToArray(af, lm || !t ? cJSON_CreateNull() : cJSON_CreateNumber(n + 2));
        cJSON_AddItemToArray(ae, lm || !t ? cJSON_CreateNull() : cJSON_CreateNumber(n + m + 2));
    }
    cJSON *bp = cJSON_AddObjectToObject(e, "by_position");
    cJSON *bpos = cJSON_AddArrayToObject(bp, "pos"), *bc = cJSON_AddArrayToObject(bp, "correct"),
          *bt = cJSON_AddArrayToObject(bp, "total"), *bl = cJSON_AddArrayToObject(bp, "loss");
    const cJSON *row;
    cJSON_ArrayForEach(row, jget(ev, "by_position")) { /* checked: whole numbers, pos bounded by run_inspect */
        cJSON_AddItemToArray(bpos, cJSON_CreateNumber(cJSON_GetNumberValue(jget(row, "pos"))));
        cJSON_AddItemToArray(bc, cJSON_CreateNumber(cJSON_GetNumberValue(jget(row, "correct"))));
        cJSON_AddItemToArray(bt, cJSON_CreateNumber(cJSON_GetNumberValue(jget(row, "total"))));
        /* the mean loss of the tokens predicted at the position (loss by absolute position, Press et al.) */
        const double l = cJSON_GetNumberValue(jget(row, "loss"));
        cJSON_AddItemToArray(bl, isfinite(l) ? cJSON_CreateNumber(round(l * 1e5) / 1e5) : cJSON_CreateNull());
    }
    cJSON_Delete(ev);
    return e;
}

/* A run directory's entry: its settings and evaluations, or why it has none.
 * run_inspect judges it (run/inspect.h), as for collect, eval and predict: a
 * run whose files disagree or hold values out of range is listed as
 * "invalid" with the reason, and nothing of it is drawn. */
static cJSON *run_entry(ReportRun *r, char keys[][64], int nkeys, RunInfo *ri) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", r->id);
    char path[4700], why[1024] = "";
    const int st = run_inspect(r->dir, ri);
    if (st == RUN_IO || st == RUN_INVALID) {
        fprintf(stderr, "posenc report: %s: left out, nothing drawn from it: %s\n", r->id, core_error());
        cJSON_AddStringToObject(e, "status", "invalid");
        cJSON_AddStringToObject(e, "error", core_error());
        return e;
    }
    if (st == RUN_OK) {
        r->ok = 1;
        r->cfg = ri->cfg;
    }
    const RunConfig *c = &r->cfg;
    cJSON *evs = NULL;
    if (r->ok) {
        cJSON_AddStringToObject(e, "pe", c->model.pe);
        cJSON_AddStringToObject(e, "task", c->task.name);
        cJSON_AddNumberToObject(e, "seed", (double)c->seed);
        cJSON_AddNumberToObject(e, "alphabet", c->task.alphabet);
        cJSON_AddNumberToObject(e, "train_min_len", c->task.min_len);
        cJSON_AddNumberToObject(e, "train_max_len", c->task.max_len);
        cJSON_AddBoolToObject(e, "train_random_positions", c->train.random_positions);
        cJSON_AddNumberToObject(e, "steps", c->train.steps);
        const TaskOps *t = task_find(c->task.name);
        cJSON_AddBoolToObject(e, "lm", t && t->frame == TASK_FRAME_LM);
        /* absolute positions 1..train_T are predicted in training (eval's by_position counts pos + 1) */
        if (t) cJSON_AddNumberToObject(e, "train_T", task_max_train_input_len(t, &c->task));
        cJSON_AddNumberToObject(e, "chance_token_acc", 1.0 / c->task.alphabet);
        cJSON_AddNumberToObject(e, "chance_loss", log((double)c->task.alphabet));
        cJSON_AddNumberToObject(e, "chance_ppl", c->task.alphabet);
        /* the group: the task, then the other grid values (from the resolved config) */
        char *cj = config_to_json(c);
        cJSON *raw = cJSON_Parse(cj);
        free(cj);
        snprintf(r->group, sizeof r->group, "%s", c->task.name);
        cJSON *gv = cJSON_AddObjectToObject(e, "grid");
        for (int k = 0; k < nkeys; k++) {
            char v[64];
            path_text(raw, keys[k], v, sizeof v);
            cJSON_AddStringToObject(gv, keys[k], v);
            if (strcmp(keys[k], "model.pe") == 0 || strcmp(keys[k], "train.random_positions") == 0 ||
                strcmp(keys[k], "task.name") == 0)
                continue;
            size_t len = strlen(r->group);
            snprintf(r->group + len, sizeof r->group - len, ", %s=%s", keys[k], v);
        }
        cJSON_Delete(raw);
        cJSON_AddStringToObject(e, "group", r->group);
        /* its canonical evaluations (ad-hoc and stale files are never drawn: docs/SPEC.md §2.0) */
        evs = cJSON_AddArrayToObject(e, "evals");
        if (!ri->trained)
            snprintf(why, sizeof why, "%s", ri->ckpt_step < 0 ? "no results: training did not finish (no model, no "
                                                                "eval.json)" : ri->why);
        for (int pm = 0; pm < EVAL_POS_COUNT && ri->trained; pm++)
            for (int sc = 0; sc < PE_ROPE_SCALING_COUNT; sc++) {
                const RunEval *v = &ri->eval[pm][sc];
                if (!v->present || v->stale[0]) {
                    if (v->present && !why[0]) snprintf(why, sizeof why, "%s", v->stale);
                    continue;
                }
                char w[1024];
                cJSON *ev = eval_entry(r, pm, sc, v, w, sizeof w);
                if (ev) {
                    cJSON_AddItemToArray(evs, ev);
                    if (pm == EVAL_POS_PLAIN && sc == PE_ROPE_SCALING_NONE) r->has_default = 1;
                } else if (!why[0]) {
                    snprintf(why, sizeof why, "%s", w);
                }
            }
        if (!why[0] && !ri->complete) snprintf(why, sizeof why, "%s", ri->why);
    } else {
        snprintf(why, sizeof why, "%s", core_error()); /* not a run directory */
    }
    if (!evs || cJSON_GetArraySize(evs) == 0) {
        cJSON_AddStringToObject(e, "status", "failed");
        if (!why[0]) {
            snprintf(path, sizeof path, "%s/model.safetensors", r->dir);
            snprintf(why, sizeof why, "%s", path_exists(path) ? "not evaluated (no eval.json)"
                                                              : "no results: training did not finish (no model, no eval.json)");
        }
        /* a sweep's log ends with the run's own message (e.g. a non-finite loss) */
        char *log = r->log[0] && path_exists(r->log) ? file_read_capped(r->log, (size_t)16 << 20, NULL) : NULL;
        if (log) {
            size_t n = strlen(log);
            while (n && (log[n - 1] == '\n' || log[n - 1] == '\r' || log[n - 1] == ' ')) log[--n] = '\0';
            const char *last = strrchr(log, '\n');
            last = last ? last + 1 : log;
            if (*last) {
                size_t k = strlen(why);
                snprintf(why + k, sizeof why - k, "; the log %s ends: %.400s", r->log, last);
            }
            free(log);
        }
        cJSON_AddStringToObject(e, "error", why);
    } else {
        cJSON_AddStringToObject(e, "status", "ok");
    }
    return e;
}

/* ---- inside the models ------------------------------------------------------ */

static int is_bias_pe(const char *pe) {
    const PEOps *ops = pe_find(pe); /* an encoding that biases the attention scores */
    return ops && ops->bias_forward;
}

/* The attention examples: the longest training length and 2x, 4x it. */
static const int attention_mult[3] = {1, 2, 4};
/* A sweep's report holds every run's maps up to this many weights in all (--max-weights). */
#define ATTENTION_BUDGET 1500000
/* One run's maps are left out above this many weights (or --max-weights, if larger): a run trained on
 * long inputs cannot make a page that a browser cannot draw, whatever its config says. */
#define ATTENTION_RUN_MAX (4.0 * ATTENTION_BUDGET)

/* The number of weights attention_entry stores for run r. */
static double attention_cells(const ReportRun *r) {
    const TaskOps *t = task_find(r->cfg.task.name);
    double cells = 0;
    for (int k = 0; k < 3; k++) {
        const double T = task_input_len(t, &r->cfg.task, r->cfg.task.max_len * attention_mult[k]);
        cells += (double)r->cfg.model.L * r->cfg.model.NH * T * (T + 1) / 2;
    }
    return cells;
}

/* Attention maps on the first evaluation example at the longest training
 * length and 2x, 4x it; bias vs distance for learned-bias encodings. */
static cJSON *attention_entry(const ReportRun *r, const char *label) {
    const RunConfig *c = &r->cfg;
    const TaskOps *t = task_find(c->task.name);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "run", r->id);
    cJSON_AddStringToObject(e, "label", label);
    cJSON_AddStringToObject(e, "group", r->group);
    cJSON_AddStringToObject(e, "pe", c->model.pe);
    cJSON_AddNumberToObject(e, "layers", c->model.L);
    cJSON_AddNumberToObject(e, "heads", c->model.NH);
    cJSON_AddNumberToObject(e, "train_T", task_max_train_input_len(t, &c->task));
    cJSON *exs = cJSON_AddArrayToObject(e, "examples");
    const int base = c->task.max_len, *mult = attention_mult;
    int longest_T = 0;
    for (int k = 0; k < 3; k++) {
        const int n = base * mult[k], T = task_input_len(t, &c->task, n);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "n", n);
        cJSON_AddNumberToObject(x, "times", mult[k]);
        cJSON_AddItemToArray(exs, x);
        RunConfig lc;
        GPT m;
        if (rundir_load(r->dir, T, &lc, &m, NULL) != 0) {
            cJSON_AddStringToObject(x, "skipped", core_error());
            continue;
        }
        int *seq = core_calloc(T, sizeof(int));
        const size_t cells = (size_t)m.cfg.L * m.cfg.NH * T * T;
        float *att = core_calloc(cells, sizeof(float));
        TaskConfig tc = c->task; /* a task over a file reads it first */
        if (task_open(t, &tc, &n, 1) != 0 || attention_eval_input(t, &tc, c->eval.seed, n, seq) < 0 ||
            attention_maps(&m, seq, T, -1, -1, att) != 0) {
            cJSON_AddStringToObject(x, "skipped", core_error());
        } else {
            cJSON *tok = cJSON_AddArrayToObject(x, "tokens");
            for (int i = 0; i < T; i++) {
                char nm[TOKEN_NAME_MAX];
                token_name(nm, sizeof nm, seq[i], c->task.alphabet, t->symbols ? t->symbols(&tc) : NULL);
                cJSON_AddItemToArray(tok, cJSON_CreateString(nm));
            }
            /* weights in thousandths (0..1000; the page divides by 1000), the causal part
             * only: per layer and head the rows i = 0..T-1, keys j = 0..i */
            const size_t tri = (size_t)T * (T + 1) / 2, maps = (size_t)m.cfg.L * m.cfg.NH;
            int *q = core_calloc(maps * tri, sizeof(int));
            size_t k = 0;
            for (size_t mp = 0; mp < maps; mp++)
                for (int i = 0; i < T; i++)
                    for (int jj = 0; jj <= i; jj++) q[k++] = (int)lrint(att[(mp * T + i) * T + jj] * 1000.0f);
            cJSON_AddItemToObject(x, "weights_milli", cJSON_CreateIntArray(q, (int)k));
            free(q);
            if (T > longest_T) longest_T = T;
        }
        free(att);
        free(seq);
        gpt_free(&m);
    }
    if (is_bias_pe(c->model.pe) && longest_T > 1) {
        RunConfig lc;
        GPT m;
        if (rundir_load(r->dir, longest_T, &lc, &m, NULL) == 0) {
            PEConfig pc = gpt_pe_config(&m.cfg);
            pc.P = longest_T;
            PE pe;
            if (pe_init(&pe, c->model.pe, &pc) == 0) {
                pe.params = m.params.pe;
                const size_t nc = (size_t)pc.L * pc.NH;
                float *cur = core_calloc(nc * longest_T, sizeof(float));
                show_bias_curves(&pe, longest_T, longest_T - 1, cur);
                cJSON *b = cJSON_AddObjectToObject(e, "bias");
                cJSON_AddNumberToObject(b, "layers", pc.L);
                cJSON_AddNumberToObject(b, "heads", pc.NH);
                cJSON_AddNumberToObject(b, "distances", longest_T);
                cJSON_AddItemToObject(b, "values", show_json_numbers(cur, nc * longest_T, 1e-4));
                free(cur);
                pe_free(&pe);
            }
            gpt_free(&m);
        }
    }
    return e;
}

/* ---- the schemes: one card per view with a card hook -------------------------- */

/* The verdicts of the view at the options the card set, as the page's
 * strings (the line `posenc show` prints) and as data. */
static void card_verdicts(const ShowView *view, Show *s, cJSON *o) {
    char cmd[4600];
    show_command(s, cmd, sizeof cmd);
    cJSON *lines = cJSON_AddArrayToObject(o, "verdicts"), *data = cJSON_AddArrayToObject(o, "verdict_data");
    ShowVerdicts v = {0};
    s->no_plot = 1;
    int rc = show_prepare(s);
    if (rc == 0 && view->judge) rc = view->judge(s, view, &v);
    show_release(s);
    for (int i = 0; i < v.n; i++) {
        char line[1400];
        show_verdict_text(&v.v[i], line, sizeof line);
        cJSON_AddItemToArray(lines, cJSON_CreateString(line));
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "prediction", v.v[i].prediction);
        cJSON_AddStringToObject(d, "outcome", show_outcome_name(v.v[i].outcome));
        cJSON_AddStringToObject(d, "detail", v.v[i].detail);
        cJSON_AddItemToArray(data, d);
    }
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "posenc show failed: %s", core_error());
        cJSON_AddItemToArray(lines, cJSON_CreateString(msg));
    }
    cJSON_AddStringToObject(o, "command", cmd);
}

/* Every view's card (cli/show.h), keyed by its encoding, with its verdicts;
 * a card takes its settings from the first finished run of its encoding. */
static cJSON *schemes_entry(const ReportRun *runs, int nruns) {
    cJSON *s = cJSON_CreateObject();
    for (int k = 0; k < show_num_views; k++) {
        const ShowView *view = show_views[k];
        if (!view->card) continue;
        const ReportRun *r = NULL;
        for (int i = 0; i < nruns && !r; i++)
            if (runs[i].ok && runs[i].has_default && strcmp(runs[i].cfg.model.pe, view->enc) == 0) r = &runs[i];
        const ShowCardRun run = {r ? r->dir : NULL, r ? r->id : NULL, r ? &r->cfg : NULL};
        cJSON *o = cJSON_AddObjectToObject(s, view->enc);
        Show sh;
        show_defaults(&sh);
        sh.enc = view->enc;
        if (view->card(view, r ? &run : NULL, &sh, o) != 0) {
            cJSON_AddStringToObject(o, "error", core_error());
            continue;
        }
        card_verdicts(view, &sh, o);
    }
    return s;
}

/* ---- the command ------------------------------------------------------------ */

/* The breaks of a sweep folder's cells (study/aggregate.h, findings.h), or
 * null when it cannot be aggregated (no complete run yet, files that
 * disagree): [{group, label, metric, n, last_ok, in_range, coarse, lo, hi,
 * rule, fraction | factor}], group named as runs_entry does. metric is
 * exact_match, token_acc, loss or ppl (loss and ppl share perplexity's rule);
 * n is the median over the seeds of the first evaluated length past the
 * threshold and last_ok the evaluated length before it (the break lies in
 * (last_ok, n]); in_range: n is inside the training range (an evaluation
 * variant measured against its unscaled evaluation); coarse: the grid places
 * it to worse than a quarter (n - last_ok > last_ok / 4); lo, hi: the range of
 * n over the seeds (hi = the longest evaluated length when some seed never
 * crosses); rule "below" (fraction x the in-range value) or "above"
 * (perplexity above factor x). Cells that never cross are left out. */
static cJSON *breaks_entry(const char *dir) {
    AggTable t;
    const AggOptions o = {.allow_mixed = 1};
    if (aggregate_load_sweep(dir, &o, &t) < 0) {
        aggregate_free(&t);
        return cJSON_CreateNull();
    }
    cJSON *arr = cJSON_CreateArray();
    for (int c = 0; c < t.ncells; c++) {
        const AggCell *cell = &t.cells[c];
        char group[512];
        snprintf(group, sizeof group, "%s", cell->task);
        for (int k = 0; k < t.nkeys; k++) {
            if (t.enc_key[k] || strcmp(t.keys[k], "task.name") == 0) continue;
            size_t len = strlen(group);
            snprintf(group + len, sizeof group - len, ", %s=%s", t.keys[k], cell->values[k]);
        }
        for (int m = 0; m < AGG_NMETRICS; m++) {
            const BreakSummary *bs = &cell->brk[m];
            if (!bs->defined || bs->median <= 0) continue; /* none, or past every length */
            const int lower = agg_lower_better(m), in_range = bs->median <= cell->max_len;
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "group", group);
            cJSON_AddStringToObject(b, "label", cell->label);
            cJSON_AddStringToObject(b, "metric", agg_metric_name(m));
            cJSON_AddNumberToObject(b, "n", bs->median);
            cJSON_AddNumberToObject(b, "last_ok", bs->median_last_ok);
            cJSON_AddBoolToObject(b, "in_range", in_range);
            cJSON_AddBoolToObject(b, "coarse", !in_range && break_coarse(bs->median_last_ok, bs->median));
            cJSON_AddNumberToObject(b, "lo", bs->min);
            cJSON_AddNumberToObject(b, "hi", bs->max > 0 ? bs->max : cell->n_max);
            cJSON_AddStringToObject(b, "rule", lower ? "above" : "below");
            cJSON_AddNumberToObject(b, lower ? "factor" : "fraction", lower ? t.break_factor : t.break_fraction);
            cJSON_AddItemToArray(arr, b);
        }
    }
    aggregate_free(&t);
    return arr;
}

/* The run directories of DIR: a sweep folder's runs/ (sorted), else DIR itself. */
static int list_runs(const char *dir, int is_sweep, ReportRun *runs) {
    int nruns = 0;
    if (is_sweep) {
        char rd[4096];
        snprintf(rd, sizeof rd, "%s/runs", dir);
        DIR *d = opendir(rd);
        char (*names)[256] = core_calloc(MAX_RUNS, sizeof *names);
        int nn = 0;
        for (struct dirent *e; d && (e = readdir(d));)
            if (e->d_name[0] != '.' && nn < MAX_RUNS) snprintf(names[nn++], 256, "%s", e->d_name);
        if (d) closedir(d);
        qsort(names, nn, sizeof *names, cmp_names);
        for (int i = 0; i < nn; i++) {
            snprintf(runs[nruns].dir, sizeof runs[nruns].dir, "%s/%s", rd, names[i]);
            struct stat sb;
            if (stat(runs[nruns].dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
            snprintf(runs[nruns].id, sizeof runs[nruns].id, "%s", names[i]);
            snprintf(runs[nruns].log, sizeof runs[nruns].log, "%s/logs/%.255s.log", dir, names[i]);
            nruns++;
        }
        free(names);
    } else {
        snprintf(runs[0].dir, sizeof runs[0].dir, "%s", dir);
        const char *base = strrchr(dir, '/');
        while (base && !base[1] && base > dir) { /* "runs/x/" */
            const char *p = base - 1;
            while (p > dir && *p != '/') p--;
            base = p;
        }
        snprintf(runs[0].id, sizeof runs[0].id, "%s", base && base[1] ? base + 1 : dir);
        runs[0].id[strcspn(runs[0].id, "/")] = '\0';
        nruns = 1;
    }
    return nruns;
}

/* The attention maps: every run with results, or, if their maps would exceed
 * max_weights (~3 bytes each in the page), the first seed of each group and encoding. */
static void attention_section(cJSON *data, const ReportRun *runs, int nruns, long max_weights) {
    cJSON *att = cJSON_AddArrayToObject(data, "attention");
    double cells = 0;
    for (int i = 0; i < nruns; i++)
        if (runs[i].ok && runs[i].has_default) cells += attention_cells(&runs[i]);
    const int first_only = cells > max_weights;
    if (first_only) {
        char note[256];
        snprintf(note, sizeof note, "the first seed of each encoding only: every run's maps would hold %.3g weights "
                 "(more than --max-weights %ld)", cells, max_weights);
        cJSON_AddStringToObject(data, "attention_note", note);
    }
    for (int i = 0; i < nruns; i++) {
        if (!runs[i].ok || !runs[i].has_default) continue;
        char label[160];
        eval_variant_label(runs[i].cfg.model.pe, runs[i].cfg.train.random_positions, EVAL_POS_PLAIN,
                           PE_ROPE_SCALING_NONE, label, sizeof label);
        int seen = 0;
        for (int j = 0; first_only && j < i && !seen; j++) {
            if (!runs[j].ok || !runs[j].has_default || strcmp(runs[j].group, runs[i].group) != 0) continue;
            char lj[160];
            eval_variant_label(runs[j].cfg.model.pe, runs[j].cfg.train.random_positions, EVAL_POS_PLAIN,
                               PE_ROPE_SCALING_NONE, lj, sizeof lj);
            seen = strcmp(lj, label) == 0;
        }
        if (seen) continue;
        const double run_max = max_weights > ATTENTION_RUN_MAX ? (double)max_weights : ATTENTION_RUN_MAX;
        if (attention_cells(&runs[i]) > run_max) { /* one run's maps alone: the page's size stays bounded */
            fprintf(stderr, "posenc report: %s: no attention maps (they would hold %.3g weights, more than %.3g)\n",
                    runs[i].id, attention_cells(&runs[i]), run_max);
            continue;
        }
        cJSON_AddItemToArray(att, attention_entry(&runs[i], label));
    }
}

/* The page: the template with the escaped JSON of data in place of the marker,
 * written to outpath (its size in *total). 0, or EXIT_RUNTIME after saying why. */
static int write_page(const char *outpath, cJSON *data, size_t *total) {
    char *json = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    size_t jn;
    char *safe = html_escape_script_json(json, &jn);
    free(json);
    const char *mark = strstr(posenc_report_page, DATA_MARKER);
    if (!mark) {
        fprintf(stderr, "posenc report: internal error: the page template has no data marker\n");
        free(safe);
        return EXIT_RUNTIME;
    }
    const size_t head = (size_t)(mark - posenc_report_page), tail = strlen(mark + strlen(DATA_MARKER));
    char *page = core_calloc(head + jn + tail + 1, 1);
    memcpy(page, posenc_report_page, head);
    memcpy(page + head, safe, jn);
    memcpy(page + head + jn, mark + strlen(DATA_MARKER), tail);
    free(safe);
    *total = head + jn + tail;
    const int rc = file_write_atomic(outpath, page, *total);
    free(page);
    if (rc != 0) {
        fprintf(stderr, "posenc report: %s\n", core_error());
        return EXIT_RUNTIME;
    }
    return 0;
}

int cmd_report(int argc, char **argv) {
    const char *dir = NULL, *out = NULL;
    long max_weights = ATTENTION_BUDGET;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            report_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--max-weights") == 0) {
            if ((max_weights = parse_count(argv[i], i + 1 < argc ? argv[i + 1] : NULL, 1L << 40)) < 0) {
                fprintf(stderr, "posenc report: %s\n", core_error());
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "posenc report: --out needs a file name\n");
                return EXIT_USAGE;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "posenc report: unknown option \"%s\" (see posenc report --help)\n", argv[i]);
            return EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "posenc report: more than one DIR (\"%s\", \"%s\")\n", dir, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!dir) {
        fprintf(stderr, "posenc report: missing DIR, a sweep folder or a run directory (see posenc report --help)\n");
        return EXIT_USAGE;
    }
    char path[4400], outpath[4400];
    snprintf(outpath, sizeof outpath, "%s", out ? out : "");
    if (!out && path_join(outpath, sizeof outpath, dir, "report.html") != 0) {
        fprintf(stderr, "posenc report: %s: path too long\n", dir);
        return EXIT_USAGE;
    }
    cJSON *spec = NULL;
    int is_sweep = 0;
    char keys[SWEEP_MAX_KEYS][64], spec_name[128] = "";
    int nkeys = 0;
    if (path_join(path, sizeof path, dir, "sweep.json") == 0 && path_exists(path)) {
        /* the sweep's spec, checked as collect checks it (aggregate_parse_sweep: grid keys, name) */
        char *text = file_read_capped(path, (size_t)16 << 20, NULL);
        cJSON *grid = NULL;
        if (!text || aggregate_parse_sweep(text, path, keys, &nkeys, spec_name, sizeof spec_name, &grid) != 0) {
            fprintf(stderr, "posenc report: %s\n", core_error());
            free(text);
            return text ? EXIT_USAGE : EXIT_RUNTIME;
        }
        cJSON_Delete(grid);
        spec = cJSON_Parse(text);
        free(text);
        is_sweep = 1;
    } else if (!(path_join(path, sizeof path, dir, "config.json") == 0 && path_exists(path))) {
        fprintf(stderr, "posenc report: %s is neither a sweep folder (no sweep.json) nor a run directory "
                        "(no config.json)\n", dir);
        return EXIT_USAGE;
    }

    /* the run directories */
    ReportRun *runs = core_calloc(MAX_RUNS, sizeof *runs);
    const int nruns = list_runs(dir, is_sweep, runs);

    cJSON *data = cJSON_CreateObject();
    cJSON_AddNumberToObject(data, "format", 1);
    char name[256] = "";
    if (spec) path_text(spec, "name", name, sizeof name);
    cJSON_AddStringToObject(data, "kind", is_sweep ? "sweep" : "run");
    cJSON_AddStringToObject(data, "name", name[0] ? name : runs[0].id);
    const char *desc = spec ? cJSON_GetStringValue(jget(spec, "description")) : NULL;
    cJSON_AddStringToObject(data, "description", desc ? desc : "");
    cJSON_AddStringToObject(data, "source", dir);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    cJSON_AddStringToObject(data, "generated", when);
    cJSON *gk = cJSON_AddArrayToObject(data, "grid_keys");
    for (int k = 0; k < nkeys; k++) cJSON_AddItemToArray(gk, cJSON_CreateString(keys[k]));
    cJSON *rarr = cJSON_AddArrayToObject(data, "runs");
    int complete = 0, invalid = 0;
    RunInfo *ri = core_calloc(1, sizeof *ri);
    for (int i = 0; i < nruns; i++) {
        cJSON *e = run_entry(&runs[i], keys, nkeys, ri);
        complete += strcmp(cJSON_GetStringValue(jget(e, "status")), "ok") == 0;
        invalid += strcmp(cJSON_GetStringValue(jget(e, "status")), "invalid") == 0;
        cJSON_AddItemToArray(rarr, e);
    }
    free(ri);
    if (!is_sweep && invalid) { /* the one run asked about: refused as collect refuses it, no page */
        cJSON_Delete(data);
        cJSON_Delete(spec);
        free(runs);
        fprintf(stderr, "posenc report: %s: not reported (its files disagree or hold values out of range; see above)\n",
                dir);
        return EXIT_USAGE;
    }
    attention_section(data, runs, nruns, max_weights);
    cJSON_AddItemToObject(data, "schemes", schemes_entry(runs, nruns));
    cJSON_AddItemToObject(data, "breaks", is_sweep ? breaks_entry(dir) : cJSON_CreateNull());
    /* every encoding's colour (model/pe.h), for the page's cards */
    cJSON *colours = cJSON_AddObjectToObject(data, "colours");
    for (int i = 0; i < pe_count(); i++) cJSON_AddStringToObject(colours, pe_at(i)->name, pe_colour(pe_at(i)->name));
    cJSON_Delete(spec);
    free(runs);

    size_t total = 0;
    if (write_page(outpath, data, &total) != 0) return EXIT_RUNTIME;
    printf("report: %s (%.2f MB; %d run%s, %d with results%s)\n", outpath, total / 1e6, nruns, nruns == 1 ? "" : "s",
           complete, invalid ? "; some runs invalid, left out: see above" : "");
    return 0;
}

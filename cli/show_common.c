/* show_common.c — what the views of `posenc show` share (cli/show.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/show.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "data/task.h"
#include "run/rundir.h"

/* ---- the views ------------------------------------------------------------- */

extern const ShowView show_view_sinusoidal, show_view_learned, show_view_rope, show_view_alibi, show_view_t5,
    show_view_fire, show_view_kerple, show_view_xpos;

/* One file each (cli/show_<view>.c); an encoding without one is refused with
 * the list of those that have one. The order is that of the report's cards. */
const ShowView *const show_views[] = {
    &show_view_sinusoidal, &show_view_learned, &show_view_rope,   &show_view_alibi,
    &show_view_t5,         &show_view_fire,    &show_view_kerple, &show_view_xpos,
};
const int show_num_views = (int)(sizeof show_views / sizeof show_views[0]);

const ShowView *show_view_find(const char *enc) {
    for (int i = 0; i < show_num_views; i++)
        if (strcmp(show_views[i]->enc, enc) == 0) return show_views[i];
    return NULL;
}

/* ---- verdicts ---------------------------------------------------------------- */

const char *show_outcome_name(ShowOutcome o) {
    return o == SHOW_CONFIRMED ? "confirmed" : o == SHOW_REFUTED ? "refuted" : "not tested";
}

void show_verdict_add(ShowVerdicts *v, const char *prediction, ShowOutcome o, const char *fmt, ...) {
    if (v->n == SHOW_MAX_VERDICTS) {
        fprintf(stderr, "posenc: more than SHOW_MAX_VERDICTS (%d) verdicts\n", SHOW_MAX_VERDICTS);
        abort();
    }
    ShowVerdict *x = &v->v[v->n++];
    x->prediction = prediction;
    x->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->detail, sizeof x->detail, fmt, ap);
    va_end(ap);
}

void show_verdict_text(const ShowVerdict *v, char *buf, size_t n) {
    snprintf(buf, n, "docs/SPEC.md §5 prediction: \"%s\" — %s: %s", v->prediction, show_outcome_name(v->outcome),
             v->detail);
}

void show_print_verdicts(const ShowVerdicts *v) {
    for (int i = 0; i < v->n; i++) {
        char line[1400];
        show_verdict_text(&v->v[i], line, sizeof line);
        printf("%s\n", line);
    }
}

/* ---- options ------------------------------------------------------------------ */

void show_defaults(Show *s) {
    memset(s, 0, sizeof *s);
    s->seed = 1;
    pe_settings_default(&s->set);
}

int show_prepare(Show *s) {
    if (s->run) {
        if (s->dim || s->heads) {
            core_errorf("--dim and --heads are taken from the run with --run");
            return EXIT_USAGE;
        }
        const int lr = rundir_open(s->run, 1, &s->cfg, &s->model, &s->step); /* the one judge of a run */
        if (lr != 0) return lr == RUNDIR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
        s->have_model = 1;
        if (strcmp(s->cfg.model.pe, s->enc) != 0) {
            core_errorf("%s was trained with model.pe = %s, not %s; for its pictures run: posenc show %s --run %s",
                        s->run, s->cfg.model.pe, s->enc, s->cfg.model.pe, s->run);
            show_release(s);
            return EXIT_USAGE;
        }
        const TaskOps *task = task_find(s->cfg.task.name);
        s->train_T = task_max_train_input_len(task, &s->cfg.task);
        s->dim = s->cfg.model.C, s->heads = s->cfg.model.NH;
        s->set = s->cfg.model.pe_set;
        if (!s->len) s->len = s->cfg.model.P;
        if (pe_has(s->enc, PE_TRAINED_POSITIONS) && s->len > s->cfg.model.P) {
            core_errorf("--len %d: the %s table of %s has only model.max_positions = %d rows", s->len, s->enc, s->run,
                        s->cfg.model.P);
            show_release(s);
            return EXIT_USAGE;
        }
    }
    if (!s->len) s->len = 64;
    if (!s->dim) s->dim = 64;
    if (!s->heads) s->heads = 4;
    if (s->dim % s->heads) {
        core_errorf("--heads %d does not divide --dim %d", s->heads, s->dim);
        show_release(s);
        return EXIT_USAGE;
    }
    return 0;
}

void show_release(Show *s) {
    if (s->have_model) gpt_free(&s->model);
    s->have_model = 0;
}

void show_command(const Show *s, char *buf, size_t n) {
    size_t used = (size_t)snprintf(buf, n, "posenc show %s", s->enc);
    if (s->run && used < n) { /* a shell word: quoted when it holds anything but [A-Za-z0-9_./+-] */
        const int plain = s->run[0] && strspn(s->run, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-") ==
                                          strlen(s->run);
        char *q = plain ? NULL : esc_sh(s->run);
        used += (size_t)snprintf(buf + used, n - used, " --run %s", q ? q : s->run);
        free(q);
    }
    if (s->len && used < n) used += (size_t)snprintf(buf + used, n - used, " --len %d", s->len);
    if (s->dim && used < n) used += (size_t)snprintf(buf + used, n - used, " --dim %d", s->dim);
    if (s->heads && used < n) snprintf(buf + used, n - used, " --heads %d", s->heads);
}

cJSON *show_json_numbers(const float *v, size_t n, double q) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        cJSON_AddItemToArray(a, isfinite(x) ? cJSON_CreateNumber(round(x / q) * q) : cJSON_CreateNull());
    }
    return a;
}

/* ---- drawing ------------------------------------------------------------------- */

/* Append s as a gnuplot single-quoted string. */
void show_gp_quote(PlotScript *ps, const char *s) {
    char *q = esc_gnuplot(s, 0);
    plot_printf(ps, "%s", q);
    free(q);
}

/* Inline datablock $name of "r c value" rows for a (rows, cols) row-major
 * array, every sr-th row and sc-th column; NaN entries are drawn transparent. */
void show_emit_grid(PlotScript *ps, const char *name, const float *a, int rows, int cols, int sr, int sc) {
    plot_printf(ps, "$%s << EOD\n", name);
    for (int r = 0; r < rows; r += sr) {
        for (int c = 0; c < cols; c += sc) {
            float v = a[(size_t)r * cols + c];
            if (v == v)
                plot_printf(ps, "%d %d %.6g\n", r, c, v);
            else
                plot_printf(ps, "%d %d NaN\n", r, c);
        }
        plot_printf(ps, "\n");
    }
    plot_printf(ps, "EOD\n");
}

int show_stride(int n, int max_cells) { return n <= max_cells ? 1 : (n + max_cells - 1) / max_cells; }

/* Marker for the longest training input: positions >= train_T never occur in training. */
void show_mark_training(PlotScript *ps, const Show *s, const char *what) {
    if (!s->train_T || s->train_T >= s->len) return;
    plot_printf(ps, "set arrow 1 from first %g, graph 0 to first %g, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n",
                s->train_T - 0.5, s->train_T - 0.5);
    plot_printf(ps, "set label 1 '%s' at first %g, graph 0.96 left offset 0.5,0 front tc rgb '#000000'\n", what,
                s->train_T - 0.5);
}

void show_unmark(PlotScript *ps) { plot_printf(ps, "unset arrow 1\nunset label 1\n"); }

int show_render(const Show *s, PlotScript *ps, int w, int h) {
    if (s->no_plot) return 0;
    char base[4096];
    if (path_join(base, sizeof base, s->out, s->enc) != 0) return -1;
    if (plot_render(ps->text, base, w, h) != 0) return -1;
    printf("\nwrote %s.png and %s.svg\n", base, base);
    return 0;
}

/* The encoding's settings at the --dim/--heads/--len of the picture: the
 * run's (--run), else every encoding's defaults; one layer. */
PEConfig show_pe_config(const Show *s) {
    PEConfig pc;
    if (s->have_model) pc = gpt_pe_config(&s->cfg.model);
    else pe_config_default(&pc);
    pc.C = s->dim, pc.NH = s->heads, pc.hs = s->dim / s->heads, pc.L = 1, pc.P = s->len;
    pc.set = s->set;
    return pc;
}

double show_setting(const PEConfig *pc, const char *key) {
    const int k = pe_setting_find(key);
    return k >= 0 ? pc->set.v[k] : NAN;
}

double show_scalar(const PEScalar *sc, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(sc[i].name, name) == 0) return sc[i].value;
    return NAN;
}

/* What embed_forward adds to an all-zero embedding at positions 0..len-1: (len, C). */
float *show_embed_table(const PE *pe, int len, int C) {
    float *t = core_calloc((size_t)len * C, sizeof(float));
    int *pos = core_calloc(len, sizeof(int));
    for (int p = 0; p < len; p++) pos[p] = p;
    pe->ops->embed_forward(pe, t, pos, len);
    free(pos);
    return t;
}

/* Heads, pairs and dimensions, which are not encodings: steps along viridis
 * (dark to light, its pale yellow end left out), so that they never look like
 * an encoding, whose colour (model/pe.h, pe_colour) is the same in every
 * figure; the same ramp as the report page's. Black is kept for summary lines. */
const char *const show_colors[SHOW_NUM_COLORS] = {"#440154", "#472d7b", "#3b528b", "#2c728e",
                                                  "#21918c", "#28ae80", "#5ec962", "#addc30"};

const char *show_ramp(int i, int n) {
    if (n > SHOW_NUM_COLORS || n < 2) return show_colors[(i < 0 ? 0 : i) % SHOW_NUM_COLORS];
    return show_colors[i * (SHOW_NUM_COLORS - 1) / (n - 1)];
}

/* A figure of rows x cols panels and one legend in a strip of strip_px pixels
 * under them (w x h pixels in all, 50 at the top for the title): the margins
 * of panel k (row-major). Used without `set multiplot layout`. */
void show_panel_at(PlotScript *ps, int k, int rows, int cols, int w, int h, int strip_px) {
    const int r = k / cols, c = k % cols;
    const double top = 1.0 - 50.0 / h, bottom = (double)strip_px / h, ph = (top - bottom) / rows;
    const double x0 = (double)c / cols;
    plot_printf(ps, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n"
                    "set tmargin at screen %.4f\nset bmargin at screen %.4f\n",
                x0 + 75.0 / w, x0 + 1.0 / cols - 25.0 / w, top - r * ph - 28.0 / h, top - (r + 1) * ph + 50.0 / h);
}

/* Start the figure's one legend: a plot of nothing but its key in the strip
 * at the bottom (strip_px pixels); the caller appends the entries (NaN with
 * the style and title of each series) and a newline. */
void show_legend_strip(PlotScript *ps, int h, int strip_px, int maxcols) {
    plot_printf(ps, "unset title\nunset arrow 1\nunset label 1\nunset xlabel\nunset ylabel\nunset grid\n"
                    "unset border\nunset tics\nunset colorbox\nunset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
                    "set lmargin at screen 0.02\nset rmargin at screen 0.98\n"
                    "set bmargin at screen 0.005\nset tmargin at screen %.4f\n"
                    "set key center center horizontal maxcols %d samplen 4 spacing 1.2 font ',10'\nplot ",
                (double)(strip_px - 4) / h, maxcols);
}

/* colour #rrggbb darkened to 60 %, for a second series in the same hue drawn on top */
void show_darker(const char *colour, char out[8]) {
    unsigned rgb = (unsigned)strtoul(colour + 1, NULL, 16);
    snprintf(out, 8, "#%02x%02x%02x", (rgb >> 16 & 255) * 6 / 10, (rgb >> 8 & 255) * 6 / 10, (rgb & 255) * 6 / 10);
}

/* The model whose encoding is shown: the run's (--run), else a fresh one of
 * encoding `enc` at the --dim/--heads/--len settings, initialised with --seed
 * (built into *fresh; the caller frees it when !s->have_model). NULL on error. */
GPT *show_model(Show *s, const char *enc, GPT *fresh, GPTConfig *mc) {
    if (s->have_model) {
        *mc = s->model.cfg;
        return &s->model;
    }
    gpt_config_default(mc);
    mc->V = task_vocab(10);
    mc->C = s->dim, mc->NH = s->heads, mc->P = s->len;
    snprintf(mc->pe, sizeof mc->pe, "%s", enc);
    if (gpt_build(fresh, mc) != 0) return NULL;
    gpt_init_params(fresh, s->seed);
    return fresh;
}

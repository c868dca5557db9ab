/*
 * show.h — the views of `posenc show ENCODING` (cli/cmd_show.c): one file
 * per view, cli/show_<view>.c, each defining a ShowView that names the
 * encoding it draws; cli/show_common.c holds the table of views. Every
 * number a view prints comes from the encoding's own module (model/pe.h
 * hooks and exported functions), never from a re-derivation.
 *
 * A view's verdicts on the predictions of docs/SPEC.md §5 are data
 * (ShowVerdicts, from its judge hook): `posenc show` prints them, and
 * `posenc report` (cli/cmd_report.c) puts them on the view's card of the
 * page's schemes panel, next to the numbers of the view's card hook. To give
 * an encoding a card: write its card hook and add the card to
 * cli/report_page.html; the report loops over the table of views.
 */
#ifndef POSENC_SHOW_H
#define POSENC_SHOW_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "model/gpt.h"
#include "model/pe.h"
#include "run/config.h"
#include "study/plot.h"

#define PI 3.14159265358979323846

typedef struct {
    const char *enc, *run, *out;
    int len, dim, heads;
    uint64_t seed;
    PESettings set;  /* the encodings' settings: the run's (--run), else the defaults */
    int rope_scaling, orig_len; /* --rope-scaling (PERopeScaling), --orig-len (0 = default) */
    double rope_scale;          /* --rope-scale (0 = default) */
    /* with --run */
    RunConfig cfg;
    GPT model;       /* the run's model (built by rundir_load) */
    int have_model;
    long step;
    int train_T;     /* positions 0..train_T-1 occur in training inputs; 0 without --run */
    int no_plot;     /* --no-plot: print the figures and verdicts only, write no picture */
} Show;

/* ---- verdicts -------------------------------------------------------------- */

typedef enum { SHOW_NOT_TESTED, SHOW_CONFIRMED, SHOW_REFUTED } ShowOutcome;

/* One prediction of docs/SPEC.md §5 and what the figures say about it. */
typedef struct {
    const char *prediction; /* the prediction's words, as docs/SPEC.md §5 states them */
    ShowOutcome outcome;
    char detail[1024];      /* the figures that decide it (or why it is not tested) */
} ShowVerdict;

#define SHOW_MAX_VERDICTS 4
typedef struct {
    int n;
    ShowVerdict v[SHOW_MAX_VERDICTS];
} ShowVerdicts;

/* "confirmed", "refuted" or "not tested". */
const char *show_outcome_name(ShowOutcome o);
/* Append a verdict (printf-style detail); beyond SHOW_MAX_VERDICTS it aborts (a programming error). */
void show_verdict_add(ShowVerdicts *v, const char *prediction, ShowOutcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* One line: docs/SPEC.md §5 prediction: "<prediction>" — <outcome>: <detail> */
void show_verdict_text(const ShowVerdict *v, char *buf, size_t n);
/* Print every verdict, one line each. */
void show_print_verdicts(const ShowVerdicts *v);

/* ---- views ------------------------------------------------------------------ */

/* A finished run of the view's encoding that a report card may take its
 * settings from (cli/cmd_report.c). */
typedef struct {
    const char *dir, *id;
    const RunConfig *cfg;
} ShowCardRun;

/* A view: the encoding it draws and its hooks. */
typedef struct ShowView {
    const char *enc;
    /* Print the figures and the verdicts, write DIR/ENCODING.png and .svg
     * unless --no-plot: 0, EXIT_USAGE or EXIT_RUNTIME with an error set. */
    int (*draw)(Show *s, const struct ShowView *view);
    /* (optional) The verdicts at s's settings, as data; prints and writes
     * nothing: 0, or -1 with an error set. */
    int (*judge)(Show *s, const struct ShowView *view, ShowVerdicts *out);
    /* (optional) The report's card of this encoding: the numbers the page's
     * card draws, added to `card`; *s gets the `posenc show` options the
     * card's verdicts are judged at (judge hook). run: a finished run of the
     * encoding in the report's folder, or NULL. 0, or -1 with an error set. */
    int (*card)(const struct ShowView *view, const ShowCardRun *run, Show *s, cJSON *card);
} ShowView;

/* Every view, in the order of the report's cards (cli/show_common.c). */
extern const ShowView *const show_views[];
extern const int show_num_views;
/* The view of encoding enc, or NULL. */
const ShowView *show_view_find(const char *enc);

/* Show with every option at its default (as cmd_show starts). */
void show_defaults(Show *s);
/* After the options are set: load the --run RUN (s->run), take its settings,
 * apply the defaults of --len, --dim and --heads, and check them: 0,
 * EXIT_USAGE or EXIT_RUNTIME with an error set. show_release frees what it loaded. */
int show_prepare(Show *s);
void show_release(Show *s);
/* The `posenc show` command line of s's options as given, before show_prepare
 * ("posenc show rope --run R --len 128"). */
void show_command(const Show *s, char *buf, size_t n);
/* Numbers rounded to multiples of q (short JSON); NaN and inf as null. */
cJSON *show_json_numbers(const float *v, size_t n, double q);

/* ---- shared by the views (cli/show_common.c) ---- */

/* Append s as a gnuplot single-quoted string. */
void show_gp_quote(PlotScript *ps, const char *s);
/* Inline datablock $name of "r c value" rows for a (rows, cols) row-major
 * array, every sr-th row and sc-th column; NaN entries are drawn transparent. */
void show_emit_grid(PlotScript *ps, const char *name, const float *a, int rows, int cols, int sr, int sc);
/* The stride that keeps n cells within max_cells. */
int show_stride(int n, int max_cells);
/* Marker for the longest training input: positions >= train_T never occur in training. */
void show_mark_training(PlotScript *ps, const Show *s, const char *what);
void show_unmark(PlotScript *ps);
/* Render the script to DIR/ENCODING.png and .svg (nothing with --no-plot). */
int show_render(const Show *s, PlotScript *ps, int w, int h);
/* The encoding's settings at the --dim/--heads/--len of the picture: the
 * run's (--run), else every encoding's defaults; one layer. */
PEConfig show_pe_config(const Show *s);
/* The value of the encoding setting called key (model.<key>) in pc. */
double show_setting(const PEConfig *pc, const char *key);
/* The value of the scalar called name among sc[0..n) (the scalars hook), NAN if absent. */
double show_scalar(const PEScalar *sc, int n, const char *name);
/* What embed_forward adds to an all-zero embedding at positions 0..len-1: (len, C). */
float *show_embed_table(const PE *pe, int len, int C);
/* RoPE's pairs as the module rotates them, positions 0..len-1 (show_rope.c):
 * angle[p*half + i], the angle of pair (i, i + half) of rope(e_i, p), e_i = 1
 * in the pair's first dimension, unwrapped along p (from 0 at p = 0), and
 * cos[p*half + i] = <rope(e_i, p), rope(e_i, 0)>. Returns half, the number of
 * rotated pairs; the two tables are the caller's to free. */
int show_rope_tables(const PE *pe, int len, double **angle, double **cos);
/* Okabe-Ito, with wine and grey instead of yellow and black (black is kept
 * for summary lines) */
#define SHOW_NUM_COLORS 8
extern const char *const show_colors[SHOW_NUM_COLORS];
/* Series i of n (heads, pairs, dimensions) spread along show_colors: the
 * first dark, the last light (repeating beyond SHOW_NUM_COLORS series). */
const char *show_ramp(int i, int n);
/* A figure of rows x cols panels and one legend in a strip of strip_px pixels
 * under them (w x h pixels in all, 50 at the top for the title): the margins
 * of panel k (row-major). Used without `set multiplot layout`. */
void show_panel_at(PlotScript *ps, int k, int rows, int cols, int w, int h, int strip_px);
/* Start the figure's one legend: a plot of nothing but its key in the strip
 * at the bottom (strip_px pixels); the caller appends the entries (NaN with
 * the style and title of each series) and a newline. */
void show_legend_strip(PlotScript *ps, int h, int strip_px, int maxcols);
/* colour #rrggbb darkened to 60 %, for a second series in the same hue drawn on top */
void show_darker(const char *colour, char out[8]);
/* The model whose encoding is shown: the run's (--run), else a fresh one of
 * encoding `enc` at the --dim/--heads/--len settings, initialised with --seed
 * (built into *fresh; the caller frees it when !s->have_model). NULL on error. */
GPT *show_model(Show *s, const char *enc, GPT *fresh, GPTConfig *mc);

#endif

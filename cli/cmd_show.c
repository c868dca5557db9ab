/*
 * cmd_show.c — `posenc show ENCODING`: pictures of what a position encoding
 * computes, as PNG + SVG, with the numbers printed beside them and a verdict
 * on the encoding's prediction of SPEC §5.
 *
 * Every number comes from the model's own modules (model/pe.h), never from a
 * re-derivation of the formulas: the sinusoidal and learned tables are what
 * embed_forward adds to an all-zero embedding; RoPE angles are read off
 * qk_forward applied to unit vectors, and cos(angle) vs distance is the dot
 * product of a rotated query and key; ALiBi, T5, FIRE and KERPLE biases are
 * bias_forward's rows (after bias_prepare); xPos decays and scores come from
 * qk_forward on unit vectors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/task.h"
#include "model/gpt.h"
#include "model/pe.h"
#include "run/escape.h"
#include "run/fsutil.h"
#include "run/plot.h"
#include "run/rundir.h"

#define PI 3.14159265358979323846

static void show_usage(FILE *f) {
    fprintf(f,
            "usage: posenc show ENCODING [--len N] [--dim C] [--heads H] [--seed S] [--out DIR]\n"
            "       posenc show ENCODING --run RUN [--len N] [--out DIR]\n"
            "       posenc show rope [--run RUN] --rope-scaling pi|ntk|yarn [--rope-scale S] [--orig-len L]\n"
            "\n"
            "Draw what a position encoding computes, print the figures that confirm or refute\n"
            "its prediction in SPEC §5, and write DIR/ENCODING.png and DIR/ENCODING.svg:\n"
            "  sinusoidal  the table PE[p, d], position x dimension, and a fast, a middle and a\n"
            "              slow column; printed: wavelength, change per position and\n"
            "              neighbour correlation of each column pair\n"
            "  learned     the table W[p, d] (a fresh initialisation, or with --run a trained\n"
            "              run's, the rows never reached in training marked) and its row norms;\n"
            "              printed: row norm, |cos| between neighbouring rows and distance from\n"
            "              the initial values, trained vs never-trained rows vs N(0, 0.02) noise\n"
            "  rope        angle p*w_i of each dimension pair vs position, and cos(angle) =\n"
            "              <rope(e_i, d), rope(e_i, 0)> vs distance d; printed per pair. With\n"
            "              --rope-scaling, first a table of each pair's frequency and wavelength\n"
            "              before and after the evaluation-time scaling (posenc eval --rope-scaling),\n"
            "              its rotations over the original context and YaRN's attention factor\n"
            "  alibi       the bias matrix -m_h*(i-j) of every head, and bias vs distance;\n"
            "              printed: slopes, their ratios, distances to bias -1 and -10\n"
            "  t5          the bucket map (distance -> bucket) and the bias of every head vs\n"
            "              distance; with --run: the trained bias and the buckets beyond every\n"
            "              training distance (bitwise their initial values?)\n"
            "  fire        the bias of every layer and head vs distance, for a query at len-1\n"
            "              and one at the longest training input (or len/4); printed: c and L\n"
            "  kerple      the bias -p*log(1 + a*d) of every layer and head; printed: p and a\n"
            "  xpos        each pair's decay zeta_i^(d/gamma) and score cos(d w_i) zeta_i^(d/gamma)\n"
            "              vs distance; printed: zeta_i, w_i, half-life\n"
            "  none        nothing to draw (NoPE adds nothing)\n"
            "\n"
            "options:\n"
            "  --len N      positions 0..N-1 (default 64; with --run: the run's max_positions), 2..4096\n"
            "  --dim C      d_model (default 64), 2..2048\n"
            "  --heads H    attention heads (default 4; must divide C), 1..64\n"
            "  --seed S     initialisation seed of fresh parameters (learned, t5, fire, kerple; default 1)\n"
            "  --run RUN    take d_model, heads, max_positions and the encoding's settings from a\n"
            "               trained run (its model.pe must be ENCODING); marks the longest training\n"
            "               input; for learned, t5, fire and kerple, shows the run's trained parameters\n"
            "  --out DIR    output directory (default: show, or RUN with --run)\n"
            "  --rope-scaling M  rope only: none, pi, ntk or yarn (see posenc eval --help)\n"
            "  --rope-scale S    the factor s >= 1 (default with --run: N / the run's longest\n"
            "               training input, N = --len or max_positions; without --run: required)\n"
            "  --no-plot    print the figures and verdicts only; write no picture (no gnuplot, no DIR)\n"
            "  --orig-len L the original context YaRN's ramp counts rotations over (default: the\n"
            "               run's longest training input; without --run: N / s)\n");
}

/* ---- options and shared state -------------------------------------------- */

typedef struct {
    const char *enc, *run, *out;
    int len, dim, heads;
    uint64_t seed;
    float rope_base, rope_fraction;
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

/* Append s as a gnuplot single-quoted string. */
static void gp_quote(PlotScript *ps, const char *s) {
    char *q = esc_gnuplot(s, 0);
    plot_printf(ps, "%s", q);
    free(q);
}

/* Inline datablock $name of "r c value" rows for a (rows, cols) row-major
 * array, every sr-th row and sc-th column; NaN entries are drawn transparent. */
static void emit_grid(PlotScript *ps, const char *name, const float *a, int rows, int cols, int sr, int sc) {
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

static int stride_for(int n, int max_cells) { return n <= max_cells ? 1 : (n + max_cells - 1) / max_cells; }

/* Marker for the longest training input: positions >= train_T never occur in training. */
static void mark_training(PlotScript *ps, const Show *s, const char *what) {
    if (!s->train_T || s->train_T >= s->len) return;
    plot_printf(ps, "set arrow 1 from first %g, graph 0 to first %g, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n",
                s->train_T - 0.5, s->train_T - 0.5);
    plot_printf(ps, "set label 1 '%s' at first %g, graph 0.96 left offset 0.5,0 front tc rgb '#000000'\n", what,
                s->train_T - 0.5);
}

static void unmark(PlotScript *ps) { plot_printf(ps, "unset arrow 1\nunset label 1\n"); }

static int render(const Show *s, PlotScript *ps, int w, int h) {
    if (s->no_plot) return 0;
    char base[4096];
    if (path_join(base, sizeof base, s->out, s->enc) != 0) return -1;
    if (plot_render(ps->text, base, w, h) != 0) return -1;
    printf("\nwrote %s.png and %s.svg\n", base, base);
    return 0;
}

/* The encoding's settings at the --dim/--heads/--len of the picture: the
 * run's (--run), else every encoding's defaults; one layer. */
static PEConfig pe_config(const Show *s) {
    PEConfig pc;
    if (s->have_model) pc = gpt_pe_config(&s->cfg.model);
    else pe_config_default(&pc);
    pc.C = s->dim, pc.NH = s->heads, pc.hs = s->dim / s->heads, pc.L = 1, pc.P = s->len;
    pc.rope_base = s->rope_base, pc.rope_fraction = s->rope_fraction;
    return pc;
}

/* What embed_forward adds to an all-zero embedding at positions 0..len-1: (len, C). */
static float *embed_table(const PE *pe, int len, int C) {
    float *t = pe_calloc((size_t)len * C, sizeof(float));
    int *pos = pe_calloc(len, sizeof(int));
    for (int p = 0; p < len; p++) pos[p] = p;
    pe->ops->embed_forward(pe, t, pos, len);
    free(pos);
    return t;
}

/* Okabe-Ito, with wine and grey instead of yellow and black (black is kept
 * for summary lines) */
static const char *const colors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                     "#E69F00", "#56B4E9", "#882255", "#999999"};
#define NUM_COLORS 8

/* A figure of rows x cols panels and one legend in a strip of strip_px pixels
 * under them (w x h pixels in all, 50 at the top for the title): the margins
 * of panel k (row-major). Used without `set multiplot layout`. */
static void panel_at(PlotScript *ps, int k, int rows, int cols, int w, int h, int strip_px) {
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
static void legend_strip(PlotScript *ps, int h, int strip_px, int maxcols) {
    plot_printf(ps, "unset title\nunset arrow 1\nunset label 1\nunset xlabel\nunset ylabel\nunset grid\n"
                    "unset border\nunset tics\nunset colorbox\nunset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
                    "set lmargin at screen 0.02\nset rmargin at screen 0.98\n"
                    "set bmargin at screen 0.005\nset tmargin at screen %.4f\n"
                    "set key center center horizontal maxcols %d samplen 4 spacing 1.2 font ',10'\nplot ",
                (double)(strip_px - 4) / h, maxcols);
}

/* colour #rrggbb darkened to 60 %, for a second series in the same hue drawn on top */
static void darker(const char *colour, char out[8]) {
    unsigned rgb = (unsigned)strtoul(colour + 1, NULL, 16);
    snprintf(out, 8, "#%02x%02x%02x", (rgb >> 16 & 255) * 6 / 10, (rgb >> 8 & 255) * 6 / 10, (rgb & 255) * 6 / 10);
}

/* ---- sinusoidal --------------------------------------------------------- */

typedef struct {
    double omega, wavelength, cycles, mean_dabs, r1;
} ColumnStats;

/* Statistics of column c of the (len, C) table over positions [p0, p1). */
static ColumnStats column_stats(const float *t, int C, int c, int p0, int p1) {
    ColumnStats st = {0};
    double sd = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    int n = 0;
    for (int p = p0; p + 1 < p1; p++, n++) {
        double x = t[(size_t)p * C + c], y = t[(size_t)(p + 1) * C + c];
        sd += fabs(y - x);
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    if (n) {
        st.mean_dabs = sd / n;
        double cov = sxy / n - sx / n * sy / n, vx = sxx / n - sx / n * sx / n, vy = syy / n - sy / n * sy / n;
        st.r1 = vx > 1e-14 && vy > 1e-14 ? cov / sqrt(vx * vy) : NAN;
    }
    return st;
}

static int show_sinusoidal(Show *s) {
    const int C = s->dim, len = s->len;
    PEConfig pc = pe_config(s);
    PE pe;
    if (pe_init(&pe, "sinusoidal", &pc) != 0) return EXIT_USAGE;
    float *t = embed_table(&pe, len, C);
    pe_free(&pe);

    /* the frequency of pair i, read off the table: the angle at p = 1 of (sin, cos) */
    const int npairs = C / 2;
    int sel[8], ns = 0;
    int cand[] = {0, 1, 2, npairs / 8, npairs / 4, npairs / 2, 3 * npairs / 4, npairs - 1};
    for (int k = 0; k < 8; k++) {
        int dup = cand[k] < 0 || cand[k] >= npairs;
        for (int j = 0; j < ns; j++) dup |= sel[j] == cand[k];
        if (!dup) sel[ns++] = cand[k];
    }
    for (int a = 1; a < ns; a++) /* ascending */
        for (int b = a; b > 0 && sel[b] < sel[b - 1]; b--) {
            int x = sel[b];
            sel[b] = sel[b - 1];
            sel[b - 1] = x;
        }
    printf("sinusoidal, d_model C = %d, positions 0..%d: PE[p, 2i] = sin(p*w_i), PE[p, 2i+1] = cos(p*w_i)\n", C,
           len - 1);
    printf("(w_i read off the table as the angle of (PE[1,2i+1], PE[1,2i]); the other figures are over the\n"
           " column d = 2i, the sin column, across positions; i.i.d. draws of sin(uniform) would give\n"
           " mean |change| %.3f and neighbour correlation 0)\n\n", 8.0 / (PI * PI));
    printf("  %4s %4s  %10s  %11s  %9s  %13s  %10s  %22s\n", "i", "d", "w_i", "wavelength", "cycles",
           "mean |change|", "neighbour", "second half of the");
    printf("  %4s %4s  %10s  %11s  %9s  %13s  %10s  %22s\n", "", "", "(rad/pos)", "(positions)", "in window",
           "per position", "corr.", "positions: |chg|, corr.");
    ColumnStats fast = {0}, fast_late = {0}, slow = {0};
    for (int k = 0; k < ns; k++) {
        int i = sel[k], d = 2 * i;
        double w = len > 1 ? atan2(t[(size_t)1 * C + d], t[(size_t)1 * C + d + 1]) : 0;
        ColumnStats st = column_stats(t, C, d, 0, len), late = column_stats(t, C, d, len / 2, len);
        st.omega = w;
        st.wavelength = 2 * PI / w;
        st.cycles = (len - 1) * w / (2 * PI);
        printf("  %4d %4d  %10.4g  %11.4g  %9.3g  %13.4f  %10.3f  %10.4f  %10.3f\n", i, d, w, st.wavelength,
               st.cycles, st.mean_dabs, st.r1, late.mean_dabs, late.r1);
        if (i == 0) fast = st, fast_late = late;
        if (i == npairs - 1) slow = st;
    }

    if (npairs < 2 || len < 8) {
        printf("\nSPEC §5 predictions on sinusoidal columns — not tested: need at least 2 column pairs "
               "(--dim 4) and 8 positions\n");
    } else {
        printf("\nSPEC §5 prediction: \"sinusoidal low-frequency columns vary slowly\" — %s: the slowest pair "
               "(i = %d, columns %d-%d) has a wavelength of %.3g positions, completes %.2g cycles over the %d "
               "positions and changes by %.2g per position\n",
               slow.mean_dabs < 0.01 ? "confirmed" : "refuted", npairs - 1, C - 2, C - 1, slow.wavelength,
               slow.cycles, len, slow.mean_dabs);
        int noise_like = fabs(fast_late.r1) < 0.2;
        printf("SPEC §5 prediction: \"high-frequency ones look like noise at long positions\" — %s: the fastest "
               "column (d = 0) is sin(p) with wavelength %.3g positions; over positions %d..%d its neighbour "
               "correlation is %.3f (noise: 0) and its change per position %.3f (noise: %.3f), over the whole "
               "window %.3f and %.3f%s\n",
               noise_like ? "confirmed" : "refuted", fast.wavelength, len / 2, len - 1, fast_late.r1,
               fast_late.mean_dabs, 8.0 / (PI * PI), fast.r1, fast.mean_dabs,
               noise_like ? ""
                          : ": a regular oscillation at every position, not noise. Sampled at integer positions "
                            "its pattern never repeats exactly (the period 2π is irrational), which is what can "
                            "read as noise in the heatmap");
    }

    /* the picture: heatmap on top, the fastest, two middle and the slowest columns below */
    PlotScript ps;
    plot_script_init(&ps);
    int sr = stride_for(len, 1024), sc = stride_for(C, 512);
    /* the heatmap's rows: every sin column d = 2i (fast to slow), then every cos
     * column d = 2i+1; interleaved, sin next to cos reads as stripes */
    const int nsin = (C + 1) / 2;
    float *sorted = pe_calloc((size_t)len * C, sizeof *sorted);
    for (int p = 0; p < len; p++)
        for (int r = 0; r < C; r++) sorted[(size_t)p * C + r] = t[(size_t)p * C + (r < nsin ? 2 * r : 2 * (r - nsin) + 1)];
    emit_grid(&ps, "pe", sorted, len, C, sr, sc);
    free(sorted);
    /* the sin columns of the fastest pair, two middle ones and the slowest (distinct pairs only) */
    int cand2[4] = {0, npairs / 4, npairs / 2, npairs - 1}, cols[4], ncols = 0;
    for (int k = 0; k < 4; k++)
        if (!ncols || cols[ncols - 1] != 2 * cand2[k]) cols[ncols++] = 2 * cand2[k];
    plot_printf(&ps, "$cols << EOD\n");
    for (int p = 0; p < len; p++) {
        plot_printf(&ps, "%d", p);
        for (int k = 0; k < ncols; k++) plot_printf(&ps, " %.6g", t[(size_t)p * C + cols[k]]);
        plot_printf(&ps, "\n");
    }
    plot_printf(&ps, "EOD\n");
    plot_printf(&ps,
                "set multiplot layout 2,1 title 'Sinusoidal position encoding, C = %d: PE[p, 2i] = sin(p·ω_i),"
                " PE[p, 2i+1] = cos(p·ω_i), ω_i = 10000^{-2i/C}' font ',12'\n"
                "set lmargin at screen 0.07\nset rmargin at screen 0.80\n"
                "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
                "set cbrange [-1:1]\nset cblabel 'PE[p, d]'\n"
                "set xrange [%g:%g]\nset yrange [%g:%g]\n"
                "set xlabel 'position p'\nset ylabel 'sin columns | cos columns (each fast → slow)'\n"
                "set title 'the table, sin columns d = 2i below, cos columns d = 2i+1 above (i = 0 fastest)%s'\n",
                C, -0.5 * sr, len - 1 + 0.5 * sr, -0.5 * sc, C - 1 + 0.5 * sc,
                sr > 1 || sc > 1 ? ", subsampled" : "");
    /* tics name the column d; a line parts the sin block from the cos block */
    plot_printf(&ps, "set ytics (");
    for (int q = 0; q < 4; q++) {
        const int i = q * (C / 2) / 4;
        if (i < nsin) plot_printf(&ps, "%s'sin d=%d' %d", q ? ", " : "", 2 * i, i);
        if (nsin + i < C) plot_printf(&ps, ", 'cos d=%d' %d", 2 * i + 1, nsin + i);
    }
    plot_printf(&ps, ")\nset arrow 2 from graph 0, first %g to graph 1, first %g nohead front lw 2 lc rgb '#000000'\n",
                nsin - 0.5, nsin - 0.5);
    mark_training(&ps, s, "longest training input");
    plot_printf(&ps, "plot $pe using 1:2:3 with image notitle\n");
    plot_printf(&ps, "unset colorbox\nunset arrow 2\nset ytics autofreq\nset yrange [-1.1:1.1]\nset ylabel 'PE[p, d]'\n"
                     "set title 'single columns vs position'\nset key below horizontal\nset bmargin 6\n");
    plot_printf(&ps, "set xrange [-0.5:%g]\n", len - 0.5);
    plot_printf(&ps, "plot ");
    for (int k = 0; k < ncols; k++) {
        int i = cols[k] / 2;
        double lam = 2 * PI * pow(10000.0, 2.0 * i / C);
        plot_printf(&ps, "%s$cols using 1:%d with linespoints pt 7 ps 0.4 lw 1.5 lc rgb '%s' title 'd = %d (λ = %.3g)'",
                    k ? ", " : "", k + 2, colors[k], cols[k], lam);
    }
    plot_printf(&ps, "\nunset multiplot\n");
    int rc = render(s, &ps, 1200, 850);
    plot_script_free(&ps);
    free(t);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* ---- learned ------------------------------------------------------------ */

typedef struct {
    int n;                  /* rows */
    double norm;            /* mean ||W[p]|| */
    double nbr_cos;         /* mean |cos(W[p], W[p+1])| over neighbouring rows both in the group */
    double moved;           /* mean ||W[p] - W_init[p]|| */
    double max_moved;       /* max |W - W_init| */
} RowStats;

static RowStats row_stats(const float *w, const float *w0, int C, int p0, int p1) {
    RowStats st = {0};
    int nn = 0;
    for (int p = p0; p < p1; p++) {
        const float *r = w + (size_t)p * C;
        double n2 = 0, d2 = 0;
        for (int c = 0; c < C; c++) {
            n2 += (double)r[c] * r[c];
            if (w0) {
                double d = (double)r[c] - w0[(size_t)p * C + c];
                d2 += d * d;
                if (fabs(d) > st.max_moved) st.max_moved = fabs(d);
            }
        }
        st.norm += sqrt(n2);
        st.moved += sqrt(d2);
        if (p + 1 < p1) {
            const float *q = r + C;
            double dot = 0, q2 = 0;
            for (int c = 0; c < C; c++) dot += (double)r[c] * q[c], q2 += (double)q[c] * q[c];
            if (n2 > 0 && q2 > 0) st.nbr_cos += fabs(dot) / sqrt(n2 * q2);
            nn++;
        }
    }
    st.n = p1 - p0;
    if (st.n) st.norm /= st.n, st.moved /= st.n;
    if (nn) st.nbr_cos /= nn;
    return st;
}

static void print_row_stats(const char *what, RowStats st, int have_init) {
    printf("  %-36s %5d  %13.4f  %12.4f", what, st.n, st.norm, st.nbr_cos);
    if (have_init) printf("  %14.4g  %12.4g", st.moved, st.max_moved);
    printf("\n");
}

/* The model whose encoding is shown: the run's (--run), else a fresh one of
 * encoding `enc` at the --dim/--heads/--len settings, initialised with --seed
 * (built into *fresh; the caller frees it when !s->have_model). NULL on error. */
static GPT *shown_model(Show *s, const char *enc, GPT *fresh, GPTConfig *mc) {
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

static int show_learned(Show *s) {
    const int C = s->dim, len = s->len;
    GPT fresh, *m;
    GPTConfig mc;
    if (!(m = shown_model(s, "learned", &fresh, &mc))) return EXIT_USAGE;
    float *w = embed_table(&m->pe, len, C);
    /* the same table at initialisation (the run's seed) */
    GPT init;
    float *w0 = NULL;
    if (s->have_model) {
        if (gpt_build(&init, &mc) != 0) {
            free(w);
            return EXIT_RUNTIME;
        }
        gpt_init_params(&init, s->cfg.seed);
        w0 = embed_table(&init.pe, len, C);
        gpt_free(&init);
    } else {
        gpt_free(&fresh);
    }

    /* what N(0, 0.02) noise gives: E||x|| = 0.02 sqrt(2) G((C+1)/2)/G(C/2), Var||x|| = 0.02^2 C - E^2;
     * two independent isotropic vectors: E|cos| = G(C/2) / (sqrt(pi) G((C+1)/2)), E cos^2 = 1/C */
    const double lg = lgamma((C + 1) / 2.0) - lgamma(C / 2.0);
    const double noise_norm = 0.02 * sqrt(2.0) * exp(lg), noise_cos = exp(-lg) / sqrt(PI);
    const double sd_norm = sqrt(fmax(0.0004 * C - noise_norm * noise_norm, 0)),
                 sd_cos = sqrt(fmax(1.0 / C - noise_cos * noise_cos, 0));
    const int T = s->have_model ? (s->train_T < len ? s->train_T : len) : 0;

    if (s->have_model)
        printf("learned table of run %s (step %ld): P = %d positions x C = %d, task %s trained on n = %d..%d, "
               "so inputs span positions 0..%d; rows %d..%d never occur in training\n",
               s->run, s->step, len, C, s->cfg.task.name, s->cfg.task.min_len, s->cfg.task.max_len,
               s->train_T - 1, s->train_T, len - 1);
    else
        printf("learned table, fresh initialisation N(0, 0.02) (seed %llu): P = %d positions x C = %d\n",
               (unsigned long long)s->seed, len, C);
    printf("\n  %-36s %5s  %13s  %12s", "rows", "count", "mean ||W[p]||", "|cos| nbrs");
    if (w0) printf("  %14s  %12s", "||W-W_init||", "max |W-W_init|");
    printf("\n");
    RowStats tr = {0}, un = {0};
    if (s->have_model) {
        tr = row_stats(w, w0, C, 0, T);
        un = row_stats(w, w0, C, T, len);
        print_row_stats("trained (positions < longest input)", tr, 1);
        if (un.n) print_row_stats("never trained", un, 1);
    } else {
        un = row_stats(w, NULL, C, 0, len);
        print_row_stats("all (untrained)", un, 0);
    }
    /* the spread of those means over un.n rows (un.n - 1 neighbour pairs) of pure noise */
    const double se_norm = un.n ? sd_norm / sqrt(un.n) : 0, se_cos = un.n > 1 ? sd_cos / sqrt(un.n - 1) : 0;
    printf("  %-36s %5s  %13.4f  %12.4f\n", "expected of N(0, 0.02) noise", "", noise_norm, noise_cos);
    printf("  %-36s %5s  %13.4f  %12.4f\n", "  its standard error over that many", "", se_norm, se_cos);
    const double z_norm = se_norm > 0 ? (un.norm - noise_norm) / se_norm : 0,
                 z_cos = se_cos > 0 ? (un.nbr_cos - noise_cos) / se_cos : 0;

    if (!s->have_model) {
        printf("\nSPEC §5 prediction: \"learned has no signal past its training length\" — not tested: a fresh "
               "table is noise everywhere (row norm %.4f, neighbour |cos| %.4f: %+.1f and %+.1f standard errors "
               "from N(0, 0.02) noise); give --run RUN of a run trained with model.pe=learned\n",
               un.norm, un.nbr_cos, z_norm, z_cos);
    } else if (!un.n) {
        printf("\nSPEC §5 prediction: \"learned has no signal past its training length\" — not tested: every row "
               "of this table (P = %d) occurs in training inputs; train with a larger model.max_positions or "
               "longer eval.lengths\n", len);
    } else {
        int same = un.max_moved == 0.0;
        printf("\nSPEC §5 prediction: \"learned has no signal past its training length\" — %s: the %d rows at "
               "positions %d..%d %s (max |W - W_init| = %.3g); their row norm %.4f and neighbour |cos| %.4f "
               "lie %+.1f and %+.1f standard errors from N(0, 0.02) noise (%.4f, %.4f), while the trained rows "
               "moved %.4f on average from their initial values (row norm %.4f, neighbour |cos| %.4f)\n",
               same ? "confirmed" : "refuted", un.n, T, len - 1,
               same ? "are bitwise their initial noise" : "changed in training", un.max_moved, un.norm,
               un.nbr_cos, z_norm, z_cos, noise_norm, noise_cos, tr.moved, tr.norm, tr.nbr_cos);
    }

    PlotScript ps;
    plot_script_init(&ps);
    float amax = 0;
    for (size_t i = 0; i < (size_t)len * C; i++) amax = fabsf(w[i]) > amax ? fabsf(w[i]) : amax;
    if (amax == 0) amax = 1;
    int sr = stride_for(len, 1024), sc = stride_for(C, 512);
    emit_grid(&ps, "w", w, len, C, sr, sc);
    plot_printf(&ps, "$rows << EOD\n");
    for (int p = 0; p < len; p++) {
        double n2 = 0, d2 = 0;
        for (int c = 0; c < C; c++) {
            n2 += (double)w[(size_t)p * C + c] * w[(size_t)p * C + c];
            if (w0) d2 += pow((double)w[(size_t)p * C + c] - w0[(size_t)p * C + c], 2);
        }
        plot_printf(&ps, "%d %.6g %.6g\n", p, sqrt(n2), sqrt(d2));
    }
    plot_printf(&ps, "EOD\n");
    plot_printf(&ps, "set multiplot layout 2,1 title ");
    char title[512];
    if (s->have_model)
        snprintf(title, sizeof title, "Learned position table of run %s (step %ld), P = %d, C = %d", s->run,
                 s->step, len, C);
    else
        snprintf(title, sizeof title, "Learned position table, fresh N(0, 0.02) initialisation, P = %d, C = %d",
                 len, C);
    gp_quote(&ps, title);
    plot_printf(&ps, " font ',12' noenhanced\n");
    if (T && T < len) /* grey the never-trained rows in both panels */
        plot_printf(&ps, "set object 1 rect from first %g, graph 0 to first %g, graph 1 behind "
                         "fc rgb '#e8e8e8' fs solid 1.0 noborder\n", T - 0.5, len - 0.5);
    plot_printf(&ps,
                "set lmargin at screen 0.07\nset rmargin at screen 0.80\n"
                "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
                "set cbrange [%g:%g]\nset cblabel 'W[p, d]'\n"
                "set xrange [%g:%g]\nset yrange [%g:%g]\n"
                "set xlabel 'position p'\nset ylabel 'dimension d'\n"
                "set title 'the table W[p, d] (what is added to the token embedding at position p)%s'\n",
                -amax, amax, -0.5 * sr, len - 1 + 0.5 * sr, -0.5 * sc, C - 1 + 0.5 * sc,
                sr > 1 || sc > 1 ? ", subsampled" : "");
    mark_training(&ps, s, "never trained →");
    plot_printf(&ps, "plot $w using 1:2:3 with image notitle\n");
    plot_printf(&ps, "unset colorbox\nset autoscale y\nset yrange [0:*]\nset ylabel 'row norm'\n"
                     "set xrange [-0.5:%g]\nset key below horizontal\nset bmargin 6\n"
                     "set title 'row norm ||W[p]||%s'\n",
                len - 0.5, w0 ? " and distance moved from the initial values" : "");
    plot_printf(&ps, "plot $rows using 1:2 with linespoints pt 7 ps 0.5 lw 1.5 lc rgb '%s' title '||W[p]||', "
                     "%.6g with lines dt 2 lw 1.5 lc rgb '#555555' title 'N(0, 0.02) noise: %.3f'",
                colors[0], noise_norm, noise_norm);
    if (w0)
        plot_printf(&ps, ", $rows using 1:3 with linespoints pt 5 ps 0.5 lw 1.5 lc rgb '%s' title '||W[p] - W_{init}[p]||'",
                    colors[1]);
    plot_printf(&ps, "\nunset multiplot\n");
    int rc = render(s, &ps, 1200, 850);
    plot_script_free(&ps);
    free(w);
    free(w0);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* The per-pair frequencies before and after an evaluation-time RoPE scaling. */
static int show_rope_scaling(const Show *s) {
    PEConfig pc = pe_config(s);
    const int hs = s->dim / s->heads;
    double scale = s->rope_scale;
    if (scale <= 0) {
        if (!s->train_T) return pe_errorf("--rope-scaling %s: give --rope-scale S (or --run RUN to derive it)",
                                          pe_rope_scaling_name(s->rope_scaling));
        scale = (double)s->len / s->train_T;
        if (scale < 1) scale = 1;
    }
    int L = s->orig_len ? s->orig_len : s->train_T ? s->train_T : (int)lround(s->len / scale);
    if (L < 1) L = 1;
    double *w0 = pe_calloc(hs, sizeof(double)), *w1 = pe_calloc(hs, sizeof(double)), m0 = 1, m1 = 1;
    int half = pe_rope_frequencies(&pc, w0, &m0);
    pc.rope_scaling = s->rope_scaling, pc.rope_scale = (float)scale, pc.rope_orig_len = L;
    if (half < 0 || pe_rope_frequencies(&pc, w1, &m1) < 0) {
        free(w0);
        free(w1);
        return -1;
    }
    printf("RoPE scaling %s, s = %.4g%s, original context L = %d positions%s\n", pe_rope_scaling_name(s->rope_scaling),
           (double)pc.rope_scale, s->rope_scale > 0 ? "" : " (derived: positions shown / longest training input)", L,
           s->orig_len ? "" : s->train_T ? " (the run's longest training input)" : " (N / s)");
    if (s->rope_scaling == PE_ROPE_SCALING_NTK)
        printf("NTK-aware: base' = base * s^(R/(R-2)) = %g * %.4g^(%d/%d) = %.6g\n", s->rope_base, (double)pc.rope_scale,
               2 * half, 2 * half - 2, half > 1 ? s->rope_base * pow(pc.rope_scale, 2.0 * half / (2 * half - 2)) : s->rope_base);
    printf("attention factor on cos/sin %.4f: every attention logit q.k is multiplied by %.4f%s\n\n", m1, m1 * m1,
           s->rope_scaling == PE_ROPE_SCALING_YARN ? " (YaRN: 0.1 ln s + 1 on q and on k)" : "");
    printf("  %4s  %12s  %12s  %12s  %12s  %9s  %12s\n", "pair", "w_i", "wavelength", "w'_i", "wavelength'",
           "w_i/w'_i", "rotations");
    printf("  %4s  %12s  %12s  %12s  %12s  %9s  %12s\n", "i", "(rad/pos)", "(positions)", "(scaled)", "(scaled)", "",
           "over L");
    for (int i = 0; i < half; i++)
        printf("  %4d  %12.5g  %12.5g  %12.5g  %12.5g  %9.4f  %12.4g\n", i, w0[i], 2 * PI / w0[i], w1[i],
               2 * PI / w1[i], w0[i] / w1[i], L * w0[i] / (2 * PI));
    printf("\n(the picture and the analysis below are of the unscaled encoding)\n\n");
    free(w0);
    free(w1);
    return 0;
}

/* ---- rope --------------------------------------------------------------- */

static int show_rope(Show *s) {
    if (s->rope_scaling != PE_ROPE_SCALING_NONE && show_rope_scaling(s) != 0) return EXIT_USAGE;
    const int len = s->len, hs = s->dim / s->heads;
    PEConfig pc = pe_config(s);
    PE pe;
    if (pe_init(&pe, "rope", &pc) != 0) return EXIT_USAGE;
    float *x = pe_calloc(hs, sizeof(float)), *y = pe_calloc(hs, sizeof(float));

    /* the pairs the module rotates (R = 2 * half dimensions) */
    double *freqs = pe_calloc(hs / 2 + 1, sizeof(double)), mscale = 1.0;
    const int rp = pe_rope_frequencies(&pc, freqs, &mscale), half = rp > 0 ? rp : 0, R = 2 * half;
    free(freqs);
    /* angle[p, i]: of pair (i, i + half) after rotating e_i to position p, unwrapped along p;
     * cosd[d, i] = <rope(e_i, d), rope(e_i, 0)>, the score between matching unit query and key */
    double *angle = pe_calloc((size_t)len * half, sizeof(double));
    double *cosd = pe_calloc((size_t)len * half, sizeof(double));
    double *all1 = pe_calloc(len, sizeof(double)); /* <rope(1, d), rope(1, 0)> / hs */
    /* The pairs rotate independently, so one vector holding a 1 in the first
     * dimension of every pair, e = sum_i e_i, rotates them all in one call:
     * query x = rope(e, p), key y = rope(e, 0); pair i's share of <x, y> is
     * <rope(e_i, p), rope(e_i, 0)> = cos(p*w_i). */
    double *prev = pe_calloc(half, sizeof(double));
    for (int k = 0; k < hs; k++) y[k] = k < half ? 1.0f : 0.0f;
    pe.ops->qk_forward(&pe, y, 0, 1);
    for (int p = 0; p < len; p++) {
        for (int k = 0; k < hs; k++) x[k] = k < half ? 1.0f : 0.0f;
        pe.ops->qk_forward(&pe, x, p, 0);
        for (int i = 0; i < half; i++) {
            double a = atan2(x[i + half], x[i]), da = a - prev[i]; /* unwrapped along p */
            while (da > PI) da -= 2 * PI;
            while (da < -PI) da += 2 * PI;
            prev[i] = a;
            angle[(size_t)p * half + i] = (p ? angle[(size_t)(p - 1) * half + i] : 0) + da;
            cosd[(size_t)p * half + i] = (double)x[i] * y[i] + (double)x[i + half] * y[i + half];
        }
    }
    free(prev);
    for (int d = 0; d < len; d++) {
        for (int k = 0; k < hs; k++) x[k] = y[k] = 1;
        pe.ops->qk_forward(&pe, x, d, 0);
        pe.ops->qk_forward(&pe, y, 0, 1);
        double dot = 0;
        for (int k = 0; k < hs; k++) dot += (double)x[k] * y[k];
        all1[d] = dot / hs;
    }
    pe_free(&pe);

    int dist[8], nd = 0;
    for (int d = 1; d < len - 1 && nd < 6; d *= 8) dist[nd++] = d;
    dist[nd++] = len - 1;
    printf("rope, head size hs = %d (%d heads of C = %d), %d dimensions rotated in %d pairs (i, i + %d), "
           "base %g, positions 0..%d\n", hs, s->heads, s->dim, R, half, half, s->rope_base, len - 1);
    printf("(w_i = the angle pair i is turned by at p = 1; cos(d*w_i) = <rope(e_i, d), rope(e_i, 0)>, the score of a\n"
           " query and a key that are both the unit vector e_i of the pair's first dimension)\n\n");
    printf("  %4s  %10s  %11s", "pair", "w_i", "wavelength");
    for (int k = 0; k < nd; k++) printf("  %9s%-4d", "cos at d=", dist[k]);
    printf("  %14s  %16s\n", "first cos < 0", "max cos, d in");
    printf("  %4s  %10s  %11s", "i", "(rad/pos)", "(positions)");
    for (int k = 0; k < nd; k++) printf("  %13s", "");
    printf("  %14s  %16s\n", "at d", "second half");
    double fast_back = -2, fast_min = 2, slow_min = 2;
    int fast_back_d = 0;
    for (int i = 0; i < half; i++) {
        double w = len > 1 ? angle[(size_t)1 * half + i] : 0;
        printf("  %4d  %10.4g  %11.4g", i, w, 2 * PI / w);
        for (int k = 0; k < nd; k++) printf("  %13.4f", cosd[(size_t)dist[k] * half + i]);
        int first = -1;
        double mx = -2, mn = 2;
        int mxd = 0;
        for (int d = 0; d < len; d++) {
            double c = cosd[(size_t)d * half + i];
            if (first < 0 && c < 0) first = d;
            if (d >= len / 2 && c > mx) mx = c, mxd = d;
            if (c < mn) mn = c;
        }
        if (first >= 0)
            printf("  %14d", first);
        else
            printf("  %14s", "never");
        printf("  %9.4f (d=%d)\n", mx, mxd);
        if (i == 0) fast_back = mx, fast_back_d = mxd, fast_min = mn;
        if (i == half - 1) slow_min = mn;
    }
    printf("  %4s  %10s  %11s", "mean", "", "");
    for (int k = 0; k < nd; k++) printf("  %13.4f", all1[dist[k]]);
    printf("   <- <rope(q, d), rope(k, 0)>/hs for q = k = (1, ..., 1)\n");
    if (s->train_T) printf("\nthe run's longest training input spans distances up to %d\n", s->train_T - 1);

    double all1_late = -2;
    for (int d = len / 2; d < len; d++) all1_late = all1[d] > all1_late ? all1[d] : all1_late;
    const double fast_lambda = 2 * PI / angle[(size_t)1 * half];
    if (len - 1 < 2 * fast_lambda) {
        printf("\nSPEC §5 prediction: \"RoPE's cos(angle) decays with distance for fast pairs\" — not tested: "
               "distances up to %d are fewer than two wavelengths of the fastest pair (%.3g); use a larger --len\n",
               len - 1, fast_lambda);
    } else {
        int decays = fast_back < 0.9;
        printf("\nSPEC §5 prediction: \"RoPE's cos(angle) decays with distance for fast pairs\" — %s: pair 0 "
               "(wavelength %.3g positions) %s between %.4f and 1; its largest cos(angle) at distances %d..%d is "
               "%.4f (at d = %d)\n",
               decays ? "confirmed" : "refuted", fast_lambda,
               decays ? "stays low at long distances after starting" : "oscillates without decaying, swinging",
               fast_min, len / 2, len - 1, fast_back, fast_back_d);
    }
    if (half < 2)
        printf("SPEC §5 prediction: \"... and stays near 1 for slow ones\" — not tested: only one pair\n");
    else
        printf("SPEC §5 prediction: \"... and stays near 1 for slow ones\" — %s: pair %d (wavelength %.3g "
               "positions) never goes below %.4f over distances 0..%d\n", slow_min > 0.9 ? "confirmed" : "refuted",
               half - 1, 2 * PI / angle[(size_t)1 * half + half - 1], slow_min, len - 1);
    printf("(the score of q = k = (1, ..., 1), which averages all pairs, does fall: %.4f at d = %d, at most "
           "%.4f over distances %d..%d — the long-term decay of Su et al. is a property of the sum over "
           "pairs)\n", all1[len - 1], len - 1, all1_late, len / 2, len - 1);

    /* the picture: angles (log scale) and cos vs distance for up to 8 pairs */
    int sel[NUM_COLORS], ns = 0;
    if (half <= NUM_COLORS) {
        for (int i = 0; i < half; i++) sel[ns++] = i;
    } else {
        for (int k = 0; k < NUM_COLORS; k++) {
            int i = (int)lround((double)k * (half - 1) / (NUM_COLORS - 1));
            if (!ns || sel[ns - 1] != i) sel[ns++] = i;
        }
    }
    PlotScript ps;
    plot_script_init(&ps);
    plot_printf(&ps, "$r << EOD\n");
    for (int p = 0; p < len; p++) {
        plot_printf(&ps, "%d %.8g", p, all1[p]);
        for (int k = 0; k < ns; k++)
            plot_printf(&ps, " %.8g %.8g", angle[(size_t)p * half + sel[k]], cosd[(size_t)p * half + sel[k]]);
        plot_printf(&ps, "\n");
    }
    plot_printf(&ps, "EOD\n");
    plot_printf(&ps,
                "set multiplot layout 1,2 title 'RoPE, head size %d, %d rotated pairs (i, i+%d), base %g: "
                "angle = p·ω_i, ω_i = base^{-2i/%d}' font ',12'\n"
                "set lmargin at screen 0.06\nset rmargin at screen 0.40\nset bmargin 6\nunset key\n"
                "set xlabel 'position p'\nset ylabel 'angle p·ω_i (radians)'\n"
                "set logscale y\nset format y '10^{%%T}'\nset grid\nset xrange [0:%d]\n"
                "set title 'angle of each pair vs position (log scale)'\n",
                hs, half, half, s->rope_base, R, len - 1);
    /* y from the slowest pair at p = 1 to the fastest at p = len-1 (given, so that a single
     * position never leaves gnuplot an empty range) */
    double ylo = 1e30, yhi = 0;
    for (int k = 0; k < ns; k++) {
        double a1 = angle[(size_t)1 * half + sel[k]], an = angle[(size_t)(len - 1) * half + sel[k]];
        ylo = a1 > 0 && a1 < ylo ? a1 : ylo;
        yhi = an > yhi ? an : yhi;
    }
    if (yhi > 0) plot_printf(&ps, "set yrange [%.6g:%.6g]\n", ylo / 2, yhi * 2);
    mark_training(&ps, s, "longest training input");
    for (int k = 0; k < ns; k++) /* each line labelled at its right end */
        plot_printf(&ps, "set label %d 'pair %d, λ = %.3g' at first %d, first %.6g left offset 0.7,0 tc rgb '%s'\n",
                    10 + k, sel[k], 2 * PI / angle[(size_t)(len > 1) * half + sel[k]], len - 1,
                    angle[(size_t)(len - 1) * half + sel[k]], colors[k]);
    plot_printf(&ps, "plot ");
    for (int k = 0; k < ns; k++)
        plot_printf(&ps, "%s$r using 1:($1 > 0 ? $%d : NaN) with lines lw 2 lc rgb '%s' notitle", k ? ", " : "",
                    3 + 2 * k, colors[k]);
    plot_printf(&ps, "\n");
    for (int k = 0; k < ns; k++) plot_printf(&ps, "unset label %d\n", 10 + k);
    plot_printf(&ps, "unset logscale y\nset format y '%%g'\nset yrange [-1.05:1.05]\n"
                     "set lmargin at screen 0.56\nset rmargin at screen 0.97\nset key below horizontal\n"
                     "set xlabel 'distance d = m - n between query and key'\nset ylabel 'cos(d·ω_i)'\n"
                     "set title 'cos(angle) = <rope(e_i, d), rope(e_i, 0)> vs distance'\n");
    unmark(&ps);
    if (s->train_T) {
        plot_printf(&ps, "set arrow 1 from first %d, graph 0 to first %d, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n",
                    s->train_T - 1, s->train_T - 1);
        plot_printf(&ps, "set label 1 'longest training distance' at first %d, graph 0.96 left offset 0.5,0 front\n",
                    s->train_T - 1);
    }
    plot_printf(&ps, "plot ");
    for (int k = 0; k < ns; k++)
        plot_printf(&ps, "%s$r using 1:%d with lines lw 1.5 lc rgb '%s' notitle", k ? ", " : "", 4 + 2 * k,
                    colors[k]); /* the pairs' colours are labelled in the left panel */
    plot_printf(&ps, ", $r using 1:2 with lines lw 3.5 dt 1 lc rgb '#000000' title 'mean over all pairs "
                     "(each pair in its colour on the left)'\n");
    plot_printf(&ps, "unset multiplot\n");
    int rc = render(s, &ps, 1300, 600);
    plot_script_free(&ps);
    free(angle);
    free(cosd);
    free(all1);
    free(x);
    free(y);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* ---- alibi -------------------------------------------------------------- */

static int show_alibi(Show *s) {
    const int len = s->len, NH = s->heads;
    PEConfig pc = pe_config(s);
    PE pe;
    if (pe_init(&pe, "alibi", &pc) != 0) return EXIT_USAGE;
    float *slopes = pe_calloc(NH, sizeof(float));
    pe_alibi_slopes(slopes, NH);
    /* bias[h][i, j] from bias_forward; NaN above the diagonal (masked) */
    float *bias = pe_calloc((size_t)NH * len * len, sizeof(float));
    int *pos = pe_calloc(len, sizeof(int));
    for (int p = 0; p < len; p++) pos[p] = p;
    double max_dev = 0;
    for (int h = 0; h < NH; h++) {
        for (int i = 0; i < len; i++) {
            float *row = bias + ((size_t)h * len + i) * len;
            pe.ops->bias_forward(&pe, row, 0, h, pos, i);
            for (int j = 0; j <= i; j++) {
                double dev = fabs(row[j] + (double)slopes[h] * (i - j));
                max_dev = dev > max_dev ? dev : max_dev;
            }
            for (int j = i + 1; j < len; j++) row[j] = NAN;
        }
    }
    free(pos);
    pe_free(&pe);

    printf("alibi, %d heads, positions 0..%d: score[i, j] += -m_h * (i - j) for j <= i\n", NH, len - 1);
    printf("slopes:");
    for (int h = 0; h < NH; h++) printf(" %g", slopes[h]);
    printf("\n(bias_forward's rows equal -m_h * (i - j) to within %.3g)\n\n", max_dev);
    printf("  %4s  %12s  %10s  %14s  %14s  %14s\n", "head", "slope m_h", "ratio to", "distance to", "distance to",
           "bias at");
    printf("  %4s  %12s  %10s  %14s  %14s  %14s\n", "h", "", "previous", "bias <= -1", "bias <= -10", "d = len-1");
    for (int h = 0; h < NH; h++) {
        const float *last = bias + ((size_t)h * len + (len - 1)) * len; /* query len-1: d = len-1-j */
        int d1 = -1, d10 = -1;
        for (int d = 0; d < len; d++) {
            float b = last[len - 1 - d];
            if (d1 < 0 && b <= -1.0f + 1e-6f) d1 = d;
            if (d10 < 0 && b <= -10.0f + 1e-5f) d10 = d;
        }
        char s1[32], s10[32];
        if (d1 >= 0) snprintf(s1, sizeof s1, "%d", d1);
        else snprintf(s1, sizeof s1, "%.0f (beyond)", ceil(1.0 / slopes[h] - 1e-6));
        if (d10 >= 0) snprintf(s10, sizeof s10, "%d", d10);
        else snprintf(s10, sizeof s10, "%.0f (beyond)", ceil(10.0 / slopes[h] - 1e-6));
        char ratio[32] = "-";
        if (h) snprintf(ratio, sizeof ratio, "%.6g", slopes[h] / slopes[h - 1]);
        printf("  %4d  %12.8g  %10s  %14s  %14s  %14.4g\n", h, slopes[h], ratio, s1, s10, last[0]);
    }

    /* geometric? the ratios of the slopes sorted from steep to gentle */
    float *sorted = pe_calloc(NH, sizeof(float));
    memcpy(sorted, slopes, NH * sizeof(float));
    for (int a = 1; a < NH; a++)
        for (int b = a; b > 0 && sorted[b] > sorted[b - 1]; b--) {
            float t = sorted[b];
            sorted[b] = sorted[b - 1];
            sorted[b - 1] = t;
        }
    double rmin = 1e30, rmax = 0;
    for (int h = 1; h < NH; h++) {
        double r = (double)sorted[h] / sorted[h - 1];
        rmin = r < rmin ? r : rmin;
        rmax = r > rmax ? r : rmax;
    }
    int in_order = memcmp(sorted, slopes, NH * sizeof(float)) == 0;
    if (NH == 1) {
        printf("\nSPEC §5 prediction: \"ALiBi heads get geometrically spaced slopes, from steep (local) to gentle "
               "(distant)\" — not tested: one head has one slope (%g)\n", slopes[0]);
    } else {
        int geometric = rmax - rmin <= 1e-5 * rmax;
        printf("\nSPEC §5 prediction: \"ALiBi heads get geometrically spaced slopes, from steep (local) to gentle "
               "(distant)\" — %s: sorted from steep to gentle, consecutive slopes have ratio ",
               geometric ? "confirmed" : "refuted");
        if (geometric)
            printf("%.6g throughout", rmin);
        else
            printf("between %.6g and %.6g, not one constant", rmin, rmax);
        printf(" (%s); the steepest head (m = %g) reaches bias -1 after %.0f positions, the gentlest (m = %g) "
               "after %.0f\n",
               in_order ? "heads in that order" : "head order interleaved, as Press et al.'s get_slopes does for "
                                                  "a head count that is not a power of 2",
               sorted[0], ceil(1.0 / sorted[0] - 1e-6), sorted[NH - 1], ceil(1.0 / sorted[NH - 1] - 1e-6));
    }
    free(sorted);

    /* the picture: one bias matrix per head (up to 16), then bias vs distance */
    const int shown = NH < 16 ? NH : 16, panels = shown + 1;
    int cols = (int)ceil(sqrt((double)panels)), rows = (panels + cols - 1) / cols;
    PlotScript ps;
    plot_script_init(&ps);
    int st = stride_for(len, 160);
    char name[32];
    for (int h = 0; h < shown; h++) {
        snprintf(name, sizeof name, "b%d", h);
        emit_grid(&ps, name, bias + (size_t)h * len * len, len, len, st, st);
    }
    plot_printf(&ps, "$d << EOD\n");
    for (int d = 0; d < len; d++) {
        plot_printf(&ps, "%d", d);
        for (int h = 0; h < NH; h++) plot_printf(&ps, " %.6g", bias[((size_t)h * len + (len - 1)) * len + (len - 1 - d)]);
        plot_printf(&ps, "\n");
    }
    plot_printf(&ps, "EOD\n");
    plot_printf(&ps,
                "set multiplot layout %d,%d title 'ALiBi, %d heads: score[i, j] += -m_h·(i - j) for j ≤ i%s (one colour scale for every head)' "
                "font ',12'\n"
                "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\n"
                "set xlabel 'key position j'\nset ylabel 'query position i'\nset cblabel 'bias'\n"
                "set xrange [%g:%g]\nset yrange [%g:%g]\nset size ratio -1\n"
                "set xtics out\nset ytics out\n",
                rows, cols, NH, NH > shown ? " (first 16 heads)" : "", -0.5 * st, len - 1 + 0.5 * st,
                len - 1 + 0.5 * st, -0.5 * st); /* query 0 at the top, as a matrix is written */
    /* one colour scale for every head, so that steep and gentle heads compare at a glance */
    double lo = 0;
    for (int h = 0; h < NH; h++) lo = -(double)slopes[h] * (len - 1) < lo ? -(double)slopes[h] * (len - 1) : lo;
    plot_printf(&ps, "set cbrange [%g:0]\n", lo < 0 ? lo : -1);
    for (int h = 0; h < shown; h++) {
        plot_printf(&ps, "set title 'head %d: m = %g = 2^{%.3g}'\n", h, slopes[h], log2(slopes[h]));
        plot_printf(&ps, "plot $b%d using 2:1:3 with image notitle\n", h);
    }
    plot_printf(&ps, "set size noratio\nunset colorbox\nunset cblabel\nset autoscale y\nset xrange [0:%d]\n"
                     "set xlabel 'distance i - j'\nset ylabel 'bias added to the score'\nset grid\nset key bottom left\n"
                     "set title 'bias vs distance, every head'\n", len - 1);
    if (s->train_T) {
        plot_printf(&ps, "set arrow 1 from first %d, graph 0 to first %d, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n",
                    s->train_T - 1, s->train_T - 1);
    }
    plot_printf(&ps, "plot ");
    for (int h = 0; h < NH; h++)
        plot_printf(&ps, "%s$d using 1:%d with lines lw 2 lc rgb '%s' title 'm = %g'", h ? ", " : "", h + 2,
                    colors[h % NUM_COLORS], slopes[h]);
    plot_printf(&ps, ", -1 with lines dt 2 lc rgb '#555555' title 'bias -1'\nunset multiplot\n");
    int rc = render(s, &ps, 430 * cols, 370 * rows + 40);
    plot_script_free(&ps);
    free(bias);
    free(slopes);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* ---- learned relative biases: t5, fire, kerple -------------------------- */

/* curves[(l * NH + h) * len + d]: the bias bias_forward adds at distance d for
 * a query at position qi (keys at 0..qi), NaN for d > qi. */
void show_bias_curves(const PE *pe, int len, int qi, float *curves) {
    const int L = pe->cfg.L, NH = pe->cfg.NH;
    int *pos = pe_calloc(len, sizeof(int));
    float *row = pe_calloc(len, sizeof(float));
    for (int p = 0; p < len; p++) pos[p] = p;
    for (int l = 0; l < L; l++) {
        if (pe->ops->bias_prepare) pe->ops->bias_prepare(pe, l, pos, len);
        for (int h = 0; h < NH; h++) {
            memset(row, 0, (size_t)len * sizeof(float));
            pe->ops->bias_forward(pe, row, l, h, pos, qi);
            float *c = curves + ((size_t)l * NH + h) * len;
            for (int d = 0; d < len; d++) c[d] = d <= qi ? row[qi - d] : NAN;
        }
    }
    free(row);
    free(pos);
}

static float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

static int show_bias(Show *s) {
    const int len = s->len, t5 = strcmp(s->enc, "t5") == 0, fire = strcmp(s->enc, "fire") == 0;
    GPT fresh, *m;
    GPTConfig mc;
    if (!(m = shown_model(s, s->enc, &fresh, &mc))) return EXIT_USAGE;
    /* a module instance over positions 0..len-1 holding the model's parameters
     * (no parameter of these encodings depends on max_positions) */
    PEConfig pc = gpt_pe_config(&mc);
    pc.P = len;
    PE pe;
    if (pe_init(&pe, s->enc, &pc) != 0) {
        if (!s->have_model) gpt_free(&fresh);
        return EXIT_USAGE;
    }
    pe.params = m->params.pe;
    const int L = pc.L, NH = pc.NH, nc = L * NH;
    float *cur = pe_calloc((size_t)nc * len, sizeof(float));
    show_bias_curves(&pe, len, len - 1, cur);
    /* FIRE also depends on the query position: a second query, inside the
     * training range with --run, else at len/4 */
    const int q2 = s->train_T ? (s->train_T - 1 < len - 1 ? s->train_T - 1 : len - 1) : len / 4;
    float *cur2 = NULL;
    if (fire) {
        cur2 = pe_calloc((size_t)nc * len, sizeof(float));
        show_bias_curves(&pe, len, q2, cur2);
    }

    if (t5)
        printf("t5, %d heads, %d buckets, max distance %d, positions 0..%d: score[i, j] += W[bucket(i - j), h], "
               "one table for all %d layers\n", NH, pc.t5_buckets, pc.t5_max_distance, len - 1, L);
    else if (fire)
        printf("fire, %d layers x %d heads, MLP 1 -> %d -> %d, positions 0..%d: score[i, j] += "
               "f_l(psi(i - j) / psi(max(L_l, i)))[h], psi(x) = log(|c_l| x + 1)\n", L, NH, pc.fire_hidden, NH,
               len - 1);
    else
        printf("kerple, %d layers x %d heads, positions 0..%d: score[i, j] += -p_lh * log(1 + a_lh * (i - j))\n", L,
               NH, len - 1);
    printf("%s\n", s->have_model ? "parameters of the trained run" : "parameters at initialisation (--run RUN for a trained model's)");
    if (s->train_T) printf("training inputs span distances 0..%d\n", s->train_T - 1);

    /* the encoding's own parameters */
    if (t5) {
        printf("\nbucket map (distance -> bucket; HF _relative_position_bucket, bidirectional=False):\n");
        int exact = pc.t5_buckets / 2 < len ? pc.t5_buckets / 2 : len;
        printf("  buckets 0..%d: distances 0..%d, one each\n", exact - 1, exact - 1);
        int b0 = exact < len ? pe_t5_bucket(exact, pc.t5_buckets, pc.t5_max_distance) : 0, lo = exact;
        if (exact >= len) b0 = -1;
        for (int d = exact + 1; d <= len && b0 >= 0; d++) {
            int b = d < len ? pe_t5_bucket(d, pc.t5_buckets, pc.t5_max_distance) : -1;
            if (b != b0) {
                if (lo == d - 1) printf("  bucket %2d: distance %d\n", b0, lo);
                else printf("  bucket %2d: distances %d..%d%s\n", b0, lo, d - 1,
                            d == len && b0 == pc.t5_buckets - 1 ? " and beyond" : "");
                b0 = b, lo = d;
            }
        }
    } else if (fire) {
        PETensor t[PE_MAX_TENSORS];
        pe_tensors(&pe, t);
        for (int l = 0; l < L; l++) {
            float c = pe.params[pe_tensor_offset(&pc, t, 4, l)], lm = pe.params[pe_tensor_offset(&pc, t, 5, l)];
            printf("layer %d: c = %.5g, L = |%.5g| x %g = %.4g (queries beyond it normalise by psi(i))\n", l, c, lm,
                   pc.fire_init_L, fabsf(lm) * pc.fire_init_L);
        }
    } else {
        printf("\n  %5s  %4s  %10s  %10s\n", "layer", "head", "p", "a");
        for (int l = 0; l < L; l++)
            for (int h = 0; h < NH; h++)
                printf("  %5d  %4d  %10.5g  %10.5g\n", l, h, softplusf(pe.params[l * NH + h]),
                       softplusf(pe.params[(L + l) * NH + h]));
    }

    /* bias vs distance, query at len-1 (and for fire at q2) */
    int ds[16], nd = 0;
    ds[nd++] = 0;
    for (int d = 1; d < len - 1 && nd < 11; d *= 2) ds[nd++] = d;
    if (s->train_T && s->train_T - 1 < len - 1) ds[nd++] = s->train_T - 1;
    ds[nd++] = len - 1;
    for (int a = 1; a < nd; a++) /* sort, unique */
        for (int b = a; b > 0 && ds[b] < ds[b - 1]; b--) { int x = ds[b]; ds[b] = ds[b - 1]; ds[b - 1] = x; }
    int k = 0;
    for (int a = 0; a < nd; a++) if (!k || ds[a] != ds[k - 1]) ds[k++] = ds[a];
    nd = k;
    const int nq = fire ? 2 : 1, qs[2] = {len - 1, q2};
    for (int q = 0; q < nq; q++) {
        printf("\nbias at distance d for a query at position %d:\n  %5s  %4s", qs[q], "layer", "head");
        for (int a = 0; a < nd; a++) if (ds[a] <= qs[q]) printf("  %8s%-3d", "d=", ds[a]);
        printf("\n");
        const float *cv = q ? cur2 : cur;
        for (int l = 0; l < (t5 ? 1 : L); l++)
            for (int h = 0; h < NH; h++) {
                if (t5) printf("  %5s  %4d", "all", h);
                else printf("  %5d  %4d", l, h);
                for (int a = 0; a < nd; a++)
                    if (ds[a] <= qs[q]) printf("  %11.4g", cv[((size_t)l * NH + h) * len + ds[a]]);
                printf("\n");
            }
    }

    /* reading: which heads prefer near keys */
    int local = 0;
    for (int c = 0; c < (t5 ? NH : nc); c++) local += cur[(size_t)c * len + len - 1] < cur[(size_t)c * len];
    printf("\nreading: %d of %d %s add a lower bias at distance %d than at distance 0 (prefer near keys)", local,
           t5 ? NH : nc, t5 ? "heads" : "(layer, head) pairs", len - 1);
    if (t5 && s->train_T) {
        /* buckets of distances never seen in training keep their initial values */
        const int bt = pe_t5_bucket(s->train_T - 1, pc.t5_buckets, pc.t5_max_distance);
        if (bt < pc.t5_buckets - 1) {
            GPT init;
            double dev = -1;
            if (gpt_build(&init, &mc) == 0) {
                gpt_init_params(&init, s->cfg.seed);
                dev = 0;
                for (int b = bt + 1; b < pc.t5_buckets; b++)
                    for (int h = 0; h < NH; h++) {
                        double x = fabs((double)m->params.pe[b * NH + h] - init.params.pe[b * NH + h]);
                        dev = x > dev ? x : dev;
                    }
                gpt_free(&init);
            }
            printf("\nbuckets %d..%d hold distances the training inputs never span (>= %d): ", bt + 1,
                   pc.t5_buckets - 1, s->train_T);
            if (dev == 0)
                printf("bitwise their initial values (max |W - W_init| = 0): at longer lengths those keys get "
                       "untrained noise");
            else
                printf("max |W - W_init| = %.3g", dev);
        } else {
            printf("\nevery bucket is reached by the training distances");
        }
    }
    printf("\n");

    /* the picture: bias vs distance, one panel per layer (t5: one, plus its bucket map) */
    const int panels = (t5 ? 1 : (L < 8 ? L : 8)) + (t5 ? 1 : 0);
    int cols = panels < 3 ? panels : 3, rows = (panels + cols - 1) / cols;
    PlotScript ps;
    plot_script_init(&ps);
    for (int c = 0; c < nc; c++) {
        plot_printf(&ps, "$c%d << EOD\n", c);
        for (int d = 0; d < len; d++) {
            float v = cur[(size_t)c * len + d], w = fire ? cur2[(size_t)c * len + d] : NAN;
            plot_printf(&ps, "%d %.6g", d, v);
            if (w == w) plot_printf(&ps, " %.6g\n", w);
            else plot_printf(&ps, " NaN\n");
        }
        plot_printf(&ps, "EOD\n");
    }
    const int strip = 30 + 22 * ((NH + 2 + (fire ? 2 : 0) + 3) / 4), W = 520 * cols, H = 380 * rows + 40 + strip;
    plot_printf(&ps, "set multiplot title '%s: bias added to the score vs distance i - j%s' font ',12'\n"
                     "set grid\nunset key\nset xlabel 'distance i - j'\nset ylabel 'bias'\nset xrange [0:%d]\n",
                t5 ? "T5" : fire ? "FIRE" : "KERPLE (log)",
                s->have_model ? " (trained)" : " (initialisation)", len - 1);
    if (s->train_T)
        plot_printf(&ps, "set arrow 1 from first %d, graph 0 to first %d, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n"
                         "set label 1 'training' at first %d, graph 0.96 right offset -0.5,0 front\n",
                    s->train_T - 1, s->train_T - 1, s->train_T - 1);
    for (int l = 0; l < (t5 ? 1 : (L < 8 ? L : 8)); l++) {
        panel_at(&ps, l, rows, cols, W, H, strip);
        if (t5) plot_printf(&ps, "set title 'all layers (one table)'\n");
        else plot_printf(&ps, "set title 'layer %d'\n", l);
        plot_printf(&ps, "plot ");
        /* FIRE: the second query position dashed, darker and thinner, on top (the two often coincide) */
        for (int h = 0; h < NH; h++)
            plot_printf(&ps, "%s$c%d using 1:2 with lines lw %s lc rgb '%s' notitle", h ? ", " : "", l * NH + h,
                        fire ? "3.5" : "2", colors[h % NUM_COLORS]);
        for (int h = 0; fire && h < NH; h++) {
            char dark[8];
            darker(colors[h % NUM_COLORS], dark);
            plot_printf(&ps, ", $c%d using 1:3 with lines lw 1.5 dt 2 lc rgb '%s' notitle", l * NH + h, dark);
        }
        plot_printf(&ps, "\n");
    }
    if (t5) {
        plot_printf(&ps, "$bk << EOD\n");
        for (int d = 0; d < len; d++) plot_printf(&ps, "%d %d\n", d, pe_t5_bucket(d, pc.t5_buckets, pc.t5_max_distance));
        plot_printf(&ps, "EOD\n");
        panel_at(&ps, 1, rows, cols, W, H, strip);
        plot_printf(&ps, "set title 'bucket of each distance'\nset ylabel 'bucket'\n"
                         "plot $bk using 1:2 with steps lw 2 lc rgb '#000000' notitle\n");
    }
    legend_strip(&ps, H, strip, 6);
    for (int h = 0; h < NH; h++)
        plot_printf(&ps, "%sNaN with lines lw 2 lc rgb '%s' title 'head %d'", h ? ", " : "", colors[h % NUM_COLORS], h);
    if (fire)
        plot_printf(&ps, ", NaN with lines lw 3.5 lc rgb '#999999' title 'query at len-1 = %d', "
                         "NaN with lines lw 1.5 dt 2 lc rgb '#444444' title 'query at %d'", len - 1, q2);
    plot_printf(&ps, "\n");
    plot_printf(&ps, "unset multiplot\n");
    int rc = render(s, &ps, W, H);
    plot_script_free(&ps);
    free(cur);
    free(cur2);
    pe.params = NULL;
    pe_free(&pe);
    if (!s->have_model) gpt_free(&fresh);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* ---- xpos ------------------------------------------------------------------ */

static int show_xpos(Show *s) {
    const int len = s->len, hs = s->dim / s->heads, half = hs / 2;
    PEConfig pc = pe_config(s);
    PE pe;
    if (pe_init(&pe, "xpos", &pc) != 0) return EXIT_USAGE;
    const double gamma = pc.xpos_scale_base;
    /* per pair i: the key-query product of e_i at distance d (query at d, key at 0):
     * cos(d w_i) zeta_i^(d/gamma), and the decay alone (norm of the rotated, scaled pair) */
    float *score = pe_calloc((size_t)half * len, sizeof(float)), *decay = pe_calloc((size_t)half * len, sizeof(float));
    float *q = pe_calloc(hs, sizeof(float)), *k = pe_calloc(hs, sizeof(float));
    for (int i = 0; i < half; i++)
        for (int d = 0; d < len; d++) {
            memset(q, 0, hs * sizeof(float));
            memset(k, 0, hs * sizeof(float));
            q[i] = k[i] = 1.0f;
            pe.ops->qk_forward(&pe, q, d, 0);
            pe.ops->qk_forward(&pe, k, 0, 1);
            score[(size_t)i * len + d] = q[i] * k[i] + q[i + half] * k[i + half];
            decay[(size_t)i * len + d] = sqrtf(q[i] * q[i] + q[i + half] * q[i + half]);
        }
    free(q);
    free(k);
    pe_free(&pe);

    printf("xpos, head size %d (%d pairs), scale base gamma = %g, rope base %g, positions 0..%d:\n"
           "q at n scaled by zeta_i^(n/gamma), k at m by zeta_i^(-m/gamma), zeta_i = (2i + 0.4 hs)/(1.4 hs);\n"
           "the score of pair i carries cos((n - m) w_i) zeta_i^((n - m)/gamma)\n\n", hs, half, gamma, pc.rope_base,
           len - 1);
    printf("  %4s  %10s  %12s  %14s  %14s  %14s\n", "pair", "zeta_i", "w_i (rad/pos)", "half-life", "decay at",
           "score at");
    printf("  %4s  %10s  %12s  %14s  %14s  %14s\n", "i", "", "", "(positions)", "d = len-1", "d = len-1");
    for (int i = 0; i < half; i++) {
        double zeta = (2.0 * i + 0.4 * hs) / (1.4 * hs), w = pow(pc.rope_base, -2.0 * i / hs);
        printf("  %4d  %10.6f  %12.4g  %14.5g  %14.5g  %14.5g\n", i, zeta, w, gamma * log(2.0) / -log(zeta),
               decay[(size_t)i * len + len - 1], score[(size_t)i * len + len - 1]);
    }
    double h0 = gamma * log(2.0) / -log((0.4 * hs) / (1.4 * hs));
    printf("\nreading: the fastest pair halves its weight every %.0f positions, the slowest every %.0f; "
           "at distance %d the decay is %.4g (pair 0) to %.4g (pair %d)%s\n", h0,
           gamma * log(2.0) / -log((2.0 * (half - 1) + 0.4 * hs) / (1.4 * hs)), len - 1, decay[len - 1],
           decay[(size_t)(half - 1) * len + len - 1], half - 1,
           h0 > len ? " — at these lengths the decay is mild and xPos acts much like RoPE" : "");

    PlotScript ps;
    plot_script_init(&ps);
    const int picks[3] = {0, half / 2, half - 1};
    plot_printf(&ps, "$d << EOD\n");
    for (int d = 0; d < len; d++) {
        plot_printf(&ps, "%d", d);
        for (int i = 0; i < half; i++) plot_printf(&ps, " %.6g", decay[(size_t)i * len + d]);
        for (int p = 0; p < 3; p++) plot_printf(&ps, " %.6g", score[(size_t)picks[p] * len + d]);
        plot_printf(&ps, "\n");
    }
    /* one colour per pair in both panels, one legend under them */
    const int step = half > 8 ? half / 8 : 1, strip = 60, W = 1100, H = 420 + strip;
    int shown[16], nshown = 0;
    for (int i = 0; i < half && nshown < 8; i += step) shown[nshown++] = i;
    for (int p = 0; p < 3; p++) {
        int seen = 0;
        for (int k = 0; k < nshown; k++) seen |= shown[k] == picks[p];
        if (!seen) shown[nshown++] = picks[p];
    }
    plot_printf(&ps, "EOD\nset multiplot title 'xPos (scale base %g, head size %d)' font ',12'\n"
                     "set grid\nunset key\nset xlabel 'distance n - m'\nset xrange [0:%d]\n", gamma, hs, len - 1);
    mark_training(&ps, s, "training");
    panel_at(&ps, 0, 1, 2, W, H, strip);
    plot_printf(&ps, "set title 'decay zeta_i^{d/gamma} per pair'\nset ylabel 'decay'\nplot ");
    for (int k = 0, n = 0; k < nshown; k++)
        plot_printf(&ps, "%s$d using 1:%d with lines lw 2 lc rgb '%s' notitle", n++ ? ", " : "", shown[k] + 2,
                    colors[k % NUM_COLORS]);
    plot_printf(&ps, "\n");
    panel_at(&ps, 1, 1, 2, W, H, strip);
    plot_printf(&ps, "set title 'score of pair i: cos(d w_i) zeta_i^{d/gamma}'\nset ylabel 'q·k'\nplot ");
    for (int p = 0; p < 3; p++) {
        int k = 0;
        while (shown[k] != picks[p]) k++;
        plot_printf(&ps, "%s$d using 1:%d with lines lw 2 lc rgb '%s' notitle", p ? ", " : "", half + 2 + p,
                    colors[k % NUM_COLORS]);
    }
    plot_printf(&ps, "\n");
    legend_strip(&ps, H, strip, 10);
    for (int k = 0; k < nshown; k++)
        plot_printf(&ps, "%sNaN with lines lw 2 lc rgb '%s' title 'pair %d'", k ? ", " : "", colors[k % NUM_COLORS],
                    shown[k]);
    plot_printf(&ps, "\nunset multiplot\n");
    int rc = render(s, &ps, W, H);
    plot_script_free(&ps);
    free(score);
    free(decay);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* ---- the command -------------------------------------------------------- */

int cmd_show(int argc, char **argv) {
    Show s = {.len = 0, .dim = 0, .heads = 0, .seed = 1, .rope_base = 10000.0f, .rope_fraction = 1.0f};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        if (is_help(a)) {
            show_usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-plot") == 0) {
            s.no_plot = 1;
        } else if (strcmp(a, "--len") == 0) {
            if ((x = parse_count(a, v, 4096)) < 0) goto usage_error;
            if (x < 2) {
                pe_errorf("--len: needs at least 2 positions, got %ld", x);
                goto usage_error;
            }
            s.len = (int)x, i++;
        } else if (strcmp(a, "--dim") == 0) {
            if ((x = parse_count(a, v, 2048)) < 0) goto usage_error;
            s.dim = (int)x, i++;
        } else if (strcmp(a, "--heads") == 0) {
            if ((x = parse_count(a, v, 64)) < 0) goto usage_error;
            s.heads = (int)x, i++;
        } else if (strcmp(a, "--seed") == 0) {
            if ((x = parse_count(a, v, 1L << 53)) < 0) goto usage_error;
            s.seed = (uint64_t)x, i++;
        } else if (strcmp(a, "--rope-scaling") == 0) {
            if (!v || pe_rope_scaling_find(v) < 0) {
                pe_errorf("--rope-scaling: expected none, pi, ntk or yarn, got \"%s\"", v ? v : "");
                goto usage_error;
            }
            s.rope_scaling = pe_rope_scaling_find(v), i++;
        } else if (strcmp(a, "--rope-scale") == 0) {
            char *end = NULL;
            s.rope_scale = v ? strtod(v, &end) : 0;
            if (!v || end == v || *end || !(s.rope_scale >= 1 && s.rope_scale <= 1e6)) {
                pe_errorf("--rope-scale: expected a number in [1, 1e6], got \"%s\"", v ? v : "");
                goto usage_error;
            }
            i++;
        } else if (strcmp(a, "--orig-len") == 0) {
            if ((x = parse_count(a, v, 1 << 20)) < 0) goto usage_error;
            s.orig_len = (int)x, i++;
        } else if (strcmp(a, "--run") == 0 || strcmp(a, "--out") == 0) {
            if (!v) {
                pe_errorf("%s needs a value", a);
                goto usage_error;
            }
            if (strcmp(a, "--run") == 0)
                s.run = v;
            else
                s.out = v;
            i++;
        } else if (a[0] == '-') {
            pe_errorf("unknown option \"%s\" (see posenc show --help)", a);
            goto usage_error;
        } else if (!s.enc) {
            s.enc = a;
        } else {
            pe_errorf("more than one ENCODING (\"%s\", \"%s\")", s.enc, a);
            goto usage_error;
        }
    }
    if (!s.enc) {
        pe_errorf("missing ENCODING (one of: %s; see posenc show --help)", pe_names());
        goto usage_error;
    }
    if (!pe_find(s.enc)) {
        pe_errorf("unknown position encoding \"%s\" (valid: %s)", s.enc, pe_names());
        goto usage_error;
    }
    if ((s.rope_scaling != PE_ROPE_SCALING_NONE || s.rope_scale > 0 || s.orig_len) && strcmp(s.enc, "rope") != 0) {
        pe_errorf("--rope-scaling, --rope-scale and --orig-len apply to rope only, not %s", s.enc);
        goto usage_error;
    }
    if (strcmp(s.enc, "none") == 0) {
        printf("none (NoPE): no position encoding — no table is added, q and k are not rotated, scores get no "
               "bias; order comes from the causal mask alone. Nothing to draw.\n");
        return 0;
    }

    if (s.run) {
        if (s.dim || s.heads) {
            pe_errorf("--dim and --heads are taken from the run with --run");
            goto usage_error;
        }
        if (rundir_load(s.run, 1, &s.cfg, &s.model, &s.step) != 0) goto runtime_error;
        s.have_model = 1;
        if (strcmp(s.cfg.model.pe, s.enc) != 0) {
            pe_errorf("%s was trained with model.pe = %s, not %s; for its pictures run: posenc show %s --run %s",
                      s.run, s.cfg.model.pe, s.enc, s.cfg.model.pe, s.run);
            gpt_free(&s.model);
            goto usage_error;
        }
        const TaskOps *task = task_find(s.cfg.task.name);
        s.train_T = task_max_train_input_len(task, &s.cfg.task);
        s.dim = s.cfg.model.C, s.heads = s.cfg.model.NH;
        s.rope_base = s.cfg.model.rope_base, s.rope_fraction = s.cfg.model.rope_fraction;
        if (!s.len) s.len = s.cfg.model.P;
        if (strcmp(s.enc, "learned") == 0 && s.len > s.cfg.model.P) {
            pe_errorf("--len %d: the learned table of %s has only model.max_positions = %d rows", s.len, s.run,
                      s.cfg.model.P);
            gpt_free(&s.model);
            goto usage_error;
        }
    }
    if (!s.len) s.len = 64;
    if (!s.dim) s.dim = 64;
    if (!s.heads) s.heads = 4;
    if (s.dim % s.heads) {
        pe_errorf("--heads %d does not divide --dim %d", s.heads, s.dim);
        goto usage_error_model;
    }
    char outdir[4096];
    snprintf(outdir, sizeof outdir, "%s", s.out ? s.out : s.run ? s.run : "show");
    s.out = outdir;
    if (!s.no_plot && dir_create(s.out) != 0) goto runtime_error_model;

    int rc;
    if (strcmp(s.enc, "sinusoidal") == 0)
        rc = show_sinusoidal(&s);
    else if (strcmp(s.enc, "learned") == 0)
        rc = show_learned(&s);
    else if (strcmp(s.enc, "rope") == 0)
        rc = show_rope(&s);
    else if (strcmp(s.enc, "alibi") == 0)
        rc = show_alibi(&s);
    else if (strcmp(s.enc, "t5") == 0 || strcmp(s.enc, "fire") == 0 || strcmp(s.enc, "kerple") == 0)
        rc = show_bias(&s);
    else if (strcmp(s.enc, "xpos") == 0)
        rc = show_xpos(&s);
    else {
        pe_errorf("no picture for position encoding \"%s\" yet", s.enc);
        rc = EXIT_RUNTIME;
    }
    if (s.have_model) gpt_free(&s.model);
    if (rc != 0) fprintf(stderr, "posenc show: %s\n", pe_error());
    return rc;

usage_error_model:
    if (s.have_model) gpt_free(&s.model);
usage_error:
    fprintf(stderr, "posenc show: %s\n", pe_error());
    return EXIT_USAGE;
runtime_error_model:
    if (s.have_model) gpt_free(&s.model);
runtime_error:
    fprintf(stderr, "posenc show: %s\n", pe_error());
    return EXIT_RUNTIME;
}

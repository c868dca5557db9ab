/* show_sinusoidal.c — `posenc show sinusoidal`: the table, its columns and their wavelengths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/show.h"
#include "core/alloc.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "data/task.h"

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

/* The statistics of the sin column d = 2i of the (len, C) table: its
 * frequency, wavelength and cycles read off the table, and column_stats. */
static ColumnStats pair_stats(const float *t, int C, int len, int i, int p0) {
    const int d = 2 * i;
    const double w = len > 1 ? atan2(t[(size_t)1 * C + d], t[(size_t)1 * C + d + 1]) : 0;
    ColumnStats st = column_stats(t, C, d, p0, len);
    st.omega = w;
    st.wavelength = 2 * PI / w;
    st.cycles = (len - 1) * w / (2 * PI);
    return st;
}

#define SIN_SLOW "sinusoidal low-frequency columns vary slowly"
#define SIN_FAST "high-frequency ones look like noise at long positions"

/* The verdicts on the table t (len, C) of embed_forward. */
static void sinusoidal_verdicts(const float *t, int C, int len, ShowVerdicts *out) {
    const int npairs = C / 2;
    if (npairs < 2 || len < 8) {
        const char *why = "need at least 2 column pairs (--dim 4) and 8 positions";
        show_verdict_add(out, SIN_SLOW, SHOW_NOT_TESTED, "%s", why);
        show_verdict_add(out, SIN_FAST, SHOW_NOT_TESTED, "%s", why);
        return;
    }
    const ColumnStats slow = pair_stats(t, C, len, npairs - 1, 0), fast = pair_stats(t, C, len, 0, 0),
                      fast_late = pair_stats(t, C, len, 0, len / 2);
    show_verdict_add(out, SIN_SLOW, slow.mean_dabs < 0.01 ? SHOW_CONFIRMED : SHOW_REFUTED,
                     "the slowest pair (i = %d, columns %d-%d) has a wavelength of %.3g positions, completes %.2g "
                     "cycles over the %d positions and changes by %.2g per position",
                     npairs - 1, C - 2, C - 1, slow.wavelength, slow.cycles, len, slow.mean_dabs);
    const int noise_like = fabs(fast_late.r1) < 0.2;
    show_verdict_add(out, SIN_FAST, noise_like ? SHOW_CONFIRMED : SHOW_REFUTED,
                     "the fastest column (d = 0) is sin(p) with wavelength %.3g positions; over positions %d..%d its "
                     "neighbour correlation is %.3f (noise: 0) and its change per position %.3f (noise: %.3f), over "
                     "the whole window %.3f and %.3f%s",
                     fast.wavelength, len / 2, len - 1, fast_late.r1, fast_late.mean_dabs, 8.0 / (PI * PI), fast.r1,
                     fast.mean_dabs,
                     noise_like ? ""
                                : ": a regular oscillation at every position, not noise. Sampled at integer positions "
                                  "its pattern never repeats exactly (the period 2π is irrational), which is what can "
                                  "read as noise in the heatmap");
}

static int sinusoidal_judge(Show *s, const ShowView *view, ShowVerdicts *out) {
    PEConfig pc = show_pe_config(s);
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return -1;
    float *t = show_embed_table(&pe, s->len, s->dim);
    pe_free(&pe);
    sinusoidal_verdicts(t, s->dim, s->len, out);
    free(t);
    return 0;
}

static int show_sinusoidal(Show *s, const ShowView *view) {
    const int C = s->dim, len = s->len;
    PEConfig pc = show_pe_config(s);
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return EXIT_USAGE;
    float *t = show_embed_table(&pe, len, C);
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
    for (int k = 0; k < ns; k++) {
        const int i = sel[k];
        const ColumnStats st = pair_stats(t, C, len, i, 0), late = pair_stats(t, C, len, i, len / 2);
        printf("  %4d %4d  %10.4g  %11.4g  %9.3g  %13.4f  %10.3f  %10.4f  %10.3f\n", i, 2 * i, st.omega,
               st.wavelength, st.cycles, st.mean_dabs, st.r1, late.mean_dabs, late.r1);
    }

    ShowVerdicts v = {0};
    sinusoidal_verdicts(t, C, len, &v);
    printf("\n");
    show_print_verdicts(&v);

    /* the picture: heatmap on top, the fastest, two middle and the slowest columns below */
    PlotScript ps;
    plot_script_init(&ps);
    int sr = show_stride(len, 1024), sc = show_stride(C, 512);
    /* the heatmap's rows: every sin column d = 2i (fast to slow), then every cos
     * column d = 2i+1; interleaved, sin next to cos reads as stripes */
    const int nsin = (C + 1) / 2;
    float *sorted = core_calloc((size_t)len * C, sizeof *sorted);
    for (int p = 0; p < len; p++)
        for (int r = 0; r < C; r++) sorted[(size_t)p * C + r] = t[(size_t)p * C + (r < nsin ? 2 * r : 2 * (r - nsin) + 1)];
    show_emit_grid(&ps, "pe", sorted, len, C, sr, sc);
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
    show_mark_training(&ps, s, "longest training input");
    plot_printf(&ps, "plot $pe using 1:2:3 with image notitle\n");
    plot_printf(&ps, "unset colorbox\nunset arrow 2\nset ytics autofreq\nset yrange [-1.1:1.1]\nset ylabel 'PE[p, d]'\n"
                     "set title 'single columns vs position'\nset key below horizontal\nset bmargin 6\n");
    plot_printf(&ps, "set xrange [-0.5:%g]\n", len - 0.5);
    plot_printf(&ps, "plot ");
    for (int k = 0; k < ncols; k++) {
        int i = cols[k] / 2;
        double lam = 2 * PI * pow(10000.0, 2.0 * i / C);
        plot_printf(&ps, "%s$cols using 1:%d with linespoints pt 7 ps 0.4 lw 1.5 lc rgb '%s' title 'd = %d (λ = %.3g)'",
                    k ? ", " : "", k + 2, show_ramp(k, ncols), cols[k], lam);
    }
    plot_printf(&ps, "\nunset multiplot\n");
    int rc = show_render(s, &ps, 1200, 850);
    plot_script_free(&ps);
    free(t);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* The report's card: the table at positions 0..127 (the page's slider) and
 * d_model 64, and its verdicts. */
static int sinusoidal_card(const ShowView *view, const ShowCardRun *run, Show *s, cJSON *o) {
    (void)run;
    const int len = 128, C = 64;
    PEConfig pc;
    pe_config_default(&pc);
    pc.C = C, pc.NH = 4, pc.hs = C / 4, pc.L = 1, pc.P = len;
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return -1;
    float *t = show_embed_table(&pe, len, C);
    cJSON_AddNumberToObject(o, "len", len);
    cJSON_AddNumberToObject(o, "C", C);
    cJSON_AddItemToObject(o, "table", show_json_numbers(t, (size_t)len * C, 1e-3));
    free(t);
    pe_free(&pe);
    s->len = len, s->dim = C;
    return 0;
}

const ShowView show_view_sinusoidal = {"sinusoidal", show_sinusoidal, sinusoidal_judge, sinusoidal_card};

/*
 * results_plot.c — a group's gnuplot scripts: accuracy and loss by length,
 * loss by position (aggregate_internal.h; drawn by study/plot.c)
 */
#include "study/aggregate_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"
#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "data/task.h"
#include "model/pe.h"
#include "run/config.h"
#include "run/inspect.h"
#include "run/provenance.h"
#include "run/score.h"
#include "study/findings.h"
#include "study/plot.h"
#include "study/style.h"

/* A cell's line style in a group's plot (study/style.h): the encoding (its
 * label up to the first '+' or space) gives the colour, the same in every
 * figure and in the report; its variants (+rand, a RoPE scaling) share that
 * colour with a dash pattern of their own (never dotted: dotted is the chance
 * line), thinner, with a marker of their own (hollow for random evaluation
 * positions), drawn after (on top of) the encodings. Encodings listed earlier
 * are drawn wider, so lines that coincide stay visible as nested strokes. */
typedef struct {
    char colour[8];
    const char *dash; /* a gnuplot dashtype */
    int point, variant;
    double width, point_size;
} LineStyle;

static void group_styles(const Cell *cells, const int *members, int nm, LineStyle *st) {
    char bases[64][64];
    int nbases = 0, base_of[256] = {0};
    for (int i = 0; i < nm; i++) {
        SeriesStyle ss;
        series_style(cells[members[i]].label, &ss);
        int b = 0;
        while (b < nbases && strcmp(bases[b], ss.pe) != 0) b++;
        if (b == nbases && nbases < 64) snprintf(bases[nbases++], sizeof bases[0], "%s", ss.pe);
        if (b > 63) b = 63;
        base_of[i < 256 ? i : 255] = b;
        /* filled markers, and their hollow twins for random evaluation positions */
        static const int points[STYLE_VARIANTS] = {7, 5, 9, 11, 13, 15, 7, 5}, hollow[STYLE_VARIANTS] = {6, 4, 8, 10, 12, 14, 6, 4};
        snprintf(st[i].colour, sizeof st[i].colour, "%s", ss.colour);
        st[i].dash = ss.dash_gp;
        st[i].point = ss.eval_random ? hollow[ss.variant] : points[ss.variant];
        st[i].variant = ss.variant != 0;
    }
    /* widths: encodings widest first (earlier ones wider), variants thin on top */
    for (int i = 0; i < nm; i++) {
        const int b = base_of[i < 256 ? i : 255];
        st[i].width = st[i].variant ? 1.5 : nbases > 1 ? 2.0 + 2.5 * (nbases - 1 - b) / (nbases - 1) : 2.5;
        st[i].point_size = st[i].variant ? 0.55 : nbases > 1 ? 0.6 + 0.5 * (nbases - 1 - b) / (nbases - 1) : 0.8;
    }
}

/* A group's loss by position: one line per cell (mean over seeds per bin, at
 * the bin's geometric middle), log position axis, the training positions
 * shaded. 0 if drawn, 1 if the group has no by-position data, or an error. */
int by_position_plot(const AggTable *t, const int *members, int nm, const char *head, const char *base) {
    const Cell *cells = t->cells;
    int any = 0, train_T = 0;
    double lo = INFINITY, hi = 0, ymax = 0;
    for (int i = 0; i < nm; i++)
        for (int b = 0; b < RUN_EVAL_POS_BINS; b++) {
            const PosStat p = pos_stat(t, &cells[members[i]], b);
            if (!p.seeds) continue;
            any = 1;
            lo = fmin(lo, (double)eval_pos_bin_lo(b));
            hi = fmax(hi, (double)eval_pos_bin_lo(b + 1) - 1);
            ymax = fmax(ymax, p.loss_max);
        }
    if (!any) return 1;
    for (int i = 0; i < nm; i++) train_T = cell_train_T(&cells[members[i]]) > train_T ? cell_train_T(&cells[members[i]]) : train_T;
    LineStyle *st = core_calloc(nm, sizeof *st);
    group_styles(cells, members, nm, st);
    PlotScript s;
    plot_script_init(&s);
    for (int i = 0; i < nm; i++) {
        plot_printf(&s, "$p%d << EOD\n", i);
        for (int b = 0; b < RUN_EVAL_POS_BINS; b++) {
            const PosStat p = pos_stat(t, &cells[members[i]], b);
            if (!p.seeds) continue;
            const double x = sqrt((double)eval_pos_bin_lo(b) * (double)(eval_pos_bin_lo(b + 1) - 1));
            plot_printf(&s, "%.6g %.6f %.6f %.6f\n", x, p.loss_mean, p.loss_min, p.loss_max);
        }
        plot_printf(&s, "EOD\n");
    }
    plot_printf(&s, "set title ");
    char title[800];
    snprintf(title, sizeof title, "%s: loss by position (mean over seeds; summed over the evaluated lengths)", head);
    plot_quoted(&s, title);
    plot_printf(&s, "\nset logscale x 2\nset xrange [%g:%g]\nset yrange [0:%g]\n", lo, hi * 1.05, ymax * 1.08);
    plot_printf(&s, "set xlabel 'absolute position of the predicted token (log scale)'\nset ylabel 'loss (nats per token)'\n");
    plot_printf(&s, "set grid\nset key outside right top\nset object 1 rect from %g, graph 0 to %d, graph 1 "
                    "fillcolor rgb '#eeeeee' fillstyle solid noborder behind\n", lo, train_T);
    plot_printf(&s, "set label 1 'training positions' at %g, graph 0.04\n", lo * 1.05);
    plot_printf(&s, "plot ");
    for (int i = 0; i < nm; i++) {
        if (i) plot_printf(&s, ", ");
        plot_printf(&s, "$p%d using 1:2 with linespoints lw %.2f dt %s pt %d ps %.2f lc rgb '%s' title ", i, st[i].width,
                    st[i].dash, st[i].point, st[i].point_size, st[i].colour);
        plot_quoted(&s, cells[members[i]].label);
    }
    plot_printf(&s, "\n");
    const int rc = plot_render(s.text, base, 1100, 600);
    plot_script_free(&s);
    free(st);
    return rc;
}

/* Plot geometry. The legend is one strip under the panels: the series in
 * columns as wide as their longest label (so that one long entry does not
 * spread a few wide columns across the figure), filled column by column with
 * an even number of rows when there are variants, so that an encoding and its
 * variant stay in one column; then one row for the reference marks (chance,
 * break length, floor). */
static int legend_rows(int entries, int cols, int paired) {
    const int rows = (entries + cols - 1) / cols;
    return paired && rows % 2 ? rows + 1 : rows;
}
static int any_variant(const Cell *cells, const int *members, int nm) {
    for (int i = 0; i < nm; i++)
        if (strchr(cells[members[i]].label, '+')) return 1;
    return 0;
}
/* whether a cell of the group has a break length to mark (a censored one is not marked) */
static int group_any_break(const Cell *cells, const int *members, int nm) {
    for (int i = 0; i < nm; i++)
        for (int m = 0; m < 2; m++)
            if (cells[members[i]].brk[m].defined && cells[members[i]].brk[m].median > 0) return 1;
    return 0;
}
static void legend_layout(const AggTable *t, const int *members, int nm, int width, int *cols, int *rows) {
    const Cell *cells = t->cells;
    size_t longest = 4;
    for (int i = 0; i < nm; i++) {
        char label[256];
        cell_label(t, members[i], label, sizeof label);
        if (strlen(label) > longest) longest = strlen(label);
    }
    const int colw = (int)(7.2 * (double)longest) + 80; /* font 10: ~7 px a character, the sample and a gap */
    *cols = (int)(0.94 * width) / colw;
    if (*cols < 1) *cols = 1;
    if (*cols > 8) *cols = 8;
    if (*cols > nm) *cols = nm > 0 ? nm : 1;
    *rows = legend_rows(nm, *cols, any_variant(cells, members, nm));
    *cols = (nm + *rows - 1) / *rows; /* gnuplot fills maxcols first: no more columns than the rows need */
    if (*cols < 1) *cols = 1;
}
int aggregate_plot_width(int loss) { return loss ? 1000 : 1400; }
int aggregate_plot_height(const AggTable *t, const int *members, int nm, int loss) {
    int cols, rows;
    legend_layout(t, members, nm, aggregate_plot_width(loss), &cols, &rows);
    return 470 + 22 * (rows + 1);
}

/* The data blocks of a group's plot: the LM loss floor (loss plots; the same
 * task in every member), then one per cell: n, mean min max of token_acc,
 * exact_match, loss, then seeds. *nmax: the longest length; *any_band: whether
 * a length has two seeds or more. */
static void group_data(PlotScript *s, const AggTable *t, const int *members, int nm, int loss, int has_floor,
                       int *nmax_out, int *any_band_out) {
    const Cell *cells = t->cells;
    const Cell *c0 = &cells[members[0]];
    int nmax = 1, any_band = 0;
    if (loss && has_floor) {
        plot_printf(s, "$floor << EOD\n");
        for (int m = 0; m < c0->num_lengths; m++)
            if (c0->floor[m] >= 0) plot_printf(s, "%d %.6f\n", c0->lengths[m], c0->floor[m]);
        plot_printf(s, "EOD\n");
    }
    /* one data block per cell: n, mean min max of token_acc, exact_match, loss, then seeds */
    for (int i = 0; i < nm; i++) {
        const Cell *c = &cells[members[i]];
        plot_printf(s, "$d%d << EOD\n", i);
        for (int m = 0; m < c->num_lengths; m++) {
            plot_printf(s, "%d %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %d\n", c->lengths[m], c->acc[m].mean,
                        c->acc[m].min, c->acc[m].max, c->em[m].mean, c->em[m].min, c->em[m].max, c->loss[m].mean,
                        c->loss[m].min, c->loss[m].max, c->seeds[m]);
            if (c->lengths[m] > nmax) nmax = c->lengths[m];
            any_band |= c->seeds[m] > 1;
        }
        plot_printf(s, "EOD\n");
    }
    *nmax_out = nmax;
    *any_band_out = any_band;
}

/* break lengths (accuracy plots): per cell a line per panel, "median y min max" (NaN: none or censored) */
static void group_break_data(PlotScript *s, const Cell *cells, const int *members, int nm) {
    for (int i = 0; i < nm; i++) {
        const Cell *c = &cells[members[i]];
        plot_printf(s, "$b%d << EOD\n", i);
        for (int p = 0; p < 2; p++) {
            const int metric = p == 0 ? AGG_ACC : AGG_EM;
            const BreakSummary *bs = &c->brk[metric];
            if (bs->defined && bs->median > 0) {
                const int lo = bs->min > 0 ? bs->min : c->n_max;
                const int hi = bs->max > 0 ? bs->max : c->n_max;
                plot_printf(s, "%d %.4f %d %d\n", bs->median, 0.04 + 0.045 * i, lo, hi);
            } else {
                plot_printf(s, "NaN NaN NaN NaN\n");
            }
        }
        plot_printf(s, "EOD\n");
    }
}

/* A group's panels (accuracy: token_acc and exact_match; loss: one), the
 * lines drawn in order (encodings first, their variants on top). */
static void group_panels(PlotScript *s, const AggTable *t, const int *members, int nm, int loss, const LineStyle *st,
                         const int *order, int any_break, int has_floor) {
    const Cell *cells = t->cells;
    const Cell *c0 = &cells[members[0]];
    const int A = c0->alphabet, panels = loss ? 1 : 2;
    for (int p = 0; p < panels; p++) {
        const int col = loss ? 8 : (p == 0 ? 2 : 5); /* mean column; min and max follow */
        const char *ylabel = !loss ? (p == 0 ? "token accuracy" : "exact match")
                             : c0->lm ? "loss (cross-entropy per token, nats; log scale)"
                                      : "loss (cross-entropy per answer token, nats; log scale)";
        const double l = panels == 2 ? (p == 0 ? 0.06 : 0.56) : 0.09, r = panels == 2 ? (p == 0 ? 0.47 : 0.97) : 0.97;
        plot_printf(s, "set lmargin at screen %.3f\nset rmargin at screen %.3f\n", l, r);
        plot_printf(s, "set title '%s'\nset ylabel '%s'\n", loss ? "" : ylabel, ylabel);
        if (loss) {
            /* log axis fitted to the data, the floor and chance (autoscale would round out to whole decades) */
            double lo = A > 1 ? log((double)A) : 1e30, hi = A > 1 ? log((double)A) : 0.0;
            for (int i = 0; i < nm; i++)
                for (int m = 0; m < cells[members[i]].num_lengths; m++) {
                    const Stat *q = &cells[members[i]].loss[m];
                    if (q->min > 0 && q->min < lo) lo = q->min;
                    if (q->max > hi) hi = q->max;
                    if (cells[members[i]].floor[m] > 0 && cells[members[i]].floor[m] < lo) lo = cells[members[i]].floor[m];
                }
            plot_log_y(s, lo, hi);
        }
        else
            plot_printf(s, "unset logscale y\nset ytics autofreq\nset yrange [0:1.05]\n");
        plot_printf(s, "plot ");
        /* bands first (under every line), only from lengths with two seeds or more */
        for (int i = 0; i < nm; i++)
            plot_printf(s, "$d%d using 1:($11 > 1 ? $%d : NaN):%d with filledcurves lc rgb '%s' notitle, ", i, col + 1,
                        col + 2, st[i].colour);
        for (int q = 0; q < nm; q++) {
            const int i = order[q];
            plot_printf(s, "%s$d%d using 1:%d with linespoints lw %.2f dt %s pt %d ps %.2f lc rgb '%s' notitle",
                        q ? ", " : "", i, col, st[i].width, st[i].dash, st[i].point, st[i].point_size, st[i].colour);
        }
        /* break lengths: a triangle at the median over seeds, whiskers min..max, one row per cell */
        if (!loss && any_break)
            for (int i = 0; i < nm; i++)
                plot_printf(s, ", $b%d every ::%d::%d using 1:2:3:4 with xerrorbars pt 11 ps 1.4 lw 1.5 lc rgb '%s' "
                               "notitle", i, p, p, st[i].colour);
        /* chance: a uniform guess over the alphabet */
        if (A > 1 && (loss || p == 0))
            plot_printf(s, ", %.6f with lines dt 3 lw 1.5 lc rgb '#666666' notitle", loss ? log((double)A) : 1.0 / A);
        if (loss && has_floor) plot_printf(s, ", $floor using 1:2 with lines dt 1 lw 1.5 lc rgb '#000000' notitle");
        plot_printf(s, "\n");
    }
}

/* The one legend: a strip across the figure under the panels, the series, then the reference marks. */
static void group_legend(PlotScript *s, const AggTable *t, const int *members, int nm, int loss, const LineStyle *st,
                         int any_break, int has_floor, int cols, int rows, double ref_h, double key_h) {
    const int A = t->cells[members[0]].alphabet;
    plot_printf(s,
                "unset title\nunset arrow 1\nunset xlabel\nunset ylabel\nunset grid\n"
                "unset logscale\nunset border\nunset tics\nset xrange [0:1]\nset yrange [0:1]\n"
                "set lmargin at screen 0.02\nset rmargin at screen 0.98\n"
                "set bmargin at screen %.4f\nset tmargin at screen %.4f\n"
                "set key center center horizontal maxcols %d maxrows %d samplen 4 spacing 1.2 font ',10'\nplot ",
                ref_h, key_h, cols, rows);
    for (int i = 0; i < nm; i++) {
        char label[256];
        cell_label(t, members[i], label, sizeof label);
        plot_printf(s, "%sNaN with linespoints lw %.2f dt %s pt %d ps %.2f lc rgb '%s' title ", i ? ", " : "",
                    st[i].width, st[i].dash, st[i].point, st[i].point_size, st[i].colour);
        plot_quoted(s, label);
    }
    plot_printf(s, "\n");
    const int refs = (A > 1) + (!loss && any_break) + (loss && has_floor);
    if (refs) {
        plot_printf(s, "set bmargin at screen 0.0\nset tmargin at screen %.4f\n"
                       "set key center center horizontal maxrows 1 samplen 4 font ',10'\nplot ", ref_h);
        int k = 0;
        if (A > 1)
            plot_printf(s, "%sNaN with lines dt 3 lw 1.5 lc rgb '#666666' title '%s'", k++ ? ", " : "",
                        loss ? "chance: log(alphabet)" : "chance: 1/alphabet");
        if (!loss && any_break)
            plot_printf(s, "%sNaN with points pt 11 ps 1.4 lc rgb '#444444' title 'break length: median, min..max over "
                           "seeds'", k++ ? ", " : "");
        if (loss && has_floor)
            plot_printf(s, "%sNaN with lines dt 1 lw 1.5 lc rgb '#000000' title 'floor (lowest possible)'", k++ ? ", " : "");
        plot_printf(s, "\n");
    }
}

/* gnuplot script for one group: accuracy (token_acc and exact_match panels)
 * or loss (log scale). One legend below the panels; a dotted chance line
 * (token accuracy 1/alphabet, loss log(alphabet): a uniform guess); bands
 * min..max over seeds only where a length has two seeds or more. */
void group_script(PlotScript *s, const AggTable *t, const int *members, int nm,
                  const char *head, int loss, int height) {
    const Cell *cells = t->cells;
    const Cell *c0 = &cells[members[0]];
    int has_floor = 0;
    for (int m = 0; m < c0->num_lengths; m++) has_floor |= c0->floor[m] >= 0;
    int nmax, any_band;
    group_data(s, t, members, nm, loss, has_floor, &nmax, &any_band);
    const int any_break = !loss && group_any_break(cells, members, nm);
    if (any_break) group_break_data(s, cells, members, nm);
    LineStyle *st = core_calloc(nm, sizeof *st);
    group_styles(cells, members, nm, st);
    const int train_max = c0->max_len;
    /* lengths over a factor of 16 or more (a language model at 64..4096) get a log axis, base 2 */
    int nmin = nmax;
    for (int i = 0; i < nm; i++)
        for (int m = 0; m < cells[members[i]].num_lengths; m++)
            if (cells[members[i]].lengths[m] > 0 && cells[members[i]].lengths[m] < nmin) nmin = cells[members[i]].lengths[m];
    const int logx = nmax >= 16 * nmin;
    int cols, rows;
    legend_layout(t, members, nm, aggregate_plot_width(loss), &cols, &rows);
    /* screen fractions: the title on top, the legend's rows (and the reference row) in a strip under the panels */
    const double ref_h = 24.0 / height, key_h = (22.0 * rows + 16.0) / height + ref_h, top = 1.0 - 70.0 / height;
    plot_printf(s,
                "set grid lc rgb '#dddddd'\n"
                "set xlabel 'evaluation length n%s (vertical dashed line: the longest training length, n = %d)'\n",
                logx ? ", log scale" : "", train_max);
    if (logx) { /* tics at the powers of two in the range */
        plot_printf(s, "set logscale x 2\nset xrange [%g:%g]\nset xtics (", nmin / 1.25, nmax * 1.25);
        long v = 1;
        while (v < nmin) v *= 2;
        for (int k = 0; v <= nmax; v *= 2, k++) plot_printf(s, "%s%ld", k ? ", " : "", v);
        plot_printf(s, ")\n");
    }
    else
        plot_printf(s, "set xrange [0:%d]\n", nmax + (nmax / 20 > 1 ? nmax / 20 : 1));
    plot_printf(s,
                "set style fill transparent solid 0.15 noborder\n"
                "set arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 2 lw 1.5 lc rgb '#444444'\n"
                "unset key\n"
                "set multiplot title ",
                train_max, train_max);
    char title[1024];
    snprintf(title, sizeof title, "%s (trained on n = %d..%d%s)", head, c0->min_len, c0->max_len,
             any_band ? "; bands: min..max over seeds" : "; one seed: no band");
    plot_quoted(s, title);
    plot_printf(s, " font ',11'\nset bmargin at screen %.4f\nset tmargin at screen %.4f\n", key_h + 60.0 / height, top);
    /* the lines: encodings first, their variants on top */
    int *order = core_calloc(nm, sizeof *order), no = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nm; i++)
            if (st[i].variant == pass) order[no++] = i;
    group_panels(s, t, members, nm, loss, st, order, any_break, has_floor);
    group_legend(s, t, members, nm, loss, st, any_break, has_floor, cols, rows, ref_h, key_h);
    free(order);
    plot_printf(s, "unset multiplot\n");
    free(st);
}

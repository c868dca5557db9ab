/* show_alibi.c — `posenc show alibi`: the head slopes and bias matrices. */
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

#define ALIBI_PREDICTION "ALiBi heads get geometrically spaced slopes, from steep (local) to gentle (distant)"

/* The verdict on the slopes of NH heads: geometric? the ratios of the slopes
 * sorted from steep to gentle. */
static void alibi_verdicts(const float *slopes, int NH, ShowVerdicts *out) {
    if (NH == 1) {
        show_verdict_add(out, ALIBI_PREDICTION, SHOW_NOT_TESTED, "one head has one slope (%g)", slopes[0]);
        return;
    }
    float *sorted = core_calloc(NH, sizeof(float));
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
    const int in_order = memcmp(sorted, slopes, NH * sizeof(float)) == 0, geometric = rmax - rmin <= 1e-5 * rmax;
    char ratio[96];
    if (geometric)
        snprintf(ratio, sizeof ratio, "%.6g throughout", rmin);
    else
        snprintf(ratio, sizeof ratio, "between %.6g and %.6g, not one constant", rmin, rmax);
    show_verdict_add(out, ALIBI_PREDICTION, geometric ? SHOW_CONFIRMED : SHOW_REFUTED,
                     "sorted from steep to gentle, consecutive slopes have ratio %s (%s); the steepest head (m = %g) "
                     "reaches bias -1 after %.0f positions, the gentlest (m = %g) after %.0f",
                     ratio,
                     in_order ? "heads in that order"
                              : "head order interleaved, as Press et al.'s get_slopes does for a head count that is "
                                "not a power of 2",
                     sorted[0], ceil(1.0 / sorted[0] - 1e-6), sorted[NH - 1], ceil(1.0 / sorted[NH - 1] - 1e-6));
    free(sorted);
}

static int alibi_judge(Show *s, const ShowView *view, ShowVerdicts *out) {
    (void)view;
    float *slopes = core_calloc(s->heads, sizeof(float));
    pe_alibi_slopes(slopes, s->heads);
    alibi_verdicts(slopes, s->heads, out);
    free(slopes);
    return 0;
}

static int show_alibi(Show *s, const ShowView *view) {
    const int len = s->len, NH = s->heads;
    PEConfig pc = show_pe_config(s);
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return EXIT_USAGE;
    float *slopes = core_calloc(NH, sizeof(float));
    pe_alibi_slopes(slopes, NH);
    /* bias[h][i, j] from bias_forward; NaN above the diagonal (masked) */
    float *bias = core_calloc((size_t)NH * len * len, sizeof(float));
    int *pos = core_calloc(len, sizeof(int));
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

    ShowVerdicts v = {0};
    alibi_verdicts(slopes, NH, &v);
    printf("\n");
    show_print_verdicts(&v);

    /* the picture: one bias matrix per head (up to 16), then bias vs distance */
    const int shown = NH < 16 ? NH : 16, panels = shown + 1;
    int cols = (int)ceil(sqrt((double)panels)), rows = (panels + cols - 1) / cols;
    PlotScript ps;
    plot_script_init(&ps);
    int st = show_stride(len, 160);
    char name[32];
    for (int h = 0; h < shown; h++) {
        snprintf(name, sizeof name, "b%d", h);
        show_emit_grid(&ps, name, bias + (size_t)h * len * len, len, len, st, st);
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
                    show_ramp(h, NH), slopes[h]);
    plot_printf(&ps, ", -1 with lines dt 2 lc rgb '#555555' title 'bias -1'\nunset multiplot\n");
    int rc = show_render(s, &ps, 430 * cols, 370 * rows + 40);
    plot_script_free(&ps);
    free(bias);
    free(slopes);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* The report's card: the bias rows of 1..16 heads (head size 16), distances
 * 0..31 for the query at 31; the verdicts at 8 heads. */
static int alibi_card(const ShowView *view, const ShowCardRun *run, Show *s, cJSON *o) {
    (void)run;
    const int len = 32;
    cJSON_AddNumberToObject(o, "len", len);
    cJSON *hs = cJSON_AddArrayToObject(o, "by_heads");
    int *pos = core_calloc(len, sizeof(int));
    for (int p = 0; p < len; p++) pos[p] = p;
    int rc = 0;
    for (int H = 1; H <= 16 && rc == 0; H++) {
        PEConfig pc;
        pe_config_default(&pc);
        pc.C = 16 * H, pc.NH = H, pc.hs = 16, pc.L = 1, pc.P = len;
        PE pe;
        if ((rc = pe_init(&pe, view->enc, &pc)) != 0) break;
        /* bias[h][d] at distance d for the query at len-1 */
        float *b = core_calloc((size_t)H * len, sizeof(float)), *row = core_calloc(len, sizeof(float));
        for (int h = 0; h < H; h++) {
            memset(row, 0, sizeof(float) * len);
            pe.ops->bias_forward(&pe, row, 0, h, pos, len - 1);
            for (int d = 0; d < len; d++) b[(size_t)h * len + d] = row[len - 1 - d];
        }
        cJSON_AddItemToArray(hs, show_json_numbers(b, (size_t)H * len, 1e-5));
        free(b);
        free(row);
        pe_free(&pe);
    }
    free(pos);
    s->heads = 8, s->dim = 128, s->len = len;
    return rc;
}

const ShowView show_view_alibi = {"alibi", show_alibi, alibi_judge, alibi_card};

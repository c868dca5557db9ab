/* show_xpos.c — `posenc show xpos`: each pair's decay and score vs distance. */
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

static int show_xpos(Show *s, const ShowView *view) {
    const int len = s->len, hs = s->dim / s->heads, half = hs / 2;
    PEConfig pc = show_pe_config(s);
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return EXIT_USAGE;
    const double gamma = (float)show_setting(&pc, "xpos_scale_base");
    const float rope_base = (float)pe_setting(&pc, &pe_rope_base_setting);
    /* per pair i: the key-query product of e_i at distance d (query at d, key at 0):
     * cos(d w_i) zeta_i^(d/gamma), and the decay alone (norm of the rotated, scaled pair) */
    float *score = core_calloc((size_t)half * len, sizeof(float)), *decay = core_calloc((size_t)half * len, sizeof(float));
    float *q = core_calloc(hs, sizeof(float)), *k = core_calloc(hs, sizeof(float));
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
           "the score of pair i carries cos((n - m) w_i) zeta_i^((n - m)/gamma)\n\n", hs, half, gamma, rope_base,
           len - 1);
    printf("  %4s  %10s  %12s  %14s  %14s  %14s\n", "pair", "zeta_i", "w_i (rad/pos)", "half-life", "decay at",
           "score at");
    printf("  %4s  %10s  %12s  %14s  %14s  %14s\n", "i", "", "", "(positions)", "d = len-1", "d = len-1");
    for (int i = 0; i < half; i++) {
        double zeta = (2.0 * i + 0.4 * hs) / (1.4 * hs), w = pow(rope_base, -2.0 * i / hs);
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
    show_mark_training(&ps, s, "training");
    show_panel_at(&ps, 0, 1, 2, W, H, strip);
    plot_printf(&ps, "set title 'decay zeta_i^{d/gamma} per pair'\nset ylabel 'decay'\nplot ");
    for (int k = 0, n = 0; k < nshown; k++)
        plot_printf(&ps, "%s$d using 1:%d with lines lw 2 lc rgb '%s' notitle", n++ ? ", " : "", shown[k] + 2,
                    show_ramp(k, nshown));
    plot_printf(&ps, "\n");
    show_panel_at(&ps, 1, 1, 2, W, H, strip);
    plot_printf(&ps, "set title 'score of pair i: cos(d w_i) zeta_i^{d/gamma}'\nset ylabel 'q·k'\nplot ");
    for (int p = 0; p < 3; p++) {
        int k = 0;
        while (shown[k] != picks[p]) k++;
        plot_printf(&ps, "%s$d using 1:%d with lines lw 2 lc rgb '%s' notitle", p ? ", " : "", half + 2 + p,
                    show_ramp(k, nshown));
    }
    plot_printf(&ps, "\n");
    show_legend_strip(&ps, H, strip, 10);
    for (int k = 0; k < nshown; k++)
        plot_printf(&ps, "%sNaN with lines lw 2 lc rgb '%s' title 'pair %d'", k ? ", " : "", show_ramp(k, nshown),
                    shown[k]);
    plot_printf(&ps, "\nunset multiplot\n");
    int rc = show_render(s, &ps, W, H);
    plot_script_free(&ps);
    free(score);
    free(decay);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

const ShowView show_view_xpos = {"xpos", show_xpos, NULL, NULL};

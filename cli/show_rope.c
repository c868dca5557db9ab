/* show_rope.c — `posenc show rope`: angles, cos vs distance, and the evaluation-time scalings. */
#include <math.h>
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

/* The per-pair frequencies before and after an evaluation-time RoPE scaling. */
static int show_rope_scaling(const Show *s) {
    PEConfig pc = show_pe_config(s);
    const float rope_base = (float)pe_setting(&pc, &pe_rope_base_setting);
    const int hs = s->dim / s->heads;
    double scale = s->rope_scale;
    if (scale <= 0) {
        if (!s->train_T) return core_errorf("--rope-scaling %s: give --rope-scale S (or --run RUN to derive it)",
                                          pe_rope_scaling_name(s->rope_scaling));
        scale = (double)s->len / s->train_T;
        if (scale < 1) scale = 1;
    }
    int L = s->orig_len ? s->orig_len : s->train_T ? s->train_T : (int)lround(s->len / scale);
    if (L < 1) L = 1;
    double *w0 = core_calloc(hs, sizeof(double)), *w1 = core_calloc(hs, sizeof(double)), m0 = 1, m1 = 1;
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
        printf("NTK-aware: base' = base * s^(R/(R-2)) = %g * %.4g^(%d/%d) = %.6g\n", rope_base, (double)pc.rope_scale,
               2 * half, 2 * half - 2, half > 1 ? rope_base * pow(pc.rope_scale, 2.0 * half / (2 * half - 2)) : rope_base);
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

int show_rope_tables(const PE *pe, int len, double **angle_out, double **cos_out) {
    const int hs = pe->cfg.hs;
    /* the pairs the module rotates */
    double *freqs = core_calloc(hs / 2 + 1, sizeof(double)), mscale = 1.0;
    const int rp = pe_rope_frequencies(&pe->cfg, freqs, &mscale), half = rp > 0 ? rp : 0;
    free(freqs);
    double *angle = core_calloc((size_t)len * half + 1, sizeof(double));
    double *cosd = core_calloc((size_t)len * half + 1, sizeof(double));
    float *x = core_calloc(hs, sizeof(float)), *y = core_calloc(hs, sizeof(float));
    /* The pairs rotate independently, so one vector holding a 1 in the first
     * dimension of every pair, e = sum_i e_i, rotates them all in one call:
     * query x = rope(e, p), key y = rope(e, 0); pair i's share of <x, y> is
     * <rope(e_i, p), rope(e_i, 0)> = cos(p*w_i). */
    double *prev = core_calloc(half + 1, sizeof(double));
    for (int k = 0; k < hs; k++) y[k] = k < half ? 1.0f : 0.0f;
    pe->ops->qk_forward(pe, y, 0, 1);
    for (int p = 0; p < len; p++) {
        for (int k = 0; k < hs; k++) x[k] = k < half ? 1.0f : 0.0f;
        pe->ops->qk_forward(pe, x, p, 0);
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
    free(x);
    free(y);
    *angle_out = angle;
    *cos_out = cosd;
    return half;
}

/* What the module computes at s's settings: angle[p, i], cosd[d, i]
 * (show_rope_tables; half pairs) and all1[d] = <rope(1, d), rope(1, 0)> / hs. */
typedef struct {
    int half;
    double *angle, *cosd, *all1;
} RopeTables;

static void rope_tables_free(RopeTables *t) {
    free(t->angle);
    free(t->cosd);
    free(t->all1);
}

static int rope_tables(const Show *s, const ShowView *view, RopeTables *t) {
    const int len = s->len, hs = s->dim / s->heads;
    PEConfig pc = show_pe_config(s);
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return -1;
    float *x = core_calloc(hs, sizeof(float)), *y = core_calloc(hs, sizeof(float));
    t->half = show_rope_tables(&pe, len, &t->angle, &t->cosd);
    t->all1 = core_calloc(len, sizeof(double));
    for (int d = 0; d < len; d++) {
        for (int k = 0; k < hs; k++) x[k] = y[k] = 1;
        pe.ops->qk_forward(&pe, x, d, 0);
        pe.ops->qk_forward(&pe, y, 0, 1);
        double dot = 0;
        for (int k = 0; k < hs; k++) dot += (double)x[k] * y[k];
        t->all1[d] = dot / hs;
    }
    pe_free(&pe);
    free(x);
    free(y);
    return 0;
}

#define ROPE_FAST "RoPE's cos(angle) decays with distance for fast pairs"
#define ROPE_SLOW "... and stays near 1 for slow ones"

static void rope_verdicts(const Show *s, const RopeTables *t, ShowVerdicts *out) {
    const int len = s->len, half = t->half;
    const double *angle = t->angle, *cosd = t->cosd;
    /* pair 0: its largest cos at distances len/2..len-1, and its smallest; the slowest pair's smallest */
    double fast_back = -2, fast_min = 2, slow_min = 2;
    int fast_back_d = 0;
    for (int d = 0; d < len; d++) {
        const double c0 = cosd[(size_t)d * half], cs = cosd[(size_t)d * half + half - 1];
        if (d >= len / 2 && c0 > fast_back) fast_back = c0, fast_back_d = d;
        fast_min = c0 < fast_min ? c0 : fast_min;
        slow_min = cs < slow_min ? cs : slow_min;
    }
    const double fast_lambda = 2 * PI / angle[(size_t)1 * half];
    if (len - 1 < 2 * fast_lambda) {
        show_verdict_add(out, ROPE_FAST, SHOW_NOT_TESTED,
                         "distances up to %d are fewer than two wavelengths of the fastest pair (%.3g); use a larger "
                         "--len", len - 1, fast_lambda);
    } else {
        const int decays = fast_back < 0.9;
        show_verdict_add(out, ROPE_FAST, decays ? SHOW_CONFIRMED : SHOW_REFUTED,
                         "pair 0 (wavelength %.3g positions) %s between %.4f and 1; its largest cos(angle) at "
                         "distances %d..%d is %.4f (at d = %d)",
                         fast_lambda,
                         decays ? "stays low at long distances after starting" : "oscillates without decaying, swinging",
                         fast_min, len / 2, len - 1, fast_back, fast_back_d);
    }
    if (half < 2)
        show_verdict_add(out, ROPE_SLOW, SHOW_NOT_TESTED, "only one pair");
    else
        show_verdict_add(out, ROPE_SLOW, slow_min > 0.9 ? SHOW_CONFIRMED : SHOW_REFUTED,
                         "pair %d (wavelength %.3g positions) never goes below %.4f over distances 0..%d", half - 1,
                         2 * PI / angle[(size_t)1 * half + half - 1], slow_min, len - 1);
}

static int rope_judge(Show *s, const ShowView *view, ShowVerdicts *out) {
    RopeTables t;
    if (rope_tables(s, view, &t) != 0) return -1;
    rope_verdicts(s, &t, out);
    rope_tables_free(&t);
    return 0;
}

/* The picture: each pair's angle vs position (log scale) and cos(angle) vs
 * distance, up to SHOW_NUM_COLORS pairs spread from fast to slow. */
static int rope_picture(const Show *s, const RopeTables *rt, int hs, float rope_base) {
    const int len = s->len, half = rt->half, R = 2 * half;
    const double *angle = rt->angle, *cosd = rt->cosd, *all1 = rt->all1;
    int sel[SHOW_NUM_COLORS], ns = 0;
    if (half <= SHOW_NUM_COLORS) {
        for (int i = 0; i < half; i++) sel[ns++] = i;
    } else {
        for (int k = 0; k < SHOW_NUM_COLORS; k++) {
            int i = (int)lround((double)k * (half - 1) / (SHOW_NUM_COLORS - 1));
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
                hs, half, half, rope_base, R, len - 1);
    /* y from the slowest pair at p = 1 to the fastest at p = len-1 (given, so that a single
     * position never leaves gnuplot an empty range) */
    double ylo = 1e30, yhi = 0;
    for (int k = 0; k < ns; k++) {
        double a1 = angle[(size_t)1 * half + sel[k]], an = angle[(size_t)(len - 1) * half + sel[k]];
        ylo = a1 > 0 && a1 < ylo ? a1 : ylo;
        yhi = an > yhi ? an : yhi;
    }
    if (yhi > 0) plot_printf(&ps, "set yrange [%.6g:%.6g]\n", ylo / 2, yhi * 2);
    show_mark_training(&ps, s, "longest training input");
    for (int k = 0; k < ns; k++) /* each line labelled at its right end */
        plot_printf(&ps, "set label %d 'pair %d, λ = %.3g' at first %d, first %.6g left offset 0.7,0 tc rgb '%s'\n",
                    10 + k, sel[k], 2 * PI / angle[(size_t)(len > 1) * half + sel[k]], len - 1,
                    angle[(size_t)(len - 1) * half + sel[k]], show_ramp(k, ns));
    plot_printf(&ps, "plot ");
    for (int k = 0; k < ns; k++)
        plot_printf(&ps, "%s$r using 1:($1 > 0 ? $%d : NaN) with lines lw 2 lc rgb '%s' notitle", k ? ", " : "",
                    3 + 2 * k, show_ramp(k, ns));
    plot_printf(&ps, "\n");
    for (int k = 0; k < ns; k++) plot_printf(&ps, "unset label %d\n", 10 + k);
    plot_printf(&ps, "unset logscale y\nset format y '%%g'\nset yrange [-1.05:1.05]\n"
                     "set lmargin at screen 0.56\nset rmargin at screen 0.97\nset key below horizontal\n"
                     "set xlabel 'distance d = m - n between query and key'\nset ylabel 'cos(d·ω_i)'\n"
                     "set title 'cos(angle) = <rope(e_i, d), rope(e_i, 0)> vs distance'\n");
    show_unmark(&ps);
    if (s->train_T) {
        plot_printf(&ps, "set arrow 1 from first %d, graph 0 to first %d, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n",
                    s->train_T - 1, s->train_T - 1);
        plot_printf(&ps, "set label 1 'longest training distance' at first %d, graph 0.96 left offset 0.5,0 front\n",
                    s->train_T - 1);
    }
    plot_printf(&ps, "plot ");
    for (int k = 0; k < ns; k++)
        plot_printf(&ps, "%s$r using 1:%d with lines lw 1.5 lc rgb '%s' notitle", k ? ", " : "", 4 + 2 * k,
                    show_ramp(k, ns)); /* the pairs' colours are labelled in the left panel */
    plot_printf(&ps, ", $r using 1:2 with lines lw 3.5 dt 1 lc rgb '#000000' title 'mean over all pairs "
                     "(each pair in its colour on the left)'\n");
    plot_printf(&ps, "unset multiplot\n");
    int rc = show_render(s, &ps, 1300, 600);
    plot_script_free(&ps);
    return rc;
}

static int show_rope(Show *s, const ShowView *view) {
    if (s->rope_scaling != PE_ROPE_SCALING_NONE && show_rope_scaling(s) != 0) return EXIT_USAGE;
    const int len = s->len, hs = s->dim / s->heads;
    PEConfig pc = show_pe_config(s);
    const float rope_base = (float)pe_setting(&pc, &pe_rope_base_setting);
    RopeTables rt;
    if (rope_tables(s, view, &rt) != 0) return EXIT_USAGE;
    /* angle[p, i], cosd[d, i]: show_rope_tables (R = 2 * half dimensions rotated) */
    const double *angle = rt.angle, *cosd = rt.cosd, *all1 = rt.all1;
    const int half = rt.half, R = 2 * half;

    int dist[8], nd = 0;
    for (int d = 1; d < len - 1 && nd < 6; d *= 8) dist[nd++] = d;
    dist[nd++] = len - 1;
    printf("rope, head size hs = %d (%d heads of C = %d), %d dimensions rotated in %d pairs (i, i + %d), "
           "base %g, positions 0..%d\n", hs, s->heads, s->dim, R, half, half, rope_base, len - 1);
    printf("(w_i = the angle pair i is turned by at p = 1; cos(d*w_i) = <rope(e_i, d), rope(e_i, 0)>, the score of a\n"
           " query and a key that are both the unit vector e_i of the pair's first dimension)\n\n");
    printf("  %4s  %10s  %11s", "pair", "w_i", "wavelength");
    for (int k = 0; k < nd; k++) printf("  %9s%-4d", "cos at d=", dist[k]);
    printf("  %14s  %16s\n", "first cos < 0", "max cos, d in");
    printf("  %4s  %10s  %11s", "i", "(rad/pos)", "(positions)");
    for (int k = 0; k < nd; k++) printf("  %13s", "");
    printf("  %14s  %16s\n", "at d", "second half");
    for (int i = 0; i < half; i++) {
        double w = len > 1 ? angle[(size_t)1 * half + i] : 0;
        printf("  %4d  %10.4g  %11.4g", i, w, 2 * PI / w);
        for (int k = 0; k < nd; k++) printf("  %13.4f", cosd[(size_t)dist[k] * half + i]);
        int first = -1;
        double mx = -2;
        int mxd = 0;
        for (int d = 0; d < len; d++) {
            double c = cosd[(size_t)d * half + i];
            if (first < 0 && c < 0) first = d;
            if (d >= len / 2 && c > mx) mx = c, mxd = d;
        }
        if (first >= 0)
            printf("  %14d", first);
        else
            printf("  %14s", "never");
        printf("  %9.4f (d=%d)\n", mx, mxd);
    }
    printf("  %4s  %10s  %11s", "mean", "", "");
    for (int k = 0; k < nd; k++) printf("  %13.4f", all1[dist[k]]);
    printf("   <- <rope(q, d), rope(k, 0)>/hs for q = k = (1, ..., 1)\n");
    if (s->train_T) printf("\nthe run's longest training input spans distances up to %d\n", s->train_T - 1);

    double all1_late = -2;
    for (int d = len / 2; d < len; d++) all1_late = all1[d] > all1_late ? all1[d] : all1_late;
    ShowVerdicts v = {0};
    rope_verdicts(s, &rt, &v);
    printf("\n");
    show_print_verdicts(&v);
    printf("(the score of q = k = (1, ..., 1), which averages all pairs, does fall: %.4f at d = %d, at most "
           "%.4f over distances %d..%d — the long-term decay of Su et al. is a property of the sum over "
           "pairs)\n", all1[len - 1], len - 1, all1_late, len / 2, len - 1);

    int rc = rope_picture(s, &rt, hs, rope_base);
    rope_tables_free(&rt);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* The report's card: 128 positions at the settings of the first finished
 * rope run (else the defaults); the angles in [0, 2pi). */
static int rope_card(const ShowView *view, const ShowCardRun *run, Show *s, cJSON *o) {
    const int len = 128, C = run ? run->cfg->model.C : 64, NH = run ? run->cfg->model.NH : 4, hs = C / NH;
    PEConfig pc;
    pe_config_default(&pc);
    pc.C = C, pc.NH = NH, pc.hs = hs, pc.L = 1, pc.P = len;
    if (run) pc.set = run->cfg->model.pe_set;
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) return -1;
    /* the rotated pairs as `posenc show rope` computes them */
    double *ua, *uc;
    const int half = show_rope_tables(&pe, len, &ua, &uc);
    float *angle = core_calloc((size_t)len * half + 1, sizeof(float)), *cosd = core_calloc((size_t)len * half + 1, sizeof(float));
    for (size_t k = 0; k < (size_t)len * half; k++) {
        const double a = fmod(ua[k], 2 * PI);
        angle[k] = (float)(a < 0 ? a + 2 * PI : a);
        cosd[k] = (float)uc[k];
    }
    free(ua);
    free(uc);
    cJSON_AddNumberToObject(o, "len", len);
    cJSON_AddNumberToObject(o, "hs", hs);
    cJSON_AddNumberToObject(o, "pairs", half);
    cJSON_AddNumberToObject(o, "base", (float)pe_setting(&pc, &pe_rope_base_setting));
    if (run) {
        cJSON_AddStringToObject(o, "run", run->id);
        cJSON_AddNumberToObject(o, "train_T", task_max_train_input_len(task_find(run->cfg->task.name), &run->cfg->task));
    }
    cJSON_AddItemToObject(o, "angle", show_json_numbers(angle, (size_t)len * half, 1e-3));
    /* w_i: the angle at p = 1, unrounded (the slowest pairs turn by less than 1e-3) */
    cJSON *w = cJSON_AddArrayToObject(o, "omega");
    for (int i = 0; i < half; i++) cJSON_AddItemToArray(w, cJSON_CreateNumber(len > 1 ? angle[half + i] : 0));
    cJSON_AddItemToObject(o, "cos", show_json_numbers(cosd, (size_t)len * half, 1e-3));
    free(angle);
    free(cosd);
    pe_free(&pe);
    if (run) s->run = run->dir;
    s->len = len;
    return 0;
}

const ShowView show_view_rope = {"rope", show_rope, rope_judge, rope_card};

/* show_learned.c — `posenc show learned`: the trained table, trained vs never-trained rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/show.h"
#include "core/escape.h"
#include "core/fsutil.h"
#include "core/alloc.h"
#include "data/task.h"
#include "run/rundir.h"

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


/* The table and what its rows say: w (len, C) the shown table, w0 the same
 * table at initialisation (the run's seed; NULL without --run); tr, un the
 * trained and never-trained rows (without --run: un = every row); the same
 * figures of N(0, 0.02) noise and the standard errors of un's means. */
typedef struct {
    float *w, *w0;
    int T; /* rows 0..T-1 occur in training inputs (0 without --run) */
    RowStats tr, un;
    double noise_norm, noise_cos, se_norm, se_cos, z_norm, z_cos;
} LearnedTable;

static void learned_table_free(LearnedTable *t) {
    free(t->w);
    free(t->w0);
}

static int learned_table(Show *s, const ShowView *view, LearnedTable *t) {
    memset(t, 0, sizeof *t);
    const int C = s->dim, len = s->len;
    GPT fresh, *m;
    GPTConfig mc;
    if (!(m = show_model(s, view->enc, &fresh, &mc))) return EXIT_USAGE;
    t->w = show_embed_table(&m->pe, len, C);
    /* the same table at initialisation (the run's seed) */
    GPT init;
    if (s->have_model) {
        if (gpt_build(&init, &mc) != 0) {
            learned_table_free(t);
            return EXIT_RUNTIME;
        }
        gpt_init_params(&init, s->cfg.seed);
        t->w0 = show_embed_table(&init.pe, len, C);
        gpt_free(&init);
    } else {
        gpt_free(&fresh);
    }

    /* what N(0, 0.02) noise gives: E||x|| = 0.02 sqrt(2) G((C+1)/2)/G(C/2), Var||x|| = 0.02^2 C - E^2;
     * two independent isotropic vectors: E|cos| = G(C/2) / (sqrt(pi) G((C+1)/2)), E cos^2 = 1/C */
    const double lg = lgamma((C + 1) / 2.0) - lgamma(C / 2.0);
    t->noise_norm = 0.02 * sqrt(2.0) * exp(lg), t->noise_cos = exp(-lg) / sqrt(PI);
    const double sd_norm = sqrt(fmax(0.0004 * C - t->noise_norm * t->noise_norm, 0)),
                 sd_cos = sqrt(fmax(1.0 / C - t->noise_cos * t->noise_cos, 0));
    t->T = s->have_model ? (s->train_T < len ? s->train_T : len) : 0;
    if (s->have_model) {
        t->tr = row_stats(t->w, t->w0, C, 0, t->T);
        t->un = row_stats(t->w, t->w0, C, t->T, len);
    } else {
        t->un = row_stats(t->w, NULL, C, 0, len);
    }
    /* the spread of those means over un.n rows (un.n - 1 neighbour pairs) of pure noise */
    const RowStats un = t->un;
    t->se_norm = un.n ? sd_norm / sqrt(un.n) : 0, t->se_cos = un.n > 1 ? sd_cos / sqrt(un.n - 1) : 0;
    t->z_norm = t->se_norm > 0 ? (un.norm - t->noise_norm) / t->se_norm : 0;
    t->z_cos = t->se_cos > 0 ? (un.nbr_cos - t->noise_cos) / t->se_cos : 0;
    return 0;
}

#define LEARNED_PREDICTION "learned has no signal past its training length"

static void learned_verdicts(const Show *s, const LearnedTable *t, ShowVerdicts *out) {
    const RowStats tr = t->tr, un = t->un;
    if (!s->have_model) {
        show_verdict_add(out, LEARNED_PREDICTION, SHOW_NOT_TESTED,
                         "a fresh table is noise everywhere (row norm %.4f, neighbour |cos| %.4f: %+.1f and %+.1f "
                         "standard errors from N(0, 0.02) noise); give --run RUN of a run trained with model.pe=learned",
                         un.norm, un.nbr_cos, t->z_norm, t->z_cos);
    } else if (!un.n) {
        show_verdict_add(out, LEARNED_PREDICTION, SHOW_NOT_TESTED,
                         "every row of this table (P = %d) occurs in training inputs; train with a larger "
                         "model.max_positions or longer eval.lengths", s->len);
    } else {
        const int same = un.max_moved == 0.0;
        show_verdict_add(out, LEARNED_PREDICTION, same ? SHOW_CONFIRMED : SHOW_REFUTED,
                         "the %d rows at positions %d..%d %s (max |W - W_init| = %.3g); their row norm %.4f and "
                         "neighbour |cos| %.4f lie %+.1f and %+.1f standard errors from N(0, 0.02) noise (%.4f, "
                         "%.4f), while the trained rows moved %.4f on average from their initial values (row norm "
                         "%.4f, neighbour |cos| %.4f)",
                         un.n, t->T, s->len - 1, same ? "are bitwise their initial noise" : "changed in training",
                         un.max_moved, un.norm, un.nbr_cos, t->z_norm, t->z_cos, t->noise_norm, t->noise_cos,
                         tr.moved, tr.norm, tr.nbr_cos);
    }
}

static int learned_judge(Show *s, const ShowView *view, ShowVerdicts *out) {
    LearnedTable t;
    if (learned_table(s, view, &t) != 0) return -1;
    learned_verdicts(s, &t, out);
    learned_table_free(&t);
    return 0;
}

static int show_learned(Show *s, const ShowView *view) {
    const int C = s->dim, len = s->len;
    LearnedTable lt;
    const int lrc = learned_table(s, view, &lt);
    if (lrc != 0) return lrc;
    const float *w = lt.w, *w0 = lt.w0;
    const double noise_norm = lt.noise_norm, noise_cos = lt.noise_cos;
    const int T = lt.T;

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
    if (s->have_model) {
        print_row_stats("trained (positions < longest input)", lt.tr, 1);
        if (lt.un.n) print_row_stats("never trained", lt.un, 1);
    } else {
        print_row_stats("all (untrained)", lt.un, 0);
    }
    printf("  %-36s %5s  %13.4f  %12.4f\n", "expected of N(0, 0.02) noise", "", noise_norm, noise_cos);
    printf("  %-36s %5s  %13.4f  %12.4f\n", "  its standard error over that many", "", lt.se_norm, lt.se_cos);
    ShowVerdicts v = {0};
    learned_verdicts(s, &lt, &v);
    printf("\n");
    show_print_verdicts(&v);

    PlotScript ps;
    plot_script_init(&ps);
    float amax = 0;
    for (size_t i = 0; i < (size_t)len * C; i++) amax = fabsf(w[i]) > amax ? fabsf(w[i]) : amax;
    if (amax == 0) amax = 1;
    int sr = show_stride(len, 1024), sc = show_stride(C, 512);
    show_emit_grid(&ps, "w", w, len, C, sr, sc);
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
    show_gp_quote(&ps, title);
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
    show_mark_training(&ps, s, "never trained →");
    plot_printf(&ps, "plot $w using 1:2:3 with image notitle\n");
    plot_printf(&ps, "unset colorbox\nset autoscale y\nset yrange [0:*]\nset ylabel 'row norm'\n"
                     "set xrange [-0.5:%g]\nset key below horizontal\nset bmargin 6\n"
                     "set title 'row norm ||W[p]||%s'\n",
                len - 0.5, w0 ? " and distance moved from the initial values" : "");
    plot_printf(&ps, "plot $rows using 1:2 with linespoints pt 7 ps 0.5 lw 1.5 lc rgb '%s' title '||W[p]||', "
                     "%.6g with lines dt 2 lw 1.5 lc rgb '#555555' title 'N(0, 0.02) noise: %.3f'",
                pe_colour("learned"), noise_norm, noise_norm);
    if (w0)
        plot_printf(&ps, ", $rows using 1:3 with linespoints pt 5 ps 0.5 lw 1.5 lc rgb '%s' title '||W[p] - W_{init}[p]||'",
                    show_colors[2]);
    plot_printf(&ps, "\nunset multiplot\n");
    int rc = show_render(s, &ps, 1200, 850);
    plot_script_free(&ps);
    learned_table_free(&lt);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* The report's card: the table of the first finished learned run (rows never
 * reached in training marked), else a fresh one (64 x 64, seed 1). */
static int learned_card(const ShowView *view, const ShowCardRun *run, Show *s, cJSON *o) {
    GPT m;
    GPTConfig mc;
    if (run) {
        RunConfig lc;
        if (rundir_load(run->dir, 1, &lc, &m, NULL) != 0) return -1;
        mc = m.cfg;
        cJSON_AddStringToObject(o, "run", run->id);
        cJSON_AddNumberToObject(o, "train_T", task_max_train_input_len(task_find(lc.task.name), &lc.task));
        s->run = run->dir;
    } else {
        gpt_config_default(&mc);
        mc.V = task_vocab(10);
        mc.C = 64, mc.NH = 4, mc.P = 64;
        snprintf(mc.pe, sizeof mc.pe, "%s", view->enc);
        if (gpt_build(&m, &mc) != 0) return -1;
        gpt_init_params(&m, 1);
        cJSON_AddNumberToObject(o, "train_T", 0);
    }
    float *t = show_embed_table(&m.pe, mc.P, mc.C);
    cJSON_AddNumberToObject(o, "len", mc.P);
    cJSON_AddNumberToObject(o, "C", mc.C);
    cJSON_AddItemToObject(o, "table", show_json_numbers(t, (size_t)mc.P * mc.C, 1e-4));
    free(t);
    gpt_free(&m);
    return 0;
}

const ShowView show_view_learned = {"learned", show_learned, learned_judge, learned_card};

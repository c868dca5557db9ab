/* show_bias.c — `posenc show t5|fire|kerple`: learned relative biases vs distance. */
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

/* curves[(l * NH + h) * len + d]: the bias bias_forward adds at distance d for
 * a query at position qi (keys at 0..qi), NaN for d > qi. An encoding with
 * the inference path's bias_rows (FIRE) gives it through that hook (the same
 * bits, without the full path's table over pairs). */
void show_bias_curves(const PE *pe, int len, int qi, float *curves) {
    const int L = pe->cfg.L, NH = pe->cfg.NH, ld = (len + 7) / 8 * 8;
    int *pos = core_calloc(len, sizeof(int));
    float *row = core_calloc((size_t)NH * ld, sizeof(float));
    for (int p = 0; p < len; p++) pos[p] = p;
    for (int l = 0; l < L; l++) {
        if (pe->ops->bias_rows) {
            if (pe->ops->bias_prepare_rows) pe->ops->bias_prepare_rows(pe, l, pos, len);
            pe->ops->bias_rows(pe, row, (size_t)ld, l, pos, qi);
            for (int h = 0; h < NH; h++) {
                float *c = curves + ((size_t)l * NH + h) * len;
                for (int d = 0; d < len; d++) c[d] = d <= qi ? row[(size_t)h * ld + qi - d] : NAN;
            }
            continue;
        }
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

/* What differs between the three views: a BiasKind each. */
typedef struct BiasKind {
    const char *title;  /* the picture's title */
    int one_table;      /* one table for every layer (T5): one panel, heads only */
    int second_query;   /* the bias depends on the query position too (FIRE): a second query drawn */
    /* the first line: the formula and the shape */
    void (*header)(const Show *s, const PEConfig *pc);
    /* the module's own parameters (T5's bucket map, FIRE's c and L, KERPLE's p and a) */
    void (*params)(const Show *s, const PE *pe, const PEConfig *pc);
    /* (optional) after the reading: the parameters training never reached */
    void (*untrained)(const Show *s, const GPT *m, const GPTConfig *mc, const PEConfig *pc);
    /* (optional) an extra panel after the layers' (panel number k) */
    void (*panel)(PlotScript *ps, const Show *s, const PEConfig *pc, int k, int rows, int cols, int W, int H, int strip);
} BiasKind;

/* ---- T5 ------------------------------------------------------------------ */

static int t5_buckets(const PEConfig *pc) { return (int)show_setting(pc, "t5_buckets"); }
static int t5_max_distance(const PEConfig *pc) { return (int)show_setting(pc, "t5_max_distance"); }

static void t5_header(const Show *s, const PEConfig *pc) {
    printf("t5, %d heads, %d buckets, max distance %d, positions 0..%d: score[i, j] += W[bucket(i - j), h], "
           "one table for all %d layers\n", pc->NH, t5_buckets(pc), t5_max_distance(pc), s->len - 1, pc->L);
}

static void t5_params(const Show *s, const PE *pe, const PEConfig *pc) {
    (void)pe;
    const int len = s->len, buckets = t5_buckets(pc), max_distance = t5_max_distance(pc);
    printf("\nbucket map (distance -> bucket; HF _relative_position_bucket, bidirectional=False):\n");
    int exact = buckets / 2 < len ? buckets / 2 : len;
    printf("  buckets 0..%d: distances 0..%d, one each\n", exact - 1, exact - 1);
    int b0 = exact < len ? pe_t5_bucket(exact, buckets, max_distance) : 0, lo = exact;
    if (exact >= len) b0 = -1;
    for (int d = exact + 1; d <= len && b0 >= 0; d++) {
        int b = d < len ? pe_t5_bucket(d, buckets, max_distance) : -1;
        if (b != b0) {
            if (lo == d - 1) printf("  bucket %2d: distance %d\n", b0, lo);
            else printf("  bucket %2d: distances %d..%d%s\n", b0, lo, d - 1,
                        d == len && b0 == buckets - 1 ? " and beyond" : "");
            b0 = b, lo = d;
        }
    }
}

/* buckets of distances never seen in training keep their initial values */
static void t5_untrained(const Show *s, const GPT *m, const GPTConfig *mc, const PEConfig *pc) {
    if (!s->train_T) return;
    const int buckets = t5_buckets(pc), max_distance = t5_max_distance(pc), NH = pc->NH;
    const int bt = pe_t5_bucket(s->train_T - 1, buckets, max_distance);
    if (bt >= buckets - 1) {
        printf("\nevery bucket is reached by the training distances");
        return;
    }
    GPT init;
    double dev = -1;
    if (gpt_build(&init, mc) == 0) {
        gpt_init_params(&init, s->cfg.seed);
        dev = 0;
        for (int b = bt + 1; b < buckets; b++)
            for (int h = 0; h < NH; h++) {
                double x = fabs((double)m->params.pe[b * NH + h] - init.params.pe[b * NH + h]);
                dev = x > dev ? x : dev;
            }
        gpt_free(&init);
    }
    printf("\nbuckets %d..%d hold distances the training inputs never span (>= %d): ", bt + 1, buckets - 1,
           s->train_T);
    if (dev == 0)
        printf("bitwise their initial values (max |W - W_init| = 0): at longer lengths those keys get "
               "untrained noise");
    else
        printf("max |W - W_init| = %.3g", dev);
}

static void t5_panel(PlotScript *ps, const Show *s, const PEConfig *pc, int k, int rows, int cols, int W, int H,
                     int strip) {
    plot_printf(ps, "$bk << EOD\n");
    for (int d = 0; d < s->len; d++) plot_printf(ps, "%d %d\n", d, pe_t5_bucket(d, t5_buckets(pc), t5_max_distance(pc)));
    plot_printf(ps, "EOD\n");
    show_panel_at(ps, k, rows, cols, W, H, strip);
    plot_printf(ps, "set title 'bucket of each distance'\nset ylabel 'bucket'\n"
                    "plot $bk using 1:2 with steps lw 2 lc rgb '#000000' notitle\n");
}

static const BiasKind t5_kind = {"T5", 1, 0, t5_header, t5_params, t5_untrained, t5_panel};

/* ---- FIRE ------------------------------------------------------------------ */

static void fire_header(const Show *s, const PEConfig *pc) {
    printf("fire, %d layers x %d heads, MLP 1 -> %d -> %d, positions 0..%d: score[i, j] += "
           "f_l(psi(i - j) / psi(max(L_l, i)))[h], psi(x) = log(|c_l| x + 1)\n", pc->L, pc->NH,
           (int)show_setting(pc, "fire_hidden"), pc->NH, s->len - 1);
}

/* the module's c and L of each layer */
static void fire_params(const Show *s, const PE *pe, const PEConfig *pc) {
    (void)s;
    for (int l = 0; l < pc->L; l++) {
        PEScalar sc[PE_MAX_SCALARS];
        const int n = pe->ops->scalars(pe, l, -1, sc);
        printf("layer %d: c = %.5g, L = |%.5g| x %g = %.4g (queries beyond it normalise by psi(i))\n", l,
               show_scalar(sc, n, "c"), show_scalar(sc, n, "L_multiplier"), (float)show_setting(pc, "fire_init_L"),
               show_scalar(sc, n, "L"));
    }
}

static const BiasKind fire_kind = {"FIRE", 0, 1, fire_header, fire_params, NULL, NULL};

/* ---- KERPLE ----------------------------------------------------------------- */

static void kerple_header(const Show *s, const PEConfig *pc) {
    printf("kerple, %d layers x %d heads, positions 0..%d: score[i, j] += -p_lh * log(1 + a_lh * (i - j))\n", pc->L,
           pc->NH, s->len - 1);
}

/* the module's p and a of each head */
static void kerple_params(const Show *s, const PE *pe, const PEConfig *pc) {
    (void)s;
    printf("\n  %5s  %4s  %10s  %10s\n", "layer", "head", "p", "a");
    for (int l = 0; l < pc->L; l++)
        for (int h = 0; h < pc->NH; h++) {
            PEScalar sc[PE_MAX_SCALARS];
            const int n = pe->ops->scalars(pe, l, h, sc);
            printf("  %5d  %4d  %10.5g  %10.5g\n", l, h, show_scalar(sc, n, "p"), show_scalar(sc, n, "a"));
        }
}

static const BiasKind kerple_kind = {"KERPLE (log)", 0, 0, kerple_header, kerple_params, NULL, NULL};

/* ---- the view ------------------------------------------------------------------ */

/* The distances printed: 0, powers of 2, the longest training distance and len-1, sorted, unique. */
static int bias_distances(const Show *s, int ds[16]) {
    const int len = s->len;
    int nd = 0;
    ds[nd++] = 0;
    for (int d = 1; d < len - 1 && nd < 11; d *= 2) ds[nd++] = d;
    if (s->train_T && s->train_T - 1 < len - 1) ds[nd++] = s->train_T - 1;
    ds[nd++] = len - 1;
    for (int a = 1; a < nd; a++)
        for (int b = a; b > 0 && ds[b] < ds[b - 1]; b--) {
            int x = ds[b];
            ds[b] = ds[b - 1];
            ds[b - 1] = x;
        }
    int k = 0;
    for (int a = 0; a < nd; a++)
        if (!k || ds[a] != ds[k - 1]) ds[k++] = ds[a];
    return k;
}

/* The table of bias vs distance for the query at qs[q] (cur, and cur2 for the second). */
static void print_bias_table(const Show *s, const BiasKind *kind, const PEConfig *pc, const float *const cv[2],
                             const int qs[2], int nq) {
    const int len = s->len, NH = pc->NH;
    int ds[16];
    const int nd = bias_distances(s, ds);
    for (int q = 0; q < nq; q++) {
        printf("\nbias at distance d for a query at position %d:\n  %5s  %4s", qs[q], "layer", "head");
        for (int a = 0; a < nd; a++)
            if (ds[a] <= qs[q]) printf("  %8s%-3d", "d=", ds[a]);
        printf("\n");
        for (int l = 0; l < (kind->one_table ? 1 : pc->L); l++)
            for (int h = 0; h < NH; h++) {
                if (kind->one_table) printf("  %5s  %4d", "all", h);
                else printf("  %5d  %4d", l, h);
                for (int a = 0; a < nd; a++)
                    if (ds[a] <= qs[q]) printf("  %11.4g", cv[q][((size_t)l * NH + h) * len + ds[a]]);
                printf("\n");
            }
    }
}

/* The picture: bias vs distance, one panel per layer (up to 8; one table: one), then the kind's panel. */
static int plot_bias(const Show *s, const BiasKind *kind, const PEConfig *pc, const float *cur, const float *cur2,
                     int q2) {
    const int len = s->len, L = pc->L, NH = pc->NH, nc = L * NH, fire = kind->second_query;
    const int layers = kind->one_table ? 1 : (L < 8 ? L : 8), panels = layers + (kind->panel ? 1 : 0);
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
                kind->title, s->have_model ? " (trained)" : " (initialisation)", len - 1);
    if (s->train_T)
        plot_printf(&ps, "set arrow 1 from first %d, graph 0 to first %d, graph 1 nohead dt 2 lw 2 lc rgb '#000000' front\n"
                         "set label 1 'training' at first %d, graph 0.96 right offset -0.5,0 front\n",
                    s->train_T - 1, s->train_T - 1, s->train_T - 1);
    for (int l = 0; l < layers; l++) {
        show_panel_at(&ps, l, rows, cols, W, H, strip);
        if (kind->one_table) plot_printf(&ps, "set title 'all layers (one table)'\n");
        else plot_printf(&ps, "set title 'layer %d'\n", l);
        plot_printf(&ps, "plot ");
        /* the second query position dashed, darker and thinner, on top (the two often coincide) */
        for (int h = 0; h < NH; h++)
            plot_printf(&ps, "%s$c%d using 1:2 with lines lw %s lc rgb '%s' notitle", h ? ", " : "", l * NH + h,
                        fire ? "3.5" : "2", show_ramp(h, NH));
        for (int h = 0; fire && h < NH; h++) {
            char dark[8];
            show_darker(show_ramp(h, NH), dark);
            plot_printf(&ps, ", $c%d using 1:3 with lines lw 1.5 dt 2 lc rgb '%s' notitle", l * NH + h, dark);
        }
        plot_printf(&ps, "\n");
    }
    if (kind->panel) kind->panel(&ps, s, pc, layers, rows, cols, W, H, strip);
    show_legend_strip(&ps, H, strip, 6);
    for (int h = 0; h < NH; h++)
        plot_printf(&ps, "%sNaN with lines lw 2 lc rgb '%s' title 'head %d'", h ? ", " : "", show_ramp(h, NH), h);
    if (fire)
        plot_printf(&ps, ", NaN with lines lw 3.5 lc rgb '#999999' title 'query at len-1 = %d', "
                         "NaN with lines lw 1.5 dt 2 lc rgb '#444444' title 'query at %d'", len - 1, q2);
    plot_printf(&ps, "\n");
    plot_printf(&ps, "unset multiplot\n");
    int rc = show_render(s, &ps, W, H);
    plot_script_free(&ps);
    return rc;
}

static int show_bias(Show *s, const ShowView *view, const BiasKind *kind) {
    const int len = s->len;
    GPT fresh, *m;
    GPTConfig mc;
    if (!(m = show_model(s, view->enc, &fresh, &mc))) return EXIT_USAGE;
    /* a module instance over positions 0..len-1 holding the model's parameters
     * (no parameter of these encodings depends on max_positions) */
    PEConfig pc = gpt_pe_config(&mc);
    pc.P = len;
    PE pe;
    if (pe_init(&pe, view->enc, &pc) != 0) {
        if (!s->have_model) gpt_free(&fresh);
        return EXIT_USAGE;
    }
    pe.params = m->params.pe;
    const int L = pc.L, NH = pc.NH, nc = L * NH;
    float *cur = core_calloc((size_t)nc * len, sizeof(float));
    show_bias_curves(&pe, len, len - 1, cur);
    /* a second query (FIRE): inside the training range with --run, else at len/4 */
    const int q2 = s->train_T ? (s->train_T - 1 < len - 1 ? s->train_T - 1 : len - 1) : len / 4;
    float *cur2 = NULL;
    if (kind->second_query) {
        cur2 = core_calloc((size_t)nc * len, sizeof(float));
        show_bias_curves(&pe, len, q2, cur2);
    }

    kind->header(s, &pc);
    printf("%s\n", s->have_model ? "parameters of the trained run" : "parameters at initialisation (--run RUN for a trained model's)");
    if (s->train_T) printf("training inputs span distances 0..%d\n", s->train_T - 1);
    kind->params(s, &pe, &pc);
    const float *const cv[2] = {cur, cur2};
    const int qs[2] = {len - 1, q2};
    print_bias_table(s, kind, &pc, cv, qs, kind->second_query ? 2 : 1);

    /* reading: which heads prefer near keys */
    const int curves = kind->one_table ? NH : nc;
    int local = 0;
    for (int c = 0; c < curves; c++) local += cur[(size_t)c * len + len - 1] < cur[(size_t)c * len];
    printf("\nreading: %d of %d %s add a lower bias at distance %d than at distance 0 (prefer near keys)", local,
           curves, kind->one_table ? "heads" : "(layer, head) pairs", len - 1);
    if (kind->untrained) kind->untrained(s, m, &mc, &pc);
    printf("\n");

    int rc = plot_bias(s, kind, &pc, cur, cur2, q2);
    free(cur);
    free(cur2);
    pe.params = NULL;
    pe_free(&pe);
    if (!s->have_model) gpt_free(&fresh);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}

static int show_t5(Show *s, const ShowView *view) { return show_bias(s, view, &t5_kind); }
static int show_fire(Show *s, const ShowView *view) { return show_bias(s, view, &fire_kind); }
static int show_kerple(Show *s, const ShowView *view) { return show_bias(s, view, &kerple_kind); }

const ShowView show_view_t5 = {"t5", show_t5, NULL, NULL};
const ShowView show_view_fire = {"fire", show_fire, NULL, NULL};
const ShowView show_view_kerple = {"kerple", show_kerple, NULL, NULL};

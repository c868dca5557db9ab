/*
 * curves.c — training curves of runs: metrics.jsonl to CSV and a figure
 * (curves.h).
 */
#include "study/curves.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/plot.h"
#include "study/style.h"

typedef struct {
    int eval;     /* 0 a "train" line, 1 an "eval" line */
    long step;
    int n;        /* eval: the length */
    double loss, lr, grad_norm, tokens_per_s, elapsed, token_acc, exact_match;
} MetricRow;

typedef struct {
    char name[256];
    char label[80];     /* the encoding, "+rand" with random positions (study/style.h): the colour */
    int alphabet;       /* task.alphabet, 0 if unknown */
    MetricRow *rows;
    int num, cap;
    int ns[2], num_ns;  /* the periodic evaluation lengths, ascending */
} RunCurves;

static double num_or_nan(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int read_curves(const char *dir, RunCurves *r) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "config.json") == 0 && path_exists(path)) {
        char *text = file_read_all(path, NULL);
        cJSON *cfg = text ? cJSON_Parse(text) : NULL;
        free(text);
        const cJSON *task = cJSON_GetObjectItemCaseSensitive(cfg, "task");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(task, "alphabet");
        if (cJSON_IsNumber(a)) r->alphabet = (int)a->valuedouble;
        const char *pe = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "model"), "pe"));
        const int rnd = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "train"), "random_positions"));
        if (pe) snprintf(r->label, sizeof r->label, "%.63s%s", pe, rnd ? "+rand" : "");
        cJSON_Delete(cfg);
    }
    if (path_join(path, sizeof path, dir, "metrics.jsonl") != 0) return -1;
    if (!path_exists(path))
        return core_errorf("%s: no metrics.jsonl: not a run directory (posenc train writes one)", dir);
    char *text = file_read_all(path, NULL);
    if (!text) return -1;
    int line_no = 0, rc = 0;
    for (char *line = text, *next; line && *line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        if (!*line) continue;
        cJSON *j = cJSON_Parse(line);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
        const double step = num_or_nan(j, "step");
        if (!j || !type || isnan(step)) {
            rc = core_errorf("%s: line %d: not a metrics line (a JSON object with \"type\" and \"step\")", path, line_no);
        } else if (strcmp(type, "train") == 0 || strcmp(type, "eval") == 0) {
            if (r->num == r->cap) {
                r->cap = r->cap ? 2 * r->cap : 256;
                MetricRow *grown = core_calloc(r->cap, sizeof *grown);
                if (r->num) memcpy(grown, r->rows, r->num * sizeof *grown);
                free(r->rows);
                r->rows = grown;
            }
            MetricRow *m = &r->rows[r->num++];
            m->eval = strcmp(type, "eval") == 0;
            m->step = (long)step;
            m->n = m->eval ? (int)num_or_nan(j, "n") : 0;
            m->loss = num_or_nan(j, "loss");
            m->lr = num_or_nan(j, "lr");
            m->grad_norm = num_or_nan(j, "grad_norm");
            m->tokens_per_s = num_or_nan(j, "tokens_per_s");
            m->elapsed = num_or_nan(j, "elapsed");
            m->token_acc = num_or_nan(j, "token_acc");
            m->exact_match = num_or_nan(j, "exact_match");
            if (m->eval) {
                int seen = 0;
                for (int k = 0; k < r->num_ns; k++) seen |= r->ns[k] == m->n;
                if (!seen && r->num_ns < 2) r->ns[r->num_ns++] = m->n;
            }
        } /* other types: left out (none are written today) */
        cJSON_Delete(j);
    }
    free(text);
    if (r->num_ns == 2 && r->ns[0] > r->ns[1]) {
        int t = r->ns[0];
        r->ns[0] = r->ns[1];
        r->ns[1] = t;
    }
    int trained = 0;
    for (int i = 0; i < r->num; i++) trained |= !r->rows[i].eval;
    if (rc == 0 && !trained) rc = core_errorf("%s: no training steps logged yet", path);
    return rc;
}

/* ---- CSV ----------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v) {
    if (isnan(v))
        fputs(",", f);
    else
        fprintf(f, ",%.9g", v);
}

static int write_csv(const RunCurves *runs, int nruns, const char *csv_path) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return core_errorf("%s: out of memory", csv_path);
    fprintf(f, "run,type,step,n,loss,lr,grad_norm,tokens_per_s,elapsed,token_acc,exact_match\n");
    for (int r = 0; r < nruns; r++)
        for (int i = 0; i < runs[r].num; i++) {
            const MetricRow *m = &runs[r].rows[i];
            csv_field(f, runs[r].name);
            fprintf(f, ",%s,%ld,", m->eval ? "eval" : "train", m->step);
            if (m->eval) fprintf(f, "%d", m->n);
            csv_num(f, m->loss);
            csv_num(f, m->lr);
            csv_num(f, m->grad_norm);
            csv_num(f, m->tokens_per_s);
            csv_num(f, m->elapsed);
            csv_num(f, m->token_acc);
            csv_num(f, m->exact_match);
            fputc('\n', f);
        }
    fclose(f);
    int rc = file_write_atomic(csv_path, text, len);
    free(text);
    return rc;
}

/* ---- the figure ---------------------------------------------------------- */

/* The curves' data blocks: per run its training rows ($tR: step, loss, lr)
 * and per evaluated length its evaluations ($eR_K: step, token_acc,
 * exact_match). *smax: the last step; *alphabet: the runs' one alphabet (0:
 * they differ); *any_long: whether a run evaluated a second length. */
static void curves_data(PlotScript *s, const RunCurves *runs, int nruns, long *smax_out, int *alphabet_out,
                        int *any_long_out) {
    long smax = 1;
    int alphabet = runs[0].alphabet, any_long = 0;
    for (int r = 0; r < nruns; r++) {
        if (runs[r].alphabet != alphabet) alphabet = 0; /* no one chance level */
        any_long |= runs[r].num_ns == 2;
        plot_printf(s, "$t%d << EOD\n", r);
        for (int i = 0; i < runs[r].num; i++) {
            const MetricRow *m = &runs[r].rows[i];
            if (m->step > smax) smax = m->step;
            if (!m->eval) plot_printf(s, "%ld %.9g %.9g\n", m->step, m->loss, m->lr);
        }
        plot_printf(s, "EOD\n");
        for (int k = 0; k < runs[r].num_ns; k++) {
            plot_printf(s, "$e%d_%d << EOD\n", r, k);
            for (int i = 0; i < runs[r].num; i++) {
                const MetricRow *m = &runs[r].rows[i];
                if (m->eval && m->n == runs[r].ns[k])
                    plot_printf(s, "%ld %.9g %.9g\n", m->step, m->token_acc, m->exact_match);
            }
            plot_printf(s, "EOD\n");
        }
    }
    *smax_out = smax;
    *alphabet_out = alphabet;
    *any_long_out = any_long;
}

/* every run evaluated once per length at most (train.eval_every = 0): said on the panels */
static int one_eval_per_length(const RunCurves *runs, int nruns) {
    int few_evals = 1;
    for (int r = 0; r < nruns; r++)
        for (int k = 0; k < runs[r].num_ns; k++) {
            int count = 0;
            for (int i = 0; i < runs[r].num; i++) count += runs[r].rows[i].eval && runs[r].rows[i].n == runs[r].ns[k];
            few_evals &= count <= 1;
        }
    return few_evals;
}

/* whether a training loss is exactly 0 (a log axis cannot show it: drawn at the axis' bottom, marked) */
static int any_zero_loss(const RunCurves *runs, int nruns) {
    int any_zero = 0;
    for (int r = 0; r < nruns; r++)
        for (int i = 0; i < runs[r].num; i++) any_zero |= !runs[r].rows[i].eval && runs[r].rows[i].loss == 0.0;
    return any_zero;
}

/* each run in its encoding's colour (study/style.h); runs of one encoding differ by width and marker */
static void run_styles(const RunCurves *runs, int nruns, char (*colour)[8], int *point) {
    for (int r = 0; r < nruns; r++) {
        SeriesStyle ss;
        series_style(runs[r].label[0] ? runs[r].label : "", &ss);
        snprintf(colour[r], sizeof colour[r], "%s", ss.colour);
        int same = 0;
        for (int q = 0; q < r; q++) same += strcmp(colour[q], colour[r]) == 0;
        static const int points[] = {7, 5, 9, 11, 13, 15};
        point[r] = points[same % 6];
    }
}

/* The four panels: training loss (log scale), learning rate, token accuracy
 * and exact match at the evaluated lengths; chance where the runs share an alphabet. */
static void curves_panels(PlotScript *s, const RunCurves *runs, int nruns, int alphabet, int any_zero, int few_evals,
                          char (*colour)[8], const int *point, int height, double bottom, double top, double mid) {
    double zero_y = NAN;
    static const char *const ylabels[4] = {"training loss (nats; log scale)", "learning rate",
                                           "token accuracy (periodic evaluation)", "exact match (periodic evaluation)"};
    for (int p = 0; p < 4; p++) {
        const double l = p % 2 == 0 ? 0.07 : 0.57, rr = p % 2 == 0 ? 0.47 : 0.97;
        const double b = p < 2 ? mid + 40.0 / height : bottom, t = p < 2 ? top : mid - 30.0 / height;
        plot_printf(s, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n"
                        "set bmargin at screen %.4f\nset tmargin at screen %.4f\nset ylabel '%s'\n",
                    l, rr, b, t, ylabels[p]);
        if (p == 0) {
            /* a log axis fitted to the losses and chance (autoscale rounds out to whole decades) */
            double lo = alphabet > 1 ? log((double)alphabet) : INFINITY, hi = alphabet > 1 ? lo : 0.0;
            for (int r = 0; r < nruns; r++)
                for (int i = 0; i < runs[r].num; i++) {
                    const double v = runs[r].rows[i].loss;
                    if (runs[r].rows[i].eval || !(v > 0) || !isfinite(v)) continue;
                    if (v < lo) lo = v;
                    if (v > hi) hi = v;
                }
            zero_y = plot_log_y(s, lo, hi) * 1.04;
        } else if (p == 1)
            plot_printf(s, "unset logscale y\nset mytics default\nset format y '%%.1e'\nset ytics autofreq\nset yrange [0:*]\n");
        else
            plot_printf(s, "unset logscale y\nset mytics default\nset format y '%%g'\nset ytics autofreq\nset yrange [0:1.05]\n");
        if (p == 2 && few_evals)
            plot_printf(s, "set label 2 'one evaluation per length (train.eval\\_every = 0: the final step only)' "
                            "at graph 0.5, graph 0.5 center tc rgb '#444444'\n");
        plot_printf(s, "plot ");
        int first = 1;
        for (int r = 0; r < nruns; r++) {
            /* earlier runs wider: runs that coincide stay visible as nested strokes */
            const double lw = nruns > 1 ? 1.5 + 2.5 * (nruns - 1 - r) / (nruns - 1) : 2.0;
            if (p == 0) { /* a loss of exactly 0 at the axis' bottom, with a marker of its own */
                plot_printf(s, "%s$t%d using 1:($2 > 0 ? $2 : %.9g) with lines lw %.2f lc rgb '%s' notitle", first ? "" : ", ",
                            r, zero_y, lw, colour[r]);
                if (any_zero)
                    plot_printf(s, ", $t%d using 1:($2 == 0 ? %.9g : NaN) with points pt 10 ps 1.2 lc rgb '%s' notitle", r,
                                zero_y, colour[r]);
                first = 0;
            } else if (p == 1) {
                plot_printf(s, "%s$t%d using 1:3 with lines lw %.2f lc rgb '%s' notitle", first ? "" : ", ", r, lw,
                            colour[r]);
                first = 0;
            } else {
                for (int k = 0; k < runs[r].num_ns; k++) {
                    plot_printf(s, "%s$e%d_%d using 1:%d with linespoints lw %.2f dt %d pt %d ps 0.5 lc rgb '%s' notitle",
                                first ? "" : ", ", r, k, p == 2 ? 2 : 3, lw, k == 0 ? 1 : 2, point[r], colour[r]);
                    first = 0;
                }
            }
        }
        if (alphabet > 1 && (p == 0 || p == 2))
            plot_printf(s, "%s%.9g with lines dt 3 lw 1.5 lc rgb '#666666' notitle", first ? "" : ", ",
                        p == 0 ? log((double)alphabet) : 1.0 / alphabet);
        else if (first)
            plot_printf(s, "NaN notitle");
        plot_printf(s, "\n");
    }
}

/* the one legend, a strip under the panels: the runs, then the reference marks */
static void curves_legend(PlotScript *s, const RunCurves *runs, int nruns, char (*titles)[400], const int *point,
                          char (*colour)[8], double ref_h, double key_h, int cols, int rows, int ref_cols, int ref_rows,
                          int any_long, int alphabet, int any_zero) {
    plot_printf(s,
                "unset logscale y\nunset label 2\nunset xlabel\nunset ylabel\nunset grid\nunset border\nunset tics\n"
                "set xrange [0:1]\nset yrange [0:1]\n"
                "set lmargin at screen 0.02\nset rmargin at screen 0.98\n"
                "set bmargin at screen %.4f\nset tmargin at screen %.4f\n"
                "set key center center horizontal maxcols %d maxrows %d samplen 4 spacing 1.2 font ',10'\nplot ",
                ref_h, key_h, cols, rows);
    for (int r = 0; r < nruns; r++) {
        plot_printf(s, "%sNaN with linespoints lw 2 pt %d ps 0.8 lc rgb '%s' title ", r ? ", " : "", point[r], colour[r]);
        plot_quoted(s, titles[r]);
    }
    plot_printf(s, "\nset bmargin at screen 0.0\nset tmargin at screen %.4f\n"
                    "set key center center horizontal maxcols %d maxrows %d samplen 4 spacing 1.2 font ',10'\nplot ",
                ref_h, ref_cols, ref_rows);
    /* the lengths, when every run evaluated the same two */
    int same_ns = 1;
    for (int r = 1; r < nruns; r++)
        same_ns &= runs[r].num_ns == runs[0].num_ns && (runs[0].num_ns < 1 || runs[r].ns[0] == runs[0].ns[0]) &&
                   (runs[0].num_ns < 2 || runs[r].ns[1] == runs[0].ns[1]);
    char n_text[2][48] = {"", ""};
    for (int k = 0; k < runs[0].num_ns && same_ns; k++) snprintf(n_text[k], sizeof n_text[k], "n = %d, ", runs[0].ns[k]);
    plot_printf(s, "NaN with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#444444' title "
                    "'evaluation at %sthe longest training length'", n_text[0]);
    if (any_long)
        plot_printf(s, ", NaN with linespoints lw 1.5 dt 2 pt 7 ps 0.5 lc rgb '#444444' title "
                        "'evaluation at %sthe longest evaluation length'", n_text[1]);
    if (alphabet > 1)
        plot_printf(s, ", NaN with lines dt 3 lw 1.5 lc rgb '#666666' title 'chance: log(alphabet), 1/alphabet'");
    if (any_zero)
        plot_printf(s, ", NaN with points pt 10 ps 1.2 lc rgb '#444444' title 'training loss exactly 0 (drawn at the axis bottom)'");
    plot_printf(s, "\nunset multiplot\n");
}

static int write_plot(const RunCurves *runs, int nruns, const char *base) {
    PlotScript s;
    plot_script_init(&s);
    long smax;
    int alphabet, any_long;
    curves_data(&s, runs, nruns, &smax, &alphabet, &any_long);
    const int few_evals = one_eval_per_length(runs, nruns);
    const int any_zero = any_zero_loss(runs, nruns);
    char (*colour)[8] = core_calloc(nruns > 0 ? nruns : 1, sizeof *colour);
    int *point = core_calloc(nruns > 0 ? nruns : 1, sizeof *point);
    run_styles(runs, nruns, colour, point);
    /* legend: the runs, then what solid and dashed mean, then chance */
    /* one legend in a strip under the panels: the runs in columns as wide as their longest name
     * (one long entry must not spread a few wide columns under the panels), then the reference marks */
    const int width = 1300, nrefs = 1 + any_long + (alphabet > 1) + any_zero;
    size_t longest = 4;
    char (*titles)[400] = core_calloc(nruns > 0 ? nruns : 1, sizeof *titles);
    for (int r = 0; r < nruns; r++) {
        /* the run's name, with its encoding when the name does not say it */
        if (runs[r].label[0] && !strstr(runs[r].name, runs[r].label))
            snprintf(titles[r], sizeof titles[r], "%s (%s)", runs[r].name, runs[r].label);
        else
            snprintf(titles[r], sizeof titles[r], "%s", runs[r].name);
        if (strlen(titles[r]) > longest) longest = strlen(titles[r]);
    }
    int cols = (int)(0.94 * width) / ((int)(7.2 * (double)longest) + 80);
    cols = cols < 1 ? 1 : cols > 6 ? 6 : cols;
    const int rows = (nruns + cols - 1) / cols;
    cols = (nruns + rows - 1) / rows;
    const int ref_cols = nrefs > 2 ? 2 : nrefs, ref_rows = (nrefs + ref_cols - 1) / ref_cols; /* entries ~50 characters */
    const int height = 760 + 22 * (rows + ref_rows);
    const double ref_h = (22.0 * ref_rows + 6.0) / height, key_h = (22.0 * rows + 16.0) / height + ref_h;
    const double bottom = key_h + 55.0 / height, top = 1.0 - 60.0 / height, mid = (bottom + top) / 2;
    plot_printf(&s,
                "set grid lc rgb '#dddddd'\nunset key\nset xrange [0:%ld]\nset xlabel 'step'\n"
                "set multiplot title ",
                smax);
    char title[600];
    if (nruns == 1)
        snprintf(title, sizeof title, "training curves of %s", runs[0].name);
    else
        snprintf(title, sizeof title, "training curves of %d runs", nruns);
    plot_quoted(&s, title);
    plot_printf(&s, " font ',11'\n");
    curves_panels(&s, runs, nruns, alphabet, any_zero, few_evals, colour, point, height, bottom, top, mid);
    curves_legend(&s, runs, nruns, titles, point, colour, ref_h, key_h, cols, rows, ref_cols, ref_rows, any_long,
                  alphabet, any_zero);
    free(colour);
    free(point);
    free(titles);
    int rc = plot_render(s.text, base, width, height);
    plot_script_free(&s);
    return rc;
}

/* the last path component of dir, without trailing slashes */
static void run_name(const char *dir, char *buf, size_t cap) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    snprintf(buf, cap, "%.*s", (int)(n - b), dir + b);
}

int curves_write(const char *const *runs, int nruns, const char *csv_path, const char *plot_base) {
    if (nruns < 1) return core_errorf("no runs given");
    RunCurves *rc_runs = core_calloc(nruns, sizeof *rc_runs);
    int rc = 0;
    for (int r = 0; r < nruns && rc == 0; r++) {
        run_name(runs[r], rc_runs[r].name, sizeof rc_runs[r].name);
        rc = read_curves(runs[r], &rc_runs[r]);
    }
    /* two runs with one folder name: name every run by its path as given */
    for (int a = 0; a < nruns && rc == 0; a++)
        for (int b = a + 1; b < nruns; b++)
            if (strcmp(rc_runs[a].name, rc_runs[b].name) == 0) {
                for (int r = 0; r < nruns; r++) snprintf(rc_runs[r].name, sizeof rc_runs[r].name, "%s", runs[r]);
                a = nruns;
                break;
            }
    if (rc == 0 && csv_path) rc = write_csv(rc_runs, nruns, csv_path);
    if (rc == 0 && plot_base) rc = write_plot(rc_runs, nruns, plot_base);
    for (int r = 0; r < nruns; r++) free(rc_runs[r].rows);
    free(rc_runs);
    return rc;
}

/*
 * bench_md.c — `bench --markdown RUN.json [MORE.json ...]`: the
 * Performance block, generated from what `make bench` wrote (bench.json).
 *
 * The first file is rendered whole: the machine and the command, the targets,
 * the training steps against the sgemm ceiling, where a step goes, the
 * encodings, evaluation, the demo's budget, memory and the cost of
 * reproducibility. Further files (later runs of the same build) add a table
 * of every run's target values, to show the margin against a shared machine's
 * noise. scripts/bench_report.sh splices the block into docs/PERFORMANCE.md.
 *
 * A bench.json is read as untrusted input: every field is checked for its
 * type (a missing or mistyped one prints "?"), and every string is escaped
 * for Markdown and HTML before it reaches the page.
 */
#include "bench/bench_md.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"

/* s as Markdown text: table pipes, emphasis, code, links and HTML neutralised,
 * control characters as spaces; at most 200 characters. */
static void md_text(const char *s) {
    if (!s) {
        fputs("?", stdout);
        return;
    }
    for (int i = 0; s[i] && i < 200; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            putchar(' ');
        else if (c == '<')
            fputs("&lt;", stdout);
        else if (c == '>')
            fputs("&gt;", stdout);
        else if (c == '&')
            fputs("&amp;", stdout);
        else if (strchr("\\`*_[]|#!~", c)) {
            putchar('\\');
            putchar(c);
        } else
            putchar(c);
    }
}

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* a number with `dec` decimals, or "?" */
static void num(double x, int dec) {
    if (isnan(x))
        fputs("?", stdout);
    else
        printf("%.*f", dec, x);
}

/* prose, then a number: one step of a sentence */
static void text_num(const char *text, double x, int dec) {
    fputs(text, stdout);
    num(x, dec);
}

/* thousands grouped with a thin space, as the other tables of docs/PERFORMANCE.md */
static void big(double x) {
    if (isnan(x) || fabs(x) >= 1e15) {
        fputs("?", stdout);
        return;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%.0f", x);
    const int len = (int)strlen(buf), neg = buf[0] == '-';
    for (int i = 0; i < len; i++) {
        if (i > neg && (len - i) % 3 == 0) fputs(" ", stdout);
        putchar(buf[i]);
    }
}

static void pct(double x) {
    if (isnan(x))
        fputs("?", stdout);
    else
        printf("%.1f %%", 100.0 * x);
}

/* Table cells after the row's opening "|": " text |", " number |". */
static void cell_text(const char *s) {
    putchar(' ');
    md_text(s);
    fputs(" |", stdout);
}

static void cell_num(double x, int dec) {
    putchar(' ');
    num(x, dec);
    fputs(" |", stdout);
}

/* A table's header rule: `left` left-aligned columns (at least one), then `right` numeric ones. */
static void rule(int left, int right) {
    fputs("| --- |", stdout);
    for (int i = 1; i < left; i++) fputs(" --- |", stdout);
    for (int i = 0; i < right; i++) fputs(" ---: |", stdout);
    putchar('\n');
}

static const char *const SHAPES[2] = {"small", "medium"};

static cJSON *load(const char *path) {
    size_t n;
    char *text = file_read_all(path, &n);
    if (!text) {
        fprintf(stderr, "bench: --markdown: %s\n", core_error());
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(text, n);
    free(text);
    if (!cJSON_IsObject(root) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "targets"))) {
        fprintf(stderr, "bench: --markdown: %s: not a bench.json (a JSON object with a \"targets\" array)\n", path);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* the train entry of shape s at t threads */
static const cJSON *train_row(const cJSON *root, const char *shape, int threads) {
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "train")) {
        const char *s = jstr(e, "shape");
        if (s && strcmp(s, shape) == 0 && jnum(e, "threads") == threads) return e;
    }
    return NULL;
}

static void targets_table(const cJSON *root) {
    puts("| target | value | threshold | met |");
    puts("| --- | ---: | ---: | :---: |");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "targets")) {
        fputs("|", stdout);
        cell_text(jstr(t, "target"));
        cell_num(jnum(t, "value"), 3);
        cell_num(jnum(t, "threshold"), 3);
        const cJSON *met = cJSON_GetObjectItemCaseSensitive(t, "met");
        printf(" %s |\n", cJSON_IsTrue(met) ? "yes" : cJSON_IsFalse(met) ? "**no**" : "?");
    }
}

static void train_tables(const cJSON *root) {
    const char *const *shapes = SHAPES;
    const cJSON *ceil = cJSON_GetObjectItemCaseSensitive(root, "ceiling");
    puts("| run | step ms (median) | tokens/s real / padded | GFLOP/s | sgemm ceiling | MFU | peak RSS MiB |");
    puts("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (int s = 0; s < 2; s++)
        for (int t = 1; t <= 2; t++) {
            const cJSON *r = train_row(root, shapes[s], t);
            if (!r) continue;
            printf("| %s, %d thread%s |", shapes[s], t, t > 1 ? "s" : "");
            cell_num(jnum(r, "step_ms_median"), 2);
            putchar(' ');
            big(jnum(r, "tokens_per_s"));
            fputs(" / ", stdout);
            big(jnum(r, "padded_tokens_per_s"));
            fputs(" |", stdout);
            cell_num(jnum(r, "gflops"), 1);
            cell_num(jnum(cJSON_GetObjectItemCaseSensitive(ceil, shapes[s]), t == 1 ? "gflops_1t" : "gflops_2t"), 1);
            putchar(' ');
            pct(jnum(r, "mfu"));
            fputs(" |", stdout);
            cell_num(jnum(r, "peak_rss_mb"), 1);
            putchar('\n');
        }
    puts("");
    puts("Where a step goes (ms per step, `GPTProfile`: clock_gettime around each layer call):");
    puts("");
    const cJSON *r0 = train_row(root, "small", 1);
    const cJSON *parts0 = cJSON_GetObjectItemCaseSensitive(r0, "ms_per_step");
    fputs("| run |", stdout);
    const cJSON *p;
    int nparts = 0;
    cJSON_ArrayForEach(p, parts0) {
        cell_text(p->string);
        nparts++;
    }
    putchar('\n');
    rule(1, nparts);
    for (int s = 0; s < 2; s++)
        for (int t = 1; t <= 2; t++) {
            const cJSON *r = train_row(root, shapes[s], t);
            if (!r) continue;
            const cJSON *parts = cJSON_GetObjectItemCaseSensitive(r, "ms_per_step");
            printf("| %s, %d thread%s |", shapes[s], t, t > 1 ? "s" : "");
            cJSON_ArrayForEach(p, parts0) cell_num(jnum(parts, p->string), 2);
            putchar('\n');
        }
}

static void encodings_table(const cJSON *root) {
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(root, "encodings"), *e;
    fputs("| shape |", stdout);
    int n = 0;
    cJSON_ArrayForEach(e, enc) {
        const char *s = jstr(e, "shape");
        if (!s || strcmp(s, SHAPES[0]) != 0) continue;
        cell_text(jstr(e, "pe"));
        n++;
    }
    putchar('\n');
    rule(1, n);
    for (int s = 0; s < 2; s++) {
        printf("| %s |", SHAPES[s]);
        cJSON_ArrayForEach(e, enc) {
            const char *sh = jstr(e, "shape");
            if (sh && strcmp(sh, SHAPES[s]) == 0) cell_num(jnum(e, "ratio_to_none"), 3);
        }
        putchar('\n');
    }
}

static void eval_table(const cJSON *root) {
    static const char *keys[] = {"eval", "eval_demo"};
    static const char *what[] = {"small model, copy", "demo model (its spec), copy"};
    const cJSON *e;
    fputs("| model | n |", stdout);
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "eval")) {
        cell_text(jstr(e, "pe"));
        n++;
    }
    putchar('\n');
    rule(1, 1 + n);
    for (int k = 0; k < 2; k++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
        const cJSON *first = cJSON_GetArrayItem(arr, 0);
        if (!first) continue;
        printf("| %s |", what[k]);
        cell_num(jnum(first, "n"), 0);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "eval")) {
            const char *pe = jstr(e, "pe");
            const cJSON *m = NULL, *x;
            cJSON_ArrayForEach(x, arr) {
                const char *px = jstr(x, "pe");
                if (pe && px && strcmp(pe, px) == 0) m = x;
            }
            fputs(" ", stdout);
            if (m)
                big(jnum(m, "examples_per_s"));
            else
                fputs("–", stdout);
            fputs(" |", stdout);
        }
        puts("");
    }
}

/* The long-context rows (bench.json "long_context"; none in older files:
 * nothing printed). */
static void long_table(const cJSON *root) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "long_context"), *e;
    if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr)) return;
    fputs("Long context: `posenc eval`'s forward pass over one sequence of ", stdout);
    big(jnum(cJSON_GetArrayItem(arr, 0), "tokens"));
    puts(" tokens (no T × T matrix held; the small shape:");
    puts("d_model 64, 2 layers, 4 heads; one process per row; attention's GFLOP/s against the small shape's 1-thread");
    puts("sgemm ceiling):");
    puts("");
    puts("| encoding | threads | s per sequence | attention s | attention GFLOP/s | of the 1-thread ceiling | peak RSS MiB |");
    rule(1, 6);
    cJSON_ArrayForEach(e, arr) {
        fputs("|", stdout);
        cell_text(jstr(e, "pe"));
        cell_num(jnum(e, "threads"), 0);
        cell_num(jnum(e, "seconds_per_sequence"), 2);
        cell_num(jnum(e, "attention_seconds"), 2);
        cell_num(jnum(e, "attention_gflops"), 1);
        fputs(" ", stdout);
        pct(jnum(e, "attention_of_ceiling_1t"));
        fputs(" |", stdout);
        cell_num(jnum(e, "peak_rss_mb"), 1);
        putchar('\n');
    }
    puts("");
}

static void render_one(const cJSON *root, const char *path) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "machine");
    const int long_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "long_only"));
    fputs(long_only ? "`build/bench --long-only`, " : "`make bench`, ", stdout);
    md_text(jstr(m, "date"));
    fputs(" (", stdout);
    num(jnum(root, "bench_seconds"), 0);
    fputs(" s; `", stdout);
    const char *base = strrchr(path, '/');
    md_text(base ? base + 1 : path);
    fputs("`): ", stdout);
    md_text(jstr(m, "cpu"));
    fputs(", ", stdout);
    num(jnum(m, "cores"), 0);
    fputs(" cores, ", stdout);
    md_text(jstr(m, "openblas"));
    fputs(" (", stdout);
    md_text(jstr(m, "openblas_core"));
    printf(" kernels)%s.\n\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "quick")) ? ", `--quick`" : "");
    targets_table(root);
    puts("");
    if (long_only) { /* its ceiling and long-context rows alone */
        text_num("The small shape's 1-thread sgemm ceiling: ",
                 jnum(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "ceiling"), "small"),
                      "gflops_1t"), 1);
        puts(" GFLOP/s.");
        puts("");
        long_table(root);
        return;
    }
    puts("Training steps (pe none; MFU = achieved GFLOP/s ÷ the sgemm ceiling at the same thread count):");
    puts("");
    train_tables(root);
    puts("");
    puts("Encodings, 1 thread: step time ÷ `none`'s:");
    puts("");
    encodings_table(root);
    puts("");
    puts("Evaluation, 1 thread, examples/s at 4× the training length (the small model trains to 16, the demo to 8):");
    puts("");
    eval_table(root);
    puts("");
    long_table(root);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "demo"), *sp = cJSON_GetObjectItemCaseSensitive(root, "sweep_split");
    fputs("The demo (`", stdout);
    md_text(jstr(d, "spec"));
    fputs("`): the sweep's best split is ", stdout);
    md_text(jstr(sp, "best"));
    text_num(" at ", jnum(sp, "best_steps_per_s"), 1);
    text_num(" steps/s (1 job × 1 thread ", jnum(sp, "steps_per_s_1job_1thread"), 1);
    text_num(", 1 job × 2 threads ", jnum(sp, "steps_per_s_1job_2threads"), 1);
    text_num(", 2 jobs × 2 threads ", jnum(sp, "steps_per_s_2jobs_2threads"), 1);
    text_num("); estimated from those measured parts, `make demo` (", jnum(d, "runs"), 0);
    text_num(" runs × ", jnum(d, "train_steps"), 0);
    text_num(" steps) takes ", jnum(d, "estimate_wall_seconds"), 0);
    text_num(" s of wall time (training ", jnum(d, "estimate_train_seconds"), 0);
    text_num(" s). One demo run on 1 thread: training ", jnum(d, "run_train_seconds_1thread"), 1);
    text_num(" s, evaluation ", jnum(d, "run_eval_seconds"), 2);
    fputs(" s (", stdout);
    pct(jnum(d, "eval_share"));
    puts(" of the run).");
    puts("");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(root, "memory");
    fputs("Memory reserved for training (fit over B and T, exact to ", stdout);
    double err = fmax(jnum(cJSON_GetObjectItemCaseSensitive(mem, "small"), "fit_error_bytes"),
                      jnum(cJSON_GetObjectItemCaseSensitive(mem, "medium"), "fit_error_bytes"));
    num(err, 0);
    fputs(" bytes at 4B × 3T): ", stdout);
    for (int s = 0; s < 2; s++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(mem, SHAPES[s]);
        printf("%s ", SHAPES[s]);
        big(jnum(o, "bytes_per_token"));
        text_num(" bytes per token + ", jnum(o, "bytes_per_attention_score"), 0);
        text_num(" per attention score (B·T·T) + ", jnum(o, "fixed_bytes") / 1048576.0, 2);
        fputs(s == 0 ? " MiB; " : " MiB.\n", stdout);
    }
    puts("");
    puts("Cost of reproducibility: step ms with OpenBLAS's native kernel for this CPU against the pinned one");
    puts("(the same binary, interleaved, minimum of several medians):");
    puts("");
    puts("| shape, threads | native | pinned | pinned ÷ native |");
    puts("| --- | ---: | ---: | ---: |");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(root, "reproducibility_cost")) {
        fputs("| ", stdout);
        md_text(jstr(r, "shape"));
        fputs(", ", stdout);
        num(jnum(r, "threads"), 0);
        fputs(" |", stdout);
        cell_num(jnum(r, "native_step_ms"), 2);
        cell_num(jnum(r, "pinned_step_ms"), 2);
        cell_num(jnum(r, "ratio"), 3);
        putchar('\n');
    }
}

/* every run's target values, one column per run */
static void repeats_table(cJSON **roots, int n) {
    const int long_only = cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(roots[0], "machine"), "long_only"));
    printf("The same build's targets in %d runs (each a whole `%s`):\n\n| target |", n,
           long_only ? "build/bench --long-only" : "make bench");
    for (int i = 0; i < n; i++) cell_text(jstr(cJSON_GetObjectItemCaseSensitive(roots[i], "machine"), "date"));
    putchar('\n');
    rule(1, n);
    const cJSON *t;
    int k = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(roots[0], "targets")) {
        /* a name's "(worst: ...)" belongs to its run: in that run's cell */
        char label[256];
        snprintf(label, sizeof label, "%s", jstr(t, "target") ? jstr(t, "target") : "?");
        char *w = strstr(label, " (worst: ");
        if (w) *w = '\0';
        fputs("|", stdout);
        cell_text(label);
        for (int i = 0; i < n; i++) {
            const cJSON *ti = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(roots[i], "targets"), k);
            const char *name = jstr(ti, "target"), *worst = name ? strstr(name, "(worst: ") : NULL;
            fputs(" ", stdout);
            num(jnum(ti, "value"), 3);
            if (worst) {
                fputs(" ", stdout);
                md_text(worst);
            }
            fputs(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ti, "met")) ? " (**no**)" : "", stdout);
            fputs(" |", stdout);
        }
        puts("");
        k++;
    }
}

int bench_markdown(int n, char **paths) {
    if (n < 1) {
        fprintf(stderr, "bench: --markdown needs at least one bench.json\n");
        return 2;
    }
    cJSON **roots = core_calloc((size_t)n, sizeof *roots);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (!(roots[i] = load(paths[i]))) rc = 1;
    if (rc == 0) {
        render_one(roots[0], paths[0]);
        if (n > 1) {
            puts("");
            repeats_table(roots, n);
        }
    }
    for (int i = 0; i < n; i++) cJSON_Delete(roots[i]);
    free(roots);
    return rc;
}

/*
 * cmd_compare.c — `posenc compare DIR | RUN...`: break lengths, rankings and
 * paired differences of the encodings of an aggregate (study/compare.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/aggregate.h"
#include "study/compare.h"
#include "study/literature.h"

static void print_literature(FILE *f, const Literature *lit, const LitReport *r);
static void print_statements(FILE *f, const Literature *lit);

static void compare_usage(FILE *f) {
    fprintf(f,
            "usage: posenc compare DIR [--metric exact_match|token_acc|loss|ppl] [--at N[,N...] | --beyond]\n"
            "                          [--markdown | --headline] [--break-fraction F] [--break-factor F]\n"
            "                          [--allow-mixed]\n"
            "       posenc compare RUN_OR_FOLDER... [same options]\n"
            "       posenc compare DIR --against FILE [--fit F]\n"
            "\n"
            "Which encoding extrapolates better, and how sure is it? For each group of a sweep folder\n"
            "DIR (cells that differ only in the encoding), or of run directories:\n"
            "\n"
            "  where it breaks   per encoding and seed, where the metric leaves its value inside the\n"
            "                    training range, as the grid knows it: \"8 to 10\", the last evaluated\n"
            "                    n within the rule and the first past it (\"coarse grid\" when the two\n"
            "                    are far apart; \"in range\" when an evaluation variant is already past\n"
            "                    it inside the training range); the rule: exact_match or token_acc\n"
            "                    below F x that value (F = 0.5), loss or perplexity: perplexity above\n"
            "                    F x (F = 2); the median and min to max over the seeds;\n"
            "  ranking           at each length, the encodings by mean, best first (lowest for loss\n"
            "                    and perplexity); between neighbours \">\" (\"<\" where lower is better)\n"
            "                    when their paired interval excludes 0, \"~\" when it covers 0;\n"
            "  paired diffs      for every pair A - B: the mean over the seeds both have of\n"
            "                    A(seed) - B(seed) (same seed, same evaluation examples), its 95 %%\n"
            "                    interval (a t interval over the seeds widened by the evaluation\n"
            "                    sample's; docs/SPEC.md §2.1), in how many seeds the sign holds, and the\n"
            "                    verdict (A > B, A < B, or not resolved, and why: one seed, the\n"
            "                    interval includes 0). For loss and perplexity the interval is the\n"
            "                    seeds' alone (the evaluation files keep no per-example losses).\n"
            "\n"
            "Lengths: by default 1.25x, 1.5x and 2x the longest training length (the evaluated lengths\n"
            "at or just past them) and \"beyond\": per seed, the mean over every evaluated length past\n"
            "the training range.\n"
            "\n"
            "options:\n"
            "  --metric M           exact_match, token_acc, loss or ppl (perplexity, exp of the loss per\n"
            "                       token) (default: exact_match and token_acc; a language model's:\n"
            "                       ppl and token_acc, its --headline in perplexity)\n"
            "  --at N[,N...]        compare at these evaluated lengths (e.g. 10,12,16)\n"
            "  --beyond             compare only the mean past the training range\n"
            "  --markdown           markdown tables (what scripts/report.sh puts into experiments/README.md)\n"
            "  --headline           one paragraph of sentences per group, every number generated\n"
            "  --break-fraction F   the accuracy break rule's fraction, 0 < F < 1 (default 0.5)\n"
            "  --break-factor F     the loss/perplexity break rule's factor, F > 1 (default 2)\n"
            "  --allow-mixed        compare runs of different provenance anyway (says so)\n"
            "  --against FILE       beside a paper's published numbers (experiments/literature/*.json):\n"
            "                       per task and encoding the paper's value and per-seed values beside\n"
            "                       posenc's mean [95 %% interval] and per-seed values past the training\n"
            "                       range (in the paper's test range); per claim of the paper (an order\n"
            "                       of two encodings its own seeds resolve) a verdict: reproduced,\n"
            "                       contradicted, or not resolved with these seeds (and why); the rank\n"
            "                       agreement (Kendall's tau-b per seed, its mean and 95 %% interval).\n"
            "                       Markdown; the metric is the paper's.\n"
            "  --fit F              with --against: a claim on an encoding whose mean inside posenc's\n"
            "                       training range is below F is \"not tested\" (a model that has not\n"
            "                       learned the task cannot test its extrapolation), and the rank\n"
            "                       agreement leaves it out; 0 < F < 1 (default 0.9)\n"
            "\n"
            "Reads the runs only: nothing is written. Exit 0, or 2 for bad arguments or run files\n"
            "that disagree, 1 when a file cannot be read.\n");
}

/* Load DIR (a sweep folder) or run directories, as posenc collect does. */
int compare_load(const char *const *paths, int np, const AggOptions *o, AggTable *t) {
    char sweep_json[4200];
    snprintf(sweep_json, sizeof sweep_json, "%s/sweep.json", paths[0]);
    if (np == 1) {
        const int has = path_probe(sweep_json, "the sweep's spec");
        if (has < 0) return -1;
        if (has) return aggregate_load_sweep(paths[0], o, t);
    }
    return aggregate_load_runs(paths, np, "runs", o, t);
}

/* compare --against: the published statements (a file without cells), or
 * the runs beside the published numbers; 0 or EXIT_USAGE (said on stderr). */
static int compare_against(const Literature *lit, const AggTable *t, double fit) {
    int rc = 0;
    if (lit->ncells == 0) {
        print_statements(stdout, lit);
    } else {
        LitReport *r = core_calloc(1, sizeof *r);
        if (literature_compare(lit, t, fit, r) != 0) {
            fprintf(stderr, "posenc compare: %s\n", core_error());
            rc = EXIT_USAGE;
        } else {
            printf("%s\n\n", t->prov_line);
            print_literature(stdout, lit, r);
        }
        free(r);
    }
    return rc;
}

/* whether each length asked for (--at) was evaluated in some run: 0, or -1 (said on stderr) */
static int check_lengths(const AggTable *t, const int *ns, int nn) {
    for (int q = 0; q < nn; q++) {
        if (ns[q] == COMPARE_BEYOND) continue;
        int found = 0;
        for (int c = 0; c < t->ncells && !found; c++)
            for (int m = 0; m < t->cells[c].num_lengths; m++) found |= t->cells[c].lengths[m] == ns[q];
        if (!found) {
            fprintf(stderr, "posenc compare: --at %d: no run was evaluated at n = %d\n", ns[q], ns[q]);
            return -1;
        }
    }
    return 0;
}

/* compare's tables (or --headline's sentences) on stdout */
static void print_comparison(const AggTable *t, int metric, int explicit_metric, int all_lm, const int *ns, int nn, int md,
                             int headline) {
    if (!md && !headline) printf("provenance: %s\n", t->prov_details);
    if (md) printf("%s\n", t->prov_line);
    if (headline) {
        /* without --metric: exact_match and token_acc; a language model's in perplexity */
        for (int g = 0; g < t->ncells; g++)
            if (t->group[g] == g)
                for (int m = 0; m < AGG_NMETRICS; m++)
                    if (explicit_metric ? m == metric : t->cells[g].lm ? m == AGG_PPL : m == AGG_EM || m == AGG_ACC) {
                        compare_headline(stdout, t, g, m);
                        printf("\n");
                    }
    } else if (explicit_metric) {
        compare_print(stdout, t, metric, ns, nn, md);
    } else {
        /* without --metric: exact_match, then token_acc (a language model's: perplexity, then token_acc) */
        compare_print(stdout, t, all_lm ? AGG_PPL : AGG_EM, ns, nn, md);
        compare_print(stdout, t, AGG_ACC, ns, nn, md);
    }
}

int cmd_compare(int argc, char **argv) {
    const char **paths = core_calloc(argc > 1 ? argc : 1, sizeof *paths);
    int np = 0, md = 0, headline = 0, beyond = 0, metric = -1, ns[16], nn = 0;
    const char *against = NULL;
    double fit = 0.9;
    int fit_given = 0;
    AggOptions o = {0};
    const char *err = NULL;
    for (int i = 1; i < argc && !err; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            compare_usage(stdout);
            free(paths);
            return 0;
        } else if (strcmp(a, "--markdown") == 0) {
            md = 1;
        } else if (strcmp(a, "--headline") == 0) {
            headline = 1;
        } else if (strcmp(a, "--beyond") == 0) {
            beyond = 1;
        } else if (strcmp(a, "--allow-mixed") == 0) {
            o.allow_mixed = 1;
        } else if (strcmp(a, "--against") == 0 && i + 1 < argc) {
            against = argv[++i];
        } else if (strcmp(a, "--fit") == 0 && i + 1 < argc) {
            if ((fit = parse_fraction("--fit", argv[++i])) < 0) err = core_error();
            fit_given = 1;
        } else if (strcmp(a, "--metric") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            metric = agg_metric_parse(m);
            if (metric < 0) {
                core_errorf("--metric: expected exact_match, token_acc, loss or ppl, got \"%s\"", m);
                err = core_error();
            }
        } else if (strcmp(a, "--at") == 0 && i + 1 < argc) {
            if ((nn = parse_lengths(argv[++i], ns, 15)) < 0) err = core_error();
        } else if (strcmp(a, "--break-fraction") == 0 && i + 1 < argc) {
            if ((o.break_fraction = parse_fraction("--break-fraction", argv[++i])) < 0) err = core_error();
        } else if (strcmp(a, "--break-factor") == 0 && i + 1 < argc) {
            if ((o.break_factor = parse_factor("--break-factor", argv[++i])) < 0) err = core_error();
        } else if (a[0] != '-') {
            paths[np++] = a;
        } else {
            core_errorf("unexpected argument \"%s\" (see posenc compare --help)", a);
            err = core_error();
        }
    }
    if (!err && np == 0) err = "missing DIR (see posenc compare --help)";
    if (!err && nn > 0 && beyond) err = "--at and --beyond: give one of them";
    if (!err && md && headline) err = "--markdown and --headline: give one of them";
    if (!err && fit_given && !against) err = "--fit: only with --against (it decides which claims are tested)";
    if (!err && against && (headline || nn > 0 || beyond || metric >= 0))
        err = "--against: compares the paper's metric past the training range; no --at, --beyond, --metric or "
              "--headline";
    if (err) {
        fprintf(stderr, "posenc compare: %s\n", err);
        free(paths);
        return EXIT_USAGE;
    }
    if (beyond) ns[nn++] = COMPARE_BEYOND;
    Literature *lit = NULL;
    if (against) {
        lit = core_calloc(1, sizeof *lit);
        if (literature_load(lit, against) != 0) {
            fprintf(stderr, "posenc compare: %s\n", core_error());
            free(lit);
            free(paths);
            return EXIT_USAGE;
        }
    }
    AggTable t;
    const int n = compare_load(paths, np, &o, &t);
    free(paths);
    if (n < 0) {
        fprintf(stderr, "posenc compare: %s\n", core_error());
        aggregate_free(&t);
        free(lit);
        return n == RUN_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    if (lit) {
        const int rc = compare_against(lit, &t, fit);
        free(lit);
        aggregate_free(&t);
        return rc;
    }
    const int explicit_metric = metric >= 0;
    int all_lm = 1;
    for (int c = 0; c < t.ncells; c++) all_lm &= t.cells[c].lm;
    /* lengths asked for must have been evaluated */
    if (check_lengths(&t, ns, nn) != 0) {
        aggregate_free(&t);
        return EXIT_USAGE;
    }
    print_comparison(&t, metric, explicit_metric, all_lm, ns, nn, md, headline);
    aggregate_free(&t);
    return 0;
}

/* ---- beside the literature (--against) ----------------------------------- */

/* s with markdown's special characters escaped (the file and the runs are untrusted) */
static void md_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20) {
            fputc(' ', f);
            continue;
        }
        if (strchr("\\`*_[]<>|#", *s)) fputc('\\', f);
        fputc(*s, f);
    }
}

static void num_or_dash(FILE *f, double v) {
    if (v < 0 || isnan(v)) fprintf(f, "—");
    else fprintf(f, "%.3f", v);
}

static double clip1(double v) { return v < -1 ? -1 : v > 1 ? 1 : v; }

static const char *const verdict_name[LIT_VERDICTS] = {"reproduced", "contradicted", "not resolved", "not run",
                                                        "not tested"};

/* The side-by-side report of lit against the sweep t, as markdown. */
/* One task of the paper that posenc ran: its table (the paper's and posenc's
 * values per encoding), its claims with their verdicts, its rank agreement. */
static void print_lit_task(FILE *f, const Literature *lit, const LitTask *tk, double fit) {
    fprintf(f, "\n**");
    md_text(f, lit->tasks[tk->task].name);
    fprintf(f, "** (posenc: ");
    md_text(f, tk->posenc_task);
    fprintf(f, ")\n\n");
    fprintf(f, "| encoding | paper: mean | paper: per seed | posenc: mean [95 %%] | posenc: per seed | in range: "
               "paper / posenc |\n| --- | --- | --- | --- | --- | --- |\n");
    for (int q = 0; q < tk->nrows; q++) {
        const LitRow *row = &tk->rows[q];
        fprintf(f, "| ");
        md_text(f, row->name);
        fprintf(f, " | ");
        num_or_dash(f, row->paper_mean);
        fprintf(f, " | ");
        if (row->lit_cell >= 0) {
            const LitCell *c = &lit->cells[row->lit_cell];
            for (int s = 0; s < c->k; s++) fprintf(f, "%s%.3f", s ? " / " : "", c->beyond[s]);
        } else {
            fprintf(f, "—");
        }
        fprintf(f, " | ");
        if (row->cell >= 0) {
            fprintf(f, "%.3f", row->iv.mean);
            if (row->k >= 2) fprintf(f, " [%.3f, %.3f]", row->iv.lo, row->iv.hi);
            fprintf(f, " | ");
            for (int s = 0; s < row->k; s++) fprintf(f, "%s%.3f", s ? " / " : "", row->v[s]);
        } else {
            fprintf(f, "not run | —");
        }
        fprintf(f, " | ");
        num_or_dash(f, row->paper_in_range);
        fprintf(f, " / ");
        num_or_dash(f, row->cell >= 0 ? row->in_range : -1);
        fprintf(f, " |\n");
    }
    if (tk->nclaims) {
        fprintf(f, "\n| claim of the paper | paper: difference [95 %%] | posenc: difference [95 %%] (seeds with "
                   "its sign) | verdict |\n| --- | --- | --- | --- |\n");
        for (int q = 0; q < tk->nclaims; q++) {
            const LitClaim *cl = &tk->claims[q];
            const LitRow *hi = &tk->rows[cl->sign > 0 ? cl->a : cl->b], *lo = &tk->rows[cl->sign > 0 ? cl->b : cl->a];
            const double s = cl->sign; /* report the claim's difference: higher minus lower */
            fprintf(f, "| ");
            md_text(f, hi->name);
            fprintf(f, " > ");
            md_text(f, lo->name);
            fprintf(f, " | %+.3f [%+.3f, %+.3f] | ", s * cl->paper.mean, clip1(s > 0 ? cl->paper.lo : -cl->paper.hi),
                    clip1(s > 0 ? cl->paper.hi : -cl->paper.lo));
            if (cl->verdict == LIT_NOT_RUN) {
                fprintf(f, "— | not run |\n");
                continue;
            }
            const Paired *p = &cl->posenc;
            const int agree = cl->sign > 0 ? p->pos : p->neg;
            fprintf(f, "%+.3f", s * p->mean);
            if (p->k >= 2)
                fprintf(f, " [%+.3f, %+.3f]", clip1(s > 0 ? p->lo : -p->hi), clip1(s > 0 ? p->hi : -p->lo));
            fprintf(f, " (%d of %d) | %s", agree, p->k, verdict_name[cl->verdict]);
            if (cl->why) fprintf(f, ": %s", cl->why);
            if (cl->verdict == LIT_UNFIT) { /* name the encoding that does not fit, the lower in-range first */
                const LitRow *a = &tk->rows[cl->a], *b = &tk->rows[cl->b];
                const LitRow *u = a->in_range <= b->in_range ? a : b;
                fprintf(f, ": posenc's ");
                md_text(f, u->name);
                if (u->in_range < 0)
                    fprintf(f, " was not evaluated inside its training range, so its fit is unknown");
                else
                    fprintf(f, " scores %.3f in range, below %.2f", u->in_range, fit);
            }
            fprintf(f, " |\n");
        }
    }
    if (tk->ranked >= 2) {
        fprintf(f, "\nRank agreement over the %d encodings both ran%s: ", tk->ranked,
                fit > 0 ? " that posenc fits in range" : "");
        if (tk->tau_k == 0) {
            fprintf(f, "n/a (posenc's values tie on every seed)\n");
        } else {
            fprintf(f, "Kendall's tau-b %.2f", tk->tau_mean);
            if (tk->tau_k >= 2) fprintf(f, " [%.2f, %.2f]", tk->tau_lo, tk->tau_hi);
            fprintf(f, " (per seed:");
            for (int s = 0; s < tk->tau_k; s++) fprintf(f, "%s %.2f", s ? " /" : "", tk->tau[s]);
            fprintf(f, ")\n");
        }
    }
}

static void print_literature(FILE *f, const Literature *lit, const LitReport *r) {
    const int claims =
        r->count[LIT_REPRODUCED] + r->count[LIT_CONTRADICTED] + r->count[LIT_UNRESOLVED] + r->count[LIT_UNFIT];
    fprintf(f, "**");
    md_text(f, lit->authors);
    fprintf(f, " (arXiv %s), \"", lit->arxiv[0] ? lit->arxiv : "n/a");
    md_text(f, lit->title);
    fprintf(f, "\": of the paper's %d pairwise claims that posenc ran, %d reproduced, %d contradicted, %d not "
               "resolved with these seeds",
            claims, r->count[LIT_REPRODUCED], r->count[LIT_CONTRADICTED], r->count[LIT_UNRESOLVED]);
    if (r->count[LIT_UNFIT])
        fprintf(f, ", %d not tested: posenc's model does not fit the task in range (an encoding below %.2f there; a "
                   "model that has not learned the task cannot test its extrapolation)",
                r->count[LIT_UNFIT], r->fit);
    fprintf(f, ".**");
    if (r->count[LIT_NOT_RUN]) fprintf(f, " %d more are on tasks or encodings posenc did not run.", r->count[LIT_NOT_RUN]);
    if (r->tau_k > 0) {
        fprintf(f, " Rank agreement of the encodings (Kendall's tau-b, paper against posenc, the mean over tasks): %.2f",
                r->tau_mean);
        if (r->tau_k >= 2) fprintf(f, " [%.2f, %.2f] over %d seeds", r->tau_lo, r->tau_hi, r->tau_k);
        else fprintf(f, " (one seed, no interval)");
        fprintf(f, ".");
    }
    fprintf(f, "\n\n");
    fprintf(f, "A claim is an order of two encodings on a task that the paper's own seeds resolve (their paired "
               "difference's 95 %% interval excludes 0, docs/SPEC.md §2.1); its verdict comes from the same "
               "interval over posenc's seeds. The paper: %s, trained on n = %d..%d, tested on n = %d..%d, per seed; "
               "source: ",
            lit->metric, lit->train_lo, lit->train_hi, lit->test_lo, lit->test_hi);
    md_text(f, lit->source);
    fprintf(f, ". posenc: trained on n = %d..%d; \"beyond\" is per seed the mean over the %d evaluated lengths "
               "n = %d..%d (%ld examples per seed); the interval as docs/SPEC.md §2.1.\n",
            r->train_lo, r->train_hi, r->beyond_count, r->beyond_lo, r->beyond_hi, r->examples);
    for (int i = 0; i < r->ntasks; i++) {
        const LitTask *tk = &r->tasks[i];
        if (!tk->run) continue; /* listed at the end */
        print_lit_task(f, lit, tk, r->fit);
    }
    int not_run = 0;
    for (int i = 0; i < r->ntasks; i++) not_run += !r->tasks[i].run;
    if (not_run) {
        fprintf(f, "\nTasks of the paper not run here (the paper's values are in ");
        md_text(f, lit->path);
        fprintf(f, "):");
        for (int i = 0, k = 0; i < r->ntasks; i++) {
            const LitTask *tk = &r->tasks[i];
            if (tk->run) continue;
            fprintf(f, "%s ", k++ ? "," : "");
            md_text(f, lit->tasks[tk->task].name);
            fprintf(f, " (%d claims)", tk->nclaims);
        }
        fprintf(f, ".\n");
    }
    if (lit->nstatements) fprintf(f, "\n");
    print_statements(f, lit);
}

/* the paper's statements that are not cells (a file may have only these) */
static void print_statements(FILE *f, const Literature *lit) {
    if (!lit->nstatements) return;
    if (lit->ncells == 0) {
        md_text(f, lit->authors);
        fprintf(f, " (arXiv %s), \"", lit->arxiv[0] ? lit->arxiv : "n/a");
        md_text(f, lit->title);
        fprintf(f, "\": no cells comparable with a posenc run; ");
    }
    fprintf(f, "the paper's statements that are not cells of a protocol posenc runs (not judged):\n\n");
    for (int i = 0; i < lit->nstatements; i++) {
        fprintf(f, "- ");
        md_text(f, lit->statements[i]);
        fprintf(f, "\n");
    }
}

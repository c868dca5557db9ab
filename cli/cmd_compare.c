/*
 * cmd_compare.c — `posenc compare DIR | RUN...`: break lengths, rankings and
 * paired differences of the encodings of an aggregate (study/compare.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/aggregate.h"
#include "study/compare.h"

static void compare_usage(FILE *f) {
    fprintf(f,
            "usage: posenc compare DIR [--metric exact_match|token_acc|loss|ppl] [--at N[,N...] | --beyond]\n"
            "                          [--markdown | --headline] [--break-fraction F] [--break-factor F]\n"
            "                          [--allow-mixed]\n"
            "       posenc compare RUN_OR_FOLDER... [same options]\n"
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
            "  --markdown           markdown tables (what scripts/report.sh puts into the READMEs)\n"
            "  --headline           one paragraph of sentences per group, every number generated\n"
            "  --break-fraction F   the accuracy break rule's fraction, 0 < F < 1 (default 0.5)\n"
            "  --break-factor F     the loss/perplexity break rule's factor, F > 1 (default 2)\n"
            "  --allow-mixed        compare runs of different provenance anyway (says so)\n"
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

int cmd_compare(int argc, char **argv) {
    const char **paths = core_calloc(argc > 1 ? argc : 1, sizeof *paths);
    int np = 0, md = 0, headline = 0, beyond = 0, metric = -1, ns[16], nn = 0;
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
    if (err) {
        fprintf(stderr, "posenc compare: %s\n", err);
        free(paths);
        return EXIT_USAGE;
    }
    if (beyond) ns[nn++] = COMPARE_BEYOND;
    AggTable t;
    const int n = compare_load(paths, np, &o, &t);
    free(paths);
    if (n < 0) {
        fprintf(stderr, "posenc compare: %s\n", core_error());
        aggregate_free(&t);
        return n == RUN_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    const int explicit_metric = metric >= 0;
    int all_lm = 1;
    for (int c = 0; c < t.ncells; c++) all_lm &= t.cells[c].lm;
    /* lengths asked for must have been evaluated */
    for (int q = 0; q < nn; q++) {
        if (ns[q] == COMPARE_BEYOND) continue;
        int found = 0;
        for (int c = 0; c < t.ncells && !found; c++)
            for (int m = 0; m < t.cells[c].num_lengths; m++) found |= t.cells[c].lengths[m] == ns[q];
        if (!found) {
            fprintf(stderr, "posenc compare: --at %d: no run was evaluated at n = %d\n", ns[q], ns[q]);
            aggregate_free(&t);
            return EXIT_USAGE;
        }
    }
    if (!md && !headline) printf("provenance: %s\n", t.prov_details);
    if (md) printf("%s\n", t.prov_line);
    if (headline) {
        /* without --metric: exact_match and token_acc; a language model's in perplexity */
        for (int g = 0; g < t.ncells; g++)
            if (t.group[g] == g)
                for (int m = 0; m < AGG_NMETRICS; m++)
                    if (explicit_metric ? m == metric : t.cells[g].lm ? m == AGG_PPL : m == AGG_EM || m == AGG_ACC) {
                        compare_headline(stdout, &t, g, m);
                        printf("\n");
                    }
    } else if (explicit_metric) {
        compare_print(stdout, &t, metric, ns, nn, md);
    } else {
        /* without --metric: exact_match, then token_acc (a language model's: perplexity, then token_acc) */
        compare_print(stdout, &t, all_lm ? AGG_PPL : AGG_EM, ns, nn, md);
        compare_print(stdout, &t, AGG_ACC, ns, nn, md);
    }
    aggregate_free(&t);
    return 0;
}

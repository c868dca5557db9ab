/*
 * cmd_robustness.c — `posenc robustness SPEC`: run an experiment and its
 * perturbations (study/robustness.h), then say which conclusions hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/aggregate.h"
#include "study/robustness.h"

static void robustness_usage(FILE *f) {
    fprintf(f,
            "usage: posenc robustness SPEC [--out DIR] [--jobs N] [--no-plots] [--collect-only]\n"
            "\n"
            "Does an experiment's conclusion survive standard changes of its recipe? SPEC names an\n"
            "experiment (a sweep spec) and perturbations, each one change of the recipe:\n"
            "\n"
            "  {\"name\": \"robustness\", \"experiment\": \"demo.json\",\n"
            "   \"perturbations\": [{\"name\": \"lr x2\", \"set\": {\"train.lr\": 0.004}}, ...],\n"
            "   \"metric\": \"both\", \"lengths\": [10, 12, 16]}\n"
            "\n"
            "The experiment runs as it is (DIR/baseline) and once per perturbation (DIR/<name>), each a\n"
            "sweep folder (posenc sweep: resumable, complete runs are skipped; posenc collect, compare\n"
            "and report work on each). Then the baseline's conclusions are checked under every\n"
            "perturbation (posenc compare's statistics, docs/SPEC.md §2.1):\n"
            "\n"
            "  order   each pair of encodings whose paired difference at a length is resolved (its\n"
            "          95 %% interval excludes 0): holds, not resolved, or FLIPS under a perturbation;\n"
            "  break   each encoding's break length: holds while the range over the seeds overlaps\n"
            "          the baseline's, else moves earlier or later.\n"
            "\n"
            "Writes DIR/robustness.md (a table: conclusions as rows, perturbations as columns, then the\n"
            "rankings) and DIR/robustness.csv, and prints the verdicts. The lengths default to 1.25x,\n"
            "1.5x and 2x the longest training length; the metric (exact_match, token_acc or both) to\n"
            "both.\n"
            "\n"
            "options:\n"
            "  --out DIR        the output folder (default runs/NAME)\n"
            "  --jobs N         jobs at a time in each sweep (default: cores / threads)\n"
            "  --no-plots       no gnuplot figures in the sweep folders\n"
            "  --collect-only   run nothing: compare the sweep folders as they are (every one must hold\n"
            "                   complete runs)\n"
            "\n"
            "Exit 0; 2 for a bad spec (naming the file and key); 1 when a run failed or a file cannot be\n"
            "read or written; 130 when interrupted (run the same command again to go on).\n");
}

/* Each variant: its spec into DIR/specs, then its sweep (unless collect_only):
 * 0 or the exit status. */
static int run_variants(const RobSpec *r, const char *dir, const char *specs, long jobs, int plots, int collect_only) {
    int rc = 0;
    for (int p = 0; p < r->num && rc == 0; p++) {
        char sp[4400], sd[4400];
        snprintf(sp, sizeof sp, "%s/%s.json", specs, r->v[p].slug);
        snprintf(sd, sizeof sd, "%s/%s", dir, r->v[p].slug);
        if (file_write_atomic(sp, r->v[p].spec_json, strlen(r->v[p].spec_json)) != 0) {
            fprintf(stderr, "posenc robustness: %s\n", core_error());
            rc = EXIT_RUNTIME;
            break;
        }
        if (collect_only) continue;
        fprintf(stderr, "robustness: %d of %d: %s -> %s\n", p + 1, r->num, r->v[p].name, sd);
        fflush(stdout);
        const int st = sweep_local(sp, sd, jobs, plots);
        if (st == EXIT_INTERRUPTED || st == EXIT_USAGE) rc = st;
        else if (st != 0) {
            fprintf(stderr, "posenc robustness: %s: a run failed (see %s/logs); the others go on\n", r->v[p].name, sd);
            rc = EXIT_RUNTIME;
        }
    }
    return rc;
}

/* The verdicts of the variants' tables t: printed, and DIR/robustness.md and .csv: 0 or the exit status. */
static int write_verdicts(const RobSpec *r, const AggTable *t, const char *dir) {
    int rc = 0;
    char *mdt = NULL, *csvt = NULL;
    size_t mdn = 0, csvn = 0;
    FILE *md = open_memstream(&mdt, &mdn), *csv = open_memstream(&csvt, &csvn);
    if (!md || !csv) {
        fprintf(stderr, "posenc robustness: out of memory\n");
        rc = EXIT_RUNTIME;
    } else {
        fprintf(md, "%s\n\nRobustness of `%s` (%s): the experiment as it is (baseline) and %d perturbation(s) of "
                    "its recipe, one at a time.%s%s\n",
                t[0].prov_line, r->experiment, r->name, r->num - 1, r->description[0] ? " " : "",
                r->description);
        const int flips = rob_report(r, t, stdout, md, csv);
        if (flips < 0) {
            fprintf(stderr, "posenc robustness: %s\n", core_error());
            rc = EXIT_USAGE;
        }
        fclose(md);
        fclose(csv);
        md = csv = NULL;
        char p1[4400], p2[4400];
        snprintf(p1, sizeof p1, "%s/robustness.md", dir);
        snprintf(p2, sizeof p2, "%s/robustness.csv", dir);
        if (rc == 0 && (file_write_atomic(p1, mdt, mdn) != 0 || file_write_atomic(p2, csvt, csvn) != 0)) {
            fprintf(stderr, "posenc robustness: %s\n", core_error());
            rc = EXIT_RUNTIME;
        }
        if (rc == 0) printf("robustness: %s and %s\n", p1, p2);
    }
    free(mdt);
    free(csvt);
    return rc;
}

int cmd_robustness(int argc, char **argv) {
    const char *spec = NULL, *out = NULL;
    long jobs = 0;
    int plots = 1, collect_only = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            robustness_usage(stdout);
            return 0;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--jobs") == 0) {
            if ((jobs = parse_count(a, i + 1 < argc ? argv[i + 1] : NULL, 1024)) < 0) {
                fprintf(stderr, "posenc robustness: %s\n", core_error());
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(a, "--no-plots") == 0) {
            plots = 0;
        } else if (strcmp(a, "--collect-only") == 0) {
            collect_only = 1;
        } else if (a[0] != '-' && !spec) {
            spec = a;
        } else {
            fprintf(stderr, "posenc robustness: unexpected argument \"%s\" (see posenc robustness --help)\n", a);
            return EXIT_USAGE;
        }
    }
    if (!spec) {
        fprintf(stderr, "posenc robustness: missing SPEC (see posenc robustness --help)\n");
        return EXIT_USAGE;
    }
    RobSpec *r = core_calloc(1, sizeof *r);
    if (rob_load(r, spec) != 0) {
        fprintf(stderr, "posenc robustness: %s\n", core_error());
        free(r);
        return EXIT_USAGE;
    }
    char dir[4096], specs[4200];
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else
        snprintf(dir, sizeof dir, "runs/%s", r->name);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    int rc = 0;
    if (dir_create(dir) != 0 || dir_create(specs) != 0) {
        fprintf(stderr, "posenc robustness: %s\n", core_error());
        rc = EXIT_RUNTIME;
    }
    /* each variant: its spec, then its sweep */
    if (rc == 0) rc = run_variants(r, dir, specs, jobs, plots, collect_only);
    if (rc != 0) {
        rob_free(r);
        free(r);
        return rc;
    }
    /* the verdicts */
    AggTable *t = core_calloc(r->num, sizeof *t);
    const AggOptions o = {0};
    for (int p = 0; p < r->num && rc == 0; p++) {
        char sd[4400];
        snprintf(sd, sizeof sd, "%s/%s", dir, r->v[p].slug);
        if (aggregate_load_sweep(sd, &o, &t[p]) < 0) {
            fprintf(stderr, "posenc robustness: %s: %s\n", r->v[p].name, core_error());
            rc = EXIT_USAGE;
        }
    }
    /* one result identity over every recipe, or the comparison says nothing */
    for (int p = 1; p < r->num && rc == 0; p++)
        if (strcmp(t[p].prov_line, t[0].prov_line) != 0) {
            fprintf(stderr, "posenc robustness: %s and %s were produced differently (%s / %s): rerun one of them\n",
                    r->v[0].name, r->v[p].name, t[0].prov_details, t[p].prov_details);
            rc = EXIT_USAGE;
        }
    if (rc == 0) rc = write_verdicts(r, t, dir);
    for (int p = 0; p < r->num; p++) aggregate_free(&t[p]);
    free(t);
    rob_free(r);
    free(r);
    return rc;
}

/*
 * robustness.c — robustness specs and the verdicts of their conclusions
 * (robustness.h).
 */
#include "study/robustness.h"

#include <cJSON.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/compare.h"

void rob_free(RobSpec *r) {
    for (int i = 0; i < r->num; i++) free(r->v[i].spec_json);
    r->num = 0;
}

static void slugify(const char *name, char *slug, size_t cap) {
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < cap; p++) {
        const char ch = *p;
        const int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                       ch == '-' || ch == '_';
        slug[k++] = ok ? ch : '_';
    }
    slug[k] = '\0';
    if (slug[0] == '.') slug[0] = '_'; /* never "." or ".." or a hidden folder */
}

static const char *const rob_keys[] = {"name", "description", "experiment", "perturbations", "metric", "lengths"};

/* The spec's own fields: name (else the file's name), description, metric, lengths. */
static int rob_fields(RobSpec *r, const char *path, const cJSON *nm, const cJSON *ds, const cJSON *ex, const cJSON *mt,
                      const cJSON *ls) {
    if (nm && (!cJSON_IsString(nm) || !nm->valuestring[0] || strlen(nm->valuestring) >= sizeof r->name)) {
        core_errorf("%s: name: expected a non-empty string of fewer than %zu characters", path, sizeof r->name);
        return -1;
    }
    if (ds && (!cJSON_IsString(ds) || strlen(ds->valuestring) >= sizeof r->description)) {
        core_errorf("%s: description: expected a string of fewer than %zu characters", path, sizeof r->description);
        return -1;
    }
    if (!cJSON_IsString(ex) || !ex->valuestring[0]) {
        core_errorf("%s: experiment: expected the path of a sweep spec (relative to this file's folder), e.g. "
                  "\"demo.json\"",
                  path);
        return -1;
    }
    if (nm)
        snprintf(r->name, sizeof r->name, "%s", nm->valuestring);
    else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", path);
        char *b = basename(tmp), *dot = strrchr(b, '.');
        if (dot) *dot = '\0';
        snprintf(r->name, sizeof r->name, "%.63s", b);
    }
    if (ds) snprintf(r->description, sizeof r->description, "%s", ds->valuestring);
    r->metrics = 1u << AGG_EM | 1u << AGG_ACC;
    r->both = 1;
    if (mt) {
        const char *m = cJSON_IsString(mt) ? mt->valuestring : "";
        const int one = agg_metric_parse(m);
        r->both = strcmp(m, "both") == 0;
        r->metrics = r->both ? (1u << AGG_EM | 1u << AGG_ACC) : one >= 0 ? 1u << one : 0;
        if (!r->metrics) {
            core_errorf("%s: metric: expected \"exact_match\", \"token_acc\", \"loss\", \"ppl\" or \"both\"",
                        path);
            return -1;
        }
    }
    if (ls) {
        const int n = cJSON_GetArraySize(ls);
        if (!cJSON_IsArray(ls) || n < 1 || n > 16) {
            core_errorf("%s: lengths: expected an array of 1 to 16 evaluation lengths", path);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetArrayItem(ls, i);
            if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e6 ||
                v->valuedouble != (double)(int)v->valuedouble) {
                core_errorf("%s: lengths[%d]: expected a whole number in 1..1000000", path, i);
                return -1;
            }
            r->lengths[r->num_lengths++] = (int)v->valuedouble;
        }
    }
    return 0;
}

/* The experiment (a sweep spec, relative to this spec's folder), its base made
 * absolute and its "set" an object: the parsed spec, or NULL with an error set. */
static cJSON *rob_experiment(RobSpec *r, const char *path, const cJSON *ex) {
    cJSON *exp = NULL;
    snprintf(r->experiment, sizeof r->experiment, "%s", ex->valuestring);
    /* the experiment: relative to this spec's folder */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    if (ex->valuestring[0] == '/')
        snprintf(r->experiment_path, sizeof r->experiment_path, "%s", ex->valuestring);
    else if (snprintf(r->experiment_path, sizeof r->experiment_path, "%s/%s", d, ex->valuestring) >=
             (int)sizeof r->experiment_path) {
        core_errorf("%s: experiment: path too long", path);
        goto fail;
    }
    char *etext = file_read_capped(r->experiment_path, (size_t)1 << 20, NULL);
    if (!etext) {
        core_errorf("%s: experiment: %s", path, core_error());
        goto fail;
    }
    exp = cJSON_Parse(etext);
    free(etext);
    if (!cJSON_IsObject(exp)) {
        core_errorf("%s: experiment %s: not a JSON object (a sweep spec)", path, r->experiment_path);
        goto fail;
    }
    /* a relative base is relative to the experiment's folder: make it absolute */
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(exp, "base");
    if (cJSON_IsString(base) && base->valuestring[0] != '/') {
        char edir[4096], joined[8300], abs[PATH_MAX];
        snprintf(edir, sizeof edir, "%s", r->experiment_path);
        snprintf(joined, sizeof joined, "%s/%s", dirname(edir), base->valuestring);
        if (!realpath(joined, abs)) {
            core_errorf("%s: base: %s: cannot resolve it", r->experiment_path, joined);
            goto fail;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(exp, "base", cJSON_CreateString(abs));
    }
    if (!cJSON_GetObjectItemCaseSensitive(exp, "set")) cJSON_AddItemToObject(exp, "set", cJSON_CreateObject());
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(exp, "set"))) {
        core_errorf("%s: set: expected an object of config keys", r->experiment_path);
        goto fail;
    }
    return exp;
fail:
    cJSON_Delete(exp);
    return NULL;
}

/* The baseline and each perturbation: the experiment with the perturbation's
 * keys set, named after the experiment and the variant's folder name. */
static int rob_variants(RobSpec *r, const char *path, const cJSON *exp, const cJSON *ps, int np) {
    const cJSON *ename = cJSON_GetObjectItemCaseSensitive(exp, "name");
    char expname[64];
    snprintf(expname, sizeof expname, "%.40s", cJSON_IsString(ename) ? ename->valuestring : "experiment");
    for (int i = 0; i <= np; i++) {
        RobVariant *v = &r->v[i];
        cJSON *spec = cJSON_Duplicate(exp, 1);
        if (i == 0) {
            snprintf(v->name, sizeof v->name, "baseline");
        } else {
            const cJSON *p = cJSON_GetArrayItem(ps, i - 1);
            const cJSON *pn = cJSON_GetObjectItemCaseSensitive(p, "name");
            const cJSON *pset = cJSON_GetObjectItemCaseSensitive(p, "set");
            if (!cJSON_IsObject(p) || !cJSON_IsString(pn) || !pn->valuestring[0] ||
                strlen(pn->valuestring) >= sizeof v->name || !cJSON_IsObject(pset) || !pset->child ||
                cJSON_GetArraySize(p) != 2) {
                cJSON_Delete(spec);
                core_errorf("%s: perturbations[%d]: expected {\"name\": a string of 1 to 63 characters, \"set\": a "
                          "non-empty object of config keys}",
                          path, i - 1);
                return -1;
            }
            snprintf(v->name, sizeof v->name, "%s", pn->valuestring);
            cJSON *set = cJSON_GetObjectItemCaseSensitive(spec, "set");
            for (const cJSON *k = pset->child; k; k = k->next) {
                if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "grid"), k->string)) {
                    cJSON_Delete(spec);
                    core_errorf("%s: perturbations[%d] (\"%s\"): %s is a grid key of the experiment: a perturbation "
                              "changes the recipe, not the grid",
                              path, i - 1, v->name, k->string);
                    return -1;
                }
                cJSON_DeleteItemFromObjectCaseSensitive(set, k->string);
                cJSON_AddItemToObject(set, k->string, cJSON_Duplicate(k, 1));
            }
        }
        slugify(v->name, v->slug, sizeof v->slug);
        for (int q = 0; q < i; q++)
            if (strcmp(r->v[q].slug, v->slug) == 0) {
                cJSON_Delete(spec);
                core_errorf("%s: perturbations[%d] (\"%s\"): its folder name %s is taken by \"%s\"%s", path, i - 1,
                          v->name, v->slug, r->v[q].name, q == 0 ? " (the baseline's)" : "");
                return -1;
            }
        char sname[160]; /* a sweep's name: letters, digits, '.', '_', '-' */
        snprintf(sname, sizeof sname, "%.40s-%.63s", expname, v->slug);
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "name");
        cJSON_AddStringToObject(spec, "name", sname);
        v->spec_json = cJSON_Print(spec);
        cJSON_Delete(spec);
        r->num = i + 1;
    }
    return 0;
}

int rob_load(RobSpec *r, const char *path) {
    memset(r, 0, sizeof *r);
    snprintf(r->spec_path, sizeof r->spec_path, "%s", path);
    r->experiment[0] = '\0';
    char *text = file_read_capped(path, (size_t)1 << 20, NULL);
    if (!text) return -1;
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *exp = NULL;
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        core_errorf("%s: not a JSON object: expected a robustness spec (see posenc robustness --help)", path);
        goto done;
    }
    for (const cJSON *k = root->child; k; k = k->next) {
        int known = 0;
        for (size_t q = 0; q < sizeof rob_keys / sizeof *rob_keys; q++) known |= strcmp(k->string, rob_keys[q]) == 0;
        if (!known) {
            core_errorf("%s: unknown key \"%s\" (allowed: name, description, experiment, perturbations, metric, lengths)",
                      path, k->string);
            goto done;
        }
    }
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "description");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "experiment");
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "perturbations");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "metric");
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(root, "lengths");
    if (rob_fields(r, path, nm, ds, ex, mt, ls) != 0) goto done;
    const int np = cJSON_GetArraySize(ps);
    if (!cJSON_IsArray(ps) || np < 1 || np > ROB_MAX_PERTURBATIONS) {
        core_errorf("%s: perturbations: expected an array of 1 to %d objects {\"name\": ..., \"set\": {config key: "
                  "value}}",
                  path, ROB_MAX_PERTURBATIONS);
        goto done;
    }
    if (!(exp = rob_experiment(r, path, ex))) goto done;
    if (rob_variants(r, path, exp, ps, np) != 0) goto done;
    rc = 0;
done:
    cJSON_Delete(exp);
    cJSON_Delete(root);
    if (rc) rob_free(r);
    return rc;
}

/* ---- verdicts ------------------------------------------------------------- */

/* the cell of group g of t named name, or -1 */
static int find_cell(const AggTable *t, int g, const char *name) {
    for (int c = 0; c < t->ncells; c++) {
        if (t->group[c] != g) continue;
        char nm[256];
        compare_cell_name(t, c, nm, sizeof nm);
        if (strcmp(nm, name) == 0) return c;
    }
    return -1;
}

/* the group of t with this title, or -1 */
static int find_group(const AggTable *t, const char *title) {
    for (int g = 0; g < t->ncells; g++) {
        if (t->group[g] != g) continue;
        char tt[512];
        aggregate_group_title(t, g, tt, sizeof tt);
        if (strcmp(tt, title) == 0) return g;
    }
    return -1;
}

/* a break length as a number to compare (censored: past every length) */
static int brk_key(int b) { return b == 0 ? INT_MAX : b; }

static void brk_range_text(const AggCell *c, int metric, char *buf, size_t cap) {
    break_range_text(&c->brk[metric], buf, (unsigned)cap);
}

/* The paired verdict of cells a, b (by name) in c, a comparison of t (compare_at):
 * +1, -1, 0; 2 if either is absent (or c is NULL: nothing to compare there). */
static int pair_verdict(const AggTable *t, const CompareAt *c, const char *a, const char *b, Paired *out) {
    int ia = -1, ib = -1;
    for (int i = 0; c && i < c->num; i++) {
        char nm[256];
        compare_cell_name(t, c->cell[i], nm, sizeof nm);
        if (strcmp(nm, a) == 0) ia = i;
        if (strcmp(nm, b) == 0) ib = i;
    }
    if (ia < 0 || ib < 0) return 2;
    *out = c->pair[ia][ib];
    return out->verdict;
}

/* append "text" to a "; "-separated list */
static void list_add(char **list, size_t *len, const char *text) {
    const size_t add = strlen(text) + 3;
    *list = core_realloc(*list, *len + add + 1);
    *len += (size_t)snprintf(*list + *len, add + 1, "%s%s", *len ? "; " : "", text);
}

/* One group and metric of rob_report: what its conclusions are judged on,
 * where they are written, and what is counted and listed. */
typedef struct {
    const RobSpec *r;
    const AggTable *t, *b; /* every table; b = t[0], the baseline */
    int g, metric, better; /* the group, the metric, which way is better (compare_better) */
    const char *mn, *title;
    int ns[16], nn;                      /* the lengths compared */
    int pg[ROB_MAX_PERTURBATIONS + 1];   /* the group in each table, -1 if absent */
    FILE *f, *md, *csv;                  /* the text, the group's Markdown table, the CSV (each may be NULL) */
    char *holds, *flipl, *weak;          /* the conclusions by outcome, "; "-separated */
    size_t nh, nf, nw;
    int conclusions, flips;
} RobGroup;

/* The baseline's ordered pairs at each length, each against every perturbation. */
static void rob_orders(RobGroup *x) {
    const RobSpec *r = x->r;
    const AggTable *t = x->t, *b = x->b;
    const int g = x->g, metric = x->metric, better = x->better, nn = x->nn;
    const int *ns = x->ns, *pg = x->pg;
    const char *mn = x->mn, *title = x->title;
    FILE *f = x->f, *md = x->md, *csv = x->csv;
    /* order conclusions: the baseline's resolved pairs at each length */
    for (int q = 0; q < nn; q++) {
        CompareAt *c = core_calloc(1, sizeof *c);
        if (compare_at(b, g, metric, ns[q], c) != 0) {
            free(c);
            continue;
        }
        /* each perturbation's comparison at this length, once (NULL: nothing to compare there) */
        CompareAt *pc[ROB_MAX_PERTURBATIONS + 1] = {0};
        for (int p = 1; p < r->num; p++) {
            pc[p] = core_calloc(1, sizeof *pc[p]);
            if (pg[p] < 0 || compare_at(&t[p], pg[p], metric, ns[q], pc[p]) != 0) {
                free(pc[p]);
                pc[p] = NULL;
            }
        }
        for (int i = 0; i < c->num; i++)
            for (int j = i + 1; j < c->num; j++) {
                const Paired *bp = &c->pair[i][j];
                if (!bp->verdict) continue;
                char a[256], bb[256], concl[600];
                compare_cell_name(b, c->cell[i], a, sizeof a);
                compare_cell_name(b, c->cell[j], bb, sizeof bb);
                /* stated with the better first ("alibi > rope"; in perplexity "alibi < rope"); the
                 * difference printed is the higher minus the lower */
                const char *w = bp->verdict == better ? a : bb, *l = bp->verdict == better ? bb : a;
                snprintf(concl, sizeof concl, "n = %d: %s %s %s", ns[q], w, better > 0 ? ">" : "<", l);
                x->conclusions++;
                int all = 1, flipped = 0;
                char by[512] = "";
                const int sg = bp->verdict == better ? 1 : -1; /* w - l = sg x (a - b) */
                if (md)
                    fprintf(md, "| %s | %+.3f [%+.3f, %+.3f], %d of %d seeds |", concl, sg * bp->mean,
                            sg > 0 ? bp->lo : -bp->hi, sg > 0 ? bp->hi : -bp->lo, paired_support(bp), bp->k);
                if (f) fprintf(f, "  %-36s baseline %+.3f [%+.3f, %+.3f]:", concl, sg * bp->mean,
                               sg > 0 ? bp->lo : -bp->hi, sg > 0 ? bp->hi : -bp->lo);
                for (int p = 1; p < r->num; p++) {
                    Paired pp = {0};
                    const int v = pair_verdict(&t[p], pc[p], w, l, &pp);
                    const char *word = v == 2 ? "absent" : v == better ? "holds" : v == -better ? "FLIPS" : "not resolved";
                    all &= v == better;
                    flipped |= v == -better;
                    if (v != better && strlen(by) + strlen(r->v[p].name) + 24 < sizeof by)
                        snprintf(by + strlen(by), sizeof by - strlen(by), "%s%s %s", by[0] ? ", " : "",
                                 v == -better ? "flips under" : "not resolved under", r->v[p].name);
                    if (md) {
                        if (v == 2) fprintf(md, " absent |");
                        else fprintf(md, " %s (%+.3f) |", word, pp.mean);
                    }
                    if (f) fprintf(f, " %s %s;", r->v[p].name, word);
                    if (csv)
                        fprintf(csv, "\"%s\",%s,\"%s\",order,%d,\"%s\",\"%s\",%.6f,\"%s\",%s,%.6f,%.6f,%.6f,%d,%d\n",
                                title, mn, concl, ns[q], w, l, sg * bp->mean, r->v[p].name, word,
                                v == 2 ? 0.0 : pp.mean, v == 2 ? 0.0 : pp.lo, v == 2 ? 0.0 : pp.hi,
                                v == 2 ? 0 : paired_support(&pp), pp.k);
                }
                x->flips += flipped;
                char item[2048];
                snprintf(item, sizeof item, "%s (%s)", concl, by);
                if (all) list_add(&x->holds, &x->nh, concl);
                else if (flipped) list_add(&x->flipl, &x->nf, item);
                else list_add(&x->weak, &x->nw, item);
                if (md) fprintf(md, " %s |\n", all ? "**yes**" : flipped ? "no: flips" : "no");
                if (f) fprintf(f, " => %s\n", all ? "holds under all" : flipped ? "FLIPS" : "not under all");
            }
        for (int p = 1; p < r->num; p++) free(pc[p]);
        free(c);
    }
}

/* Each cell's break length against every perturbation's. */
static void rob_breaks(RobGroup *x) {
    const RobSpec *r = x->r;
    const AggTable *t = x->t, *b = x->b;
    const int g = x->g, metric = x->metric;
    const int *pg = x->pg;
    const char *mn = x->mn, *title = x->title;
    FILE *f = x->f, *md = x->md, *csv = x->csv;
    /* break conclusions */
    for (int c = g; c < b->ncells; c++) {
        if (b->group[c] != g) continue;
        const AggCell *bc = &b->cells[c];
        if (!bc->brk[metric].defined) continue;
        char name[256], concl[400], br[96];
        compare_cell_name(b, c, name, sizeof name);
        snprintf(concl, sizeof concl, "%s's break:", name);
        brk_range_text(bc, metric, br, sizeof br);
        x->conclusions++;
        int all = 1, flipped = 0;
        char by[512] = "";
        if (md) fprintf(md, "| %s | %s |", concl, br);
        if (f) fprintf(f, "  %-36s baseline %s:", concl, br);
        const int lo = brk_key(bc->brk[metric].min), hi = brk_key(bc->brk[metric].max);
        for (int p = 1; p < r->num; p++) {
            const int pc = pg[p] < 0 ? -1 : find_cell(&t[p], pg[p], name);
            const AggCell *x = pc < 0 ? NULL : &t[p].cells[pc];
            char word[128], xr[96] = "";
            if (!x || !x->brk[metric].defined) {
                snprintf(word, sizeof word, "%s", x ? "undefined" : "absent");
                all = 0;
            } else {
                const int xlo = brk_key(x->brk[metric].min), xhi = brk_key(x->brk[metric].max);
                brk_range_text(x, metric, xr, sizeof xr);
                if (xhi < lo) snprintf(word, sizeof word, "earlier: %s", xr), all = 0, flipped = 1;
                else if (xlo > hi) snprintf(word, sizeof word, "later: %s", xr), all = 0, flipped = 1;
                else snprintf(word, sizeof word, "holds: %s", xr);
            }
            if (strncmp(word, "holds", 5) != 0) {
                char piece[256];
                snprintf(piece, sizeof piece, "%.127s under %.63s", word, r->v[p].name);
                if (strlen(by) + strlen(piece) + 3 < sizeof by) {
                    if (by[0]) strcat(by, ", ");
                    strcat(by, piece);
                }
            }
            if (md) fprintf(md, " %s |", word);
            if (f) fprintf(f, " %s %s;", r->v[p].name, word);
            if (csv)
                fprintf(csv, "\"%s\",%s,\"%s\",break,,\"%s\",,%d,\"%s\",\"%s\",%d,%d,%d,,%d\n", title, mn, concl, name,
                        bc->brk[metric].median, r->v[p].name, word, x ? x->brk[metric].median : -1,
                        x ? x->brk[metric].min : -1, x ? x->brk[metric].max : -1, x ? x->num_runs : 0);
        }
        x->flips += flipped;
        char item[2048];
        snprintf(item, sizeof item, "%s %s (%s)", concl, br, by);
        if (all) {
            snprintf(item, sizeof item, "%s %s", concl, br);
            list_add(&x->holds, &x->nh, item);
        } else if (flipped) list_add(&x->flipl, &x->nf, item);
        else list_add(&x->weak, &x->nw, item);
        if (md) fprintf(md, " %s |\n", all ? "**yes**" : flipped ? "no: moves" : "no");
        if (f) fprintf(f, " => %s\n", all ? "holds under all" : flipped ? "MOVES" : "not under all");
    }
}

/* The rankings of the baseline and of every perturbation at each length (Markdown). */
static void rob_rankings(const RobGroup *x) {
    const RobSpec *r = x->r;
    const AggTable *t = x->t;
    const int metric = x->metric, better = x->better, nn = x->nn;
    const int *ns = x->ns, *pg = x->pg;
    FILE *md = x->md;
    /* the rankings, for reading */
    if (md) {
        fprintf(md, "\nRankings (%s mean first; \"%s\": resolved, \"~\": not resolved):\n\n| recipe |",
                better > 0 ? "highest" : "lowest", better > 0 ? ">" : "<");
        for (int q = 0; q < nn; q++) fprintf(md, " n = %d |", ns[q]);
        fprintf(md, "\n| --- |");
        for (int q = 0; q < nn; q++) fprintf(md, " --- |");
        fprintf(md, "\n");
        for (int p = 0; p < r->num; p++) {
            fprintf(md, "| %s |", r->v[p].name);
            for (int q = 0; q < nn; q++) {
                CompareAt *c = core_calloc(1, sizeof *c);
                char rk[1024] = "absent";
                if (pg[p] >= 0 && compare_at(&t[p], pg[p], metric, ns[q], c) == 0)
                    compare_ranking_text(&t[p], c, rk, sizeof rk);
                fprintf(md, " %s |", rk);
                free(c);
            }
            fprintf(md, "\n");
        }
    }
}

int rob_report(const RobSpec *r, const AggTable *t, FILE *f, FILE *md_out, FILE *csv) {
    const AggTable *b = &t[0];
    int flips = 0, conclusions = 0, groups = 0;
    if (csv)
        fprintf(csv, "group,metric,conclusion,kind,n,a,b,baseline,perturbation,verdict,mean,lo,hi,support,seeds\n");
    /* each group, each metric asked for (a language model's exact match is near 0 everywhere: skipped; with
     * "both", a language model's metrics are perplexity and token_acc) */
    for (int gm = 0; gm < AGG_NMETRICS * b->ncells; gm++) {
        const int g = gm / AGG_NMETRICS, metric = gm % AGG_NMETRICS;
        if (b->group[g] != g) continue;
        const int lm = b->cells[g].lm;
        const unsigned mask = lm && r->both ? (1u << AGG_PPL | 1u << AGG_ACC) : r->metrics & ~(lm ? 1u << AGG_EM : 0u);
        if (!(mask & (1u << metric))) continue;
        const char *mn = agg_metric_name(metric);
        const int better = compare_better(metric);
        groups++;
        char title[512];
        aggregate_group_title(b, g, title, sizeof title);
        int ns[16], nn = 0;
        if (r->num_lengths)
            for (int i = 0; i < r->num_lengths; i++) ns[nn++] = r->lengths[i];
        else {
            nn = compare_default_lengths(b, g, ns, 16);
            if (nn && ns[nn - 1] == COMPARE_BEYOND) nn--; /* the ranking at 1.25x, 1.5x, 2x */
        }
        int pg[ROB_MAX_PERTURBATIONS + 1];
        for (int p = 0; p < r->num; p++) pg[p] = find_group(&t[p], title);
        if (f) fprintf(f, "\n%s (%s): baseline conclusions under %d perturbation(s), one change at a time\n", title,
                       mn, r->num - 1);
        /* the table goes to a buffer: the summary (what holds, what flips) comes first */
        char *tbuf = NULL;
        size_t tlen = 0;
        FILE *md = md_out ? open_memstream(&tbuf, &tlen) : NULL;
        if (md_out && !md) return core_errorf("out of memory");
        if (md) {
            fprintf(md, "\nEach column changes one thing; \"holds\": the same verdict, \"not resolved\": the paired "
                        "interval covers 0, \"FLIPS\": the opposite verdict, \"earlier\"/\"later\": the break range over "
                        "the seeds no longer overlaps the baseline's.\n\n| conclusion | baseline |");
            for (int p = 1; p < r->num; p++) fprintf(md, " %s |", r->v[p].name);
            fprintf(md, " holds under all |\n| --- | --- |");
            for (int p = 1; p < r->num; p++) fprintf(md, " --- |");
            fprintf(md, " --- |\n");
        }
        RobGroup x = {r, t, b, g, metric, better, mn, title, {0}, nn, {0}, f, md, csv, NULL, NULL, NULL,
                      0, 0, 0, 0, 0};
        memcpy(x.ns, ns, sizeof ns);
        memcpy(x.pg, pg, sizeof pg);
        rob_orders(&x);
        rob_breaks(&x);
        rob_rankings(&x);
        if (md) {
            fclose(md);
            fprintf(md_out, "\n**%s**: the baseline's conclusions (%s) under %d change(s) of the recipe.\n\n", title,
                    mn, r->num - 1);
            fprintf(md_out, "- **Hold under every change:** %s.\n", x.holds ? x.holds : "none");
            fprintf(md_out, "- **Flip or move under at least one:** %s.\n", x.flipl ? x.flipl : "none");
            fprintf(md_out, "- **Neither (not resolved, or a break length undefined, under some):** %s.\n",
                    x.weak ? x.weak : "none");
            fwrite(tbuf, 1, tlen, md_out);
        }
        free(tbuf);
        free(x.holds);
        free(x.flipl);
        free(x.weak);
        conclusions += x.conclusions;
        flips += x.flips;
    }
    if (!groups) return core_errorf("%s: the baseline has nothing to compare", r->spec_path);
    if (f) fprintf(f, "\n%d conclusion(s) of the baseline; %d flip or move under some perturbation\n", conclusions,
                   flips);
    return flips;
}

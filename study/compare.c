/*
 * compare.c — rankings, paired differences and their text (compare.h).
 */
#include "study/compare.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dmath.h"

void compare_cell_name(const AggTable *t, int cell, char *buf, size_t cap) {
    aggregate_cell_label(t, cell, buf, cap);
}

/* the group's members (cell indices, grid order) */
static int group_members(const AggTable *t, int g, int *m) {
    int n = 0;
    for (int c = 0; c < t->ncells && n < COMPARE_MAX_CELLS; c++)
        if (t->group[c] == g) m[n++] = c;
    return n;
}

/* the lengths past the training range that every member evaluated */
static int beyond_lengths(const AggTable *t, const int *mem, int nm, int *ns) {
    const AggCell *c0 = &t->cells[mem[0]];
    int k = 0;
    for (int q = 0; q < c0->num_lengths; q++) {
        const int n = c0->lengths[q];
        if (n <= c0->max_len) continue;
        int all = 1;
        for (int i = 1; i < nm && all; i++) {
            const AggCell *c = &t->cells[mem[i]];
            int has = 0;
            for (int r = 0; r < c->num_lengths; r++) has |= c->lengths[r] == n;
            all = has;
        }
        if (all) ns[k++] = n;
    }
    return k;
}

int compare_seed_values(const AggTable *t, int cell, int metric, int n, const int *ns, int nb, uint64_t *seeds,
                        double *v, long *examples) {
    const AggCell *c = &t->cells[cell];
    if (n != COMPARE_BEYOND) {
        int m = 0;
        while (m < c->num_lengths && c->lengths[m] != n) m++;
        if (m == c->num_lengths) return 0;
        *examples = agg_lower_better(metric) ? 0 : c->examples[m];
        return aggregate_values(t, c, n, metric, seeds, v);
    }
    /* beyond: a run counts when it evaluated every one of the lengths */
    int k = 0;
    *examples = 0;
    for (int q = 0; q < nb && !agg_lower_better(metric); q++) {
        for (int m = 0; m < c->num_lengths; m++)
            if (c->lengths[m] == ns[q]) *examples += c->examples[m];
    }
    for (int i = 0; i < c->num_runs && k < FINDINGS_MAX_SEEDS; i++) {
        const AggRun *r = &t->runs[c->runs[i]];
        double sum = 0;
        int got = 0;
        for (int q = 0; q < nb; q++)
            for (int j = 0; j < r->num; j++)
                if (r->n[j] == ns[q]) {
                    sum += aggregate_run_value(r, j, metric);
                    got++;
                    break;
                }
        if (nb > 0 && got == nb) {
            seeds[k] = r->seed;
            v[k++] = sum / nb;
        }
    }
    return k;
}

int compare_at(const AggTable *t, int g, int metric, int n, CompareAt *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    out->metric = metric;
    int mem[COMPARE_MAX_CELLS];
    const int nm = group_members(t, g, mem);
    int ns[AGG_MAX_LENGTHS], nb = 0;
    if (n == COMPARE_BEYOND) {
        nb = beyond_lengths(t, mem, nm, ns);
        if (nb == 0) return -1;
        out->beyond_lo = ns[0], out->beyond_hi = ns[nb - 1], out->beyond_count = nb;
    }
    uint64_t seeds[COMPARE_MAX_CELLS][FINDINGS_MAX_SEEDS];
    double vals[COMPARE_MAX_CELLS][FINDINGS_MAX_SEEDS];
    int k[COMPARE_MAX_CELLS], cells[COMPARE_MAX_CELLS];
    long ex[COMPARE_MAX_CELLS];
    int num = 0;
    for (int i = 0; i < nm; i++) {
        const int got = compare_seed_values(t, mem[i], metric, n, ns, nb, seeds[num], vals[num], &ex[num]);
        if (got == 0) continue;
        k[num] = got;
        cells[num++] = mem[i];
    }
    if (num < 2) return -1;
    /* rank: the mean, best first (highest, or lowest for loss and perplexity); ties keep the grid's order */
    const double dir = agg_lower_better(metric) ? -1.0 : 1.0;
    double mean[COMPARE_MAX_CELLS];
    int order[COMPARE_MAX_CELLS];
    for (int i = 0; i < num; i++) {
        double s = 0;
        for (int r = 0; r < k[i]; r++) s += vals[i][r];
        mean[i] = s / k[i];
        order[i] = i;
    }
    for (int i = 1; i < num; i++)
        for (int j = i; j > 0 && dir * mean[order[j]] > dir * mean[order[j - 1]]; j--) {
            const int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    out->num = num;
    for (int i = 0; i < num; i++) {
        out->cell[i] = cells[order[i]];
        out->mean[i] = mean[order[i]];
        out->seeds[i] = k[order[i]];
    }
    /* pairs over the seeds both have */
    for (int i = 0; i < num; i++)
        for (int j = 0; j < num; j++) {
            if (i == j) continue;
            const int a = order[i], b = order[j];
            double va[FINDINGS_MAX_SEEDS], vb[FINDINGS_MAX_SEEDS];
            int kk = 0;
            for (int r = 0; r < k[a]; r++)
                for (int q = 0; q < k[b]; q++)
                    if (seeds[a][r] == seeds[b][q]) {
                        va[kk] = vals[a][r];
                        vb[kk++] = vals[b][q];
                        break;
                    }
            out->pair[i][j] = paired_of(va, vb, kk, ex[a] < ex[b] ? ex[a] : ex[b]);
        }
    return 0;
}

/* the evaluated length nearest at or above x (0 if none) */
static int length_at_or_above(const AggCell *c, double x) {
    for (int m = 0; m < c->num_lengths; m++)
        if (c->lengths[m] >= x - 1e-9) return c->lengths[m];
    return 0;
}

int compare_default_lengths(const AggTable *t, int g, int *ns, int cap) {
    const AggCell *c0 = &t->cells[g];
    static const double factors[3] = {1.25, 1.5, 2.0};
    int k = 0;
    for (int i = 0; i < 3 && k < cap; i++) {
        const int n = length_at_or_above(c0, factors[i] * c0->max_len);
        if (n <= c0->max_len) continue;
        int seen = 0;
        for (int q = 0; q < k; q++) seen |= ns[q] == n;
        if (!seen) ns[k++] = n;
    }
    if (k < cap) ns[k++] = COMPARE_BEYOND;
    return k;
}

int compare_better(int metric) { return agg_lower_better(metric) ? -1 : 1; }

void compare_ranking_text(const AggTable *t, const CompareAt *c, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    const int better = compare_better(c->metric);
    for (int i = 0; i < c->num && len < cap; i++) {
        char name[256];
        compare_cell_name(t, c->cell[i], name, sizeof name);
        if (i)
            len += snprintf(buf + len, cap - len, " %s ",
                            c->pair[i - 1][i].verdict == better ? (better > 0 ? ">" : "<") : "~");
        if (len < cap) len += snprintf(buf + len, cap - len, "%s", name);
    }
}

void compare_at_text(const AggTable *t, int g, const CompareAt *c, char *buf, size_t cap) {
    const int max_len = t->cells[g].max_len;
    if (c->n == COMPARE_BEYOND)
        snprintf(buf, cap, "beyond (mean over the %d lengths n = %d..%d)", c->beyond_count, c->beyond_lo, c->beyond_hi);
    else
        snprintf(buf, cap, "n = %d (%.3gx)", c->n, (double)c->n / max_len);
}

void compare_unresolved_reason(const Paired *p, char *buf, size_t cap) {
    if (p->verdict)
        snprintf(buf, cap, "%s", "");
    else if (p->k == 0)
        snprintf(buf, cap, "no seed in common");
    else if (p->k == 1)
        snprintf(buf, cap, "one seed: no interval over seeds");
    else if (p->pos == 0 && p->neg == 0)
        snprintf(buf, cap, "equal on every seed");
    else
        snprintf(buf, cap, "the interval includes 0");
}

static void seeds_list(const AggTable *t, int g, char *buf, size_t cap) {
    /* the seeds of the group (the union over its cells) */
    uint64_t s[FINDINGS_MAX_SEEDS];
    int ns = 0;
    for (int c = 0; c < t->ncells; c++) {
        if (t->group[c] != g) continue;
        for (int i = 0; i < t->cells[c].num_runs; i++) {
            const uint64_t x = t->runs[t->cells[c].runs[i]].seed;
            int seen = 0;
            for (int q = 0; q < ns; q++) seen |= s[q] == x;
            if (!seen && ns < FINDINGS_MAX_SEEDS) s[ns++] = x;
        }
    }
    for (int i = 1; i < ns; i++)
        for (int j = i; j > 0 && s[j] < s[j - 1]; j--) {
            const uint64_t tmp = s[j];
            s[j] = s[j - 1];
            s[j - 1] = tmp;
        }
    size_t len = snprintf(buf, cap, "%d seed%s (", ns, ns == 1 ? "" : "s");
    for (int i = 0; i < ns && len < cap; i++)
        len += snprintf(buf + len, cap - len, "%s%llu", i ? ", " : "", (unsigned long long)s[i]);
    if (len < cap) snprintf(buf + len, cap - len, ")");
}

/* "between n = 8 and 10 on every seed", "nowhere up to n = 128 on every seed", "already inside the
 * training range (n = 4) on every seed", "between n = 8 and 10 (median; first past it at n = 10 to beyond
 * n = 32 over the seeds)", "between n = 16 and 32, a coarse grid (...)" */
static void break_summary_text(const AggCell *c, int metric, char *buf, size_t cap) {
    const BreakSummary *s = &c->brk[metric];
    if (!s->defined) {
        snprintf(buf, cap, "undefined (nothing to compare with inside the training range)");
        return;
    }
    const char *seeds = s->defined == 1 ? " (one seed)" : s->min == s->max ? " on every seed" : "";
    if (s->censored == s->defined) {
        snprintf(buf, cap, "nowhere up to n = %d%s", c->n_max, s->defined == 1 ? " (one seed)" : " on every seed");
        return;
    }
    char where[160], spread[160] = "";
    const int coarse = s->median > c->max_len && break_coarse(s->median_last_ok, s->median);
    if (s->median > 0 && s->median <= c->max_len)
        snprintf(where, sizeof where, "already inside the training range (at n = %d)", s->median);
    else if (s->median > 0)
        snprintf(where, sizeof where, "between n = %d and %d", s->median_last_ok, s->median);
    else
        snprintf(where, sizeof where, "nowhere up to n = %d", c->n_max);
    if (!seeds[0]) {
        char lo[32], hi[32];
        if (s->min > 0) snprintf(lo, sizeof lo, "n = %d", s->min);
        else snprintf(lo, sizeof lo, "beyond n = %d", c->n_max);
        if (s->max > 0) snprintf(hi, sizeof hi, "n = %d", s->max);
        else snprintf(hi, sizeof hi, "beyond n = %d", c->n_max);
        snprintf(spread, sizeof spread, " (median; first past it at %s to %s over the seeds)", lo, hi);
    }
    snprintf(buf, cap, "%s%s%s%s", where, seeds, spread, coarse ? " (coarse grid)" : "");
}

/* the rule in a sentence: "token_acc falls below 0.5 x its value inside the training range" */
static void rule_sentence(const AggTable *t, int metric, char *buf, size_t cap) {
    char rule[96];
    aggregate_rule_text(t, metric, rule, sizeof rule);
    snprintf(buf, cap, "%s its value inside the training range", rule);
}

void compare_print(FILE *f, const AggTable *t, int metric, const int *ns_in, int nn_in, int md) {
    const char *mname = agg_metric_name(metric);
    const int lower = agg_lower_better(metric);
    char rule[160];
    rule_sentence(t, metric, rule, sizeof rule);
    for (int g = 0; g < t->ncells; g++) {
        if (t->group[g] != g) continue;
        const AggCell *c0 = &t->cells[g];
        char title[512], seeds[512];
        aggregate_group_title(t, g, title, sizeof title);
        seeds_list(t, g, seeds, sizeof seeds);
        const char *intervals = lower ? "a t interval over the seeds (the evaluation sample's part is not known for "
                                        "loss and perplexity)"
                                      : "a t interval over the seeds widened by the evaluation sample's";
        if (md)
            fprintf(f, "\n**%s**, trained on n = %d..%d; %s; %s. Intervals: 95 %%, %s (docs/SPEC.md §2.1).\n\n",
                    title, c0->min_len, c0->max_len, mname, seeds, intervals);
        else
            fprintf(f, "\n%s: trained on n = %d..%d; %s; %s\n", title, c0->min_len, c0->max_len, mname, seeds);
        /* where it breaks */
        if (md)
            fprintf(f, "Where it breaks (where %s; per seed the last evaluated n within the rule and the first past "
                       "it; coarse grid: the two more than a quarter apart, lengths between them would narrow it):\n\n| | break | per seed | %s inside the training range, per seed |\n"
                       "| --- | ---: | ---: | ---: |\n",
                    rule, lower ? "perplexity" : mname);
        else
            fprintf(f, "where it breaks (%s; last evaluated n within the rule to the first past it; coarse grid: "
                       "the two more than a quarter apart, lengths between them would narrow it):\n", rule);
        for (int c = g; c < t->ncells; c++) {
            if (t->group[c] != g) continue;
            const AggCell *cc = &t->cells[c];
            char name[256], b[512], per[512] = "", ind[512] = "";
            compare_cell_name(t, c, name, sizeof name);
            break_summary_text(cc, metric, b, sizeof b);
            size_t lp = 0, li = 0;
            for (int i = 0; i < cc->num_runs; i++) {
                const AggRun *r = &t->runs[cc->runs[i]];
                char x[48];
                break_text(&r->brk[metric], cc->n_max, x, sizeof x);
                lp += snprintf(per + lp, sizeof per - lp > 0 ? sizeof per - lp : 0, "%s%s", i ? " / " : "", x);
                li += snprintf(ind + li, sizeof ind - li > 0 ? sizeof ind - li : 0, "%s%.3f", i ? " / " : "",
                               r->brk[metric].ref);
                if (lp >= sizeof per || li >= sizeof ind) break;
            }
            if (md)
                fprintf(f, "| %s | %s | %s | %s |\n", name, b, per, ind);
            else
                fprintf(f, "  %-16s %s   (per seed: %s; in range: %s)\n", name, b, per, ind);
        }
        /* rankings and pairs */
        int ns[16], nn = 0;
        if (nn_in > 0)
            for (int i = 0; i < nn_in && nn < 16; i++) ns[nn++] = ns_in[i];
        else
            nn = compare_default_lengths(t, g, ns, 16);
        CompareAt *cmp = core_calloc(16, sizeof *cmp);
        int ok[16];
        for (int q = 0; q < nn; q++) ok[q] = compare_at(t, g, metric, ns[q], &cmp[q]) == 0;
        if (md)
            fprintf(f, "\nRanking (%s mean first; \"%s\": the paired interval of the neighbours lies %s 0, "
                       "\"~\": it covers 0, not resolved with these seeds):\n\n| at | ranking |\n| --- | --- |\n",
                    lower ? "lowest" : "highest", lower ? "<" : ">", lower ? "below" : "above");
        else
            fprintf(f, "ranking (%s first; %s : the neighbours' paired interval excludes 0; ~ : it does not):\n",
                    lower ? "lowest" : "highest", lower ? "<" : ">");
        for (int q = 0; q < nn; q++) {
            char at[128], rk[1024];
            if (!ok[q]) {
                if (ns[q] == COMPARE_BEYOND) snprintf(at, sizeof at, "beyond");
                else snprintf(at, sizeof at, "n = %d", ns[q]);
                fprintf(f, md ? "| %s | not evaluated for two cells or more |\n" : "  %-40s not evaluated for two "
                                "cells or more\n", at);
                continue;
            }
            compare_at_text(t, g, &cmp[q], at, sizeof at);
            compare_ranking_text(t, &cmp[q], rk, sizeof rk);
            fprintf(f, md ? "| %s | %s |\n" : "  %-40s %s\n", at, rk);
        }
        if (md)
            fprintf(f, "\n<details><summary>Paired differences in %s (A - B over the seeds both have: same seed, same "
                       "evaluation examples)</summary>\n\n| at | A - B | mean [95 %% interval] | sign holds in | verdict "
                       "|\n| --- | --- | ---: | ---: | --- |\n",
                    mname);
        else
            fprintf(f, "paired differences (A - B: same seeds, same examples; mean [95%% interval], seeds where the "
                       "sign holds):\n");
        for (int q = 0; q < nn; q++) {
            if (!ok[q]) continue;
            const CompareAt *c = &cmp[q];
            char at[128];
            compare_at_text(t, g, c, at, sizeof at);
            for (int i = 0; i < c->num; i++)
                for (int j = i + 1; j < c->num; j++) {
                    const Paired *p = &c->pair[i][j];
                    char a[256], b[256], verdict[600], why[96];
                    compare_cell_name(t, c->cell[i], a, sizeof a);
                    compare_cell_name(t, c->cell[j], b, sizeof b);
                    compare_unresolved_reason(p, why, sizeof why);
                    if (p->verdict > 0) snprintf(verdict, sizeof verdict, "%s > %s", a, b);
                    else if (p->verdict < 0) snprintf(verdict, sizeof verdict, "%s < %s", a, b);
                    else snprintf(verdict, sizeof verdict, "not resolved (%s)", why);
                    const int support = paired_support(p);
                    if (md)
                        fprintf(f, "| %s | %s - %s | %+.3f [%+.3f, %+.3f] | %d of %d seeds | %s |\n", at, a, b,
                                p->mean, p->lo, p->hi, support, p->k, verdict);
                    else
                        fprintf(f, "  %-28s %-12s - %-12s %+.3f [%+.3f, %+.3f]  %d/%d seeds  %s\n",
                                c->n == COMPARE_BEYOND ? "beyond" : at, a, b, p->mean, p->lo, p->hi, support, p->k,
                                verdict);
                }
        }
        if (md) fprintf(f, "\n</details>\n");
        free(cmp);
    }
}

void compare_headline(FILE *f, const AggTable *t, int g, int metric) {
    const AggCell *c0 = &t->cells[g];
    const char *mname = metric == AGG_PPL ? "perplexity" : agg_metric_name(metric);
    char title[512], seeds[512], rule[160];
    aggregate_group_title(t, g, title, sizeof title);
    seeds_list(t, g, seeds, sizeof seeds);
    rule_sentence(t, metric, rule, sizeof rule);
    fprintf(f, "Trained on %s at n = %d..%d and evaluated up to n = %d, %s: ", title, c0->min_len, c0->max_len,
            c0->n_max, seeds);
    /* where it breaks: cells with the same summary in one clause */
    int done[COMPARE_MAX_CELLS * 8] = {0}, clauses = 0, any_coarse = 0;
    fprintf(f, "%s ", rule);
    for (int c = g; c < t->ncells && c < COMPARE_MAX_CELLS * 8; c++) {
        if (t->group[c] != g || done[c]) continue;
        char b[512], names[1024] = "";
        break_summary_text(&t->cells[c], metric, b, sizeof b);
        int count = 0;
        for (int d = c; d < t->ncells && d < COMPARE_MAX_CELLS * 8; d++) {
            if (t->group[d] != g || done[d]) continue;
            char b2[512];
            break_summary_text(&t->cells[d], metric, b2, sizeof b2);
            if (strcmp(b, b2) != 0) continue;
            done[d] = 1;
            char name[256];
            compare_cell_name(t, d, name, sizeof name);
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", count++ ? ", " : "", name);
        }
        fprintf(f, "%s%s for %s", clauses++ ? "; " : "", b, names);
        any_coarse |= strstr(b, "(coarse grid)") != NULL;
    }
    fprintf(f, ".");
    if (any_coarse) fprintf(f, " (A coarse grid: the two lengths are more than a quarter apart; lengths between them would narrow the break.)");
    int ns[8];
    const int nn = compare_default_lengths(t, g, ns, 8);
    const int better = compare_better(metric);
    for (int q = 0; q < nn; q++) {
        CompareAt c;
        if (compare_at(t, g, metric, ns[q], &c) != 0) continue;
        char at[128], rk[1024], a[256], b[256];
        compare_at_text(t, g, &c, at, sizeof at);
        compare_ranking_text(t, &c, rk, sizeof rk);
        compare_cell_name(t, c.cell[0], a, sizeof a);
        compare_cell_name(t, c.cell[1], b, sizeof b);
        /* every encoding the same on every seed (all at 0 past where they broke, say): one clause */
        int all_equal = 1;
        for (int i = 0; i < c.num && all_equal; i++)
            for (int j = i + 1; j < c.num && all_equal; j++) all_equal = c.pair[i][j].zero == c.pair[i][j].k;
        if (all_equal) {
            if (c.n == COMPARE_BEYOND)
                fprintf(f, " Beyond the training range the mean %s is %.3f for all of them on every seed.", mname,
                        c.mean[0]);
            else
                fprintf(f, " At %s %s is %.3f for all of them on every seed.", at, mname, c.mean[0]);
            continue;
        }
        const Paired *p = &c.pair[0][1];
        char support[400], why[96];
        if (p->pos == 0 && p->neg == 0)
            snprintf(support, sizeof support, "equal on all %d seeds", p->k);
        else
            snprintf(support, sizeof support, "%s ahead in %d of %d seeds", a, better > 0 ? p->pos : p->neg, p->k);
        compare_unresolved_reason(p, why, sizeof why);
        if (c.n == COMPARE_BEYOND)
            fprintf(f, " Beyond the training range (per seed, the mean over the %d evaluated lengths n = %d..%d)",
                    c.beyond_count, c.beyond_lo, c.beyond_hi);
        else
            fprintf(f, " At %s", at);
        if (metric == AGG_PPL)
            fprintf(f, " perplexity is %.3f for %s and %.3f for %s; the ranking is %s (%s - %s %+.3f [%+.3f, %+.3f], "
                       "%s%s%s).",
                    c.mean[0], a, c.mean[1], b, rk, a, b, p->mean, p->lo, p->hi, support,
                    p->verdict ? "" : "; not resolved: ", why);
        else
            fprintf(f, " the ranking is %s (%s - %s %+.3f [%+.3f, %+.3f], %s%s%s).", rk, a, b, p->mean, p->lo, p->hi,
                    support, p->verdict ? "" : "; not resolved: ", why);
    }
    fprintf(f, "\n");
}

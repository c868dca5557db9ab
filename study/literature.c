/*
 * literature.c — published numbers beside posenc's (literature.h).
 */
#include "study/literature.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "study/compare.h"

/* ---- reading ------------------------------------------------------------- */

static const cJSON *member(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

/* a required string member of o at path `at`, copied into buf */
static int get_string(const char *file, const cJSON *o, const char *at, const char *name, char *buf, size_t cap,
                      int required) {
    const cJSON *v = member(o, name);
    if (!v && !required) {
        buf[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return core_errorf("%s: %s%s: expected a non-empty string", file, at, name);
    if (strlen(v->valuestring) >= cap)
        return core_errorf("%s: %s%s: longer than %zu characters", file, at, name, cap - 1);
    snprintf(buf, cap, "%s", v->valuestring);
    return 0;
}

/* [lo, hi], two whole numbers 1 <= lo <= hi */
static int get_range(const char *file, const cJSON *o, const char *name, int *lo, int *hi) {
    const cJSON *v = member(o, name);
    const cJSON *a = cJSON_GetArrayItem(v, 0), *b = cJSON_GetArrayItem(v, 1);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
        a->valuedouble != floor(a->valuedouble) || b->valuedouble != floor(b->valuedouble) || a->valuedouble < 1 ||
        b->valuedouble < a->valuedouble || b->valuedouble > 1e6)
        return core_errorf("%s: protocol.%s: expected [lo, hi], whole numbers with 1 <= lo <= hi", file, name);
    *lo = (int)a->valuedouble;
    *hi = (int)b->valuedouble;
    return 0;
}

/* a value in [0, 1] */
static int get_unit(const char *file, const cJSON *o, const char *at, const char *name, double *out, int required) {
    const cJSON *v = member(o, name);
    if (!v && !required) {
        *out = -1;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
        return core_errorf("%s: %s%s: expected a number in [0, 1]", file, at, name);
    *out = v->valuedouble;
    return 0;
}

/* a value of a config key as text: a string as it is, a number as %.17g */
static int value_text(const cJSON *v, char *buf, size_t cap) {
    if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < cap) {
        snprintf(buf, cap, "%s", v->valuestring);
        return 0;
    }
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        snprintf(buf, cap, "%.17g", v->valuedouble);
        return 0;
    }
    if (cJSON_IsBool(v)) {
        snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
        return 0;
    }
    return -1;
}

/* tasks or encodings: an object of name -> {"posenc": {key: value, ...}, ...} */
static int get_names(const char *file, const cJSON *root, const char *what, LitName *names, int *count) {
    const cJSON *o = member(root, what);
    if (!cJSON_IsObject(o) || !o->child)
        return core_errorf("%s: %s: expected an object of names (at least one)", file, what);
    *count = 0;
    for (const cJSON *it = o->child; it; it = it->next) {
        if (*count == LIT_MAX_NAMES) return core_errorf("%s: %s: more than %d names", file, what, LIT_MAX_NAMES);
        LitName *n = &names[(*count)++];
        memset(n, 0, sizeof *n);
        int ok = it->string[0] && strlen(it->string) < sizeof n->name;
        for (const char *p = it->string; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_.+-", *p);
        if (!ok)
            return core_errorf("%s: %s: a name must have 1 to %zu characters of [A-Za-z0-9_.+-]", file, what,
                               sizeof n->name - 1);
        for (int q = 0; q < *count - 1; q++)
            if (strcmp(names[q].name, it->string) == 0)
                return core_errorf("%s: %s.%s: named twice", file, what, it->string);
        snprintf(n->name, sizeof n->name, "%s", it->string);
        if (!cJSON_IsObject(it)) return core_errorf("%s: %s.%s: expected an object", file, what, it->string);
        const cJSON *pc = member(it, "posenc");
        if (!pc || cJSON_IsNull(pc)) continue; /* posenc has no run of it */
        if (!cJSON_IsObject(pc) || !pc->child)
            return core_errorf("%s: %s.%s.posenc: expected an object of run-config keys and values", file, what,
                               it->string);
        for (const cJSON *kv = pc->child; kv; kv = kv->next) {
            if (n->nkeys == LIT_MAX_KEYS)
                return core_errorf("%s: %s.%s.posenc: more than %d keys", file, what, it->string, LIT_MAX_KEYS);
            if (!strchr(kv->string, '.') || strlen(kv->string) >= sizeof n->key[0])
                return core_errorf("%s: %s.%s.posenc: \"%s\" is not a run-config key (section.name)", file, what,
                                   it->string, kv->string);
            snprintf(n->key[n->nkeys], sizeof n->key[0], "%s", kv->string);
            if (value_text(kv, n->value[n->nkeys], sizeof n->value[0]) != 0)
                return core_errorf("%s: %s.%s.posenc.%s: expected a string, number or boolean", file, what,
                                   it->string, kv->string);
            n->nkeys++;
        }
    }
    return 0;
}

static int find_name(const LitName *names, int count, const char *name) {
    for (int i = 0; i < count; i++)
        if (strcmp(names[i].name, name) == 0) return i;
    return -1;
}

static int parse(Literature *lit, const cJSON *root) {
    const char *file = lit->path;
    if (!cJSON_IsObject(root)) return core_errorf("%s: expected a JSON object", file);
    const cJSON *fmt = member(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "posenc-literature-1") != 0)
        return core_errorf("%s: format: expected \"posenc-literature-1\" (experiments/literature/README.md)", file);
    if (get_string(file, root, "", "id", lit->id, sizeof lit->id, 1) ||
        get_string(file, root, "", "title", lit->title, sizeof lit->title, 1) ||
        get_string(file, root, "", "authors", lit->authors, sizeof lit->authors, 1) ||
        get_string(file, root, "", "arxiv", lit->arxiv, sizeof lit->arxiv, 0))
        return -1;
    const cJSON *src = member(root, "source");
    if (!cJSON_IsObject(src)) return core_errorf("%s: source: expected an object (where the numbers were read)", file);
    char repo[200], commit[64], path[200], page[400];
    if (get_string(file, src, "source.", "repository", repo, sizeof repo, 0) ||
        get_string(file, src, "source.", "commit", commit, sizeof commit, 0) ||
        get_string(file, src, "source.", "path", path, sizeof path, 0) ||
        get_string(file, src, "source.", "page", page, sizeof page, 0))
        return -1;
    if (repo[0] && (!commit[0] || !path[0]))
        return core_errorf("%s: source: a repository needs its commit and path", file);
    if (!repo[0] && !page[0]) return core_errorf("%s: source: expected a repository (with commit and path) or a page", file);
    if (repo[0]) snprintf(lit->source, sizeof lit->source, "%s, %s at %.12s", repo, path, commit);
    else snprintf(lit->source, sizeof lit->source, "%s", page);

    const cJSON *st = member(root, "statements");
    if (st && !cJSON_IsArray(st)) return core_errorf("%s: statements: expected an array", file);
    int si = 0;
    for (const cJSON *it = st ? st->child : NULL; it; it = it->next, si++) {
        if (lit->nstatements == LIT_MAX_STATEMENTS)
            return core_errorf("%s: statements: more than %d", file, LIT_MAX_STATEMENTS);
        char at[48];
        snprintf(at, sizeof at, "statements[%d].", si);
        if (!cJSON_IsObject(it)) return core_errorf("%s: statements[%d]: expected an object", file, si);
        if (get_string(file, it, at, "text", lit->statements[lit->nstatements], sizeof lit->statements[0], 1))
            return -1;
        lit->nstatements++;
    }

    const cJSON *cells = member(root, "cells");
    if (!cJSON_IsArray(cells)) return core_errorf("%s: cells: expected an array (empty when there are none)", file);
    if (!cells->child) return 0; /* statements only */

    const cJSON *proto = member(root, "protocol");
    if (!cJSON_IsObject(proto)) return core_errorf("%s: protocol: expected an object (the file has cells)", file);
    const cJSON *metric = member(proto, "metric");
    if (!cJSON_IsString(metric) ||
        (strcmp(metric->valuestring, "exact_match") != 0 && strcmp(metric->valuestring, "token_acc") != 0))
        return core_errorf("%s: protocol.metric: expected \"exact_match\" or \"token_acc\"", file);
    snprintf(lit->metric, sizeof lit->metric, "%s", metric->valuestring);
    if (get_range(file, proto, "train_lengths", &lit->train_lo, &lit->train_hi) ||
        get_range(file, proto, "test_lengths", &lit->test_lo, &lit->test_hi))
        return -1;
    if (lit->test_lo <= lit->train_hi)
        return core_errorf("%s: protocol.test_lengths: must start past train_lengths (%d)", file, lit->train_hi);
    if (get_names(file, root, "tasks", lit->tasks, &lit->ntasks) ||
        get_names(file, root, "encodings", lit->encodings, &lit->nencodings))
        return -1;

    int ci = 0;
    for (const cJSON *it = cells->child; it; it = it->next, ci++) {
        if (lit->ncells == LIT_MAX_CELLS) return core_errorf("%s: cells: more than %d", file, LIT_MAX_CELLS);
        LitCell *c = &lit->cells[lit->ncells];
        memset(c, 0, sizeof *c);
        if (!cJSON_IsObject(it)) return core_errorf("%s: cells[%d]: expected an object", file, ci);
        const cJSON *tk = member(it, "task"), *en = member(it, "encoding");
        if (!cJSON_IsString(tk) || (c->task = find_name(lit->tasks, lit->ntasks, tk->valuestring)) < 0)
            return core_errorf("%s: cells[%d].task: expected a name of \"tasks\"", file, ci);
        if (!cJSON_IsString(en) || (c->encoding = find_name(lit->encodings, lit->nencodings, en->valuestring)) < 0)
            return core_errorf("%s: cells[%d].encoding: expected a name of \"encodings\"", file, ci);
        for (int q = 0; q < lit->ncells; q++)
            if (lit->cells[q].task == c->task && lit->cells[q].encoding == c->encoding)
                return core_errorf("%s: cells[%d]: task %s, encoding %s given twice", file, ci, tk->valuestring,
                                   en->valuestring);
        const cJSON *seeds = member(it, "seeds");
        if (!cJSON_IsArray(seeds) || !seeds->child)
            return core_errorf("%s: cells[%d].seeds: expected a non-empty array", file, ci);
        int k = 0;
        for (const cJSON *s = seeds->child; s; s = s->next, k++) {
            char at[64];
            snprintf(at, sizeof at, "cells[%d].seeds[%d].", ci, k);
            if (k == LIT_MAX_SEEDS) return core_errorf("%s: cells[%d].seeds: more than %d", file, ci, LIT_MAX_SEEDS);
            if (!cJSON_IsObject(s)) return core_errorf("%s: cells[%d].seeds[%d]: expected an object", file, ci, k);
            const cJSON *sd = member(s, "seed");
            if (!cJSON_IsNumber(sd) || !(sd->valuedouble >= 0 && sd->valuedouble < 9007199254740992.0) ||
                sd->valuedouble != floor(sd->valuedouble))
                return core_errorf("%s: %sseed: expected a whole number >= 0", file, at);
            c->seed[k] = (uint64_t)sd->valuedouble;
            for (int q = 0; q < k; q++)
                if (c->seed[q] == c->seed[k]) return core_errorf("%s: %sseed: given twice in the cell", file, at);
            if (get_unit(file, s, at, "beyond", &c->beyond[k], 1) ||
                get_unit(file, s, at, "in_range", &c->in_range[k], 0))
                return -1;
            const cJSON *ex = member(s, "test_examples");
            if (ex) {
                if (!cJSON_IsNumber(ex) || !(ex->valuedouble >= 1 && ex->valuedouble < 1e12) ||
                    ex->valuedouble != floor(ex->valuedouble))
                    return core_errorf("%s: %stest_examples: expected a whole number >= 1", file, at);
                if (c->examples == 0 || (long)ex->valuedouble < c->examples) c->examples = (long)ex->valuedouble;
            }
            const cJSON *bl = member(s, "by_length");
            if (bl) {
                const int want = lit->test_hi - lit->test_lo + 1;
                if (!cJSON_IsArray(bl) || cJSON_GetArraySize(bl) != want)
                    return core_errorf("%s: %sby_length: expected %d values (protocol.test_lengths %d..%d)", file, at,
                                       want, lit->test_lo, lit->test_hi);
                int q = 0;
                for (const cJSON *v = bl->child; v; v = v->next, q++)
                    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
                        return core_errorf("%s: %sby_length[%d]: expected a number in [0, 1]", file, at, q);
            }
        }
        c->k = k;
        lit->ncells++;
    }
    return 0;
}

int literature_load(Literature *lit, const char *path) {
    memset(lit, 0, sizeof *lit);
    snprintf(lit->path, sizeof lit->path, "%s", path);
    size_t len = 0;
    char *text = file_read_capped(path, (size_t)16 << 20, &len);
    if (!text) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    int rc;
    if (!root) {
        long line = 1;
        for (const char *p = text; end && p < end; p++) line += *p == '\n';
        rc = core_errorf("%s: not valid JSON (near line %ld)", path, line);
    } else {
        rc = parse(lit, root) == 0 ? 0 : -1;
    }
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* ---- statistics ---------------------------------------------------------- */

double kendall_tau_b(const double *x, const double *y, int n) {
    if (n < 2) return NAN;
    long conc = 0, disc = 0, tx = 0, ty = 0, pairs = (long)n * (n - 1) / 2;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const double dx = x[j] - x[i], dy = y[j] - y[i];
            if (dx == 0) tx++;
            if (dy == 0) ty++;
            if (dx == 0 || dy == 0) continue;
            if ((dx > 0) == (dy > 0)) conc++;
            else disc++;
        }
    const double den = sqrt((double)(pairs - tx) * (double)(pairs - ty));
    if (den == 0) return NAN;
    return (double)(conc - disc) / den;
}

LitVerdict literature_verdict(int claim, const Paired *p, const char **why) {
    *why = NULL;
    if (!p || p->k == 0) return LIT_NOT_RUN;
    if (p->verdict == claim) return LIT_REPRODUCED;
    if (p->verdict == -claim) return LIT_CONTRADICTED;
    *why = p->k < 2 ? "one seed" : "interval includes 0";
    return LIT_UNRESOLVED;
}

/* mean and t interval over k values (the interval needs k >= 2; else NAN bounds) */
static void mean_t(const double *v, int k, double *mean, double *lo, double *hi) {
    *mean = *lo = *hi = NAN;
    if (k < 1) return;
    double s = 0;
    for (int i = 0; i < k; i++) s += v[i];
    *mean = s / k;
    if (k < 2) return;
    double ss = 0;
    for (int i = 0; i < k; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    const double hw = t975(k - 1) * sqrt(ss / (k - 1)) / sqrt((double)k);
    *lo = fmax(-1, *mean - hw);
    *hi = fmin(1, *mean + hw);
}

/* ---- matching ------------------------------------------------------------ */

/* two values as text: equal as numbers when both are, else as strings */
static int same_value(const char *a, const char *b) {
    char *ea, *eb;
    const double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea != a && eb != b && *ea == '\0' && *eb == '\0') return x == y;
    return strcmp(a, b) == 0;
}

/* Whether cell c of t has every key = value of n. 1 yes, 0 no, -1 a key t
 * cannot tell (neither a grid key nor task.name / task.alphabet). */
static int cell_matches(const AggTable *t, const AggCell *c, const LitName *n, const char **unknown) {
    for (int q = 0; q < n->nkeys; q++) {
        const char *key = n->key[q];
        char have[64] = "";
        int found = 0;
        for (int k = 0; k < t->nkeys && !found; k++)
            if (strcmp(t->keys[k], key) == 0) {
                snprintf(have, sizeof have, "%s", c->values[k]);
                found = 1;
            }
        if (!found && strcmp(key, "task.name") == 0) snprintf(have, sizeof have, "%s", c->task), found = 1;
        if (!found && strcmp(key, "task.alphabet") == 0) snprintf(have, sizeof have, "%d", c->alphabet), found = 1;
        if (!found) {
            *unknown = key;
            return -1;
        }
        if (!same_value(have, n->value[q])) return 0;
    }
    return 1;
}

/* the paper's cell of (task, encoding), or -1 */
static int lit_cell(const Literature *lit, int task, int enc) {
    for (int i = 0; i < lit->ncells; i++)
        if (lit->cells[i].task == task && lit->cells[i].encoding == enc) return i;
    return -1;
}

/* the paper's per-seed values of two cells paired by seed */
static int paper_pairs(const LitCell *a, const LitCell *b, double *va, double *vb) {
    int k = 0;
    for (int i = 0; i < a->k; i++)
        for (int j = 0; j < b->k; j++)
            if (a->seed[i] == b->seed[j]) {
                va[k] = a->beyond[i];
                vb[k++] = b->beyond[j];
            }
    return k;
}

/* posenc's per-seed values of two rows paired by seed */
static int posenc_pairs(const LitRow *a, const LitRow *b, double *va, double *vb) {
    int k = 0;
    for (int i = 0; i < a->k; i++)
        for (int j = 0; j < b->k; j++)
            if (a->seeds[i] == b->seeds[j]) {
                va[k] = a->v[i];
                vb[k++] = b->v[j];
            }
    return k;
}

/* posenc's lengths inside the paper's test range, past posenc's training range: those every
 * default-variant cell evaluated, into ns (r: the training range and the lengths' extent); their number, or -1
 * after core_errorf. */
static int beyond_lengths(const Literature *lit, const AggTable *t, LitReport *r, int *ns) {
    int nb = 0;
    int any_cell = -1;
    for (int c = 0; c < t->ncells; c++)
        if (strcmp(t->cells[c].variant, "default") == 0) {
            any_cell = c;
            break;
        }
    if (any_cell < 0) return core_errorf("%s: no cell of the sweep was evaluated at plain positions", lit->path);
    const AggCell *c0 = &t->cells[any_cell];
    r->train_lo = c0->min_len;
    r->train_hi = c0->max_len;
    for (int q = 0; q < c0->num_lengths; q++) {
        const int n = c0->lengths[q];
        if (n < lit->test_lo || n > lit->test_hi) continue;
        int all = 1;
        for (int c = 0; c < t->ncells && all; c++) {
            const AggCell *cc = &t->cells[c];
            if (strcmp(cc->variant, "default") != 0) continue;
            int has = 0;
            for (int m = 0; m < cc->num_lengths; m++) has |= cc->lengths[m] == n;
            all = has && n > cc->max_len;
        }
        if (all) ns[nb++] = n;
    }
    if (nb == 0)
        return core_errorf("%s: the sweep evaluated no length in the paper's test range %d..%d past its training "
                           "range (eval.lengths)",
                           lit->path, lit->test_lo, lit->test_hi);
    r->beyond_lo = ns[0];
    r->beyond_hi = ns[nb - 1];
    r->beyond_count = nb;
    return nb;
}

/* Task ti's rows: the paper's encodings (their published means) with the
 * cell of the sweep each matches, then posenc's other cells of the task. 0,
 * or -1 after core_errorf (an encoding that matches two cells). */
static int match_rows(const Literature *lit, const AggTable *t, int ti, LitTask *tk) {
    const LitName *task = &lit->tasks[ti];
    /* posenc's cells of the task (plain evaluation positions) */
    int cells[COMPARE_MAX_CELLS], nc = 0;
    if (task->nkeys > 0)
        for (int c = 0; c < t->ncells && nc < COMPARE_MAX_CELLS; c++) {
            const char *unknown = NULL;
            if (strcmp(t->cells[c].variant, "default") != 0) continue;
            if (cell_matches(t, &t->cells[c], task, &unknown) == 1) cells[nc++] = c;
        }
    tk->run = nc > 0;
    if (nc > 0) snprintf(tk->posenc_task, sizeof tk->posenc_task, "%s", t->cells[cells[0]].task);
    int used[COMPARE_MAX_CELLS] = {0};
    for (int e = 0; e < lit->nencodings; e++) {
        const int lc = lit_cell(lit, ti, e);
        if (lc < 0) continue;
        LitRow *row = &tk->rows[tk->nrows++];
        memset(row, 0, sizeof *row);
        row->enc = e;
        row->lit_cell = lc;
        row->cell = -1;
        row->in_range = -1;
        snprintf(row->name, sizeof row->name, "%s", lit->encodings[e].name);
        const LitCell *pc = &lit->cells[lc];
        double s = 0, sr = 0;
        int kr = 0;
        for (int q = 0; q < pc->k; q++) {
            s += pc->beyond[q];
            if (pc->in_range[q] >= 0) sr += pc->in_range[q], kr++;
        }
        row->paper_mean = s / pc->k;
        row->paper_in_range = kr ? sr / kr : -1;
        if (lit->encodings[e].nkeys == 0) continue;
        for (int i = 0; i < nc; i++) {
            const char *unknown = NULL;
            const int m = cell_matches(t, &t->cells[cells[i]], &lit->encodings[e], &unknown);
            if (m != 1) continue;
            if (row->cell >= 0) {
                char a[128], b[128];
                aggregate_cell_label(t, row->cell, a, sizeof a);
                aggregate_cell_label(t, cells[i], b, sizeof b);
                return core_errorf("%s: task %s, encoding %s matches two cells of the sweep (%s and %s): give "
                                   "encodings.%s.posenc the keys that tell them apart",
                                   lit->path, task->name, row->name, a, b, row->name);
            }
            row->cell = cells[i];
            used[i] = 1;
        }
    }
    /* posenc's other cells of the task: encodings the paper did not run */
    for (int i = 0; i < nc && tk->nrows < 2 * LIT_MAX_NAMES; i++) {
        if (used[i]) continue;
        LitRow *row = &tk->rows[tk->nrows++];
        memset(row, 0, sizeof *row);
        row->enc = row->lit_cell = -1;
        row->cell = cells[i];
        row->paper_mean = row->paper_in_range = -1;
        aggregate_cell_label(t, cells[i], row->name, sizeof row->name);
    }
    return 0;
}

/* posenc's values of a task's rows: per seed past the training range, their
 * interval, the mean inside the training range; *matched_any set when a row has one. */
static void posenc_values(const AggTable *t, LitTask *tk, LitReport *r, int metric, const int *ns, int nb,
                          int *matched_any_out) {
    for (int i = 0; i < tk->nrows; i++) {
        LitRow *row = &tk->rows[i];
        if (row->cell < 0) continue;
        long ex = 0;
        row->k = compare_seed_values(t, row->cell, metric, COMPARE_BEYOND, ns, nb, row->seeds, row->v, &ex);
        if (row->k == 0) {
            row->cell = -1;
            continue;
        }
        *matched_any_out = 1;
        if (r->examples == 0 || ex < r->examples) r->examples = ex;
        row->iv = interval_of(row->v, row->k, ex);
        const AggCell *cc = &t->cells[row->cell];
        double s = 0;
        int k = 0;
        for (int q = 0; q < cc->num_runs; q++) { /* each seed's mean over its lengths in the training range */
            const AggRun *run = &t->runs[cc->runs[q]];
            double rs = 0;
            int rk = 0;
            for (int j = 0; j < run->num; j++)
                if (run->n[j] >= cc->min_len && run->n[j] <= cc->max_len) rs += aggregate_run_value(run, j, metric), rk++;
            if (rk) s += rs / rk, k++;
        }
        row->in_range = k ? s / k : -1;
    }
}

/* whether posenc's model fits the task in range for this row: its in-range mean is at least fit */
static int fits(const LitRow *row, double fit) { return row->cell >= 0 && (fit <= 0 || row->in_range >= fit); }

/* claims: the pairs the paper's seeds resolve, each with posenc's verdict (counted in r) */
static void task_claims(const Literature *lit, LitTask *tk, LitReport *r) {
    for (int i = 0; i < tk->nrows; i++)
        for (int j = i + 1; j < tk->nrows; j++) {
            const LitRow *a = &tk->rows[i], *b = &tk->rows[j];
            if (a->lit_cell < 0 || b->lit_cell < 0) continue;
            const LitCell *la = &lit->cells[a->lit_cell], *lb = &lit->cells[b->lit_cell];
            double va[LIT_MAX_SEEDS], vb[LIT_MAX_SEEDS];
            const int k = paper_pairs(la, lb, va, vb);
            if (k == 0) continue;
            long ex = la->examples && lb->examples ? (la->examples < lb->examples ? la->examples : lb->examples)
                                                   : 0;
            Paired pp = paired_of(va, vb, k, ex > 0 ? ex : 1000000000L);
            if (pp.verdict == 0) continue;
            LitClaim *cl = &tk->claims[tk->nclaims++];
            memset(cl, 0, sizeof *cl);
            cl->a = i;
            cl->b = j;
            cl->sign = pp.verdict;
            cl->paper = pp;
            if (a->cell >= 0 && b->cell >= 0) {
                double pa[FINDINGS_MAX_SEEDS], pb[FINDINGS_MAX_SEEDS];
                const int kk = posenc_pairs(a, b, pa, pb);
                if (kk > 0) {
                    cl->posenc = paired_of(pa, pb, kk, r->examples);
                    cl->verdict = literature_verdict(cl->sign, &cl->posenc, &cl->why);
                    if (!fits(a, r->fit) || !fits(b, r->fit)) cl->verdict = LIT_UNFIT, cl->why = NULL;
                } else {
                    cl->verdict = LIT_NOT_RUN;
                }
            } else {
                cl->verdict = LIT_NOT_RUN;
            }
            r->count[cl->verdict]++;
        }
}

/* rank agreement: the paper's means against each posenc seed's values (Kendall's tau-b) */
static void task_rank_agreement(LitTask *tk, double fit) {
    int rk[LIT_MAX_NAMES], nr = 0;
    for (int i = 0; i < tk->nrows; i++)
        if (tk->rows[i].lit_cell >= 0 && fits(&tk->rows[i], fit)) rk[nr++] = i;
    tk->ranked = nr;
    if (nr >= 2) {
        const LitRow *first = &tk->rows[rk[0]];
        for (int q = 0; q < first->k; q++) {
            const uint64_t seed = first->seeds[q];
            double x[LIT_MAX_NAMES], y[LIT_MAX_NAMES];
            int all = 1;
            for (int i = 0; i < nr && all; i++) {
                const LitRow *row = &tk->rows[rk[i]];
                x[i] = row->paper_mean;
                all = 0;
                for (int s = 0; s < row->k; s++)
                    if (row->seeds[s] == seed) y[i] = row->v[s], all = 1;
            }
            if (!all) continue;
            const double tau = kendall_tau_b(x, y, nr);
            if (isnan(tau)) continue;
            tk->tau_seed[tk->tau_k] = seed;
            tk->tau[tk->tau_k++] = tau;
        }
        mean_t(tk->tau, tk->tau_k, &tk->tau_mean, &tk->tau_lo, &tk->tau_hi);
    }
}

/* over tasks, per posenc seed: the mean of its taus; their mean and interval */
static void overall_tau(LitReport *r) {
    uint64_t seeds[FINDINGS_MAX_SEEDS];
    int ns_ = 0;
    for (int i = 0; i < r->ntasks; i++)
        for (int q = 0; q < r->tasks[i].tau_k; q++) {
            int seen = 0;
            for (int s = 0; s < ns_; s++) seen |= seeds[s] == r->tasks[i].tau_seed[q];
            if (!seen && ns_ < FINDINGS_MAX_SEEDS) seeds[ns_++] = r->tasks[i].tau_seed[q];
        }
    for (int s = 0; s < ns_; s++) {
        double sum = 0;
        int k = 0;
        for (int i = 0; i < r->ntasks; i++)
            for (int q = 0; q < r->tasks[i].tau_k; q++)
                if (r->tasks[i].tau_seed[q] == seeds[s]) sum += r->tasks[i].tau[q], k++;
        r->tau[r->tau_k++] = sum / k;
    }
    mean_t(r->tau, r->tau_k, &r->tau_mean, &r->tau_lo, &r->tau_hi);
}

int literature_compare(const Literature *lit, const AggTable *t, double fit, LitReport *r) {
    memset(r, 0, sizeof *r);
    r->fit = fit;
    r->tau_mean = r->tau_lo = r->tau_hi = NAN;
    const int metric = strcmp(lit->metric, "token_acc") == 0 ? AGG_ACC : AGG_EM;
    /* posenc's lengths inside the paper's test range, past posenc's training range */
    int ns[AGG_MAX_LENGTHS];
    const int nb = beyond_lengths(lit, t, r, ns);
    if (nb < 0) return -1;

    int matched_any = 0;
    for (int ti = 0; ti < lit->ntasks; ti++) {
        LitTask *tk = &r->tasks[r->ntasks];
        memset(tk, 0, sizeof *tk);
        tk->task = ti;
        tk->tau_mean = tk->tau_lo = tk->tau_hi = NAN;
        /* the paper's encodings on this task */
        int has_cell = 0;
        for (int e = 0; e < lit->nencodings; e++) has_cell |= lit_cell(lit, ti, e) >= 0;
        if (!has_cell) continue;
        r->ntasks++;
        if (match_rows(lit, t, ti, tk) != 0) return -1;
        posenc_values(t, tk, r, metric, ns, nb, &matched_any);
        task_claims(lit, tk, r);
        task_rank_agreement(tk, fit);
    }
    if (!matched_any)
        return core_errorf("%s: no task and encoding of the paper matches a cell of the sweep (their \"posenc\" keys: "
                           "task.name, task.alphabet or grid keys)",
                           lit->path);
    overall_tau(r);
    return 0;
}

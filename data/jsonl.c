/*
 * jsonl.c — reading and checking a JSON Lines task file (jsonl.h).
 *
 * One pass over the lines: each is cut out, checked for NUL bytes and its
 * length, parsed alone (cJSON, on a NUL-terminated copy), and its two arrays
 * appended to one token buffer. Then the examples are grouped by input
 * length (a counting sort: file order within a length) and hashed by input;
 * an input met again must carry the same target.
 */
#include "data/jsonl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "data/corpus.h"

/* ---- the index ------------------------------------------------------------ */

static uint64_t input_hash(const int *x, int n) {
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
    for (int i = 0; i < n; i++) {
        h ^= (uint32_t)x[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

int jsonl_count(const JsonlSet *s, int n) {
    if (!s->len_start || n < 0 || n > s->max_n) return 0;
    return s->len_start[n + 1] - s->len_start[n];
}

int jsonl_find(const JsonlSet *s, const int *x, int n) {
    if (!s->slot || n < 1 || n > s->max_n) return -1;
    for (size_t i = input_hash(x, n) & (s->slots - 1);; i = (i + 1) & (s->slots - 1)) {
        const int k = s->slot[i] - 1;
        if (k < 0) return -1;
        const JsonlExample *e = &s->ex[k];
        if (e->n == n && memcmp(s->tokens + e->x, x, (size_t)n * sizeof *x) == 0) return k;
    }
}

void jsonl_lengths_text(const JsonlSet *s, char *buf, size_t cap) {
    size_t used = 0;
    if (cap) buf[0] = '\0';
    for (int n = 1; n <= s->max_n; n++) {
        if (!jsonl_count(s, n)) continue;
        const int k = jsonl_count(s, n);
        int last = n;
        while (last < s->max_n && jsonl_count(s, last + 1) == k) last++;
        char part[64];
        if (last == n) snprintf(part, sizeof part, "%s%d (%d)", used ? ", " : "", n, k);
        else snprintf(part, sizeof part, "%s%d..%d (%d each)", used ? ", " : "", n, last, k);
        if (used + strlen(part) + 6 > cap) { /* room for ", ..." and the NUL */
            if (used + 6 <= cap) snprintf(buf + used, cap - used, ", ...");
            return;
        }
        used += (size_t)snprintf(buf + used, cap - used, "%s", part);
        n = last;
    }
}

void jsonl_free(JsonlSet *s) {
    for (int i = 0; i < s->num_symbols; i++) free(s->symbols[i]);
    free(s->symbols);
    free(s->tokens);
    free(s->ex);
    free(s->by_len);
    free(s->len_start);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* ---- one line -------------------------------------------------------------- */

/* A file of strings: its symbols in first-seen order while reading
 * (tokens hold that index), interned through an open-addressing table. */
#define SYMBOL_SLOTS 4096 /* > 2 * TASK_MAX_ALPHABET */

typedef struct {
    JsonlSet *s;
    size_t ntok, cap_tok;
    int cap_ex;
    const char *origin;
    const JsonlRules *r;
    long line;
    int kind;       /* 0 none yet, 1 token ids, 2 strings */
    long kind_line; /* the line that set it */
    char **names;   /* (nnames) the distinct symbols, first seen first */
    int nnames;
    int *name_slot; /* (SYMBOL_SLOTS) index + 1 into names, 0 empty */
} Reader;

static const char *json_kind(const cJSON *v) {
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    return "null";
}

static int line_error(const Reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int line_error(const Reader *rd, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return core_errorf("%s: line %ld: %s", rd->origin, rd->line, msg);
}

/* The index of symbol str (a file of strings), added if new: >= 0, or -1 after an error. */
static int intern(Reader *rd, const char *str, const char *key, int i) {
    const size_t len = strlen(str);
    int nul = 0;
    int ok = len >= 1 && len <= JSONL_MAX_SYMBOL_BYTES && corpus_first_bad((const unsigned char *)str, len, &nul) == len;
    for (size_t k = 0; ok && k < len; k++) ok = (unsigned char)str[k] > 0x20 && str[k] != 0x7f;
    if (!ok) {
        char shown[JSONL_MAX_SYMBOL_BYTES * 4 + 8];
        size_t m = 0;
        for (size_t k = 0; k < len && k < JSONL_MAX_SYMBOL_BYTES && m + 5 < sizeof shown; k++) {
            const unsigned char c = (unsigned char)str[k];
            if (c < 0x20 || c >= 0x7f) m += (size_t)snprintf(shown + m, sizeof shown - m, "\\x%02x", c);
            else shown[m++] = (char)c;
        }
        shown[m] = '\0';
        return line_error(rd, "\"%s\"[%d]: \"%s%s\" is not a symbol: 1..%d bytes of UTF-8, no space or control "
                              "character", key, i, shown, len > JSONL_MAX_SYMBOL_BYTES ? "..." : "",
                          JSONL_MAX_SYMBOL_BYTES);
    }
    size_t h = (size_t)corpus_hash((const unsigned char *)str, len) & (SYMBOL_SLOTS - 1);
    for (;; h = (h + 1) & (SYMBOL_SLOTS - 1)) {
        const int k = rd->name_slot[h] - 1;
        if (k < 0) break;
        if (strcmp(rd->names[k], str) == 0) return k;
    }
    if (rd->nnames == rd->r->alphabet)
        return line_error(rd, "\"%s\"[%d]: \"%s\" is symbol %d of the file, more than task.alphabet %d: raise it", key,
                          i, str, rd->nnames + 1, rd->r->alphabet);
    rd->names = core_realloc(rd->names, (size_t)(rd->nnames + 1) * sizeof *rd->names);
    rd->names[rd->nnames] = core_calloc(len + 1, 1);
    memcpy(rd->names[rd->nnames], str, len);
    rd->name_slot[h] = rd->nnames + 1;
    return rd->nnames++;
}

/* Append the tokens of array v (key `key`) to the buffer: its length, or -1. */
static int read_ids(Reader *rd, const cJSON *v, const char *key) {
    if (!cJSON_IsArray(v))
        return line_error(rd, "\"%s\" must be an array of token ids, got %s", key, json_kind(v));
    const int n = cJSON_GetArraySize(v);
    if (n == 0) return line_error(rd, "\"%s\" is empty", key);
    const int A = rd->r->alphabet;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        const int kind = cJSON_IsNumber(e) ? 1 : cJSON_IsString(e) ? 2 : 0;
        if (!kind)
            return line_error(rd, "\"%s\"[%d]: a token must be an integer id in 0..%d (task.alphabet %d) or a symbol "
                                  "as a string, got %s", key, i, A - 1, A, json_kind(e));
        if (rd->kind && kind != rd->kind)
            return line_error(rd, "\"%s\"[%d]: %s, but line %ld gives %s: a file gives all its tokens one way", key, i,
                              kind == 1 ? "a token id" : "a string", rd->kind_line,
                              rd->kind == 1 ? "token ids" : "symbols as strings");
        if (!rd->kind) rd->kind = kind, rd->kind_line = rd->line;
        int t;
        if (kind == 2) {
            if ((t = intern(rd, e->valuestring, key, i)) < 0) return -1;
        } else {
            const double d = e->valuedouble;
            if (!(d >= 0 && d <= A - 1) || d != floor(d))
                return line_error(rd, "\"%s\"[%d]: a token id must be an integer in 0..%d (task.alphabet %d), got "
                                      "%.17g", key, i, A - 1, A, d);
            t = (int)d;
        }
        if (rd->ntok == rd->cap_tok) {
            rd->cap_tok = rd->cap_tok ? 2 * rd->cap_tok : 1024;
            rd->s->tokens = core_realloc(rd->s->tokens, rd->cap_tok * sizeof(int));
        }
        rd->s->tokens[rd->ntok++] = t;
    }
    return n;
}

static int read_line(Reader *rd, const char *text, size_t len) {
    JsonlSet *s = rd->s;
    const char *nul = memchr(text, '\0', len);
    if (nul) return line_error(rd, "a NUL byte at column %zu: not a JSON Lines file", (size_t)(nul - text) + 1);
    if (len > JSONL_MAX_LINE_BYTES)
        return line_error(rd, "longer than the %zu bytes a line may have", JSONL_MAX_LINE_BYTES);
    size_t k = 0;
    while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
    if (k == len) return line_error(rd, "blank: every line is one JSON object");
    /* an escaped NUL (\u0000) in a string: cJSON would cut the string there */
    for (size_t i = 0; i + 6 <= len; i++) {
        if (memcmp(text + i, "\\u0000", 6) != 0) continue;
        size_t slashes = 0;
        while (slashes < i && text[i - 1 - slashes] == '\\') slashes++;
        if (slashes % 2 == 0) return line_error(rd, "a NUL character (\\u0000) at column %zu", i + 1);
    }
    char *copy = core_calloc(len + 1, 1);
    memcpy(copy, text, len);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
    int rc = 0;
    if (!root) {
        const size_t at = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
        char near[24];
        size_t m = 0;
        for (size_t i = at; i < len && m < 16; i++) near[m++] = (unsigned char)copy[i] < 0x20 ? ' ' : copy[i];
        near[m] = '\0';
        rc = line_error(rd, "invalid JSON at column %zu (near \"%s\")", at + 1, m ? near : "end of line");
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = line_error(rd, "expected an object {\"input\": [...], \"target\": [...]}, got %s", json_kind(root));
        goto done;
    }
    const cJSON *in = NULL, *tg = NULL;
    for (const cJSON *c = root->child; c; c = c->next) {
        const cJSON **slot = strcmp(c->string, "input") == 0 ? &in : strcmp(c->string, "target") == 0 ? &tg : NULL;
        if (!slot) {
            rc = line_error(rd, "unknown key \"%.40s\" (the keys are \"input\" and \"target\")", c->string);
            goto done;
        }
        if (*slot) {
            rc = line_error(rd, "key \"%s\" given twice", c->string);
            goto done;
        }
        *slot = c;
    }
    if (!in || !tg) {
        rc = line_error(rd, "no \"%s\" key", in ? "target" : "input");
        goto done;
    }
    const size_t x = rd->ntok;
    const int n = read_ids(rd, in, "input");
    if (n < 0) {
        rc = -1;
        goto done;
    }
    if (n > rd->r->max_n) {
        rc = line_error(rd, "\"input\" has %d tokens, more than %d", n, rd->r->max_n);
        goto done;
    }
    const size_t y = rd->ntok;
    const int m = read_ids(rd, tg, "target");
    if (m < 0) {
        rc = -1;
        goto done;
    }
    const long want = (long)rd->r->slope * n + rd->r->offset;
    if (m != want) {
        rc = line_error(rd, "\"target\" has %d tokens, but an input of %d tokens needs %ld (task.target_slope %d * %d "
                            "+ task.target_offset %d)", m, n, want, rd->r->slope, n, rd->r->offset);
        goto done;
    }
    if (s->count == rd->cap_ex) {
        rd->cap_ex = rd->cap_ex ? 2 * rd->cap_ex : 256;
        s->ex = core_realloc(s->ex, (size_t)rd->cap_ex * sizeof *s->ex);
    }
    s->ex[s->count++] = (JsonlExample){rd->line, n, m, x, y};
    if (n > s->max_n) s->max_n = n;
done:
    cJSON_Delete(root);
    free(copy);
    return rc;
}

/* ---- the file -------------------------------------------------------------- */

/* Group by length and hash by input; an input seen again must have the same target. */
static int index_examples(JsonlSet *s, const char *origin) {
    s->len_start = core_calloc((size_t)s->max_n + 2, sizeof(int));
    for (int k = 0; k < s->count; k++) s->len_start[s->ex[k].n + 1]++;
    for (int n = 0; n <= s->max_n; n++) s->len_start[n + 1] += s->len_start[n];
    int *fill = core_calloc((size_t)s->max_n + 1, sizeof(int));
    s->by_len = core_calloc((size_t)s->count, sizeof(int));
    for (int k = 0; k < s->count; k++) {
        const int n = s->ex[k].n;
        s->by_len[s->len_start[n] + fill[n]++] = k;
    }
    free(fill);
    s->slots = 1;
    while (s->slots < 2 * (size_t)s->count) s->slots *= 2;
    s->slot = core_calloc(s->slots, sizeof(int));
    for (int k = 0; k < s->count; k++) {
        const JsonlExample *e = &s->ex[k];
        const int *x = s->tokens + e->x;
        size_t i = input_hash(x, e->n) & (s->slots - 1);
        for (;; i = (i + 1) & (s->slots - 1)) {
            const int j = s->slot[i] - 1;
            if (j < 0) break;
            const JsonlExample *f = &s->ex[j];
            if (f->n != e->n || memcmp(s->tokens + f->x, x, (size_t)e->n * sizeof *x) != 0) continue;
            if (memcmp(s->tokens + f->y, s->tokens + e->y, (size_t)e->m * sizeof(int)) != 0)
                return core_errorf("%s: line %ld: the same \"input\" as line %ld with another \"target\"", origin,
                                   e->line, f->line);
            break; /* a repeated line: the first one answers it */
        }
        if (s->slot[i] == 0) s->slot[i] = k + 1;
    }
    return 0;
}

static int by_bytes(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A file of strings: the symbols sorted by their bytes become the ids. */
static void sort_symbols(Reader *rd) {
    JsonlSet *s = rd->s;
    s->num_symbols = rd->nnames;
    s->symbols = core_calloc((size_t)rd->nnames, sizeof *s->symbols);
    memcpy(s->symbols, rd->names, (size_t)rd->nnames * sizeof *s->symbols);
    qsort(s->symbols, (size_t)rd->nnames, sizeof *s->symbols, by_bytes);
    int *rank = core_calloc((size_t)rd->nnames, sizeof(int)); /* first-seen index -> sorted id */
    for (int i = 0; i < rd->nnames; i++)
        for (int k = 0; k < rd->nnames; k++)
            if (s->symbols[k] == rd->names[i]) rank[i] = k;
    for (size_t i = 0; i < rd->ntok; i++) s->tokens[i] = rank[s->tokens[i]];
    free(rank);
    free(rd->names); /* the strings now belong to s->symbols */
    rd->names = NULL;
    rd->nnames = 0;
}

int jsonl_parse(JsonlSet *s, const char *data, size_t n, const char *origin, const JsonlRules *rules) {
    memset(s, 0, sizeof *s);
    if (n == 0)
        return core_errorf("%s: empty (a JSON Lines file: one {\"input\": [...], \"target\": [...]} a line)", origin);
    Reader rd = {s, 0, 0, 0, origin, rules, 0, 0, 0, NULL, 0, core_calloc(SYMBOL_SLOTS, sizeof(int))};
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0;) {
        const char *nl = memchr(data + at, '\n', n - at);
        const size_t len = nl ? (size_t)(nl - (data + at)) : n - at;
        rd.line++;
        rc = read_line(&rd, data + at, len);
        at += len + 1;
    }
    if (rc == 0 && rd.kind == 2) sort_symbols(&rd);
    for (int i = 0; i < rd.nnames; i++) free(rd.names[i]);
    free(rd.names);
    free(rd.name_slot);
    if (rc == 0) rc = index_examples(s, origin);
    if (rc != 0) {
        jsonl_free(s);
        return -1;
    }
    s->hash = corpus_hash((const unsigned char *)data, n);
    return 0;
}

int jsonl_load(JsonlSet *s, const char *path, size_t cap, const JsonlRules *rules) {
    memset(s, 0, sizeof *s);
    size_t n = 0;
    char *text = file_read_capped(path, cap, &n);
    if (!text) return -1;
    const int rc = jsonl_parse(s, text, n, path, rules);
    free(text);
    return rc;
}

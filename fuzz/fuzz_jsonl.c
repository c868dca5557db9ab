/*
 * fuzz_jsonl.c — libFuzzer target for the jsonl task's file, which posenc
 * reads as untrusted input:
 *
 *   the whole input   a JSON Lines file: jsonl_parse (data/jsonl.h), under two
 *                     sets of rules (A = 10, m = n; A = 3, m = 1)
 *
 * An accepted file is checked against what the format promises: one example
 * per line (the line count of the bytes), no NUL, every token id in range,
 * every target of the rule's length, the length groups a permutation in file
 * order, every input found again with its own target, the hash the one of
 * the bytes, a file of strings' symbols distinct, sorted, at most A. A rejected file must have an error naming it. Seeds and every
 * input that once crashed are in tests/fuzz-corpus/jsonl/, replayed by
 * tests/test_fuzz_corpus.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/corpus.h"
#include "data/jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_jsonl: %s\n", what);
        abort();
    }
}

static void one(const uint8_t *data, size_t size, const JsonlRules *r) {
    JsonlSet s;
    const int rc = jsonl_parse(&s, (const char *)data, size, "t.jsonl", r);
    if (rc != 0) {
        check(strncmp(core_error(), "t.jsonl: ", 9) == 0, "the error does not name the file");
        check(s.ex == NULL && s.tokens == NULL && s.count == 0, "a refused file left an index");
        return;
    }
    long lines = 0;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    if (size && data[size - 1] != '\n') lines++;
    check(lines == s.count, "not one example per line");
    check(!memchr(data, '\0', size), "accepted a NUL byte");
    check(s.hash == corpus_hash(data, size), "hash");
    int seen = 0;
    for (int n = 0; n <= s.max_n; n++) {
        int prev = -1;
        for (int j = s.len_start[n]; j < s.len_start[n + 1]; j++) {
            const int k = s.by_len[j];
            check(k > prev && s.ex[k].n == n, "a length group out of file order");
            prev = k;
            seen++;
        }
    }
    check(seen == s.count, "the length groups are not a permutation");
    check(s.num_symbols <= r->alphabet && (s.num_symbols > 0) == (s.symbols != NULL), "symbol count");
    for (int i = 0; i < s.num_symbols; i++) {
        const size_t len = strlen(s.symbols[i]);
        check(len >= 1 && len <= JSONL_MAX_SYMBOL_BYTES, "a symbol's length");
        for (size_t k = 0; k < len; k++)
            check((unsigned char)s.symbols[i][k] > 0x20 && s.symbols[i][k] != 0x7f, "a symbol's bytes");
        check(i == 0 || strcmp(s.symbols[i - 1], s.symbols[i]) < 0, "symbols not distinct and sorted");
    }
    for (int k = 0; k < s.count; k++) {
        const JsonlExample *e = &s.ex[k];
        check(e->line == k + 1, "line numbers");
        check(e->n >= 1 && e->n <= s.max_n && e->m == r->slope * e->n + r->offset, "lengths");
        for (int i = 0; i < e->n + e->m; i++) {
            const int v = i < e->n ? s.tokens[e->x + (size_t)i] : s.tokens[e->y + (size_t)(i - e->n)];
            check(v >= 0 && v < r->alphabet, "a token id out of range");
        }
        const int f = jsonl_find(&s, s.tokens + e->x, e->n);
        check(f >= 0 && s.ex[f].n == e->n, "an input not found again");
        check(memcmp(s.tokens + s.ex[f].y, s.tokens + e->y, (size_t)e->m * sizeof(int)) == 0,
              "an input found with another target");
    }
    jsonl_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one(data, size, &(JsonlRules){10, 1, 0, 262144});
    one(data, size, &(JsonlRules){3, 0, 1, 64});
    return 0;
}

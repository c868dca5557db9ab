/*
 * corpus.c — reading and checking a text file (corpus.h).
 */
#include "data/corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"

uint64_t corpus_hash(const unsigned char *data, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void corpus_hash_text(uint64_t h, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)h); }

/* Length of the valid UTF-8 sequence at data[i] (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *data, size_t n, size_t i) {
    const unsigned c = data[i];
    if (c < 0x80) return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the valid range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) len = 3, lo = 0xa0;                 /* no overlong 3-byte forms */
    else if (c >= 0xe1 && c <= 0xec) len = 3;
    else if (c == 0xed) len = 3, hi = 0x9f;                 /* no surrogates U+D800..DFFF */
    else if (c >= 0xee && c <= 0xef) len = 3;
    else if (c == 0xf0) len = 4, lo = 0x90;                 /* no overlong 4-byte forms */
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) len = 4, hi = 0x8f;                 /* nothing above U+10FFFF */
    else return 0;                                          /* 0x80..0xc1, 0xf5..0xff */
    if (n - i < len) return 0;
    if (data[i + 1] < lo || data[i + 1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (data[i + k] < 0x80 || data[i + k] > 0xbf) return 0;
    return len;
}

size_t corpus_first_bad(const unsigned char *data, size_t n, int *nul) {
    *nul = 0;
    for (size_t i = 0; i < n;) {
        if (data[i] == 0) {
            *nul = 1;
            return i;
        }
        size_t len = utf8_len(data, n, i);
        if (!len) return i;
        i += len;
    }
    return n;
}

int corpus_parse(Corpus *c, const unsigned char *data, size_t n, const char *origin) {
    memset(c, 0, sizeof *c);
    if (n == 0) return core_errorf("%s: empty (a text task needs at least 2 bytes of text)", origin);
    int nul = 0;
    size_t bad = corpus_first_bad(data, n, &nul);
    if (bad < n) {
        long line = 1, col = 1;
        for (size_t i = 0; i < bad; i++) {
            if (data[i] == '\n') line++, col = 1;
            else if ((data[i] & 0xc0) != 0x80) col++; /* columns count characters */
        }
        if (nul)
            return core_errorf("%s: a binary file, not text: a NUL byte at offset %zu (line %ld, column %ld)",
                               origin, bad, line, col);
        return core_errorf("%s: not UTF-8: byte 0x%02x at offset %zu (line %ld, column %ld) does not start a "
                           "valid UTF-8 character; convert the file to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
                           origin, data[bad], bad, line, col);
    }
    if (n < 2) return core_errorf("%s: 1 byte; a text task needs at least 2 (a training and a held-out part)", origin);
    c->bytes = core_calloc(n, 1);
    memcpy(c->bytes, data, n);
    c->n = n;
    size_t held = (size_t)((unsigned long long)n * CORPUS_HELD_OUT_PERMILLE / 1000);
    if (held < 1) held = 1;
    c->train_n = n - held;
    c->hash = corpus_hash(data, n);
    return 0;
}

int corpus_load(Corpus *c, const char *path, size_t cap) {
    memset(c, 0, sizeof *c);
    if (cap > CORPUS_MAX_BYTES) cap = CORPUS_MAX_BYTES;
    size_t n = 0;
    char *text = file_read_capped(path, cap, &n);
    if (!text) return -1;
    int rc = corpus_parse(c, (const unsigned char *)text, n, path);
    free(text);
    return rc;
}

void corpus_free(Corpus *c) {
    free(c->bytes);
    memset(c, 0, sizeof *c);
}

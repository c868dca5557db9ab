/*
 * fuzz_data.c — libFuzzer target for the user's data files, which posenc
 * reads as untrusted input:
 *
 *   the whole input   a text task's file: corpus_parse (data/corpus.h)
 *
 * An accepted file is checked against an independent decoder: every
 * character a valid Unicode scalar value in its shortest form, no NUL, the
 * split inside the file, the hash the one of the bytes. A rejected file must
 * have an error naming it. Seeds and every input that once crashed are in
 * tests/fuzz-corpus/data/, replayed by tests/test_fuzz_corpus.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_data: %s\n", what);
        abort();
    }
}

/* 1 if data is valid UTF-8 without NUL, decoded the slow way */
static int valid_text(const uint8_t *d, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len;
        if (d[i] < 0x80) cp = d[i], len = 1;
        else if ((d[i] & 0xe0) == 0xc0) cp = d[i] & 0x1f, len = 2;
        else if ((d[i] & 0xf0) == 0xe0) cp = d[i] & 0x0f, len = 3;
        else if ((d[i] & 0xf8) == 0xf0) cp = d[i] & 0x07, len = 4;
        else return 0;
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((d[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (d[i + k] & 0x3f);
        }
        const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp == 0 || cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Corpus c;
    const int rc = corpus_parse(&c, data, size, "corpus.txt");
    const int want = size >= 2 && valid_text(data, size);
    check((rc == 0) == want, rc == 0 ? "accepted a file that is not text" : "refused a valid text file");
    if (rc == 0) {
        check(c.n == size && memcmp(c.bytes, data, size) == 0, "the bytes differ from the file");
        check(c.train_n >= 1 && c.train_n < c.n, "the split leaves a part empty");
        check(c.hash == corpus_hash(data, size), "hash");
        corpus_free(&c);
    } else {
        check(strncmp(core_error(), "corpus.txt: ", 12) == 0, "the error does not name the file");
    }
    return 0;
}

/*
 * corpus.h — a user's text file, read as untrusted input: the reader behind
 * the `text` task (task_text.c).
 *
 * What is accepted. A regular file (no FIFO, device, socket or directory:
 * core/fsutil.h file_open_regular) of 1 .. cap bytes that is valid UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) and
 * holds no NUL byte. Each rejection is one error naming the file, what is
 * wrong and where (byte offset, line and column of the first bad byte):
 *
 *     corpus.txt: not UTF-8: byte 0xff at offset 1234 (line 56, column 7) ...
 *     corpus.txt: a binary file: a NUL byte at offset 80 (line 1, column 81)
 *     corpus.txt: empty
 *
 * Tokens are the file's bytes (0..255): a UTF-8 character of k bytes is k
 * tokens, so the model's loss is per byte and a decoded sequence is the
 * text itself (a sequence may start or end inside a character).
 *
 * The split. The last CORPUS_HELD_OUT_PERMILLE / 1000 of the bytes (at least
 * one) are held out: training sequences come from the bytes before
 * (train_n of them), evaluation sequences from the held-out part only. The
 * split depends on the file alone.
 *
 * Identity. hash is FNV-1a (64 bit) of the whole file: a run records it
 * (task.file_hash), so a run is never evaluated on another file than the one
 * it was trained on.
 */
#ifndef POSENC_CORPUS_H
#define POSENC_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#define CORPUS_HELD_OUT_PERMILLE 100
#define CORPUS_MAX_BYTES ((size_t)1 << 30) /* the largest cap: offsets are drawn with 32-bit draws */

typedef struct {
    unsigned char *bytes; /* (n) the file */
    size_t n;
    size_t train_n;       /* bytes[0..train_n) train, bytes[train_n..n) held out */
    uint64_t hash;        /* FNV-1a 64 of bytes */
} Corpus;

/* Check n bytes of text (origin names it in messages) and split them: 0, or
 * -1 after core_errorf (see the top of this file). The corpus copies data;
 * free it with corpus_free. */
int corpus_parse(Corpus *c, const unsigned char *data, size_t n, const char *origin);
/* Read the file at path (at most cap bytes, cap <= CORPUS_MAX_BYTES) and
 * corpus_parse it. 0 or -1 after core_errorf naming the path. */
int corpus_load(Corpus *c, const char *path, size_t cap);
void corpus_free(Corpus *c);

/* FNV-1a 64 of n bytes, and its text form: 16 lower-case hex digits. */
uint64_t corpus_hash(const unsigned char *data, size_t n);
void corpus_hash_text(uint64_t h, char out[17]);

/* The first position where data is not valid UTF-8 or holds a NUL byte:
 * its offset, or n if there is none; *nul = 1 if it is a NUL byte. */
size_t corpus_first_bad(const unsigned char *data, size_t n, int *nul);

#endif

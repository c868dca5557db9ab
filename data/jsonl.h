/*
 * jsonl.h — a user's sequence task as a JSON Lines file, read as untrusted
 * input: the reader behind the `jsonl` task (task_jsonl.c, docs/SPEC.md §1).
 *
 * The format. One JSON object per line, with exactly two keys:
 *
 *     {"input": [3, 1, 4], "target": [4, 1, 3]}
 *
 * each an array of at least one integer token id in 0..A-1 (A the task's
 * alphabet; 2.0 is 2, 2.5 is an error), or of at least one symbol given as a
 * string, {"input": ["a", "b"], "target": ["b", "a"]}: a file gives all its
 * tokens one way. A symbol is 1..32 bytes of UTF-8 without spaces or control
 * characters; the file's distinct symbols, sorted by their bytes (strcmp),
 * are the token ids 0..k-1 (k <= A), so the ids are a function of the file
 * alone and a run that records the file's hash decodes the same symbols. A line ends at '\n' (a '\r' before
 * it is whitespace); the last line may lack it. The target's length is a
 * fixed function of the input's, m(n) = slope * n + offset (the task's
 * settings), so that a config is sized without reading the file; every line
 * must follow it. The same input may appear again only with the same target
 * (a repeated line is drawn as often as it appears).
 *
 * What is refused, each with one error naming the file and the line (and
 * the key, the element or the other line where there is one):
 *
 *     ex.jsonl: empty
 *     ex.jsonl: line 4: a NUL byte at column 9: not a JSON Lines file
 *     ex.jsonl: line 4: a NUL character (\u0000) at column 12
 *     ex.jsonl: line 4: longer than the 1048576 bytes a line may have
 *     ex.jsonl: line 4: blank: every line is one JSON object
 *     ex.jsonl: line 4: invalid JSON at column 17 (near "1, ]}")
 *     ex.jsonl: line 4: expected an object {"input": [...], "target": [...]}, got an array
 *     ex.jsonl: line 4: unknown key "inputs" (the keys are "input" and "target")
 *     ex.jsonl: line 4: key "input" given twice
 *     ex.jsonl: line 4: no "target" key
 *     ex.jsonl: line 4: "input" must be an array of token ids, got a string
 *     ex.jsonl: line 4: "input" is empty
 *     ex.jsonl: line 4: "target"[2]: a token id must be an integer in 0..9 (task.alphabet 10), got 12
 *     ex.jsonl: line 4: "input" has 300000 tokens, more than 262144
 *     ex.jsonl: line 4: "target" has 5 tokens, but an input of 3 tokens needs 3 (task.target_slope 1 * 3 + task.target_offset 0)
 *     ex.jsonl: line 9: the same "input" as line 4 with another "target"
 *     ex.jsonl: line 4: "input"[0]: a string, but line 1 gives token ids: a file gives all its tokens one way
 *     ex.jsonl: line 4: "input"[0]: "a b" is not a symbol: 1..32 bytes of UTF-8, no space or control character
 *     ex.jsonl: line 4: "target"[1]: "z" is symbol 11 of the file, more than task.alphabet 10: raise it
 *
 * Identity. hash is FNV-1a 64 of the whole file (corpus.h corpus_hash), as
 * the text task records it (task.file_hash).
 */
#ifndef POSENC_JSONL_H
#define POSENC_JSONL_H

#include <stddef.h>
#include <stdint.h>

#define JSONL_MAX_LINE_BYTES ((size_t)1 << 20)

typedef struct {
    long line;    /* 1-based line of the file */
    int n, m;     /* input and target lengths */
    size_t x, y;  /* offsets of the input and the target in tokens */
} JsonlExample;

/* The rules a file is checked against (the task's settings). */
typedef struct {
    int alphabet;      /* token ids 0..alphabet-1 */
    int slope, offset; /* m(n) = slope * n + offset */
    int max_n;         /* the longest input accepted */
} JsonlRules;

typedef struct {
    int *tokens;        /* every input and target, in file order */
    JsonlExample *ex;   /* (count) in file order */
    int count;
    int max_n;          /* the longest input */
    int *by_len;        /* (count) example indices by input length, file order within a length */
    int *len_start;     /* (max_n + 2): the examples of input length n are by_len[len_start[n] .. len_start[n + 1]) */
    int *slot;          /* (slots) open-addressing table of example index + 1 (0 = empty), keyed by the input */
    size_t slots;       /* a power of two, at least twice count */
    uint64_t hash;      /* FNV-1a 64 of the file */
    char **symbols;     /* (num_symbols) the symbols of a file of strings, sorted (id = index); NULL for ids */
    int num_symbols;
} JsonlSet;

#define JSONL_MAX_SYMBOL_BYTES 32

/* Check n bytes of JSON Lines (origin names it in messages) against the
 * rules and index them: 0, or -1 after core_errorf (see the top of this
 * file); on -1 s holds nothing to free. Free with jsonl_free. */
int jsonl_parse(JsonlSet *s, const char *data, size_t n, const char *origin, const JsonlRules *rules);
/* Read the file at path (a regular file of at most cap bytes,
 * core/fsutil.h file_read_capped) and jsonl_parse it. */
int jsonl_load(JsonlSet *s, const char *path, size_t cap, const JsonlRules *rules);
void jsonl_free(JsonlSet *s);

/* How many examples have an input of n tokens (0 past max_n). */
int jsonl_count(const JsonlSet *s, int n);
/* The example whose input is x (n tokens), or -1. */
int jsonl_find(const JsonlSet *s, const int *x, int n);
/* The input lengths present with their example counts, consecutive lengths
 * of one count together: "1..8 (100 each), 16 (40), 32 (32)" (cut with
 * ", ..." to fit n bytes). */
void jsonl_lengths_text(const JsonlSet *s, char *buf, size_t n);

#endif

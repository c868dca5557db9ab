/*
 * oracle_dump.c — a test program (not a posenc command): one forward and
 * backward pass of a trained run's checkpoint on a given batch, written out
 * for the PyTorch oracle (tests/oracle.py, `make test-oracle`).
 *
 *   oracle_dump RUN_DIR BATCH OUT [--rope-scaling pi|ntk|yarn --rope-scale S --rope-orig-len L]
 *
 * RUN_DIR is opened as `posenc eval` opens it (rundir_load: the checkpoint's
 * config, the position table grown to the batch's largest position id where
 * the encoding allows it), with the BLAS kernel pinned as posenc pins it.
 * BATCH is text: "B T", then B*T input tokens, B*T targets (-1: not counted)
 * and B*T position ids, whitespace-separated. OUT is a safetensors file:
 *
 *   logits        (B, T, V)  F32
 *   decode_logits (B, T, V)  F32  the same by incremental decoding (gpt_decode_step,
 *                                 as `posenc predict` runs it), each row token by token
 *   infer_logits  (B, T, V)  F32  the same by the inference path (gpt_infer, as
 *                                 `posenc eval` runs it)
 *   loss          (1)        F32  mean cross-entropy over the counted targets
 *   grad.<name>   the gradient of loss for every checkpoint tensor <name>
 *                 (run/checkpoint.h's table), same shape
 *
 * Exit status 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "model/gpt.h"
#include "run/checkpoint.h"
#include "run/config.h"
#include "run/rundir.h"

static int fail(const char *what) {
    fprintf(stderr, "oracle_dump: %s\n", what);
    return 1;
}

/* Read "B T" and the three (B, T) int arrays; NULL-free on success. */
static int read_batch(const char *path, int *B, int *T, int **in, int **tg, int **pos) {
    FILE *f = fopen(path, "r");
    if (!f) return core_errorf("%s: cannot open", path);
    int rc = -1;
    if (fscanf(f, "%d %d", B, T) != 2 || *B < 1 || *T < 1 || *B > 4096 || *T > 4096) {
        core_errorf("%s: expected \"B T\" (1..4096 each) first", path);
        goto out;
    }
    size_t n = (size_t)*B * (size_t)*T;
    *in = malloc(n * sizeof(int));
    *tg = malloc(n * sizeof(int));
    *pos = malloc(n * sizeof(int));
    if (!*in || !*tg || !*pos) {
        core_errorf("%s: out of memory", path);
        goto out;
    }
    int *arr[3] = {*in, *tg, *pos};
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < n; i++)
            if (fscanf(f, "%d", &arr[a][i]) != 1) {
                core_errorf("%s: expected %zu integers in array %d", path, n, a);
                goto out;
            }
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* Append `s` to the growing string *buf (capacity *cap, length *len). */
static void append(char **buf, size_t *len, size_t *cap, const char *s) {
    size_t k = strlen(s);
    if (*len + k + 1 > *cap) {
        *cap = (*len + k + 1) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) {
            fprintf(stderr, "oracle_dump: out of memory\n");
            exit(1);
        }
    }
    memcpy(*buf + *len, s, k + 1);
    *len += k;
}

/* Write the tensors as safetensors (F32, contiguous in order, header padded to 8). */
static int write_out(const char *path, int n, char names[][112], const int *ndim,
                     size_t shape[][3], float *const *data) {
    char *h = NULL, item[512];
    size_t len = 0, cap = 0, off = 0;
    append(&h, &len, &cap, "{\"__metadata__\":{\"format\":\"posenc-oracle-dump\"}");
    for (int i = 0; i < n; i++) {
        size_t size = 1;
        int k = snprintf(item, sizeof item, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", names[i]);
        for (int d = 0; d < ndim[i]; d++) {
            size *= shape[i][d];
            k += snprintf(item + k, sizeof item - (size_t)k, "%s%zu", d ? "," : "", shape[i][d]);
        }
        snprintf(item + k, sizeof item - (size_t)k, "],\"data_offsets\":[%zu,%zu]}", off,
                 off + 4 * size);
        off += 4 * size;
        append(&h, &len, &cap, item);
    }
    append(&h, &len, &cap, "}");
    while (len % 8) append(&h, &len, &cap, " ");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((unsigned long long)len >> (8 * i));
    FilePart *parts = calloc((size_t)n + 2, sizeof *parts);
    parts[0] = (FilePart){len8, 8};
    parts[1] = (FilePart){h, len};
    for (int i = 0; i < n; i++) {
        size_t size = 1;
        for (int d = 0; d < ndim[i]; d++) size *= shape[i][d];
        parts[i + 2] = (FilePart){data[i], 4 * size};
    }
    int rc = file_write_atomic_parts(path, parts, n + 2, "oracle");
    free(parts);
    free(h);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: oracle_dump RUN_DIR BATCH OUT [--rope-scaling pi|ntk|yarn --rope-scale S "
               "--rope-orig-len L]\n(a test program for tests/oracle.py; see its header comment)\n");
        return 0;
    }
    if (blas_pin(argv) != 0) return fail(core_error());
    if (argc != 4 && argc != 10)
        return fail("usage: oracle_dump RUN_DIR BATCH OUT [--rope-scaling NAME --rope-scale S "
                    "--rope-orig-len L]");
    const char *dir = argv[1], *batch = argv[2], *out = argv[3];
    int scaling = PE_ROPE_SCALING_NONE, orig_len = 0;
    float s = 1;
    if (argc == 10) {
        if (strcmp(argv[4], "--rope-scaling") || strcmp(argv[6], "--rope-scale") ||
            strcmp(argv[8], "--rope-orig-len"))
            return fail("expected --rope-scaling NAME --rope-scale S --rope-orig-len L");
        scaling = pe_rope_scaling_find(argv[5]);
        s = strtof(argv[7], NULL);
        orig_len = atoi(argv[9]);
        if (scaling < 0) return fail("--rope-scaling: none, pi, ntk or yarn");
    }

    int B, T, *in = NULL, *tg = NULL, *pos = NULL;
    if (read_batch(batch, &B, &T, &in, &tg, &pos) != 0) return fail(core_error());
    int min_P = 1;
    for (int i = 0; i < B * T; i++)
        if (pos[i] + 1 > min_P) min_P = pos[i] + 1;

    RunConfig cfg;
    GPT m;
    if (rundir_load(dir, min_P, &cfg, &m, NULL) != 0) return fail(core_error());
    if (scaling != PE_ROPE_SCALING_NONE && gpt_set_rope_scaling(&m, scaling, s, orig_len) != 0)
        return fail(core_error());
    if (gpt_check_positions(&m, pos, B * T) != 0) return fail(core_error());
    for (int i = 0; i < B * T; i++)
        if (in[i] < 0 || in[i] >= m.cfg.V || tg[i] < -1 || tg[i] >= m.cfg.V)
            return fail("a token or target lies outside the vocabulary");

    gpt_reserve(&m, B, T, 1);
    float loss = gpt_forward(&m, in, tg, pos, B, T);
    /* the logits as the forward left them (backward may reuse the buffers) */
    size_t nlog = (size_t)B * (size_t)T * (size_t)m.cfg.V;
    float *logits = malloc(nlog * sizeof *logits);
    if (!logits) return fail("out of memory");
    memcpy(logits, m.acts.logits, nlog * sizeof *logits);
    gpt_zero_grad(&m);
    gpt_backward(&m, in, tg, pos);

    /* each row again through the key/value cache, one token at a time */
    float *dec = malloc(nlog * sizeof *dec);
    GPTCache cache;
    if (!dec || gpt_cache_init(&cache, &m, T) != 0) return fail("cannot allocate the decoding cache");
    for (int b = 0; b < B; b++) {
        gpt_cache_reset(&cache);
        for (int t = 0; t < T; t++) {
            if (gpt_decode_step(&m, &cache, in[b * T + t], pos[b * T + t]) != 0) return fail(core_error());
            memcpy(dec + ((size_t)b * T + t) * m.cfg.V, cache.logits, (size_t)m.cfg.V * sizeof *dec);
        }
    }
    gpt_cache_free(&cache);

    /* the batch again through the inference path (last: it leaves acts' other views NULL) */
    float *inf = malloc(nlog * sizeof *inf);
    if (!inf) return fail("out of memory");
    gpt_reserve_infer(&m, B, T);
    gpt_infer(&m, in, tg, pos, B, T);
    memcpy(inf, m.acts.logits, nlog * sizeof *inf);

    int nt = checkpoint_tensor_table(&m, "grad.", m.grads_memory, NULL, 0);
    if (nt < 0) return fail(core_error());
    CheckpointTensor *tab = calloc((size_t)nt, sizeof *tab);
    if (checkpoint_tensor_table(&m, "grad.", m.grads_memory, tab, nt) != nt) return fail(core_error());
    int n = nt + 4;
    char (*names)[112] = calloc((size_t)n, sizeof *names);
    int *ndim = calloc((size_t)n, sizeof *ndim);
    size_t (*shape)[3] = calloc((size_t)n, sizeof *shape);
    float **data = calloc((size_t)n, sizeof *data);
    snprintf(names[0], sizeof names[0], "logits");
    ndim[0] = 3;
    shape[0][0] = (size_t)B, shape[0][1] = (size_t)T, shape[0][2] = (size_t)m.cfg.V;
    data[0] = logits;
    snprintf(names[1], sizeof names[1], "decode_logits");
    ndim[1] = 3;
    memcpy(shape[1], shape[0], sizeof shape[0]);
    data[1] = dec;
    snprintf(names[2], sizeof names[2], "infer_logits");
    ndim[2] = 3;
    memcpy(shape[2], shape[0], sizeof shape[0]);
    data[2] = inf;
    snprintf(names[3], sizeof names[3], "loss");
    ndim[3] = 1;
    shape[3][0] = 1;
    data[3] = &loss;
    for (int i = 0; i < nt; i++) {
        snprintf(names[i + 4], sizeof names[i + 4], "%s", tab[i].name);
        ndim[i + 4] = tab[i].ndim;
        shape[i + 4][0] = tab[i].shape[0];
        shape[i + 4][1] = tab[i].shape[1];
        data[i + 4] = tab[i].data;
    }
    int rc = write_out(out, n, names, ndim, shape, data);
    free(names), free(ndim), free(shape), free(data), free(tab);
    free(in), free(tg), free(pos), free(logits), free(dec), free(inf);
    gpt_free(&m);
    return rc != 0 ? fail(core_error()) : 0;
}

/*
 * test_checkpoint.c — safetensors checkpoints: bitwise round trips (model and
 * optimizer), the file checked by an independent reader written here (not
 * checkpoint.c's parser), rejection of damaged and foreign files, and atomic
 * replacement when a write fails.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/rng.h"
#include "model/adamw.h"
#include "model/gpt.h"
#include "run/checkpoint.h"
#include "tests/testutil.h"

static const char *CONFIG_JSON = "{\"model\": {\"C\": 16, \"pe\": \"learned\"}, \"note\": \"a \\\"quoted\\\" word\"}";

/* ---- helpers ---------------------------------------------------------- */

static void build(GPT *m, const char *pe, int C, int L, uint64_t seed) {
    GPTConfig cfg;
    gpt_config_default(&cfg);
    cfg.V = 14;
    cfg.C = C;
    cfg.L = L;
    cfg.NH = 2;
    cfg.F = 64;
    cfg.P = 32;
    strcpy(cfg.pe, pe);
    ck_assert_msg(gpt_build(m, &cfg) == 0, "gpt_build: %s", core_error());
    gpt_init_params(m, seed);
}

static char *path_in(const char *dir, const char *name) {
    static char buf[4][600];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

static void spill(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert(fwrite(b, 1, n, f) == n);
    ck_assert(fclose(f) == 0);
}

static uint64_t get_u64le(const unsigned char *b) {
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)b[i] << (8 * i);
    return n;
}

static void put_u64le(unsigned char *b, uint64_t n) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(n >> (8 * i));
}

/* A load/save that must fail with a message naming `path` and containing
 * `what` (if not NULL). */
static void expect_error(int rc, const char *path, const char *what) {
    ck_assert_msg(rc != 0, "expected failure for %s", path);
    ck_assert_msg(strstr(core_error(), path) != NULL, "message does not name %s: %s", path, core_error());
    if (what)
        ck_assert_msg(strstr(core_error(), what) != NULL, "message lacks \"%s\": %s", what,
                      core_error());
}

/* Number of entries in a directory other than . and .. */
static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    ck_assert(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Rewrite the safetensors file src into dst with its header changed by
 * `edit` (data section kept as it is), with the test's own cJSON code. */
static void rewrite_header(const char *src, const char *dst, void (*edit)(cJSON *root)) {
    size_t size;
    unsigned char *b = slurp(src, &size);
    uint64_t n = get_u64le(b);
    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, n);
    ck_assert(root != NULL);
    edit(root);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t raw = strlen(json), padded = (raw + 7) / 8 * 8, data = size - 8 - n;
    unsigned char *out = malloc(8 + padded + data);
    put_u64le(out, padded);
    memcpy(out + 8, json, raw);
    memset(out + 8 + raw, ' ', padded - raw);
    memcpy(out + 8 + padded, b + 8 + n, data);
    spill(dst, out, 8 + padded + data);
    free(out);
    free(json);
    free(b);
}

/* ---- round trips -------------------------------------------------------- */

static void roundtrip(const char *pe) {
    const char *dir = test_tmpdir("ckpt-rt");
    const char *path = path_in(dir, "model.safetensors");
    GPT a, b;
    build(&a, pe, 16, 2, 1);
    build(&b, pe, 16, 2, 2);
    ck_assert_msg(a.num_params == b.num_params, "same config, different sizes");
    ck_assert(memcmp(a.params_memory, b.params_memory, a.num_params * sizeof(float)) != 0);
    /* special values must survive bit for bit */
    a.params.lnfb[0] = -0.0f;
    a.params.lnfb[1] = 1e-45f; /* denormal */
    ck_assert_msg(checkpoint_save(path, &a, CONFIG_JSON, 1234) == 0, "%s", core_error());
    ck_assert_msg(checkpoint_load(path, &b) == 0, "%s", core_error());
    ck_assert(memcmp(a.params_memory, b.params_memory, a.num_params * sizeof(float)) == 0);

    char *config = NULL;
    long step = -1;
    ck_assert_msg(checkpoint_read_meta(path, &config, &step) == 0, "%s", core_error());
    ck_assert_str_eq(config, CONFIG_JSON);
    ck_assert_int_eq(step, 1234);
    free(config);
    ck_assert_int_eq(dir_entries(dir), 1); /* no temporary file left */

    /* saving again replaces the file */
    gpt_init_params(&a, 3);
    ck_assert_msg(checkpoint_save(path, &a, CONFIG_JSON, 2000) == 0, "%s", core_error());
    ck_assert_msg(checkpoint_load(path, &b) == 0, "%s", core_error());
    ck_assert(memcmp(a.params_memory, b.params_memory, a.num_params * sizeof(float)) == 0);
    ck_assert_int_eq(dir_entries(dir), 1);
    gpt_free(&a);
    gpt_free(&b);
}

START_TEST(test_roundtrip_each_encoding) {
    for (int i = 0; i < pe_count(); i++) roundtrip(pe_at(i)->name);
}
END_TEST

/* The position-encoding tensors of t5, kerple and fire: names, shapes and
 * places in the parameter buffer, written out from docs/CHECKPOINTS.md's table. */
static void expect_tensor(const CheckpointTensor *t, int n, const char *name, int ndim, size_t s0, size_t s1,
                          const float *data) {
    for (int i = 0; i < n; i++) {
        if (strcmp(t[i].name, name) != 0) continue;
        ck_assert_msg(t[i].ndim == ndim && t[i].shape[0] == s0 && (ndim == 1 || t[i].shape[1] == s1),
                      "%s: shape", name);
        ck_assert_msg(t[i].data == data, "%s: not at its place in the parameter buffer", name);
        return;
    }
    ck_abort_msg("no tensor %s", name);
}

START_TEST(test_table_new_encodings) {
    GPT m;
    CheckpointTensor t[64];
    build(&m, "t5", 16, 2, 1); /* NH 2, 32 buckets, one table for all layers */
    int n = checkpoint_tensor_table(&m, NULL, m.params_memory, t, 64);
    ck_assert_int_eq(n, 1 + 1 + 12 * 2 + 3);
    expect_tensor(t, n, "transformer.relative_attention_bias.weight", 2, 32, 2, m.params.pe);
    gpt_free(&m);

    build(&m, "kerple", 16, 2, 1); /* (p_raw, a_raw) per layer and head */
    n = checkpoint_tensor_table(&m, NULL, m.params_memory, t, 64);
    ck_assert_int_eq(n, 1 + 14 * 2 + 3);
    for (int l = 0; l < 2; l++) {
        char nm[96];
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.kerple.bias_p_raw", l);
        expect_tensor(t, n, nm, 1, 2, 0, m.params.pe + 2 * l);
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.kerple.bias_a_raw", l);
        expect_tensor(t, n, nm, 1, 2, 0, m.params.pe + 4 + 2 * l);
    }
    gpt_free(&m);

    build(&m, "fire", 16, 2, 1); /* hidden 32, NH 2: tensor-major, each (L, ...) */
    n = checkpoint_tensor_table(&m, NULL, m.params_memory, t, 64);
    ck_assert_int_eq(n, 1 + 18 * 2 + 3);
    ck_assert_int_eq((int)m.param_info[16].size, 2 * (32 + 32 + 2 * 32 + 2 + 1 + 1));
    for (int l = 0; l < 2; l++) {
        char nm[96];
        const float *pe = m.params.pe;
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.fire.mlp.0.weight", l);
        expect_tensor(t, n, nm, 2, 32, 1, pe + 32 * l);
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.fire.mlp.0.bias", l);
        expect_tensor(t, n, nm, 1, 32, 0, pe + 64 + 32 * l);
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.fire.mlp.2.weight", l);
        expect_tensor(t, n, nm, 2, 2, 32, pe + 128 + 64 * l);
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.fire.mlp.2.bias", l);
        expect_tensor(t, n, nm, 1, 2, 0, pe + 256 + 2 * l);
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.fire.c", l);
        expect_tensor(t, n, nm, 1, 1, 0, pe + 260 + l);
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.fire.L_multiplier", l);
        expect_tensor(t, n, nm, 1, 1, 0, pe + 262 + l);
        ck_assert(pe[260 + l] == 0.1f && pe[262 + l] == 1.0f); /* FIRE's initial c and L multiplier */
    }
    gpt_free(&m);
}
END_TEST

START_TEST(test_table) {
    GPT m;
    build(&m, "learned", 16, 2, 1);
    int n = checkpoint_tensor_table(&m, "m.", m.grads_memory, NULL, 0);
    ck_assert_int_eq(n, 1 + 1 + 12 * 2 + 3);
    CheckpointTensor *t = calloc((size_t)n, sizeof *t);
    ck_assert_int_eq(checkpoint_tensor_table(&m, "m.", m.grads_memory, t, n), n);
    ck_assert_str_eq(t[0].name, "m.transformer.wte.weight");
    ck_assert(t[0].data == m.grads.wte);
    ck_assert_str_eq(t[1].name, "m.transformer.wpe.weight");
    ck_assert(t[1].data == m.grads.pe);
    ck_assert_str_eq(t[2 + 12 + 2].name, "m.transformer.h.1.attn.c_attn.weight");
    ck_assert(t[2 + 12 + 2].data == m.grads.qkvw + 3 * 16 * 16);
    ck_assert_str_eq(t[n - 1].name, "m.lm_head.weight");
    ck_assert(t[n - 1].data == m.grads.lmw);
    ck_assert_int_eq(checkpoint_tensor_table(&m, "", m.params_memory, t, n - 1), -1);
    free(t);
    gpt_free(&m);

    build(&m, "rope", 16, 2, 1); /* no parameters: no PE tensor */
    ck_assert_int_eq(checkpoint_tensor_table(&m, NULL, m.params_memory, NULL, 0), 1 + 12 * 2 + 3);
    gpt_free(&m);
}
END_TEST

/* ---- the file, read independently --------------------------------------- */

/* The expected tensors, written out from the spec (not from checkpoint.c). */
typedef struct {
    char name[80];
    int ndim;
    long shape[2];
    const float *data;
} Expected;

static int expected_tensors(const GPT *m, Expected *e) {
    long V = m->cfg.V, C = m->cfg.C, F = m->cfg.F, P = m->cfg.P;
    const ParamTensors *p = &m->params;
    int n = 0;
#define ADD(nm, d, s0, s1, ptr)                                                               \
    do {                                                                                      \
        snprintf(e[n].name, sizeof e[n].name, "%s", nm);                                      \
        e[n].ndim = d, e[n].shape[0] = s0, e[n].shape[1] = s1, e[n].data = ptr;               \
        n++;                                                                                  \
    } while (0)
    ADD("transformer.wte.weight", 2, V, C, p->wte);
    ADD("transformer.wpe.weight", 2, P, C, p->pe);
    for (int l = 0; l < m->cfg.L; l++) {
        char nm[80];
#define LAYER(suffix, d, s0, s1, ptr)                                                         \
    do {                                                                                      \
        snprintf(nm, sizeof nm, "transformer.h.%d.%s", l, suffix);                            \
        ADD(nm, d, s0, s1, ptr);                                                              \
    } while (0)
        LAYER("ln_1.weight", 1, C, 0, p->ln1w + l * C);
        LAYER("ln_1.bias", 1, C, 0, p->ln1b + l * C);
        LAYER("attn.c_attn.weight", 2, 3 * C, C, p->qkvw + l * 3 * C * C);
        LAYER("attn.c_attn.bias", 1, 3 * C, 0, p->qkvb + l * 3 * C);
        LAYER("attn.c_proj.weight", 2, C, C, p->attprojw + l * C * C);
        LAYER("attn.c_proj.bias", 1, C, 0, p->attprojb + l * C);
        LAYER("ln_2.weight", 1, C, 0, p->ln2w + l * C);
        LAYER("ln_2.bias", 1, C, 0, p->ln2b + l * C);
        LAYER("mlp.c_fc.weight", 2, F, C, p->fcw + l * F * C);
        LAYER("mlp.c_fc.bias", 1, F, 0, p->fcb + l * F);
        LAYER("mlp.c_proj.weight", 2, C, F, p->fcprojw + l * C * F);
        LAYER("mlp.c_proj.bias", 1, C, 0, p->fcprojb + l * C);
#undef LAYER
    }
    ADD("transformer.ln_f.weight", 1, C, 0, p->lnfw);
    ADD("transformer.ln_f.bias", 1, C, 0, p->lnfb);
    ADD("lm_head.weight", 2, V, C, p->lmw);
#undef ADD
    return n;
}

START_TEST(test_independent_reader) {
    const char *dir = test_tmpdir("ckpt-indep");
    const char *path = path_in(dir, "model.safetensors");
    GPT m;
    build(&m, "learned", 16, 2, 7);
    const char *extra[] = {"git", "abc123", NULL};
    ck_assert_msg(checkpoint_save_ex(path, &m, CONFIG_JSON, 77, extra) == 0, "%s", core_error());

    size_t size;
    unsigned char *b = slurp(path, &size);
    ck_assert(size > 8);
    uint64_t n = get_u64le(b);
    ck_assert(n <= size - 8);
    ck_assert_msg((8 + n) % 8 == 0, "data section at %llu is not 8-byte aligned",
                  (unsigned long long)(8 + n));
    ck_assert_msg(b[8] == '{', "header does not start with {");
    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, n);
    ck_assert_msg(root != NULL && cJSON_IsObject(root), "header is not a JSON object");
    const unsigned char *data = b + 8 + n;
    size_t data_size = size - 8 - n;

    /* metadata */
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    ck_assert(cJSON_IsObject(meta));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "format")->valuestring, "posenc");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "format_version")->valuestring, "1");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "config")->valuestring, CONFIG_JSON);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "step")->valuestring, "77");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "git")->valuestring, "abc123");
    for (const cJSON *e = meta->child; e; e = e->next) ck_assert(cJSON_IsString(e));

    /* every expected tensor, in file order, contiguous from 0, with its bytes */
    Expected *ex = calloc(64, sizeof *ex);
    int ne = expected_tensors(&m, ex);
    size_t floats = 0;
    for (int i = 0; i < ne; i++) floats += (size_t)ex[i].shape[0] * (ex[i].ndim == 2 ? (size_t)ex[i].shape[1] : 1);
    ck_assert_uint_eq(floats, m.num_params);
    ck_assert_int_eq(cJSON_GetArraySize(root), ne + 1); /* + __metadata__: nothing unexpected */
    double at = 0;
    for (int i = 0; i < ne; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, ex[i].name);
        ck_assert_msg(cJSON_IsObject(t), "tensor %s missing", ex[i].name);
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "dtype")->valuestring, "F32");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
        ck_assert_int_eq(cJSON_GetArraySize(shape), ex[i].ndim);
        for (int d = 0; d < ex[i].ndim; d++)
            ck_assert_msg(cJSON_GetArrayItem(shape, d)->valuedouble == (double)ex[i].shape[d],
                          "%s: dim %d is %g, expected %ld", ex[i].name, d,
                          cJSON_GetArrayItem(shape, d)->valuedouble, ex[i].shape[d]);
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        ck_assert_int_eq(cJSON_GetArraySize(offs), 2);
        double begin = cJSON_GetArrayItem(offs, 0)->valuedouble;
        double end = cJSON_GetArrayItem(offs, 1)->valuedouble;
        size_t nbytes = 4 * (size_t)ex[i].shape[0] * (ex[i].ndim == 2 ? (size_t)ex[i].shape[1] : 1);
        ck_assert_msg(begin == at, "%s begins at %g, expected %g", ex[i].name, begin, at);
        ck_assert_msg(end - begin == (double)nbytes, "%s spans %g bytes", ex[i].name, end - begin);
        /* the bytes equal the model's memory (little-endian host) */
        ck_assert_msg(memcmp(data + (size_t)begin, ex[i].data, nbytes) == 0, "%s: bytes differ",
                      ex[i].name);
        at = end;
    }
    ck_assert_msg(at == (double)data_size, "tensors end at %g, data section has %zu bytes", at,
                  data_size);

    /* spot checks named in the spec */
    const cJSON *fc = cJSON_GetObjectItemCaseSensitive(root, "transformer.h.1.mlp.c_fc.weight");
    const cJSON *fcs = cJSON_GetObjectItemCaseSensitive(fc, "shape");
    ck_assert_int_eq(cJSON_GetArrayItem(fcs, 0)->valueint, 64);
    ck_assert_int_eq(cJSON_GetArrayItem(fcs, 1)->valueint, 16);
    /* one tensor decoded float by float */
    const cJSON *fco = cJSON_GetObjectItemCaseSensitive(fc, "data_offsets");
    const unsigned char *fcd = data + (size_t)cJSON_GetArrayItem(fco, 0)->valuedouble;
    for (int i = 0; i < 64 * 16; i++) {
        uint32_t bits = (uint32_t)fcd[4 * i] | (uint32_t)fcd[4 * i + 1] << 8 |
                        (uint32_t)fcd[4 * i + 2] << 16 | (uint32_t)fcd[4 * i + 3] << 24;
        float x;
        memcpy(&x, &bits, 4);
        ck_assert(memcmp(&x, &m.params.fcw[64 * 16 + i], 4) == 0);
    }

    cJSON_Delete(root);
    free(ex);
    free(b);
    gpt_free(&m);
}
END_TEST

START_TEST(test_reserved_metadata) {
    const char *dir = test_tmpdir("ckpt-reserved");
    const char *path = path_in(dir, "model.safetensors");
    GPT m;
    build(&m, "rope", 16, 2, 1);
    const char *extra[] = {"step", "5", NULL};
    expect_error(checkpoint_save_ex(path, &m, CONFIG_JSON, 1, extra), path, "reserved");
    ck_assert_int_eq(dir_entries(dir), 0);
    gpt_free(&m);
}
END_TEST

/* ---- optimizer state ------------------------------------------------------ */

START_TEST(test_optim_roundtrip) {
    const char *dir = test_tmpdir("ckpt-optim");
    const char *path = path_in(dir, "optim.safetensors");
    GPT m;
    build(&m, "learned", 16, 2, 1);
    AdamW a, b;
    adamw_init(&a, m.num_params, 0.1f);
    adamw_init(&b, m.num_params, 0.1f);
    Rng r;
    rng_seed(&r, 99);
    for (size_t i = 0; i < a.n; i++) {
        a.m[i] = rng_normal(&r);
        a.v[i] = rng_uniform(&r) * 1e-3f;
    }
    a.t = 17;
    uint64_t rng_state = 0xDEADBEEFCAFEBABEull; /* above 2^63 */
    ck_assert_msg(optim_save(path, &a, &m, 42, rng_state) == 0, "%s", core_error());

    long step = 0;
    uint64_t rng_back = 0;
    ck_assert_msg(optim_load(path, &b, &m, &step, &rng_back) == 0, "%s", core_error());
    ck_assert(memcmp(a.m, b.m, a.n * sizeof(float)) == 0);
    ck_assert(memcmp(a.v, b.v, a.n * sizeof(float)) == 0);
    ck_assert_int_eq(b.t, 17);
    ck_assert_int_eq(step, 42);
    ck_assert(rng_back == rng_state);

    /* model and optimizer files are not interchangeable */
    char *config = NULL;
    expect_error(checkpoint_read_meta(path, &config, &step), path, "optimizer state, not a posenc model checkpoint");
    ck_assert(config == NULL);
    expect_error(checkpoint_load(path, &m), path, "m.transformer.wte.weight");
    const char *mpath = path_in(dir, "model.safetensors");
    ck_assert(checkpoint_save(mpath, &m, CONFIG_JSON, 1) == 0);
    expect_error(optim_load(mpath, &b, &m, &step, &rng_back), mpath, "not a posenc optimizer state");
    ck_assert_int_eq(b.t, 17);

    adamw_free(&a);
    adamw_free(&b);
    gpt_free(&m);
}
END_TEST

/* ---- damaged and foreign files -------------------------------------------- */

START_TEST(test_truncated) {
    const char *dir = test_tmpdir("ckpt-trunc");
    const char *good = path_in(dir, "good.safetensors");
    const char *bad = path_in(dir, "cut.safetensors");
    GPT a, b;
    build(&a, "learned", 16, 2, 1);
    build(&b, "learned", 16, 2, 2);
    ck_assert(checkpoint_save(good, &a, CONFIG_JSON, 5) == 0);
    size_t size;
    unsigned char *bytes = slurp(good, &size);
    size_t n = (size_t)get_u64le(bytes);
    size_t cuts[] = {0, 3, 7, 8, 9, 8 + n / 2, 8 + n - 1, 8 + n, 8 + n + 1, 8 + n + 5,
                     size / 2, size - 4, size - 1};
    float *before = malloc(b.num_params * sizeof(float));
    memcpy(before, b.params_memory, b.num_params * sizeof(float));
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spill(bad, bytes, cuts[i]);
        expect_error(checkpoint_load(bad, &b), bad, NULL);
        ck_assert_msg(strstr(core_error(), "truncated") != NULL || strstr(core_error(), "JSON") != NULL,
                      "cut at %zu: %s", cuts[i], core_error());
        /* a failed load leaves the model as it was */
        ck_assert(memcmp(before, b.params_memory, b.num_params * sizeof(float)) == 0);
        if (cuts[i] < 8 + n) {
            char *config = NULL;
            long step;
            expect_error(checkpoint_read_meta(bad, &config, &step), bad, NULL);
            ck_assert(config == NULL);
        }
    }
    free(before);
    free(bytes);
    gpt_free(&a);
    gpt_free(&b);
}
END_TEST

START_TEST(test_foreign_files) {
    const char *dir = test_tmpdir("ckpt-foreign");
    const char *path = path_in(dir, "x.safetensors");
    GPT m;
    build(&m, "learned", 16, 2, 1);
    char *config = NULL;
    long step;

    /* random bytes */
    unsigned char junk[4096];
    Rng r;
    rng_seed(&r, 5);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)rng_u64(&r);
    spill(path, junk, sizeof junk);
    expect_error(checkpoint_load(path, &m), path, "not a posenc checkpoint");
    expect_error(checkpoint_read_meta(path, &config, &step), path, "not a posenc checkpoint");

    /* random bytes behind a plausible length */
    put_u64le(junk, 100);
    spill(path, junk, sizeof junk);
    expect_error(checkpoint_load(path, &m), path, "not a posenc checkpoint");

    /* a JSON file */
    const char *json = "{\"model\": {\"C\": 16}}\n";
    spill(path, json, strlen(json));
    expect_error(checkpoint_load(path, &m), path, "not a posenc checkpoint");

    /* header length larger than the file */
    unsigned char small[10];
    put_u64le(small, 1000);
    memcpy(small + 8, "{}", 2);
    spill(path, small, sizeof small);
    expect_error(checkpoint_load(path, &m), path, "exceeds");

    /* valid safetensors without tensors or posenc metadata */
    unsigned char empty[16];
    put_u64le(empty, 8);
    memcpy(empty + 8, "{}      ", 8);
    spill(path, empty, sizeof empty);
    expect_error(checkpoint_load(path, &m), path, "transformer.wte.weight: missing");
    expect_error(checkpoint_read_meta(path, &config, &step), path, "format");

    /* a directory, a missing file */
    expect_error(checkpoint_load(dir, &m), dir, "not a regular file");
    const char *none = path_in(dir, "none.safetensors");
    expect_error(checkpoint_load(none, &m), none, "No such file");
    ck_assert(config == NULL);
    gpt_free(&m);
}
END_TEST

static void edit_f16(cJSON *root) {
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "transformer.h.0.ln_1.weight");
    cJSON_ReplaceItemInObjectCaseSensitive(t, "dtype", cJSON_CreateString("F16"));
}

static void edit_drop(cJSON *root) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, "transformer.ln_f.bias");
}

static void edit_gap(cJSON *root) {
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "transformer.wte.weight");
    cJSON *offs = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    double end = cJSON_GetArrayItem(offs, 1)->valuedouble;
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber(4));
    cJSON_ReplaceItemInArray(offs, 1, cJSON_CreateNumber(end + 4));
}

static void edit_extra(cJSON *root) {
    cJSON *t = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "transformer.ln_f.bias"), 1);
    cJSON_AddItemToObject(root, "transformer.ln_g.bias", t);
}

static void edit_reverse(cJSON *root) { /* same tensors, header order reversed */
    cJSON *items[64];
    int n = 0;
    while (root->child) items[n++] = cJSON_DetachItemViaPointer(root, root->child);
    while (n > 0) {
        cJSON *it = items[--n];
        cJSON_AddItemToObject(root, it->string, it); /* string was detached with it */
    }
}

START_TEST(test_edited_headers) {
    const char *dir = test_tmpdir("ckpt-edit");
    const char *good = path_in(dir, "good.safetensors");
    const char *bad = path_in(dir, "bad.safetensors");
    GPT m;
    build(&m, "learned", 16, 2, 1);
    ck_assert(checkpoint_save(good, &m, CONFIG_JSON, 5) == 0);

    rewrite_header(good, bad, edit_f16);
    expect_error(checkpoint_load(bad, &m), bad, "tensor transformer.h.0.ln_1.weight: dtype F16");
    rewrite_header(good, bad, edit_drop);
    expect_error(checkpoint_load(bad, &m), bad, "tensor transformer.ln_f.bias: missing");
    rewrite_header(good, bad, edit_gap);
    expect_error(checkpoint_load(bad, &m), bad, "gap or overlap");
    rewrite_header(good, bad, edit_extra);
    expect_error(checkpoint_load(bad, &m), bad, "transformer.ln_g.bias: not in this model");

    /* header order does not matter, only the offsets */
    rewrite_header(good, bad, edit_reverse);
    GPT b;
    build(&b, "learned", 16, 2, 2);
    ck_assert_msg(checkpoint_load(bad, &b) == 0, "%s", core_error());
    ck_assert(memcmp(m.params_memory, b.params_memory, m.num_params * sizeof(float)) == 0);
    gpt_free(&b);
    gpt_free(&m);
}
END_TEST

START_TEST(test_other_config) {
    const char *dir = test_tmpdir("ckpt-config");
    const char *path = path_in(dir, "model.safetensors");
    GPT a, b;
    build(&a, "learned", 16, 2, 1);
    ck_assert(checkpoint_save(path, &a, CONFIG_JSON, 5) == 0);

    build(&b, "learned", 32, 2, 1); /* another C */
    expect_error(checkpoint_load(path, &b), path,
                 "tensor transformer.wte.weight: shape [14, 16] does not match the model's [14, 32]");
    gpt_free(&b);
    build(&b, "learned", 16, 3, 1); /* another L */
    expect_error(checkpoint_load(path, &b), path, "tensor transformer.h.2.ln_1.weight: missing");
    gpt_free(&b);
    build(&b, "learned", 16, 1, 1);
    expect_error(checkpoint_load(path, &b), path, "transformer.h.1.ln_1.weight: not in this model");
    gpt_free(&b);
    build(&b, "rope", 16, 2, 1); /* another PE */
    expect_error(checkpoint_load(path, &b), path, "transformer.wpe.weight: not in this model");
    gpt_free(&b);
    gpt_free(&a);
}
END_TEST

/* ---- atomic writes ------------------------------------------------------- */

START_TEST(test_missing_directory) {
    const char *dir = test_tmpdir("ckpt-nodir");
    const char *path = path_in(dir, "no/such/dir/model.safetensors");
    GPT m;
    build(&m, "rope", 16, 2, 1);
    expect_error(checkpoint_save(path, &m, CONFIG_JSON, 1), path, "No such file or directory");
    AdamW opt;
    adamw_init(&opt, m.num_params, 0.0f);
    expect_error(optim_save(path, &opt, &m, 1, 0), path, "No such file or directory");
    ck_assert_int_eq(dir_entries(dir), 0);
    adamw_free(&opt);
    gpt_free(&m);
}
END_TEST

START_TEST(test_rename_fails) {
    /* the target is a directory: everything but the rename succeeds */
    const char *dir = test_tmpdir("ckpt-rename");
    const char *path = path_in(dir, "model.safetensors");
    ck_assert(mkdir(path, 0755) == 0);
    GPT m;
    build(&m, "rope", 16, 2, 1);
    expect_error(checkpoint_save(path, &m, CONFIG_JSON, 1), path, "Is a directory");
    ck_assert_int_eq(dir_entries(dir), 1); /* the directory itself, no temporary file */
    gpt_free(&m);
}
END_TEST

START_TEST(test_failed_write_keeps_old) {
    /* A child process saves over a good checkpoint with RLIMIT_FSIZE below
     * the file's size (SIGXFSZ ignored, so write() fails with EFBIG): the
     * real fwrite/fflush error path, no test hook in the library. */
    const char *dir = test_tmpdir("ckpt-efbig");
    const char *path = path_in(dir, "model.safetensors");
    GPT a, b;
    build(&a, "learned", 16, 2, 1);
    build(&b, "learned", 16, 2, 2);
    ck_assert(checkpoint_save(path, &a, CONFIG_JSON, 5) == 0);
    size_t good_size;
    free(slurp(path, &good_size));

    for (int limit = 0; limit < 2; limit++) {
        rlim_t cap = limit == 0 ? 4 : (rlim_t)good_size - 100; /* in the header / in the data */
        int fds[2];
        ck_assert(pipe(fds) == 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {cap, cap};
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
            int rc = checkpoint_save(path, &b, CONFIG_JSON, 6);
            const char *msg = core_error();
            if (write(fds[1], msg, strlen(msg)) < 0) _exit(4);
            _exit(rc == 0 ? 0 : 1);
        }
        close(fds[1]);
        char msg[2048] = {0};
        size_t got = 0;
        for (ssize_t k; (k = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0;) got += (size_t)k;
        close(fds[0]);
        int status;
        ck_assert(waitpid(pid, &status, 0) == pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
                      "child: status %d, message %s", status, msg);
        ck_assert_msg(strstr(msg, path) && strstr(msg, "File too large"), "message: %s", msg);

        /* the old checkpoint is intact, and no temporary file is left */
        ck_assert_int_eq(dir_entries(dir), 1);
        GPT c;
        build(&c, "learned", 16, 2, 3);
        ck_assert_msg(checkpoint_load(path, &c) == 0, "%s", core_error());
        ck_assert(memcmp(a.params_memory, c.params_memory, a.num_params * sizeof(float)) == 0);
        char *config = NULL;
        long step;
        ck_assert(checkpoint_read_meta(path, &config, &step) == 0);
        ck_assert_int_eq(step, 5);
        free(config);
        gpt_free(&c);
    }
    gpt_free(&a);
    gpt_free(&b);
}
END_TEST

Suite *checkpoint_suite(void) {
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_roundtrip_each_encoding);
    tcase_add_test(tc, test_table_new_encodings);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_independent_reader);
    tcase_add_test(tc, test_reserved_metadata);
    tcase_add_test(tc, test_optim_roundtrip);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_foreign_files);
    tcase_add_test(tc, test_edited_headers);
    tcase_add_test(tc, test_other_config);
    tcase_add_test(tc, test_missing_directory);
    tcase_add_test(tc, test_rename_fails);
    tcase_add_test(tc, test_failed_write_keeps_old);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(checkpoint_suite()); }

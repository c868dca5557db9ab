/*
 * checkpoint.c — safetensors writer and validating reader (see checkpoint.h).
 *
 * Layout of this file: the tensor table; a generic safetensors writer
 * (st_save: header with cJSON, atomic write); a generic reader (st_open reads
 * and checks the header, st_read_tensors validates the entries against a
 * table and reads the data); then the four public entry points, which only
 * choose a table and the metadata.
 */
#include "run/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/rng.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes float32 data as in memory: safetensors needs a little-endian host"
#endif

#define ST_MAX_HEADER (100u * 1000u * 1000u) /* bytes: larger headers are rejected */
#define ST_MAX_NDIM 8                        /* more dimensions than this: not ours */
#define FORMAT_NAME "posenc"
#define FORMAT_VERSION "1"

/* ---- the tensor table ------------------------------------------------- */

typedef struct {
    const GPT *m;
    const char *prefix;
    float *buf;
    CheckpointTensor *out;  /* NULL: count only */
    int max, n;
    size_t total;           /* floats enumerated so far */
    int failed;
} TableBuilder;

/* Append one tensor: `view` is the tensor inside m->params_memory (a view
 * from m->params), layer >= 0 prefixes "transformer.h.<layer>.", d1 == 0
 * means 1-D. */
static void tb_add(TableBuilder *tb, int layer, const char *name, const float *view,
                   size_t d0, size_t d1) {
    if (tb->failed) return;
    const GPT *m = tb->m;
    size_t size = d1 ? d0 * d1 : d0;
    if (view < m->params_memory || (size_t)(view - m->params_memory) + size > m->num_params) {
        tb->failed = core_errorf("checkpoint: tensor %s (layer %d) lies outside the parameter "
                               "buffer (model not built?)", name, layer);
        return;
    }
    tb->total += size;
    if (tb->out) {
        if (tb->n >= tb->max) {
            tb->failed = core_errorf("checkpoint: tensor table capacity %d is too small", tb->max);
            return;
        }
        CheckpointTensor *t = &tb->out[tb->n];
        const char *prefix = tb->prefix ? tb->prefix : "";
        int len = layer >= 0
            ? snprintf(t->name, sizeof t->name, "%stransformer.h.%d.%s", prefix, layer, name)
            : snprintf(t->name, sizeof t->name, "%s%s", prefix, name);
        if (len < 0 || (size_t)len >= sizeof t->name) {
            tb->failed = core_errorf("checkpoint: tensor name %s%s is too long", prefix, name);
            return;
        }
        t->ndim = d1 ? 2 : 1;
        t->shape[0] = d0;
        t->shape[1] = d1;
        t->size = size;
        t->data = tb->buf + (view - m->params_memory);
    }
    tb->n++;
}

int checkpoint_tensor_table(const GPT *m, const char *prefix, float *buf,
                            CheckpointTensor *out, int max) {
    TableBuilder tb = {.m = m, .prefix = prefix, .buf = buf, .out = out, .max = max};
    const ParamTensors *p = &m->params;
    size_t V = m->cfg.V, C = m->cfg.C, F = m->cfg.F;

    tb_add(&tb, -1, "transformer.wte.weight", p->wte, V, C);
    /* position-encoding tensors under the module's names (pe.h PETensor):
     * global ones here, per-layer ones with their layer below */
    PETensor pt[PE_MAX_TENSORS];
    int npt = pe_tensors(&m->pe, pt);
    char name[96];
    for (int k = 0; k < npt; k++) {
        if (pt[k].per_layer) continue;
        snprintf(name, sizeof name, "transformer.%.*s", (int)sizeof pt[k].name, pt[k].name);
        tb_add(&tb, -1, name, p->pe + pe_tensor_offset(&m->pe.cfg, pt, k, 0), pt[k].d0, pt[k].d1);
    }
    for (int l = 0; l < m->cfg.L; l++) {
        tb_add(&tb, l, "ln_1.weight", p->ln1w + l * C, C, 0);
        tb_add(&tb, l, "ln_1.bias", p->ln1b + l * C, C, 0);
        tb_add(&tb, l, "attn.c_attn.weight", p->qkvw + l * 3 * C * C, 3 * C, C);
        tb_add(&tb, l, "attn.c_attn.bias", p->qkvb + l * 3 * C, 3 * C, 0);
        tb_add(&tb, l, "attn.c_proj.weight", p->attprojw + l * C * C, C, C);
        tb_add(&tb, l, "attn.c_proj.bias", p->attprojb + l * C, C, 0);
        tb_add(&tb, l, "ln_2.weight", p->ln2w + l * C, C, 0);
        tb_add(&tb, l, "ln_2.bias", p->ln2b + l * C, C, 0);
        tb_add(&tb, l, "mlp.c_fc.weight", p->fcw + l * F * C, F, C);
        tb_add(&tb, l, "mlp.c_fc.bias", p->fcb + l * F, F, 0);
        tb_add(&tb, l, "mlp.c_proj.weight", p->fcprojw + l * C * F, C, F);
        tb_add(&tb, l, "mlp.c_proj.bias", p->fcprojb + l * C, C, 0);
        for (int k = 0; k < npt; k++)
            if (pt[k].per_layer)
                tb_add(&tb, l, pt[k].name, p->pe + pe_tensor_offset(&m->pe.cfg, pt, k, l), pt[k].d0, pt[k].d1);
    }
    tb_add(&tb, -1, "transformer.ln_f.weight", p->lnfw, C, 0);
    tb_add(&tb, -1, "transformer.ln_f.bias", p->lnfb, C, 0);
    tb_add(&tb, -1, "lm_head.weight", p->lmw, V, C);

    if (tb.failed) return -1;
    if (tb.total != m->num_params)
        return core_errorf("checkpoint: the tensor table covers %zu floats but the model has "
                         "%zu parameters (parameter layout changed?)", tb.total, m->num_params);
    return tb.n;
}

/* The table for `buf` in a malloc'd array placed at (*tab)[*n ...]: grows
 * *tab. Used to concatenate the m. and v. tables of the optimizer. */
static int table_append(const GPT *m, const char *prefix, float *buf,
                        CheckpointTensor **tab, int *n) {
    int k = checkpoint_tensor_table(m, prefix, buf, NULL, 0);
    if (k < 0) return -1;
    CheckpointTensor *t = core_realloc(*tab, (size_t)(*n + k) * sizeof *t);
    *tab = t;
    if (checkpoint_tensor_table(m, prefix, buf, t + *n, k) != k) return -1;
    *n += k;
    return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* Add string pairs to an object; -1 (no message) if cJSON runs out of memory. */
static int meta_add(cJSON *meta, const char *key, const char *value) {
    return cJSON_AddStringToObject(meta, key, value) ? 0 : -1;
}

/* The header JSON for `meta` (whose ownership passes to this function) and
 * the table, padded with spaces to a multiple of 8 bytes. Returns a
 * malloc'd string (length in *len) or NULL after core_errorf. */
static char *st_header(const char *path, cJSON *meta, const CheckpointTensor *tab, int n,
                       size_t *len) {
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok)
        cJSON_AddItemToObject(root, "__metadata__", meta);
    else
        cJSON_Delete(meta);
    size_t begin = 0;
    for (int i = 0; ok && i < n; i++) {
        cJSON *t = cJSON_AddObjectToObject(root, tab[i].name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        ok = offs && cJSON_AddStringToObject(t, "dtype", "F32");
        for (int d = 0; ok && d < tab[i].ndim; d++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)tab[i].shape[d]));
        size_t end = begin + tab[i].size * sizeof(float);
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)begin));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)end));
        begin = end;
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) {
        core_errorf("%s: out of memory building the checkpoint header", path);
        return NULL;
    }
    size_t raw = strlen(json), padded = (raw + 7) / 8 * 8;
    char *h = core_realloc(json, padded + 1);
    memset(h + raw, ' ', padded - raw);
    h[padded] = '\0';
    *len = padded;
    return h;
}

/* Write a safetensors file with `meta` (ownership passes here) as
 * __metadata__ and the table's tensors, atomically and durably through
 * fsutil's one writer (crash-test points "st.partial": the length and header
 * written, no tensor yet; "st.rename": complete, not yet renamed). */
static int st_save(const char *path, cJSON *meta, const CheckpointTensor *tab, int n) {
    size_t hlen;
    char *header = st_header(path, meta, tab, n, &hlen);
    if (!header) return -1;
    /* the 8-byte little-endian header length, then the header: one part */
    char *head = core_calloc(8 + hlen, 1);
    FilePart *parts = core_calloc((size_t)n + 1, sizeof *parts);
    for (int i = 0; i < 8; i++) head[i] = (char)(unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(head + 8, header, hlen);
    parts[0] = (FilePart){head, 8 + hlen};
    for (int i = 0; i < n; i++) parts[i + 1] = (FilePart){tab[i].data, sizeof(float) * tab[i].size};
    int rc = file_write_atomic_parts(path, parts, n + 1, "st");
    free(parts);
    free(head);
    free(header);
    return rc;
}

/* __metadata__ with the entries every posenc file has. NULL on OOM. */
static cJSON *meta_new(const char *kind, long step) {
    cJSON *meta = cJSON_CreateObject();
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", step);
    if (!meta || meta_add(meta, "format", FORMAT_NAME) || meta_add(meta, "format_version", FORMAT_VERSION) ||
        meta_add(meta, "kind", kind) || meta_add(meta, "step", buf)) {
        cJSON_Delete(meta);
        return NULL;
    }
    return meta;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct {
    const char *path;
    FILE *f;
    uint64_t file_size;
    uint64_t header_len;   /* N: the data section starts at 8 + N */
    cJSON *root;           /* the parsed header */
    const cJSON *meta;     /* root's __metadata__, or NULL */
} STFile;

static void st_close(STFile *st) {
    if (st->f) fclose(st->f);
    cJSON_Delete(st->root);
    st->f = NULL;
    st->root = NULL;
}

#define NOT_OURS "%s: not a posenc checkpoint: "

/* Open `path`, read and parse its header, check its overall structure. On
 * failure everything is released. */
static int st_open(STFile *st, const char *path) {
    memset(st, 0, sizeof *st);
    st->path = path;
    /* a regular file only (a FIFO or device is refused before it is read); the
     * header then bounds every read by the file's size */
    size_t size = 0;
    int fd = file_open_regular(path, (size_t)1 << 40, &size);
    if (fd < 0) return -1;
    st->f = fdopen(fd, "rb");
    if (!st->f) {
        close(fd);
        return core_errorf("%s: cannot open: %s", path, strerror(errno));
    }
    st->file_size = (uint64_t)size;

    unsigned char len8[8];
    if (st->file_size < 8 || fread(len8, 1, 8, st->f) != 8) {
        st_close(st);
        return core_errorf(NOT_OURS "the file has only %llu bytes (truncated?)", path,
                         (unsigned long long)st->file_size);
    }
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)len8[i] << (8 * i);
    st->header_len = n;
    if (n < 2 || n >= ST_MAX_HEADER) {
        st_close(st);
        return core_errorf(NOT_OURS "implausible header length %llu", path, (unsigned long long)n);
    }
    if (n > st->file_size - 8) {
        st_close(st);
        return core_errorf(NOT_OURS "header length %llu exceeds the %llu bytes after it "
                         "(truncated?)", path, (unsigned long long)n,
                         (unsigned long long)(st->file_size - 8));
    }
    char *text = core_calloc(n, 1);
    if (fread(text, 1, n, st->f) != n) {
        int err = ferror(st->f) ? errno : 0;
        free(text);
        st_close(st);
        return core_errorf("%s: cannot read the header: %s", path,
                         err ? strerror(err) : "unexpected end of file");
    }
    const char *end = NULL;
    st->root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    int bad_json = !st->root;
    size_t at = end ? (size_t)(end - text) : 0;
    for (size_t i = at; !bad_json && i < n; i++)
        if (!strchr(" \t\r\n", text[i]) || text[i] == '\0') bad_json = 1;
    free(text);
    if (bad_json) {
        st_close(st);
        return core_errorf(NOT_OURS "the header is not one valid JSON value (error near byte %zu "
                         "of %llu)", path, at, (unsigned long long)n);
    }
    if (!cJSON_IsObject(st->root)) {
        st_close(st);
        return core_errorf(NOT_OURS "the header is not a JSON object", path);
    }
    st->meta = cJSON_GetObjectItemCaseSensitive(st->root, "__metadata__");
    if (st->meta) {
        int ok = cJSON_IsObject(st->meta);
        for (const cJSON *e = ok ? st->meta->child : NULL; e; e = e->next)
            if (!cJSON_IsString(e)) ok = 0;
        if (!ok) {
            st_close(st);
            return core_errorf(NOT_OURS "__metadata__ is not an object of strings", path);
        }
    }
    return 0;
}

/* The string metadata value for `key`, or NULL. */
static const char *st_meta(const STFile *st, const char *key) {
    const cJSON *v = st->meta ? cJSON_GetObjectItemCaseSensitive(st->meta, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *kind_desc(const char *kind) {
    if (!kind) return "a posenc file of unknown kind";
    if (strcmp(kind, "model") == 0) return "a posenc model checkpoint";
    if (strcmp(kind, "optimizer") == 0) return "a posenc optimizer state";
    return "a posenc file of another kind";
}

/* Check that the metadata marks a posenc file of a readable version and of
 * the given kind ("model" / "optimizer"). */
static int st_check_kind(const STFile *st, const char *kind) {
    const char *format = st_meta(st, "format");
    if (!format || strcmp(format, FORMAT_NAME) != 0)
        return core_errorf(NOT_OURS "__metadata__ has no \"format\": \"" FORMAT_NAME "\"", st->path);
    const char *version = st_meta(st, "format_version");
    if (!version || strcmp(version, FORMAT_VERSION) != 0)
        return core_errorf("%s: posenc checkpoint format_version %s is not supported (this build "
                         "reads " FORMAT_VERSION ")", st->path, version ? version : "(missing)");
    const char *k = st_meta(st, "kind");
    if (!k || strcmp(k, kind) != 0)
        return core_errorf("%s: %s, not %s", st->path, kind_desc(k), kind_desc(kind));
    return 0;
}

/* Decimal metadata fields. */
static int st_meta_u64(const STFile *st, const char *key, uint64_t *out) {
    const char *s = st_meta(st, key);
    if (!s) return core_errorf("%s: __metadata__ has no \"%s\"", st->path, key);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno)
        return core_errorf("%s: __metadata__ \"%s\" is \"%s\", not a non-negative decimal integer",
                         st->path, key, s);
    *out = v;
    return 0;
}

static int st_meta_long(const STFile *st, const char *key, long *out) {
    const char *s = st_meta(st, key);
    if (!s) return core_errorf("%s: __metadata__ has no \"%s\"", st->path, key);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-') || *end || errno)
        return core_errorf("%s: __metadata__ \"%s\" is \"%s\", not a decimal integer",
                         st->path, key, s);
    *out = v;
    return 0;
}

/* A JSON number that is an exact non-negative integer (<= 2^53). */
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
}

static void shape_str(char *buf, size_t cap, const uint64_t *shape, int ndim) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%llu", d ? ", " : "",
                              (unsigned long long)shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* Check one header entry against the table entry `t`; on success
 * *begin is its data offset. `data_size` is the data section's length. */
static int st_check_entry(const STFile *st, const cJSON *e, const CheckpointTensor *t,
                          uint64_t data_size, uint64_t *begin) {
    const char *path = st->path, *name = t->name;
    if (!cJSON_IsObject(e)) return core_errorf(NOT_OURS "tensor %s: entry is not an object", path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dtype))
        return core_errorf(NOT_OURS "tensor %s: no dtype", path, name);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return core_errorf("%s: tensor %s: dtype %s, expected F32", path, name, dtype->valuestring);

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    uint64_t got[ST_MAX_NDIM];
    int ndim = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
    if (ndim < 0 || ndim > ST_MAX_NDIM)
        return core_errorf(NOT_OURS "tensor %s: shape is not an array of at most %d integers",
                         path, name, ST_MAX_NDIM);
    int d = 0;
    for (const cJSON *x = shape->child; x; x = x->next, d++)
        if (json_uint(x, &got[d]))
            return core_errorf(NOT_OURS "tensor %s: shape holds a non-integer", path, name);
    uint64_t want[2] = {t->shape[0], t->shape[1]};
    int same = ndim == t->ndim;
    for (d = 0; same && d < ndim; d++) same = got[d] == want[d];
    if (!same) {
        char gs[128], ws[64];
        shape_str(gs, sizeof gs, got, ndim);
        shape_str(ws, sizeof ws, want, t->ndim);
        return core_errorf("%s: tensor %s: shape %s does not match the model's %s", path, name, gs, ws);
    }

    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t b, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || json_uint(offs->child, &b) ||
        json_uint(offs->child->next, &end))
        return core_errorf(NOT_OURS "tensor %s: data_offsets is not [begin, end]", path, name);
    if (b > end || end > data_size)
        return core_errorf(NOT_OURS "tensor %s: data_offsets [%llu, %llu] outside the %llu-byte data "
                         "section (truncated?)", path, name, (unsigned long long)b,
                         (unsigned long long)end, (unsigned long long)data_size);
    if (end - b != (uint64_t)t->size * sizeof(float))
        return core_errorf(NOT_OURS "tensor %s: data_offsets span %llu bytes, its shape needs %llu",
                         path, name, (unsigned long long)(end - b),
                         (unsigned long long)t->size * sizeof(float));
    *begin = b;
    return 0;
}

typedef struct {
    uint64_t begin;
    int index;
} Span;

static int span_cmp(const void *a, const void *b) {
    const Span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Validate the header's tensors against `tab` (every entry present once,
 * nothing else, tiling the data section) and read them. The data go to a
 * scratch buffer first and are copied to tab[i].data only when everything
 * succeeded. */
static int st_read_tensors(const STFile *st, const CheckpointTensor *tab, int n) {
    const char *path = st->path;
    uint64_t data_start = 8 + st->header_len, data_size = st->file_size - data_start;
    Span *spans = core_calloc((size_t)n + 1, sizeof *spans);
    size_t *scratch_off = core_calloc((size_t)n + 1, sizeof *scratch_off);
    float *scratch = NULL;
    int rc = -1;
    for (int i = 0; i < n; i++) spans[i].index = -1;

    for (const cJSON *e = st->root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) continue;
        int i = 0;
        while (i < n && strcmp(tab[i].name, e->string) != 0) i++;
        if (i == n) {
            core_errorf("%s: tensor %s: not in this model (checkpoint of another configuration?)",
                      path, e->string);
            goto done;
        }
        if (spans[i].index >= 0) {
            core_errorf(NOT_OURS "tensor %s appears twice", path, e->string);
            goto done;
        }
        if (st_check_entry(st, e, &tab[i], data_size, &spans[i].begin)) goto done;
        spans[i].index = i;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (spans[i].index < 0) {
            core_errorf("%s: tensor %s: missing (checkpoint of another configuration?)", path,
                      tab[i].name);
            goto done;
        }
        scratch_off[i] = total;
        total += tab[i].size;
    }
    /* The tensors must tile [0, data_size): sorted by begin, each starts
     * where the previous ended, and the last ends at the end of the file. */
    qsort(spans, (size_t)n, sizeof *spans, span_cmp);
    uint64_t at = 0;
    for (int k = 0; k < n; k++) {
        if (spans[k].begin != at) {
            core_errorf(NOT_OURS "tensor %s: data starts at %llu, expected %llu (gap or overlap)",
                      path, tab[spans[k].index].name, (unsigned long long)spans[k].begin,
                      (unsigned long long)at);
            goto done;
        }
        at += tab[spans[k].index].size * sizeof(float);
    }
    if (at != data_size) {
        core_errorf(NOT_OURS "%llu bytes after the last tensor", path,
                  (unsigned long long)(data_size - at));
        goto done;
    }

    scratch = core_calloc(total ? total : 1, sizeof(float));
    for (int k = 0; k < n; k++) { /* in file order */
        const CheckpointTensor *t = &tab[spans[k].index];
        errno = 0;
        if (fseeko(st->f, (off_t)(data_start + spans[k].begin), SEEK_SET) != 0 ||
            fread(scratch + scratch_off[spans[k].index], sizeof(float), t->size, st->f) != t->size) {
            core_errorf("%s: tensor %s: cannot read its data: %s", path, t->name,
                      errno ? strerror(errno) : "unexpected end of file");
            goto done;
        }
    }
    for (int i = 0; i < n; i++)
        memcpy(tab[i].data, scratch + scratch_off[i], tab[i].size * sizeof(float));
    rc = 0;
done:
    free(scratch);
    free(scratch_off);
    free(spans);
    return rc;
}

/* ---- public API ------------------------------------------------------- */

static const char *const reserved_keys[] = {"format", "format_version", "kind", "config", "step",
                                            NULL};

int checkpoint_save_ex(const char *path, const GPT *m, const char *config_json, long step,
                       const char *const *extra) {
    for (const char *const *kv = extra; kv && kv[0]; kv += 2) {
        if (!kv[1]) return core_errorf("%s: metadata key %s has no value", path, kv[0]);
        for (const char *const *r = reserved_keys; *r; r++)
            if (strcmp(kv[0], *r) == 0)
                return core_errorf("%s: metadata key %s is reserved", path, kv[0]);
    }
    CheckpointTensor *tab = NULL;
    int n = 0;
    if (table_append(m, "", m->params_memory, &tab, &n)) {
        free(tab);
        return -1;
    }
    cJSON *meta = meta_new("model", step);
    int ok = meta != NULL;
    if (ok && config_json) ok = meta_add(meta, "config", config_json) == 0;
    for (const char *const *kv = extra; ok && kv && kv[0]; kv += 2)
        ok = meta_add(meta, kv[0], kv[1]) == 0;
    int rc;
    if (!ok) {
        cJSON_Delete(meta);
        rc = core_errorf("%s: out of memory", path);
    } else {
        rc = st_save(path, meta, tab, n);
    }
    free(tab);
    return rc;
}

int checkpoint_save(const char *path, const GPT *m, const char *config_json, long step) {
    return checkpoint_save_ex(path, m, config_json, step, NULL);
}

int checkpoint_read_meta(const char *path, char **config_json, long *step) {
    STFile st;
    if (st_open(&st, path)) return -1;
    long s = 0;
    int rc = st_check_kind(&st, "model");
    if (!rc) rc = st_meta_long(&st, "step", &s);
    const char *config = st_meta(&st, "config");
    if (!rc && !config) rc = core_errorf("%s: __metadata__ has no \"config\"", path);
    if (!rc) {
        *config_json = core_strdup(config);
        *step = s;
    }
    st_close(&st);
    return rc;
}

int checkpoint_load(const char *path, GPT *m) {
    CheckpointTensor *tab = NULL;
    int n = 0;
    STFile st;
    int rc = table_append(m, "", m->params_memory, &tab, &n);
    if (!rc) rc = st_open(&st, path);
    if (!rc) {
        rc = st_read_tensors(&st, tab, n);
        st_close(&st);
    }
    free(tab);
    return rc;
}

int optim_save(const char *path, const AdamW *opt, const GPT *m, long step, uint64_t rng_state) {
    if (opt->n != m->num_params)
        return core_errorf("%s: optimizer has %zu entries, the model %zu parameters", path, opt->n,
                         m->num_params);
    CheckpointTensor *tab = NULL;
    int n = 0;
    if (table_append(m, "m.", opt->m, &tab, &n) || table_append(m, "v.", opt->v, &tab, &n)) {
        free(tab);
        return -1;
    }
    char t[32], rng[32];
    snprintf(t, sizeof t, "%ld", opt->t);
    snprintf(rng, sizeof rng, "%llu", (unsigned long long)rng_state);
    cJSON *meta = meta_new("optimizer", step);
    int rc;
    if (!meta || meta_add(meta, "t", t) || meta_add(meta, "rng", rng)) {
        cJSON_Delete(meta);
        rc = core_errorf("%s: out of memory", path);
    } else {
        rc = st_save(path, meta, tab, n);
    }
    free(tab);
    return rc;
}

int optim_load(const char *path, AdamW *opt, const GPT *m, long *step, uint64_t *rng_state) {
    if (opt->n != m->num_params)
        return core_errorf("%s: optimizer has %zu entries, the model %zu parameters", path, opt->n,
                         m->num_params);
    CheckpointTensor *tab = NULL;
    int n = 0;
    STFile st;
    long t = 0, s = 0;
    uint64_t rng = 0;
    int rc = table_append(m, "m.", opt->m, &tab, &n);
    if (!rc) rc = table_append(m, "v.", opt->v, &tab, &n);
    if (!rc) rc = st_open(&st, path);
    if (!rc) {
        rc = st_check_kind(&st, "optimizer");
        if (!rc) rc = st_meta_long(&st, "t", &t);
        if (!rc && t < 0) rc = core_errorf("%s: __metadata__ \"t\" is negative", path);
        if (!rc) rc = st_meta_long(&st, "step", &s);
        if (!rc) rc = st_meta_u64(&st, "rng", &rng);
        if (!rc) rc = st_read_tensors(&st, tab, n);
        st_close(&st);
    }
    free(tab);
    if (rc) return rc;
    opt->t = t;
    *step = s;
    *rng_state = rng;
    return 0;
}

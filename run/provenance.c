/*
 * provenance.c — RUN/provenance.json (see provenance.h).
 */
#include "run/provenance.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

#include "core/blas.h"
#include "core/error.h"
#include "core/fsutil.h"

/* written by the Makefile (build/gen/posenc_build.h): version and flags */
#if defined(__has_include)
#if __has_include("posenc_build.h")
#include "posenc_build.h"
#endif
#endif
#ifndef POSENC_VERSION
#define POSENC_VERSION "unknown"
#endif
#ifndef POSENC_BUILD_CFLAGS
#define POSENC_BUILD_CFLAGS "unknown"
#endif
#ifndef POSENC_BUILD_KERNEL_CFLAGS
#define POSENC_BUILD_KERNEL_CFLAGS "unknown"
#endif

#define PROV_FILE "provenance.json"
#define PROV_MAX_BYTES (4u << 20) /* a run's provenance is a few KB; refuse more */

const char *posenc_version(void) { return POSENC_VERSION; }
const char *posenc_cflags(void) { return POSENC_BUILD_CFLAGS; }
const char *posenc_kernel_cflags(void) { return POSENC_BUILD_KERNEL_CFLAGS; }

const char *posenc_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

static void libc_version(char *buf, size_t n) {
#if defined(__GLIBC__)
    snprintf(buf, n, "glibc %s", gnu_get_libc_version());
#else
    snprintf(buf, n, "unknown");
#endif
}

static void cpu_model(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *p = strchr(line, ':');
        if (!p) break;
        p++;
        while (*p == ' ' || *p == '\t') p++;
        snprintf(buf, cap, "%s", p);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static void utc_now(char *buf, size_t cap) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void provenance_print_version(void) {
    const BlasInfo *b = blas_info();
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("posenc %s\n", posenc_version());
    printf("compiler: %s\n", posenc_compiler());
    printf("cflags: %s\n", posenc_cflags());
    printf("kernel cflags: %s\n", posenc_kernel_cflags());
    printf("openblas: %s\n", b->config);
    printf("blas kernel: %s (%s%s)\n", b->kernel, b->mode, b->pinned ? ", reproducible" : ", NOT reproducible");
    char libc[64];
    libc_version(libc, sizeof libc);
    printf("libc: %s\n", libc);
    printf("cpu: %s\n", cpu);
}

/* DIR/provenance.json parsed (NULL with *absent = 1 when there is none; NULL
 * after core_errorf when it is not a valid provenance file). */
static cJSON *prov_load(const char *dir, int *absent) {
    char path[4096];
    *absent = 0;
    if (path_join(path, sizeof path, dir, PROV_FILE) != 0) {
        core_errorf("%s: path too long", dir);
        return NULL;
    }
    const int has = path_probe(path, "the run's provenance");
    if (has < 0) return NULL;
    if (!has) {
        *absent = 1;
        return NULL;
    }
    size_t n = 0;
    char *text = file_read_capped(path, PROV_MAX_BYTES, &n); /* a regular file of at most 4 MiB */
    if (!text) return NULL;
    cJSON *root = cJSON_ParseWithLength(text, n);
    free(text);
    const cJSON *fmt = root ? cJSON_GetObjectItemCaseSensitive(root, "format") : NULL;
    const cJSON *sessions = root ? cJSON_GetObjectItemCaseSensitive(root, "sessions") : NULL;
    if (!root || !cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, "posenc-provenance") != 0 ||
        !cJSON_IsArray(sessions)) {
        cJSON_Delete(root);
        core_errorf("%s: not a posenc provenance file (expected an object with \"format\": \"posenc-provenance\" "
                  "and a \"sessions\" array)", path);
        return NULL;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, sessions) {
        static const char *keys[] = {"posenc_version", "openblas", "blas_kernel", "blas_mode"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, keys[k]);
            if (!cJSON_IsString(v) || strlen(v->valuestring) > 512) {
                cJSON_Delete(root);
                core_errorf("%s: a session without a valid \"%s\" string", path, keys[k]);
                return NULL;
            }
        }
        if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(it, "reproducible"))) {
            cJSON_Delete(root);
            core_errorf("%s: a session without a true/false \"reproducible\"", path);
            return NULL;
        }
    }
    return root;
}

int prov_check(const char *dir) {
    int absent;
    cJSON *root = prov_load(dir, &absent);
    if (!root) return absent ? 0 : -1;
    cJSON_Delete(root);
    return 0;
}

/* Write session s into DIR/provenance.json: appended when it begins
 * (finished "", step_to = step_from), then replaced in place when it ends. */
static int prov_write(const ProvSession *s, const char *dir, long step_to, int ended) {
    int absent;
    cJSON *root = prov_load(dir, &absent);
    if (!root) {
        if (!absent) return -1;
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "format", "posenc-provenance");
        cJSON_AddNumberToObject(root, "format_version", 1);
        cJSON_AddItemToObject(root, "sessions", cJSON_CreateArray());
    }
    const BlasInfo *b = blas_info();
    char cpu[256], finished[32];
    cpu_model(cpu, sizeof cpu);
    if (ended)
        utc_now(finished, sizeof finished);
    else
        finished[0] = '\0'; /* still running (or killed: the record says so) */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command", s->command);
    cJSON_AddStringToObject(o, "posenc_version", posenc_version());
    cJSON_AddStringToObject(o, "compiler", posenc_compiler());
    cJSON_AddStringToObject(o, "cflags", posenc_cflags());
    cJSON_AddStringToObject(o, "kernel_cflags", posenc_kernel_cflags());
    cJSON_AddStringToObject(o, "openblas", b->config);
    cJSON_AddStringToObject(o, "blas_kernel", b->kernel);
    cJSON_AddStringToObject(o, "blas_mode", b->mode);
    cJSON_AddStringToObject(o, "openblas_coretype_env", b->coretype_env);
    cJSON_AddBoolToObject(o, "reproducible", b->pinned);
    char libc[64];
    libc_version(libc, sizeof libc);
    cJSON_AddStringToObject(o, "libc", libc);
    cJSON_AddStringToObject(o, "cpu", cpu);
    cJSON_AddNumberToObject(o, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(o, "threads", s->threads);
    cJSON_AddStringToObject(o, "started", s->started);
    cJSON_AddStringToObject(o, "finished", finished);
    if (s->step_from >= 0) {
        cJSON_AddNumberToObject(o, "step_from", (double)s->step_from);
        cJSON_AddNumberToObject(o, "step_to", (double)step_to);
    }
    cJSON *sessions = cJSON_GetObjectItemCaseSensitive(root, "sessions");
    cJSON *last = cJSON_GetArrayItem(sessions, cJSON_GetArraySize(sessions) - 1);
    const cJSON *ls = last ? cJSON_GetObjectItemCaseSensitive(last, "started") : NULL;
    const cJSON *lf = last ? cJSON_GetObjectItemCaseSensitive(last, "finished") : NULL;
    const cJSON *lc = last ? cJSON_GetObjectItemCaseSensitive(last, "command") : NULL;
    if (ended && cJSON_IsString(ls) && cJSON_IsString(lf) && cJSON_IsString(lc) && !strcmp(ls->valuestring, s->started) &&
        !lf->valuestring[0] && !strcmp(lc->valuestring, s->command))
        cJSON_ReplaceItemInArray(sessions, cJSON_GetArraySize(sessions) - 1, o); /* this session's own record */
    else
        cJSON_AddItemToArray(sessions, o);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char path[4096];
    int rc = -1;
    if (text && path_join(path, sizeof path, dir, PROV_FILE) == 0) {
        size_t n = strlen(text);
        text[n] = '\n'; /* cJSON_Print's buffer has room for the NUL it replaces */
        rc = file_write_atomic(path, text, n + 1);
    }
    free(text);
    return rc;
}

int prov_begin(ProvSession *s, const char *dir, const char *command, int threads, long step_from) {
    memset(s, 0, sizeof *s);
    snprintf(s->command, sizeof s->command, "%s", command);
    utc_now(s->started, sizeof s->started);
    s->threads = threads;
    s->step_from = step_from;
    return prov_write(s, dir, step_from, 0);
}

int prov_end(const ProvSession *s, const char *dir, long step_to) { return prov_write(s, dir, step_to, 1); }

int prov_identity(const char *dir, char *buf, size_t cap, unsigned *threads_mask, char *cpu, size_t cpu_cap) {
    int absent;
    if (threads_mask) *threads_mask = 0;
    if (cpu && cpu_cap) snprintf(cpu, cpu_cap, "unknown");
    cJSON *root = prov_load(dir, &absent);
    if (!root) {
        if (!absent) return -1;
        snprintf(buf, cap, "unknown (no provenance.json)");
        return 0;
    }
    int ok = 1;
    buf[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "sessions")) {
        char id[2200];
        snprintf(id, sizeof id, "posenc %s, %s, %s kernel (%s)",
                 cJSON_GetObjectItemCaseSensitive(it, "posenc_version")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(it, "openblas")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(it, "blas_kernel")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(it, "blas_mode")->valuestring);
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "reproducible"))) ok = 0;
        if (!buf[0])
            snprintf(buf, cap, "%s", id);
        else if (strcmp(buf, id) != 0) {
            char first[1024];
            snprintf(first, sizeof first, "%s", buf);
            snprintf(buf, cap, "sessions disagree: %s / %s", first, id);
            ok = 0;
        }
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(it, "threads");
        if (threads_mask && cJSON_IsNumber(th) && th->valuedouble >= 1) {
            int t = th->valuedouble > 31 ? 31 : (int)th->valuedouble;
            *threads_mask |= 1u << t;
        }
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "cpu");
        if (cpu && cpu_cap && cJSON_IsString(c)) snprintf(cpu, cpu_cap, "%s", c->valuestring);
    }
    if (!buf[0]) {
        snprintf(buf, cap, "unknown (no sessions)");
        ok = 0;
    }
    cJSON_Delete(root);
    return ok;
}

int prov_collect(char *const *dirs, int n, int allow_mixed, char *line, size_t cap, char *details, size_t dcap) {
    char first[2300] = "", id[2300], cpu[256], cpus[512] = "", why[2600] = "";
    unsigned threads = 0;
    int native = 0;
    for (int i = 0; i < n; i++) {
        unsigned th = 0;
        const int ok = prov_identity(dirs[i], id, sizeof id, &th, cpu, sizeof cpu);
        if (ok < 0) return -1;
        threads |= th;
        if (!strstr(cpus, cpu) && strlen(cpus) + strlen(cpu) + 3 < sizeof cpus) {
            if (cpus[0]) strcat(cpus, "; ");
            strcat(cpus, cpu);
        }
        if (i == 0) snprintf(first, sizeof first, "%s", id);
        if (why[0]) continue;
        if (strncmp(id, "unknown", 7) == 0)
            snprintf(why, sizeof why, "%s: %s, so nothing says how its results were produced (an older posenc, "
                     "or a copy without it)", dirs[i], id);
        else if (strncmp(id, "sessions disagree", 17) == 0)
            snprintf(why, sizeof why, "%s: its %s (trained or evaluated by different builds)", dirs[i], id);
        else if (strcmp(first, id) != 0)
            snprintf(why, sizeof why, "%s and %s were produced differently (%s / %s), so their results cannot "
                     "be compared bit for bit", dirs[0], dirs[i], first, id);
        else if (!ok)
            native = 1; /* one identity, but not the pinned kernels: consistent here, not elsewhere */
    }
    char ths[128] = "";
    for (int t = 1; t < 32; t++)
        if (threads & (1u << t))
            snprintf(ths + strlen(ths), sizeof ths - strlen(ths), "%s%d%s", ths[0] ? ", " : "", t, t == 31 ? "+" : "");
    if (why[0] && !allow_mixed) return core_errorf("%s; rerun it, or aggregate anyway with --allow-mixed", why);
    if (why[0]) {
        snprintf(line, cap, "MIXED PROVENANCE (aggregated with --allow-mixed; %s): these numbers may not "
                 "regenerate bit for bit.", why);
        snprintf(details, dcap, "%d runs, MIXED: %s; threads used: %s; CPUs: %s", n, why, ths[0] ? ths : "unknown",
                 cpus);
        return 1;
    }
    if (native)
        snprintf(line, cap, "Produced by %s: NOT reproducible on other machines (POSENC_BLAS=native: OpenBLAS's "
                 "kernel for this CPU, not the pinned one).", first);
    else
        snprintf(line, cap, "Produced by %s: the same numbers on any x86-64 machine with AVX2/FMA and any thread "
                 "count.", first);
    snprintf(details, dcap, "%d runs, one result identity: %s%s; threads used: %s; CPUs: %s", n, first,
             native ? " (NOT reproducible elsewhere)" : "", ths[0] ? ths : "unknown", cpus);
    return 0;
}

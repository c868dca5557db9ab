/*
 * blas.c — pin OpenBLAS to one kernel family (see blas.h).
 */
#include "core/blas.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

/* The original OPENBLAS_CORETYPE travels across the re-execution in this
 * variable ("-" when it was unset); its presence also stops a second one. */
#define ORIG_VAR "POSENC_BLAS_ORIG_CORETYPE"

static BlasInfo info;

const BlasInfo *blas_info(void) { return &info; }

static void fill_info(const char *mode, const char *orig) {
    snprintf(info.mode, sizeof info.mode, "%s", mode);
    const char *core = openblas_get_corename();
    const char *cfg = openblas_get_config();
    snprintf(info.kernel, sizeof info.kernel, "%s", core ? core : "unknown");
    snprintf(info.config, sizeof info.config, "%s", cfg ? cfg : "unknown");
    snprintf(info.coretype_env, sizeof info.coretype_env, "%s", orig && strcmp(orig, "-") != 0 ? orig : "");
    info.pinned = strcmp(mode, "pinned") == 0 && strcasecmp(info.kernel, BLAS_PINNED_KERNEL) == 0;
}

/* argv from /proc/self/cmdline (NUL-separated), malloc'd; NULL on failure */
static char **self_argv(void) {
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = core_calloc(cap + 1, 1);
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (len == cap) {
            buf = core_realloc(buf, 2 * cap + 1);
            cap *= 2;
        }
    }
    close(fd);
    if (len == 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == '\0';
    if (buf[len - 1] != '\0') n++;
    char **av = core_calloc(n + 1, sizeof *av);
    size_t k = 0;
    for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1) av[k++] = buf + i;
    return av;
}

int blas_pin(char **argv) {
    const char *mode = getenv("POSENC_BLAS");
    if (!mode || !*mode) mode = "pinned";
    if (strcmp(mode, "pinned") != 0 && strcmp(mode, "native") != 0)
        return -1 + core_errorf("POSENC_BLAS=%s: expected pinned (the default: OpenBLAS's %s kernels, the same results on "
                         "every x86-64 machine) or native (OpenBLAS's own choice for this CPU; runs are marked "
                         "not reproducible)", mode, BLAS_PINNED_KERNEL);
    const char *orig = getenv(ORIG_VAR);
    if (strcmp(mode, "native") == 0) {
        const char *ct = getenv("OPENBLAS_CORETYPE");
        fill_info("native", orig ? orig : ct ? ct : "-");
        return 0;
    }
    const char *ct = getenv("OPENBLAS_CORETYPE");
    if (ct && strcmp(ct, BLAS_PINNED_KERNEL) == 0 && strcasecmp(openblas_get_corename(), BLAS_PINNED_KERNEL) == 0) {
        fill_info("pinned", orig ? orig : ct);
        return 0;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return core_errorf("this CPU has no AVX2/FMA, which OpenBLAS's %s kernels (pinned so that results are the "
                         "same on every machine) need; set POSENC_BLAS=native to use the kernel OpenBLAS picks for "
                         "this CPU (results may then differ from other machines' in the last bits, and runs are "
                         "marked \"reproducible\": false)", BLAS_PINNED_KERNEL);
#else
    return core_errorf("the pinned OpenBLAS kernels (%s) need an x86-64 CPU; set POSENC_BLAS=native to use the kernel "
                     "OpenBLAS picks for this CPU (runs are marked \"reproducible\": false)", BLAS_PINNED_KERNEL);
#endif
    if (orig && ct && strcmp(ct, BLAS_PINNED_KERNEL) == 0) /* executed again already, and OpenBLAS ignores it */
        return core_errorf("OpenBLAS runs its %s kernels although OPENBLAS_CORETYPE=%s (%s): it was built without "
                         "DYNAMIC_ARCH and cannot be pinned; install a DYNAMIC_ARCH OpenBLAS (Debian's libopenblas0 "
                         "is one) or set POSENC_BLAS=native (runs are marked \"reproducible\": false)",
                         openblas_get_corename(), BLAS_PINNED_KERNEL, openblas_get_config());
    if (setenv(ORIG_VAR, ct && *ct ? ct : "-", 1) != 0 || setenv("OPENBLAS_CORETYPE", BLAS_PINNED_KERNEL, 1) != 0)
        return core_errorf("cannot set OPENBLAS_CORETYPE: %s", strerror(errno));
    char **av = argv ? argv : self_argv();
    if (!av || !av[0]) return core_errorf("cannot read this program's arguments to run it again with "
                                        "OPENBLAS_CORETYPE=%s; set that variable yourself", BLAS_PINNED_KERNEL);
    fflush(NULL);
    /* the program's own path (under valgrind /proc/self/exe itself is the tool; readlink names the program) */
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        execv(self, av);
    }
    execv("/proc/self/exe", av);
    return core_errorf("cannot run this program again with OPENBLAS_CORETYPE=%s (%s); set that variable yourself",
                     BLAS_PINNED_KERNEL, strerror(errno));
}

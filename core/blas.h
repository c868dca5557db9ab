/*
 * blas.h — one OpenBLAS kernel family for every run, whatever the CPU.
 *
 * OpenBLAS (built with DYNAMIC_ARCH, as Debian's is) picks its sgemm kernel
 * by CPU when it loads, or by the OPENBLAS_CORETYPE environment variable.
 * Kernels round differently, and a small model's training amplifies the last
 * bit into a different model, so a result would depend on the machine. posenc
 * pins the Haswell kernels (AVX2 + FMA: every x86-64 CPU of the last ten
 * years runs them, at no measurable cost here; docs/REPRODUCIBILITY.md):
 * blas_pin(), called first thing in main(), sets OPENBLAS_CORETYPE=Haswell
 * and re-executes the program when the environment said otherwise (the
 * library reads the variable only when it loads), then checks that OpenBLAS
 * really runs that kernel.
 *
 * POSENC_BLAS=native keeps OpenBLAS's own choice instead (for a CPU without
 * AVX2/FMA, or an OpenBLAS built for one CPU): such runs are marked
 * "reproducible": false in their provenance.json, and `posenc collect`
 * refuses to mix them with others.
 */
#ifndef POSENC_BLAS_H
#define POSENC_BLAS_H

/* The kernel family posenc pins (OpenBLAS's core name). */
#define BLAS_PINNED_KERNEL "Haswell"

typedef struct {
    int pinned;              /* 1: the pinned kernel is in use */
    char mode[16];           /* "pinned" or "native" (POSENC_BLAS) */
    char kernel[64];         /* openblas_get_corename() */
    char config[256];        /* openblas_get_config(): version, build options */
    char coretype_env[64];   /* OPENBLAS_CORETYPE as the user's environment set it ("" = unset) */
} BlasInfo;

/* Pin the kernel (see above). argv: main's, NULL-terminated; NULL reads
 * /proc/self/cmdline (for test programs). Returns 0 when the process runs the
 * pinned kernel, or POSENC_BLAS=native was asked for; on success it may not
 * return at all (the program is executed again, with the same arguments).
 * Returns -1 with core_error() set when pinning is impossible here (no AVX2/FMA,
 * an OpenBLAS without DYNAMIC_ARCH), -2 for a POSENC_BLAS value that is
 * neither "pinned" nor "native" (a usage error). */
int blas_pin(char **argv);

/* What blas_pin found (valid after it returned 0). */
const BlasInfo *blas_info(void);

#endif

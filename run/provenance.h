/*
 * provenance.h — what produced a run: RUN/provenance.json.
 *
 * Every command that writes a run's results (train, train --resume, eval)
 * appends one session record when it starts and completes it when it ends
 * ("finished" stays "" for a session that was killed):
 *
 *   {"format": "posenc-provenance", "format_version": 1, "sessions": [
 *     {"command": "train", "posenc_version": "3f2a9c1", "compiler": "gcc 12.2.0",
 *      "cflags": "...", "kernel_cflags": "...", "openblas": "OpenBLAS 0.3.21 ...",
 *      "blas_kernel": "Haswell", "blas_mode": "pinned", "openblas_coretype_env": "",
 *      "reproducible": true, "libc": "glibc 2.36", "cpu": "AMD EPYC", "cores": 2,
 *      "threads": 2, "started": "2026-...Z", "finished": "2026-...Z",
 *      "step_from": 0, "step_to": 2000}, ...]}
 *
 * The fields that decide the numbers (posenc_version, openblas, blas_kernel,
 * blas_mode) form the run's *result identity*; threads, CPU, times and the
 * rest are recorded for the reader. `posenc collect` refuses to aggregate runs
 * whose result identities differ (or a run that was not reproducible), unless
 * told --allow-mixed.
 */
#ifndef POSENC_PROVENANCE_H
#define POSENC_PROVENANCE_H

#include <stddef.h>

/* posenc's version: `git describe --always --dirty` at build time ("unknown"
 * outside a git checkout). */
const char *posenc_version(void);
/* Compiler name and version, and the flags the build used. */
const char *posenc_compiler(void);
const char *posenc_cflags(void);
const char *posenc_kernel_cflags(void);

/* The multi-line text of `posenc --version`. */
void provenance_print_version(void);

/* A session: begun when a command that writes run results starts (its
 * record is appended to DIR/provenance.json at once, "finished": "", so a
 * session that is killed is recorded too), ended when it is over (the record
 * gets its end time and last step). Both 0, or -1 after core_errorf. */
typedef struct {
    char command[32];
    char started[32];
    long step_from, step_to; /* -1: not a training session */
    int threads;
} ProvSession;

int prov_begin(ProvSession *s, const char *dir, const char *command, int threads, long step_from);
int prov_end(const ProvSession *s, const char *dir, long step_to);

/* 0 if DIR/provenance.json is absent or a valid provenance file; else -1
 * after core_errorf naming the file and what is wrong (so that a command can
 * refuse before it starts work rather than fail at its end). */
int prov_check(const char *dir);

/* The result identity of a run: "posenc_version | openblas | blas_kernel |
 * blas_mode" of its sessions, which must all agree, into buf. Returns 1 when
 * the run has a provenance file and every session was reproducible (pinned),
 * 0 when it has none ("unknown" in buf) or a session was not reproducible or
 * two sessions disagree (buf says which), -1 after core_errorf when the file is
 * unreadable. *threads_mask receives a bit (1 << min(threads, 31)) per
 * thread count used, *cpu (cap bytes) the CPU of the last session. */
int prov_identity(const char *dir, char *buf, size_t cap, unsigned *threads_mask, char *cpu, size_t cpu_cap);

/* Before aggregating the runs dirs[0..n): every run must have a provenance
 * file whose sessions agree, and all runs must share one result identity
 * (runs that all used POSENC_BLAS=native on one kind of CPU do: they are
 * consistent with each other, and *line says they are not reproducible
 * elsewhere). *line (cap bytes) receives what results.md states about them
 * (machine-independent: the identity, not the CPUs or thread counts),
 * *details what the terminal shows (thread counts and CPUs too). Returns 0
 * when they agree; otherwise -1 after core_errorf naming the run(s) at fault,
 * unless allow_mixed: then 1, with *line saying that the results are mixed
 * and why. */
int prov_collect(char *const *dirs, int n, int allow_mixed, char *line, size_t cap, char *details, size_t dcap);

#endif

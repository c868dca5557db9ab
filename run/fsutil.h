/*
 * fsutil.h — small file-system helpers for run directories.
 * All follow common.h's convention: 0, or -1 after pe_errorf naming the path.
 */
#ifndef POSENC_FSUTIL_H
#define POSENC_FSUTIL_H

#include <stddef.h>

/* Replace `path` with `n` bytes of `data` atomically: write path.tmp.<pid>,
 * fsync, rename over path. On failure the temporary file is removed and a
 * previous `path` is left as it was. */
int file_write_atomic(const char *path, const char *data, size_t n);
/* rename(2) `from` over `to`, then fsync the directory of `to` so the
 * rename survives a power loss. */
int file_rename_durable(const char *from, const char *to);
/* Read a whole file into a malloc'd NUL-terminated buffer (*n = its size,
 * optional). NULL after pe_errorf on failure. */
char *file_read_all(const char *path, size_t *n);
/* Append one line (a '\n' is added) and flush it to the kernel with one
 * write(2), so concurrent readers never see a torn line. */
int file_append_line(const char *path, const char *line);
/* mkdir -p. */
int dir_create(const char *path);
int path_exists(const char *path);
/* Join a directory and a file name into buf (cap bytes); -1 if too long. */
int path_join(char *buf, size_t cap, const char *dir, const char *name);

/* Take the run directory's lock, DIR/.lock, for the rest of the process's
 * life: flock(2), so the kernel releases it however the process ends (even
 * kill -9). The file holds the owner's PID. If another process holds it, an
 * error names DIR and that PID. Taking it twice in one process is an error
 * too (call it once per directory). */
int dir_lock(const char *dir);
/* Remove the temporary files a killed atomic write may leave in DIR
 * (NAME.tmp.PID, see file_write_atomic). Call only while holding the lock. */
void dir_remove_stale_tmp(const char *dir);

/* Bytes of memory available to a new allocation: MemAvailable of
 * /proc/meminfo, else free pages (sysconf), capped by RLIMIT_AS and
 * RLIMIT_DATA if they are set. */
double mem_available_bytes(void);
/* 0 if `need` bytes (of which `param_bytes` for parameters, gradients and
 * moments; the rest activations for batch B x T tokens) fit in
 * mem_available_bytes(); else an error that gives both numbers and what to
 * reduce. `what` names the command ("training", "evaluation"). */
int mem_check(const char *what, double need, double param_bytes, int B, int T);

/* Crash-test hook. If the environment variable POSENC_TEST_KILL is
 * "NAME@K", the K-th call of fault_point(NAME) in this process sends the
 * process SIGKILL (a real kill -9 at a chosen moment). Does nothing
 * otherwise. Points: "ckpt.optim" (optimizer state written, model not yet),
 * "ckpt.model" (model written, optimizer state not yet renamed into place),
 * "st.partial" (a safetensors temporary file half written), "st.rename"
 * (temporary file complete, not yet renamed).
 * POSENC_TEST_STOP="NAME@K" instead stops the process there (SIGSTOP): it
 * stays frozen at that exact point until a test kills it, together with the
 * processes around it (a sweep and its other jobs), so a kill of a whole sweep
 * lands at a chosen moment instead of a random one. */
void fault_point(const char *name);

#endif

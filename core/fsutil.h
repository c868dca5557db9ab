/*
 * fsutil.h — small file-system helpers for run directories.
 * All follow core/error.h's convention: 0, or -1 after core_errorf naming the path.
 */
#ifndef POSENC_FSUTIL_H
#define POSENC_FSUTIL_H

#include <stddef.h>

/* The one writer of every file posenc writes (docs/RELIABILITY.md): replace
 * `path` with the parts' bytes, in order, atomically and durably: write
 * path.tmp.<pid> (created new, a link there not followed), fsync it, rename
 * it over path (a link at path is replaced, not followed), fsync the folder.
 * On failure the temporary file is removed and a previous `path` is left as
 * it was; the error names path, the step and the reason.
 * Crash-test points (fault_point): "<tag>.partial" once the first part (of a
 * single part, its first half) is written, "<tag>.rename" before the rename;
 * fault_tag NULL means "file". */
typedef struct {
    const void *data;
    size_t n;
} FilePart;
int file_write_atomic_parts(const char *path, const FilePart *parts, int nparts, const char *fault_tag);
/* file_write_atomic_parts with one part. */
int file_write_atomic(const char *path, const char *data, size_t n);
/* rename(2) `from` over `to`, then fsync the directory of `to` so the
 * rename survives a power loss. */
int file_rename_durable(const char *from, const char *to);
/* For a file another program wrote (gnuplot's figures) at a temporary name
 * of ours: fsync `tmp`, then file_rename_durable(tmp, path). */
int file_commit_durable(const char *tmp, const char *path);
/* Every file posenc reads goes through file_open_regular: opened without
 * blocking (a FIFO does not hang the open), its type checked before the
 * first read (only a regular file is read: no FIFO, device, socket or
 * directory), its size capped. Returns the file descriptor (blocking again),
 * *size (optional) its size; -1 after core_errorf naming the path and what it
 * is. */
int file_open_regular(const char *path, size_t max_bytes, size_t *size);
/* Read a whole regular file of at most max_bytes into a malloc'd
 * NUL-terminated buffer (*n = its size, optional); NULL after core_errorf. */
char *file_read_capped(const char *path, size_t max_bytes, size_t *n);
/* file_read_capped with FILE_READ_MAX. */
#define FILE_READ_MAX ((size_t)256 << 20)
char *file_read_all(const char *path, size_t *n);
/* Create a new file for writing (O_EXCL | O_NOFOLLOW: a link planted at the
 * name is not followed; a leftover file of the name is replaced). The file
 * descriptor, or -1 after core_errorf. */
int file_create_new(const char *path);
/* Whether `what` (e.g. "the checkpoint") at path can be read: 0 absent, 1 a
 * readable regular file (through a link is fine), -1 after core_errorf for
 * anything else (permission denied, a dangling or looping link, a FIFO, a
 * directory...), so that such a file is reported as what it is, not as
 * missing. */
int path_probe(const char *path, const char *what);
/* Append one line (a '\n' is added) and flush it to the kernel with one
 * write(2), so concurrent readers never see a torn line. A link at path is
 * not followed (an error). */
int file_append_line(const char *path, const char *line);
/* mkdir -p. */
int dir_create(const char *path);
int path_exists(const char *path);
/* Join a directory and a file name into buf (cap bytes); -1 if too long. */
int path_join(char *buf, size_t cap, const char *dir, const char *name);

/* Take the run directory's lock, DIR/.lock, for the rest of the process's
 * life: flock(2), so the kernel releases it however the process ends (even
 * kill -9). The file holds the owner's PID. If another process holds it, an
 * error names DIR and that PID. Taking it again in the process that holds
 * it succeeds (posenc run trains, then evaluates, under one lock). */
int dir_lock(const char *dir);
/* Remove the temporary files a killed atomic write may leave in DIR
 * (NAME.tmp.PID, see file_write_atomic), for the NAMEs ours(NAME) accepts
 * (NULL: any): never a file posenc did not create. Call only while holding
 * the lock. */
void dir_remove_stale_tmp(const char *dir, int (*ours)(const char *name));

/* Bytes of memory available to a new allocation: MemAvailable of
 * /proc/meminfo, else free pages (sysconf), capped by RLIMIT_AS and
 * RLIMIT_DATA if they are set. */
double mem_available_bytes(void);
/* 0 if `need` bytes (of which `param_bytes` for parameters, gradients and
 * moments; the rest activations for batch B x T tokens) fit in
 * mem_available_bytes() and, with OpenBLAS's buffers, in the address space
 * left (mem_headroom); else an error that gives the numbers and what to
 * reduce. `what` names the command ("training", "evaluation"). */
int mem_check(const char *what, double need, double param_bytes, int B, int T);
/* OpenBLAS's work buffer per thread that calls it (Debian's libopenblas0:
 * BUFFER_SIZE 128 MiB, plus its page of alignment), allocated at the first
 * product; mem_check counts one per pool thread and one for the caller. */
#define MEM_BLAS_BUFFER_BYTES (128.0 * 1024 * 1024 + 65536)
/* 1 if `bytes` more of address space can be reserved now (an mmap that is
 * never touched, released at once: under ulimit -v this is what the next
 * allocations will meet), else 0. */
int mem_headroom(double bytes);

/* Crash-test hook, compiled only into the test build of the program
 * (-DPOSENC_FAULT_HOOKS: the Makefile's $(BUILD)/posenc-test); elsewhere
 * fault_point does nothing and reads no environment variable. If the
 * environment variable POSENC_TEST_KILL is
 * "NAME@K", the K-th call of fault_point(NAME) in this process sends the
 * process SIGKILL (a real kill -9 at a chosen moment). Does nothing
 * otherwise. Points: "ckpt.optim" (optimizer state written, model not yet),
 * "ckpt.model" (model written, optimizer state not yet renamed into place),
 * "st.partial" (a safetensors temporary file half written), "st.rename"
 * (temporary file complete, not yet renamed), and the same two of every
 * other file file_write_atomic writes: "file.partial", "file.rename".
 * POSENC_TEST_STOP="NAME@K" instead stops the process there (SIGSTOP): it
 * stays frozen at that exact point until a test kills it, together with the
 * processes around it (a sweep and its other jobs), so a kill of a whole sweep
 * lands at a chosen moment instead of a random one. */
#ifdef POSENC_FAULT_HOOKS
void fault_point(const char *name);
#else
static inline void fault_point(const char *name) { (void)name; }
#endif

#endif

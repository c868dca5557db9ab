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

#endif

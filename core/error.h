/*
 * error.h — how posenc's library reports failure.
 *
 * Library code never exits. A function that can fail returns 0 on success
 * and non-zero on failure, after writing a one-line message with
 * core_errorf(); the caller (the CLI) reads it with core_error() and decides
 * what to do. The message is per thread: a worker thread's error never
 * replaces the message of the thread that called it.
 */
#ifndef POSENC_CORE_ERROR_H
#define POSENC_CORE_ERROR_H

/* ---- errors ----------------------------------------------------------- */

/* Record a formatted error message (replaces the previous one, which may be
 * one of the arguments, to add context). Returns -1
 * so that library code can write `return core_errorf(...)`. */
int core_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last recorded message ("" if none). */
const char *core_error(void);

#endif

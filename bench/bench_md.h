/*
 * bench_md.h — docs/PERFORMANCE.md's block from bench.json files (bench_md.c).
 */
#ifndef POSENC_BENCH_MD_H
#define POSENC_BENCH_MD_H

/* Print the Markdown block for paths[0] (whole) and the targets of every
 * run (n > 1) to stdout. 0, 1 when a file cannot be read or is not a
 * bench.json (a message on stderr), 2 without a file. */
int bench_markdown(int n, char **paths);

#endif

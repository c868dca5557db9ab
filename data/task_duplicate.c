/* task_duplicate.c — duplicate: y = x x (m = 2n). */
#include <string.h>

#include "data/task.h"

static int duplicate_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return 2 * n; }

static void duplicate_answer(int *y, const int *x, int n, int A) {
    (void)A;
    memcpy(y, x, (size_t)n * sizeof(int));
    memcpy(y + n, x, (size_t)n * sizeof(int));
}

const TaskOps task_duplicate_ops = {
    .name = "duplicate",
    .summary = "y = x x (x twice, m = 2n)",
    .answer_len = duplicate_answer_len,
    .answer = duplicate_answer,
};

/* task_reverse.c — reverse: y = xn .. x1 (m = n). */
#include "data/task.h"

static int reverse_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return n; }

static void reverse_answer(int *y, const int *x, int n, int A) {
    (void)A;
    for (int i = 0; i < n; i++) y[i] = x[n - 1 - i];
}

const TaskOps task_reverse_ops = {
    .name = "reverse",
    .summary = "y = x reversed",
    .answer_len = reverse_answer_len,
    .answer = reverse_answer,
};

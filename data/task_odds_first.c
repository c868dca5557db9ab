/* task_odds_first.c — odds-first: the symbols at odd 1-based positions, then
 * those at even ones, y = x1 x3 x5 .. x2 x4 .. (m = n; docs/SPEC.md §1). */
#include "data/task.h"

static int odds_first_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return n; }

static void odds_first_answer(int *y, const int *x, int n, int A) {
    (void)A;
    int k = 0;
    for (int i = 0; i < n; i += 2) y[k++] = x[i]; /* x1 x3 .. (0-based even indices) */
    for (int i = 1; i < n; i += 2) y[k++] = x[i]; /* x2 x4 .. */
}

const TaskOps task_odds_first_ops = {
    .name = "odds_first",
    .summary = "y = x1 x3 x5 .. x2 x4 .. (odd positions, then even)",
    .answer_len = odds_first_answer_len,
    .answer = odds_first_answer,
};

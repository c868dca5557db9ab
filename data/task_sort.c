/* task_sort.c — sort: y = x sorted ascending (m = n), by counting sort. */
#include <string.h>

#include "data/task.h"

static int sort_answer_len(int n, const TaskConfig *cfg) { (void)cfg; return n; }

static void sort_answer(int *y, const int *x, int n, int A) {
    if (A > TASK_MAX_ALPHABET) { /* outside the checked range: insertion sort */
        for (int i = 0; i < n; i++) {
            int v = x[i], j = i;
            for (; j > 0 && y[j - 1] > v; j--) y[j] = y[j - 1];
            y[j] = v;
        }
        return;
    }
    int count[TASK_MAX_ALPHABET];
    memset(count, 0, (size_t)A * sizeof count[0]);
    for (int i = 0; i < n; i++) count[x[i]]++;
    int k = 0;
    for (int s = 0; s < A; s++)
        for (int c = 0; c < count[s]; c++) y[k++] = s;
}

const TaskOps task_sort_ops = {
    .name = "sort",
    .summary = "y = x sorted ascending",
    .answer_len = sort_answer_len,
    .answer = sort_answer,
};

/*
 * args.c — the argument helpers the subcommands share (args.h).
 */
#include "cli/args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/task.h" /* TASK_MAX_EVAL_LEN */

int is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

double parse_fraction(const char *opt, const char *value) {
    char *end;
    errno = 0;
    const double v = strtod(value, &end);
    if (errno || end == value || *end || !(v > 0 && v < 1))
        return core_errorf("%s: expected a fraction strictly between 0 and 1, got \"%s\"", opt, value);
    return v;
}

double parse_factor(const char *opt, const char *value) {
    char *end;
    errno = 0;
    const double v = strtod(value, &end);
    if (errno || end == value || *end || !(v > 1 && v <= 1e6))
        return core_errorf("%s: expected a factor greater than 1 (at most 1e6), got \"%s\"", opt, value);
    return v;
}

long parse_count(const char *opt, const char *value, long max) {
    if (!value) return core_errorf("%s needs a value", opt);
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < 1 || v > max)
        return core_errorf("%s: expected a whole number in 1..%ld, got \"%s\"", opt, max, value);
    return v;
}

int parse_lengths(const char *spec, int *out, int cap) {
    int count = 0;
    const char *p = spec;
    if (!*p) return core_errorf("--lengths: empty list");
    while (*p) {
        long v[3] = {0, 0, 1};
        int k = 0;
        for (;;) {
            char *end;
            errno = 0;
            if (!(*p >= '0' && *p <= '9')) /* no sign, space or empty item: strtol would take them */
                return core_errorf("--lengths: \"%s\": expected lengths 1..%d as n, a:b or a:b:step, separated "
                                   "by commas (e.g. 8,16,24:64:8)%s", spec, TASK_MAX_EVAL_LEN, *p ? "" : "; an empty item");
            v[k] = strtol(p, &end, 10);
            if (end == p || errno || v[k] < 1 || v[k] > TASK_MAX_EVAL_LEN)
                return core_errorf("--lengths: \"%s\": expected lengths 1..%d as n, a:b or a:b:step, "
                                 "separated by commas (e.g. 8,16,24:64:8)", spec, TASK_MAX_EVAL_LEN);
            p = end;
            k++;
            if (*p == ':' && k < 3) {
                p++;
                continue;
            }
            break;
        }
        if (*p && *p != ',') return core_errorf("--lengths: \"%s\": unexpected \"%c\"", spec, *p);
        if (*p == ',' && !*++p) return core_errorf("--lengths: \"%s\": an empty item after the last comma", spec);
        long a = v[0], b = k >= 2 ? v[1] : v[0], s = k == 3 ? v[2] : 1;
        if (b < a) return core_errorf("--lengths: \"%s\": range %ld:%ld goes backwards", spec, a, b);
        for (long n = a; n <= b; n += s) {
            int dup = 0;
            for (int i = 0; i < count; i++) dup |= out[i] == n;
            if (dup) continue;
            if (count == cap) return core_errorf("--lengths: \"%s\": more than %d lengths", spec, cap);
            out[count++] = (int)n;
        }
    }
    return count;
}

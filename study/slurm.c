/*
 * slurm.c — the sbatch scripts of a sweep plan (slurm.h).
 */
#include "study/slurm.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/escape.h"
#include "core/fsutil.h"

/* ------------------------------------------------------------------------
 * Options
 */

static int all_digits(const char *p, const char *end) {
    if (end <= p || end - p > 9) return 0;
    for (; p < end; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

/* Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (or UNLIMITED) */
static int valid_time(const char *t) {
    if (strcmp(t, "UNLIMITED") == 0 || strcmp(t, "INFINITE") == 0) return 1;
    const char *p = t, *dash = strchr(t, '-');
    if (dash) {
        if (!all_digits(t, dash)) return 0;
        p = dash + 1;
    }
    int groups = 0;
    for (;;) {
        const char *colon = strchr(p, ':');
        const char *end = colon ? colon : p + strlen(p);
        if (!all_digits(p, end)) return 0;
        groups++;
        if (!colon) break;
        p = colon + 1;
    }
    return groups <= 3;
}

static int valid_mem(const char *m) {
    size_t n = strlen(m);
    if (n > 0 && strchr("KMGTkmgt", m[n - 1])) n--;
    return all_digits(m, m + n);
}

static int valid_partition(const char *p) {
    if (!*p || strlen(p) >= 128 || *p == ',' || p[strlen(p) - 1] == ',') return 0;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '.' || *p == '-' || *p == ','))
            return 0;
    return 1;
}

int slurm_option_set(SlurmOptions *o, const char *key, const char *value, const char *origin) {
    if (strcmp(key, "partition") == 0) {
        if (!valid_partition(value))
            return core_errorf("%s: partition \"%s\": expected a partition name (letters, digits, '_', '.', '-'; "
                             "several separated by commas)",
                             origin, value);
        snprintf(o->partition, sizeof o->partition, "%s", value);
    } else if (strcmp(key, "time") == 0) {
        if (!valid_time(value))
            return core_errorf("%s: time \"%s\": expected a Slurm time limit: M, M:S, H:M:S, D-H, D-H:M or D-H:M:S "
                             "(e.g. 30, 1:30:00, 2-0), or UNLIMITED",
                             origin, value);
        snprintf(o->time, sizeof o->time, "%s", value);
    } else if (strcmp(key, "mem") == 0) {
        if (!valid_mem(value))
            return core_errorf("%s: mem \"%s\": expected a whole number of megabytes, or with a K, M, G or T suffix "
                             "(e.g. 2000, 2G)",
                             origin, value);
        snprintf(o->mem, sizeof o->mem, "%s", value);
    } else if (strcmp(key, "max_running") == 0) {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < 1 || v > 100000)
            return core_errorf("%s: max_running \"%s\": expected a whole number in 1..100000", origin, value);
        o->max_running = (int)v;
    } else {
        return core_errorf("%s: %s: unknown key (valid: partition, time, mem, max_running)", origin, key);
    }
    return 0;
}

int slurm_options_from_spec(SlurmOptions *o, const char *spec_json, const char *origin) {
    memset(o, 0, sizeof *o);
    cJSON *root = cJSON_Parse(spec_json);
    if (!root) return core_errorf("%s: invalid JSON", origin);
    int rc = 0;
    const cJSON *sl = cJSON_GetObjectItemCaseSensitive(root, "slurm");
    if (sl && !cJSON_IsObject(sl)) {
        rc = core_errorf("%s: slurm: expected an object with keys partition, time, mem, max_running", origin);
        goto done;
    }
    for (const cJSON *it = sl ? sl->child : NULL; it && rc == 0; it = it->next) {
        char where[4200], text[64];
        snprintf(where, sizeof where, "%s: slurm", origin);
        if (strcmp(it->string, "max_running") == 0) {
            /* range first: a cast of an out-of-range double is undefined */
            if (!cJSON_IsNumber(it) || !(it->valuedouble >= -1e9 && it->valuedouble <= 1e9) ||
                it->valuedouble != floor(it->valuedouble)) {
                rc = core_errorf("%s: slurm: max_running: expected a whole number in 1..100000", origin);
                break;
            }
            snprintf(text, sizeof text, "%ld", (long)it->valuedouble);
        } else if (strcmp(it->string, "partition") == 0 || strcmp(it->string, "time") == 0 ||
                   strcmp(it->string, "mem") == 0) {
            if (!cJSON_IsString(it)) {
                rc = core_errorf("%s: slurm: %s: expected a string (e.g. %s)", origin, it->string,
                               strcmp(it->string, "time") == 0  ? "\"1:00:00\""
                               : strcmp(it->string, "mem") == 0 ? "\"2G\""
                                                                : "\"short\"");
                break;
            }
            snprintf(text, sizeof text, "%.63s", it->valuestring);
            if (strlen(it->valuestring) >= sizeof text) {
                rc = core_errorf("%s: slurm: %s: too long", origin, it->string);
                break;
            }
        } else {
            rc = core_errorf("%s: slurm: %s: unknown key (valid: partition, time, mem, max_running)", origin,
                           it->string);
            break;
        }
        rc = slurm_option_set(o, it->string, text, where);
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------------------
 * Scripts
 */

static int write_script(const char *dir, const char *name, const char *text, int executable) {
    char path[4096];
    if (path_join(path, sizeof path, dir, name) != 0 || file_write_atomic(path, text, strlen(text)) != 0) return -1;
    if (chmod(path, executable ? 0755 : 0644) != 0) return core_errorf("%s: chmod: %s", path, strerror(errno));
    return 0;
}

int slurm_write_scripts(const char *out_dir, const char *name, const char *bin, int num_jobs, int cpus,
                        const SlurmOptions *o) {
    char abs_out[4096], sdir[4200];
    if (!realpath(out_dir, abs_out)) return core_errorf("%s: %s", out_dir, strerror(errno));
    if (num_jobs < 1) return core_errorf("%s: the plan has no jobs", abs_out);
    /* every string is escaped for where it goes (core/escape.h): the #SBATCH lines
     * take the folder as an sbatch file-name pattern, the shell lines as sh words */
    char *out_pat = esc_sbatch(abs_out, 1, "the sweep folder");
    if (!out_pat) return -1;
    char path[4400];
    snprintf(path, sizeof path, "%s/plan.txt", abs_out);
    char *q_plan = esc_sh(path);
    snprintf(path, sizeof path, "%s/slurm/array.sbatch", abs_out);
    char *q_array = esc_sh(path);
    snprintf(path, sizeof path, "%s/slurm/collect.sbatch", abs_out);
    char *q_collect = esc_sh(path);
    char *q_out = esc_sh(abs_out);
    char *dq_bin = esc_sh_dq(bin, "the posenc program");
    char *s = NULL;
    int rc = -1;
    if (!dq_bin) goto done;
    snprintf(sdir, sizeof sdir, "%s/slurm", abs_out);
    if (dir_create(sdir) != 0) goto done;
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", abs_out);
    if (dir_create(logs) != 0) goto done; /* sbatch does not create --output folders */

    char res[512] = "";
    size_t rl = 0;
    if (o->partition[0]) rl += snprintf(res + rl, sizeof res - rl, "#SBATCH --partition=%s\n", o->partition);
    char max[32] = "";
    if (o->max_running > 0) snprintf(max, sizeof max, "%%%d", o->max_running);

    size_t cap = 16384 + 16 * strlen(abs_out) + 2 * strlen(bin);
    s = core_calloc(cap, 1);
    /* the array: task k runs line k of plan.txt, exactly as written */
    snprintf(s, cap,
             "#!/bin/sh\n"
             "# posenc sweep %s: one Slurm array task per line of plan.txt (written by posenc sweep --slurm).\n"
             "# Submit with %s/slurm/submit.sh (this array, then collect.sbatch after it).\n"
             "#SBATCH --job-name=posenc-%s\n"
             "#SBATCH --array=1-%d%s\n"
             "#SBATCH --ntasks=1\n"
             "#SBATCH --cpus-per-task=%d\n"
             "#SBATCH --output=%s/logs/slurm-%%A_%%a.log\n"
             "%s%s%s%s%s%s%s"
             "plan=%s\n"
             "task=${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is a job array)}\n"
             "line=$(sed -n \"${task}p\" \"$plan\")\n"
             "if [ -z \"$line\" ]; then echo \"posenc: $plan has no line $task\" >&2; exit 2; fi\n"
             "echo \"posenc: plan line $task on $(hostname): $line\"\n"
             "eval \"exec $line\"\n",
             name, abs_out, name, num_jobs, max, cpus, out_pat, res, o->time[0] ? "#SBATCH --time=" : "", o->time,
             o->time[0] ? "\n" : "", o->mem[0] ? "#SBATCH --mem=" : "", o->mem, o->mem[0] ? "\n" : "", q_plan);
    if (write_script(sdir, "array.sbatch", s, 0) != 0) goto done;
    /* the aggregation, once the whole array has ended */
    snprintf(s, cap,
             "#!/bin/sh\n"
             "# posenc sweep %s: aggregate the runs (submitted by submit.sh after the array has ended).\n"
             "#SBATCH --job-name=posenc-%s-collect\n"
             "#SBATCH --ntasks=1\n"
             "#SBATCH --cpus-per-task=1\n"
             "#SBATCH --output=%s/logs/slurm-collect-%%j.log\n"
             "%s"
             "exec \"${POSENC:-%s}\" collect %s\n",
             name, name, out_pat, res, dq_bin, q_out);
    if (write_script(sdir, "collect.sbatch", s, 0) != 0) goto done;
    snprintf(s, cap,
             "#!/bin/sh\n"
             "# posenc sweep %s: submit the job array (%d tasks, one per line of plan.txt), then the\n"
             "# aggregation (posenc collect), which starts once every task has ended, failed or not.\n"
             "# Arguments are passed to the array's sbatch (e.g. --qos=short). Re-submitting is safe:\n"
             "# complete runs are skipped, interrupted ones resume.\n"
             "set -eu\n"
             "array=$(sbatch --parsable \"$@\" %s)\n"
             "array=${array%%%%;*}\n"
             "collect=$(sbatch --parsable --dependency=afterany:\"$array\" %s)\n"
             "collect=${collect%%%%;*}\n"
             "echo \"posenc: submitted job array $array (%d tasks) and collect job $collect (after the array)\"\n"
             "echo \"posenc: follow with: squeue -j $array,$collect; logs in \"%s\"/logs/; results in \"%s\"/results.csv\"\n",
             name, num_jobs, q_array, q_collect, num_jobs, q_out, q_out);
    if (write_script(sdir, "submit.sh", s, 1) != 0) goto done;
    rc = 0;
done:
    free(s);
    free(out_pat);
    free(q_plan);
    free(q_array);
    free(q_collect);
    free(q_out);
    free(dq_bin);
    return rc;
}

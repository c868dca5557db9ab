/*
 * slurm.h — a sweep plan as a Slurm job array (`posenc sweep SPEC --plan DIR --slurm`).
 *
 * Next to DIR/plan.txt (study/sweep.h) three scripts are written:
 *
 *   DIR/slurm/array.sbatch    one array task per plan line: #SBATCH --array=1-N[%max_running],
 *                             --cpus-per-task = the spec's "threads", --output per task
 *                             (DIR/logs/slurm-<array job>_<task>.log), optional --partition,
 *                             --time, --mem; task k runs line k of plan.txt unchanged
 *   DIR/slurm/collect.sbatch  `posenc collect DIR` (log DIR/logs/slurm-collect-<job>.log)
 *   DIR/slurm/submit.sh       submits the array, then collect.sbatch with
 *                             --dependency=afterany:<array job> (it runs once every task has
 *                             ended, failed or not); extra arguments go to the array's sbatch
 *
 * Every path is absolute: the nodes must mount DIR and the posenc program at the
 * same paths (or set POSENC, which sbatch exports to the tasks by default).
 *
 * Resources come from the spec's optional "slurm" object and the command line
 * (which wins):
 *
 * | key           | flag              | meaning |
 * | ------------- | ----------------- | --- |
 * | `partition`   | `--partition P`   | partition name(s): letters, digits, `_ . -`, comma-separated |
 * | `time`        | `--time T`        | time limit per task: M, M:S, H:M:S, D-H, D-H:M or D-H:M:S |
 * | `mem`         | `--mem M`         | memory per task: a whole number with an optional K, M, G or T suffix (MB if none) |
 * | `max_running` | `--max-running N` | at most N array tasks at once (the `%N` of --array): 1..100000 |
 */
#ifndef POSENC_SLURM_H
#define POSENC_SLURM_H

typedef struct {
    char partition[128]; /* "" = the cluster's default */
    char time[32];       /* "" = the partition's default */
    char mem[32];        /* "" = the cluster's default */
    int max_running;     /* 0 = no limit */
} SlurmOptions;

/* Fill *o from the "slurm" object of a spec (its JSON text; absent = all
 * defaults). `origin` names the spec in messages. 0, or -1 after core_errorf
 * naming origin, "slurm.<key>" and the allowed values. */
int slurm_options_from_spec(SlurmOptions *o, const char *spec_json, const char *origin);

/* Set one option by its key (partition, time, mem, max_running) from text,
 * checked as above. `origin` names the source in messages (e.g. "--time"). */
int slurm_option_set(SlurmOptions *o, const char *key, const char *value, const char *origin);

/* Write DIR/slurm/{array.sbatch,collect.sbatch,submit.sh} for the plan in
 * out_dir (which must hold plan.txt with num_jobs lines). `name` is the
 * sweep's name (job names posenc-<name>), `bin` the posenc program (used when
 * POSENC is not set), cpus the CPUs of each task. 0, or -1 after core_errorf. */
int slurm_write_scripts(const char *out_dir, const char *name, const char *bin, int num_jobs, int cpus,
                        const SlurmOptions *o);

#endif

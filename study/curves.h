/*
 * curves.h — training curves of one or several runs (posenc plot).
 *
 * Reads RUN/metrics.jsonl (written by run/train.c: "train" lines with step,
 * loss, lr, grad_norm, tokens_per_s, elapsed; "eval" lines with step, n,
 * token_acc, exact_match, loss) and RUN/config.json (task.alphabet, for the
 * chance levels) of every run, and writes
 *
 *   - a CSV, one row per metrics line of every run, columns
 *       run,type,step,n,loss,lr,grad_norm,tokens_per_s,elapsed,token_acc,exact_match
 *     (a field that a line does not have is empty: NaN to pandas and R), which
 *     pandas.read_csv, R, spreadsheets and W&B (wandb.Table(dataframe=...) or a
 *     wandb.log loop over the rows) read as it is;
 *   - a figure BASE.png / BASE.svg (study/plot.h): training loss (log axis) and
 *     learning rate against step, and token accuracy and exact match of the
 *     periodic evaluations against step; one hue per run, the evaluation at the
 *     longest training length solid and at the longest evaluation length
 *     dashed, chance levels dotted, one legend under the panels.
 *
 * A run is named by its folder's last component (the whole path as given when
 * two runs would share a name).
 */
#ifndef POSENC_CURVES_H
#define POSENC_CURVES_H

/* Write the CSV to csv_path (if not NULL) and the figure to plot_base (if not
 * NULL) for runs[0..nruns-1]. 0, or -1 after core_errorf (a run without
 * metrics.jsonl, an unreadable line: the file and line named). Nothing is
 * written unless every run could be read. */
int curves_write(const char *const *runs, int nruns, const char *csv_path, const char *plot_base);

#endif

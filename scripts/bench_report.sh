#!/usr/bin/env bash
# Splice `make bench` results into a markdown file.
#
#   scripts/bench_report.sh DOC RUN.json [MORE.json ...]
#
# Replaces the block between the lines
#   <!-- bench:begin -->  and  <!-- bench:end -->
# of DOC with `build/bench --markdown RUN.json [MORE.json ...]`: the first
# run whole (targets, steps against the sgemm ceiling, where a step goes,
# encodings, evaluation, the demo's budget, memory, the cost of
# reproducibility), and the targets of every run side by side. Nothing is
# typed by hand: run `make bench` (and copy bench.json aside for each run),
# then this. MARK=bench-long splices between <!-- bench-long:begin --> and
# <!-- bench-long:end --> instead (runs of `build/bench --long-only`).
set -euo pipefail
usage() {
  cat <<'USAGE'
usage: scripts/bench_report.sh DOC RUN.json [MORE.json ...]

Splice the Markdown of `build/bench --markdown RUN.json [MORE.json ...]` into DOC between
the two lines

  <!-- bench:begin -->
  <!-- bench:end -->

which DOC must already hold (whatever is between them is replaced). RUN.json is a
bench.json written by `make bench`; MORE.json, later runs of the same build, add a
table of every run's targets. BENCH (default build/bench) names the program;
MARK (default bench) the markers' name: MARK=bench-long for the block of
`build/bench --long-only` runs.
USAGE
}
if [ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; }; then usage; exit 0; fi
if [ $# -lt 2 ]; then usage >&2; exit 2; fi
doc=$1
shift
bench=${BENCH:-build/bench}
[ -f "$doc" ] || { echo "bench_report: $doc: no such file" >&2; exit 2; }
[ -x "$bench" ] || { echo "bench_report: $bench: not built (make $bench)" >&2; exit 2; }
for f in "$@"; do [ -f "$f" ] || { echo "bench_report: $f: no such file" >&2; exit 2; }; done
mark=${MARK:-bench}
case $mark in bench|bench-long) ;; *) echo "bench_report: MARK=$mark: expected bench or bench-long" >&2; exit 2;; esac
begin="<!-- $mark:begin -->"
end="<!-- $mark:end -->"
n_begin=$(grep -cx -- "$begin" "$doc" || true)
n_end=$(grep -cx -- "$end" "$doc" || true)
if [ "$n_begin" != 1 ] || [ "$n_end" != 1 ]; then
  echo "bench_report: $doc must hold the lines $begin and $end once each" >&2
  exit 2
fi
block=$(mktemp)
trap 'rm -f "$block" "$doc.tmp"' EXIT
{
  echo "$begin"
  "$bench" --markdown "$@"
  echo "$end"
} > "$block"
awk -v blockfile="$block" -v b="$begin" -v e="$end" '
  $0 == b { while ((getline line < blockfile) > 0) print line; skip = 1; next }
  $0 == e { skip = 0; next }
  !skip { print }
' "$doc" > "$doc.tmp"
mv "$doc.tmp" "$doc"
trap 'rm -f "$block"' EXIT
echo "bench_report: $doc updated from $*"

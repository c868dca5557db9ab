#!/usr/bin/env bash
# tests/bench_report.sh BENCH: `bench --markdown` and scripts/bench_report.sh on
# good, hostile and wrong input. Run by `make test`.
set -u
bench=${1:?usage: tests/bench_report.sh BENCH}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # description, command status (0 = ok)
  if [ "$2" -eq 0 ]; then echo "  ok: $1"; else echo "  FAIL: $1"; fail=1; fi
}

# hostile strings are escaped, mistyped fields print "?", and it still renders
out="$tmp/hostile.md"
"$bench" --markdown tests/data/bench_hostile.json > "$out" 2> "$tmp/err"
check "a hostile bench.json renders (exit 0)" $?
! grep -q '<script>\|<b>\|<img\|<i>' "$out"; check "no raw HTML from its strings" $?
grep -q '&lt;script&gt;' "$out"; check "HTML escaped as text" $?
grep -q 'evil \\| &lt;b&gt;' "$out"; check "a table pipe in a string is escaped" $?
grep -qF '\[l\](http' "$out" && ! grep -q '[^\\]\[l\](' "$out"; check "no Markdown link from its strings" $?
[ "$(grep -c '^| ' "$out")" -ge 6 ]; check "tables rendered" $?
grep -q '| ? | ? | ? |' "$out"; check "mistyped target fields print ?" $?
! grep -q 'inf\|nan' "$out"; check "no inf or nan printed" $?

# not a bench.json, a missing file, no file: errors naming the file, exit non-zero
echo '{"a": 1}' > "$tmp/other.json"
"$bench" --markdown "$tmp/other.json" > /dev/null 2> "$tmp/err"; st=$?
[ $st -eq 1 ] && grep -q "other.json: not a bench.json" "$tmp/err"; check "another JSON is refused, naming it" $?
"$bench" --markdown "$tmp/missing.json" > /dev/null 2> "$tmp/err"; st=$?
[ $st -eq 1 ] && grep -q "missing.json" "$tmp/err"; check "a missing file is refused, naming it" $?
"$bench" --markdown > /dev/null 2>&1; [ $? -eq 2 ]; check "no file: usage error (exit 2)" $?

# the splice: only the block between the markers changes; no markers, no change
printf 'before\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nafter\n' > "$tmp/doc.md"
BENCH="$bench" scripts/bench_report.sh "$tmp/doc.md" tests/data/bench_hostile.json > /dev/null
check "scripts/bench_report.sh splices (exit 0)" $?
head -1 "$tmp/doc.md" | grep -qx before && tail -1 "$tmp/doc.md" | grep -qx after && ! grep -qx old "$tmp/doc.md" &&
  grep -q '&lt;script&gt;' "$tmp/doc.md"
check "the block is replaced, the rest kept" $?
printf 'no markers\n' > "$tmp/plain.md"
BENCH="$bench" scripts/bench_report.sh "$tmp/plain.md" tests/data/bench_hostile.json > /dev/null 2> "$tmp/err"; st=$?
[ $st -eq 2 ] && [ "$(cat "$tmp/plain.md")" = "no markers" ] && grep -q "must hold" "$tmp/err"
check "a document without the markers is refused and left as it was" $?

# a --long-only run: its targets and long-context rows alone, spliced between the bench-long markers
cat > "$tmp/long.json" <<'JSON'
{"machine": {"cpu": "x", "cores": 2, "date": "d", "quick": false, "long_only": true},
 "ceiling": {"small": {"gflops_1t": 100.5}},
 "long_context": [{"pe": "alibi", "tokens": 16384, "threads": 1, "seconds_per_sequence": 2.5,
   "attention_seconds": 2.2, "attention_gflops": 31.2, "attention_of_ceiling_1t": 0.31, "peak_rss_mb": 60.6}],
 "targets": [{"target": "long <i>", "value": 60.6, "threshold": 256, "met": true}], "bench_seconds": 60}
JSON
"$bench" --markdown "$tmp/long.json" > "$tmp/long.md"
check "a --long-only bench.json renders (exit 0)" $?
grep -q '^| alibi | 1 | 2.50 | 2.20 | 31.2 | 31.0 % | 60.6 |$' "$tmp/long.md" && grep -q 'ceiling: 100.5 GFLOP/s' "$tmp/long.md" &&
  ! grep -q 'Training steps' "$tmp/long.md" && ! grep -q '<i>' "$tmp/long.md"
check "its long-context row, its ceiling, nothing else, escaped" $?
printf 'a\n<!-- bench:begin -->\nkeep\n<!-- bench:end -->\n<!-- bench-long:begin -->\nold\n<!-- bench-long:end -->\nz\n' > "$tmp/two.md"
MARK=bench-long BENCH="$bench" scripts/bench_report.sh "$tmp/two.md" "$tmp/long.json" > /dev/null &&
  grep -qx keep "$tmp/two.md" && ! grep -qx old "$tmp/two.md" && grep -q '^| alibi | 1 |' "$tmp/two.md" &&
  [ "$(grep -c -- '-->' "$tmp/two.md")" = 4 ]
check "MARK=bench-long replaces its block alone" $?
MARK=evil BENCH="$bench" scripts/bench_report.sh "$tmp/two.md" "$tmp/long.json" > /dev/null 2>&1; [ $? -eq 2 ]
check "an unknown MARK is refused" $?

[ $fail -eq 0 ] && echo "tests/bench_report.sh: all passed" || { echo "tests/bench_report.sh: FAILED"; exit 1; }

#!/usr/bin/env bash
# make test-report: posenc report's pages in headless Chromium (tests/report_browser.js).
#
# In a temporary folder:
#   1. tests/data/report_demo_shape.json: a sweep of the demo's shape (five
#      encodings x two seeds, n to 32, d_model 64: the demo's report size) with a
#      short budget (~5 s) -> the main report: size and render time measured,
#      every panel checked, state changed through the URL fragment,
#      a screenshot of each panel written to SHOTS (default build/report-test)
#   2. the report of one run directory of it
#   3. tests/data/sweep_tiny.json with one run's results removed (a failed run)
#   4. the same sweep with hostile strings in the sweep's name and description
#      and in a run directory's name ("</script><script>...", "<img onerror=...>",
#      U+2028): shown as text, nothing runs
# Usage: tests/report.sh [POSENC_PROGRAM] [SHOTS_DIR]; Chromium: scripts/deps.sh chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
prog=$(realpath "${1:-./posenc}")
shots=$(realpath -m "${2:-build/report-test}")
command -v node >/dev/null || { echo "test-report: node missing (Debian package nodejs)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "test-report: chromium missing: scripts/deps.sh chromium installs it" >&2; exit 1; }
tmp=$(mktemp -d /tmp/posenc-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1

"$prog" sweep tests/data/report_demo_shape.json --out "$tmp/shape" > "$tmp/shape.log" 2>&1 ||
  { tail -20 "$tmp/shape.log"; echo "test-report: the demo-shaped sweep failed" >&2; exit 1; }
"$prog" report "$tmp/shape"
"$prog" report "$tmp/shape/runs/rope.s1" --out "$tmp/single.html"

"$prog" sweep tests/data/sweep_tiny.json --out "$tmp/tiny" > "$tmp/tiny.log" 2>&1 ||
  { tail -20 "$tmp/tiny.log"; echo "test-report: the tiny sweep failed" >&2; exit 1; }
cp -r "$tmp/tiny" "$tmp/failed"
rm "$tmp/failed/runs/copy.alibi.s4/eval.json" "$tmp/failed/runs/copy.alibi.s4/model.safetensors"
"$prog" report "$tmp/failed"

cp -r "$tmp/tiny" "$tmp/nasty"
mv "$tmp/nasty/runs/reverse.rope.s3" "$tmp/nasty/runs/<img src=x onerror=alert(2)>"
node -e '
  const fs = require("fs"), f = process.argv[1], j = JSON.parse(fs.readFileSync(f, "utf8"));
  j.name = "</script><script>alert(1)</script>";
  j.description = "<!-- ]]> & &amp; \u2028 \u2029 \x27 \" <script>window.__pwned = 1</script> </SCRIPT >";
  fs.writeFileSync(f, JSON.stringify(j));' "$tmp/nasty/sweep.json"
"$prog" report "$tmp/nasty"

node tests/report_browser.js --main "$tmp/shape/report.html" --single "$tmp/single.html" \
  --failed "$tmp/failed/report.html" --nasty "$tmp/nasty/report.html" --shots "$shots" --max-mb 3 --max-ms 1000

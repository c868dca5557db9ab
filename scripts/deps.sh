#!/usr/bin/env bash
# Install the Debian packages a make target needs, only those missing.
#   scripts/deps.sh [GROUP]
#   core      building ./posenc: OpenBLAS, cJSON, pkg-config (`make` itself installs
#             nothing: it names the missing package and this command)
#   test      core + Check (the unit-test framework), gnuplot (plots), GNU parallel
#             (the test that runs a sweep plan through it)        (make test)
#   demo      core + gnuplot                                      (make demo)
#   fuzz      core + clang and libFuzzer                          (make fuzz)
#   memcheck  core + valgrind                                     (make memcheck)
#   slurm     core + gnuplot + a single-node Slurm                (make test-slurm)
#   chromium  core + gnuplot + headless Chromium and Node.js      (make test-report)
#   text      core + the English fortune files (fortunes): the text experiment's
#             corpus                                              (make fortunes)
#   oracle    core + Check + Python 3 with PyTorch and NumPy (Debian's python3-torch; large:
#             ~180 packages, ~600 MB installed)                  (make test-oracle)
#   all       (the default; make deps) core, test, fuzz and memcheck's packages;
#             Slurm, Chromium and PyTorch stay with their targets
# As root, or with sudo. Off Debian (no dpkg-query): prints what to install, exits 0.
set -euo pipefail
core=(libopenblas-dev libcjson-dev pkg-config)
case "${1:-all}" in
  core) pkgs=("${core[@]}") ;;
  test) pkgs=("${core[@]}" check gnuplot-nox parallel) ;;
  demo) pkgs=("${core[@]}" gnuplot-nox) ;;
  fuzz) pkgs=("${core[@]}" clang libclang-rt-dev) ;;
  memcheck) pkgs=("${core[@]}" valgrind) ;;
  slurm) pkgs=("${core[@]}" gnuplot-nox slurmctld slurmd slurm-client) ;;
  chromium) pkgs=("${core[@]}" gnuplot-nox chromium nodejs) ;;
  text) pkgs=("${core[@]}" gnuplot-nox fortunes) ;;
  oracle) pkgs=("${core[@]}" check python3 python3-numpy python3-torch) ;;
  all) pkgs=("${core[@]}" check gnuplot-nox parallel clang libclang-rt-dev valgrind) ;;
  *) echo "usage: scripts/deps.sh [core|test|demo|fuzz|memcheck|slurm|chromium|oracle|text|all]" >&2; exit 2 ;;
esac
if ! command -v dpkg-query >/dev/null; then
  echo "posenc deps: not a Debian system; make sure these (Debian names) are installed: ${pkgs[*]}" >&2
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "posenc deps: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "posenc deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "posenc deps: done" >&2

#!/usr/bin/env bash
# Install the Debian packages posenc needs, only if one is missing.
# With the argument `slurm`: the Slurm daemons and client for `make test-slurm`;
# with `chromium`: the browser (and Node.js) for `make test-report`.
# Called automatically by every top-level make target; safe to run by hand.
# clang + libclang-rt-dev (libFuzzer) are for `make fuzz`, valgrind for CI, parallel
# (GNU parallel) for the test that runs a sweep plan through it.
set -euo pipefail
pkgs=(libopenblas-dev libcjson-dev check pkg-config gnuplot-nox clang libclang-rt-dev valgrind parallel)
# `scripts/deps.sh slurm` (make test-slurm): a single-node Slurm instead
[ "${1:-}" = slurm ] && pkgs=(slurmctld slurmd slurm-client)
# `scripts/deps.sh chromium` (make test-report): headless Chromium and Node.js
[ "${1:-}" = chromium ] && pkgs=(chromium nodejs)
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

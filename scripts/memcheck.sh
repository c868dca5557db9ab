#!/usr/bin/env bash
# valgrind memcheck of a short train -> resume -> eval -> predict on the smoke
# config: any memory error or any definite/indirect leak fails (exit 1).
# No suppressions are needed (OpenBLAS on one thread). Usage: scripts/memcheck.sh [POSENC]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-./posenc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OPENBLAS_NUM_THREADS=1
# the pinned kernels already (core/blas.c): posenc then does not run itself
# again, which would leave valgrind (a child is not traced)
export OPENBLAS_CORETYPE=Haswell
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect -q)
set -x
"${vg[@]}" "$bin" train configs/smoke.json --out "$dir/run" --set train.steps=10 --set train.eval_every=5 --stop-after 6 --quiet || [ $? -eq 130 ]
"${vg[@]}" "$bin" train --resume "$dir/run" --quiet
"${vg[@]}" "$bin" eval "$dir/run" --lengths 4,8 --samples 8
"${vg[@]}" "$bin" predict "$dir/run" "3 1 4"
"${vg[@]}" "$bin" predict "$dir/run" "3 1 4 1 5 9 2 6" --recompute
"${vg[@]}" "$bin" predict "$dir/run" --logits "BOS 3 1 SEP" > /dev/null
set +x
echo "memcheck: no errors, no leaks"

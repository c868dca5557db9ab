#!/usr/bin/env bash
# make test-slurm: a real single-node Slurm runs a sweep plan as a job array.
#
# slurmctld and slurmd are started on localhost from a slurm.conf generated in a
# temporary folder (state, spool, logs and pid files there too; auth/none and
# cred/none, so no munge key or daemon is needed; free ports picked at random),
# then tests/data/sweep_tiny.json is
#   1. run by `posenc sweep` (the reference),
#   2. written with `posenc sweep --plan DIR --slurm` and submitted with DIR/slurm/submit.sh:
#      8 array tasks (at most 2 at once) and the dependent `posenc collect`,
# and the aggregate of 2 must equal that of 1 byte for byte (results.csv,
# results.md, the SVG plots), every task must have COMPLETED with exit code 0,
# and submitting again must train nothing (every task: "complete, nothing to do")
# and aggregate the same. The daemons are stopped on any exit.
# Usage: tests/slurm.sh [POSENC_PROGRAM]   (default ./posenc); needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
prog=$(realpath "${1:-./posenc}")
unset POSENC # the plans' lines must run the program they name
for c in slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$c" >/dev/null || { echo "test-slurm: $c missing: scripts/deps.sh slurm installs Slurm" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "test-slurm: needs root (SlurmUser=root, slurmd runs the tasks)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/posenc-slurm.XXXXXX)
pids=()
passed=0
failed=0
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ] || [ $failed -ne 0 ]; then
    echo "test-slurm: FAILED; daemon logs:" >&2
    tail -n 30 "$tmp"/slurmctld.log "$tmp"/slurmd.log 2>/dev/null >&2 || true
    echo "test-slurm: left in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
check() { # check NAME COMMAND...: one named check
  if "${@:2}"; then passed=$((passed + 1)); echo "ok: $1"; else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" && port_free $((port + 1)) && break
done
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" <<EOF
ClusterName=posenctest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=posenc Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" > "$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" > "$tmp/slurmd.out" 2>&1 &
pids+=($!)
t0=$(date +%s)
until [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ]; do
  [ $(($(date +%s) - t0)) -lt 60 ] || { echo "test-slurm: the node did not come up in 60 s" >&2; exit 1; }
  sleep 0.5
done
echo "test-slurm: Slurm $(sinfo -V | sed 's/slurm //') up on localhost:$port in $(($(date +%s) - t0)) s ($tmp)"

# 1. the local sweep
OPENBLAS_NUM_THREADS=1 "$prog" sweep tests/data/sweep_tiny.json --out "$tmp/local" > "$tmp/local.out" 2>&1

# 2. the same plan on Slurm; wait for the array and the collect job
"$prog" sweep tests/data/sweep_tiny.json --plan "$tmp/sl" --slurm --time 10 --max-running 2 > "$tmp/plan.out"
submit_and_wait() { # -> $array $collect; waits until both have left the queue
  local out
  out=$("$tmp/sl/slurm/submit.sh")
  echo "$out"
  array=$(sed -n 's/.*job array \([0-9]*\) .*/\1/p' <<< "$out")
  collect=$(sed -n 's/.*collect job \([0-9]*\) .*/\1/p' <<< "$out")
  [ -n "$array" ] && [ -n "$collect" ] || { echo "test-slurm: cannot read job ids from: $out" >&2; exit 1; }
  local t=$(date +%s)
  while [ -n "$(squeue -h -j "$array,$collect" 2>/dev/null)" ]; do
    [ $(($(date +%s) - t)) -lt 300 ] || { echo "test-slurm: jobs still queued after 300 s" >&2; squeue >&2; exit 1; }
    sleep 1
  done
  echo "test-slurm: array $array and collect $collect ended after $(($(date +%s) - t)) s"
}
t1=$(date +%s)
submit_and_wait
echo "test-slurm: wall time from submission to aggregate: $(($(date +%s) - t1)) s"
states() { scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z]*\) .*ExitCode=\([0-9:]*\) .*/\1 \2/p' | sort | uniq -c; }
echo "test-slurm: array task states: $(states "$array" | tr '\n' ' ')"
check "8 array tasks COMPLETED with exit code 0" test "$(states "$array" | tr -s ' ')" = " 8 COMPLETED 0:0"
check "collect COMPLETED with exit code 0" test "$(states "$collect" | tr -s ' ')" = " 1 COMPLETED 0:0"
check "8 task logs" test "$(ls "$tmp"/sl/logs/slurm-"$array"_*.log | wc -l)" -eq 8
for f in results.csv results.md copy_accuracy.svg copy_loss.svg reverse_accuracy.svg reverse_loss.svg; do
  check "$f equals the local sweep's" cmp "$tmp/local/$f" "$tmp/sl/$f"
done
for r in "$tmp"/local/runs/*/; do
  id=$(basename "$r")
  cmp -s "$r/model.safetensors" "$tmp/sl/runs/$id/model.safetensors" || { echo "model of $id differs"; failed=$((failed + 1)); }
done
check "collect log reports 8 runs" grep -q "(8 runs, 4 cells)" "$tmp"/sl/logs/slurm-collect-"$collect".log
cp "$tmp/sl/results.csv" "$tmp/first.csv"

# 3. submitting again trains nothing and aggregates the same
submit_and_wait
check "re-submission: every task skipped" test "$(cat "$tmp"/sl/logs/slurm-"$array"_*.log | grep -c 'complete, nothing to do')" -eq 8
check "re-submission: 8 tasks COMPLETED 0:0" test "$(states "$array" | tr -s ' ')" = " 8 COMPLETED 0:0"
check "re-submission: same results.csv" cmp "$tmp/first.csv" "$tmp/sl/results.csv"

# 4. cancelled tasks (Slurm's SIGTERM, as at a time limit or on preemption) save a
#    checkpoint, and submitting again resumes them
cat > "$tmp/long.json" <<EOF
{"name": "long", "base": "$PWD/configs/smoke.json",
 "set": {"train.steps": 4000, "train.checkpoint_every": 0, "train.eval_every": 0},
 "grid": {"model.pe": ["none", "rope"]}, "eval": {"lengths": [2], "samples": 4}}
EOF
"$prog" sweep "$tmp/long.json" --plan "$tmp/long" --slurm > /dev/null
plan_dir="$tmp/long"
submit_long() {
  local out
  out=$("$plan_dir/slurm/submit.sh")
  array=$(sed -n 's/.*job array \([0-9]*\) .*/\1/p' <<< "$out")
  collect=$(sed -n 's/.*collect job \([0-9]*\) .*/\1/p' <<< "$out")
  [ -n "$array" ] && [ -n "$collect" ] || { echo "test-slurm: cannot read job ids from: $out" >&2; exit 1; }
}
submit_long
t=$(date +%s)
until [ -s "$tmp/long/runs/none.s1/metrics.jsonl" ] && [ -s "$tmp/long/runs/rope.s1/metrics.jsonl" ]; do
  [ $(($(date +%s) - t)) -lt 120 ] || { echo "test-slurm: the long tasks did not start" >&2; squeue >&2; exit 1; }
  sleep 0.2
done
scancel "$array" "$collect"
while [ -n "$(squeue -h -j "$array,$collect" 2>/dev/null)" ]; do sleep 0.5; done
check "cancelled tasks saved a checkpoint" \
  test "$(cat "$tmp"/long/logs/slurm-"$array"_*.log | grep -c 'interrupted: checkpoint saved')" -eq 2
submit_long
t=$(date +%s)
while [ -n "$(squeue -h -j "$array,$collect" 2>/dev/null)" ]; do
  [ $(($(date +%s) - t)) -lt 300 ] || { echo "test-slurm: jobs still queued after 300 s" >&2; squeue >&2; exit 1; }
  sleep 1
done
check "re-submitted tasks resumed" \
  test "$(cat "$tmp"/long/logs/slurm-"$array"_*.log | grep -c '^resuming .* at step')" -eq 2
check "resumed tasks COMPLETED 0:0" test "$(states "$array" | tr -s ' ')" = " 2 COMPLETED 0:0"
check "the resumed sweep aggregated" grep -q "(2 runs, 2 cells)" "$tmp"/long/logs/slurm-collect-"$collect".log
echo "test-slurm: $passed passed, $failed failed"
[ $failed -eq 0 ]

#!/bin/bash
# Where a fuzz run's CPU goes, thread by thread, from Linux's scheduler
# statistics (/proc/PID/task/TID/schedstat): for each thread of the
# process, the time it ran on a core and the time it was ready to run but
# waited for one, over a window of the run. Wall-clock rates on this VM
# swing by 20-50% from run to run; these figures say *why* a run was slow
# (waiting behind V8's compiler and GC threads, or a slower core), which a
# rate alone cannot.
#
#   npm run build && bash bench/thread-sched.sh WORKERS [RUNS] [FROM_S] [TO_S]
#
# Runs `fuzz --runs RUNS --seed 1 --workers WORKERS --no-minimize` and
# reports the window from FROM_S to TO_S seconds after the start (default
# 12 to 28: after the JIT's warm-up, before the run ends and its report
# is written). The busiest threads are the workers; the main thread is the
# coordinator; the four middle ones are V8's platform threads (concurrent
# compilation, GC helpers). Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:?usage: bench/thread-sched.sh WORKERS [RUNS] [FROM_S] [TO_S]}
runs=${2:-16384}
from=${3:-12}
to=${4:-28}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node bin/dmafuzz.js fuzz --runs "$runs" --seed 1 --workers "$workers" --no-minimize --corpus "$tmp/c" --out "$tmp/r" >/dev/null 2>&1 &
pid=$!
declare -A run0 wait0 run1 wait1
start=$(date +%s%3N)
t0=''
while kill -0 "$pid" 2>/dev/null; do
  el=$(( $(date +%s%3N) - start ))
  [ "$el" -ge $((to * 1000)) ] && break
  for t in /proc/"$pid"/task/*; do
    tid=${t##*/}
    read -r oncpu waiting _ <"$t/schedstat" 2>/dev/null || continue
    # the first sample inside the window is each thread's zero
    if [ "$el" -ge $((from * 1000)) ] && [ -z "${run0[$tid]:-}" ]; then run0[$tid]=$oncpu; wait0[$tid]=$waiting; fi
    run1[$tid]=$oncpu
    wait1[$tid]=$waiting
  done
  [ "$el" -ge $((from * 1000)) ] && [ -z "$t0" ] && t0=$(date +%s%3N)
  sleep 0.5
done
t1=$(date +%s%3N)
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -n "$t0" ] || { echo "the run ended before ${from} s: give more RUNS" >&2; exit 2; }
window=$((t1 - t0))
echo "fuzz --workers $workers --runs $runs, window ${from}-${to} s (${window} ms measured): per thread, share of the window"
for k in "${!run0[@]}"; do
  cpu=$(( (run1[$k] - run0[$k]) / 1000000 ))
  rq=$(( (wait1[$k] - wait0[$k]) / 1000000 ))
  # an idle thread is skipped with an if: a failing test as the loop's last command would fail the pipeline
  if [ "$cpu" -gt 20 ]; then
    printf '%7d ms on a core (%3d%%), %6d ms waiting for one (%3d%%)  thread %s\n' "$cpu" $((cpu * 100 / window)) "$rq" $((rq * 100 / window)) "$k"
  fi
done | sort -rn

#!/usr/bin/env bash
# The tables of docs/distributed.md: the MLP train step (784-512-512-10, Adam, batch 128 per
# process, one thread per process) on 1 process, on 2 independent processes at once (no
# communication: what the machine gives two processes), on 2 MPI ranks (global batch 2x128) and on
# 2 MPI ranks with the optimizer state sharded (ZeroRedundancyOptimizer); on 2 MPI ranks that average
# only the loss (no gradient data: what stepping in lockstep costs by itself); then a summary of the
# efficiencies per round; then all-reduce latency/bandwidth of the binding against Open MPI's
# MPI_Allreduce from C (skipped with TRAIN_ONLY=1).
# Every process is pinned to one core the same way: the single process to core 0 (taskset), the
# independent pair to cores 0 and 1, the ranks with mpirun --bind-to core (rank r on core r).
# ROUNDS=n sets the number of rounds (default 5).
# PRIORITY=1 (as root, on a machine shared with other jobs) runs everything in a session of its
# own whose autogroup gets nice -15: the kernel's autogroups make plain `nice` rank processes only
# within one session, so this is what gives the benchmark the cores ahead of other sessions' jobs.
set -euo pipefail
if [ "${PRIORITY:-0}" = 1 ] && [ -z "${STAX_BENCH_SESSION:-}" ]; then
  STAX_BENCH_SESSION=1 exec setsid "$0" "$@"
fi
if [ -n "${STAX_BENCH_SESSION:-}" ]; then echo -15 > /proc/$$/autogroup; fi
cd "$(dirname "$0")"
export STAX_NUM_THREADS=1
MPIRUN="mpirun --allow-run-as-root --bind-to core"
dotnet build -c Release -v q -nologo >/dev/null
BENCH="dotnet bin/Release/net10.0/DistributedBench.dll"
out=$(mktemp -d)
mpicc -O2 -o "$out/allreduce" allreduce.c
# Each run warms up until the JIT is quiet (at least 300 steps: with tiered compilation the first
# 100-150 steps run tier-0 code at 2.5-3x the steady time), then times 600 steps: shorter runs are
# dominated by start-up skew (two "independent" processes of a few hundred milliseconds barely overlap).
log="$out/train.log"
for round in $(seq 1 "${ROUNDS:-5}"); do
  echo "round $round: $(uptime | sed 's/.*load/load/')" | tee -a "$log"
  taskset -c 0 $BENCH train --steps 600 | tee -a "$log"
  (taskset -c 0 $BENCH train --steps 600 & taskset -c 1 $BENCH train --steps 600 & wait) | sed 's/^train/independent/' \
    | tee -a "$log"
  $MPIRUN -np 2 "$out/allreduce" 2678832 | grep bytes= | sed "s/^.*bytes=/bytes=/" | tee -a "$log" # the step's gradient bytes, from C
  $MPIRUN -np 2 $BENCH train --distributed --steps 600 | tee -a "$log"
  $MPIRUN -np 2 $BENCH train --distributed --shard --steps 600 | tee -a "$log"
  $MPIRUN -np 2 $BENCH train --distributed --sync-only --steps 600 | tee -a "$log"
  $MPIRUN -np 2 "$out/allreduce" 2678832 | grep bytes= | sed "s/^.*bytes=/bytes=/" | tee -a "$log"
done
# Open MPI's in-place all-reduce of the step's 2.7 MB of gradients from C, before and after the ranks'
# runs: how fast the cores move data between them at that moment, which swings by up to 6x here.
# Efficiency: two ranks' throughput (2x128 images per step) against twice one process's, by mean
# step (throughput) and by median step, and against the two independent processes of the round.
echo "summary (efficiency by mean step, by median step in parentheses; 'vs pair' = vs the independent pair)"
awk '
  function v(key,   i) { for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) return substr($i, length(key) + 2); return 0 }
  function eff(name, med, mean) {
    printf "  %s: %.2f (%.2f) vs 2x one process, %.2f (%.2f) vs pair", name, m1 / mean, s1 / med, \
      pm / mean, ps / med
  }
  # mpirun may prefix a line with terminal escape codes: start it at the record.
  { i = index($0, "train processes="); if (i > 1) $0 = substr($0, i) }
  /^round/ { r = $2; np = 0; c = "" }
  /^bytes=/ { c = c == "" ? v("c_us") : c " before, " v("c_us") " after" }
  /^train processes=1 / { s1 = v("step_ms"); m1 = v("mean_step_ms") }
  /^independent/ { np++; a[np] = v("step_ms"); b[np] = v("mean_step_ms")
    if (np == 2) { ps = 2 / (1 / a[1] + 1 / a[2]); pm = 2 / (1 / b[1] + 1 / b[2]) } }
  /^train processes=2 threads/ { printf "round %s", r; eff("2 ranks", v("step_ms"), v("mean_step_ms")) }
  /^train processes=2 sharded/ { eff("sharded", v("step_ms"), v("mean_step_ms")) }
  /^train processes=2 sync-only/ { eff("loss only (no gradients)", v("step_ms"), v("mean_step_ms")) }
  /^bytes=/ && c ~ /after/ { printf "  (2.7 MB all-reduce from C, us: %s)\n", c }
' "$log"
# The same comparison paired in time: the four phases interleaved in blocks of 50 steps in the same
# two processes (the machine's speed changes within seconds, so separate runs compare poorly).
$MPIRUN -np 2 $BENCH scaling | sed 's/^.*\(block \|scaling \)/\1/'
if [ "${TRAIN_ONLY:-0}" = 1 ]; then rm -rf "$out"; exit 0; fi
$MPIRUN -np 2 "$out/allreduce"
$MPIRUN -np 2 $BENCH allreduce
$MPIRUN -np 2 $BENCH allreduce --verify off
rm -rf "$out"

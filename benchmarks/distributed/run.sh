#!/usr/bin/env bash
# The tables of docs/distributed.md: MLP train-step scaling (1 process vs 2, one thread each) and
# all-reduce latency/bandwidth of the binding against Open MPI's MPI_Allreduce from C.
set -euo pipefail
cd "$(dirname "$0")"
export STAX_NUM_THREADS=1
MPIRUN="mpirun --allow-run-as-root --oversubscribe --bind-to core"
dotnet build -c Release -v q -nologo >/dev/null
BENCH="dotnet bin/Release/net10.0/DistributedBench.dll"
out=$(mktemp -d)
mpicc -O2 -o "$out/allreduce" allreduce.c
for round in 1 2 3; do
  $BENCH train --steps 60
  $MPIRUN -np 2 $BENCH train --distributed --steps 60
done
$MPIRUN -np 2 "$out/allreduce"
$MPIRUN -np 2 $BENCH allreduce
$MPIRUN -np 2 $BENCH allreduce --verify off
rm -rf "$out"

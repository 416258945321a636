#!/usr/bin/python3
"""numpy (OpenBLAS) fp32 GEMM peer: C = op(A) @ op(B) into a preallocated output, best of N.

  /usr/bin/python3 sgemm.py --m 1024 --k 1024 --n 1024 --threads 1
  /usr/bin/python3 sgemm.py --m 784 --k 128 --n 512 --ta --threads 2   # A stored k x m, used transposed

Method (same as the Stax side of `Stax.Bench compare`): one warm-up call, calibrate how many calls
fill --min-time seconds, then --repeats samples of that many calls; report the best (and median)
seconds per call.  FLOPs = 2*m*n*k.  Prints one line "PEER_RESULT {json}".
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--m", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--ta", action="store_true", help="A is stored k x m and used transposed")
    ap.add_argument("--tb", action="store_true", help="B is stored n x k and used transposed")
    ap.add_argument("--threads", default="1", help="OpenBLAS threads (N)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2)
    args = ap.parse_args()
    peer_env.ensure_env(args.threads, malloc=False)
    omp, blas, _ = peer_env.parse_threads(args.threads)

    import numpy as np
    pools = peer_env.pin_pools(omp, blas)
    rng = np.random.default_rng(0)
    m, k, n = args.m, args.k, args.n
    a = (rng.random((k, m) if args.ta else (m, k), dtype=np.float32) - 0.5)
    b = (rng.random((n, k) if args.tb else (k, n), dtype=np.float32) - 0.5)
    opa = a.T if args.ta else a
    opb = b.T if args.tb else b
    c = np.empty((m, n), dtype=np.float32)

    def mm():
        np.matmul(opa, opb, out=c)

    mm()
    # correctness of the kernel in use, against a float64 product
    ref = opa.astype(np.float64) @ opb.astype(np.float64)
    rel_err = float(np.abs(c - ref).max() / max(np.abs(ref).max(), 1e-30))
    t0 = time.perf_counter()
    mm()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(args.min_time / one))
    samples = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            mm()
        samples.append((time.perf_counter() - t0) / inner)
    samples.sort()
    best = samples[0]
    peer_env.emit({"peer": "numpy", "version": np.__version__, "threads": args.threads, "m": m, "k": k, "n": n,
                   "ta": args.ta, "tb": args.tb, "inner": inner, "best_s": best,
                   "median_s": samples[len(samples) // 2], "gflops_best": 2.0 * m * n * k / best / 1e9,
                   "max_rel_err": rel_err, "pools": pools, "env": peer_env.env_summary()})


if __name__ == "__main__":
    main()

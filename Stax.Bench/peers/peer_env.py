"""Environment and thread setup shared by the Stax peer scripts (sgemm.py, train.py).

The peers get the settings that give them their best speed on the project machine
(see docs/performance.md):
  * OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed: the image pins OpenBLAS to its AVX2
    "Haswell" kernel; unset, OpenBLAS 0.3.21 picks its AVX-512 kernel (about 1.9x faster sgemm).
  * OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS are set before numpy/torch load.
  * torch only: MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ keep freed tensors in the process
    (glibc otherwise unmaps them every step and re-faulting them costs about 5x on this VM).
All of these must be in place when the process starts, so the script re-executes itself once
with the environment it needs (ensure_env).
"""
import json
import os
import statistics
import sys
import time

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "4294967296"}
_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_MARK = "STAX_PEER_ENV_READY"


def parse_threads(spec):
    """"N": N OpenMP (torch) + N OpenBLAS threads; "AxB": A OpenMP, B OpenBLAS threads;
    a trailing "p" adds OMP_WAIT_POLICY=PASSIVE.  Returns (omp, blas, passive)."""
    s = str(spec).strip()
    passive = s.endswith("p")
    s = s[:-1] if passive else s
    try:
        if "x" in s:
            a, b = s.split("x")
            omp, blas = int(a), int(b)
        else:
            omp = blas = int(s)
    except ValueError:
        raise SystemExit("peer: bad thread setting %r (expected N, AxB, optionally followed by p)" % spec)
    if omp < 1 or blas < 1:
        raise SystemExit("peer: thread counts must be >= 1, got %r" % spec)
    return omp, blas, passive


def ensure_env(threads, malloc):
    """Re-executes this script once with the peer environment for `threads` (see module doc)."""
    omp, blas, passive = parse_threads(threads)
    env = dict(os.environ)
    for k in _UNSET:
        env.pop(k, None)
    env["OMP_NUM_THREADS"] = str(omp)
    env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(blas)
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        env.pop("OMP_WAIT_POLICY", None)
    if malloc:
        env.update(MALLOC_ENV)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if os.environ.get(_MARK) == "1":
        return
    env[_MARK] = "1"
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def pin_pools(omp, blas):
    """Pins the pools again from inside (threadpoolctl if present); returns their description."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    threadpoolctl.threadpool_limits(limits=omp, user_api="openmp")
    threadpoolctl.threadpool_limits(limits=blas, user_api="blas")
    return [{k: p.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads")}
            for p in threadpoolctl.threadpool_info()]


def env_summary():
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE") + tuple(MALLOC_ENV)
    return {k: os.environ.get(k) for k in keys if os.environ.get(k) is not None}


def time_calls(fn, warmup, count):
    """Calls fn() warmup times, then times `count` calls one by one; returns seconds per call."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def stats_ms(seconds):
    s = sorted(seconds)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] * 1e3
    return {"median_ms": statistics.median(s) * 1e3, "p10_ms": pick(0.1), "p90_ms": pick(0.9),
            "min_ms": s[0] * 1e3, "n": len(s)}


def emit(obj):
    """The machine-readable result: one JSON line, prefixed so the driver can find it."""
    print("PEER_RESULT " + json.dumps(obj), flush=True)

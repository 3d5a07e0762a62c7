"""Benchmark the STARK primitives at the prover's target shape.

Default shape: 64 columns × 2^16 rows, blowup 4 (LDE 64 × 2^18). Reports the median of
``--repeat`` runs after one warm-up (which also triggers numba compilation).

    python bench/stark_primitives_bench.py [--log-rows 16] [--cols 64] [--log-blowup 2]
        [--repeat 3] [--torch] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from proofmarket.stark import DEFAULT, MerkleTree, Transcript, fri_prove
from proofmarket.stark.field import P, ext_mul, mul
from proofmarket.stark.keccak import grind_search
from proofmarket.stark.ntt import coset_lde, coset_lde_and_coeffs, intt, ntt

CPU_SECONDS: dict[str, float] = {}


def _time(fn: Callable[[], Any], repeat: int, name: str = "") -> float:
    """Median wall seconds over ``repeat`` runs; the median process CPU seconds go to
    CPU_SECONDS[name] (all threads summed — useful when other work shares the machine)."""
    fn()  # warm-up / JIT
    runs, cpus = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if name:
        CPU_SECONDS[name] = statistics.median(cpus)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log-rows", type=int, default=16)
    ap.add_argument("--cols", type=int, default=64)
    ap.add_argument("--log-blowup", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--torch", action="store_true", help="also time the torch backend")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    n, m, lb = 1 << args.log_rows, args.cols, args.log_blowup
    trace = rng.integers(0, P, size=(n, m), dtype=np.uint64)
    lde = coset_lde(trace, lb)
    big = lde.shape[0]
    results: dict[str, Any] = {
        "shape": f"{m} x 2^{args.log_rows}, blowup {1 << lb} (LDE {m} x 2^{args.log_rows + lb})",
        "cpu_count": os.cpu_count(),
        "seconds": {},
    }
    s = results["seconds"]
    s["ntt_trace"] = _time(lambda: ntt(trace), args.repeat, "ntt_trace")
    s["intt_trace"] = _time(lambda: intt(trace), args.repeat, "intt_trace")
    s["coset_lde"] = _time(lambda: coset_lde(trace, lb), args.repeat, "coset_lde")
    s["merkle_commit_lde"] = _time(lambda: MerkleTree.commit(lde), args.repeat, "merkle_commit_lde")
    s["lde_plus_commit"] = s["coset_lde"] + s["merkle_commit_lde"]
    CPU_SECONDS["lde_plus_commit"] = CPU_SECONDS["coset_lde"] + CPU_SECONDS["merkle_commit_lde"]
    s["coset_lde_and_coeffs"] = _time(
        lambda: coset_lde_and_coeffs(trace, lb), args.repeat, "coset_lde_and_coeffs"
    )
    a = lde[:, 0].copy()
    s["base_mul_per_1M"] = _time(lambda: mul(a, a), args.repeat, "base_mul_per_1M") * 1e6 / big
    ea = lde[:, :4].copy()
    s["ext_mul_per_1M"] = _time(lambda: ext_mul(ea, ea), args.repeat, "ext_mul_per_1M") * 1e6 / big
    codeword = np.ascontiguousarray(lde[:, :4])

    def run_fri() -> None:
        fri_prove(codeword, Transcript(b"bench"), DEFAULT.with_(pow_bits=0))

    s["fri_prove_no_pow"] = _time(run_fri, args.repeat, "fri_prove_no_pow")
    s["grind_16_bits"] = _time(
        lambda: grind_search(os.urandom(33), 16), args.repeat, "grind_16_bits"
    )
    if args.torch:
        from proofmarket.stark.backend import get_backend

        be = get_backend("torch")
        results["torch_device"] = be.name
        tt = be.asarray(trace)
        s[f"coset_lde_{be.name}"] = _time(lambda: be.coset_lde(tt, lb), args.repeat)
        same = (be.to_numpy(be.coset_lde(tt, lb)) == lde).all()
        results["torch_matches_numpy"] = bool(same)

    for key in ("base_mul_per_1M", "ext_mul_per_1M"):
        CPU_SECONDS[key] *= 1e6 / big
    results["cpu_seconds"] = CPU_SECONDS
    results["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(results["shape"], f"({results['cpu_count']} CPUs)")
        print(f"  load average {results['load_average']}")
        print(f"  {'':28s} {'wall':>8s} {'cpu':>8s}")
        for k, v in s.items():
            unit = "s" if not k.endswith("per_1M") else "s per 1M elements"
            cpu = CPU_SECONDS.get(k)
            cpu_txt = f"{cpu:8.3f}" if cpu is not None else " " * 8
            print(f"  {k:28s} {v:8.3f} {cpu_txt} {unit}")
        if "torch_device" in results:
            print(
                f"  torch backend {results['torch_device']} matches numpy:",
                results["torch_matches_numpy"],
            )


if __name__ == "__main__":
    main()

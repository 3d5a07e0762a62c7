"""Benchmark the STARK prover and verifier on the wide synthetic AIR.

    python bench/stark_bench.py                    # 64 columns × 2^16 rows, NumPy, DEFAULT
    python bench/stark_bench.py --large            # 2^18 rows
    python bench/stark_bench.py --backend torch --log-rows 14 --json

Reports seconds per prover phase (preprocessed = fixed-column commitment, computed once per
AIR and trace size and cached; commit = main and LogUp aux LDE + Merkle; quotient;
openings = OOD evaluations + DEEP codeword, FRI, queries), total, proof size, verify time
and the security estimate of the parameters. A small warm-up proof runs first so that
numba's compiled kernels are loaded before timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from proofmarket.stark.examples import bench_air
from proofmarket.stark.params import get_profile
from proofmarket.stark.prover import ProverTimings, prove
from proofmarket.stark.verifier import clear_preprocessed_cache, verify


def run(width: int, log_rows: int, backend: str, profile: str) -> dict[str, object]:
    params = get_profile(profile)
    warm_air, warm_trace, warm_pub = bench_air(width, 8)
    prove(warm_air, warm_trace, warm_pub, params, backend=backend)

    t0 = time.perf_counter()
    air, trace, pub = bench_air(width, log_rows)
    trace_gen = time.perf_counter() - t0
    timings = ProverTimings()
    proof = prove(air, trace, pub, params, backend=backend, check=False, timings=timings)
    data = proof.to_bytes()
    clear_preprocessed_cache()
    t0 = time.perf_counter()
    verify(air, data, pub, params)  # cold: recomputes the preprocessed commitment
    verify_cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    verify(air, data, pub, params)  # warm: preprocessed root cached per AIR and size
    verify_s = time.perf_counter() - t0
    phases = {k: round(v, 3) for k, v in timings.phases.items()}
    return {
        "air": f"bench width {width}",
        "rows": 1 << log_rows,
        "log_rows": log_rows,
        "columns": width,
        "constraints": len(air.system.constraints),
        "max_degree": air.system.max_degree,
        "backend": backend,
        "params": params.to_dict(),
        "trace_generation_s": round(trace_gen, 3),
        "prove_s": phases,
        "proof_bytes": len(data),
        "verify_s": round(verify_s, 3),
        "verify_cold_s": round(verify_cold_s, 3),
        "security_bits": {
            "conjectured": params.conjectured_security_bits(log_rows),
            "johnson": params.johnson_security_bits(log_rows),
            "provable": params.provable_security_bits(log_rows),
        },
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--log-rows", type=int, default=16)
    ap.add_argument("--large", action="store_true", help="2^18 rows")
    ap.add_argument("--backend", default="numpy", help="numpy, torch, torch:cpu, torch:cuda")
    ap.add_argument("--params", default="default", help="default, conservative, test-insecure")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    log_rows = 18 if args.large else args.log_rows
    result = run(args.width, log_rows, args.backend, args.params)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    ph = result["prove_s"]
    assert isinstance(ph, dict)
    print(f"{result['air']}, {result['rows']} rows, backend {result['backend']}")
    for name in ("preprocessed", "commit", "quotient", "openings", "fri", "queries", "total"):
        print(f"  {name:<12} {ph.get(name, 0.0):8.3f} s")
    print(f"  proof        {result['proof_bytes']:8d} bytes")
    print(
        f"  verify       {result['verify_s']:8.3f} s (cold, with preprocessed commitment: "
        f"{result['verify_cold_s']:.3f} s)"
    )
    print(f"  security     {result['security_bits']}")


if __name__ == "__main__":
    main()

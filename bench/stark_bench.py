"""Benchmark the STARK prover and verifier: single tables, a multi-table machine, memory.

    python bench/stark_bench.py                       # 64 columns × 2^16 rows (single)
    python bench/stark_bench.py --large               # 64 × 2^18
    python bench/stark_bench.py --case multi          # 128×2^16 + 32×2^14 + u16 + Poseidon2
    python bench/stark_bench.py --case memory         # 250 columns × 2^20 rows, 60 interactions
    python bench/stark_bench.py --case all --json
    python bench/stark_bench.py --fresh-cache         # empty numba cache: first proof compiles

Every case runs in its own fresh process, which reports: the import time, the **first**
proof in that process (loading numba's cached kernels, or compiling them with
``--fresh-cache``; nothing is warmed up untimed), a second (warm) proof with seconds per
phase, proof size, verify time (cold: recomputing preprocessed commitments; warm) and the
peak resident memory of the process (``ru_maxrss``). The memory case proves once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any

CASES = ("single", "multi", "memory")


def _peak_rss_mib() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _machine_case(args: argparse.Namespace) -> tuple[Any, list[Any], list[list[int]], str]:
    """The benchmark machine (tables, traces, public inputs) and a description."""
    import numpy as np

    from proofmarket.stark.examples import BenchAir, RangeTableAir, bench_trace
    from proofmarket.stark.examples.bench import bench_byte_counts
    from proofmarket.stark.machine import Machine, Table
    from proofmarket.stark.poseidon2_air import Poseidon2ChipAir, chip_trace

    bus = 20  # the range table's bus (examples.multi.RANGE_BUS)
    big, small = BenchAir(128, 4, bus, False), BenchAir(32, 2, bus, False)
    big_t, big_p = bench_trace(128, 16, 1, 4, False, np.uint32)
    small_t, small_p = bench_trace(32, 14, 2, 2, False, np.uint32)
    u16 = np.zeros((1 << 16, 1), dtype=np.uint32)
    u16[:256, 0] = bench_byte_counts(big_t, 4) + bench_byte_counts(small_t, 2)
    chip = Poseidon2ChipAir(16)
    rng = np.random.default_rng(5)
    states = rng.integers(0, 2**31 - 2**27, size=(1 << 12, 16), dtype=np.uint64)
    chip_t = chip_trace(states, 12, [0] * (1 << 12))  # proven; no caller consumes it here
    machine = Machine(
        [
            Table(big, 16, name="bench128"),
            Table(small, 14, name="bench32"),
            Table(RangeTableAir(16), 16, name="u16"),
            Table(chip, 12, name="poseidon2"),
        ]
    )
    desc = "128×2^16 + 32×2^14 bench tables, 2^16 u16 table, Poseidon2-16 chip 2^12"
    return machine, [big_t, small_t, u16, chip_t], [big_p, small_p, [], []], desc


def _single_case(args: argparse.Namespace, width: int, log_rows: int, lookups: int) -> Any:
    import numpy as np

    from proofmarket.stark.examples import BenchAir, bench_trace
    from proofmarket.stark.machine import Machine, Table

    air = BenchAir(width, lookups)
    trace, pub = bench_trace(width, log_rows, 1, lookups, True, np.uint32)
    desc = f"bench {width} columns × 2^{log_rows} rows, {lookups + 1} interactions"
    return Machine([Table(air, log_rows, name="bench")]), [trace], [pub], desc


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One case in this (fresh) process."""
    t0 = time.perf_counter()
    from proofmarket.stark.params import get_profile
    from proofmarket.stark.prover import ProverTimings, prove_machine
    from proofmarket.stark.verifier import clear_preprocessed_cache, verify_machine

    import_s = time.perf_counter() - t0
    params = get_profile(args.params)
    t0 = time.perf_counter()
    if args.case == "multi":
        build = _machine_case(args)
    elif args.case == "memory":
        params = params.with_(max_log_trace_len=max(params.max_log_trace_len, 20))
        build = _single_case(args, 250, 20, 59)
    else:
        build = _single_case(args, args.width, 18 if args.large else args.log_rows, 1)
    trace_s = time.perf_counter() - t0
    machine, traces, pubs, desc = build
    result: dict[str, Any] = {"case": args.case, "statement": desc, "backend": args.backend}
    t0, c0 = time.perf_counter(), time.process_time()
    timings = ProverTimings()
    proof = prove_machine(
        machine, traces, pubs, params, check=False, backend=args.backend, timings=timings
    )
    result["first_prove_s"] = round(time.perf_counter() - t0, 3)
    result["first_prove_cpu_s"] = round(time.process_time() - c0, 3)
    c0 = time.process_time()
    if args.case != "memory":
        timings = ProverTimings()
        proof = prove_machine(
            machine, traces, pubs, params, check=False, backend=args.backend, timings=timings
        )
        result["warm_prove_cpu_s"] = round(time.process_time() - c0, 3)
    data = proof.to_bytes()
    del proof
    clear_preprocessed_cache()
    t0 = time.perf_counter()
    heights = verify_machine(machine, data, pubs, params)
    verify_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    verify_machine(machine, data, pubs, params)
    result.update(
        {
            "log_heights": heights,
            "columns": [t.air.main_width for t in machine.tables],
            "interactions": sum(
                len(t.air.system.logup.interactions) if t.air.system.logup else 0
                for t in machine.tables
            ),
            "import_s": round(import_s, 3),
            "trace_generation_s": round(trace_s, 3),
            "warm_prove_s": {k: round(v, 3) for k, v in timings.phases.items()},
            "proof_bytes": len(data),
            "verify_s": round(time.perf_counter() - t0, 3),
            "verify_cold_s": round(verify_cold, 3),
            "peak_rss_mib": _peak_rss_mib(),
            "params": params.name,
            "conjectured_security_bits": params.conjectured_security_bits(max(heights)),
        }
    )
    return result


def run_case(case: str, args: argparse.Namespace, cache_dir: str | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", "--case", case, "--params", args.params]
    cmd += ["--width", str(args.width), "--log-rows", str(args.log_rows)]
    cmd += ["--backend", args.backend] + (["--large"] if args.large else [])
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"case {case} failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - t0, 3)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="single", choices=[*CASES, "all"])
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--log-rows", type=int, default=16)
    ap.add_argument("--large", action="store_true", help="single case at 2^18 rows")
    ap.add_argument("--backend", default="numpy", help="numpy, torch, torch:cpu, torch:cuda")
    ap.add_argument("--params", default="default", help="default, conservative, test-insecure")
    ap.add_argument("--fresh-cache", action="store_true", help="empty numba cache per case")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    cases = CASES if args.case == "all" else (args.case,)
    results = []
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run_case(case, args, tmp if args.fresh_cache else None))
    report = {
        "results": results,
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "fresh_numba_cache": args.fresh_cache,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for r in results:
        print(f"{r['statement']} (heights {r['log_heights']}, backend {r['backend']})")
        print(f"  import         {r['import_s']:8.3f} s")
        print(
            f"  first proof    {r['first_prove_s']:8.3f} s (fresh process; "
            f"CPU {r['first_prove_cpu_s']:.1f} s)"
        )
        if "warm_prove_cpu_s" in r:
            print(f"  warm proof CPU {r['warm_prove_cpu_s']:8.3f} s (all threads)")
        for name, secs in r["warm_prove_s"].items():
            print(f"  {name:<14} {secs:8.3f} s")
        print(f"  proof          {r['proof_bytes']:8d} bytes")
        print(f"  verify         {r['verify_s']:8.3f} s (cold {r['verify_cold_s']:.3f} s)")
        print(f"  peak RSS       {r['peak_rss_mib']:8.1f} MiB")
    print(f"load average {report['load_average']} on {report['cpus']} CPUs")


if __name__ == "__main__":
    main()

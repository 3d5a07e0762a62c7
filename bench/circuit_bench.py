"""Proving throughput of the execution tables (CPU, u16, bitwise, memory boundary).

Proves one full middle segment of the ``iter`` guest (its loop: add, addi, xor, mul,
srli, bne) at the given po2 and reports cycles, seconds per phase and kHz. Run each po2
in a fresh process (first run includes loading numba's cached kernels):

    python bench/circuit_bench.py --po2 16
    python bench/circuit_bench.py --po2 18 --profile default
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from proofmarket.stark import prove_machine, verify_machine
from proofmarket.stark.params import PROFILES
from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.record import record_segment
from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.guests import example_elf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--po2", type=int, default=16)
    ap.add_argument("--profile", default="default", choices=sorted(PROFILES))
    args = ap.parse_args()
    params = PROFILES[args.profile]
    n = max(1, (3 << args.po2) // (6 * 1024))  # about three segments of loop
    session = execute(example_elf("iter"), n.to_bytes(4, "little"), segment_po2=args.po2)
    seg = session.segments[1]
    t0 = time.perf_counter()
    record = record_segment(seg)
    t1 = time.perf_counter()
    traces = cp.segment_traces(record)
    tr, pubs = cp.machine_traces(traces)
    t2 = time.perf_counter()
    machine = cp.standalone_machine()
    proof = prove_machine(machine, tr, pubs, params, check=False).to_bytes()
    t3 = time.perf_counter()
    heights = verify_machine(machine, proof, pubs, params)
    t4 = time.perf_counter()
    cycles = len(record.rec)
    total = t3 - t0
    print(
        json.dumps(
            {
                "po2": args.po2,
                "profile": args.profile,
                "instructions": cycles,
                "heights": heights,
                "record_s": round(t1 - t0, 3),
                "trace_s": round(t2 - t1, 3),
                "prove_s": round(t3 - t2, 3),
                "total_s": round(total, 3),
                "khz": round(cycles / total / 1000, 3),
                "verify_s": round(t4 - t3, 3),
                "proof_bytes": len(proof),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()

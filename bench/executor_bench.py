"""Executor throughput: cycles per second for the ``iter`` guest (N=64 by default).

Preflight (execution without proving) is on the broker's critical path, so this reports
how fast the numba interpreter runs a realistic guest on one core:

    .venv/bin/python bench/executor_bench.py            # iter N=64, numba
    .venv/bin/python bench/executor_bench.py --n 256 --json
    .venv/bin/python bench/executor_bench.py --backend python --n 1

It times preflight mode (no segments kept) and full mode (segments with pages and
Merkle proofs, as a prover needs them), best of ``--repeat`` runs after one warm-up run
(the warm-up also loads the cached numba compilation, timed separately). Without the
guest toolchain it falls back to a built-in hand-assembled loop of similar shape.
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import time
from collections.abc import Callable

from proofmarket.zkvm import Session, execute
from proofmarket.zkvm.backend import resolve
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
from proofmarket.zkvm.layout import SYS_HALT


def builtin_iter_elf() -> bytes:
    """Same loop body as the ``iter`` guest; the count comes from the input's first byte."""
    code = [
        *load_imm("a0", 0x0030_0000),  # READ 4 bytes of input to 0x300000
        *load_imm("a1", 4),
        *load_imm("t0", 1),
        asm("ecall"),
        *load_imm("t1", 0x0030_0000),
        asm("lw", "a5", 0, "t1"),  # N
        asm("slli", "a4", "a5", 10),  # iterations = N * 1024
        asm("addi", "a3", "zero", 0),  # i
        *load_imm("a2", 0x9E37_79B1),
        asm("xor", "a1", "a5", "a3"),  # loop: x = ((x ^ i) * K) + (x >> 15)
        asm("mul", "a1", "a1", "a2"),
        asm("srli", "a0", "a5", 15),
        asm("add", "a5", "a1", "a0"),
        asm("addi", "a3", "a3", 1),
        asm("bne", "a3", "a4", -20),
        *load_imm("a0", 0),
        *load_imm("t0", SYS_HALT),
        asm("ecall"),
    ]
    return build_elf(
        [(0x0020_0800, words_to_bytes(code), 4 * len(code)), (0x0030_0000, b"", 4)], 0x0020_0800
    )


def load_guest() -> tuple[str, bytes]:
    try:
        from proofmarket.zkvm.guests import example_elf

        return "iter (example guest)", example_elf("iter")
    except Exception as exc:  # toolchain missing or build failure: use the built-in loop
        print(f"note: example guest unavailable ({exc}); using the built-in loop")
        return "iter (built-in loop)", builtin_iter_elf()


def timed(fn: Callable[[], Session]) -> tuple[float, Session]:
    start = time.perf_counter()
    session = fn()
    return time.perf_counter() - start, session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="iter input N (N*1024 iterations)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--segment-po2", type=int, default=20)
    parser.add_argument("--backend", choices=["numba", "python"], default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    backend = resolve(args.backend)
    name, elf = load_guest()
    data = struct.pack("<I", args.n)

    def preflight() -> Session:
        return execute(
            elf, data, segment_po2=args.segment_po2, keep_segments=False, backend=backend
        )

    def full() -> Session:
        return execute(elf, data, segment_po2=args.segment_po2, backend=backend)

    warmup_s, session = timed(preflight)
    results = {}
    for label, fn in (("preflight", preflight), ("with_segments", full)):
        times = [timed(fn)[0] for _ in range(args.repeat)]
        best = min(times)
        results[label] = {
            "best_s": best,
            "median_s": statistics.median(times),
            "cycles_per_s": session.total_cycles / best,
            "user_cycles_per_s": session.user_cycles / best,
        }
    report = {
        "guest": name,
        "n": args.n,
        "backend": backend,
        "segment_po2": args.segment_po2,
        "total_cycles": session.total_cycles,
        "user_cycles": session.user_cycles,
        "segments": session.segment_count,
        "first_run_s": warmup_s,
        **results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"guest {name}, N={args.n}, backend {backend}, po2 {args.segment_po2}")
    print(
        f"  {session.total_cycles:,} total cycles ({session.user_cycles:,} user), "
        f"{session.segment_count} segment(s); first run {warmup_s * 1e3:.1f} ms"
    )
    for label, r in results.items():
        print(
            f"  {label:14s} best {r['best_s'] * 1e3:8.2f} ms  "
            f"{r['cycles_per_s'] / 1e6:8.1f} M cycles/s  "
            f"({r['user_cycles_per_s'] / 1e6:.1f} M user cycles/s)"
        )


if __name__ == "__main__":
    main()

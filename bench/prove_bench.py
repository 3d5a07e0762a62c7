"""Real proving speed: the ``iter`` loop proven segment by segment with STARK seals.

The example ``iter`` guest reads its input with a syscall, which the circuit does not
constrain yet, so this proves the same loop body (``x = ((x ^ i) * K) + (x >> 15)``)
with the iteration count baked in and a final HALT. Each po2 runs in a **fresh
process** (numba's disk cache warm, nothing else), so every figure is a first run::

    .venv/bin/python bench/prove_bench.py                     # po2 16, 18, 20, DEFAULT
    .venv/bin/python bench/prove_bench.py --po2 14 --json
    .venv/bin/python bench/prove_bench.py --profile test-insecure --po2 13

For each po2 the loop is sized to fill about one segment. Reported: cycles, proving
seconds (wall, and CPU = user + system of all the process's threads, which other load on
a shared machine disturbs less), kHz (cycles / wall s / 1000), the 1-minute load average
before and after, peak RSS of the proving process, receipt size and verify time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def loop_elf(iterations: int) -> bytes:
    from proofmarket.zkvm.elf import build_elf
    from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
    from proofmarket.zkvm.layout import SYS_HALT

    code = [
        *load_imm("a4", iterations),
        asm("addi", "a3", "zero", 0),
        *load_imm("a2", 0x9E37_79B1),
        asm("xor", "a1", "a5", "a3"),  # loop
        asm("mul", "a1", "a1", "a2"),
        asm("srli", "a0", "a5", 15),
        asm("add", "a5", "a1", "a0"),
        asm("addi", "a3", "a3", 1),
        asm("bne", "a3", "a4", -20),
        *load_imm("a0", 0),
        *load_imm("t0", SYS_HALT),
        asm("ecall"),
    ]
    return build_elf([(0x0020_0800, words_to_bytes(code), 4 * len(code))], 0x0020_0800)


def run_one(po2: int, profile: str) -> dict[str, object]:
    """Prove and verify one segment-sized run in this process."""
    from proofmarket.zkvm.executor import compute_image_id
    from proofmarket.zkvm.prove import prove_session
    from proofmarket.zkvm.receipt import verify

    elf = loop_elf(((1 << po2) - 600) // 6)
    load_before = os.getloadavg()[0]
    start, cpu0 = time.perf_counter(), os.times()
    proved = prove_session(elf, dev_mode=False, segment_po2=po2, profile=profile)
    prove_s, cpu1 = time.perf_counter() - start, os.times()
    load_after = os.getloadavg()[0]
    cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    receipt = proved.receipt
    start = time.perf_counter()
    verify(receipt, compute_image_id(elf), allow_insecure_params=profile == "test-insecure")
    verify_s = time.perf_counter() - start
    cycles = proved.session.total_cycles
    return {
        "po2": po2,
        "profile": profile,
        "segments": proved.session.segment_count,
        "cycles": cycles,
        "prove_s": round(prove_s, 2),
        "prove_cpu_s": round(cpu_s, 2),
        "khz": round(cycles / prove_s / 1000, 2),
        "load_before": round(load_before, 2),
        "load_after": round(load_after, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "receipt_bytes": len(receipt.to_bytes()),
        "verify_s": round(verify_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--po2", type=int, nargs="+", default=[16, 18, 20])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.profile)))
        return
    rows = []
    for po2 in args.po2:
        cmd = [sys.executable, __file__, "--one", str(po2), "--profile", args.profile]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        if not args.json:
            r = rows[-1]
            print(
                f"po2 {r['po2']}: {r['cycles']:,} cycles in {r['segments']} segment(s), "
                f"prove {r['prove_s']} s (CPU {r['prove_cpu_s']} s) = {r['khz']} kHz, "
                f"load {r['load_before']} -> {r['load_after']}, "
                f"peak RSS {r['peak_rss_mib']} MiB, receipt {r['receipt_bytes']:,} B, "
                f"verify {r['verify_s']} s"
            )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

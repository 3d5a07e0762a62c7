"""CLI start-up: ``proofmarket --help`` and ``image-id`` against the cost of their imports.

Every command group is loaded lazily, so ``--help`` should cost about as much as
importing ``proofmarket.cli.main`` (typer) plus typer's help renderer (rich), and
``image-id`` about as much as importing the executor and hashing one ELF. Each case
runs in fresh processes (first run reported separately, then the median of
``--repeat``); the target is a ratio of at most 1.5. The
"zkvm + typer runtime" row adds what any typer command pays when it runs (typer 0.29
coerces parameters with pydantic), to show what the CLI itself adds on top:

    python bench/cli_startup_bench.py
    python bench/cli_startup_bench.py --repeat 15 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.5


def tiny_elf() -> bytes:
    """A hand-assembled guest that halts at once (no toolchain needed)."""
    from proofmarket.zkvm.elf import build_elf
    from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
    from proofmarket.zkvm.layout import SYS_HALT

    code = [*load_imm("a0", 0), *load_imm("t0", SYS_HALT), asm("ecall")]
    return build_elf([(0x0020_0800, words_to_bytes(code), 4 * len(code))], 0x0020_0800)


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=os.environ.copy())
    return time.perf_counter() - start


def measure(argv: list[str], repeat: int) -> dict[str, float]:
    first = run_once(argv)
    runs = [run_once(argv) for _ in range(repeat)]
    return {"first_s": first, "median_s": statistics.median(runs), "min_s": min(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        elf = Path(tmp) / "halt.elf"
        elf.write_bytes(tiny_elf())
        minimal_image_id = (
            "import sys; from proofmarket.zkvm.executor import compute_image_id; "
            "print(compute_image_id(open(sys.argv[1], 'rb').read()).hex())"
        )
        cases = {
            "python -c pass": [py, "-c", "pass"],
            "import proofmarket.cli.main": [py, "-c", "import proofmarket.cli.main"],
            "import cli.main + help renderer": [
                py,
                "-c",
                "import proofmarket.cli.main, typer.rich_utils",
            ],
            "proofmarket --help": [py, "-m", "proofmarket", "--help"],
            "image-id (minimal import)": [py, "-c", minimal_image_id, str(elf)],
            "image-id (zkvm + typer runtime)": [
                py,
                "-c",
                "import proofmarket.cli.main, typer._adapters; " + minimal_image_id,
                str(elf),
            ],
            "proofmarket image-id": [py, "-m", "proofmarket", "image-id", str(elf)],
        }
        results = {name: measure(argv, args.repeat) for name, argv in cases.items()}
    ratios = {
        "--help / its imports": results["proofmarket --help"]["median_s"]
        / results["import cli.main + help renderer"]["median_s"],
        "image-id / minimal import": results["proofmarket image-id"]["median_s"]
        / results["image-id (minimal import)"]["median_s"],
        "image-id / zkvm + typer runtime": results["proofmarket image-id"]["median_s"]
        / results["image-id (zkvm + typer runtime)"]["median_s"],
    }
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"results": results, "ratios": ratios, "loadavg": load}))
        return
    for name, r in results.items():
        print(
            f"{name:30s} first {r['first_s'] * 1000:7.1f} ms  "
            f"median {r['median_s'] * 1000:7.1f} ms  min {r['min_s'] * 1000:7.1f} ms"
        )
    for name, ratio in ratios.items():
        verdict = "ok" if ratio <= TARGET_RATIO else f"OVER {TARGET_RATIO}x"
        print(f"{name:30s} {ratio:5.2f}x  ({verdict})")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

"""Cold start: is the first run after setup as fast as the second?

numba compiles kernels on first use and caches them on disk; ``scripts/setup.sh`` runs
``proofmarket tools precompile`` so that cost is paid at setup. This bench points numba
at an empty cache directory (``NUMBA_CACHE_DIR``), optionally times one run with no
precompile (the old behaviour), then precompiles and times the command twice. The target
is first / second <= 1.3:

    python bench/cold_start_bench.py                       # proofmarket demo
    python bench/cold_start_bench.py --command "execute"   # a local execution only
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.3


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--command",
        default="demo --json",
        help='proofmarket arguments to time; "execute" runs a built-in guest',
    )
    parser.add_argument("--skip-cold", action="store_true", help="skip the no-precompile run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "proofmarket"]
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        words = shlex.split(args.command)
        if words == ["execute"]:
            sys.path.insert(0, str(Path(__file__).parent))
            from executor_bench import builtin_iter_elf

            elf = Path(tmp) / "iter.elf"
            elf.write_bytes(builtin_iter_elf())
            words = ["execute", str(elf), "--input-hex", "04000000", "--json"]
        argv = [*cli, *words]
        if not args.skip_cold:
            env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "cold")}
            results["no precompile: first run"] = timed(argv, env)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "warm")}
        results["precompile"] = timed([*cli, "tools", "precompile"], env)
        results["after precompile: first run"] = timed(argv, env)
        results["after precompile: second run"] = timed(argv, env)
    ratio = results["after precompile: first run"] / results["after precompile: second run"]
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"command": args.command, "seconds": results, "ratio": ratio}))
        return
    print(f"command: proofmarket {args.command}")
    for name, seconds in results.items():
        print(f"{name:32s} {seconds:7.2f} s")
    verdict = "ok" if ratio <= TARGET_RATIO else f"OVER {TARGET_RATIO}x"
    print(f"first / second after precompile  {ratio:5.2f}x  ({verdict})")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

"""Cluster control plane: wall time of ``cluster up --detach`` and ``cluster down``.

Each round starts a fresh embedded cluster (SQLite TaskDB, filesystem stores) on a free
port in a new data directory, then stops it. ``up`` returns once the supervisor owns the
API's socket, before the API and agents have imported their code; the "API answers" row
is the time from the start of ``up`` until ``/health`` first answers (requests sent
meanwhile wait in the socket's backlog). The target is under 1.5 s for ``up`` and
``down`` (median of ``--rounds``, first round shown too):

    python bench/cluster_control_bench.py
    python bench/cluster_control_bench.py --rounds 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TARGET_S = 1.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def until_health(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def one_round(root: Path, index: int) -> tuple[float, float, float]:
    cli = [sys.executable, "-m", "proofmarket", "cluster"]
    data = ["--data-dir", str(root / f"round{index}")]
    port = free_port()
    start = time.perf_counter()
    up = timed([*cli, "up", "--detach", "--port", str(port), *data])
    until_health(f"http://127.0.0.1:{port}/health")
    answers = time.perf_counter() - start
    down = timed([*cli, "down", *data])
    return up, down, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rounds = [one_round(Path(tmp), i) for i in range(args.rounds)]
    ups = [r[0] for r in rounds]
    downs = [r[1] for r in rounds]
    answers = [r[2] for r in rounds]
    summary = {
        "up_first_s": ups[0],
        "up_median_s": statistics.median(ups),
        "down_first_s": downs[0],
        "down_median_s": statistics.median(downs),
        "api_answers_first_s": answers[0],
        "api_answers_median_s": statistics.median(answers),
        "loadavg": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(summary))
        return
    for name in ("up", "down"):
        median = summary[f"{name}_median_s"]
        verdict = "ok" if median < TARGET_S else f"OVER {TARGET_S} s"
        print(
            f"cluster {name:5s} first {summary[f'{name}_first_s']:5.2f} s  "
            f"median {median:5.2f} s  ({verdict})"
        )
    print(
        f"API answers   first {summary['api_answers_first_s']:5.2f} s  "
        f"median {summary['api_answers_median_s']:5.2f} s  (from the start of up; no target)"
    )
    load = summary["loadavg"]
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

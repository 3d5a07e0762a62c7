"""Run the start-up, control-plane and cold-start benches and plot their figures.

Writes the numbers to ``docs/img/bench-figures.json`` and the chart to
``docs/img/bench-figures.png`` (linked from ``docs/index.md``); ``--from-json`` redraws the
chart from saved numbers without running anything:

    python bench/plot_figures.py
    python bench/plot_figures.py --from-json docs/img/bench-figures.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).parent
OUT = BENCH.parent / "docs" / "img"


def run_json(script: str, *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # each bench ends with one JSON line


def collect() -> dict[str, Any]:
    return {
        "cli_startup": run_json("cli_startup_bench.py", "--repeat", "7"),
        "cluster_control": run_json("cluster_control_bench.py", "--rounds", "3"),
        "cold_start": run_json("cold_start_bench.py", "--command", "execute"),
        "loadavg_after": os.getloadavg(),
    }


def plot(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    startup = figures["cli_startup"]["results"]
    names = list(startup)
    axes[0].barh(names, [startup[n]["median_s"] * 1000 for n in names], color="#4c72b0")
    axes[0].set_xlabel("milliseconds (median of fresh processes)")
    axes[0].set_title("CLI start-up")
    axes[0].invert_yaxis()

    control = figures["cluster_control"]
    labels = ["cluster up --detach", "cluster down"]
    values = [control["up_median_s"], control["down_median_s"]]
    axes[1].bar(labels, values, color=["#55a868", "#c44e52"])
    axes[1].axhline(1.5, color="black", linestyle="--", linewidth=1, label="target 1.5 s")
    axes[1].set_ylabel("seconds (median)")
    axes[1].set_title("Cluster control plane")
    axes[1].legend()

    cold = figures["cold_start"]["seconds"]
    order = [k for k in cold if k != "precompile"]
    axes[2].bar([k.replace(": ", "\n") for k in order], [cold[k] for k in order], color="#8172b2")
    axes[2].set_ylabel("seconds")
    axes[2].set_title(f"Cold start ({figures['cold_start']['command']})")

    load = figures.get("loadavg_after", [0, 0, 0])
    fig.suptitle(f"proofmarket benchmark figures (load average {load[0]:.1f} on 2 cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-json", type=Path, default=None)
    args = parser.parse_args()
    if args.from_json is not None:
        figures = json.loads(args.from_json.read_text())
    else:
        figures = collect()
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "bench-figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    plot(figures, OUT / "bench-figures.png")
    print(f"wrote {OUT / 'bench-figures.png'}")


if __name__ == "__main__":
    main()

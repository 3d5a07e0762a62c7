"""``proofmarket prover generate-config``: hardware → settings → broker.toml.

Steps (Boundless's wizard, adapted): detect CPU threads, memory and NVIDIA GPUs with their
memory; pick the segment po2 from the smallest GPU's memory (≤ 8 GiB → 18, ≤ 16 → 19,
≤ 20 → 20, else 21) or, CPU only, from half the RAM on the same scale capped at the
cluster default; run the benchmark and set ``peak_prove_khz`` = 0.75 × the worst kHz;
``max_concurrent_preflights`` = max(1, executors − 2) with executors =
min(20, (threads − 4 − 2 × GPUs) / 2) (at least 1); ``max_concurrent_proofs`` = the number
of GPUs (1 without); write broker.toml from the commented template with those values.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Any

GIB = 1 << 30
CPU_PO2_CAP = 20


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_gib: float


@dataclass(frozen=True)
class Hardware:
    cpu_threads: int
    memory_gib: float
    gpus: list[Gpu] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def detect_gpus() -> list[Gpu]:
    """NVIDIA GPUs via ``nvidia-smi`` (none when it is missing or fails)."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return []
    try:
        out = subprocess.run(
            [binary, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(out)


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """``name, MiB`` lines → GPUs; lines that do not parse are ignored."""
    gpus = []
    for line in text.splitlines():
        name, _, mib = line.rpartition(",")
        try:
            gpus.append(Gpu(name.strip(), int(mib.strip()) / 1024))
        except ValueError:
            continue
    return gpus


def detect_hardware() -> Hardware:
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        memory = 0.0
    return Hardware(cpu_threads=int(threads or 1), memory_gib=round(memory, 1), gpus=detect_gpus())


def po2_for_memory(gib: float) -> int:
    """Boundless's VRAM → segment po2 table."""
    if gib <= 8:
        return 18
    if gib <= 16:
        return 19
    if gib <= 20:
        return 20
    return 21


def segment_po2(hw: Hardware) -> int:
    if hw.gpus:
        return po2_for_memory(min(g.memory_gib for g in hw.gpus))
    return min(CPU_PO2_CAP, po2_for_memory(hw.memory_gib / 2))


def executors(hw: Hardware) -> int:
    return max(1, min(20, (hw.cpu_threads - 4 - 2 * len(hw.gpus)) // 2))


def max_concurrent_preflights(hw: Hardware) -> int:
    return max(1, executors(hw) - 2)


def max_concurrent_proofs(hw: Hardware) -> int:
    return max(1, len(hw.gpus))


@dataclass(frozen=True)
class Plan:
    hardware: Hardware
    segment_po2: int
    peak_prove_khz: int
    max_concurrent_proofs: int
    max_concurrent_preflights: int
    benchmark: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(hw: Hardware, peak_prove_khz: int, benchmark: dict[str, Any] | None = None) -> Plan:
    return Plan(
        hardware=hw,
        segment_po2=segment_po2(hw),
        peak_prove_khz=peak_prove_khz,
        max_concurrent_proofs=max_concurrent_proofs(hw),
        max_concurrent_preflights=max_concurrent_preflights(hw),
        benchmark=benchmark,
    )


def _set_key(text: str, key: str, value: int) -> str:
    """Replace ``key = …`` (commented or not) in the template, keeping its comments."""
    pattern = re.compile(rf"^#?\s*{re.escape(key)}\s*=.*$", re.MULTILINE)
    if not pattern.search(text):
        raise ValueError(f"the broker.toml template has no {key!r} line")
    return pattern.sub(f"{key} = {value}", text, count=1)


def render_config(p: Plan) -> str:
    """broker.toml text: the commented template with the plan's values, validated."""
    from proofmarket.broker.config import parse_config
    from proofmarket.broker.template import TEMPLATE

    gpus = ", ".join(f"{g.name} ({g.memory_gib:.0f} GiB)" for g in p.hardware.gpus) or "none"
    measured = (
        f"worst {p.benchmark['worst_khz']:.1f} kHz over {len(p.benchmark['results'])} run(s)"
        if p.benchmark
        else "not measured (given on the command line)"
    )
    header = (
        "# Written by `proofmarket prover generate-config`.\n"
        f"# Hardware: {p.hardware.cpu_threads} CPU threads, {p.hardware.memory_gib:.1f} GiB RAM, "
        f"GPUs: {gpus}.\n"
        f"# Benchmark: {measured}; peak_prove_khz = 0.75 x worst = {p.peak_prove_khz}.\n"
        f"# Cluster: start it with `proofmarket cluster up --segment-po2 {p.segment_po2}`.\n\n"
    )
    text = TEMPLATE
    text = _set_key(text, "peak_prove_khz", p.peak_prove_khz)
    text = _set_key(text, "max_concurrent_proofs", p.max_concurrent_proofs)
    text = _set_key(text, "max_concurrent_preflights", p.max_concurrent_preflights)
    text = header + text
    parse_config(text, "generated broker.toml")  # never write a file the broker refuses
    return text

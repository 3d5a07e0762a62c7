"""Native (host gcc) builds of guest sources, for differential tests against the zkVM.

``build_native`` compiles guest C files with the SDK header in host mode plus
``host_shim.c``; ``run_native`` runs the program on some input and returns the same
observables a zkVM session has (exit kind and code, journal, stdout, stderr, panic text).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proofmarket.zkvm.toolchain import GUEST_SDK_DIR

SHIM = Path(__file__).resolve().parent / "host_shim.c"


class NativeBuildError(RuntimeError):
    """gcc failed on the host build of a guest."""


@dataclass(frozen=True)
class NativeResult:
    kind: str  # "halted", "paused" or "panic"
    user_exit: int | None
    panic_message: str | None
    journal: bytes
    stdout: bytes
    stderr: bytes


def host_compiler() -> str:
    found = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if found is None:
        raise NativeBuildError("no host C compiler (gcc/cc) on PATH")
    return found


def build_native(sources: Sequence[Path], output: Path) -> Path:
    """Compile guest ``sources`` for the host, with the SDK's SHA-256 and the host shim."""
    command = [
        host_compiler(),
        "-O2",
        "-std=c11",
        "-D_POSIX_C_SOURCE=200809L",
        "-DPM_HOST=1",
        "-Dmain=pm_guest_main",
        "-I",
        str(GUEST_SDK_DIR),
        "-o",
        str(output),
        *(str(path) for path in sources),
        str(GUEST_SDK_DIR / "sha256.c"),
        str(SHIM),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NativeBuildError(f"host build failed:\n{result.stderr}")
    return output


def run_native(executable: Path, input_bytes: bytes = b"") -> NativeResult:
    """Run a native guest build and collect its exit state, journal and output."""
    with tempfile.TemporaryDirectory(prefix="pm-native-") as tmp:
        journal_path = Path(tmp) / "journal"
        status_path = Path(tmp) / "status"
        env = {**os.environ, "PM_JOURNAL": str(journal_path), "PM_STATUS": str(status_path)}
        proc = subprocess.run(
            [str(executable)], input=input_bytes, capture_output=True, env=env, check=False
        )
        if not status_path.exists():
            raise RuntimeError(
                f"native guest ended without a status (exit {proc.returncode}): {proc.stderr!r}"
            )
        kind, _, detail = status_path.read_text().partition(" ")
        journal = journal_path.read_bytes() if journal_path.exists() else b""
    return NativeResult(
        kind=kind,
        user_exit=int(detail) if kind in ("halted", "paused") else None,
        panic_message=detail if kind == "panic" else None,
        journal=journal,
        stdout=proc.stdout,
        stderr=proc.stderr,
    )

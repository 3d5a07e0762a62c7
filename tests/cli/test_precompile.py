"""``proofmarket tools precompile`` leaves the executor's compiled kernel in numba's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import proofmarket.zkvm.interp_core as interp_core


@pytest.mark.slow
def test_precompile_fills_an_empty_numba_cache(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "proofmarket", "tools", "precompile", "--only", "zkvm", "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert list(report["seconds"]) == ["zkvm"] and report["seconds"]["zkvm"] > 0
    indexes = list(tmp_path.rglob("*.nbi"))
    assert any(Path(interp_core.__file__).stem in p.name for p in indexes), indexes


def test_precompile_names_unknown_kernel_sets() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "proofmarket", "tools", "precompile", "--only", "gpu"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "unknown kernel set" in out.stderr

"""The README's demo runs end to end: request → lock → prove on the cluster → fulfil."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proofmarket.zkvm import compute_image_id, execute
from proofmarket.zkvm.guests import example_elf


@pytest.mark.slow
def test_demo_runs_the_whole_market_flow() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proofmarket.cli.main", "demo", "--n", "77", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:] + result.stdout[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    elf = example_elf("fib")
    expected = execute(elf, (77).to_bytes(4, "little")).journal
    assert summary["preflight"]["journal"] == expected.hex()
    assert summary["market"]["journal"] == expected.hex()
    assert summary["proving"]["dev_mode"] is True
    assert summary["market"]["price_wei"] > 0
    assert summary["stark"]["proof_bytes"] > 0
    assert len(compute_image_id(elf)) == 32

"""Every local execution is bounded: the default cycle limit, its environment override,
``--cycle-limit`` on execute/prove, and flat preflight memory when segments are not kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.execution import execute_bounded
from proofmarket.cli.main import app
from proofmarket.limits import (
    CYCLE_LIMIT_ENV,
    DEFAULT_CYCLE_LIMIT,
    default_cycle_limit,
    parse_cycles,
)
from proofmarket.zkvm import SessionLimitExceeded, execute
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
from proofmarket.zkvm.layout import SYS_HALT

TEXT = 0x0020_0800


def forever_elf() -> bytes:
    """A guest that never halts: one branch to itself."""
    code = [asm("addi", "a0", "a0", 1), asm("beq", "zero", "zero", -4)]
    return build_elf([(TEXT, words_to_bytes(code), 4 * len(code))], TEXT)


@pytest.mark.parametrize(
    ("text", "cycles"),
    [("1000", 1000), ("1_000_000", 10**6), ("500M", 5 * 10**8), ("256Mi", 1 << 28), ("2k", 2000)],
)
def test_parse_cycles(text: str, cycles: int) -> None:
    assert parse_cycles(text) == cycles


@pytest.mark.parametrize("text", ["", "0", "-5", "ten", "5X", "1__", "3.5M"])
def test_parse_cycles_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="cycle"):
        parse_cycles(text)


def test_default_and_environment(monkeypatch) -> None:
    monkeypatch.delenv(CYCLE_LIMIT_ENV, raising=False)
    assert default_cycle_limit() == DEFAULT_CYCLE_LIMIT
    monkeypatch.setenv(CYCLE_LIMIT_ENV, "1Mi")
    with pytest.raises(SessionLimitExceeded) as err:
        execute(forever_elf(), segment_po2=16, keep_segments=False)
    assert err.value.limit == 1 << 20
    assert "--cycle-limit" in str(err.value)
    monkeypatch.setenv(CYCLE_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=CYCLE_LIMIT_ENV):
        execute(forever_elf())


def test_execute_and_prove_stop_a_looping_guest(tmp_path: Path) -> None:
    elf = tmp_path / "forever.elf"
    elf.write_bytes(forever_elf())
    runner = CliRunner()
    result = runner.invoke(app, ["execute", str(elf), "--cycle-limit", "300k", "--json"])
    assert result.exit_code == 6, result.output
    report = json.loads(result.output)
    assert report["ok"] is False and report["limit"] == 300_000
    bad = runner.invoke(app, ["execute", str(elf), "--cycle-limit", "many", "--json"])
    assert bad.exit_code == 2 and "not a cycle count" in json.loads(bad.output)["error"]
    receipt = tmp_path / "r.bin"
    proved = runner.invoke(
        app,
        ["prove", str(elf), "-o", str(receipt), "--dev-mode", "--cycle-limit", "300k", "--json"],
    )
    assert proved.exit_code != 0
    assert "cycle limit exceeded" in json.loads(proved.output)["error"]
    assert not receipt.exists()


def test_bounded_execution_keeps_no_segments() -> None:
    """Preflight memory stays flat: segments are counted, never accumulated."""
    code = [
        *load_imm("a1", 40_000),
        asm("addi", "a0", "a0", 1),
        asm("bne", "a0", "a1", -4),
        *load_imm("a0", 0),
        *load_imm("t0", SYS_HALT),
        asm("ecall"),
    ]
    elf = build_elf([(TEXT, words_to_bytes(code), 4 * len(code))], TEXT)
    session = execute_bounded(elf, b"", cycle_limit=10**6, segment_po2=13, show=False)
    assert session.segment_count > 3
    assert session.segments == []

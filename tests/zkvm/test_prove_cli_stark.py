"""`proofmarket prove` proves for real by default; `verify` gives a clear verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.zkvm.isa import asm, load_imm
from proofmarket.zkvm.receipt import DEV_MODE_ENV
from zkvm.programs import halt, make_elf

runner = CliRunner()
pytestmark = pytest.mark.slow


def test_cli_proves_and_verifies_a_stark_receipt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DEV_MODE_ENV, raising=False)
    code = [*load_imm("a1", 50), asm("addi", "a1", "a1", -1), asm("bne", "a1", "zero", -4)]
    elf = tmp_path / "loop.elf"
    elf.write_bytes(make_elf([*code, *halt(7)]))
    out = tmp_path / "loop.receipt"
    proved = runner.invoke(
        app, ["prove", str(elf), "--segment-po2", "13", "-o", str(out), "--json"]
    )
    assert proved.exit_code == 0, proved.output
    summary = json.loads(proved.output)
    assert (summary["mode"], summary["dev_mode"], summary["exit_user"]) == ("STARK", False, 7)
    ok = runner.invoke(app, ["verify", str(out), "--elf", str(elf)])
    assert ok.exit_code == 0, ok.output
    assert "[STARK] receipt verified" in ok.output
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 1
    bad = tmp_path / "bad.receipt"
    bad.write_bytes(bytes(data))
    refused = runner.invoke(app, ["verify", str(bad), "--elf", str(elf)])
    assert refused.exit_code == 1
    assert "FAILED" in refused.output or "bad.receipt" in refused.output

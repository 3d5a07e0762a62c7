"""`proofmarket prove` and `proofmarket verify` end to end on example guests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.zkvm import compute_image_id
from proofmarket.zkvm.guests import example_elf
from proofmarket.zkvm.receipt import DEV_MODE_ENV, Receipt

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_dev_mode_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEV_MODE_ENV, raising=False)


@pytest.fixture
def fib_elf(tmp_path: Path) -> Path:
    path = tmp_path / "fib.elf"
    path.write_bytes(example_elf("fib"))
    return path


def _prove(fib_elf: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(
        app,
        ["prove", str(fib_elf), "--input-hex", "0a000000", "--dev-mode", "-o", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_prove_then_verify_json(fib_elf: Path, tmp_path: Path) -> None:
    out = tmp_path / "fib.receipt"
    proved = _prove(fib_elf, out)
    assert proved["mode"] == "DEV MODE"
    assert proved["dev_mode"] is True
    assert proved["journal_hex"] == (55).to_bytes(4, "little").hex()
    assert proved["exit_code"] == "Halted(0)"
    assert proved["image_id"] == compute_image_id(fib_elf.read_bytes()).hex()
    assert Receipt.from_bytes(out.read_bytes()).journal == (55).to_bytes(4, "little")

    ok = runner.invoke(app, ["verify", str(out), "--elf", str(fib_elf), "--dev-mode", "--json"])
    assert ok.exit_code == 0, ok.output
    verified = json.loads(ok.output)
    assert verified["verified"] is True
    assert verified["mode"] == "DEV MODE"

    by_id = runner.invoke(app, ["verify", str(out), "--image-id", proved["image_id"], "--dev-mode"])
    assert by_id.exit_code == 0, by_id.output
    assert "DEV MODE" in by_id.output


def test_verify_refuses_dev_receipt_without_flag(fib_elf: Path, tmp_path: Path) -> None:
    out = tmp_path / "fib.receipt"
    _prove(fib_elf, out)
    refused = runner.invoke(app, ["verify", str(out), "--elf", str(fib_elf), "--json"])
    assert refused.exit_code == 1
    body = json.loads(refused.output)
    assert body["verified"] is False
    assert "DEV MODE" in body["error"]


def test_verify_accepts_dev_receipt_with_env(
    fib_elf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "fib.receipt"
    _prove(fib_elf, out)
    monkeypatch.setenv(DEV_MODE_ENV, "1")
    result = runner.invoke(app, ["verify", str(out), "--elf", str(fib_elf)])
    assert result.exit_code == 0, result.output


def test_verify_wrong_image_and_bad_files(fib_elf: Path, tmp_path: Path) -> None:
    out = tmp_path / "fib.receipt"
    _prove(fib_elf, out)
    wrong = runner.invoke(app, ["verify", str(out), "--image-id", "11" * 32, "--dev-mode"])
    assert wrong.exit_code == 1
    assert "image ID mismatch" in wrong.output
    short = runner.invoke(app, ["verify", str(out), "--image-id", "abcd", "--dev-mode"])
    assert short.exit_code == 1
    assert "32 bytes" in short.output
    both = runner.invoke(app, ["verify", str(out), "--image-id", "11" * 32, "--elf", str(fib_elf)])
    assert both.exit_code == 1
    assert "exactly one" in both.output
    garbage = tmp_path / "garbage.receipt"
    garbage.write_bytes(b"PMRC\x01\x00\x05")
    bad = runner.invoke(app, ["verify", str(garbage), "--elf", str(fib_elf), "--dev-mode"])
    assert bad.exit_code == 1
    assert "truncated receipt" in bad.output
    truncated = tmp_path / "truncated.receipt"
    truncated.write_bytes(out.read_bytes()[:-3])
    cut = runner.invoke(app, ["verify", str(truncated), "--elf", str(fib_elf), "--dev-mode"])
    assert cut.exit_code == 1
    assert "truncated" in cut.output


def test_prove_errors(fib_elf: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.receipt"
    panic_elf = tmp_path / "panic.elf"
    panic_elf.write_bytes(example_elf("panic"))
    no_receipt = runner.invoke(
        app, ["prove", str(panic_elf), "--input-hex", "00000000", "-o", str(out)]
    )
    assert no_receipt.exit_code == 1
    assert "code 0 requested" in no_receipt.output
    assert not out.exists()
    bad_hex = runner.invoke(
        app, ["prove", str(fib_elf), "--input-hex", "zz", "--dev-mode", "-o", str(out)]
    )
    assert bad_hex.exit_code == 1
    assert "not valid hex" in bad_hex.output
    panicked = runner.invoke(
        app, ["prove", str(panic_elf), "--input-hex", "00000000", "--dev-mode", "-o", str(out)]
    )
    assert panicked.exit_code == 1
    assert "code 0 requested" in panicked.output
    not_elf = tmp_path / "not.elf"
    not_elf.write_bytes(b"hello")
    bad_elf = runner.invoke(app, ["prove", str(not_elf), "--dev-mode", "-o", str(out)])
    assert bad_elf.exit_code == 1


def test_prove_input_file_and_human_output(tmp_path: Path) -> None:
    elf = tmp_path / "sha.elf"
    elf.write_bytes(example_elf("sha256"))
    data = tmp_path / "input.bin"
    data.write_bytes(b"hello proofmarket")
    out = tmp_path / "sha.receipt"
    result = runner.invoke(
        app,
        [
            "prove",
            str(elf),
            "--input",
            str(data),
            "--dev-mode",
            "-o",
            str(out),
            "--segment-po2",
            "14",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "DEV MODE" in result.output
    assert (
        Receipt.from_bytes(out.read_bytes()).journal
        == hashlib.sha256(b"hello proofmarket").digest()
    )

"""``proofmarket execute`` and ``proofmarket image-id`` through typer's CliRunner."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.zkvm import compute_image_id, execute
from proofmarket.zkvm.guests import example_elf
from zkvm.programs import DATA, halt, make_elf, write

runner = CliRunner()


@pytest.fixture
def fib_elf(tmp_path: Path) -> Path:
    path = tmp_path / "fib.elf"
    path.write_bytes(example_elf("fib"))
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_execute_json_matches_the_library(fib_elf: Path) -> None:
    code, out = invoke("execute", str(fib_elf), "--input-hex", "0a000000", "--json")
    assert code == 0, out
    data = json.loads(out)
    session = execute(fib_elf.read_bytes(), struct.pack("<I", 10))
    assert data["ok"] is True
    assert (
        data["image_id"] == session.image_id.hex() == compute_image_id(fib_elf.read_bytes()).hex()
    )
    assert data["exit_code"] == {"system": "halted", "user": 0, "text": "Halted(0)"}
    assert data["journal_hex"] == struct.pack("<I", 55).hex()
    assert data["total_cycles"] == session.total_cycles
    assert data["user_cycles"] == session.user_cycles
    assert data["segments"] == session.segment_count
    assert data["claim_digest"] == session.claim().digest().hex()


def test_execute_human_output_shows_text_journal_and_streams(tmp_path: Path) -> None:
    elf = tmp_path / "hello.elf"
    elf.write_bytes(make_elf([*write(3, DATA, 5), *write(1, DATA + 5, 3), *halt(4)], b"hellohi\n"))
    code, out = invoke("execute", str(elf))
    assert code == 0, out
    assert "Halted(4)" in out
    assert "journal text: hello" in out
    assert "--- guest stdout ---\nhi\n" in out


def test_execute_input_file_and_segment_po2(fib_elf: Path, tmp_path: Path) -> None:
    inp = tmp_path / "n.bin"
    inp.write_bytes(struct.pack("<I", 20))
    code, out = invoke(
        "execute", str(fib_elf), "--input", str(inp), "--segment-po2", "13", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["journal_hex"] == struct.pack("<I", 6765).hex()


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--input-hex", "xyz"], 2, "not valid hex"),
        (["--input-hex", "00", "--input", "nofile"], 2, "either --input or --input-hex"),
        (["--input", "/nonexistent/input"], 2, "cannot read input file"),
        (["--segment-po2", "30"], 2, "[13, 24]"),
        (["--cycle-limit", "0"], 2, "must be positive"),
        (["--input-hex", "0a000000", "--cycle-limit", "100"], 6, "cycle limit exceeded"),
    ],
)
def test_execute_argument_errors(
    fib_elf: Path, args: list[str], exit_code: int, message: str
) -> None:
    code, out = invoke("execute", str(fib_elf), *args)
    assert code == exit_code, out
    assert message in out


def test_execute_guest_errors_exit_non_zero(tmp_path: Path) -> None:
    panic_elf = tmp_path / "panic.elf"
    panic_elf.write_bytes(example_elf("panic"))
    code, out = invoke("execute", str(panic_elf), "--input-hex", "00000000", "--json")
    assert code == 5
    data = json.loads(out)
    assert data["ok"] is False
    assert "panic" in data["panic_message"]
    fault_elf = tmp_path / "fault.elf"
    fault_elf.write_bytes(make_elf([0]))
    code, out = invoke("execute", str(fault_elf), "--json")
    assert code == 4
    assert "illegal instruction" in json.loads(out)["reason"]


def test_execute_and_image_id_reject_bad_elf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"definitely not an elf")
    code, out = invoke("execute", str(bad))
    assert code == 3
    assert "not an ELF" in out
    code, out = invoke("image-id", str(bad), "--json")
    assert code == 3
    assert json.loads(out)["ok"] is False
    code, out = invoke("image-id", str(tmp_path / "missing.elf"))
    assert code == 2
    assert "cannot read ELF file" in out


def test_image_id(fib_elf: Path) -> None:
    expected = compute_image_id(fib_elf.read_bytes()).hex()
    code, out = invoke("image-id", str(fib_elf))
    assert code == 0
    assert out.strip() == expected
    code, out = invoke("image-id", str(fib_elf), "--json")
    assert json.loads(out)["image_id"] == expected

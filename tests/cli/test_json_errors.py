"""Failures read the same everywhere: one ``error:`` line, or one JSON object under
``--json``; never a traceback (unless PROOFMARKET_DEBUG asks for one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from proofmarket.cli import main as cli_main
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.isa import asm, words_to_bytes

UNUSED_PORT_URL = "http://127.0.0.1:1"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000001"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proofmarket", *args], capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize(
    "args",
    [
        ["execute", "--json"],  # usage error: missing argument
        [
            "request",
            "status",
            "0x12",
            "--rpc-url",
            UNUSED_PORT_URL,
            "--market-address",
            ZERO_ADDRESS,
            "--json",
        ],
        [
            "account",
            "balance",
            "--rpc-url",
            UNUSED_PORT_URL,
            "--market-address",
            ZERO_ADDRESS,
            "--private-key",
            "0x" + "11" * 32,
            "--json",
        ],
        ["cluster", "bench", "-c", "1", "--endpoint", UNUSED_PORT_URL, "--json"],
    ],
)
def test_errors_are_json_under_json(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode in (1, 2), out
    report = json.loads(out.stdout)
    assert report["ok"] is False and report["error"]
    assert "Traceback" not in out.stderr
    for raw in ("HTTPConnectionPool", "urllib3", "Max retries", "Errno"):
        assert raw not in report["error"]


def test_unreachable_rpc_is_one_line() -> None:
    out = run(
        "request", "status", "0x12", "--rpc-url", UNUSED_PORT_URL, "--market-address", ZERO_ADDRESS
    )
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"error: cannot reach the RPC endpoint {UNUSED_PORT_URL}: connection refused"
    )


def test_an_unhandled_error_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    code = [asm("ecall")]
    elf = tmp_path / "g.elf"
    elf.write_bytes(build_elf([(0x0020_0800, words_to_bytes(code), 4)], 0x0020_0800))
    import proofmarket.cli.zkvm_cmds as zkvm_cmds

    def broken(_elf: bytes) -> bytes:  # fault injection: a bug inside a command
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(zkvm_cmds, "compute_image_id", broken)
    monkeypatch.delenv("PROOFMARKET_DEBUG", raising=False)
    for as_json in (False, True):
        monkeypatch.setattr(
            sys, "argv", ["proofmarket", "image-id", str(elf)] + (["--json"] if as_json else [])
        )
        with pytest.raises(SystemExit) as exit_info:
            cli_main.main()
        assert exit_info.value.code == 1
        captured = capsys.readouterr()
        if as_json:
            assert json.loads(captured.out) == {"ok": False, "error": "the disk caught fire"}
        else:
            assert captured.err.startswith("error: the disk caught fire")
            assert "Traceback" not in captured.err

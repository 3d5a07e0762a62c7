"""Every command that writes a file answers a bad output path with one clear line: no
traceback, a non-zero exit, and no folder created for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

from proofmarket.cli.main import COMMANDS, load_command
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
from proofmarket.zkvm.layout import SYS_HALT

Args = Callable[[Path, str], list[str]]


def _halt_elf(tmp: Path) -> str:
    code = [*load_imm("a0", 0), *load_imm("t0", SYS_HALT), asm("ecall")]
    path = tmp / "halt.elf"
    path.write_bytes(build_elf([(0x0020_0800, words_to_bytes(code), 4 * len(code))], 0x0020_0800))
    return str(path)


def _source(tmp: Path) -> str:
    path = tmp / "main.c"
    path.write_text("int main(void) { return 0; }\n")
    return str(path)


# One entry per command with an output path: the arguments that make it write there.
WRITERS: dict[str, Args] = {
    "prove": lambda tmp, out: ["prove", _halt_elf(tmp), "-o", out, "--dev-mode"],
    "guest build": lambda tmp, out: ["guest", "build", _source(tmp), "-o", out],
    "guest example": lambda tmp, out: ["guest", "example", "fib", "-o", out],
    "devnet up": lambda tmp, out: ["devnet", "up", "--env-file", out, "--state-dir", str(tmp)],
    "broker config-template": lambda tmp, out: ["broker", "config-template", out],
    "prover generate-config": lambda tmp, out: [
        "prover",
        "generate-config",
        "-o",
        out,
        "--yes",
        "--peak-prove-khz",
        "100",
    ],
}
# Commands that take the same option but only read it (no write, so no failure needed).
READERS = {"devnet down", "devnet status"}


def _commands() -> Iterator[tuple[str, object]]:
    def walk(command: object, path: list[str]) -> Iterator[tuple[str, object]]:
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), command

    for name in COMMANDS:
        yield from walk(load_command(name), [name])


def _writes_a_file(command: object) -> bool:
    for param in getattr(command, "params", []):
        text = (getattr(param, "help", "") or "").lower()
        if param.name == "output" or "to write" in text or "file to write" in text:
            return True
    return False


def test_every_command_with_an_output_path_is_covered() -> None:
    found = {name for name, command in _commands() if _writes_a_file(command)}
    assert found == set(WRITERS) | READERS, "add the new command to WRITERS or READERS"


def _bad_paths(tmp: Path) -> dict[str, Path]:
    folder = tmp / "a-folder"
    folder.mkdir()
    plain = tmp / "a-file"
    plain.write_text("x")
    return {
        "a directory": folder,
        "a missing folder": Path(f"/nonexistent-{uuid.uuid4().hex}/dir/x"),
        "below a file": plain / "x",
    }


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_bad_output_paths_get_one_clear_error(command: str, tmp_path: Path) -> None:
    from proofmarket.cli.main import app

    runner = CliRunner()
    for what, bad in _bad_paths(tmp_path).items():
        argv = WRITERS[command](tmp_path, str(bad))
        for json_flag in ([], ["--json"]) if command in ("prove", "guest build") else ([],):
            result = runner.invoke(app, argv + json_flag)
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                f"{command} with {what}: {result.exception!r}"
            )
            assert result.exit_code != 0, f"{command} accepted {what}"
            assert "Traceback" not in result.output
            assert str(bad) in result.output or bad.name in result.output, result.output
        if what == "a missing folder":
            top = Path(bad.anchor, bad.parts[1])
            assert not top.exists(), f"{command} created {top}"


@pytest.mark.parametrize("command", sorted(READERS))
def test_reading_commands_do_not_crash_on_bad_paths(command: str, tmp_path: Path) -> None:
    from proofmarket.cli.main import app

    for bad in _bad_paths(tmp_path).values():
        argv = [*command.split(), "--env-file", str(bad), "--state-dir", str(tmp_path / "s")]
        result = CliRunner().invoke(app, argv)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output

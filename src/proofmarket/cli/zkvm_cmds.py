"""``proofmarket execute`` and ``proofmarket image-id``: run a guest ELF locally.

``execute`` is what a requestor or prover uses to check a program before posting or
locking a request: it prints the image ID, exit code, cycle counts, segment count and
the guest's journal and output streams. Failures exit non-zero with a precise message:

===  ====================================================
 2   bad arguments (unreadable file, bad hex, bad po2/limit)
 3   not a loadable RV32IM ELF
 4   guest fault (illegal instruction, bad access, ...)
 5   guest panic
 6   cycle limit exceeded
 7   input too large
 1   any other zkVM error
===  ====================================================
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from proofmarket.cli.execution import CycleLimitOpt, cycle_limit_value, execute_bounded
from proofmarket.zkvm.errors import (
    ElfError,
    GuestFault,
    GuestPanic,
    InputTooLarge,
    InvalidSegmentPo2,
    SessionLimitExceeded,
    ZkvmError,
)
from proofmarket.zkvm.executor import compute_image_id
from proofmarket.zkvm.layout import DEFAULT_SEGMENT_PO2
from proofmarket.zkvm.session import Session

if TYPE_CHECKING:
    from rich.console import Console

EXIT_USAGE = 2
EXIT_ELF = 3
EXIT_FAULT = 4
EXIT_PANIC = 5
EXIT_LIMIT = 6
EXIT_INPUT = 7
EXIT_OTHER = 1


@cache
def _err() -> Console:
    """The stderr console, created on first use so ``image-id`` never imports rich."""
    from rich.console import Console

    return Console(stderr=True)


def _fail(
    message: str, code: int, *, as_json: bool, extra: dict[str, Any] | None = None
) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message, **(extra or {})}, sort_keys=True))
    else:
        from rich.markup import escape

        _err().print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _read_elf(path: Path, as_json: bool) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read ELF file {path}: {exc.strerror or exc}", EXIT_USAGE, as_json=as_json)


def _read_input(input_file: Path | None, input_hex: str | None, as_json: bool) -> bytes:
    if input_file is not None and input_hex is not None:
        _fail("give either --input or --input-hex, not both", EXIT_USAGE, as_json=as_json)
    if input_file is not None:
        try:
            return input_file.read_bytes()
        except OSError as exc:
            msg = f"cannot read input file {input_file}: {exc.strerror or exc}"
            _fail(msg, EXIT_USAGE, as_json=as_json)
    if input_hex is not None:
        text = input_hex.strip().removeprefix("0x").replace(" ", "")
        try:
            return bytes.fromhex(text)
        except ValueError:
            _fail(f"--input-hex is not valid hex: {input_hex!r}", EXIT_USAGE, as_json=as_json)
    return b""


def _printable(data: bytes) -> str | None:
    """The bytes as text when they are printable UTF-8, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\n\r\t" for c in text) else None


def session_summary(session: Session, elapsed: float) -> dict[str, Any]:
    """JSON-ready description of a finished session."""
    return {
        "ok": True,
        "image_id": session.image_id.hex(),
        "exit_code": {
            "system": session.exit_code.system.name.lower(),
            "user": session.exit_code.user,
            "text": str(session.exit_code),
        },
        "total_cycles": session.total_cycles,
        "user_cycles": session.user_cycles,
        "paging_cycles": session.paging_cycles,
        "segments": session.segment_count,
        "journal_hex": session.journal.hex(),
        "journal_text": _printable(session.journal),
        "stdout": session.stdout.decode("utf-8", "replace"),
        "stderr": session.stderr.decode("utf-8", "replace"),
        "claim_digest": session.claim().digest().hex(),
        "elapsed_s": round(elapsed, 6),
    }


def _print_human(summary: dict[str, Any]) -> None:
    echo = typer.echo
    echo(f"image id:     {summary['image_id']}")
    echo(f"exit code:    {summary['exit_code']['text']}")
    echo(
        f"cycles:       {summary['total_cycles']} total, {summary['user_cycles']} user, "
        f"{summary['paging_cycles']} paging"
    )
    echo(f"segments:     {summary['segments']}")
    echo(f"journal hex:  {summary['journal_hex'] or '(empty)'}")
    if summary["journal_text"]:
        echo(f"journal text: {summary['journal_text']}")
    echo(f"claim digest: {summary['claim_digest']}")
    if summary["stdout"]:
        echo("--- guest stdout ---")
        echo(summary["stdout"], nl=not summary["stdout"].endswith("\n"))
    if summary["stderr"]:
        echo("--- guest stderr ---")
        echo(summary["stderr"], nl=not summary["stderr"].endswith("\n"))


def execute_cmd(
    elf: Annotated[Path, typer.Argument(help="Guest ELF (static RV32IM executable).")],
    input_file: Annotated[
        Path | None, typer.Option("--input", help="File whose bytes are the guest input.")
    ] = None,
    input_hex: Annotated[
        str | None, typer.Option("--input-hex", help="Guest input as hex.")
    ] = None,
    segment_po2: Annotated[
        int, typer.Option("--segment-po2", help="log2 of the segment size, 13..24.")
    ] = DEFAULT_SEGMENT_PO2,
    cycle_limit: CycleLimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Execute a guest and report image ID, exit code, cycles, segments and journal."""
    data = _read_input(input_file, input_hex, as_json)
    elf_bytes = _read_elf(elf, as_json)
    try:
        limit = cycle_limit_value(cycle_limit)
    except typer.BadParameter as exc:
        _fail(exc.message, EXIT_USAGE, as_json=as_json)
    started = time.perf_counter()
    try:
        session = execute_bounded(
            elf_bytes, data, cycle_limit=limit, segment_po2=segment_po2, show=not as_json
        )
    except ElfError as exc:
        _fail(f"invalid ELF {elf}: {exc}", EXIT_ELF, as_json=as_json)
    except InvalidSegmentPo2 as exc:
        _fail(str(exc), EXIT_USAGE, as_json=as_json)
    except InputTooLarge as exc:
        _fail(str(exc), EXIT_INPUT, as_json=as_json)
    except GuestFault as exc:
        _fail(str(exc), EXIT_FAULT, as_json=as_json, extra={"pc": exc.pc, "reason": exc.reason})
    except GuestPanic as exc:
        _fail(str(exc), EXIT_PANIC, as_json=as_json, extra={"panic_message": exc.message})
    except SessionLimitExceeded as exc:
        _fail(str(exc), EXIT_LIMIT, as_json=as_json, extra={"limit": exc.limit})
    except ZkvmError as exc:
        _fail(str(exc), EXIT_OTHER, as_json=as_json)
    summary = session_summary(session, time.perf_counter() - started)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        _print_human(summary)


def image_id_cmd(
    elf: Annotated[Path, typer.Argument(help="Guest ELF (static RV32IM executable).")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the image ID of a guest ELF (digest of its initial machine state)."""
    elf_bytes = _read_elf(elf, as_json)
    try:
        image_id = compute_image_id(elf_bytes)
    except ElfError as exc:
        _fail(f"invalid ELF {elf}: {exc}", EXIT_ELF, as_json=as_json)
    if as_json:
        typer.echo(json.dumps({"ok": True, "elf": str(elf), "image_id": image_id.hex()}))
    else:
        typer.echo(image_id.hex())


def register(app: typer.Typer) -> None:
    """Attach ``execute`` and ``image-id`` to the root app."""
    app.command("execute")(execute_cmd)
    app.command("image-id")(image_id_cmd)

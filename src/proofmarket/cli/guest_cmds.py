"""Guest and receipt commands: ``guest build|list|example``, ``prove`` and ``verify``.

Dev-mode receipts are labelled DEV MODE in every human and JSON output, and ``verify``
accepts them only with ``--dev-mode`` (or ``PROOFMARKET_DEV_MODE=1``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from proofmarket.cli.execution import CycleLimitOpt, cycle_limit_value
from proofmarket.cli.output import OutputPathError, check_output_path, write_output
from proofmarket.zkvm.claim import DIGEST_BYTES
from proofmarket.zkvm.errors import ZkvmError
from proofmarket.zkvm.guests import (
    UnknownGuestError,
    example_elf,
    example_names,
    example_source,
)
from proofmarket.zkvm.layout import DEFAULT_SEGMENT_PO2
from proofmarket.zkvm.receipt import (
    DEV_MODE_LABEL,
    Receipt,
    ReceiptFormatError,
    SegmentReceipt,
    VerificationError,
    verify,
)
from proofmarket.zkvm.toolchain import ALLOWED_OPT_LEVELS, GuestBuildError, build_guest

guest_app = typer.Typer(
    help="Build RV32IM guest programs with the bundled C SDK.", no_args_is_help=True
)

_err = Console(stderr=True, soft_wrap=True)

EXAMPLE_INPUTS = {
    "fib": "u32 LE n -> journal u32 LE fib(n) mod 2^32",
    "sha256": "any bytes -> journal 32-byte SHA-256 digest",
    "iter": "u32 LE N >= 1 -> N*1024 loop iterations, journal u32 LE result (N = 0 panics)",
    "panic": "u32 LE code -> code 0 panics, otherwise halts with exit code `code`",
}


def _fail(message: str, *, as_json: bool, code: int = 1) -> typer.Exit:
    """Report an error (JSON on stdout with --json, else red text on stderr)."""
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message}))
    else:
        _err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _emit(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


@guest_app.command("build")
def build_cmd(
    sources: Annotated[list[Path], typer.Argument(help="C / assembly sources of the guest.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="ELF file to write.")],
    opt: Annotated[
        str, typer.Option("--opt", help=f"Optimisation level: {', '.join(ALLOWED_OPT_LEVELS)}.")
    ] = "-O2",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Compile guest sources with the SDK into a static RV32IM ELF."""
    try:
        check_output_path(output, what="ELF")
        path = build_guest(sources, output, opt=opt)
    except (OutputPathError, GuestBuildError) as exc:
        raise _fail(str(exc), as_json=as_json) from None
    size = path.stat().st_size
    if as_json:
        _emit({"ok": True, "elf": str(path), "bytes": size, "image_id": _image_id_hex(path)})
    else:
        typer.echo(f"built {path} ({size} bytes)")


def _image_id_hex(path: Path) -> str | None:
    """The image ID, if the executor is available to compute it."""
    try:
        from proofmarket.zkvm.executor import compute_image_id
    except ImportError:  # pragma: no cover - the executor ships in the same package
        return None
    try:
        return compute_image_id(path.read_bytes()).hex()
    except ZkvmError:
        return None


@guest_app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the example guests shipped with the SDK and their input/journal formats."""
    rows = [
        {"name": name, "source": str(example_source(name)), "io": EXAMPLE_INPUTS.get(name, "")}
        for name in example_names()
    ]
    if as_json:
        _emit({"examples": rows})
        return
    for row in rows:
        typer.echo(f"{row['name']:8} {row['io']}")


@guest_app.command("example")
def example_cmd(
    name: Annotated[str, typer.Argument(help="Example guest name (see `guest list`).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="ELF file to write.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Write the ELF of an example guest (built and cached on first use)."""
    try:
        check_output_path(output, what="ELF")
        data = example_elf(name)
        write_output(output, data, what="ELF")
    except (UnknownGuestError, GuestBuildError, OutputPathError) as exc:
        raise _fail(str(exc), as_json=as_json) from None
    if as_json:
        _emit({"ok": True, "elf": str(output), "bytes": len(data), "name": name})
    else:
        typer.echo(f"wrote {output} ({len(data)} bytes)")


def _read_input(input_file: Path | None, input_hex: str | None, *, as_json: bool) -> bytes:
    if input_file is not None and input_hex is not None:
        raise _fail("give either --input or --input-hex, not both", as_json=as_json)
    if input_file is not None:
        try:
            return input_file.read_bytes()
        except OSError as exc:
            raise _fail(f"cannot read input file {input_file}: {exc}", as_json=as_json) from None
    if input_hex is not None:
        text = input_hex.removeprefix("0x")
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise _fail(f"--input-hex is not valid hex: {input_hex!r}", as_json=as_json) from None
    return b""


def prove_cmd(
    elf: Annotated[Path, typer.Argument(help="Guest ELF to execute and prove.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Receipt file to write.")],
    input_file: Annotated[
        Path | None, typer.Option("--input", help="File holding the guest input.")
    ] = None,
    input_hex: Annotated[
        str | None, typer.Option("--input-hex", help="Guest input as hex.")
    ] = None,
    dev_mode: Annotated[
        bool,
        typer.Option("--dev-mode", help=f"Issue a {DEV_MODE_LABEL} receipt (proves nothing)."),
    ] = False,
    segment_po2: Annotated[
        int, typer.Option("--segment-po2", help="log2 of the segment size in cycles.")
    ] = DEFAULT_SEGMENT_PO2,
    cycle_limit: CycleLimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Execute a guest and prove every segment with a STARK (--dev-mode: no proof)."""
    from proofmarket.zkvm.prove import prove_session

    try:
        limit = cycle_limit_value(cycle_limit)
    except typer.BadParameter as exc:
        raise _fail(exc.message, as_json=as_json, code=2) from None
    try:
        check_output_path(output, what="receipt")
    except OutputPathError as exc:
        raise _fail(str(exc), as_json=as_json, code=2) from None
    data = _read_input(input_file, input_hex, as_json=as_json)
    try:
        elf_bytes = elf.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read ELF {elf}: {exc}", as_json=as_json) from None
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("executing and proving", total=None)

        def on_proved(receipt: SegmentReceipt) -> None:
            progress.update(task, description=f"proved segment {receipt.index}")

        try:
            proved = prove_session(
                elf_bytes,
                data,
                dev_mode=dev_mode,
                segment_po2=segment_po2,
                cycle_limit=limit,
                on_segment_proved=on_proved,
            )
        except ZkvmError as exc:
            raise _fail(str(exc), as_json=as_json) from None
    receipt, session = proved.receipt, proved.session
    try:
        write_output(output, receipt.to_bytes(), what="receipt")
    except OutputPathError as exc:
        raise _fail(str(exc), as_json=as_json) from None
    summary = {
        "ok": True,
        **receipt.summary(),
        "receipt": str(output),
        "receipt_bytes": output.stat().st_size,
        "total_cycles": session.total_cycles,
        "user_cycles": session.user_cycles,
        "stdout": session.stdout.decode("utf-8", "replace"),
        "stderr": session.stderr.decode("utf-8", "replace"),
    }
    if as_json:
        _emit(summary)
        return
    if receipt.is_dev_mode:
        _err.print(f"[bold yellow]{DEV_MODE_LABEL}[/bold yellow]: this receipt proves nothing")
    typer.echo(
        f"[{receipt.mode}] receipt {output}: {receipt.claim.exit_code}, "
        f"{session.segment_count} segment(s), {session.total_cycles} cycles, "
        f"journal {receipt.journal.hex() or '(empty)'}"
    )
    typer.echo(f"image id {receipt.image_id.hex()}")


def verify_cmd(
    receipt_path: Annotated[Path, typer.Argument(help="Receipt file written by `prove`.")],
    image_id_hex: Annotated[
        str | None, typer.Option("--image-id", help="Expected image ID (hex).")
    ] = None,
    elf: Annotated[
        Path | None, typer.Option("--elf", help="Compute the expected image ID from this ELF.")
    ] = None,
    dev_mode: Annotated[
        bool, typer.Option("--dev-mode", help=f"Accept {DEV_MODE_LABEL} receipts.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Verify a receipt against an image ID; exit status 1 when it does not verify."""
    image_id = _expected_image_id(image_id_hex, elf, as_json=as_json)
    try:
        receipt = Receipt.from_bytes(receipt_path.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read receipt {receipt_path}: {exc}", as_json=as_json) from None
    except ReceiptFormatError as exc:
        raise _fail(f"{receipt_path}: {exc}", as_json=as_json) from None
    try:
        verify(receipt, image_id, allow_dev_mode=dev_mode)
    except VerificationError as exc:
        message = f"verification FAILED [{receipt.mode}]: {exc}"
        if as_json:
            _emit({"ok": False, "verified": False, "error": message, **receipt.summary()})
            raise typer.Exit(1) from None
        raise _fail(message, as_json=False) from None
    if as_json:
        _emit({"ok": True, "verified": True, **receipt.summary()})
        return
    if receipt.is_dev_mode:
        _err.print(
            f"[bold yellow]{DEV_MODE_LABEL}[/bold yellow]: accepted without a proof (dev mode)"
        )
    typer.echo(
        f"[{receipt.mode}] receipt verified: image {image_id.hex()}, {receipt.claim.exit_code}, "
        f"journal {receipt.journal.hex() or '(empty)'}"
    )


def _expected_image_id(image_id_hex: str | None, elf: Path | None, *, as_json: bool) -> bytes:
    if (image_id_hex is None) == (elf is None):
        raise _fail("give exactly one of --image-id and --elf", as_json=as_json)
    if elf is not None:
        from proofmarket.zkvm.executor import compute_image_id

        try:
            return compute_image_id(elf.read_bytes())
        except OSError as exc:
            raise _fail(f"cannot read ELF {elf}: {exc}", as_json=as_json) from None
        except ZkvmError as exc:
            raise _fail(f"{elf}: {exc}", as_json=as_json) from None
    assert image_id_hex is not None
    try:
        image_id = bytes.fromhex(image_id_hex.removeprefix("0x"))
    except ValueError:
        raise _fail(f"--image-id is not valid hex: {image_id_hex!r}", as_json=as_json) from None
    if len(image_id) != DIGEST_BYTES:
        raise _fail(
            f"--image-id must be {DIGEST_BYTES} bytes ({2 * DIGEST_BYTES} hex digits), "
            f"got {len(image_id)}",
            as_json=as_json,
        )
    return image_id


def register(app: typer.Typer) -> None:
    """Attach ``guest``, ``prove`` and ``verify`` to the root app."""
    app.add_typer(guest_app, name="guest")
    app.command("prove")(prove_cmd)
    app.command("verify")(verify_cmd)

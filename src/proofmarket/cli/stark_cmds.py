"""``proofmarket stark``: STARK engine tools (the security calculator)."""

from __future__ import annotations

import typer

from proofmarket.cli.chain_options import emit


def parse_rows(text: str) -> int:
    """``2^20``, ``2**20`` or ``1048576`` → 20 (log2 of a power-of-two row count)."""
    raw = text.strip().replace("**", "^")
    try:
        if raw.startswith("2^"):
            return int(raw[2:])
        value = int(raw)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not 2^k or a power of two") from None
    if value < 2 or value & (value - 1):
        raise typer.BadParameter(f"{text!r} is not a power of two ≥ 2")
    return value.bit_length() - 1


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="STARK engine tools: the security calculator.", no_args_is_help=True)

    @group.command("security")
    def security(
        rows: str = typer.Option("2^20", "--rows", help="Trace rows: 2^k or a power of two."),
        columns: int = typer.Option(400, "--columns", help="Committed base columns."),
        interactions: int = typer.Option(0, "--interactions", help="LogUp interactions/row."),
        tuple_len: int = typer.Option(4, "--tuple-len", help="Widest LogUp tuple."),
        constraints: int = typer.Option(0, "--constraints", help="Constraints (0: columns)."),
        degree: int = typer.Option(4, "--degree", help="Largest constraint degree."),
        profile: str = typer.Option("default", "--profile", help="Parameter profile."),
        hash_name: str = typer.Option("", "--hash", help="Override the profile's hash."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Print every soundness term (bits) of a proof shape and the minimum, per regime."""
        from proofmarket.stark.params import ParamsError, get_profile
        from proofmarket.stark.security import SecurityError, Shape, describe_all, format_reports

        log_rows = parse_rows(rows)
        try:
            params = get_profile(profile)
            if hash_name:
                params = params.with_(hash=hash_name)
            shape = Shape(log_rows, columns, interactions, tuple_len, constraints, degree)
            reports = describe_all(params, shape)
        except (ParamsError, SecurityError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        data = {name: rep.to_dict() for name, rep in reports.items()}
        emit(data, as_json, format_reports(reports).splitlines())

    app.add_typer(group, name="stark")

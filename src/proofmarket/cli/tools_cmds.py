"""``proofmarket tools``: install and locate the project-local external tools."""

from __future__ import annotations

import importlib
import json
import time

import typer

from proofmarket import tools

# Modules whose ``warmup()`` compiles their numba kernels into numba's on-disk cache.
WARMERS: dict[str, str] = {
    "zkvm": "proofmarket.zkvm.warmup",
    "stark": "proofmarket.stark",
}


def precompile(only: list[str] | None = None) -> dict[str, float]:
    """Run the warmers (all, or those named in ``only``); seconds each took."""
    names = only or list(WARMERS)
    unknown = sorted(set(names) - set(WARMERS))
    if unknown:
        raise typer.BadParameter(
            f"unknown kernel set(s) {unknown}; choose from {sorted(WARMERS)}", param_hint="--only"
        )
    took: dict[str, float] = {}
    for name in names:
        warm = importlib.import_module(WARMERS[name]).warmup
        start = time.perf_counter()
        warm()
        took[name] = round(time.perf_counter() - start, 3)
    return took


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Install and locate external tools; precompile numba kernels.", no_args_is_help=True
    )

    @group.command("install")
    def install(
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Install anvil (npm) into the project tools directory if it is missing."""
        try:
            anvil = tools.ensure_anvil()
        except tools.ToolError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        info = {"anvil": str(anvil), "zig": " ".join(tools.zig_command())}
        if as_json:
            typer.echo(json.dumps(info))
        else:
            for name, where in info.items():
                typer.echo(f"{name}: {where}")

    @group.command("precompile")
    def precompile_cmd(
        only: list[str] | None = typer.Option(
            None, "--only", help=f"Only these kernel sets ({', '.join(WARMERS)}); repeatable."
        ),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Compile every numba kernel now so the first real run is not slowed by it."""
        took = precompile(only)
        if as_json:
            typer.echo(json.dumps({"ok": True, "seconds": took}))
            return
        for name, seconds in took.items():
            typer.echo(f"{name}: compiled in {seconds:.2f} s")

    app.add_typer(group, name="tools")

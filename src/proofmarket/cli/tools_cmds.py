"""``proofmarket tools``: install and locate the project-local external tools."""

from __future__ import annotations

import json

import typer

from proofmarket.devnet import tools


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Install and locate external tools (anvil, zig clang).", no_args_is_help=True
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

    app.add_typer(group, name="tools")

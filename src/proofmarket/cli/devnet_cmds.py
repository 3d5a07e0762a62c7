"""``proofmarket devnet``: a local chain with the market deployed, for development."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from proofmarket.cli.chain_options import JsonOpt, emit
from proofmarket.devnet.config import DEFAULT_ENV_FILE, DEFAULT_STATE_DIR, DevnetPaths
from proofmarket.tools import ToolError

if TYPE_CHECKING:
    from proofmarket.devnet.devnet import DevnetStatus

devnet_app = typer.Typer(
    help="Run a local anvil devnet with the market deployed.", no_args_is_help=True
)

StateDirOpt = Annotated[
    Path, typer.Option("--state-dir", help="where chain state, pid and logs live")
]
EnvFileOpt = Annotated[Path, typer.Option("--env-file", help="env file to write for the CLI")]


def _status_lines(status: DevnetStatus) -> list[str]:
    if not status.running:
        return [f"devnet is not running (state in {status.state_dir})"]
    lines = [
        f"devnet running: {status.rpc_url} (chain {status.chain_id}, pid {status.pid}, "
        f"block {status.block_number})",
    ]
    if status.deployment is not None:
        d = status.deployment
        present = "" if status.contracts_present else "  (NOT on chain: run `devnet up`)"
        lines += [
            f"  market:           {d.market}{present}",
            f"  collateral (HP):  {d.collateral_token}",
            f"  verifier router:  {d.verifier_router}",
            f"  set verifier:     {d.set_verifier}",
            f"  mock verifier:    {d.mock_verifier}  (DEV MODE)",
        ]
    lines.append(f"  env file:         {status.env_file}")
    return lines


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1) from exc


@devnet_app.command("up")
def up(
    port: Annotated[
        int | None, typer.Option("--port", help="RPC port (running port, else 8545)")
    ] = None,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    env_file: EnvFileOpt = DEFAULT_ENV_FILE,
    block_time: Annotated[
        float | None, typer.Option("--block-time", help="seconds per block (mine on demand)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start anvil (installing it if needed), deploy the dev-mode stack, fund dev accounts
    and write the env file. Running it again reuses what is there."""
    from rich.console import Console

    from proofmarket.cli.output import OutputPathError, check_output_path
    from proofmarket.devnet.devnet import DevnetError, devnet_up

    console = Console(stderr=True, quiet=as_json)
    try:
        check_output_path(env_file, what="env file")
        with console.status("starting the devnet (anvil, deployment, funding)..."):
            status = devnet_up(DevnetPaths.of(state_dir, env_file), port, block_time=block_time)
    except (DevnetError, ToolError, OSError, OutputPathError) as exc:
        _fail(exc)
        return
    emit(status.to_dict(), as_json, status.actions + _status_lines(status))


@devnet_app.command("down")
def down(
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    env_file: EnvFileOpt = DEFAULT_ENV_FILE,
    purge: Annotated[
        bool, typer.Option("--purge", help="also delete the chain state and the env file")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop the devnet; its state is kept for the next `up` unless --purge."""
    from proofmarket.devnet.devnet import devnet_down

    actions = devnet_down(DevnetPaths.of(state_dir, env_file), purge=purge)
    emit({"actions": actions}, as_json, actions)


@devnet_app.command("status")
def status(
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    env_file: EnvFileOpt = DEFAULT_ENV_FILE,
    as_json: JsonOpt = False,
) -> None:
    """Show whether the devnet runs and where its contracts are."""
    from proofmarket.devnet.devnet import devnet_status

    current = devnet_status(DevnetPaths.of(state_dir, env_file))
    emit(current.to_dict(), as_json, _status_lines(current))


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(devnet_app, name="devnet")

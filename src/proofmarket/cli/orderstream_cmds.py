"""``proofmarket orderstream``: run the off-chain order book and check on it."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from proofmarket.cli.chain_options import JsonOpt, MarketAddressOpt, RpcUrlOpt, cli_errors

orderstream_app = typer.Typer(
    help="Off-chain order stream: requests without gas, pushed to brokers.",
    no_args_is_help=True,
)

DataDirOpt = Annotated[
    Path,
    typer.Option("--data-dir", help="where state.json, logs and the SQLite book live"),
]
UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="service URL (default: the one running from --data-dir)"),
]
P = ParamSpec("P")
R = TypeVar("R")


def _errors(func: Callable[P, R]) -> Callable[P, R]:
    """``error: <msg>`` and exit status 1 for order-stream refusals too."""
    wrapped = cli_errors(func)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from proofmarket.orderstream.errors import OrderStreamError

        try:
            return wrapped(*args, **kwargs)
        except OrderStreamError as exc:
            from proofmarket.cli.errors import report

            report(f"{exc.type_name}: {exc.msg}", as_json=bool(kwargs.get("as_json")))
            raise typer.Exit(1) from exc

    return wrapper


@orderstream_app.command("up")
@_errors
def up(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8585,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="ORDER_STREAM_DATABASE_URL",
            help="sqlite:///path or postgresql://… (default: SQLite in --data-dir)",
        ),
    ] = None,
    rpc_url: RpcUrlOpt = None,
    market_address: MarketAddressOpt = None,
    data_dir: DataDirOpt = Path(".proofmarket/orderstream"),
    detach: Annotated[bool, typer.Option("--detach", "-d", help="run in the background")] = False,
    heartbeat_interval: Annotated[float, typer.Option(help="seconds between pings")] = 5.0,
    heartbeat_timeout: Annotated[
        float, typer.Option(help="drop a subscriber silent this long")
    ] = 15.0,
    submit_per_minute: Annotated[
        float, typer.Option(help="submissions per requestor address per minute (0: no limit)")
    ] = 60.0,
    min_broker_stake: Annotated[
        int, typer.Option(help="collateral units a subscriber must hold (0: anyone)")
    ] = 0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="JSON lines: start/stop events on stdout, log records on stderr"
        ),
    ] = False,
) -> None:
    """Serve the order stream (FastAPI + WebSocket) for one market deployment."""
    from proofmarket.cli.chain_options import settings
    from proofmarket.cli.daemon_output import emit, lifecycle, setup_logging
    from proofmarket.orderstream.server import (
        ServiceConfig,
        default_database_url,
        read_state,
        serve,
    )
    from proofmarket.orderstream.settings import StreamSettings

    if heartbeat_timeout <= heartbeat_interval or heartbeat_interval <= 0:
        raise ValueError("need 0 < --heartbeat-interval < --heartbeat-timeout")
    data_dir = data_dir.resolve()
    running = read_state(data_dir)
    if running is not None:
        raise ValueError(f"an order stream already runs at {running['url']} (pid {running['pid']})")
    chain = settings(rpc_url, None, market_address, None)
    db_url = database_url or default_database_url(data_dir)
    if detach:
        tuning = {
            "--heartbeat-interval": heartbeat_interval,
            "--heartbeat-timeout": heartbeat_timeout,
            "--submit-per-minute": submit_per_minute,
            "--min-broker-stake": min_broker_stake,
        }
        argv = ["--host", host, "--port", str(port), "--database-url", db_url]
        argv += ["--rpc-url", chain.rpc_url, "--market-address", chain.market_address]
        argv += ["--data-dir", str(data_dir)]
        for flag, value in tuning.items():
            argv += [flag, str(value)]
        pid, log_path = _detach(f"http://{host}:{port}", argv, data_dir)
        url = f"http://{host}:{port}"
        if as_json:
            emit({"ok": True, "url": url, "pid": pid, "log": str(log_path)})
        else:
            typer.echo(f"order stream up at {url} (pid {pid}); log {log_path}")
        return
    config = ServiceConfig(
        db_url,
        chain.rpc_url,
        chain.market_address,
        StreamSettings(
            heartbeat_interval=heartbeat_interval,
            heartbeat_timeout=heartbeat_timeout,
            submit_per_minute_per_address=submit_per_minute,
            min_broker_stake=min_broker_stake,
        ),
    )
    url = f"http://{host}:{port}"
    if as_json:
        setup_logging("info", as_json=True)
    else:
        typer.echo(f"order stream for market {chain.market_address} on {url}")
    with lifecycle("orderstream", as_json, market=chain.market_address, url=url):
        serve(config, host, port, data_dir)


def _detach(url: str, argv: list[str], data_dir: Path) -> tuple[int, Path]:
    """Start ``up`` without --detach in a new session and wait until it answers; returns
    its pid and log file."""
    from proofmarket.orderstream.client import OrderStreamClient
    from proofmarket.orderstream.errors import OrderStreamError

    command = [sys.executable, "-m", "proofmarket", "orderstream", "up", *argv]
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "orderstream.log"
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    with OrderStreamClient(url, timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ValueError(f"the order stream exited ({proc.returncode}); see {log_path}")
            try:
                client.health()
                return proc.pid, log_path
            except OrderStreamError:
                time.sleep(0.2)
    proc.terminate()
    raise ValueError(f"the order stream did not answer at {url} within 60 s; see {log_path}")


@orderstream_app.command("status")
@_errors
def status(
    url: UrlOpt = None,
    data_dir: DataDirOpt = Path(".proofmarket/orderstream"),
    as_json: JsonOpt = False,
) -> None:
    """Orders, subscribers and refusals of a running order stream."""
    from proofmarket.orderstream.client import OrderStreamClient
    from proofmarket.orderstream.server import read_state

    state = read_state(data_dir.resolve())
    if url is None:
        if state is None:
            raise ValueError(f"no order stream runs from {data_dir} (give --url)")
        url = str(state["url"])
    with OrderStreamClient(url) as client:
        report: dict[str, Any] = client.status()
    report["url"] = url
    if state is not None:
        report["pid"] = state["pid"]
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"order stream {url}: {report['orders']} orders (last id {report['lastOrderId']})")
    typer.echo(f"  market {report['market']} on chain {report['chainId']}, {report['database']}")
    typer.echo(f"  accepted {report['accepted']}, refused {report['refused'] or 'none'}")
    typer.echo(
        f"  {len(report['subscribers'])} subscriber(s); dropped {report['droppedHeartbeat']} "
        f"silent, {report['droppedSlow']} slow"
    )
    for sub in report["subscribers"]:
        typer.echo(f"    {sub['address']}: {sub['sent']} sent, {sub['queued']} queued")


@orderstream_app.command("down")
@_errors
def down(data_dir: DataDirOpt = Path(".proofmarket/orderstream")) -> None:
    """Stop the order stream started with up --detach from this data directory."""
    import os
    import signal

    from proofmarket.orderstream.server import read_state
    from proofmarket.processes import pid_alive

    state = read_state(data_dir.resolve())
    if state is None:
        typer.echo(f"no order stream runs from {data_dir}")
        return
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    typer.echo(f"order stream (pid {pid}) stopped" if not pid_alive(pid) else "still stopping")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(orderstream_app, name="orderstream")


__all__ = ["register"]

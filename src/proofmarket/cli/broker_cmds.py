"""``proofmarket broker``: run a prover's broker and write its config template.

``broker run --config broker.toml`` connects to the chain (flags, environment or
``.env.devnet`` as the other chain commands), the proving cluster and its SQLite database,
then runs the pipeline until SIGTERM/SIGINT (a safe stop: committed orders finish first).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from proofmarket.cli.chain_options import (
    MarketAddressOpt,
    PrivateKeyOpt,
    RpcUrlOpt,
    cli_errors,
    settings,
)

broker_app = typer.Typer(help="Run a prover's broker (price, lock, prove, fulfil).")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DaemonJsonOpt = Annotated[
    bool,
    typer.Option("--json", help="JSON lines: start/stop events on stdout, log records on stderr"),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="broker.toml (re-read while running)"),
]


@broker_app.command("config-template")
@cli_errors
def config_template(
    output: Annotated[Path, typer.Argument(help="where to write the template")] = Path(
        "broker.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a commented broker.toml listing every setting."""
    from proofmarket.broker.config import parse_config
    from proofmarket.broker.template import TEMPLATE
    from proofmarket.cli.output import write_output

    if output.exists() and not force:
        raise ValueError(f"{output} exists; pass --force to overwrite it")
    parse_config(TEMPLATE, "template")  # never write a template the broker would refuse
    write_output(output, TEMPLATE, what="template")
    if as_json:
        typer.echo(json.dumps({"ok": True, "path": str(output)}))
    else:
        typer.echo(f"wrote {output}")


@broker_app.command("run")
@cli_errors
def run(
    config: ConfigOpt = None,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    cluster_url: Annotated[
        str | None,
        typer.Option("--cluster-url", help="proving cluster API (env BONSAI_API_URL)"),
    ] = None,
    db: Annotated[Path, typer.Option("--db", help="SQLite order database")] = Path(
        ".proofmarket/broker.db"
    ),
    set_verifier_address: Annotated[
        str | None,
        typer.Option(
            "--set-verifier-address", help="set verifier (env PROOFMARKET_SET_VERIFIER_ADDRESS)"
        ),
    ] = None,
    order_stream_url: Annotated[
        str | None,
        typer.Option(
            "--order-stream-url", help="also follow this order stream (env ORDER_STREAM_URL)"
        ),
    ] = None,
    poll_secs: Annotated[float, typer.Option("--poll-secs", help="chain poll interval")] = 0.5,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="serve Prometheus metrics at :PORT/metrics"),
    ] = None,
    as_json: DaemonJsonOpt = False,
) -> None:
    """Run the broker until SIGTERM (safe stop) or a fatal error."""
    import asyncio

    from proofmarket.broker.broker import Broker, BrokerSettings
    from proofmarket.broker.config import load_config
    from proofmarket.cli.daemon_output import lifecycle, setup_logging

    setup_logging(log_level, as_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if config is not None:
        load_config(config)  # fail fast, with the key named, before connecting anywhere
    chain = settings(rpc_url, private_key, market_address, None)
    key = private_key or os.environ.get("PRIVATE_KEY") or chain.env.get("PROVER_PRIVATE_KEY")
    if not key:
        raise ValueError("no private key: pass --private-key or set PRIVATE_KEY")
    endpoint = cluster_url or os.environ.get("BONSAI_API_URL") or "http://127.0.0.1:8081"
    set_verifier = set_verifier_address or chain.env.get("PROOFMARKET_SET_VERIFIER_ADDRESS")
    broker = Broker.connect(
        BrokerSettings(
            rpc_url=chain.rpc_url,
            private_key=key,
            market_address=chain.market_address,
            cluster_url=endpoint,
            db_path=db,
            config_path=config,
            set_verifier_address=set_verifier or None,
            cluster_api_key=os.environ.get("BONSAI_API_KEY") or None,
            poll_secs=poll_secs,
            order_stream_url=order_stream_url or os.environ.get("ORDER_STREAM_URL") or None,
            storage_env=chain.env,  # receipts go where requestors' `verify-proof` looks
        ),
        hooks=_metrics_hooks(metrics_port, db, key),
    )
    with lifecycle("broker", as_json, market=chain.market_address, cluster_url=endpoint):
        asyncio.run(broker.run())


def _metrics_hooks(port: int | None, db: Path, key: str) -> list[Any]:
    """Start the /metrics endpoint when asked; its hook feeds the pipeline's events."""
    if port is None:
        return []
    from proofmarket.broker.metrics import BrokerMetrics
    from proofmarket.broker.trader import open_store
    from proofmarket.market.client import load_account

    store = open_store(os.environ.get("PROOFMARKET_TRADER_STORE") or f"sqlite:///{db}")
    metrics = BrokerMetrics(db, store, str(load_account(key).address))
    metrics.serve(port, os.environ.get("PROOFMARKET_METRICS_ADDR", "127.0.0.1"))
    return [metrics.hook]


def register(app: typer.Typer) -> None:
    from proofmarket.cli.broker_ops_cmds import register_ops

    register_ops(broker_app)  # broker txs / broker status
    app.add_typer(broker_app, name="broker")

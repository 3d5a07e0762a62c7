"""``proofmarket broker txs`` and ``proofmarket broker status``: what an operator looks at.

Both read the broker's durable state (its SQLite database and the trader's store, by
default the same file) and never write it, so they are safe while the broker runs.
:func:`register_ops` adds them to the ``broker`` command group.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from proofmarket.cli.chain_options import (
    MarketAddressOpt,
    PrivateKeyOpt,
    RpcUrlOpt,
    cli_errors,
)

DEFAULT_DB = Path(".proofmarket/broker.db")

DbOpt = Annotated[Path, typer.Option("--db", help="the broker's SQLite database")]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="trader store URL (sqlite:///…, postgresql://…, redis://…); default: the --db file",
    ),
]
AddressOpt = Annotated[
    str | None, typer.Option("--address", help="the prover's address (else from the key)")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


def _open_store(db: Path, store: str | None) -> Any:
    from proofmarket.broker.trader import open_store

    if store is None and not db.exists():
        return None
    return open_store(store or f"sqlite:///{db}")


def _address(address: str | None, private_key: str | None, env: dict[str, str]) -> str | None:
    from eth_utils import to_checksum_address

    if address:
        try:
            return str(to_checksum_address(address))
        except ValueError as exc:
            raise ValueError(f"--address {address!r} is not an address") from exc
    key = private_key or os.environ.get("PRIVATE_KEY") or env.get("PROVER_PRIVATE_KEY")
    if not key:
        return None
    from proofmarket.market.client import load_account

    return str(load_account(key).address)


def _ago(ts: float | None) -> str:
    if not ts:
        return "-"
    secs = max(0, int(time.time() - ts))
    return f"{secs} s ago" if secs < 120 else f"{secs // 60} min ago"


def _short(text: str | None, size: int = 10) -> str:
    if not text:
        return "-"
    return text if len(text) <= 2 * size else f"{text[:size]}…{text[-4:]}"


def txs(
    db: DbOpt = DEFAULT_DB,
    store: StoreOpt = None,
    address: AddressOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="include every final record")] = False,
    limit: Annotated[int, typer.Option("--limit", help="final records shown")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Show the trader's transaction queue: what is queued, in flight and recently settled."""
    from rich.console import Console
    from rich.table import Table

    from proofmarket.broker.trader import ACTIVE_STATUSES

    opened = _open_store(db, store)
    if opened is None:
        raise ValueError(f"no broker database at {db} (pass --db or --store)")
    try:
        sender = _address(address, None, {}) if address else None
        records = opened.list(sender)
    finally:
        opened.close()
    active = [r for r in records if r.status in ACTIVE_STATUSES]
    final = [r for r in records if r.status not in ACTIVE_STATUSES]
    shown = active + (final if show_all else final[-limit:] if limit > 0 else [])
    shown.sort(key=lambda r: r.id)
    if as_json:
        typer.echo(json.dumps({"transactions": [r.summary() for r in shown]}, indent=2))
        return
    table = Table(title=f"trader queue ({len(active)} active, {len(final)} final)")
    for column in ("id", "purpose", "order", "status", "nonce", "tries", "tx", "gas", "when"):
        table.add_column(column)
    for r in shown:
        status = str(r.status) + (" (reconciled)" if r.reconciled else "")
        if r.error:
            status += f": {r.error_name or r.error[:40]}"
        table.add_row(
            str(r.id),
            str(r.purpose),
            _short(r.order_id, 12),
            status,
            "-" if r.nonce is None else str(r.nonce),
            str(len(r.attempts)),
            _short(r.tx_hash),
            "-" if r.receipt is None else str(r.receipt.gas_used),
            _ago(r.updated_at),
        )
    Console().print(table)


def status(
    db: DbOpt = DEFAULT_DB,
    store: StoreOpt = None,
    address: AddressOpt = None,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    cluster_url: Annotated[
        str | None, typer.Option("--cluster-url", help="cluster API (env BONSAI_API_URL)")
    ] = None,
    cluster_db: Annotated[
        str | None, typer.Option("--cluster-db", help="cluster TaskDB URL, for queue depths")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Orders by state, locked collateral, balances, cluster load and the trader queue."""
    from proofmarket.broker.status import broker_status
    from proofmarket.cli.chain_options import settings
    from proofmarket.market.errors import MarketError

    market = None
    env: dict[str, str] = {}
    try:
        chain = settings(rpc_url, None, market_address, None)
        env = chain.env
        from proofmarket.market.client import MarketClient

        market = MarketClient.connect(chain.rpc_url, chain.market_address)
    except MarketError:
        market = None  # reported in the balances section
    sender = _address(address, private_key, env)
    opened = _open_store(db, store)
    try:
        report = broker_status(
            db,
            opened,
            sender=sender,
            market=market,
            cluster_url=cluster_url or os.environ.get("BONSAI_API_URL"),
            cluster_db=cluster_db,
        )
    finally:
        if opened is not None:
            opened.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    _print_status(report)


def _print_status(report: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console()
    orders = report["orders"]
    console.rule("orders")
    if "error" in orders:
        console.print(f"{orders['database']}: {orders['error']}")
    else:
        states = ", ".join(f"{k} {v}" for k, v in sorted(orders["by_state"].items())) or "none"
        console.print(f"{orders['total']} orders: {states}")
        console.print(f"collateral locked by committed orders: {orders['locked_collateral']}")
        console.print(f"revenue of fulfilled orders: {orders['revenue_wei']} wei")
    balances = report["balances"]
    console.rule("balances")
    if "error" in balances:
        console.print(balances["error"])
    else:
        console.print(
            f"{balances['address']}: wallet {balances['wallet_wei']} wei, market "
            f"{balances['market_balance_wei']} wei, stake {balances['stake']}"
            + (" (FROZEN: run `proofmarket account unfreeze`)" if balances["frozen"] else "")
        )
    console.rule("cluster")
    console.print(json.dumps(report["cluster"], default=str))
    trader = report["trader"]
    console.rule("trader")
    if "error" in trader:
        console.print(trader["error"])
    else:
        counts = ", ".join(f"{k} {v}" for k, v in trader["by_status"].items() if v) or "empty"
        console.print(f"{trader['store']}: {counts}; fees paid {trader['gas_spent_total_wei']} wei")
        for record in trader["active"]:
            console.print(
                f"  #{record['id']} {record['purpose']} {record['order_id']} {record['status']} "
                f"nonce {record['nonce']} tries {record['attempts']}"
            )


def register_ops(broker_app: typer.Typer) -> None:
    """Add ``txs`` and ``status`` to the ``broker`` group."""
    broker_app.command("txs")(cli_errors(txs))
    broker_app.command("status")(cli_errors(status))

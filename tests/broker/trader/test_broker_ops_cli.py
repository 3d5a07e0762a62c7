"""``broker txs`` and ``broker status`` read a broker's state without touching it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from proofmarket.broker.trader import TxPurpose, TxReceiptInfo, TxRecord, TxStatus, open_store
from proofmarket.cli.broker_ops_cmds import register_ops
from proofmarket.contracts.testing import ChainEnv
from proofmarket.devnet.anvil import free_port

SENDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def _app() -> typer.Typer:
    app = typer.Typer()
    broker = typer.Typer()
    register_ops(broker)
    app.add_typer(broker, name="broker")
    return app


def _broker_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, data JSON)")
    for oid, status in (("o1", "Done"), ("o2", "Proving"), ("o3", "Proving")):
        data = {
            "status": status,
            "fulfillment_type": "LockAndFulfill",
            "lock_price": "0x10",
            "request": {"offer": {"lockCollateral": 5}},
        }
        conn.execute("INSERT INTO orders VALUES (?, ?)", (oid, json.dumps(data)))
    conn.commit()
    conn.close()
    store = open_store(f"sqlite:///{path}")
    done = store.insert(
        TxRecord(sender=SENDER, purpose=TxPurpose.LOCK, to=SENDER, data="0x", order_id="o1")
    )
    done.status, done.nonce = TxStatus.CONFIRMED, 0
    done.receipt = TxReceiptInfo("0x" + "ab" * 32, 3, 50_000, 2, 1)
    store.save(done)
    store.insert(
        TxRecord(sender=SENDER, purpose=TxPurpose.FULFIL, to=SENDER, data="0x", order_id="o2")
    )
    store.close()


def test_txs_lists_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    _broker_db(db)
    result = CliRunner().invoke(_app(), ["broker", "txs", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["transactions"]
    assert [(r["purpose"], r["status"], r["order_id"]) for r in rows] == [
        ("lock", "confirmed", "o1"),
        ("fulfil", "queued", "o2"),
    ]
    assert rows[0]["fee_wei"] == 100_000
    table = CliRunner().invoke(_app(), ["broker", "txs", "--db", str(db)])
    assert table.exit_code == 0 and "fulfil" in table.output and "queued" in table.output


def test_txs_without_a_database_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["broker", "txs", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no broker database" in result.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.anvil
def test_status_reports_orders_balances_cluster_and_queue(tmp_path: Path, chain: ChainEnv) -> None:
    db = tmp_path / "broker.db"
    _broker_db(db)
    prover = chain.provers[0]
    chain.deposit_stake(prover, 7 * 10**18)
    dead_cluster = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        _app(),
        [
            "broker",
            "status",
            "--db",
            str(db),
            "--json",
            "--rpc-url",
            chain.anvil.rpc_url,
            "--market-address",
            chain.deployment.market,
            "--address",
            prover.address,
            "--cluster-url",
            dead_cluster,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["orders"]["by_state"] == {"Done": 1, "Proving": 2}
    assert report["orders"]["locked_collateral"] == 10
    assert report["orders"]["revenue_wei"] == 16
    assert report["balances"]["stake"] == 7 * 10**18
    assert report["balances"]["frozen"] is False
    assert report["cluster"]["healthy"] is False and "error" in report["cluster"]
    assert report["trader"]["by_status"]["queued"] == 1
    assert report["trader"]["gas_spent_total_wei"] == 100_000

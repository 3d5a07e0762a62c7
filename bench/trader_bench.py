"""Transaction trader: queue → confirmed latency and throughput, per store backend.

Starts anvil (automine, or ``--block-time`` seconds per block) with the dev-mode market.
For each backend (SQLite file, PostgreSQL, Redis) a fresh store and a trader on its own
thread (0.2 s poll, as ``broker run``): ``--count`` deposits are queued at once from one
key, then the bench waits for all of them. Reported per backend: wall time until the last
is confirmed, transactions per second, the median / max latency of one record (queued →
final), how many nonces were used (must equal the count: one nonce per transaction, none
wasted), and for 10 transactions sent one at a time the median enqueue → signed and
broadcast and enqueue → receipt times.

Run: ``python bench/trader_bench.py [--count 50] [--block-time 1] [--json]``. PostgreSQL
(127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) are skipped when unreachable.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from web3 import Web3

from proofmarket.broker.trader import Trader, TraderConfig, TxPurpose, TxStatus, open_store
from proofmarket.contracts.deploy import deploy_market_stack
from proofmarket.devnet.anvil import AnvilProcess, dev_accounts


def _postgres_url() -> tuple[str, Any] | None:
    try:
        import psycopg
        from psycopg import sql

        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    except Exception:
        return None
    name = f"trader_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.close()

    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


def _redis_url() -> tuple[str, Any] | None:
    try:
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        client.ping()
    except Exception:
        return None
    prefix = f"trader_bench:{uuid.uuid4().hex[:8]}"

    def drop() -> None:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()

    return f"redis://127.0.0.1:6379/0?prefix={prefix}", drop


def run_backend(w3: Web3, market: str, account: Any, url: str, count: int) -> dict[str, Any]:
    store = open_store(url)
    trader = Trader(w3, account, store, TraderConfig(poll_interval=0.2, max_in_flight=16))
    deposit = w3.eth.contract(
        address=Web3.to_checksum_address(market),
        abi=[{"type": "function", "name": "deposit", "inputs": [], "outputs": [],
              "stateMutability": "payable"}],
    ).functions.deposit()  # fmt: skip
    thread, stop = trader.start_thread()
    started = time.monotonic()
    ids = [
        trader.enqueue_call(deposit, purpose=TxPurpose.DEPOSIT, value=1).id for _ in range(count)
    ]
    outcomes = [trader.wait_sync(i, timeout=600) for i in ids]
    wall = time.monotonic() - started
    single, send_delay = [], []  # one at a time: what a lock waits for
    for _ in range(10):
        t0 = time.monotonic()
        one = trader.wait_sync(trader.enqueue_call(deposit, value=1).id, timeout=60)
        single.append(time.monotonic() - t0)
        sent = trader.get(one.id)
        send_delay.append(sent.attempts[0].sent_at - sent.created_at)
    stop.set()
    thread.join(10)
    records = [trader.get(i) for i in ids]
    store.close()
    latencies = [r.updated_at - r.created_at for r in records]
    return {
        "confirmed": sum(1 for o in outcomes if o.status is TxStatus.CONFIRMED),
        "count": count,
        "nonces_used": len({r.nonce for r in records}),
        "wall_s": round(wall, 3),
        "tx_per_s": round(count / wall, 2),
        "latency_median_s": round(statistics.median(latencies), 3),
        "latency_max_s": round(max(latencies), 3),
        "fee_bumps": sum(len(r.attempts) - 1 for r in records),
        "single_median_s": round(statistics.median(single), 3),
        "single_send_delay_median_s": round(statistics.median(send_delay), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--block-time", type=float, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        AnvilProcess.start(block_time=args.block_time) as anvil,
    ):
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 60}))
        accounts = dev_accounts()
        deployment = deploy_market_stack(w3, accounts[0].address, dev_mode=True)
        backends: dict[str, tuple[str, Any] | None] = {
            "sqlite": (f"sqlite:///{Path(tmp) / 'trader.sqlite'}", lambda: None),
            "postgres": _postgres_url(),
            "redis": _redis_url(),
        }
        for index, (name, found) in enumerate(backends.items()):
            if found is None:
                results[name] = {"skipped": "server not reachable"}
                continue
            url, drop = found
            try:
                # one key per backend, so every run starts from a quiet nonce
                results[name] = run_backend(
                    w3, deployment.market, accounts[5 + index], url, args.count
                )
            finally:
                drop()
    results["settings"] = {"count": args.count, "block_time": args.block_time}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, row in results.items():
        print(f"{name:9} {row}")


if __name__ == "__main__":
    main()

"""A broker-like process for the kill -9 tests: queues deposits and runs the trader.

``python trader_child.py RPC MARKET STORE_URL KEY COUNT MODE`` where MODE is
``crash-before-broadcast`` (SIGKILL itself inside the second broadcast, after the signed
bytes were stored) or ``run`` (tick until killed from outside).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from eth_account import Account
from web3 import Web3

from proofmarket.broker.trader import Trader, TraderConfig, TxPurpose, open_store


def deposit_value(index: int) -> int:
    return 1000 + index


def enqueue_deposits(trader: Trader, market: str, count: int) -> list[int]:
    """The same calls with the same idempotency keys, as a restarted broker would queue."""
    contract = trader.w3.eth.contract(
        address=Web3.to_checksum_address(market),
        abi=[
            {
                "type": "function",
                "name": "deposit",
                "inputs": [],
                "outputs": [],
                "stateMutability": "payable",
            }
        ],
    )
    return [
        trader.enqueue_call(
            contract.functions.deposit(),
            purpose=TxPurpose.DEPOSIT,
            value=deposit_value(i),
            idempotency_key=f"deposit:{i}",
        ).id
        for i in range(count)
    ]


def main() -> None:
    rpc, market, store_url, key, count, mode = sys.argv[1:7]
    w3 = Web3(Web3.HTTPProvider(rpc))
    trader = Trader(
        w3,
        Account.from_key(key),
        open_store(store_url),
        TraderConfig(txn_timeout=120, bump_after=120, poll_interval=0.05),
    )
    if mode == "crash-before-broadcast":
        real_send = w3.eth.send_raw_transaction
        calls = {"n": 0}

        def send_then_die(raw: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_send(raw)

        w3.eth.send_raw_transaction = send_then_die  # type: ignore[method-assign]
    enqueue_deposits(trader, market, int(count))
    print("queued", flush=True)
    while True:
        trader.tick()


if __name__ == "__main__":
    main()

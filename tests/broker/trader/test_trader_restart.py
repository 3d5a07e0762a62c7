"""kill -9 the process that runs the queue, restart it: nothing is sent twice or lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from trader_child import deposit_value, enqueue_deposits

from proofmarket.broker.trader import Trader, TxStatus, open_store
from proofmarket.contracts.testing import ChainEnv

pytestmark = pytest.mark.anvil
CHILD = Path(__file__).parent / "trader_child.py"
COUNT = 4


def _child(
    chain: ChainEnv, prover: LocalAccount, store_url: str, mode: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            chain.anvil.rpc_url,
            chain.deployment.market,
            store_url,
            prover.key.to_0x_hex(),
            str(COUNT),
            mode,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _restart_and_finish(
    chain: ChainEnv, prover: LocalAccount, store_url: str, make_trader: Callable[..., Trader]
) -> list[int]:
    store = open_store(store_url)
    trader = make_trader(store)
    ids = enqueue_deposits(trader, chain.deployment.market, COUNT)
    deadline = time.monotonic() + 30
    while not all(trader.get(i).status.final for i in ids):
        assert time.monotonic() < deadline, [trader.get(i).status for i in ids]
        trader.tick()
        chain.mine()
    assert [trader.get(i).status for i in ids] == [TxStatus.CONFIRMED] * COUNT
    nonces = [trader.get(i).nonce for i in ids]
    assert len(set(nonces)) == COUNT
    assert len(trader.records()) == COUNT  # the restart queued nothing new
    store.close()
    return ids


def _deposits_of(chain: ChainEnv, prover: LocalAccount, from_block: int) -> list[int]:
    logs = chain.market.events.Deposit().get_logs(from_block=from_block)
    return sorted(int(e["args"]["value"]) for e in logs if e["args"]["account"] == prover.address)


def test_kill_9_between_store_and_broadcast_then_restart_sends_each_once(
    chain: ChainEnv,
    prover: LocalAccount,
    store_url: str,
    make_trader: Callable[..., Trader],
) -> None:
    start = chain.w3.eth.block_number + 1
    before = chain.balance(prover.address)
    child = _child(chain, prover, store_url, "crash-before-broadcast")
    _, err = child.communicate(timeout=60)
    assert child.returncode == -9, err[-2000:]
    _restart_and_finish(chain, prover, store_url, make_trader)
    expected = [deposit_value(i) for i in range(COUNT)]
    assert _deposits_of(chain, prover, start) == expected
    assert chain.balance(prover.address) - before == sum(expected)


def test_kill_9_with_transactions_in_the_mempool_then_restart_sends_each_once(
    chain: ChainEnv,
    manual_mining: ChainEnv,
    prover: LocalAccount,
    tmp_path: Path,
    make_trader: Callable[..., Trader],
) -> None:
    store_url = f"sqlite:///{tmp_path / 'kill.sqlite'}"
    start = chain.w3.eth.block_number + 1
    before = chain.balance(prover.address)
    child = _child(chain, prover, store_url, "run")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert child.poll() is None, child.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the child never sent its transactions"
            if Path(store_url[len("sqlite:///") :]).exists():
                store = open_store(store_url)
                in_flight = [r for r in store.list() if r.status is TxStatus.PENDING]
                store.close()
                if len(in_flight) == COUNT:
                    break
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -9
    _restart_and_finish(chain, prover, store_url, make_trader)
    expected = [deposit_value(i) for i in range(COUNT)]
    assert _deposits_of(chain, prover, start) == expected
    assert chain.balance(prover.address) - before == sum(expected)

"""Fixtures of the transaction-trader tests: a store per backend and a prover on anvil."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from proofmarket.broker.trader import Trader, TraderConfig, TxStore, open_store
from proofmarket.contracts.testing import ChainEnv, Market

TRADER_STORES = ["sqlite", "postgres", "redis"]
STAKE = 100 * 10**18


def make_store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty location of the queue on one backend (cleaned up by the fixtures)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'trader.sqlite'}"
    if backend == "postgres":
        make: Callable[[], str] = request.getfixturevalue("make_postgres_url")
        return make()
    prefix = request.getfixturevalue("redis_key_prefix")
    url = request.getfixturevalue("redis_url")
    return f"{url}?prefix={prefix}trader"


@pytest.fixture(params=TRADER_STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = make_store_url(str(request.param), tmp_path, request)
    yield url
    if request.param == "redis":
        import redis

        prefix = request.getfixturevalue("redis_key_prefix")
        client = redis.Redis.from_url(url.split("?", 1)[0])
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[TxStore]:
    store = open_store(f"sqlite:///{tmp_path / 'trader.sqlite'}")
    yield store
    store.close()


@pytest.fixture
def prover(chain: ChainEnv) -> LocalAccount:
    """Prover #0 with stake deposited (sent before any trader runs); #1 (a rival) too."""
    account = chain.provers[0]
    chain.deposit_stake(account, STAKE)
    chain.deposit_stake(chain.provers[1], STAKE)
    for client in chain.clients:
        chain.deposit(client, 10**18)
    return account


@pytest.fixture
def market(chain: ChainEnv) -> Market:
    return Market(chain)


@pytest.fixture
def fast_config() -> TraderConfig:
    return TraderConfig(txn_timeout=30, bump_after=30, poll_interval=0.05)


@pytest.fixture
def make_trader(
    chain: ChainEnv, prover: LocalAccount, fast_config: TraderConfig
) -> Callable[..., Trader]:
    """A trader for the prover on its own Web3 (so a test can inject RPC faults into it)."""

    def make(store: TxStore, config: TraderConfig | None = None) -> Trader:
        w3 = Web3(Web3.HTTPProvider(chain.anvil.rpc_url, request_kwargs={"timeout": 30}))
        return Trader.for_market(w3, prover, store, chain.deployment.market, config or fast_config)

    return make


@pytest.fixture
def manual_mining(chain: ChainEnv, prover: LocalAccount) -> Iterator[ChainEnv]:
    """Automine off for the test (blocks only on ``chain.mine()``), restored afterwards.

    Depends on ``prover`` so the stake deposits are mined before automine goes off.
    """
    del prover
    chain.rpc("evm_setAutomine", False)
    try:
        yield chain
    finally:
        chain.rpc("evm_mine")  # nothing stays pending for the next test
        chain.rpc("evm_setAutomine", True)


@pytest.fixture
def trader(make_trader: Callable[..., Trader], sqlite_store: TxStore) -> Trader:
    """The prover's queue on SQLite with the fast default settings."""
    return make_trader(sqlite_store)

"""Fixtures for the broker tests: one proving cluster per module, a funded requestor and
funded prover keys on the shared anvil (state reverted after each test)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from proofmarket.contracts.testing import ChainEnv
from proofmarket.devnet.anvil import dev_keys, free_port
from proofmarket.market.client import MarketClient, load_account
from proofmarket.market.storage import FileStorageProvider

from .harness import ETHER, PROVER_KEYS, REQUESTOR_KEY, BrokerProcess, Requestor


def cluster_cli(*args: str, dev_mode: bool = True) -> subprocess.CompletedProcess[str]:
    """``proofmarket cluster ...``; in dev mode unless asked not to (most broker tests are
    about the pipeline, not proving: test_real_receipts.py proves for real)."""
    env = {k: v for k, v in os.environ.items() if k != "PROOFMARKET_DEV_MODE"}
    if dev_mode:
        env["PROOFMARKET_DEV_MODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "proofmarket.cli.main", "cluster", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running cluster (API + one agent per type, SQLite + filesystem, dev mode)."""
    from proofmarket.cluster.client import wait_healthy

    data_dir = tmp_path_factory.mktemp("cluster")
    port = free_port()
    up = cluster_cli(
        "up", "--detach", "--port", str(port), "--segment-po2", "16", "--data-dir", str(data_dir)
    )
    assert up.returncode == 0, up.stderr
    endpoint = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(endpoint, 60), "cluster did not become healthy"
        yield endpoint
    finally:
        cluster_cli("down", "--data-dir", str(data_dir))


@pytest.fixture
def requestor(chain: ChainEnv, tmp_path: Path) -> Requestor:
    from proofmarket import zkvm
    from proofmarket.zkvm.guests import example_elf

    client = MarketClient(
        chain.w3, chain.deployment.market, load_account(dev_keys()[REQUESTOR_KEY]), tx_timeout=30
    )
    client.deposit(5 * ETHER)
    elf = example_elf("iter")
    storage = FileStorageProvider(tmp_path / "s")
    return Requestor(client, storage, elf, zkvm.compute_image_id(elf))


def prover_client(chain: ChainEnv, key_index: int) -> MarketClient:
    return MarketClient(
        chain.w3, chain.deployment.market, load_account(dev_keys()[key_index]), tx_timeout=30
    )


@pytest.fixture
def staked_provers(chain: ChainEnv) -> list[MarketClient]:
    """The prover keys with 100 HP of stake each."""
    clients = [prover_client(chain, key) for key in PROVER_KEYS]
    for client in clients:
        client.deposit_stake(100 * ETHER)
    return clients


@pytest.fixture
def make_broker(
    chain: ChainEnv, cluster_url: str, tmp_path: Path
) -> Iterator[Callable[..., BrokerProcess]]:
    started: list[BrokerProcess] = []

    def make(
        key_index: int = PROVER_KEYS[0], name: str = "broker", **kwargs: object
    ) -> BrokerProcess:
        broker = BrokerProcess(
            tmp_path / name,
            chain.anvil.rpc_url,
            chain.deployment,
            cluster_url,
            key_index,
            **kwargs,  # type: ignore[arg-type]
        )
        started.append(broker)
        return broker

    yield make
    for broker in started:
        broker.kill()

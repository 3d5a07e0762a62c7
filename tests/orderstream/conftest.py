"""Fixtures for the order-stream tests: a funded requestor and prover on the shared anvil
(state reverted after each test) and order-stream services started on free ports."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from proofmarket.contracts.testing import ChainEnv
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market.client import MarketClient, load_account
from proofmarket.market.request_id import RequestId
from proofmarket.market.types import ProofRequest
from proofmarket.orderstream.app import StreamContext
from proofmarket.orderstream.client import OrderStreamClient
from proofmarket.orderstream.server import StreamServer
from proofmarket.orderstream.settings import StreamSettings
from proofmarket.orderstream.store import open_store

ETHER = 10**18
REQUESTOR_KEY = 1  # dev account #1 (a client)
PROVER_KEY = 3  # dev account #3 (holds HitPoints)
BROKER_KEY = 4

FAST = StreamSettings(heartbeat_interval=0.25, heartbeat_timeout=1.0, send_timeout=2.0)


@dataclass
class Stream:
    server: StreamServer
    chain: ChainEnv

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, key_index: int | None = BROKER_KEY) -> OrderStreamClient:
        key = dev_keys()[key_index] if key_index is not None else None
        return OrderStreamClient(self.url, key)


def market_client(chain: ChainEnv, key_index: int | None) -> MarketClient:
    account = load_account(dev_keys()[key_index]) if key_index is not None else None
    return MarketClient(chain.w3, chain.deployment.market, account, tx_timeout=30)


@pytest.fixture
def requestor(chain: ChainEnv) -> MarketClient:
    client = market_client(chain, REQUESTOR_KEY)
    client.deposit(5 * ETHER)
    return client


@pytest.fixture
def prover(chain: ChainEnv) -> MarketClient:
    client = market_client(chain, PROVER_KEY)
    client.deposit_stake(100 * ETHER)
    return client


@pytest.fixture
def start_stream(chain: ChainEnv, tmp_path: Path) -> Iterator[Callable[..., Stream]]:
    """``start_stream(settings=FAST, database_url=None)``: a running service (SQLite in
    tmp_path by default), stopped after the test."""
    started: list[StreamServer] = []

    def start(settings: StreamSettings = FAST, database_url: str | None = None) -> Stream:
        url = database_url or f"sqlite:///{tmp_path / f'orders{len(started)}.sqlite'}"
        market = MarketClient.connect(chain.anvil.rpc_url, chain.deployment.market)
        server = StreamServer(StreamContext(open_store(url), market, settings)).start()
        started.append(server)
        return Stream(server, chain)

    yield start
    for server in started:
        server.stop()
        server.ctx.store.close()


@pytest.fixture
def stream(start_stream: Callable[..., Stream]) -> Stream:
    return start_stream()


def fresh_id(client: MarketClient) -> RequestId:
    return RequestId(client.signer.address, secrets.randbelow(2**32))


def signed_request(
    client: MarketClient, **kwargs: object
) -> tuple[ProofRequest, bytes, bytes, bytes]:
    """A fresh DigestMatch request signed by ``client``: (request, signature, image, journal)."""
    from market.helpers import make_request

    request, image, journal = make_request(client, fresh_id(client), **kwargs)  # type: ignore[arg-type]
    return request, client.sign_request(request), image, journal

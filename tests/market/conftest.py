"""Chain fixtures for the market tests: one anvil per test process with the dev-mode stack
deployed, HP minted to the dev accounts, and clients for a requestor and a prover."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from web3 import Web3

from proofmarket.contracts.deploy import Deployment, deploy_market_stack, mint_hit_points
from proofmarket.devnet.anvil import AnvilProcess, dev_keys
from proofmarket.market.client import MarketClient, load_account
from proofmarket.market.request_id import RequestId

ETHER = 10**18


@dataclass
class MarketChain:
    anvil: AnvilProcess
    w3: Web3
    deployment: Deployment

    @property
    def rpc_url(self) -> str:
        return self.anvil.rpc_url

    def client(self, key_index: int, tx_timeout: float = 30.0) -> MarketClient:
        return MarketClient(
            self.w3,
            self.deployment.market,
            load_account(dev_keys()[key_index]),
            tx_timeout=tx_timeout,
        )

    def increase_time(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def market_chain() -> Iterator[MarketChain]:
    with AnvilProcess.start() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
        deployer = anvil.addresses[0]
        deployment = deploy_market_stack(w3, deployer, dev_mode=True)
        for address in anvil.addresses[:4]:
            mint_hit_points(w3, deployer, deployment, address, 1_000 * ETHER)
        yield MarketChain(anvil, w3, deployment)


@pytest.fixture(scope="session")
def requestor(market_chain: MarketChain) -> MarketClient:
    client = market_chain.client(0)
    client.deposit(50 * ETHER)
    return client


@pytest.fixture(scope="session")
def prover(market_chain: MarketChain) -> MarketClient:
    client = market_chain.client(1)
    client.deposit_stake(500 * ETHER)
    return client


@pytest.fixture
def fresh_id(requestor: MarketClient) -> RequestId:
    """A request ID with a random index, so tests never share one."""
    return RequestId(requestor.signer.address, secrets.randbelow(2**32))

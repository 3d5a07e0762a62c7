"""Chain fixtures for the market tests.

They build on the shared ``chain`` fixture (tests/fixtures/chain.py): one anvil per test
process with the dev-mode stack deployed, each test between ``evm_snapshot`` and
``evm_revert``, so deposits, locks, frozen accounts and time travel never leak between tests.
On top of it: HP minted to dev accounts #0-#3 and funded clients for a requestor (#0) and a
prover (#1)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from web3 import Web3

from proofmarket.contracts.deploy import Deployment, mint_hit_points
from proofmarket.contracts.testing import ChainEnv
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

    def set_next_timestamp(self, timestamp: int) -> None:
        """Pin the next block's timestamp, so a price on the ramp does not depend on how
        long the machine took between two transactions."""
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]


@pytest.fixture
def market_chain(chain: ChainEnv) -> MarketChain:
    deployer = chain.anvil.addresses[0]
    for address in chain.anvil.addresses[:4]:
        mint_hit_points(chain.w3, deployer, chain.deployment, address, 1_000 * ETHER)
    return MarketChain(chain.anvil, chain.w3, chain.deployment)


@pytest.fixture
def requestor(market_chain: MarketChain) -> MarketClient:
    client = market_chain.client(0)
    client.deposit(50 * ETHER)
    return client


@pytest.fixture
def prover(market_chain: MarketChain) -> MarketClient:
    client = market_chain.client(1)
    client.deposit_stake(500 * ETHER)
    return client


@pytest.fixture
def fresh_id(requestor: MarketClient) -> RequestId:
    """A request ID with a random index, so tests never share one."""
    return RequestId(requestor.signer.address, secrets.randbelow(2**32))

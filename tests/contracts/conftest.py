"""Fixtures shared by the contract tests (the chain itself comes from tests/fixtures/chain.py)."""

from __future__ import annotations

import pytest

from proofmarket.contracts.testing import ChainEnv, Market

CLIENT_DEPOSIT = 10**18  # 1 ETH
PROVER_STAKE = 100 * 10**18  # 100 HP


@pytest.fixture
def m(chain: ChainEnv) -> Market:
    return Market(chain)


@pytest.fixture
def funded(chain: ChainEnv) -> ChainEnv:
    """Clients hold 1 ETH in the market, provers 100 HP of stake."""
    for client in chain.clients:
        chain.deposit(client, CLIENT_DEPOSIT)
    for prover in chain.provers:
        chain.deposit_stake(prover, PROVER_STAKE)
    return chain

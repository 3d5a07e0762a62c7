"""Requestor callbacks: called with a gas limit; failure never blocks payment."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from proofmarket.contracts.deploy import deploy_contract
from proofmarket.contracts.testing import (
    DATA_NONE,
    IMAGE_ID,
    JOURNAL,
    ChainEnv,
    Market,
    fulfillment,
)

from .conftest import PROVER_STAKE


@pytest.fixture
def callback(funded: ChainEnv):
    return deploy_contract(
        funded.w3, funded.deployer.address, "TestCallback", funded.deployment.market
    )


def _request(m: Market, env: ChainEnv, callback, gas_limit: int = 300_000):
    return m.request(env.clients[0], start_in=0, callback=(callback.address, gas_limit))


def test_callback_receives_the_proof(funded: ChainEnv, m: Market, callback) -> None:
    req, sig = _request(m, funded, callback)
    m.lock(req, sig, funded.provers[0])
    receipt = m.fulfill(fulfillment(req, sig), funded.provers[0])
    assert callback.functions.calls().call() == 1
    assert callback.functions.lastImageId().call() == IMAGE_ID
    assert callback.functions.lastJournal().call() == JOURNAL
    assert callback.functions.lastSealLength().call() == 36
    assert m.events(receipt, "CallbackFailed") == []


@pytest.mark.parametrize("mode", [1, 2], ids=["reverts", "burns-gas"])
def test_failing_callback_does_not_block_payment(
    funded: ChainEnv, m: Market, callback, mode: int
) -> None:
    funded.send(callback.functions.setMode(mode), funded.deployer)
    req, sig = _request(m, funded, callback, gas_limit=50_000)
    m.lock(req, sig, funded.provers[0])
    receipt = funded.send(funded.market.functions.fulfill(fulfillment(req, sig)), funded.provers[0])
    (failed,) = m.events(receipt, "CallbackFailed")
    assert failed["callback"] == callback.address
    if mode == 1:
        assert b"CallbackRejected" in failed["error"]
    else:
        assert receipt["gasUsed"] < 500_000  # the callback got only its 50k
    assert callback.functions.calls().call() == 0
    assert funded.stake(funded.provers[0].address) == PROVER_STAKE
    assert funded.market.functions.requestIsFulfilled(req.id).call()


def test_callback_needs_journal(funded: ChainEnv, m: Market, callback) -> None:
    req, sig = _request(m, funded, callback)
    with pytest.raises(ContractLogicError, match="UnfulfillableCallback"):
        m.fulfill(fulfillment(req, sig, data_type=DATA_NONE), funded.provers[0])


def test_insufficient_gas_for_callback(funded: ChainEnv, m: Market, callback) -> None:
    req, sig = _request(m, funded, callback, gas_limit=5_000_000)
    m.lock(req, sig, funded.provers[0])
    call = funded.market.functions.fulfill(fulfillment(req, sig))
    with pytest.raises(ContractLogicError, match="InsufficientGas"):
        call.call({"from": funded.provers[0].address, "gas": 1_000_000})

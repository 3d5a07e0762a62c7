"""slash(): treasury and secondary-fulfiller splits, burn, freeze/unfreeze, treasury."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from proofmarket.contracts.testing import ChainEnv, Market, fulfillment

from .conftest import CLIENT_DEPOSIT, PROVER_STAKE

BURN = "0x000000000000000000000000000000000000dEaD"
SHORT = {"start_in": 0, "lock_timeout": 20, "timeout": 60, "ramp_up_period": 10}


def _slash(env: ChainEnv, request_id: int, caller) -> object:
    return env.send(env.market.functions.slash(request_id), caller)


def _lock_and_slash(env: ChainEnv, m: Market, client, locker) -> None:
    """``locker`` locks a request of ``client`` and lets it lapse; ``client`` slashes it."""
    req, sig = m.request(client, **SHORT)
    m.lock(req, sig, locker)
    env.mine(req.offer.deadline + 1)
    _slash(env, req.id, client)


def test_unfulfilled_lock_slashed_to_treasury(funded: ChainEnv, m: Market) -> None:
    client, locker, anyone = funded.clients[0], funded.provers[0], funded.others[0]
    req, sig = m.request(client, **SHORT, lock_collateral=10**18 + 1)
    m.lock(req, sig, locker)
    with pytest.raises(ContractLogicError, match="RequestIsNotExpired"):
        _slash(funded, req.id, anyone)
    burned_before = funded.token.functions.balanceOf(BURN).call()
    funded.mine(req.offer.deadline + 1)
    receipt = _slash(funded, req.id, anyone)

    collateral = req.offer.lock_collateral
    burn = collateral * 5000 // 10000
    (event,) = m.events(receipt, "ProverSlashed")
    assert event["collateralBurned"] == burn
    assert event["collateralTransferred"] == collateral - burn
    assert event["collateralRecipient"] == funded.deployment.treasury
    assert funded.token.functions.balanceOf(BURN).call() == burned_before + burn
    assert funded.stake(funded.deployment.treasury) == collateral - burn
    assert funded.balance(client.address) == CLIENT_DEPOSIT  # lock price refunded
    assert funded.stake(locker.address) == PROVER_STAKE - collateral
    assert funded.market.functions.requestIsSlashed(req.id).call()
    assert funded.market.functions.accountIsFrozen(locker.address).call()
    with pytest.raises(ContractLogicError, match="RequestIsSlashed"):
        _slash(funded, req.id, anyone)


def test_secondary_fulfiller_gets_half_the_collateral(funded: ChainEnv, m: Market) -> None:
    client, locker, second = funded.clients[0], funded.provers[0], funded.provers[1]
    req, sig = m.request(client, **SHORT)
    m.lock(req, sig, locker)
    funded.mine(req.offer.lock_deadline + 1)
    m.commit_and_fulfill(fulfillment(req, sig), second)
    funded.mine(req.offer.deadline + 1)
    receipt = _slash(funded, req.id, funded.others[0])
    (event,) = m.events(receipt, "ProverSlashed")
    half = req.offer.lock_collateral - req.offer.lock_collateral * 5000 // 10000
    assert event["collateralRecipient"] == second.address
    assert funded.stake(second.address) == PROVER_STAKE + half
    assert funded.stake(funded.deployment.treasury) == 0
    assert funded.balance(client.address) == CLIENT_DEPOSIT
    assert funded.market.functions.accountIsFrozen(locker.address).call()
    assert not funded.market.functions.accountIsFrozen(second.address).call()


def test_slash_rejections(funded: ChainEnv, m: Market) -> None:
    client, locker = funded.clients[0], funded.provers[0]
    never, _ = m.request(client, **SHORT)
    with pytest.raises(ContractLogicError, match="RequestIsNotLocked"):
        _slash(funded, never.id, locker)
    with pytest.raises(ContractLogicError, match="RequestIsNotLocked"):
        funded.market.functions.requestDeadline(never.id).call()
    paid, paid_sig = m.request(client, **SHORT)
    m.lock(paid, paid_sig, locker)
    m.fulfill(fulfillment(paid, paid_sig), locker)
    funded.mine(paid.offer.deadline + 1)
    with pytest.raises(ContractLogicError, match="RequestIsFulfilled"):
        _slash(funded, paid.id, locker)


def test_frozen_prover_cannot_lock_until_unfrozen(funded: ChainEnv, m: Market) -> None:
    client, locker = funded.clients[0], funded.provers[0]
    _lock_and_slash(funded, m, client, locker)
    nxt, nxt_sig = m.request(client, start_in=0)
    with pytest.raises(ContractLogicError, match="AccountFrozen"):
        m.lock(nxt, nxt_sig, locker)
    # frozen accounts still withdraw and fulfil
    funded.send(funded.market.functions.withdrawStake(10**18), locker)
    # only the account itself can unfreeze, and anyone else's call changes nothing
    funded.send(funded.market.functions.unfreezeAccount(), funded.others[0])
    assert funded.market.functions.accountIsFrozen(locker.address).call()
    receipt = funded.send(funded.market.functions.unfreezeAccount(), locker)
    assert len(m.events(receipt, "ProverUnfrozen")) == 1
    assert not funded.market.functions.accountIsFrozen(locker.address).call()
    m.lock(nxt, nxt_sig, locker)
    assert funded.market.functions.requestIsLocked(nxt.id).call()


def test_treasury_withdrawals_owner_only(funded: ChainEnv, m: Market) -> None:
    client, locker = funded.clients[0], funded.provers[0]
    _lock_and_slash(funded, m, client, locker)
    treasury = funded.stake(funded.deployment.treasury)
    assert treasury > 0
    call = funded.market.functions.withdrawFromCollateralTreasury(treasury)
    with pytest.raises(ContractLogicError, match="NotOwner"):
        funded.send(call, locker)
    owner = funded.deployer
    before = funded.token.functions.balanceOf(owner.address).call()
    funded.send(call, owner)
    assert funded.token.functions.balanceOf(owner.address).call() == before + treasury
    assert funded.stake(funded.deployment.treasury) == 0
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        funded.send(funded.market.functions.withdrawFromTreasury(1), owner)

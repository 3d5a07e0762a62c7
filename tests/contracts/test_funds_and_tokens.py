"""ETH and collateral escrow, HitPoints transfer rules, and a 6-decimal USDC-like collateral."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from fixtures.chain import PROVER_HP, PROVER_USDC
from proofmarket.contracts.testing import ChainEnv, Market, fulfillment


def test_eth_deposit_withdraw(chain: ChainEnv, m: Market) -> None:
    client = chain.clients[0]
    receipt = chain.send(chain.market.functions.deposit(), client, value=5 * 10**17)
    assert [e["value"] for e in m.events(receipt, "Deposit")] == [5 * 10**17]
    assert chain.balance(client.address) == 5 * 10**17
    wallet_before = chain.w3.eth.get_balance(client.address)
    receipt = chain.send(chain.market.functions.withdraw(2 * 10**17), client)
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert chain.w3.eth.get_balance(client.address) == wallet_before + 2 * 10**17 - fee
    assert chain.balance(client.address) == 3 * 10**17
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        chain.send(chain.market.functions.withdraw(3 * 10**17 + 1), client)


def test_submit_request_broadcasts_and_deposits(chain: ChainEnv, m: Market) -> None:
    client = chain.clients[0]
    req, sig = m.request(client, start_in=0)
    receipt = chain.send(
        chain.market.functions.submitRequest(req.as_tuple(), sig), client, value=777
    )
    (event,) = m.events(receipt, "RequestSubmitted")
    assert event["requestId"] == req.id
    assert event["clientSignature"] == sig
    assert event["request"]["imageUrl"] == req.image_url
    assert event["request"]["offer"]["minPrice"] == req.offer.min_price
    assert chain.balance(client.address) == 777
    assert not chain.market.functions.requestIsLocked(req.id).call()


def test_stake_deposit_withdraw(chain: ChainEnv) -> None:
    prover = chain.provers[0]
    with pytest.raises(ContractLogicError, match="InsufficientAllowance"):
        chain.send(chain.market.functions.depositStake(1), prover)
    chain.deposit_stake(prover, 40 * 10**18)
    assert chain.stake(prover.address) == 40 * 10**18
    assert chain.token.functions.balanceOf(prover.address).call() == PROVER_HP - 40 * 10**18
    chain.send(chain.market.functions.withdrawStake(15 * 10**18), prover)
    assert chain.stake(prover.address) == 25 * 10**18
    assert chain.token.functions.balanceOf(prover.address).call() == PROVER_HP - 25 * 10**18
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        chain.send(chain.market.functions.withdrawStake(25 * 10**18 + 1), prover)


def test_hit_points_not_transferable_between_users(chain: ChainEnv) -> None:
    a, b = chain.provers[0], chain.provers[1]
    with pytest.raises(ContractLogicError, match="UnauthorizedTransfer"):
        chain.send(chain.token.functions.transfer(b.address, 1), a)
    chain.send(chain.token.functions.approve(b.address, 10), a)
    with pytest.raises(ContractLogicError, match="UnauthorizedTransfer"):
        chain.send(chain.token.functions.transferFrom(a.address, b.address, 1), b)
    assert chain.token.functions.isAuthorizedTransfer(chain.deployment.market).call()


def test_hit_points_roles(chain: ChainEnv) -> None:
    owner, outsider = chain.deployer, chain.others[0]
    token = chain.token.functions
    with pytest.raises(ContractLogicError, match="NotMinter"):
        chain.send(token.mint(outsider.address, 1), outsider)
    with pytest.raises(ContractLogicError, match="NotOwner"):
        chain.send(token.grantMinterRole(outsider.address), outsider)
    with pytest.raises(ContractLogicError, match="NotOwner"):
        chain.send(token.grantAuthorizedTransferRole(outsider.address), outsider)
    chain.send(token.grantMinterRole(outsider.address), owner)
    chain.send(token.mint(outsider.address, 5), outsider)
    assert token.balanceOf(outsider.address).call() == 5
    chain.send(token.revokeMinterRole(outsider.address), owner)
    with pytest.raises(ContractLogicError, match="NotMinter"):
        chain.send(token.mint(outsider.address, 1), outsider)
    with pytest.raises(ContractLogicError, match="BalanceExceedsLimit"):
        chain.send(token.mint(outsider.address, 2**96), owner)
    # an authorised account may send to anyone
    chain.send(token.grantAuthorizedTransferRole(outsider.address), owner)
    chain.send(token.transfer(chain.others[1].address, 2), outsider)
    assert token.balanceOf(chain.others[1].address).call() == 2
    chain.send(token.revokeAuthorizedTransferRole(outsider.address), owner)
    with pytest.raises(ContractLogicError, match="UnauthorizedTransfer"):
        chain.send(token.transfer(chain.others[1].address, 1), outsider)
    assert (token.name().call(), token.symbol().call(), token.decimals().call()) == (
        "HitPoints",
        "HP",
        18,
    )


def test_usdc_like_collateral_full_cycle(usdc_chain: ChainEnv) -> None:
    env = usdc_chain
    m = Market(env)
    assert env.token.functions.decimals().call() == 6
    client, locker, second = env.clients[0], env.provers[0], env.provers[1]
    env.deposit(client, 10**18)
    env.deposit_stake(locker, 100 * 10**6)
    env.deposit_stake(second, 100 * 10**6)
    # USDC moves freely (standard ERC-20): unlike HP
    env.send(env.token.functions.transfer(second.address, 1), locker)

    paid, paid_sig = m.request(client, start_in=0, lock_collateral=5 * 10**6)
    m.lock(paid, paid_sig, locker)
    assert env.stake(locker.address) == 95 * 10**6
    m.fulfill(fulfillment(paid, paid_sig), locker)
    assert env.stake(locker.address) == 100 * 10**6

    lapsed, lapsed_sig = m.request(
        client,
        start_in=0,
        lock_collateral=3 * 10**6 + 1,
        lock_timeout=20,
        timeout=60,
        ramp_up_period=10,
    )
    m.lock(lapsed, lapsed_sig, locker)
    env.mine(lapsed.offer.lock_deadline + 1)
    m.commit_and_fulfill(fulfillment(lapsed, lapsed_sig), second)
    env.mine(lapsed.offer.deadline + 1)
    env.send(env.market.functions.slash(lapsed.id), client)
    burn = (3 * 10**6 + 1) * 5000 // 10000
    assert env.stake(second.address) == 100 * 10**6 + (3 * 10**6 + 1 - burn)
    assert (
        env.token.functions.balanceOf("0x000000000000000000000000000000000000dEaD").call() == burn
    )
    held = env.token.functions.balanceOf(env.deployment.market).call()
    assert held == env.stake(locker.address) + env.stake(second.address)
    assert env.token.functions.balanceOf(locker.address).call() == PROVER_USDC - 100 * 10**6 - 1

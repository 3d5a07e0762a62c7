"""Second audit: griefing attacks that cost an honest party money, performed against anvil.

A smart-contract client that withdraws its ERC-1271 approval after a prover locked (the
locker could no longer deliver and would be slashed), and a copied EIP-2612 permit sent
ahead of the prover's own `depositStakeWithPermit` (the deposit would revert).
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from proofmarket.contracts.deploy import deploy_contract
from proofmarket.contracts.seals import mock_seal
from proofmarket.contracts.testing import (
    IMAGE_ID,
    ChainEnv,
    Market,
    Offer,
    Request,
    claim_digest,
    digest_match,
    fulfillment,
    request_id,
    sign_permit,
)

from .conftest import PROVER_STAKE

ERC1271_FLAG = 1 << 192


def _wallet_request(env: ChainEnv, m: Market, owner: LocalAccount, index: int) -> tuple:
    wallet = deploy_contract(env.w3, owner.address, "TestWallet", owner.address)
    env.send(env.market.functions.depositTo(wallet.address), owner, value=10**16)
    req = Request(
        request_id(wallet.address, index) | ERC1271_FLAG,
        Offer(ramp_up_start=env.now() + 5, min_price=10**15, max_price=10**15),
    )
    return wallet, req, m.sign(req, owner)


def test_erc1271_client_revoking_after_lock_cannot_strand_the_locker(
    funded: ChainEnv, m: Market
) -> None:
    """The wallet vouches at lock, then says no: the locker still delivers and is paid."""
    owner, locker = funded.others[0], funded.provers[0]
    wallet, req, sig = _wallet_request(funded, m, owner, 1)
    m.lock(req, sig, locker)
    assert funded.stake(locker.address) == PROVER_STAKE - req.offer.lock_collateral
    funded.send(wallet.functions.setAccept(False), owner)  # the client withdraws its approval
    receipt = m.fulfill(fulfillment(req, sig), locker)
    (paid,) = m.events(receipt, "ProverPaid")
    assert paid["price"] == 10**15
    assert funded.balance(locker.address) == 10**15
    assert funded.stake(locker.address) == PROVER_STAKE
    assert funded.balance(wallet.address) == 10**16 - 10**15


def test_erc1271_lock_binding_is_the_full_digest(funded: ChainEnv, m: Market) -> None:
    """The lock vouches only for the request it locked: an altered request (same id) still
    needs the wallet's word, and a never-locked request from a revoked wallet is refused."""
    owner, locker = funded.others[0], funded.provers[0]
    wallet, req, sig = _wallet_request(funded, m, owner, 2)
    m.lock(req, sig, locker)
    funded.send(wallet.functions.setAccept(False), owner)
    altered = Request(req.id, Offer(**{**req.offer.__dict__, "max_price": 2 * 10**15}))
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.fulfill(fulfillment(altered, m.sign(altered, owner)), locker)
    never_locked = Request(req.id + 1, req.offer)
    never_sig = m.sign(never_locked, owner)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.commit_and_fulfill(fulfillment(never_locked, never_sig), funded.provers[1])
    assert funded.balance(wallet.address) == 10**16 - 10**15  # only the lock's price left


def test_copied_permit_sent_first_does_not_block_the_deposit(chain: ChainEnv) -> None:
    """A watcher submits the prover's permit to the token itself, ahead of the deposit."""
    prover, watcher = chain.provers[0], chain.others[1]
    amount, deadline = 5 * 10**18, chain.now() + 100
    v, r, s = sign_permit(chain, prover, amount, deadline)
    token = chain.token.functions
    chain.send(
        token.permit(prover.address, chain.deployment.market, amount, deadline, v, r, s), watcher
    )
    chain.send(chain.market.functions.depositStakeWithPermit(amount, deadline, v, r, s), prover)
    assert chain.stake(prover.address) == amount
    # the used-up permit moves nothing more: the allowance it granted is spent
    with pytest.raises(ContractLogicError):
        chain.send(chain.market.functions.depositStakeWithPermit(amount, deadline, v, r, s), prover)
    assert chain.stake(prover.address) == amount


def _callback_gas_need(env: ChainEnv, callback: Contract, journal: bytes, seal: bytes) -> int:
    """Gas `handleProof` itself burns when the market calls it (the estimate less the
    transaction's intrinsic and calldata cost)."""
    call = callback.functions.handleProof(IMAGE_ID, journal, seal)
    data = bytes.fromhex(call._encode_transaction_data()[2:])
    calldata_gas = sum(4 if b == 0 else 16 for b in data)
    market = env.deployment.market
    return env.w3.eth.estimate_gas({"from": market, "to": callback.address, "data": data}) - (
        21_000 + calldata_gas
    )


def test_prover_cannot_starve_the_callback_by_tuning_the_gas(funded: ChainEnv, m: Market) -> None:
    """The locker sends its fill with the least gas that does not revert: the callback must
    still get its whole gas limit (the market's gas check must count the call's own cost)."""
    locker = funded.provers[0]
    callback = deploy_contract(
        funded.w3, funded.deployer.address, "TestCallback", funded.deployment.market
    )
    journal = bytes(range(256)) * 4  # stored by the callback: a large, exact gas need
    seal = mock_seal(claim_digest(IMAGE_ID, journal))
    limit = _callback_gas_need(funded, callback, journal, seal) + 100
    req, sig = m.request(
        funded.clients[0],
        start_in=0,
        callback=(callback.address, limit),
        predicate=digest_match(IMAGE_ID, journal),
    )
    m.lock(req, sig, locker)
    call = funded.market.functions.fulfill(fulfillment(req, sig, journal=journal))

    def succeeds(gas: int) -> bool:
        try:
            call.call({"from": locker.address, "gas": gas})
        except (ContractLogicError, ValueError):
            return False
        return True

    low, high = limit, 30_000_000  # least gas that does not revert, by bisection
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if succeeds(mid) else (mid + 1, high)
    tx_hash = call.transact({"from": locker.address, "gas": low})
    receipt = funded.w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert m.events(receipt, "CallbackFailed") == []
    assert callback.functions.calls().call() == 1
    assert callback.functions.lastJournal().call() == journal


def test_identity_precompile_is_not_a_smart_contract_client(funded: ChainEnv, m: Market) -> None:
    """0x04 echoes `isValidSignature`'s calldata, whose first bytes are the magic value: a
    request in its name would pass any ERC-1271 check and spend whatever it was sent."""
    identity = "0x" + "00" * 19 + "04"
    funded.send(funded.market.functions.depositTo(identity), funded.others[0], value=10**15)
    req = Request(
        request_id(identity, 1) | ERC1271_FLAG,
        Offer(ramp_up_start=funded.now(), min_price=10**15, max_price=10**15),
    )
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.lock(req, b"\x00" * 65, funded.provers[0])
    assert funded.balance(identity) == 10**15

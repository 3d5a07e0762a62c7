"""lockRequest / lockRequestWithSignature: success and every rejection."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from proofmarket.contracts.testing import (
    NEVER,
    ChainEnv,
    Market,
    Offer,
    Request,
    malleable,
    request_id,
    sign_lock,
)

from .conftest import CLIENT_DEPOSIT, PROVER_STAKE


def test_lock_escrows_price_and_collateral(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    req, sig = m.request(client, start_in=0, ramp_up_period=100, min_price=0, max_price=10**16)
    start = req.offer.ramp_up_start
    funded.set_next_timestamp(start + 25)
    receipt = m.lock(req, sig, prover)

    expected_price = 25 * 10**16 // 100
    assert funded.balance(client.address) == CLIENT_DEPOSIT - expected_price
    assert funded.stake(prover.address) == PROVER_STAKE - req.offer.lock_collateral
    market = funded.market.functions
    assert market.requestIsLocked(req.id).call()
    assert not market.requestIsFulfilled(req.id).call()
    assert market.requestLockDeadline(req.id).call() == req.offer.lock_deadline
    assert market.requestDeadline(req.id).call() == req.offer.deadline
    lock = market.requestLock(req.id).call()
    digest = market.requestDigest(req.as_tuple()).call()
    assert lock[0] == prover.address
    assert lock[1] == expected_price
    assert lock[2] == req.offer.lock_collateral
    assert lock[6] == digest[:8]
    (event,) = m.events(receipt, "RequestLocked")
    assert event["requestId"] == req.id
    assert event["prover"] == prover.address
    assert event["requestDigest"] == digest
    assert event["price"] == expected_price


def test_lock_with_prover_signature(funded: ChainEnv, m: Market) -> None:
    client, prover, relayer = funded.clients[0], funded.provers[1], funded.others[0]
    req, sig = m.request(client, start_in=0)
    prover_sig = sign_lock(req, prover, m.chain_id, m.address)
    call = funded.market.functions.lockRequestWithSignature(
        req.as_tuple(), sig, prover_sig, 0, NEVER
    )
    receipt = funded.send(call, relayer)
    (event,) = m.events(receipt, "RequestLocked")
    assert event["prover"] == prover.address
    assert funded.stake(prover.address) == PROVER_STAKE - req.offer.lock_collateral


def test_lock_with_bad_prover_signature(funded: ChainEnv, m: Market) -> None:
    client, relayer = funded.clients[0], funded.others[0]
    req, sig = m.request(client, start_in=0)
    other, _ = m.request(client, start_in=0)
    # signature over a different request recovers some other address with no stake
    wrong = sign_lock(other, funded.provers[1], m.chain_id, m.address)
    call = funded.market.functions.lockRequestWithSignature(req.as_tuple(), sig, wrong, 0, NEVER)
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        funded.send(call, relayer)
    high_s = malleable(sign_lock(req, funded.provers[1], m.chain_id, m.address))
    call = funded.market.functions.lockRequestWithSignature(req.as_tuple(), sig, high_s, 0, NEVER)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        funded.send(call, relayer)


def test_wrong_signer_rejected(funded: ChainEnv, m: Market) -> None:
    req, _ = m.request(funded.clients[0], start_in=0)
    forged = m.sign(req, funded.clients[1])  # signed by someone other than id >> 32
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.lock(req, forged, funded.provers[0])


def test_signature_over_other_domain_rejected(funded: ChainEnv, m: Market) -> None:
    from proofmarket.contracts.testing import sign_request

    req, _ = m.request(funded.clients[0], start_in=0)
    other_chain = sign_request(req, funded.clients[0], m.chain_id + 1, m.address)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.lock(req, other_chain, funded.provers[0])


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: malleable(s), id="high-s"),
        pytest.param(lambda s: s[:64] + bytes([s[64] - 27]), id="v-0-1"),
        pytest.param(lambda s: s[:64], id="short"),
        pytest.param(lambda s: b"\x00" * 65, id="zero"),
    ],
)
def test_malformed_signatures_rejected(funded: ChainEnv, m: Market, mangle) -> None:
    req, sig = m.request(funded.clients[0], start_in=0)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.lock(req, mangle(sig), funded.provers[0])


def test_lock_twice_rejected(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=0)
    m.lock(req, sig, funded.provers[0])
    with pytest.raises(ContractLogicError, match="RequestIsLocked"):
        m.lock(req, sig, funded.provers[1])
    # a different request reusing the same id is refused too: the locked bit is per id
    other, other_sig = m.request(
        funded.clients[0], index=req.id & 0xFFFFFFFF, start_in=0, min_price=1
    )
    assert other.id == req.id
    with pytest.raises(ContractLogicError, match="RequestIsLocked"):
        m.lock(other, other_sig, funded.provers[1])


def test_lock_after_lock_deadline_rejected(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(
        funded.clients[0], start_in=0, lock_timeout=50, timeout=500, ramp_up_period=10
    )
    funded.mine(req.offer.lock_deadline + 1)
    with pytest.raises(ContractLogicError, match="RequestLockIsExpired"):
        m.lock(req, sig, funded.provers[0])


def test_lock_needs_client_balance(chain: ChainEnv, m: Market) -> None:
    prover = chain.provers[0]
    chain.deposit_stake(prover, PROVER_STAKE)
    chain.deposit(chain.clients[0], 10**15 - 1)
    req, sig = m.request(chain.clients[0], start_in=100, min_price=10**15)
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        m.lock(req, sig, prover)


def test_lock_needs_prover_stake(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=0, lock_collateral=PROVER_STAKE + 1)
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        m.lock(req, sig, funded.provers[0])
    # a prover that never deposited cannot lock even a cheap request
    cheap, cheap_sig = m.request(funded.clients[0], start_in=0, lock_collateral=1)
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        m.lock(cheap, cheap_sig, funded.others[0])


@pytest.mark.parametrize(
    "offer",
    [
        pytest.param({"min_price": 2, "max_price": 1}, id="min>max"),
        pytest.param({"ramp_up_period": 301, "lock_timeout": 300}, id="ramp>lockTimeout"),
        pytest.param({"lock_timeout": 601, "timeout": 600}, id="lockTimeout>timeout"),
        pytest.param(
            {"lock_timeout": 10, "timeout": 10 + 2**24, "ramp_up_period": 5}, id="delta>uint24"
        ),
    ],
)
def test_invalid_offers_rejected(funded: ChainEnv, m: Market, offer: dict[str, int]) -> None:
    req, sig = m.request(funded.clients[0], start_in=0, **offer)
    with pytest.raises(ContractLogicError, match="InvalidRequest"):
        m.lock(req, sig, funded.provers[0])


def test_deadline_beyond_uint40_rejected(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(
        funded.clients[0], ramp_up_start=2**40 - 100, timeout=200, lock_timeout=150
    )
    with pytest.raises(ContractLogicError, match="InvalidRequest"):
        m.lock(req, sig, funded.provers[0])


@pytest.mark.parametrize(
    "predicate",
    [
        pytest.param((0, b"\x01" * 63), id="digest-short"),
        pytest.param((1, b"\x01" * 31), id="prefix-short"),
        pytest.param((2, b"\x01" * 33), id="claim-long"),
        pytest.param((3, b"\x01" * 32), id="unknown-type"),
    ],
)
def test_malformed_predicates_rejected(funded: ChainEnv, m: Market, predicate) -> None:
    req, sig = m.request(funded.clients[0], start_in=0, predicate=predicate)
    with pytest.raises(ContractLogicError, match="InvalidRequest"):
        m.lock(req, sig, funded.provers[0])


def test_bad_input_type_and_id_bits_rejected(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=0, input=(2, b"x"))
    with pytest.raises(ContractLogicError, match="InvalidRequest"):
        m.lock(req, sig, funded.provers[0])
    client = funded.clients[0]
    flagged = Request(request_id(client.address, 7) | (1 << 193), Offer(ramp_up_start=funded.now()))
    with pytest.raises(ContractLogicError, match="InvalidRequest"):
        m.lock(flagged, m.sign(flagged, client), funded.provers[0])

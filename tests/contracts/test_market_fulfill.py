"""fulfill / fulfillBatch: the three payment paths, predicates, selectors, seals, expiry."""

from __future__ import annotations

import hashlib

import pytest
from web3.exceptions import ContractLogicError

from proofmarket.contracts.seals import mock_seal
from proofmarket.contracts.testing import (
    CLAIM_DIGEST_MATCH,
    DATA_NONE,
    IMAGE_ID,
    JOURNAL,
    PREFIX_MATCH,
    ChainEnv,
    Market,
    claim_digest,
    digest_match,
    fulfillment,
)
from proofmarket.zkvm.claim import ReceiptClaim

from .conftest import CLIENT_DEPOSIT, PROVER_STAKE


def _flags(env: ChainEnv, request_id: int) -> int:
    return int(env.market.functions.requestLock(request_id).call()[5])


def test_locked_in_time_pays_locker(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    req, sig = m.request(client, start_in=0, min_price=10**15, max_price=10**15)
    m.lock(req, sig, prover)
    eth_before = funded.balance(prover.address)
    receipt = m.fulfill(fulfillment(req, sig), prover)

    assert funded.balance(prover.address) == eth_before + 10**15
    assert funded.stake(prover.address) == PROVER_STAKE
    assert funded.balance(client.address) == CLIENT_DEPOSIT - 10**15
    assert funded.market.functions.requestIsFulfilled(req.id).call()
    assert _flags(funded, req.id) == 1 | 2 | 4  # LOCKED | FULFILLED | PAID_DURING_LOCK
    (delivered,) = m.events(receipt, "ProofDelivered")
    assert delivered["journal"] == JOURNAL
    assert delivered["imageId"] == IMAGE_ID
    assert delivered["seal"] == mock_seal(claim_digest())
    assert len(m.events(receipt, "RequestFulfilled")) == 1
    assert m.events(receipt, "PaymentRequirementsFailed") == []

    assert delivered["claimDigest"] == claim_digest()
    (paid,) = m.events(receipt, "ProverPaid")
    assert (paid["price"], paid["collateralReturned"]) == (10**15, req.offer.lock_collateral)

    # a second delivery needs a commitment (it is no longer the locker's in-time path),
    # pays nothing and is not logged as a delivery again
    with pytest.raises(ContractLogicError, match="FulfillmentNotCommitted"):
        m.fulfill(fulfillment(req, sig), prover)
    again = m.commit_and_fulfill(fulfillment(req, sig), prover)
    assert [e["reason"] for e in m.events(again, "PaymentRequirementsFailed")] == [
        "RequestIsFulfilled"
    ]
    assert m.events(again, "RequestFulfilled") == []
    assert m.events(again, "ProofDelivered") == []
    assert funded.balance(prover.address) == eth_before + 10**15


def test_other_prover_during_lock_is_not_paid(funded: ChainEnv, m: Market) -> None:
    client, locker, other = funded.clients[0], funded.provers[0], funded.provers[1]
    req, sig = m.request(client, start_in=0)
    m.lock(req, sig, locker)
    with pytest.raises(ContractLogicError, match="FulfillmentNotCommitted"):
        m.fulfill(fulfillment(req, sig), other)
    receipt = m.commit_and_fulfill(fulfillment(req, sig), other)
    assert [e["reason"] for e in m.events(receipt, "PaymentRequirementsFailed")] == [
        "RequestIsLocked"
    ]
    assert funded.balance(other.address) == 0
    assert funded.market.functions.requestIsFulfilled(req.id).call()
    # the locker can still be paid during its lock
    paid = m.fulfill(fulfillment(req, sig), locker)
    assert m.events(paid, "PaymentRequirementsFailed") == []
    assert funded.stake(locker.address) == PROVER_STAKE


def test_same_id_different_request_is_not_paid(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    req, sig = m.request(client, start_in=0)
    m.lock(req, sig, prover)
    twin, twin_sig = m.request(client, index=req.id & 0xFFFFFFFF, start_in=0, min_price=7)
    receipt = m.commit_and_fulfill(fulfillment(twin, twin_sig), prover)
    assert [e["reason"] for e in m.events(receipt, "PaymentRequirementsFailed")] == [
        "RequestIsLocked"
    ]
    assert funded.stake(prover.address) == PROVER_STAKE - req.offer.lock_collateral


def test_lapsed_lock_anyone_fulfils_client_refunded(funded: ChainEnv, m: Market) -> None:
    client, locker, second = funded.clients[0], funded.provers[0], funded.provers[1]
    req, sig = m.request(client, start_in=0, lock_timeout=100, timeout=400, ramp_up_period=50)
    m.lock(req, sig, locker)
    price = funded.market.functions.requestLock(req.id).call()[1]
    assert price > 0
    funded.mine(req.offer.lock_deadline + 1)
    receipt = m.commit_and_fulfill(fulfillment(req, sig), second)
    assert m.events(receipt, "PaymentRequirementsFailed") == []
    (refund,) = m.events(receipt, "ClientRefunded")
    assert (refund["client"], refund["amount"]) == (client.address, price)
    assert funded.balance(client.address) == CLIENT_DEPOSIT  # refunded in full
    assert funded.balance(second.address) == 0  # price after lockDeadline is 0
    lock = funded.market.functions.requestLock(req.id).call()
    assert lock[7] == second.address  # recorded secondary fulfiller
    assert _flags(funded, req.id) == 1 | 2 | 8  # LOCKED | FULFILLED | PAID_AFTER_LOCK
    # a third prover gets nothing
    third = m.commit_and_fulfill(fulfillment(req, sig), funded.provers[2])
    assert [e["reason"] for e in m.events(third, "PaymentRequirementsFailed")] == [
        "RequestIsFulfilled"
    ]


def test_never_locked_paid_at_current_price(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    req, sig = m.request(
        client, start_in=10, min_price=10**15, max_price=2 * 10**15, ramp_up_period=100
    )
    at = req.offer.ramp_up_start + 40
    expected = funded.market.functions.priceAt(req.offer.as_tuple(), at).call()
    assert expected == 10**15 + 40 * 10**15 // 100
    m.commit([fulfillment(req, sig)], prover)
    funded.set_next_timestamp(at)
    receipt = m.fulfill(fulfillment(req, sig), prover)
    assert funded.balance(prover.address) == expected
    (paid,) = m.events(receipt, "ProverPaid")
    assert (paid["price"], paid["collateralReturned"], paid["client"]) == (
        expected,
        0,
        client.address,
    )
    assert funded.balance(client.address) == CLIENT_DEPOSIT - expected
    assert _flags(funded, req.id) == 2  # FULFILLED only
    with pytest.raises(ContractLogicError, match="RequestIsFulfilled"):
        m.lock(req, sig, prover)


def test_never_locked_after_lock_deadline_is_free(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    req, sig = m.request(client, start_in=0, lock_timeout=20, timeout=200, ramp_up_period=10)
    funded.mine(req.offer.lock_deadline + 5)
    m.commit_and_fulfill(fulfillment(req, sig), prover)
    assert funded.balance(client.address) == CLIENT_DEPOSIT
    assert funded.market.functions.requestIsFulfilled(req.id).call()


def test_never_locked_insufficient_client_balance(chain: ChainEnv, m: Market) -> None:
    client, prover = chain.clients[0], chain.provers[0]
    req, sig = m.request(client, start_in=0, min_price=10**15, max_price=10**15)
    receipt = m.commit_and_fulfill(fulfillment(req, sig), prover)
    assert [e["reason"] for e in m.events(receipt, "PaymentRequirementsFailed")] == [
        "InsufficientBalance"
    ]
    assert len(m.events(receipt, "ProofDelivered")) == 1
    assert chain.market.functions.requestIsFulfilled(req.id).call()
    assert chain.balance(prover.address) == 0


def test_expired_request_not_delivered(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    req, sig = m.request(client, start_in=0, lock_timeout=20, timeout=40, ramp_up_period=10)
    locked, locked_sig = m.request(
        client, start_in=0, lock_timeout=20, timeout=40, ramp_up_period=10
    )
    m.lock(locked, locked_sig, prover)
    funded.mine(req.offer.deadline + 5)
    for r, s in ((req, sig), (locked, locked_sig)):
        receipt = m.fulfill(fulfillment(r, s), prover)
        assert [e["reason"] for e in m.events(receipt, "PaymentRequirementsFailed")] == [
            "RequestIsExpired"
        ]
        assert m.events(receipt, "ProofDelivered") == []
        assert not funded.market.functions.requestIsFulfilled(r.id).call()
    with pytest.raises(ContractLogicError, match="RequestIsExpired"):
        funded.market.functions.priceRequest(req.as_tuple(), sig).call()


def test_price_request_view(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=1000, min_price=123)
    assert funded.market.functions.priceRequest(req.as_tuple(), sig).call() == 123
    bad = m.sign(req, funded.clients[1])
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        funded.market.functions.priceRequest(req.as_tuple(), bad).call()


def test_fill_with_forged_signature_reverts(funded: ChainEnv, m: Market) -> None:
    req, _ = m.request(funded.clients[0], start_in=0)
    forged = m.sign(req, funded.others[0])
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.fulfill(fulfillment(req, forged), funded.provers[0])


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        pytest.param({"journal": b"other journal"}, "PredicateNotSatisfied", id="journal"),
        pytest.param({"image_id": b"\x07" * 32}, "PredicateNotSatisfied", id="image"),
        pytest.param(
            {"seal": mock_seal(b"\x01" * 32)}, "VerificationFailed", id="seal-other-claim"
        ),
        pytest.param(
            {"seal": b"\x12\x34\x56\x78" + claim_digest()}, "SelectorUnknown", id="unknown-selector"
        ),
        pytest.param({"seal": b"\xff\xff"}, "MalformedSeal", id="short-seal"),
        pytest.param({"data_type": 2}, "InvalidFulfillment", id="data-type"),
    ],
)
def test_bad_fills_revert(funded: ChainEnv, m: Market, kwargs, reason: str) -> None:
    req, sig = m.request(funded.clients[0], start_in=0)
    m.lock(req, sig, funded.provers[0])
    fill = fulfillment(req, sig, **kwargs)
    with pytest.raises(ContractLogicError, match=reason):
        m.fulfill(fill, funded.provers[0])
    assert not funded.market.functions.requestIsFulfilled(req.id).call()


def test_digest_match_without_journal(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=0)
    receipt = m.commit_and_fulfill(fulfillment(req, sig, data_type=DATA_NONE), funded.provers[0])
    assert funded.market.functions.requestIsFulfilled(req.id).call()
    (delivered,) = m.events(receipt, "ProofDelivered")
    # nothing the market did not check is logged: no image id, no journal, the claim digest
    assert (delivered["imageId"], delivered["journal"]) == (bytes(32), b"")
    assert delivered["claimDigest"] == claim_digest()


def test_prefix_match(funded: ChainEnv, m: Market) -> None:
    journal = b"prefix:and the rest"
    req, sig = m.request(
        funded.clients[0], start_in=0, predicate=(PREFIX_MATCH, IMAGE_ID + b"prefix:")
    )
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        m.fulfill(fulfillment(req, sig, journal=b"prefiX:and the rest"), funded.provers[0])
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        m.fulfill(fulfillment(req, sig, journal=b"pre"), funded.provers[0])
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        m.fulfill(fulfillment(req, sig, journal=journal, data_type=DATA_NONE), funded.provers[0])
    m.commit_and_fulfill(fulfillment(req, sig, journal=journal), funded.provers[0])
    assert funded.market.functions.requestIsFulfilled(req.id).call()


def test_claim_digest_match(funded: ChainEnv, m: Market) -> None:
    journal = b"claimed"
    digest = ReceiptClaim.ok(IMAGE_ID, journal).digest()
    req, sig = m.request(funded.clients[0], start_in=0, predicate=(CLAIM_DIGEST_MATCH, digest))
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        m.fulfill(fulfillment(req, sig, journal=b"not it"), funded.provers[0])
    # no journal delivered: the seal alone proves the claim
    fill = fulfillment(req, sig, data_type=DATA_NONE, seal=mock_seal(digest))
    m.commit_and_fulfill(fill, funded.provers[0])
    assert funded.market.functions.requestIsFulfilled(req.id).call()


def test_required_selector(funded: ChainEnv, m: Market) -> None:
    set_selector = bytes.fromhex(funded.deployment.set_verifier_selector[2:])
    req, sig = m.request(funded.clients[0], start_in=0, selector=set_selector)
    with pytest.raises(ContractLogicError, match="SelectorMismatch"):
        m.fulfill(fulfillment(req, sig), funded.provers[0])  # mock seal, wrong selector
    mock_req, mock_sig = m.request(funded.clients[0], start_in=0, selector=b"\xff\xff\xff\xff")
    m.commit_and_fulfill(fulfillment(mock_req, mock_sig), funded.provers[0])
    assert funded.market.functions.requestIsFulfilled(mock_req.id).call()


def test_batch_mixes_paths(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    locked, locked_sig = m.request(client, start_in=0, min_price=5, max_price=5)
    m.lock(locked, locked_sig, prover)
    open_req, open_sig = m.request(client, start_in=0, min_price=7, max_price=7)
    fills = [fulfillment(locked, locked_sig), fulfillment(open_req, open_sig)]
    m.commit(fills[1:], prover)  # the locked fill needs none
    receipt = m.fulfill_batch(fills, prover)
    assert len(m.events(receipt, "ProofDelivered")) == 2
    assert funded.balance(prover.address) == 12
    assert funded.stake(prover.address) == PROVER_STAKE


def test_batch_reverts_as_a_whole_on_a_bad_proof(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    good, good_sig = m.request(client, start_in=0)
    bad, bad_sig = m.request(client, start_in=0, predicate=digest_match(IMAGE_ID, b"other"))
    fills = [fulfillment(good, good_sig), fulfillment(bad, bad_sig)]
    m.commit(fills[:1], prover)
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        m.fulfill_batch(fills, prover)
    assert not funded.market.functions.requestIsFulfilled(good.id).call()


def test_journal_digest_is_sha256(funded: ChainEnv, m: Market) -> None:
    journal = bytes(range(200))
    predicate = (0, IMAGE_ID + hashlib.sha256(journal).digest())
    req, sig = m.request(funded.clients[0], start_in=0, predicate=predicate)
    m.commit_and_fulfill(fulfillment(req, sig, journal=journal), funded.provers[0])
    assert funded.market.functions.requestIsFulfilled(req.id).call()

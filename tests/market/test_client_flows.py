"""Request life cycles through MarketClient against the deployed dev-mode stack."""

from __future__ import annotations

import secrets
import socket

import pytest

from proofmarket.market import events as ev
from proofmarket.market import pricing
from proofmarket.market.builder import OfferParams
from proofmarket.market.client import MarketClient, RequestStatus
from proofmarket.market.errors import (
    AccountFrozen,
    ConfigError,
    InsufficientBalance,
    InvalidRequestError,
    InvalidSignature,
    LockPriceTooLow,
    RequestIsLocked,
    RequestIsNotExpired,
    RequestLockIsExpired,
    RequestNotFoundError,
    RpcUnavailableError,
    TxTimeout,
    WaitTimeout,
)
from proofmarket.market.request_id import RequestId

from .conftest import MarketChain
from .helpers import ETHER, dev_fulfillment, make_request


def test_submit_lock_fulfil_pays_the_prover(
    requestor: MarketClient, prover: MarketClient, fresh_id: RequestId
) -> None:
    request, image_id, journal = make_request(requestor, fresh_id)
    signature = requestor.sign_request(request)
    start_block = requestor.block_number()

    submitted = requestor.submit_request(request, signature).first(ev.RequestSubmitted)
    assert submitted.request == request
    assert submitted.client_signature == signature
    assert requestor.get_submitted_request(fresh_id, from_block=start_block).request == request
    assert requestor.get_status(fresh_id) == RequestStatus.UNKNOWN

    stake_before = prover.balance_of_stake()
    eth_before = prover.balance_of()
    locked = prover.lock_request(request, signature)
    lock_event = locked.first(ev.RequestLocked)
    lock_time = prover.block_timestamp(locked.block_number)
    assert lock_event.prover == prover.signer.address
    assert lock_event.price == pricing.price_at(request.offer, lock_time)
    assert lock_event.request_digest == requestor.request_digest(request)
    assert prover.balance_of_stake() == stake_before - request.offer.lock_collateral
    assert requestor.get_status(fresh_id) == RequestStatus.LOCKED
    assert requestor.request_lock_deadline(fresh_id) == request.offer.lock_deadline
    assert requestor.request_deadline(fresh_id) == request.offer.deadline
    lock = requestor.request_lock(fresh_id)
    assert lock.prover == prover.signer.address and lock.has(lock.LOCKED)

    fill = dev_fulfillment(request, signature, image_id, journal)
    result = prover.fulfill(fill)
    delivered = result.first(ev.ProofDelivered)
    assert delivered.journal == journal
    assert delivered.image_id == image_id
    assert delivered.seal == fill.seal
    assert result.first(ev.RequestFulfilled).prover == prover.signer.address
    assert prover.balance_of() == eth_before + lock_event.price
    assert prover.balance_of_stake() == stake_before
    assert requestor.get_status(fresh_id) == RequestStatus.FULFILLED
    assert requestor.request_is_fulfilled(fresh_id)
    waited = requestor.wait_for_fulfillment(fresh_id, from_block=start_block, timeout=5)
    assert waited.meta.tx_hash == result.tx_hash


def test_lock_twice_and_bad_signature_are_typed(
    requestor: MarketClient, prover: MarketClient, market_chain: MarketChain, fresh_id: RequestId
) -> None:
    request, _, _ = make_request(requestor, fresh_id)
    signature = requestor.sign_request(request)
    other = market_chain.client(2)
    with pytest.raises(InvalidSignature):
        prover.lock_request(request, other.sign_request(request))
    prover.lock_request(request, signature)
    with pytest.raises(RequestIsLocked):
        prover.lock_request(request, signature)


def test_lock_with_prover_signature(
    requestor: MarketClient, prover: MarketClient, market_chain: MarketChain, fresh_id: RequestId
) -> None:
    request, _, _ = make_request(requestor, fresh_id)
    signature = requestor.sign_request(request)
    relayer = market_chain.client(3)
    expires = prover.block_timestamp() + 60
    prover_sig = prover.sign_lock_request(request, expires_at=expires, min_lock_price=1)
    with pytest.raises(LockPriceTooLow):  # a relayer cannot lock below the signed bound
        relayer.lock_request_with_signature(
            request, signature, prover_sig, expires_at=expires, min_lock_price=10**30
        )
    result = relayer.lock_request_with_signature(
        request, signature, prover_sig, expires_at=expires, min_lock_price=1
    )
    locked = result.first(ev.RequestLocked)
    assert (locked.prover, locked.client) == (prover.signer.address, requestor.signer.address)


def test_insufficient_balances(
    market_chain: MarketChain, prover: MarketClient, fresh_id: RequestId
) -> None:
    poor = market_chain.client(4)
    request, _, _ = make_request(poor, RequestId(poor.signer.address, fresh_id.index))
    with pytest.raises(InsufficientBalance):
        prover.lock_request(request, poor.sign_request(request))
    with pytest.raises(InsufficientBalance):
        poor.withdraw(1)
    with pytest.raises(InsufficientBalance):
        poor.withdraw_stake(1)


def test_lock_after_deadline_and_slash_flow(
    requestor: MarketClient, market_chain: MarketChain, fresh_id: RequestId
) -> None:
    slashed_prover = market_chain.client(3)
    slashed_prover.deposit_stake(10 * ETHER)
    now = requestor.block_timestamp()
    offer = OfferParams(
        min_price=1000,
        max_price=2000,
        ramp_up_start=now,
        ramp_up_period=10,
        lock_timeout=30,
        timeout=60,
        lock_collateral=3 * ETHER,
    )
    request, _, _ = make_request(requestor, fresh_id, offer=offer)
    signature = requestor.sign_request(request)
    lock = slashed_prover.lock_request(request, signature).first(ev.RequestLocked)
    with pytest.raises(RequestIsNotExpired):
        requestor.slash(fresh_id)

    late_id = RequestId(fresh_id.client, (fresh_id.index + 1) % 2**32)
    late, _, _ = make_request(requestor, late_id, offer=offer)
    late_signature = requestor.sign_request(late)
    market_chain.increase_time(61)
    with pytest.raises(RequestLockIsExpired):
        slashed_prover.lock_request(late, late_signature)
    assert requestor.get_status(fresh_id) == RequestStatus.EXPIRED
    assert requestor.get_status(late_id, expires_at=late.offer.deadline) == RequestStatus.EXPIRED

    client_before = requestor.balance_of()
    slash = requestor.slash(fresh_id)
    event = slash.first(ev.ProverSlashed)
    split = pricing.slash_split(request.offer.lock_collateral)
    assert (event.collateral_burned, event.collateral_transferred) == (
        split.burned,
        split.transferred,
    )
    assert requestor.balance_of() == client_before + lock.price
    assert requestor.request_is_slashed(fresh_id)
    assert slashed_prover.account_is_frozen()

    fresh_offer = offer.with_values(ramp_up_start=requestor.block_timestamp())
    next_id = RequestId(fresh_id.client, (fresh_id.index + 2) % 2**32)
    again, _, _ = make_request(requestor, next_id, offer=fresh_offer)
    with pytest.raises(AccountFrozen):
        slashed_prover.lock_request(again, requestor.sign_request(again))
    slashed_prover.unfreeze().first(ev.ProverUnfrozen)
    assert not slashed_prover.account_is_frozen()
    slashed_prover.lock_request(again, requestor.sign_request(again))


def test_invalid_offer_is_caught_before_sending(
    requestor: MarketClient, fresh_id: RequestId
) -> None:
    now = requestor.block_timestamp()
    with pytest.raises(InvalidRequestError, match=r"lockTimeout .* longer than timeout"):
        make_request(
            requestor,
            fresh_id,
            offer=OfferParams(ramp_up_start=now, lock_timeout=100, timeout=50, ramp_up_period=1),
        )


def test_tx_timeout_when_nothing_is_mined(market_chain: MarketChain, fresh_id: RequestId) -> None:
    client = market_chain.client(5, tx_timeout=0.5)
    provider = market_chain.w3.provider
    provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        with pytest.raises(TxTimeout) as info:
            client.deposit(1)
        assert info.value.tx_hash.startswith("0x")
    finally:
        provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert client.balance_of() >= 1


def test_wait_timeout_and_event_filters(requestor: MarketClient, fresh_id: RequestId) -> None:
    with pytest.raises(WaitTimeout, match="ProofDelivered"):
        requestor.wait_for_fulfillment(fresh_id, from_block=requestor.block_number(), timeout=0.3)
    deposit = requestor.deposit(12345)
    found = list(requestor.iter_events(ev.Deposit, from_block=deposit.block_number))
    assert [e.value for e in found] == [12345]
    assert found[0].account == requestor.signer.address


def test_unreachable_rpc_and_bad_config(market_chain: MarketChain) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RpcUnavailableError, match=str(port)):
        MarketClient.connect(f"http://127.0.0.1:{port}", market_chain.deployment.market)
    with pytest.raises(ConfigError, match="no contract"):
        MarketClient.connect(market_chain.rpc_url, "0x" + secrets.token_hex(20))
    with pytest.raises(ConfigError, match="private key"):
        MarketClient.connect(market_chain.rpc_url, market_chain.deployment.market, "0x1234")
    reader = MarketClient.connect(market_chain.rpc_url, market_chain.deployment.market)
    with pytest.raises(ConfigError, match="needs a private key"):
        reader.deposit(1)


def test_only_verified_deliveries_are_returned(
    requestor: MarketClient, prover: MarketClient, market_chain: MarketChain, fresh_id: RequestId
) -> None:
    """A delivery whose seal no longer verifies (its verifier removed from the router) is
    not handed out: get_fulfillment re-checks every delivery."""
    from proofmarket.contracts.deploy import contract_at, send_transaction

    request, image_id, journal = make_request(requestor, fresh_id)
    signature = requestor.sign_request(request)
    requestor.submit_request(request, signature)
    start = requestor.block_number()
    fill = dev_fulfillment(request, signature, image_id, journal)
    result = prover.fulfill_committed([fill], withdraw=True)  # commit, a block, reveal + withdraw
    assert prover.balance_of() == 0
    delivered = requestor.get_fulfillment(fresh_id, from_block=start)
    assert delivered.meta.tx_hash == result.tx_hash
    assert delivered.claim_digest == prover.verify_delivery(fill)
    deployment = market_chain.deployment
    router = contract_at(market_chain.w3, "VerifierRouter", deployment.verifier_router)
    owner = market_chain.anvil.addresses[0]
    assert deployment.mock_verifier_selector is not None
    selector = bytes.fromhex(deployment.mock_verifier_selector[2:])
    send_transaction(market_chain.w3, owner, router.functions.removeVerifier(selector))
    with pytest.raises(RequestNotFoundError, match="none that verifies"):
        requestor.get_fulfillment(fresh_id, from_block=start)

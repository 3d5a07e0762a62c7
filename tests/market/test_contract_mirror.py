"""The Python mirrors (EIP-712 digests, price curve) equal the deployed contract."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofmarket.market import pricing
from proofmarket.market.eip712 import (
    MarketDomain,
    recover_request_signer,
    request_digest,
    sign_request,
)
from proofmarket.market.errors import InvalidOfferError, InvalidRequest, InvalidSignature
from proofmarket.market.request_id import RequestId
from proofmarket.market.types import (
    UINT32_MAX,
    Callback,
    Offer,
    Predicate,
    PredicateType,
    ProofRequest,
    RequestInput,
    Requirements,
)

from .conftest import MarketChain

HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def offers(draw: st.DrawFn) -> Offer:
    lo = draw(st.integers(0, 2**96))
    hi = draw(st.integers(lo, lo + 2**100))
    timeout = draw(st.integers(0, UINT32_MAX))
    lock_timeout = draw(st.integers(max(0, timeout - (2**24 - 1)), timeout))
    ramp = draw(st.integers(0, lock_timeout))
    start = draw(st.integers(0, 2**40 - 1 - timeout))
    return Offer(
        min_price=lo,
        max_price=hi,
        ramp_up_start=start,
        ramp_up_period=ramp,
        lock_timeout=lock_timeout,
        timeout=timeout,
        lock_collateral=draw(st.integers(0, 2**96)),
    )


@st.composite
def requests(draw: st.DrawFn) -> ProofRequest:
    client = "0x" + draw(st.binary(min_size=20, max_size=20)).hex()
    kind = draw(st.sampled_from(list(PredicateType)))
    size = {PredicateType.DIGEST_MATCH: 64, PredicateType.CLAIM_DIGEST_MATCH: 32}.get(kind)
    data = draw(st.binary(min_size=size or 32, max_size=size or 200))
    return ProofRequest(
        id=RequestId(client, draw(st.integers(0, 2**32 - 1))).value,
        requirements=Requirements(
            predicate=Predicate(type=kind, data=data),
            callback=Callback(
                addr="0x" + draw(st.binary(min_size=20, max_size=20)).hex(),
                gas_limit=draw(st.integers(0, 2**96 - 1)),
            ),
            selector=draw(st.binary(min_size=4, max_size=4)),
        ),
        image_url=draw(st.text(max_size=80)),
        input=RequestInput(type=draw(st.sampled_from([0, 1])), data=draw(st.binary(max_size=300))),
        offer=draw(offers()),
    )


def test_domain_separator_matches_contract(market_chain: MarketChain) -> None:
    client = market_chain.client(0)
    assert client.domain.separator() == client.domain_separator_onchain()
    other = MarketDomain(client.chain_id + 1, client.address)
    assert other.separator() != client.domain_separator_onchain()


@HYPOTHESIS
@given(request=requests())
def test_request_digest_matches_contract(market_chain: MarketChain, request: ProofRequest) -> None:
    client = market_chain.client(0)
    assert request_digest(request, client.domain) == client.request_digest_onchain(request)


@HYPOTHESIS
@given(offer=offers(), delta=st.integers(-10, 2**32))
def test_price_at_matches_contract(market_chain: MarketChain, offer: Offer, delta: int) -> None:
    client = market_chain.client(0)
    timestamp = max(0, min(offer.ramp_up_start + delta, 2**64 - 1))
    assert pricing.price_at(offer, timestamp) == client.price_at(offer, timestamp)


@HYPOTHESIS
@given(offer=offers(), fraction=st.fractions(0, 1))
def test_time_at_price_matches_contract(market_chain: MarketChain, offer: Offer, fraction) -> None:
    client = market_chain.client(0)
    price = offer.min_price + int((offer.max_price - offer.min_price) * fraction)
    assert pricing.time_at_price(offer, price) == client.time_at_price(offer, price)


def test_time_at_price_above_max_is_rejected_by_both(market_chain: MarketChain) -> None:
    client = market_chain.client(0)
    offer = Offer(
        min_price=1,
        max_price=10,
        ramp_up_start=100,
        ramp_up_period=10,
        lock_timeout=20,
        timeout=30,
        lock_collateral=0,
    )
    with pytest.raises(InvalidOfferError, match="above the offer's maxPrice"):
        pricing.time_at_price(offer, 11)
    with pytest.raises(InvalidRequest):
        client.time_at_price(offer, 11)


def test_slash_split_uses_contract_bps(market_chain: MarketChain) -> None:
    client = market_chain.client(0)
    assert client.slashing_burn_bps() == pricing.SLASHING_BURN_BPS
    split = pricing.slash_split(7)
    assert (split.burned, split.transferred) == (3, 4)


def test_signature_recovers_client(market_chain: MarketChain) -> None:
    client = market_chain.client(2)
    start = client.block_timestamp() + 1000
    request = ProofRequest.model_validate(
        {
            "id": RequestId(client.signer.address, 5).value,
            "requirements": {"predicate": {"type": "ClaimDigestMatch", "data": os.urandom(32)}},
            "imageUrl": "file:///x.elf",
            "input": {"type": "inline", "data": "0x00"},
            "offer": {
                "minPrice": 7,
                "maxPrice": 9,
                "rampUpStart": start,
                "rampUpPeriod": 0,
                "lockTimeout": 1,
                "timeout": 1,
                "lockCollateral": 0,
            },
        }
    )
    signature = sign_request(request, client.domain, client.signer.key)
    assert len(signature) == 65
    assert recover_request_signer(request, client.domain, signature) == client.signer.address
    # the contract accepts it (priceRequest verifies the signature)
    assert client.price_request(request, signature) == 7
    forged = signature[:-1] + bytes([signature[-1] ^ 1])
    with pytest.raises(InvalidSignature):
        client.price_request(request, forged)

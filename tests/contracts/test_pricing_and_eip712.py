"""Contract math and hashing against independent Python: price curve, EIP-712 digests.

The price curve is checked against a small reference written here (the formulas of
docs/contracts.md §4.3) and against the client-side mirror in proofmarket.market.pricing;
request digests against eth-account's generic EIP-712 encoder and proofmarket.market.eip712.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from proofmarket.contracts.testing import (
    ChainEnv,
    Market,
    Offer,
    Request,
    request_id,
    request_signable,
)
from proofmarket.market import eip712 as market_eip712
from proofmarket.market import pricing as market_pricing
from proofmarket.market.types import Offer as ClientOffer
from proofmarket.market.types import ProofRequest as ClientRequest

U32 = 2**32 - 1
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def ref_price_at(o: Offer, t: int) -> int:
    if t <= o.ramp_up_start:
        return o.min_price
    if t > o.ramp_up_start + o.lock_timeout:
        return 0
    if t <= o.ramp_up_start + o.ramp_up_period:
        return o.min_price + (t - o.ramp_up_start) * (o.max_price - o.min_price) // o.ramp_up_period
    return o.max_price


def ref_time_at_price(o: Offer, price: int) -> int:
    if price <= o.min_price:
        return 0
    a = (price - o.min_price) * o.ramp_up_period
    b = o.max_price - o.min_price
    return o.ramp_up_start + (0 if a == 0 else (a - 1) // b + 1)


@st.composite
def offers(draw: st.DrawFn) -> Offer:
    min_price = draw(st.integers(0, 10**30))
    max_price = draw(st.integers(min_price, min_price + 10**30))
    lock_timeout = draw(st.integers(0, 10**6))
    ramp = draw(st.integers(0, lock_timeout))
    return Offer(
        min_price=min_price,
        max_price=max_price,
        ramp_up_start=draw(st.integers(0, 2**40)),
        ramp_up_period=ramp,
        lock_timeout=lock_timeout,
        timeout=draw(st.integers(lock_timeout, min(U32, lock_timeout + 10**6))),
        lock_collateral=draw(st.integers(0, 10**24)),
    )


def client_offer(o: Offer) -> ClientOffer:
    return ClientOffer.model_validate(o.message())


@SETTINGS
@given(o=offers(), dt=st.integers(-10, 2 * 10**6))
def test_price_at_matches_python(chain: ChainEnv, o: Offer, dt: int) -> None:
    t = max(0, o.ramp_up_start + dt)
    on_chain = chain.market.functions.priceAt(o.as_tuple(), t).call()
    assert on_chain == ref_price_at(o, t)
    assert on_chain == market_pricing.price_at(client_offer(o), t)


@SETTINGS
@given(o=offers(), data=st.data())
def test_time_at_price_matches_python(chain: ChainEnv, o: Offer, data: st.DataObject) -> None:
    price = data.draw(st.integers(0, o.max_price))
    on_chain = chain.market.functions.timeAtPrice(o.as_tuple(), price).call()
    assert on_chain == ref_time_at_price(o, price)
    assert on_chain == market_pricing.time_at_price(client_offer(o), price)
    if price > o.min_price and o.ramp_up_period > 0:
        # the earliest time at which the offer is worth at least `price` (with no ramp the
        # reference formula answers rampUpStart although the jump comes a second later)
        assert ref_price_at(o, on_chain) >= price
        if on_chain - 1 > o.ramp_up_start:
            assert ref_price_at(o, on_chain - 1) < price


def test_time_at_price_above_max(chain: ChainEnv) -> None:
    o = Offer(min_price=1, max_price=10)
    with pytest.raises(ContractLogicError, match="InvalidRequest"):
        chain.market.functions.timeAtPrice(o.as_tuple(), 11).call()


requests = st.builds(
    lambda index, pred, url, inp, sel, cb_gas, o: (index, pred, url, inp, sel, cb_gas, o),
    st.integers(0, U32),
    st.one_of(
        st.tuples(st.just(0), st.binary(min_size=64, max_size=64)),
        st.tuples(st.just(1), st.binary(min_size=32, max_size=200)),
        st.tuples(st.just(2), st.binary(min_size=32, max_size=32)),
    ),
    st.text(max_size=60),
    st.tuples(st.integers(0, 1), st.binary(max_size=500)),
    st.binary(min_size=4, max_size=4),
    st.integers(0, 2**96 - 1),
    offers(),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=requests)
def test_request_digest_matches_eip712(chain: ChainEnv, parts) -> None:
    index, pred, url, inp, sel, cb_gas, o = parts
    client = chain.clients[0].address
    req = Request(
        request_id(client, index),
        o,
        predicate=pred,
        callback=(chain.others[0].address, cb_gas),
        selector=sel,
        image_url=url,
        input=inp,
    )
    market = chain.deployment.market
    chain_id = chain.w3.eth.chain_id
    on_chain = bytes(chain.market.functions.requestDigest(req.as_tuple()).call())
    signable = request_signable(req, chain_id, market)
    from eth_account.messages import _hash_eip191_message

    assert on_chain == _hash_eip191_message(signable)
    message = req.message()
    predicate = message["requirements"]["predicate"]
    message["requirements"]["predicate"] = {
        "type": predicate["predicateType"],
        "data": predicate["data"],
    }
    message["input"] = {"type": message["input"]["inputType"], "data": message["input"]["data"]}
    client_req = ClientRequest.model_validate(message)
    domain = market_eip712.MarketDomain(chain_id, market)
    assert on_chain == market_eip712.request_digest(client_req, domain)


def test_domain_separator(chain: ChainEnv, m: Market) -> None:
    from eth_utils import keccak

    domain_type = (
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        keccak(text=domain_type)
        + keccak(text="ProofMarket")
        + keccak(text="1")
        + m.chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(m.address[2:])
    )
    assert bytes(chain.market.functions.eip712DomainSeparator().call()) == expected

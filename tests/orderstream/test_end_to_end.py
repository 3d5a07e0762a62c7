"""Submit off-chain → a subscriber sees it → lock with the requestor's signature on anvil →
fulfil: the whole path a broker takes, with no gas paid by the requestor."""

from __future__ import annotations

import asyncio

from market.helpers import dev_fulfillment
from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient

from .conftest import Stream, signed_request


def test_offchain_request_is_streamed_locked_and_fulfilled(
    stream: Stream, requestor: MarketClient, prover: MarketClient
) -> None:
    request, signature, image, journal = signed_request(requestor)
    nonce_before = requestor.w3.eth.get_transaction_count(requestor.signer.address)
    balance_before = requestor.balance_of()

    async def flow() -> None:
        async with stream.client().subscribe(heartbeat_interval=0.25, heartbeat_timeout=1.0) as sub:
            await sub.wait_connected()
            accepted = await asyncio.to_thread(stream.client(None).submit, request, signature)
            seen = await asyncio.wait_for(anext(sub), 10)
            assert seen.id == accepted.id
            assert seen.request == request
            assert seen.signature == signature
            assert seen.request_digest == requestor.request_digest(request)

    asyncio.run(flow())
    # the requestor sent no transaction for it
    assert requestor.w3.eth.get_transaction_count(requestor.signer.address) == nonce_before

    order = stream.client(None).get(request.id)
    locked = prover.lock_request(order.request, order.signature).first(ev.RequestLocked)
    assert locked.prover == prover.signer.address
    assert requestor.balance_of() == balance_before - locked.price

    fill = dev_fulfillment(order.request, order.signature, image, journal)
    delivered = prover.fulfill(fill).first(ev.ProofDelivered)
    assert delivered.prover == prover.signer.address
    assert requestor.request_is_fulfilled(request.id)

    # once locked on chain the book refuses a copy of the same request
    status = stream.client(None).status()
    assert status["orders"] == 1 and status["accepted"] == 1


def test_offchain_request_locked_by_a_relayer_with_the_provers_signature(
    stream: Stream, requestor: MarketClient, prover: MarketClient
) -> None:
    """The prover signs the lock (with expiry and price bound); anyone relays it."""
    from .conftest import market_client

    request, signature, image, journal = signed_request(requestor)
    order = stream.client(None).submit(request, signature)
    expires_at = prover.block_timestamp() + 120
    prover_sig = prover.sign_lock_request(order.request, expires_at=expires_at)
    relayer = market_client(stream.chain, 6)
    locked = relayer.lock_request_with_signature(
        order.request, order.signature, prover_sig, expires_at=expires_at
    ).first(ev.RequestLocked)
    assert locked.prover == prover.signer.address  # the prover is bound, not the relayer
    delivered = prover.fulfill(dev_fulfillment(order.request, order.signature, image, journal))
    assert delivered.first(ev.ProofDelivered).prover == prover.signer.address

"""Request-building helpers shared by the market tests."""

from __future__ import annotations

import os

from proofmarket.contracts.seals import mock_seal
from proofmarket.market.builder import OfferParams, RequestBuilder
from proofmarket.market.client import MarketClient
from proofmarket.market.predicates import claim_digest
from proofmarket.market.request_id import RequestId
from proofmarket.market.types import Fulfillment, FulfillmentDataType, ProofRequest

ETHER = 10**18


def make_request(
    client: MarketClient,
    request_id: RequestId,
    *,
    journal: bytes = b"journal bytes",
    image_id: bytes | None = None,
    offer: OfferParams | None = None,
) -> tuple[ProofRequest, bytes, bytes]:
    """A DigestMatch request starting at the chain's current time; returns (request, image
    id, journal)."""
    image = image_id or os.urandom(32)
    now = client.block_timestamp()
    request = RequestBuilder().build(
        request_id=request_id,
        image_id=image,
        now=now,
        program_url="file:///programs/guest.elf",
        stdin=b"input",
        journal=journal,
        offer=offer
        or OfferParams(
            min_price=ETHER // 1000,
            max_price=ETHER // 100,
            ramp_up_start=now,
            ramp_up_period=100,
            lock_timeout=300,
            timeout=600,
            lock_collateral=2 * ETHER,
        ),
    )
    return request, image, journal


def dev_fulfillment(
    request: ProofRequest, signature: bytes, image_id: bytes, journal: bytes
) -> Fulfillment:
    """A fulfilment with a DEV MODE (mock verifier) seal."""
    return Fulfillment(
        request=request,
        client_signature=signature,
        fulfillment_data_type=FulfillmentDataType.IMAGE_ID_AND_JOURNAL,
        image_id=image_id,
        journal=journal,
        seal=mock_seal(claim_digest(image_id, journal)),
    )

"""Submitting a signed request to an order stream instead of the chain (the CLI's
``request submit --offchain``)."""

from __future__ import annotations

from collections.abc import Mapping

from proofmarket.market.errors import MarketError
from proofmarket.market.types import ProofRequest
from proofmarket.orderstream.client import DEFAULT_URL, OrderStreamClient
from proofmarket.orderstream.errors import OrderStreamError
from proofmarket.orderstream.models import Order

URL_ENV = "ORDER_STREAM_URL"


def order_stream_url(flag: str | None, env: Mapping[str, str]) -> str:
    """``--order-stream-url`` > ``ORDER_STREAM_URL`` (environment or .env.devnet) > default."""
    return flag or env.get(URL_ENV) or DEFAULT_URL


def submit_offchain(request: ProofRequest, signature: bytes, url: str) -> Order:
    """Post the request; a refusal becomes a :class:`MarketError` naming the reason."""
    try:
        with OrderStreamClient(url) as client:
            return client.submit(request, signature)
    except OrderStreamError as exc:
        raise MarketError(
            f"the order stream at {url} refused the request: {exc.type_name}: {exc.msg}"
        ) from exc

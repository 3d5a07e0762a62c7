"""What travels between the order stream and its users, as JSON.

An order is a signed request plus what the book adds: its sequence number ``id`` (strictly
increasing, the resume cursor of a subscription), the EIP-712 ``requestDigest`` and the time
it was accepted. The request is the market's ``ProofRequest`` in its JSON form (camelCase,
the same shape as a request file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.types import ProofRequest, parse_hex
from proofmarket.orderstream.errors import InvalidOrder, MalformedBody

SIGNATURE_BYTES = 65
SUBMIT_KEYS = frozenset({"request", "signature"})


@dataclass(frozen=True)
class Order:
    """A request in the book."""

    id: int
    request: ProofRequest
    request_digest: bytes
    signature: bytes
    created_at: float

    @property
    def client(self) -> str:
        return self.request.client

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requestId": hex(self.request.id),
            "requestDigest": "0x" + self.request_digest.hex(),
            "signature": "0x" + self.signature.hex(),
            "createdAt": self.created_at,
            "request": self.request.to_json_dict(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Order:
        """Parse an order as the service sends it (raises :class:`InvalidOrder`)."""
        if not isinstance(data, dict):
            raise InvalidOrder(f"an order must be a JSON object, got {type(data).__name__}")
        try:
            return cls(
                id=int(data["id"]),
                request=ProofRequest.model_validate(data["request"]),
                request_digest=parse_hex(data["requestDigest"], "requestDigest"),
                signature=parse_hex(data["signature"], "signature"),
                created_at=float(data["createdAt"]),
            )
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise InvalidOrder(f"not an order: {exc}") from None


@dataclass(frozen=True)
class Submission:
    """A parsed ``POST /api/v1/submit_order`` body, not yet checked against the chain."""

    request: ProofRequest
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request.to_json_dict(), "signature": "0x" + self.signature.hex()}


def _pydantic_problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())) or 'request'}: {e.get('msg')}"
        for e in exc.errors()
    )


def parse_submission(data: Any) -> Submission:
    """Check the body's shape: ``{"request": {...}, "signature": "0x<65 bytes>"}``.

    A body that is not an object is malformed (400); an object with the wrong fields or
    values is an invalid order (422), with every problem named.
    """
    if not isinstance(data, dict):
        raise MalformedBody(
            f'the body must be a JSON object {{"request", "signature"}}, got {type(data).__name__}'
        )
    missing = sorted(SUBMIT_KEYS - data.keys())
    extra = sorted(data.keys() - SUBMIT_KEYS)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing field(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unknown field(s) {', '.join(map(str, extra))}")
        raise InvalidOrder("; ".join(parts))
    try:
        request = ProofRequest.model_validate(data["request"])
    except ValidationError as exc:
        raise InvalidOrder(f"invalid request: {_pydantic_problems(exc)}") from None
    except InvalidRequestError as exc:
        raise InvalidOrder(str(exc)) from None
    try:
        signature = parse_hex(data["signature"], "signature")
    except InvalidRequestError as exc:
        raise InvalidOrder(str(exc)) from None
    if len(signature) != SIGNATURE_BYTES:
        raise InvalidOrder(
            f"signature must be {SIGNATURE_BYTES} bytes (r ‖ s ‖ v), got {len(signature)}"
        )
    return Submission(request, signature)

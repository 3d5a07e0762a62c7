"""Errors of the order stream, shared by the service and its client.

The service answers every refusal as ``{"type": ..., "msg": ...}`` (the cluster API's shape)
with the status code of the error class; the client turns such a body back into the same
class, so callers catch ``DuplicateOrder`` whether they talk HTTP or run in-process.
"""

from __future__ import annotations


class OrderStreamError(Exception):
    """An order-stream refusal or failure: ``type_name`` + ``msg``, HTTP ``status_code``."""

    status_code = 500
    type_name = "InternalErr"

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg

    def body(self) -> dict[str, str]:
        return {"type": self.type_name, "msg": self.msg}


class MalformedBody(OrderStreamError):
    """The body is not JSON, or not the expected JSON object."""

    status_code = 400
    type_name = "MalformedBody"


class InvalidSignature(OrderStreamError):
    """The request's signature was not made by its client (the address in the request ID)."""

    status_code = 400
    type_name = "InvalidSignature"


class InsufficientBalance(OrderStreamError):
    """The requestor's market balance does not cover the offer's max price."""

    status_code = 400
    type_name = "InsufficientBalance"


class Unauthorized(OrderStreamError):
    """A WebSocket handshake was refused (bad signature, stale or reused nonce)."""

    status_code = 401
    type_name = "Unauthorized"


class NotFound(OrderStreamError):
    status_code = 404
    type_name = "NotFound"


class MethodNotAllowed(OrderStreamError):
    status_code = 405
    type_name = "MethodNotAllowed"


class DuplicateOrder(OrderStreamError):
    """The request (same ID or same digest) is already in the book, or already on chain."""

    status_code = 409
    type_name = "DuplicateOrder"


class PayloadTooLarge(OrderStreamError):
    status_code = 413
    type_name = "PayloadTooLarge"


class InvalidOrder(OrderStreamError):
    """Well-formed JSON that is not a valid request (schema, offer, sizes, expired)."""

    status_code = 422
    type_name = "InvalidOrder"


class RateLimited(OrderStreamError):
    """Too many calls from one address or IP; ``retry_after`` seconds until the next token."""

    status_code = 429
    type_name = "RateLimited"

    def __init__(self, msg: str, retry_after: float = 1.0) -> None:
        super().__init__(msg)
        self.retry_after = retry_after


class ChainUnavailable(OrderStreamError):
    """The service cannot read the chain (balance, lock state) right now."""

    status_code = 503
    type_name = "ChainUnavailable"


class DbErr(OrderStreamError):
    """The order database failed or is unreachable."""

    status_code = 503
    type_name = "DbErr"


class ServerAtCapacity(OrderStreamError):
    """Too many subscribers are connected (Boundless' "Server at capacity")."""

    status_code = 503
    type_name = "ServerAtCapacity"


class StreamClosed(OrderStreamError):
    """The client could not (re)connect within its limits, or the stream was closed."""

    status_code = 503
    type_name = "StreamClosed"


ERROR_TYPES: dict[str, type[OrderStreamError]] = {
    cls.type_name: cls
    for cls in (
        MalformedBody,
        InvalidSignature,
        InsufficientBalance,
        Unauthorized,
        NotFound,
        MethodNotAllowed,
        DuplicateOrder,
        PayloadTooLarge,
        InvalidOrder,
        RateLimited,
        ChainUnavailable,
        DbErr,
        ServerAtCapacity,
        StreamClosed,
    )
}


def error_from_body(status_code: int, body: object) -> OrderStreamError:
    """Rebuild the error a service answered (or a generic one for a foreign body)."""
    if isinstance(body, dict) and isinstance(body.get("type"), str):
        kind = ERROR_TYPES.get(body["type"], OrderStreamError)
        error = kind(str(body.get("msg", "")))
        if kind is OrderStreamError:
            error.type_name = body["type"]
        error.status_code = status_code
        return error
    error = OrderStreamError(f"HTTP {status_code}: {str(body)[:200]}")
    error.status_code = status_code
    return error

"""Orders: one request this broker may fulfil, with its status (Boundless's state machine).

An order's ID is ``0x{request_id:x}-0x{request_digest}-{fulfillment_type}``, as in
Boundless, so one request can yield two orders (lock it, or fulfil it after another
prover's lock lapsed). The whole order is stored as JSON in ``orders.data``.
"""

from __future__ import annotations

import time
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from proofmarket.market.types import ProofRequest


class FulfillmentType(StrEnum):
    LOCK_AND_FULFILL = "LockAndFulfill"
    FULFILL_AFTER_LOCK_EXPIRE = "FulfillAfterLockExpire"


class OrderStatus(StrEnum):
    """Persisted order states.

    ``Locking`` is ours: written before the lock transaction is sent, so a crash between
    sending and recording it is reconciled against the chain on restart.
    """

    LOCKING = "Locking"
    PENDING_PROVING = "PendingProving"
    PROVING = "Proving"
    READY_FOR_BATCH = "ReadyForBatch"
    BATCHING = "Batching"
    PENDING_SUBMISSION = "PendingSubmission"
    DONE = "Done"
    FAILED = "Failed"
    SKIPPED = "Skipped"


COMMITTED = (
    OrderStatus.LOCKING,
    OrderStatus.PENDING_PROVING,
    OrderStatus.PROVING,
    OrderStatus.READY_FOR_BATCH,
    OrderStatus.BATCHING,
    OrderStatus.PENDING_SUBMISSION,
)
"""States that hold capacity: the broker owes the chain a fulfilment."""


class BatchStatus(StrEnum):
    AGGREGATING = "Aggregating"
    COMPLETE = "Complete"
    PENDING_SUBMISSION = "PendingSubmission"
    SUBMITTED = "Submitted"
    FAILED = "Failed"


def request_to_json(request: ProofRequest) -> dict[str, Any]:
    """The request as JSON-safe data (bytes as 0x hex, enums as numbers) that
    ``ProofRequest.model_validate`` reads back exactly."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return "0x" + value.hex()
        if isinstance(value, IntEnum):
            return int(value)
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    return dict(plain(request.model_dump(by_alias=True)))


def order_id(request_id: int, digest: bytes, kind: FulfillmentType) -> str:
    return f"0x{request_id:x}-0x{digest.hex()}-{kind.value}"


class Order(BaseModel):
    """Everything the pipeline knows about one order (``orders.data``)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: OrderStatus
    fulfillment_type: FulfillmentType
    request: dict[str, Any]
    client_sig: str
    request_digest: str
    chain_id: int
    market_address: str
    updated_at: int = 0
    observed_at: float = 0.0
    image_id: str | None = None
    input_id: str | None = None
    total_cycles: int | None = None
    target_timestamp: int | None = None
    expire_timestamp: int = 0
    """When the fulfilment stops paying: the lock deadline for LockAndFulfill, the
    request's deadline for FulfillAfterLockExpire (Boundless ``expiry()``)."""
    proving_started_at: int | None = None
    proof_id: str | None = None
    lock_price: str | None = None
    lock_tx: str | None = None
    preflight_secs: float | None = None
    """How long pricing waited for the preflight (near 0 when it was cached)."""
    lock_sent_at: float | None = None
    """Wall time the lock was handed to the transaction queue (lock latency metric)."""
    journal: str | None = None
    claim_digest: str | None = None
    dev_mode: bool | None = None
    receipt_mode: str | None = None
    """``STARK (<profiles>)`` or ``DEV MODE``: what the cluster's receipt was."""
    receipt_url: str | None = None
    """Where the receipt was published for requestors (None: the upload failed)."""
    error_msg: str | None = None

    @property
    def proof_request(self) -> ProofRequest:
        return ProofRequest.model_validate(self.request)

    @property
    def request_id(self) -> int:
        return int(self.proof_request.id)

    @property
    def signature(self) -> bytes:
        return bytes.fromhex(self.client_sig.removeprefix("0x"))

    @property
    def journal_bytes(self) -> bytes:
        return bytes.fromhex(self.journal or "")

    def with_status(self, status: OrderStatus, **changes: Any) -> Order:
        return self.model_copy(update={"status": status, "updated_at": int(time.time()), **changes})

    @classmethod
    def new(
        cls,
        request: ProofRequest,
        client_sig: bytes,
        digest: bytes,
        kind: FulfillmentType,
        *,
        chain_id: int,
        market_address: str,
        status: OrderStatus = OrderStatus.SKIPPED,
    ) -> Order:
        offer = request.offer
        expiry = offer.lock_deadline if kind is FulfillmentType.LOCK_AND_FULFILL else offer.deadline
        return cls(
            id=order_id(request.id, digest, kind),
            status=status,
            fulfillment_type=kind,
            request=request_to_json(request),
            client_sig="0x" + client_sig.hex(),
            request_digest="0x" + digest.hex(),
            chain_id=chain_id,
            market_address=market_address,
            updated_at=int(time.time()),
            observed_at=time.time(),
            expire_timestamp=expiry,
        )

"""The records the transaction queue keeps: one ``TxRecord`` per logical transaction.

A record is bound to one nonce the moment it is first signed; every resend, fee bump and
cancellation reuses that nonce, so at most one of its attempts can ever execute. That is
what makes a restart safe: resending a stored attempt can never double-spend.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class TxPurpose(StrEnum):
    """Why a transaction was queued; ``lock`` gets reconciled against lock events."""

    LOCK = "lock"
    FULFIL = "fulfil"
    COMMIT = "commit"
    SUBMIT_ROOT = "submit_root"
    SLASH = "slash"
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    OTHER = "other"


class TxStatus(StrEnum):
    """Where a record stands. ``confirmed``, ``reverted`` and ``failed`` are final."""

    QUEUED = "queued"
    """Waiting for a nonce (nothing signed yet)."""
    PENDING = "pending"
    """Signed and broadcast at least once; waiting for a receipt."""
    CANCELLING = "cancelling"
    """Past ``txn_timeout``: a zero-value self-transfer races it on the same nonce."""
    CONFIRMED = "confirmed"
    REVERTED = "reverted"
    FAILED = "failed"
    """Never executed: refused at gas estimation, cancelled, or out of retries."""

    @property
    def final(self) -> bool:
        return self in (TxStatus.CONFIRMED, TxStatus.REVERTED, TxStatus.FAILED)


ACTIVE_STATUSES = (TxStatus.QUEUED, TxStatus.PENDING, TxStatus.CANCELLING)
IN_FLIGHT_STATUSES = (TxStatus.PENDING, TxStatus.CANCELLING)


@dataclass
class TxAttempt:
    """One signed transaction for the record's nonce (the first send or a replacement)."""

    tx_hash: str
    raw: str
    """The signed bytes (hex), kept so a restart can rebroadcast exactly the same tx."""
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    sent_at: float
    cancel: bool = False
    """A zero-value self-transfer that replaces the original after ``txn_timeout``."""


@dataclass
class TxReceiptInfo:
    """What the queue keeps of the receipt that settled the record."""

    tx_hash: str
    block_number: int
    gas_used: int
    effective_gas_price: int
    status: int

    @property
    def fee_wei(self) -> int:
        return self.gas_used * self.effective_gas_price


@dataclass
class TxRecord:
    """A transaction queued for one signing key (``sender``)."""

    sender: str
    purpose: TxPurpose
    to: str
    data: str
    """Calldata, hex with 0x."""
    value: int = 0
    order_id: str = ""
    request_id: int | None = None
    idempotency_key: str = ""
    priority_fee_bonus: int = 0
    """Extra wei per gas added to both fee fields (``lockin_priority_gas`` for locks)."""
    gas_limit: int | None = None
    id: int = 0
    status: TxStatus = TxStatus.QUEUED
    nonce: int | None = None
    attempts: list[TxAttempt] = field(default_factory=list)
    receipt: TxReceiptInfo | None = None
    error: str = ""
    error_name: str = ""
    reconciled: bool = False
    """Settled by looking at the chain (a lock found in events), not by our own receipt."""
    send_errors: int = 0
    accepted: bool = False
    """A node took one of the attempts: from then on the nonce is never given back."""
    created_at: float = field(default_factory=time.time)
    first_sent_at: float | None = None
    updated_at: float = field(default_factory=time.time)
    from_block: int = 0
    """The head block when the record was queued: where reconciliation starts looking."""

    @property
    def tx_hash(self) -> str | None:
        """The hash that settled the record, else the latest attempt's."""
        if self.receipt is not None:
            return self.receipt.tx_hash
        return self.attempts[-1].tx_hash if self.attempts else None

    def to_json(self) -> str:
        data = asdict(self)
        data["request_id"] = None if self.request_id is None else hex(self.request_id)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> TxRecord:
        data: dict[str, Any] = json.loads(text)
        data["purpose"] = TxPurpose(data["purpose"])
        data["status"] = TxStatus(data["status"])
        data["attempts"] = [TxAttempt(**a) for a in data.get("attempts", [])]
        receipt = data.get("receipt")
        data["receipt"] = TxReceiptInfo(**receipt) if receipt else None
        request_id = data.get("request_id")
        data["request_id"] = None if request_id is None else int(request_id, 16)
        return cls(**data)

    def summary(self) -> dict[str, Any]:
        """A flat view for ``proofmarket broker txs`` and the status command."""
        fee = self.attempts[-1].max_fee_per_gas if self.attempts else None
        return {
            "id": self.id,
            "sender": self.sender,
            "purpose": str(self.purpose),
            "order_id": self.order_id,
            "request_id": None if self.request_id is None else hex(self.request_id),
            "status": str(self.status),
            "nonce": self.nonce,
            "attempts": len(self.attempts),
            "tx_hash": self.tx_hash,
            "max_fee_per_gas": fee,
            "block_number": self.receipt.block_number if self.receipt else None,
            "gas_used": self.receipt.gas_used if self.receipt else None,
            "fee_wei": self.receipt.fee_wei if self.receipt else None,
            "reconciled": self.reconciled,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class TxOutcome:
    """What the service that queued a transaction learns once it is final."""

    id: int
    status: TxStatus
    tx_hash: str | None
    receipt: TxReceiptInfo | None
    error: str
    error_name: str
    reconciled: bool

    @property
    def ok(self) -> bool:
        return self.status is TxStatus.CONFIRMED

    @classmethod
    def of(cls, record: TxRecord) -> TxOutcome:
        return cls(
            id=record.id,
            status=record.status,
            tx_hash=record.tx_hash,
            receipt=record.receipt,
            error=record.error,
            error_name=record.error_name,
            reconciled=record.reconciled,
        )

"""Typed market events.

Each event of the contract has a frozen dataclass here; :func:`decode_event` turns a web3
decoded log into it. Block number, transaction hash and log index travel along so callers
can resume scans (``from_block``) and link events to transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eth_utils import to_checksum_address

from proofmarket.market.eip712 import EIP712_TYPES
from proofmarket.market.types import ProofRequest, to_plain


@dataclass(frozen=True)
class EventMeta:
    """Where an event was emitted."""

    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class MarketEvent:
    """Base of the typed events."""

    name: ClassVar[str] = ""
    meta: EventMeta

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.name}
        for key, value in self.__dict__.items():
            if key == "meta":
                out.update(
                    blockNumber=value.block_number, txHash=value.tx_hash, logIndex=value.log_index
                )
            elif isinstance(value, bytes):
                out[key] = "0x" + value.hex()
            elif isinstance(value, ProofRequest):
                out[key] = value.to_json_dict()
            elif key == "request_id":
                out[key] = hex(value)
            else:
                out[key] = value
        return out


@dataclass(frozen=True)
class RequestSubmitted(MarketEvent):
    name: ClassVar[str] = "RequestSubmitted"
    request_id: int
    request: ProofRequest
    client_signature: bytes


@dataclass(frozen=True)
class RequestLocked(MarketEvent):
    """A lock, with what an indexer needs without reading the transaction's input."""

    name: ClassVar[str] = "RequestLocked"
    request_id: int
    prover: str
    client: str
    request_digest: bytes
    price: int
    collateral: int
    lock_deadline: int
    deadline: int


@dataclass(frozen=True)
class FulfillmentCommitted(MarketEvent):
    name: ClassVar[str] = "FulfillmentCommitted"
    commitment: bytes
    sender: str


@dataclass(frozen=True)
class RequestFulfilled(MarketEvent):
    name: ClassVar[str] = "RequestFulfilled"
    request_id: int
    prover: str
    request_digest: bytes


@dataclass(frozen=True)
class ProofDelivered(MarketEvent):
    name: ClassVar[str] = "ProofDelivered"
    request_id: int
    prover: str
    request_digest: bytes
    claim_digest: bytes
    image_id: bytes
    journal: bytes
    seal: bytes

    @property
    def carries_journal(self) -> bool:
        """False for fills without data: image ID zero, journal empty (the market refuses
        a fill that carries either without the ImageIdAndJournal data type)."""
        return self.image_id != bytes(32)


@dataclass(frozen=True)
class ProverPaid(MarketEvent):
    """A prover was paid: ``price`` wei from the client (escrowed at lock, or debited now
    for a never-locked request) and its ``collateral_returned``."""

    name: ClassVar[str] = "ProverPaid"
    request_id: int
    prover: str
    client: str
    price: int
    collateral_returned: int


@dataclass(frozen=True)
class ClientRefunded(MarketEvent):
    """A lock's escrowed price went back to the client (lapsed-lock fill or slash)."""

    name: ClassVar[str] = "ClientRefunded"
    request_id: int
    client: str
    amount: int


@dataclass(frozen=True)
class PaymentRequirementsFailed(MarketEvent):
    name: ClassVar[str] = "PaymentRequirementsFailed"
    request_id: int
    reason: str


@dataclass(frozen=True)
class CallbackFailed(MarketEvent):
    name: ClassVar[str] = "CallbackFailed"
    request_id: int
    callback: str
    error: bytes


@dataclass(frozen=True)
class ProverSlashed(MarketEvent):
    name: ClassVar[str] = "ProverSlashed"
    request_id: int
    prover: str
    collateral_burned: int
    collateral_transferred: int
    collateral_recipient: str


@dataclass(frozen=True)
class ProverFrozen(MarketEvent):
    name: ClassVar[str] = "ProverFrozen"
    account: str
    request_id: int


@dataclass(frozen=True)
class ProverUnfrozen(MarketEvent):
    name: ClassVar[str] = "ProverUnfrozen"
    account: str


@dataclass(frozen=True)
class _AccountAmount(MarketEvent):
    """Fields of the four balance events; each subclass only names its event."""

    account: str
    value: int


@dataclass(frozen=True)
class Deposit(_AccountAmount):
    name: ClassVar[str] = "Deposit"


@dataclass(frozen=True)
class Withdrawal(_AccountAmount):
    name: ClassVar[str] = "Withdrawal"


@dataclass(frozen=True)
class StakeDeposit(_AccountAmount):
    name: ClassVar[str] = "StakeDeposit"


@dataclass(frozen=True)
class StakeWithdrawal(_AccountAmount):
    name: ClassVar[str] = "StakeWithdrawal"


EVENT_TYPES: dict[str, type[MarketEvent]] = {
    cls.name: cls
    for cls in (
        RequestSubmitted,
        RequestLocked,
        FulfillmentCommitted,
        RequestFulfilled,
        ProofDelivered,
        ProverPaid,
        ClientRefunded,
        PaymentRequirementsFailed,
        CallbackFailed,
        ProverSlashed,
        ProverFrozen,
        ProverUnfrozen,
        Deposit,
        Withdrawal,
        StakeDeposit,
        StakeWithdrawal,
    )
}


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


_OFFER_FIELDS = tuple(field["name"] for field in EIP712_TYPES["Offer"])  # ABI order


def request_from_abi(value: Any) -> ProofRequest:
    """Build a :class:`ProofRequest` from the ABI-decoded tuple/dict of the contract."""
    data = to_plain(value)
    if isinstance(data, list):  # positional tuple, ABI field order
        rid, requirements, image_url, input_, offer = data
        callback, predicate, selector = requirements
        data = {
            "id": rid,
            "requirements": {
                "callback": {"addr": callback[0], "gasLimit": callback[1]},
                "predicate": {"type": predicate[0], "data": predicate[1]},
                "selector": selector,
            },
            "imageUrl": image_url,
            "input": {"type": input_[0], "data": input_[1]},
            "offer": dict(zip(_OFFER_FIELDS, offer, strict=True)),
        }
    else:
        requirements = data["requirements"]
        predicate = requirements["predicate"]
        data = {
            **data,
            "requirements": {
                **requirements,
                "predicate": {"type": predicate["predicateType"], "data": predicate["data"]},
            },
            "input": {"type": data["input"]["inputType"], "data": data["input"]["data"]},
        }
    return ProofRequest.model_validate(data)


def decode_event(log: Any) -> MarketEvent:
    """Turn a web3 decoded event (``EventData``) into its typed dataclass."""
    name = log["event"]
    cls = EVENT_TYPES.get(name)
    if cls is None:
        raise KeyError(f"unknown market event {name!r}")
    tx_hash = log["transactionHash"]
    meta = EventMeta(
        block_number=int(log["blockNumber"]),
        tx_hash=tx_hash.to_0x_hex() if hasattr(tx_hash, "to_0x_hex") else str(tx_hash),
        log_index=int(log["logIndex"]),
    )
    fields: dict[str, Any] = {}
    for key, value in log["args"].items():
        field = _snake(key)
        if field == "request":
            fields[field] = request_from_abi(value)
        elif isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            fields[field] = to_checksum_address(value)
        elif isinstance(value, bytes | bytearray):
            fields[field] = bytes(value)
        else:
            fields[field] = value
    return cls(meta=meta, **fields)

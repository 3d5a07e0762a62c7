"""Typed off-chain mirrors of the market's structs.

Field names are snake_case in Python and camelCase (the contract's names) in YAML/JSON and
ABI dictionaries, so a request file reads like the contract struct. Byte fields accept
``0x``-hex strings; integers accept decimal or ``0x`` strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import IntEnum
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_serializer,
    field_validator,
)
from pydantic.alias_generators import to_camel

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.request_id import RequestId

UINT256_MAX = (1 << 256) - 1
UINT96_MAX = (1 << 96) - 1
UINT64_MAX = (1 << 64) - 1
UINT32_MAX = (1 << 32) - 1
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_HEX_RE = re.compile(r"^(0x)?[0-9a-fA-F]*$")


def parse_hex(value: Any, what: str = "value") -> bytes:
    """Decode ``0x``-prefixed (or bare) hex text into bytes, with a precise error."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if not isinstance(value, str):
        raise InvalidRequestError(f"{what} must be hex text or bytes, got {type(value).__name__}")
    text = value.strip()
    if not _HEX_RE.match(text):
        raise InvalidRequestError(f"{what} is not valid hex: {value!r}")
    digits = text[2:] if text.startswith("0x") else text
    if len(digits) % 2:
        raise InvalidRequestError(f"{what} has an odd number of hex digits: {value!r}")
    return bytes.fromhex(digits)


def _hex_bytes(value: Any) -> bytes:
    return parse_hex(value)


def _fixed(length: int) -> Any:
    def check(value: bytes) -> bytes:
        if len(value) != length:
            raise ValueError(f"expected {length} bytes, got {len(value)}")
        return value

    return check


def _to_hex(value: bytes) -> str:
    return "0x" + value.hex()


def _address(value: Any) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an Ethereum address: {value!r}")
    return to_checksum_address(value)


def _int(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError as exc:
            raise ValueError(f"not an integer: {value!r}") from exc
    return value


HexBytes = Annotated[
    bytes, BeforeValidator(_hex_bytes), PlainSerializer(_to_hex, when_used="json-unless-none")
]
Bytes32 = Annotated[
    bytes,
    BeforeValidator(_hex_bytes),
    AfterValidator(_fixed(32)),
    PlainSerializer(_to_hex, when_used="json-unless-none"),
]
Bytes4 = Annotated[
    bytes,
    BeforeValidator(_hex_bytes),
    AfterValidator(_fixed(4)),
    PlainSerializer(_to_hex, when_used="json-unless-none"),
]
Address = Annotated[str, BeforeValidator(_address)]
Uint256 = Annotated[int, BeforeValidator(_int), Field(ge=0, le=UINT256_MAX)]
Uint96 = Annotated[int, BeforeValidator(_int), Field(ge=0, le=UINT96_MAX)]
Uint64 = Annotated[int, BeforeValidator(_int), Field(ge=0, le=UINT64_MAX)]
Uint32 = Annotated[int, BeforeValidator(_int), Field(ge=0, le=UINT32_MAX)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class PredicateType(IntEnum):
    """How a fulfilment's journal/claim is checked against the request."""

    DIGEST_MATCH = 0
    PREFIX_MATCH = 1
    CLAIM_DIGEST_MATCH = 2

    @classmethod
    def parse(cls, value: Any) -> PredicateType:
        if isinstance(value, PredicateType):
            return value
        if isinstance(value, int):
            return cls(value)
        key = str(value).strip().replace("-", "_").replace(" ", "_")
        aliases = {
            "digestmatch": cls.DIGEST_MATCH,
            "digest_match": cls.DIGEST_MATCH,
            "prefixmatch": cls.PREFIX_MATCH,
            "prefix_match": cls.PREFIX_MATCH,
            "claimdigestmatch": cls.CLAIM_DIGEST_MATCH,
            "claim_digest_match": cls.CLAIM_DIGEST_MATCH,
        }
        try:
            return aliases[key.lower()]
        except KeyError:
            raise ValueError(
                f"unknown predicate type {value!r} (use DigestMatch, PrefixMatch or "
                "ClaimDigestMatch)"
            ) from None


class InputType(IntEnum):
    """Whether the input bytes are in the request or behind a URL."""

    INLINE = 0
    URL = 1

    @classmethod
    def parse(cls, value: Any) -> InputType:
        if isinstance(value, InputType):
            return value
        if isinstance(value, int):
            return cls(value)
        key = str(value).strip().lower()
        if key == "inline":
            return cls.INLINE
        if key == "url":
            return cls.URL
        raise ValueError(f"unknown input type {value!r} (use inline or url)")


def _enum_name(value: IntEnum) -> str:
    return "".join(part.capitalize() for part in value.name.split("_"))


class Predicate(_Model):
    """``predicateType`` plus its data (see :mod:`proofmarket.market.predicates`)."""

    predicate_type: Annotated[
        PredicateType,
        BeforeValidator(PredicateType.parse),
        PlainSerializer(_enum_name, when_used="json"),
    ] = Field(alias="type")
    data: HexBytes


class Callback(_Model):
    """Contract called with the proof on fulfilment; ``addr`` zero means none."""

    addr: Address = ZERO_ADDRESS
    gas_limit: Uint96 = 0


class Requirements(_Model):
    """What a fulfilment must prove: a predicate on the claim, an optional callback and a
    proof selector (``0x00000000`` accepts any verifier)."""

    predicate: Predicate
    callback: Callback = Callback()
    selector: Bytes4 = b"\x00\x00\x00\x00"

    @property
    def image_id(self) -> bytes | None:
        """The image ID a DigestMatch/PrefixMatch predicate names (None for ClaimDigestMatch)."""
        if self.predicate.predicate_type == PredicateType.CLAIM_DIGEST_MATCH:
            return None
        return self.predicate.data[:32]


class RequestInput(_Model):
    """The guest input: inline bytes, or (``url``) the UTF-8 URL where they can be fetched."""

    input_type: Annotated[
        InputType,
        BeforeValidator(InputType.parse),
        PlainSerializer(lambda v: v.name.lower(), when_used="json"),
    ] = Field(alias="type")
    data: bytes

    @field_validator("data", mode="before")
    @classmethod
    def _decode_data(cls, value: Any, info: Any) -> bytes:
        input_type = info.data.get("input_type")
        if input_type == InputType.URL and isinstance(value, str) and not value.startswith("0x"):
            return value.encode()
        return parse_hex(value, "input data")

    @property
    def url(self) -> str:
        if self.input_type != InputType.URL:
            raise InvalidRequestError("inline input has no URL")
        return self.data.decode()

    @classmethod
    def inline(cls, data: bytes) -> RequestInput:
        return cls(type=InputType.INLINE, data=data)

    @classmethod
    def from_url(cls, url: str) -> RequestInput:
        return cls(type=InputType.URL, data=url.encode())

    @field_serializer("data", when_used="json")
    def _encode_data(self, data: bytes) -> str:
        """JSON form: the URL as text, inline bytes as 0x-hex (they need not be UTF-8)."""
        if self.input_type == InputType.URL:
            return data.decode("utf-8", "replace")
        return _to_hex(data)

    def model_dump_json_friendly(self) -> dict[str, Any]:
        if self.input_type == InputType.URL:
            return {"type": "url", "data": self.url}
        return {"type": "inline", "data": _to_hex(self.data)}


class Offer(_Model):
    """The reverse-Dutch-auction offer (prices in wei, times in unix seconds / seconds)."""

    min_price: Uint256
    max_price: Uint256
    ramp_up_start: Uint64
    ramp_up_period: Uint32
    lock_timeout: Uint32
    timeout: Uint32
    lock_collateral: Uint256

    @property
    def lock_deadline(self) -> int:
        return self.ramp_up_start + self.lock_timeout

    @property
    def deadline(self) -> int:
        return self.ramp_up_start + self.timeout


def _request_id(value: Any) -> int:
    if isinstance(value, RequestId):
        return value.value
    if isinstance(value, str):
        return RequestId.parse(value).value
    return int(value)


class ProofRequest(_Model):
    """A proof request as the contract sees it."""

    id: Annotated[
        int,
        BeforeValidator(_request_id),
        Field(ge=0, le=UINT256_MAX),
        PlainSerializer(hex, when_used="json"),
    ]
    requirements: Requirements
    image_url: str
    input: RequestInput
    offer: Offer

    @property
    def request_id(self) -> RequestId:
        return RequestId.from_int(self.id)

    @property
    def client(self) -> str:
        return self.request_id.client

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON/YAML-ready dict with camelCase keys and readable enums and URLs."""
        data = self.model_dump(mode="json", by_alias=True)
        data["input"] = self.input.model_dump_json_friendly()
        return data


class FulfillmentDataType(IntEnum):
    """What a fulfilment carries besides the seal."""

    NONE = 0
    IMAGE_ID_AND_JOURNAL = 1


class Fulfillment(_Model):
    """A delivered proof for one request: the signed request, its image ID and journal
    (when ``fulfillmentDataType`` is ImageIdAndJournal) and the verifier seal."""

    request: ProofRequest
    client_signature: HexBytes
    fulfillment_data_type: Annotated[
        FulfillmentDataType,
        BeforeValidator(lambda v: FulfillmentDataType(int(v))),
        PlainSerializer(_enum_name, when_used="json"),
    ] = FulfillmentDataType.IMAGE_ID_AND_JOURNAL
    image_id: Bytes32 = b"\x00" * 32
    journal: HexBytes = b""
    seal: HexBytes

    @property
    def request_id(self) -> RequestId:
        return self.request.request_id


def to_plain(value: Any) -> Any:
    """Turn web3's AttributeDicts/tuples into plain dicts and lists, recursively."""
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value

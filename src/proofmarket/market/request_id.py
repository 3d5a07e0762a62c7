"""Request IDs: ``(client << 32) | index``, plus a flag for smart-contract signed requests.

Mirrors Boundless ``RequestId``: the low 32 bits are a per-client index, bits 32..191 the
client address, bit 192 marks requests whose signature is checked with ERC-1271. Any higher
bit makes the ID invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from proofmarket.market.errors import InvalidRequestIdError

INDEX_BITS = 32
MAX_INDEX = (1 << INDEX_BITS) - 1
SMART_CONTRACT_SIGNATURE_FLAG = 1 << 192
_ADDRESS_MASK = (1 << 160) - 1


@dataclass(frozen=True)
class RequestId:
    """A decoded request ID."""

    client: str
    index: int
    smart_contract_signed: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.index <= MAX_INDEX:
            raise InvalidRequestIdError(f"request index {self.index} is outside 0..{MAX_INDEX}")
        try:
            checksummed = to_checksum_address(self.client)
        except ValueError as exc:
            raise InvalidRequestIdError(f"bad client address {self.client!r}: {exc}") from exc
        object.__setattr__(self, "client", checksummed)

    @property
    def value(self) -> int:
        """The uint256 the contract uses."""
        raw = (int(self.client, 16) << INDEX_BITS) | self.index
        return raw | SMART_CONTRACT_SIGNATURE_FLAG if self.smart_contract_signed else raw

    def __int__(self) -> int:
        return self.value

    def hex(self) -> str:
        return hex(self.value)

    def __str__(self) -> str:
        return self.hex()

    @classmethod
    def from_int(cls, value: int) -> RequestId:
        """Decode a uint256 request ID; rejects negative values and reserved bits."""
        if value < 0:
            raise InvalidRequestIdError(f"request ID must not be negative: {value}")
        if value >> 193:
            raise InvalidRequestIdError(f"request ID {value:#x} has bits above 192 set")
        client = (value >> INDEX_BITS) & _ADDRESS_MASK
        return cls(
            client=f"0x{client:040x}",
            index=value & MAX_INDEX,
            smart_contract_signed=bool(value & SMART_CONTRACT_SIGNATURE_FLAG),
        )

    @classmethod
    def parse(cls, text: str | int) -> RequestId:
        """Parse ``0x``-hex or decimal text (or an int) into a request ID."""
        if isinstance(text, int):
            return cls.from_int(text)
        raw = text.strip()
        try:
            value = int(raw, 16) if raw.lower().startswith("0x") else int(raw, 10)
        except ValueError as exc:
            raise InvalidRequestIdError(
                f"request ID {text!r} is neither 0x-hex nor a decimal integer"
            ) from exc
        return cls.from_int(value)

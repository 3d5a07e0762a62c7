"""The subscriber handshake: prove control of an address without replay.

A broker asks ``GET /api/v1/nonce/{address}`` for a one-time nonce, signs the login message
below (EIP-191 ``personal_sign``) and opens ``/ws/v1/orders`` with the signature in the
``X-Auth-Data`` header. The message names the stream (market address and chain ID), so a
login for one deployment is useless on another; the nonce is deleted when used and expires
after ``nonce_ttl``; the timestamp must be within ``max_clock_skew`` of the server's clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_address, to_checksum_address

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.types import parse_hex
from proofmarket.orderstream.errors import Unauthorized

AUTH_HEADER = "X-Auth-Data"
LOGIN_TITLE = "proofmarket order stream login"


def login_message(market: str, chain_id: int, address: str, nonce: str, timestamp: int) -> str:
    """The exact text a subscriber signs."""
    return (
        f"{LOGIN_TITLE}\n"
        f"market: {to_checksum_address(market)}\n"
        f"chain id: {chain_id}\n"
        f"address: {to_checksum_address(address)}\n"
        f"nonce: {nonce}\n"
        f"timestamp: {timestamp}"
    )


@dataclass(frozen=True)
class AuthData:
    """What the ``X-Auth-Data`` header carries (JSON)."""

    address: str
    nonce: str
    timestamp: int
    signature: bytes

    def header(self) -> str:
        return json.dumps(
            {
                "address": self.address,
                "nonce": self.nonce,
                "timestamp": self.timestamp,
                "signature": "0x" + self.signature.hex(),
            }
        )

    @classmethod
    def parse(cls, text: str | None) -> AuthData:
        if not text:
            raise Unauthorized(f"missing {AUTH_HEADER} header (get a nonce, sign the login)")
        try:
            data: Any = json.loads(text)
            address, nonce = data["address"], data["nonce"]
            timestamp, signature = data["timestamp"], data["signature"]
        except (ValueError, TypeError, KeyError) as exc:
            raise Unauthorized(
                f"{AUTH_HEADER} must be JSON with address, nonce, timestamp, signature: {exc}"
            ) from None
        if not isinstance(address, str) or not is_address(address):
            raise Unauthorized(f"{AUTH_HEADER}: not an address: {address!r}")
        if not isinstance(nonce, str) or not isinstance(timestamp, int):
            raise Unauthorized(f"{AUTH_HEADER}: nonce must be text and timestamp an integer")
        try:
            sig = parse_hex(signature, "signature")
        except InvalidRequestError as exc:
            raise Unauthorized(f"{AUTH_HEADER}: {exc}") from None
        return cls(to_checksum_address(address), nonce, timestamp, sig)

    def signer(self, market: str, chain_id: int) -> str:
        """The address that signed the login message (may differ from ``address``)."""
        message = login_message(market, chain_id, self.address, self.nonce, self.timestamp)
        try:
            return str(
                Account.recover_message(encode_defunct(text=message), signature=self.signature)
            )
        except Exception as exc:  # malformed signature bytes
            raise Unauthorized(f"bad login signature: {exc}") from None


def sign_login(
    private_key: str | bytes, market: str, chain_id: int, nonce: str, timestamp: int
) -> AuthData:
    """Sign the login message for ``nonce`` with a broker's key."""
    account = Account.from_key(private_key)
    message = login_message(market, chain_id, account.address, nonce, timestamp)
    signed = Account.sign_message(encode_defunct(text=message), private_key)
    return AuthData(account.address, nonce, timestamp, bytes(signed.signature))

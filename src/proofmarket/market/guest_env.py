"""Encoding of a request's input bytes (Boundless ``GuestEnv``).

The first byte is a format version; version 0 is followed by the raw bytes the guest reads
from its input (stdin). Provers decode it before running the guest. Other versions (Boundless
V1 is MessagePack) are rejected with a clear error.
"""

from __future__ import annotations

from proofmarket.market.errors import InvalidRequestError

GUEST_ENV_V0 = 0


def encode_guest_env(stdin: bytes) -> bytes:
    """Wrap the guest's input bytes as a version-0 GuestEnv."""
    return bytes([GUEST_ENV_V0]) + bytes(stdin)


def decode_guest_env(data: bytes) -> bytes:
    """The guest's input bytes from an encoded GuestEnv."""
    if not data:
        raise InvalidRequestError("guest input is empty: expected a GuestEnv version byte")
    version = data[0]
    if version != GUEST_ENV_V0:
        raise InvalidRequestError(
            f"unsupported GuestEnv version {version} (only version 0, raw stdin, is supported)"
        )
    return bytes(data[1:])

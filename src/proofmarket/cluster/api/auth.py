"""API keys: ``x-api-key`` names the user; ``v1:reserved:N`` reserves N workers (Bento)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from proofmarket.cluster.api.errors import InvalidApiKey

API_KEY_HEADER = "x-api-key"
DEFAULT_USER = "default_user"
MAX_API_KEY_LEN = 256
MAX_RESERVED = 1024
_RESERVED = re.compile(r"^v1:reserved:(.*)$")


@dataclass(frozen=True)
class Caller:
    user_id: str
    reserved: int


def caller_from_api_key(api_key: str | None) -> Caller:
    """The user id is the key itself (as in Bento); an absent key is ``default_user``."""
    if api_key is None or api_key == "":
        return Caller(DEFAULT_USER, 0)
    if len(api_key) > MAX_API_KEY_LEN or not api_key.isprintable():
        raise InvalidApiKey(f"x-api-key must be at most {MAX_API_KEY_LEN} printable characters")
    match = _RESERVED.match(api_key)
    if match is None:
        return Caller(api_key, 0)
    count = match.group(1)
    if not count.isdecimal() or int(count) > MAX_RESERVED:
        raise InvalidApiKey(
            f"reserved API key {api_key!r} must be v1:reserved:N with 0 <= N <= {MAX_RESERVED}"
        )
    return Caller(api_key, int(count))

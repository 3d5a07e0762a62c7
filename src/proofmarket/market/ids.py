"""Choosing a fresh request index for a client.

An index can be used once, ever (the contract's lock/fulfil flags are permanent), so a new
request needs one nobody has submitted, locked or fulfilled. :func:`next_index` takes the
highest of: one past the client's highest index seen in ``RequestSubmitted`` events, and a
local counter file (which also covers requests sent off-chain); it then skips indexes the
contract reports as locked or fulfilled, and records the result in the counter file.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient
from proofmarket.market.request_id import MAX_INDEX, RequestId

DEFAULT_COUNTER_FILE = ".proofmarket/request-index.json"


def used_indexes(client: MarketClient, owner: str, *, from_block: int = 0) -> set[int]:
    """Indexes of ``owner``'s requests broadcast with ``submitRequest`` since ``from_block``."""
    found: set[int] = set()
    for event in client.iter_events(ev.RequestSubmitted, from_block=from_block):
        rid = RequestId.from_int(event.request_id)
        if rid.client == owner:
            found.add(rid.index)
    return found


def _counter_key(client: MarketClient, owner: str) -> str:
    return f"{client.chain_id}:{client.address}:{owner}"


def next_index(
    client: MarketClient,
    owner: str | None = None,
    *,
    from_block: int = 0,
    counter_file: str | Path | None = DEFAULT_COUNTER_FILE,
    scan_chain: bool = True,
) -> int:
    """A request index for ``owner`` (default: the client's signer) that is still unused."""
    who = RequestId(owner or client.signer.address, 0).client
    candidate = 0
    if scan_chain:
        used = used_indexes(client, who, from_block=from_block)
        candidate = max(used) + 1 if used else 0
    if counter_file is None:
        return _skip_used(client, who, candidate)
    path = Path(counter_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        try:
            counters = json.loads(text) if text.strip() else {}
        except ValueError:
            counters = {}
        key = _counter_key(client, who)
        candidate = max(candidate, int(counters.get(key, 0)))
        index = _skip_used(client, who, candidate)
        counters[key] = index + 1
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(counters, indent=2, sort_keys=True))
    return index


def _skip_used(client: MarketClient, owner: str, index: int) -> int:
    while index <= MAX_INDEX:
        rid = RequestId(owner, index)
        if not client.request_is_locked(rid) and not client.request_is_fulfilled(rid):
            return index
        index += 1
    raise OverflowError(f"no free request index left for {owner}")

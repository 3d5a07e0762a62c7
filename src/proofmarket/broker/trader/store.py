"""Where the transaction queue lives: one interface, three durable backends.

``sqlite:///path`` (the default; may share the broker's database file), ``postgresql://…``
and ``redis://…`` (``?prefix=`` picks a key prefix). A record is written whole (its JSON)
together with the columns the queue filters on, in one statement or one MULTI, so a crash
leaves either the old or the new record, never half of one. The queue keeps no separate
nonce counter: the next nonce comes from the in-flight records and the chain, so it can
never disagree with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

from proofmarket.broker.trader.types import TxRecord, TxStatus


class TxStoreError(RuntimeError):
    """The queue's database is unreachable or its URL is malformed."""


class TxStore(Protocol):
    """Durable storage of :class:`TxRecord` rows."""

    url: str

    def insert(self, record: TxRecord) -> TxRecord:
        """Store a new record; sets and returns it with its ``id``."""
        ...

    def save(self, record: TxRecord) -> None:
        """Replace a stored record (same ``id``)."""
        ...

    def get(self, tx_id: int) -> TxRecord | None: ...

    def find_idempotent(self, sender: str, key: str) -> TxRecord | None:
        """The newest record of ``sender`` queued with this idempotency key."""
        ...

    def list(
        self,
        sender: str | None = None,
        statuses: Sequence[TxStatus] | None = None,
        limit: int | None = None,
    ) -> list[TxRecord]:
        """Records oldest first (the newest ``limit`` of them when a limit is given)."""
        ...

    def claim_lease(
        self, sender: str, owner: str, ttl: float, *, force: bool = False
    ) -> str | None:
        """Hold ``sender``'s queue loop for ``ttl`` seconds (or renew it). Returns None when
        ``owner`` holds it now, else the current holder. ``force`` takes it over."""
        ...

    def release_lease(self, sender: str, owner: str) -> None: ...

    def close(self) -> None: ...


def open_store(url: str) -> TxStore:
    """Open the store a URL names (``sqlite:///…``, ``postgresql://…``, ``redis://…``)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from proofmarket.broker.trader.store_sqlite import SqliteTxStore

        return SqliteTxStore.from_url(url)
    if scheme in ("postgres", "postgresql"):
        from proofmarket.broker.trader.store_postgres import PostgresTxStore

        return PostgresTxStore(url)
    if scheme in ("redis", "rediss"):
        from proofmarket.broker.trader.store_redis import RedisTxStore

        return RedisTxStore.from_url(url)
    raise TxStoreError(
        f"unsupported transaction store URL {url!r}: use sqlite:///PATH, "
        "postgresql://… or redis://…"
    )

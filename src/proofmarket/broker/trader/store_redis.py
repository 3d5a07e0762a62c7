"""The Redis transaction store.

Keys under a prefix (``?prefix=`` in the URL, default ``proofmarket:trader``):
``{p}:seq`` (id counter), ``{p}:tx:{id}`` (the record's JSON), ``{p}:ids`` (sorted set of
every id), ``{p}:sender:{addr}`` (sorted set of that sender's ids), ``{p}:st:{addr}:{status}``
(set of that sender's ids in a status), ``{p}:idem:{addr}:{key}`` (newest id for an
idempotency key). A record and its indexes change in one MULTI/EXEC. Durability is Redis's:
run it with AOF (``appendonly yes``) when the queue must survive a Redis restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from proofmarket.broker.trader.store import TxStoreError
from proofmarket.broker.trader.types import TxRecord, TxStatus

DEFAULT_PREFIX = "proofmarket:trader"

# Claim or renew a lease atomically: free, ours, or forced → set with a TTL; else return
# the holder.
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] or ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return holder
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def _as_int(value: object) -> int:
    return int(value.decode() if isinstance(value, bytes) else str(value))


class RedisTxStore:
    """Records as JSON strings with sorted-set indexes."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX, url: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.url = url
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise TxStoreError(f"cannot reach the transaction store {url}: {exc}") from exc
        self._claim = self.client.register_script(_CLAIM)
        self._release = self.client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> RedisTxStore:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        prefix = query.pop("prefix", DEFAULT_PREFIX)
        plain = urlunsplit(parts._replace(query=urlencode(query)))
        try:
            client = redis.Redis.from_url(plain, socket_timeout=10)
        except ValueError as exc:
            raise TxStoreError(f"malformed Redis URL {url!r}: {exc}") from exc
        return cls(client, prefix, url)

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def _write(self, record: TxRecord) -> None:
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(self._key("tx", record.id), record.to_json())
            pipe.zadd(self._key("ids"), {str(record.id): record.id})
            pipe.zadd(self._key("sender", record.sender), {str(record.id): record.id})
            for status in TxStatus:
                pipe.srem(self._key("st", record.sender, status), str(record.id))
            pipe.sadd(self._key("st", record.sender, record.status), str(record.id))
            if record.idempotency_key:
                pipe.set(self._key("idem", record.sender, record.idempotency_key), record.id)
            pipe.execute()
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc

    def insert(self, record: TxRecord) -> TxRecord:
        try:
            record.id = int(self.client.incr(self._key("seq")))  # type: ignore[arg-type]
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc
        self._write(record)
        return record

    def save(self, record: TxRecord) -> None:
        self._write(record)

    def _load(self, ids: Sequence[object]) -> list[TxRecord]:
        if not ids:
            return []
        try:
            values = self.client.mget([self._key("tx", _as_int(i)) for i in ids])
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc
        return [TxRecord.from_json(v) for v in values if v is not None]  # type: ignore[union-attr]

    def get(self, tx_id: int) -> TxRecord | None:
        found = self._load([tx_id])
        return found[0] if found else None

    def find_idempotent(self, sender: str, key: str) -> TxRecord | None:
        try:
            tx_id = self.client.get(self._key("idem", sender, key))
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc
        return None if tx_id is None else self.get(int(tx_id))  # type: ignore[arg-type]

    def list(
        self,
        sender: str | None = None,
        statuses: Sequence[TxStatus] | None = None,
        limit: int | None = None,
    ) -> list[TxRecord]:
        index = self._key("ids") if sender is None else self._key("sender", sender)
        try:
            if sender is not None and statuses:
                members = self.client.sunion([self._key("st", sender, s) for s in statuses])
                ids: list[object] = [int(m) for m in sorted(members, key=int)]  # type: ignore[arg-type]
            else:
                ids = list(self.client.zrange(index, 0, -1))  # type: ignore[arg-type]
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc
        records = self._load(ids)
        if statuses:
            wanted = set(statuses)
            records = [r for r in records if r.status in wanted]
        return records[max(0, len(records) - limit) :] if limit is not None else records

    def claim_lease(
        self, sender: str, owner: str, ttl: float, *, force: bool = False
    ) -> str | None:
        try:
            holder = self._claim(
                keys=[self._key("lease", sender)],
                args=[owner, max(1, int(ttl * 1000)), "1" if force else "0"],
            )
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc
        if holder is None:
            return None
        return holder.decode() if isinstance(holder, bytes) else str(holder)

    def release_lease(self, sender: str, owner: str) -> None:
        try:
            self._release(keys=[self._key("lease", sender)], args=[owner])
        except redis.RedisError as exc:
            raise TxStoreError(f"transaction store {self.url}: {exc}") from exc

    def close(self) -> None:
        self.client.close()

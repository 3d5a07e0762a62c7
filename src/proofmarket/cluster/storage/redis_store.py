"""Redis segment store: ``SET key value EX ttl`` like Bento (default TTL 8 h)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from proofmarket.cluster.storage.defaults import DEFAULT_REDIS_TTL
from proofmarket.cluster.storage.errors import ObjectMissing, StorageUnavailable
from proofmarket.cluster.storage.keys import job_prefix


class RedisSegmentStore:
    """Segments and recursion receipts in Redis; keys expire after ``ttl`` seconds.

    ``prefix`` namespaces every key (e.g. to share one Redis between clusters or tests).
    """

    def __init__(self, url: str, *, ttl: int = DEFAULT_REDIS_TTL, prefix: str = "") -> None:
        if ttl <= 0:
            raise ValueError(f"redis ttl must be positive, got {ttl}")
        self.url = url
        self.ttl = ttl
        self.prefix = prefix
        # A stalled server must not hold an agent for long: the caller backs off and retries.
        self._redis: Any = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StorageUnavailable(f"redis {what} failed: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        self._call("SET", lambda: self._redis.set(self._k(key), data, ex=self.ttl))

    def get(self, key: str) -> bytes:
        value = self._call("GET", self._redis.get, self._k(key))
        if value is None:
            raise ObjectMissing(key)
        return bytes(value)

    def exists(self, key: str) -> bool:
        return bool(self._call("EXISTS", self._redis.exists, self._k(key)))

    def delete(self, key: str) -> None:
        self._call("DEL", self._redis.delete, self._k(key))

    def delete_job(self, job_id: str) -> int:
        pattern = self._k(job_prefix(job_id)) + "*"

        def scan_and_delete() -> int:
            removed = 0
            batch: list[bytes] = []
            for key in self._redis.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    removed += int(self._redis.delete(*batch))
                    batch = []
            if batch:
                removed += int(self._redis.delete(*batch))
            return removed

        return int(self._call("SCAN/DEL", scan_and_delete))

    def purge_older_than(self, age_secs: float) -> int:
        del age_secs  # keys carry their own TTL
        return 0

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisSegmentStore(ttl={self.ttl})"

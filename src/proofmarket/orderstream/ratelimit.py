"""Token-bucket rate limits per key (an IP address or a requestor address).

Each key gets ``burst`` tokens that refill at ``per_minute / 60`` per second; a call takes
one token or is refused with the time until the next one. Buckets idle long enough to be
full again are forgotten, so memory stays bounded by the number of recent callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from proofmarket.orderstream.errors import RateLimited

PRUNE_EVERY = 1024


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``check(key, what)`` takes a token for ``key`` or raises :class:`RateLimited`."""

    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._calls = 0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def check(self, key: str, what: str) -> None:
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            self._calls += 1
            if self._calls % PRUNE_EVERY == 0:
                self._prune(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = (1.0 - bucket.tokens) / self.rate
        raise RateLimited(
            f"rate limit for {what} exceeded ({self.rate * 60:g}/minute, burst "
            f"{self.burst:g}); retry in {wait:.1f} s",
            retry_after=wait,
        )

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        stale = [k for k, b in self._buckets.items() if now - b.updated > full_after]
        for key in stale:
            del self._buckets[key]

"""Stores that wait out transient outages (Redis refused or stalled, S3 unreachable).

Agents wrap their stores in these so a storage hiccup is treated like a database one:
back off and try again, keeping the claimed task (its heartbeats go on meanwhile),
instead of burning the task's retry budget in milliseconds. Only
:class:`StorageUnavailable` is retried; missing keys, bad keys and other errors are
permanent and pass straight through. Every store operation is idempotent (put of the
same bytes, get, exists, delete), so repeating one is safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from proofmarket.cluster.storage.base import ObjectStore, SegmentStore
from proofmarket.cluster.storage.errors import StorageUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for transient storage errors: ``initial`` doubling up to ``maximum``
    seconds between attempts, giving up (re-raising) after ``max_wait`` seconds."""

    initial: float = 0.1
    maximum: float = 1.0
    max_wait: float = 60.0

    def run(self, what: str, fn: Callable[[], T], should_stop: Callable[[], bool]) -> T:
        delay = self.initial
        deadline = time.monotonic() + self.max_wait
        while True:
            try:
                return fn()
            except StorageUnavailable as exc:
                if time.monotonic() + delay > deadline or should_stop():
                    raise
                log.warning("%s: storage unavailable (%s); retrying in %.1fs", what, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self.maximum)


def _never() -> bool:
    return False


class _RetryingStore:
    """The calls both store kinds share, each waiting out :class:`StorageUnavailable`."""

    kind = "store"

    def __init__(
        self,
        inner: SegmentStore | ObjectStore,
        policy: RetryPolicy | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> None:
        self._inner = inner
        self.policy = policy or RetryPolicy()
        self._should_stop = should_stop

    def _run(self, what: str, fn: Callable[[], T]) -> T:
        return self.policy.run(f"{self.kind} {what}", fn, self._should_stop)

    def put(self, key: str, data: bytes) -> None:
        self._run(f"put {key}", lambda: self._inner.put(key, data))

    def get(self, key: str) -> bytes:
        return self._run(f"get {key}", lambda: self._inner.get(key))

    def exists(self, key: str) -> bool:
        return self._run(f"exists {key}", lambda: self._inner.exists(key))

    def close(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return f"Retrying({self._inner!r})"


class RetryingSegmentStore(_RetryingStore):
    """A :class:`SegmentStore` whose calls wait out :class:`StorageUnavailable`."""

    kind = "segment store"

    def __init__(
        self,
        inner: SegmentStore,
        policy: RetryPolicy | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> None:
        super().__init__(inner, policy, should_stop)
        self.inner = inner

    def delete(self, key: str) -> None:
        self._run(f"delete {key}", lambda: self.inner.delete(key))

    def delete_job(self, job_id: str) -> int:
        return self._run(f"delete job {job_id}", lambda: self.inner.delete_job(job_id))

    def purge_older_than(self, age_secs: float) -> int:
        return self._run("purge", lambda: self.inner.purge_older_than(age_secs))


class RetryingObjectStore(_RetryingStore):
    """An :class:`ObjectStore` whose calls wait out :class:`StorageUnavailable`."""

    kind = "object store"

    def __init__(
        self,
        inner: ObjectStore,
        policy: RetryPolicy | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> None:
        super().__init__(inner, policy, should_stop)
        self.inner = inner

    def delete(self, key: str) -> bool:
        return self._run(f"delete {key}", lambda: self.inner.delete(key))

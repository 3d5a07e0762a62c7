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


class RetryingSegmentStore:
    """A :class:`SegmentStore` whose calls wait out :class:`StorageUnavailable`."""

    def __init__(
        self,
        inner: SegmentStore,
        policy: RetryPolicy | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self._should_stop = should_stop

    def _run(self, what: str, fn: Callable[[], T]) -> T:
        return self.policy.run(what, fn, self._should_stop)

    def put(self, key: str, data: bytes) -> None:
        self._run(f"segment put {key}", lambda: self.inner.put(key, data))

    def get(self, key: str) -> bytes:
        return self._run(f"segment get {key}", lambda: self.inner.get(key))

    def exists(self, key: str) -> bool:
        return self._run(f"segment exists {key}", lambda: self.inner.exists(key))

    def delete(self, key: str) -> None:
        self._run(f"segment delete {key}", lambda: self.inner.delete(key))

    def delete_job(self, job_id: str) -> int:
        return self._run(f"segment delete job {job_id}", lambda: self.inner.delete_job(job_id))

    def purge_older_than(self, age_secs: float) -> int:
        return self._run("segment purge", lambda: self.inner.purge_older_than(age_secs))

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"Retrying({self.inner!r})"


class RetryingObjectStore:
    """An :class:`ObjectStore` whose calls wait out :class:`StorageUnavailable`."""

    def __init__(
        self,
        inner: ObjectStore,
        policy: RetryPolicy | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self._should_stop = should_stop

    def _run(self, what: str, fn: Callable[[], T]) -> T:
        return self.policy.run(what, fn, self._should_stop)

    def put(self, key: str, data: bytes) -> None:
        self._run(f"object put {key}", lambda: self.inner.put(key, data))

    def get(self, key: str) -> bytes:
        return self._run(f"object get {key}", lambda: self.inner.get(key))

    def exists(self, key: str) -> bool:
        return self._run(f"object exists {key}", lambda: self.inner.exists(key))

    def delete(self, key: str) -> bool:
        return self._run(f"object delete {key}", lambda: self.inner.delete(key))

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"Retrying({self.inner!r})"

"""The two storage interfaces the cluster codes against.

*Segment store*: hot, per-job intermediate data (segments, recursion receipts, the
journal) that agents hand to each other; Redis with a TTL or the filesystem.
*Object store*: durable blobs (ELF images, inputs, final receipts, preflight journals,
execution logs) served by the REST API; S3 protocol or the filesystem.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class SegmentStore(Protocol):
    """Key/value store for a job's intermediate data (keys from ``storage.keys``)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes:
        """Return the value; raise ``ObjectMissing`` if absent (or expired)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def delete_job(self, job_id: str) -> int:
        """Remove every key of a job; return how many were removed."""
        ...

    def purge_older_than(self, age_secs: float) -> int:
        """Drop jobs whose data is older than ``age_secs`` (Redis expires keys itself)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ObjectStore(Protocol):
    """Blob store addressed by slash-separated keys (``elfs/{image_id}`` ...)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes:
        """Return the object; raise ``ObjectMissing`` if absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool:
        """Remove the object; return False if it did not exist."""
        ...

    def close(self) -> None: ...

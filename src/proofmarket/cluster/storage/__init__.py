"""Cluster storage: a segment store (Redis or filesystem) and an object store (S3 or
filesystem), each behind one interface and selected by URL.

The Redis and S3 back-ends (and so redis and boto3) are imported only when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofmarket.cluster.storage import keys
from proofmarket.cluster.storage.base import ObjectStore, SegmentStore
from proofmarket.cluster.storage.defaults import (
    DEFAULT_REDIS_TTL,
    DEFAULT_S3_BUCKET,
    DEFAULT_S3_REGION,
)
from proofmarket.cluster.storage.errors import (
    InvalidKey,
    InvalidStorageUrl,
    ObjectMissing,
    StorageError,
    StorageUnavailable,
)
from proofmarket.cluster.storage.fs import FsObjectStore, FsSegmentStore
from proofmarket.cluster.storage.retry import RetryingObjectStore, RetryingSegmentStore, RetryPolicy

if TYPE_CHECKING:
    from proofmarket.cluster.storage.redis_store import RedisSegmentStore
    from proofmarket.cluster.storage.s3 import S3ObjectStore

_LAZY = {
    "RedisSegmentStore": "proofmarket.cluster.storage.redis_store",
    "S3ObjectStore": "proofmarket.cluster.storage.s3",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_REDIS_TTL",
    "DEFAULT_S3_BUCKET",
    "DEFAULT_S3_REGION",
    "FsObjectStore",
    "FsSegmentStore",
    "InvalidKey",
    "InvalidStorageUrl",
    "ObjectMissing",
    "ObjectStore",
    "RedisSegmentStore",
    "RetryPolicy",
    "RetryingObjectStore",
    "RetryingSegmentStore",
    "S3ObjectStore",
    "SegmentStore",
    "StorageError",
    "StorageUnavailable",
    "keys",
    "open_object_store",
    "open_segment_store",
]


def _fs_path(url: str) -> Path:
    if url.startswith("file://"):
        path = url[len("file://") :]
        if not path:
            raise InvalidStorageUrl(f"file URL without a path: {url!r}")
        return Path(path)
    if "://" in url:
        raise InvalidStorageUrl(
            f"unsupported storage URL {url!r}: expected redis://, rediss://, http(s):// "
            "(S3 endpoint), file:// or a directory path"
        )
    return Path(url)


def open_segment_store(
    url: str, *, redis_ttl: int = DEFAULT_REDIS_TTL, redis_prefix: str = ""
) -> SegmentStore:
    """``redis://host:6379/0`` (or ``rediss://``, ``unix://``) → Redis; else a directory."""
    if not url:
        raise InvalidStorageUrl("empty segment store URL")
    if url.startswith(("redis://", "rediss://", "unix://")):
        from proofmarket.cluster.storage.redis_store import RedisSegmentStore

        return RedisSegmentStore(url, ttl=redis_ttl, prefix=redis_prefix)
    return FsSegmentStore(_fs_path(url))


def open_object_store(
    url: str,
    *,
    bucket: str = DEFAULT_S3_BUCKET,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str = DEFAULT_S3_REGION,
    create_bucket: bool = False,
) -> ObjectStore:
    """``http(s)://endpoint`` → S3 bucket ``bucket`` at that endpoint; else a directory."""
    if not url:
        raise InvalidStorageUrl("empty object store URL")
    if url.startswith(("http://", "https://")):
        from proofmarket.cluster.storage.s3 import S3ObjectStore

        return S3ObjectStore(
            url,
            bucket=bucket,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            create_bucket=create_bucket,
        )
    return FsObjectStore(_fs_path(url))

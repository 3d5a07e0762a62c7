"""Errors raised by the cluster's segment and object stores."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for storage failures."""


class ObjectMissing(StorageError):
    """The requested key does not exist in the store."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object not found: {key}")
        self.key = key


class InvalidStorageUrl(StorageError):
    """A storage URL names an unknown scheme or lacks a required part."""


class InvalidKey(StorageError):
    """A key would escape the store's namespace (e.g. '..' or an absolute path)."""


class StorageUnavailable(StorageError):
    """The backing service (Redis, S3 endpoint) cannot be reached."""

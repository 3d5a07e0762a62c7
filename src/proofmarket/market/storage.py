"""Where programs and inputs live: upload them somewhere provers can fetch, get a URL back.

Three providers, chosen like Boundless with ``STORAGE_PROVIDER``:

* ``file`` (default): a directory on this machine, ``file://`` URLs. Good for one machine.
* ``s3``: any S3-compatible server (AWS, MinIO...) through boto3; returns a presigned
  ``http(s)://`` URL (default) or a plain ``s3://bucket/key`` URL.
* ``http``: a plain HTTP server that accepts ``PUT`` (see :mod:`.http_store`); returns the
  URL the object was put to.

Objects are content-addressed (``<kind>/<sha256>``), so uploading the same bytes twice gives
the same URL. :func:`fetch_url` downloads ``file://``, ``http(s)://`` and ``s3://`` URLs with a
size limit.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from proofmarket.market.errors import ConfigError, MarketError

DEFAULT_MAX_FETCH_BYTES = 50_000_000
"""Default download cap, Boundless' ``max_file_size``."""
DEFAULT_PRESIGN_EXPIRY = 7 * 24 * 3600
"""Longest expiry SigV4 presigned URLs allow."""
DEFAULT_FILE_STORAGE_DIR = ".proofmarket/storage"


class StorageError(MarketError):
    """An upload failed or a provider is misconfigured."""


class FetchError(MarketError):
    """A URL could not be downloaded."""


class FetchTooLarge(FetchError):
    """The object at a URL is larger than the caller's limit."""

    def __init__(self, url: str, limit: int, size: int | None = None) -> None:
        size_text = f"{size} bytes" if size is not None else "more bytes"
        super().__init__(f"{url} holds {size_text}, over the {limit}-byte limit")
        self.url = url
        self.limit = limit
        self.size = size


def object_key(kind: str, data: bytes) -> str:
    """Content-addressed key: ``<kind>/<sha256 hex>``."""
    return f"{kind}/{hashlib.sha256(data).hexdigest()}"


class StorageProvider(ABC):
    """Uploads bytes and returns a URL a prover can download them from."""

    @abstractmethod
    def upload(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key`` and return its URL."""

    def upload_program(self, elf: bytes) -> str:
        """Upload a guest ELF; its URL becomes the request's ``imageUrl``."""
        return self.upload(object_key("programs", elf), elf)

    def upload_input(self, data: bytes) -> str:
        """Upload an encoded guest input; its URL becomes a ``url`` input."""
        return self.upload(object_key("inputs", data), data)


class FileStorageProvider(StorageProvider):
    """A local directory; URLs are ``file://`` absolute paths."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).resolve()

    def upload(self, key: str, data: bytes) -> str:
        path = (self.directory / key).resolve()
        if self.directory not in path.parents:
            raise StorageError(f"key {key!r} escapes the storage directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc}") from exc
        return path.as_uri()


@dataclass(frozen=True)
class S3Settings:
    """Connection settings for an S3-compatible server."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    presigned: bool = True
    presign_expiry: int = DEFAULT_PRESIGN_EXPIRY
    public_url: str | None = None
    """Base of a public (anonymous-read) URL for the bucket, e.g. a CDN; wins over presigning."""

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region or "us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


class S3StorageProvider(StorageProvider):
    """An S3 bucket. Returns presigned GET URLs, a public URL under ``public_url``, or
    ``s3://bucket/key`` when neither is wanted."""

    def __init__(self, settings: S3Settings, *, client: Any = None) -> None:
        self.settings = settings
        self._client = client if client is not None else settings.client()

    def upload(self, key: str, data: bytes) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(Bucket=self.settings.bucket, Key=key, Body=data)
            if self.settings.public_url:
                return f"{self.settings.public_url.rstrip('/')}/{key}"
            if not self.settings.presigned:
                return f"s3://{self.settings.bucket}/{key}"
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.settings.bucket, "Key": key},
                ExpiresIn=self.settings.presign_expiry,
            )
            return url
        except (BotoCoreError, ClientError) as exc:
            bucket = self.settings.bucket
            raise StorageError(f"S3 upload of {key} to {bucket} failed: {exc}") from exc


class HttpStorageProvider(StorageProvider):
    """A plain HTTP server that stores a ``PUT`` body at the request path."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"HTTP storage URL must be http(s)://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def upload(self, key: str, data: bytes) -> str:
        url = f"{self.base_url}/{key}"
        try:
            response = httpx.put(url, content=data, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise StorageError(f"PUT {url} failed: {exc}") from exc
        if response.status_code >= 300:
            raise StorageError(f"PUT {url} answered HTTP {response.status_code}")
        return url


def s3_settings_from_env(env: Mapping[str, str]) -> S3Settings:
    """``S3_BUCKET`` (required), ``S3_URL`` (endpoint), ``AWS_REGION``, ``S3_ACCESS_KEY`` /
    ``S3_SECRET_KEY`` (else the usual AWS chain), ``S3_NO_PRESIGNED``, ``S3_PRESIGN_EXPIRY``,
    ``S3_PUBLIC_URL`` (public base URL of the bucket)."""
    bucket = env.get("S3_BUCKET")
    if not bucket:
        raise ConfigError("S3 storage needs S3_BUCKET")
    expiry_text = env.get("S3_PRESIGN_EXPIRY", str(DEFAULT_PRESIGN_EXPIRY))
    try:
        expiry = int(expiry_text)
    except ValueError:
        raise ConfigError(f"S3_PRESIGN_EXPIRY must be seconds, got {expiry_text!r}") from None
    return S3Settings(
        bucket=bucket,
        endpoint_url=env.get("S3_URL") or None,
        region=env.get("AWS_REGION") or None,
        access_key=env.get("S3_ACCESS_KEY") or env.get("AWS_ACCESS_KEY_ID") or None,
        secret_key=env.get("S3_SECRET_KEY") or env.get("AWS_SECRET_ACCESS_KEY") or None,
        presigned=env.get("S3_NO_PRESIGNED", "").lower() not in ("1", "true", "yes"),
        presign_expiry=expiry,
        public_url=env.get("S3_PUBLIC_URL") or None,
    )


def storage_from_env(env: Mapping[str, str] | None = None) -> StorageProvider:
    """Build the provider named by ``STORAGE_PROVIDER`` (``file``, ``s3`` or ``http``).

    ``file`` uses ``FILE_STORAGE_DIR`` (default ``.proofmarket/storage``); ``http`` uses
    ``HTTP_STORAGE_URL``; ``s3`` see :func:`s3_settings_from_env`.
    """
    values = os.environ if env is None else env
    kind = (values.get("STORAGE_PROVIDER") or "file").strip().lower()
    if kind == "file":
        return FileStorageProvider(values.get("FILE_STORAGE_DIR") or DEFAULT_FILE_STORAGE_DIR)
    if kind == "s3":
        return S3StorageProvider(s3_settings_from_env(values))
    if kind == "http":
        base = values.get("HTTP_STORAGE_URL")
        if not base:
            raise ConfigError("HTTP storage needs HTTP_STORAGE_URL")
        return HttpStorageProvider(base)
    raise ConfigError(f"unknown STORAGE_PROVIDER {kind!r} (use file, s3 or http)")


def fetch_url(
    url: str,
    max_bytes: int = DEFAULT_MAX_FETCH_BYTES,
    *,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Download ``url`` (``file://``, ``http(s)://`` or ``s3://``), refusing more than
    ``max_bytes``. ``s3://`` URLs use the S3 settings from ``env`` (default: the process
    environment) for the endpoint and credentials."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        return _fetch_file(url, Path(unquote(parsed.path)), max_bytes)
    if scheme in ("http", "https"):
        return _fetch_http(url, max_bytes, timeout)
    if scheme == "s3":
        return _fetch_s3(url, parsed.netloc, parsed.path.lstrip("/"), max_bytes, env)
    raise FetchError(f"unsupported URL scheme in {url!r} (use file://, http(s):// or s3://)")


def _fetch_file(url: str, path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FetchError(f"{url}: no such file") from None
    except OSError as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if not path.is_file():
        raise FetchError(f"{url}: not a regular file")
    if size > max_bytes:
        raise FetchTooLarge(url, max_bytes, size)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{url}: {exc}") from exc


def _fetch_http(url: str, max_bytes: int, timeout: float) -> bytes:
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise FetchError(f"GET {url} answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise FetchTooLarge(url, max_bytes, int(declared))
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise FetchTooLarge(url, max_bytes)
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url} failed: {exc}") from exc


def _fetch_s3(
    url: str, bucket: str, key: str, max_bytes: int, env: Mapping[str, str] | None
) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    if not bucket or not key:
        raise FetchError(f"{url}: an s3 URL must look like s3://bucket/key")
    values = dict(os.environ if env is None else env)
    values["S3_BUCKET"] = bucket
    client = s3_settings_from_env(values).client()
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        size = int(head.get("ContentLength", 0))
        if size > max_bytes:
            raise FetchTooLarge(url, max_bytes, size)
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        data: bytes = body.read(max_bytes + 1)
    except (BotoCoreError, ClientError) as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if len(data) > max_bytes:
        raise FetchTooLarge(url, max_bytes)
    return data

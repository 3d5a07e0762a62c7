"""Where a prover publishes the receipt behind a fulfilment, so requestors verify it off chain.

On chain, a fulfilment's seal still goes through the dev verifier (a mock seal, or a batch
root vouched for by one) until the fraud-proof verifier exists; the real proof is the
zkVM receipt. The broker uploads every receipt it proved through its storage provider
(``STORAGE_PROVIDER=file|s3|http``, the same settings requestors use for programs and
inputs) under ``receipts/<claim digest>.receipt``. The key follows from the claim digest
the fulfilment proves, so a requestor with the same storage settings (the devnet's shared
directory, an S3 bucket, an HTTP store) finds the receipt with :func:`receipt_location`
and nothing else to look up; ``request verify-proof --receipt-url`` takes any other URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proofmarket.market.storage import StorageProvider

RECEIPTS_PREFIX = "receipts"
ON_CHAIN_NOTE = (
    "on chain the seal went through the dev verifier (a mock seal, or a batch root vouched "
    "for by one) until the fraud-proof verifier exists; the off-chain receipt check is the "
    "real proof"
)
"""Said wherever a fulfilment's verification is reported (CLI, demo, docs)."""


def receipt_key(claim_digest: bytes) -> str:
    """``receipts/<claim digest hex>.receipt``: found again from the fulfilment alone."""
    if len(claim_digest) != 32:
        raise ValueError(f"a claim digest is 32 bytes, got {len(claim_digest)}")
    return f"{RECEIPTS_PREFIX}/{claim_digest.hex()}.receipt"


def publish_receipt(storage: StorageProvider, claim_digest: bytes, data: bytes) -> str:
    """Upload a serialized receipt under its claim digest; returns its URL."""
    return storage.upload(receipt_key(claim_digest), data)


def receipt_location(claim_digest: bytes, env: Mapping[str, str] | None = None) -> str:
    """The URL a prover using these storage settings published the receipt at.

    ``file``: ``FILE_STORAGE_DIR`` (default ``.proofmarket/storage``); ``http``:
    ``HTTP_STORAGE_URL``; ``s3``: ``S3_PUBLIC_URL`` when set, else ``s3://S3_BUCKET/...``
    (presigned URLs cannot be derived: give those with ``--receipt-url``).
    """
    from proofmarket.market.errors import ConfigError
    from proofmarket.market.storage import DEFAULT_FILE_STORAGE_DIR

    values = os.environ if env is None else env
    key = receipt_key(claim_digest)
    kind = (values.get("STORAGE_PROVIDER") or "file").strip().lower()
    if kind == "file":
        base = Path(values.get("FILE_STORAGE_DIR") or DEFAULT_FILE_STORAGE_DIR).resolve()
        return (base / key).as_uri()
    if kind == "http":
        base_url = values.get("HTTP_STORAGE_URL")
        if not base_url:
            raise ConfigError("HTTP storage needs HTTP_STORAGE_URL")
        return f"{base_url.rstrip('/')}/{key}"
    if kind == "s3":
        public = values.get("S3_PUBLIC_URL")
        if public:
            return f"{public.rstrip('/')}/{key}"
        bucket = values.get("S3_BUCKET")
        if not bucket:
            raise ConfigError("S3 storage needs S3_BUCKET")
        return f"s3://{bucket}/{key}"
    raise ConfigError(f"unknown STORAGE_PROVIDER {kind!r} (use file, s3 or http)")

"""S3-protocol object store (AWS S3, MinIO, any compatible server) via boto3."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from proofmarket.cluster.storage.defaults import DEFAULT_S3_BUCKET, DEFAULT_S3_REGION
from proofmarket.cluster.storage.errors import ObjectMissing, StorageError, StorageUnavailable

_MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
#: Answers that mean "try again later" (throttling, server overload or restart).
_TRANSIENT_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503"}


class S3ObjectStore:
    """Objects in one bucket of an S3 endpoint (path-style addressing, like MinIO wants)."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        bucket: str = DEFAULT_S3_BUCKET,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = DEFAULT_S3_REGION,
        create_bucket: bool = False,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.bucket = bucket
        self.region = region
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        if create_bucket:
            self.ensure_bucket()

    def _fail(self, what: str, key: str, exc: Exception) -> StorageError:
        if isinstance(exc, EndpointConnectionError | BotoCoreError) and not isinstance(
            exc, ClientError
        ):
            return StorageUnavailable(f"S3 {what} {key!r} at {self.endpoint_url}: {exc}")
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if str(error.get("Code")) in _TRANSIENT_CODES or status >= 500:
                return StorageUnavailable(f"S3 {what} {key!r} at {self.endpoint_url}: {exc}")
        return StorageError(f"S3 {what} {key!r} in bucket {self.bucket!r} failed: {exc}")

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) not in _MISSING_CODES:
                raise self._fail("head_bucket", self.bucket, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("head_bucket", self.bucket, exc) from exc
        try:
            if self.region == "us-east-1":
                self._s3.create_bucket(Bucket=self.bucket)
            else:
                self._s3.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},
                )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise self._fail("create_bucket", self.bucket, exc) from exc

    def put(self, key: str, data: bytes) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("put", key, exc) from exc

    def get(self, key: str) -> bytes:
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES:
                raise ObjectMissing(key) from None
            raise self._fail("get", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("get", key, exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES:
                return False
            raise self._fail("head", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("head", key, exc) from exc

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete", key, exc) from exc
        return True

    def close(self) -> None:
        self._s3.close()

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.endpoint_url!r}, bucket={self.bucket!r})"

"""Storage providers against real servers: a directory, moto's S3 server, an HTTP store."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from proofmarket.market.errors import ConfigError
from proofmarket.market.http_store import HttpStoreServer
from proofmarket.market.storage import (
    FetchError,
    FetchTooLarge,
    FileStorageProvider,
    HttpStorageProvider,
    S3Settings,
    S3StorageProvider,
    StorageError,
    fetch_url,
    storage_from_env,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def s3_env(s3_server: str, tmp_path: Path) -> dict[str, str]:
    bucket = f"pm-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    return {
        "STORAGE_PROVIDER": "s3",
        "S3_URL": s3_server,
        "S3_BUCKET": bucket,
        "S3_ACCESS_KEY": "testing",
        "S3_SECRET_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }


@pytest.fixture()
def http_store(tmp_path: Path) -> Iterator[HttpStoreServer]:
    server = HttpStoreServer(tmp_path / "http-store").start()
    yield server
    server.stop()


def test_file_provider_round_trip(tmp_path: Path) -> None:
    provider = FileStorageProvider(tmp_path / "store")
    program = b"\x7fELF" + bytes(range(200))
    url = provider.upload_program(program)
    assert url.startswith("file://")
    assert fetch_url(url) == program
    # content addressed: same bytes, same URL; different kinds live apart
    assert provider.upload_program(program) == url
    assert provider.upload_input(program) != url


def test_file_fetch_errors(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="no such file"):
        fetch_url((tmp_path / "missing.bin").as_uri())
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 101)
    with pytest.raises(FetchTooLarge, match="101 bytes"):
        fetch_url(big.as_uri(), max_bytes=100)
    assert fetch_url(big.as_uri(), max_bytes=101) == b"x" * 101
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        fetch_url("ftp://example.invalid/x")


def test_s3_presigned_url_is_plain_http(s3_env: dict[str, str]) -> None:
    provider = storage_from_env(s3_env)
    assert isinstance(provider, S3StorageProvider)
    data = b"input bytes " * 50
    url = provider.upload_input(data)
    assert url.startswith(s3_env["S3_URL"])
    assert "X-Amz-Signature" in url
    # anyone holding the URL can download it without credentials
    assert httpx.get(url).content == data
    assert fetch_url(url, env={}) == data


def test_s3_plain_url_fetch_uses_env_credentials(s3_env: dict[str, str]) -> None:
    env = dict(s3_env, S3_NO_PRESIGNED="1")
    provider = storage_from_env(env)
    url = provider.upload_program(b"elf-bytes")
    assert url.startswith(f"s3://{env['S3_BUCKET']}/programs/")
    assert fetch_url(url, env=env) == b"elf-bytes"
    with pytest.raises(FetchTooLarge):
        fetch_url(url, max_bytes=3, env=env)
    with pytest.raises(FetchError):
        fetch_url(f"s3://{env['S3_BUCKET']}/programs/absent", env=env)


def test_s3_public_url(s3_env: dict[str, str]) -> None:
    base = f"{s3_env['S3_URL']}/{s3_env['S3_BUCKET']}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_env['S3_BUCKET']}/*",
            }
        ],
    }
    boto3.client(
        "s3",
        endpoint_url=s3_env["S3_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).put_bucket_policy(Bucket=s3_env["S3_BUCKET"], Policy=json.dumps(policy))
    provider = storage_from_env(dict(s3_env, S3_PUBLIC_URL=base + "/"))
    url = provider.upload_program(b"public elf")
    assert url == f"{base}/programs/" + hashlib.sha256(b"public elf").hexdigest()
    assert fetch_url(url, env={}) == b"public elf"


def test_s3_upload_to_missing_bucket_fails(s3_env: dict[str, str]) -> None:
    settings = S3Settings(
        bucket="no-such-bucket-here",
        endpoint_url=s3_env["S3_URL"],
        access_key="testing",
        secret_key="testing",
    )
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        S3StorageProvider(settings).upload_input(b"data")


def test_http_provider_round_trip(http_store: HttpStoreServer) -> None:
    provider = storage_from_env({"STORAGE_PROVIDER": "http", "HTTP_STORAGE_URL": http_store.url})
    assert isinstance(provider, HttpStorageProvider)
    payload = bytes(range(256)) * 40
    url = provider.upload_program(payload)
    assert url.startswith(http_store.url)
    assert fetch_url(url) == payload
    with pytest.raises(FetchTooLarge):
        fetch_url(url, max_bytes=1000)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_url(http_store.url + "/programs/unknown")


def test_http_provider_unreachable() -> None:
    provider = HttpStorageProvider(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StorageError, match="PUT"):
        provider.upload_input(b"x")
    with pytest.raises(FetchError):
        fetch_url(f"http://127.0.0.1:{_free_port()}/x")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STORAGE_PROVIDER": "ipfs"}, "unknown STORAGE_PROVIDER"),
        ({"STORAGE_PROVIDER": "s3"}, "S3_BUCKET"),
        ({"STORAGE_PROVIDER": "http"}, "HTTP_STORAGE_URL"),
        ({"STORAGE_PROVIDER": "http", "HTTP_STORAGE_URL": "ftp://x"}, "http"),
        ({"STORAGE_PROVIDER": "s3", "S3_BUCKET": "b", "S3_PRESIGN_EXPIRY": "soon"}, "seconds"),
    ],
)
def test_storage_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        storage_from_env(env)


def test_file_provider_is_default(tmp_path: Path) -> None:
    provider = storage_from_env({"FILE_STORAGE_DIR": str(tmp_path / "d")})
    assert isinstance(provider, FileStorageProvider)
    assert fetch_url(provider.upload_input(b"abc")) == b"abc"

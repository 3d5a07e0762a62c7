"""Storage backends: filesystem, Redis (segment store) and S3 over HTTP (moto server)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from cluster_storage_helpers import exercise_object_store, exercise_segment_store

from proofmarket.cluster.storage import (
    FsObjectStore,
    FsSegmentStore,
    InvalidKey,
    InvalidStorageUrl,
    ObjectMissing,
    RedisSegmentStore,
    S3ObjectStore,
    StorageError,
    keys,
    open_object_store,
    open_segment_store,
)


def test_key_layout_matches_reference():
    job = "j1"
    assert keys.segment_key(job, 3) == "job:j1:segments:3"
    assert keys.recursion_receipt_key(job, "7") == "job:j1:recursion_receipts:7"
    assert keys.journal_key(job) == "job:j1:journal"
    assert keys.elf_key("ab") == "elfs/ab"
    assert keys.input_key("u") == "inputs/u"
    assert keys.stark_receipt_key("r") == "receipts/stark/r.bin"
    assert keys.preflight_journal_key(job) == "preflight_journals/j1.bin"
    assert keys.exec_log_key(job) == "exec_logs/j1.log"


def test_fs_object_store_roundtrip(fs_object_store):
    exercise_object_store(fs_object_store)


def test_fs_segment_store_roundtrip(fs_segment_store):
    exercise_segment_store(fs_segment_store)


def test_s3_object_store_roundtrip(s3_object_store):
    exercise_object_store(s3_object_store)


@pytest.mark.redis
def test_redis_segment_store_roundtrip(redis_url, redis_key_prefix):
    store = RedisSegmentStore(redis_url, ttl=60, prefix=redis_key_prefix)
    try:
        exercise_segment_store(store)
    finally:
        store.close()


@pytest.mark.redis
def test_redis_segment_store_sets_ttl(redis_url, redis_key_prefix):
    import redis

    store = RedisSegmentStore(redis_url, ttl=123, prefix=redis_key_prefix)
    key = keys.segment_key("job-ttl", 0)
    store.put(key, b"x")
    raw = redis.Redis.from_url(redis_url)
    try:
        ttl = raw.ttl(redis_key_prefix + key)
        assert 0 < ttl <= 123
    finally:
        store.delete_job("job-ttl")
        raw.close()
        store.close()


def test_redis_ttl_must_be_positive():
    with pytest.raises(ValueError, match="ttl"):
        RedisSegmentStore("redis://127.0.0.1:6379/0", ttl=0)


@pytest.mark.parametrize("bad", ["../x", "a/../../b", "/abs", "a//b", "", "a/./b"])
def test_fs_object_store_rejects_escaping_keys(fs_object_store, bad):
    with pytest.raises(InvalidKey):
        fs_object_store.put(bad, b"x")


def test_fs_segment_store_rejects_escaping_keys(fs_segment_store):
    with pytest.raises(InvalidKey):
        fs_segment_store.put("job:..:segments:0", b"x")


def test_fs_segment_store_purges_old_jobs(fs_segment_store):
    fs_segment_store.put(keys.segment_key("old", 0), b"a")
    fs_segment_store.put(keys.segment_key("new", 0), b"b")
    old_file = fs_segment_store.root / "job" / "old" / "segments" / "0"
    past = time.time() - 3600
    os.utime(old_file, (past, past))
    assert fs_segment_store.purge_older_than(600) == 1
    assert not fs_segment_store.exists(keys.segment_key("old", 0))
    assert fs_segment_store.get(keys.segment_key("new", 0)) == b"b"


def test_open_by_url(tmp_path, s3_server_url, s3_bucket):
    assert isinstance(open_segment_store(str(tmp_path / "seg")), FsSegmentStore)
    assert isinstance(open_segment_store(f"file://{tmp_path}/seg2"), FsSegmentStore)
    assert isinstance(open_segment_store("redis://127.0.0.1:6379/0"), RedisSegmentStore)
    assert isinstance(open_object_store(str(tmp_path / "obj")), FsObjectStore)
    store = open_object_store(
        s3_server_url,
        bucket=s3_bucket,
        access_key="testing",
        secret_key="testing",
        create_bucket=True,
    )
    assert isinstance(store, S3ObjectStore)
    store.put("elfs/x", b"1")
    assert store.get("elfs/x") == b"1"


@pytest.mark.parametrize("url", ["", "ftp://host/x", "file://"])
def test_open_rejects_bad_urls(url):
    with pytest.raises(InvalidStorageUrl):
        open_object_store(url)
    with pytest.raises(InvalidStorageUrl):
        open_segment_store(url)


def test_s3_missing_bucket_is_a_clear_error(s3_server_url):
    store = S3ObjectStore(
        s3_server_url,
        bucket=f"absent-{uuid.uuid4().hex[:10]}",
        access_key="testing",
        secret_key="testing",
    )
    with pytest.raises(StorageError, match="absent-"):
        store.put("elfs/x", b"1")
    assert isinstance(ObjectMissing("k"), StorageError)

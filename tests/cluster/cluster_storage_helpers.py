"""Behaviour every storage backend must show, shared by the backend tests."""

from __future__ import annotations

import os
import uuid

import pytest

from proofmarket.cluster.storage import ObjectMissing, keys


def exercise_object_store(store) -> None:
    image_id = uuid.uuid4().hex
    key = keys.elf_key(image_id)
    assert not store.exists(key)
    with pytest.raises(ObjectMissing) as missing:
        store.get(key)
    assert image_id in str(missing.value)
    payload = os.urandom(70_000)
    store.put(key, payload)
    assert store.exists(key)
    assert store.get(key) == payload
    store.put(key, b"replaced")
    assert store.get(key) == b"replaced"
    receipt_key = keys.stark_receipt_key(image_id)
    store.put(receipt_key, b"")
    assert store.get(receipt_key) == b""
    assert store.delete(key) is True
    assert store.delete(key) is False
    assert not store.exists(key)
    assert store.exists(receipt_key)


def exercise_segment_store(store) -> None:
    job_a, job_b = uuid.uuid4().hex, uuid.uuid4().hex
    seg = keys.segment_key(job_a, 0)
    with pytest.raises(ObjectMissing):
        store.get(seg)
    data = os.urandom(50_000)
    store.put(seg, data)
    store.put(keys.segment_key(job_a, 1), b"s1")
    store.put(keys.recursion_receipt_key(job_a, "2"), b"r2")
    store.put(keys.journal_key(job_a), b"journal")
    store.put(keys.segment_key(job_b, 0), b"other")
    assert store.get(seg) == data
    assert store.exists(keys.journal_key(job_a))
    store.delete(keys.segment_key(job_a, 1))
    assert not store.exists(keys.segment_key(job_a, 1))
    assert store.delete_job(job_a) == 3
    assert not store.exists(seg)
    assert not store.exists(keys.recursion_receipt_key(job_a, "2"))
    assert store.get(keys.segment_key(job_b, 0)) == b"other"
    assert store.delete_job(job_a) == 0
    store.delete_job(job_b)

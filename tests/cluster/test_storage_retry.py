"""Retrying stores: transient Redis outages are waited out, permanent errors are not."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest
from fault_proxy import fault_proxy

from proofmarket.cluster.storage import (
    ObjectMissing,
    RedisSegmentStore,
    RetryingSegmentStore,
    RetryPolicy,
    StorageUnavailable,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_key_prefix() -> str:
    return f"pmtest:retry:{time.time_ns()}:"


def test_refused_redis_is_waited_out_and_missing_keys_fail_at_once(redis_url, redis_key_prefix):
    parts = urlsplit(redis_url)
    with fault_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        url = parts._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        inner = RedisSegmentStore(url, ttl=60, prefix=redis_key_prefix)
        patient = RetryingSegmentStore(inner, RetryPolicy(initial=0.05, maximum=0.2, max_wait=10))
        quick = RetryPolicy(initial=0.05, maximum=0.1, max_wait=0.4)
        impatient = RetryingSegmentStore(inner, quick)
        patient.put("job:a:segments:0", b"seg")

        proxy.refuse()
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            impatient.get("job:a:segments:0")
        assert time.monotonic() - started >= 0.3, "gave up without backing off"

        threading.Timer(0.8, proxy.heal).start()
        started = time.monotonic()
        assert patient.get("job:a:segments:0") == b"seg"  # waits for the heal
        assert time.monotonic() - started >= 0.6

        started = time.monotonic()
        with pytest.raises(ObjectMissing):
            patient.get("job:a:segments:1")
        assert time.monotonic() - started < 0.5, "a missing key is not retried"
        patient.delete_job("a")
        patient.close()


def test_stop_request_ends_the_wait(redis_url):
    parts = urlsplit(redis_url)
    with fault_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        url = parts._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        stop = threading.Event()
        store = RetryingSegmentStore(
            RedisSegmentStore(url, ttl=60), RetryPolicy(max_wait=60), should_stop=stop.is_set
        )
        proxy.refuse()
        threading.Timer(0.3, stop.set).start()
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            store.get("job:b:segments:0")
        assert time.monotonic() - started < 5
        store.close()

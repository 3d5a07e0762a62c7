"""Capacity under a burst: never more committed orders than ``max_concurrent_proofs``."""

from __future__ import annotations

import struct
import threading
import time

import pytest

from proofmarket import zkvm
from proofmarket.broker.capacity import prove_seconds
from proofmarket.broker.db import OrderDB
from proofmarket.broker.order import OrderStatus

from .harness import wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

BURST = 20
LIMIT = 2


def test_burst_of_20_respects_max_concurrent_proofs(requestor, staked_provers, make_broker):
    broker = make_broker(market={"max_concurrent_proofs": LIMIT, "max_concurrent_preflights": 4})
    broker.start().wait_started()
    requests = [requestor.build(4 + i) for i in range(BURST)]
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        db = None
        while not stop.is_set():
            if db is None and broker.db_path.exists():
                db = OrderDB(broker.db_path)
            if db is not None:
                peak = max(peak, len(db.committed_orders()))
            time.sleep(0.05)
        if db is not None:
            db.close()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        for request in requests:
            requestor.submit(request)
        for request in requests:
            broker.wait_status(request.id, OrderStatus.DONE, timeout=240)
    finally:
        stop.set()
        sampler.join(5)
    assert 1 <= peak <= LIMIT
    assert all(requestor.client.request_lock(r.id).has(4) for r in requests)
    wait_until(lambda: not OrderDB(broker.db_path).committed_orders(), 10, "nothing committed")


def test_peak_prove_khz_deadline_math(requestor, staked_provers, make_broker):
    """At 1 kHz an iter N=4 proof takes ``needed`` seconds (one per kilocycle): a request
    whose lock expires in ``needed`` s is refused (it also needs the 5 s buffer); of two
    expiring in ``2 * needed`` s one fits, both do not, so the second waits until the
    first is done."""
    cycles = zkvm.execute(requestor.elf, struct.pack("<I", 4)).total_cycles
    needed = prove_seconds(cycles, 1)
    assert needed >= 10, "the guest must be long enough for the margins below"
    broker = make_broker(market={"peak_prove_khz": 1}, batcher={"block_deadline_buffer_secs": 5})
    broker.start().wait_started()
    too_soon, _, _ = requestor.submit(requestor.build(4, lock_timeout=needed, timeout=600))
    pair_timeout = 2 * needed
    first, _, _ = requestor.submit(requestor.build(4, lock_timeout=pair_timeout, timeout=600))
    second, _, _ = requestor.submit(requestor.build(4, lock_timeout=pair_timeout, timeout=600))
    refused = broker.wait_status(too_soon.id, OrderStatus.SKIPPED, timeout=60)
    assert "above the limit" in (refused.error_msg or "") or "proving needs" in (
        refused.error_msg or ""
    )
    done = [broker.wait_status(r.id, OrderStatus.DONE, timeout=90) for r in (first, second)]
    earlier, later = sorted(done, key=lambda o: o.lock_sent_at or 0)
    # the later lock was only sent once the earlier order was done (updated_at: whole
    # seconds of its last change, to Done)
    assert (later.lock_sent_at or 0) >= earlier.updated_at - 1
    assert not requestor.client.request_is_locked(too_soon.id)

"""Capacity under a burst: never more committed orders than ``max_concurrent_proofs``."""

from __future__ import annotations

import threading
import time

import pytest

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

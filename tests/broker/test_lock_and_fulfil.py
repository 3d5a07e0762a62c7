"""The pipeline end to end: a request is priced, locked, proven, batched and fulfilled."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from proofmarket.broker.order import FulfillmentType, OrderStatus
from proofmarket.market import events as ev
from proofmarket.zkvm.receipt import Receipt

from .harness import ETHER

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_lock_and_fulfil(requestor, staked_provers, make_broker):
    broker = make_broker().start()
    broker.wait_started()
    request, _, _ = requestor.submit(requestor.build(4))
    order = broker.wait_status(request.id, OrderStatus.DONE, timeout=120)
    assert order.fulfillment_type is FulfillmentType.LOCK_AND_FULFILL
    prover = staked_provers[0]
    lock = prover.request_lock(request.id)
    assert lock.prover == broker.address
    assert lock.has(lock.PAID_DURING_LOCK)
    delivered = requestor.client.get_fulfillment(request.id)
    assert delivered.prover == broker.address
    assert delivered.journal == bytes.fromhex(order.journal or "")
    assert int(order.lock_price or "0", 16) == ETHER // 100
    assert prover.balance_of() >= ETHER // 100
    assert isinstance(delivered, ev.ProofDelivered)
    # the cluster here runs in dev mode; the receipt is still published for the requestor
    assert order.dev_mode is True and order.receipt_mode == "DEV MODE"
    published = Path(urlparse(order.receipt_url or "").path)
    assert published.name == f"{order.claim_digest}.receipt"
    assert Receipt.from_bytes(published.read_bytes()).journal == delivered.journal

"""The pipeline end to end: a request is priced, locked, proven, batched and fulfilled."""

from __future__ import annotations

import pytest

from proofmarket.broker.order import FulfillmentType, OrderStatus
from proofmarket.market import events as ev

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

"""Operations: lapsed locks, competing brokers, crashes, recovery, safe stop, hot reload.

Every test runs the broker as a real process against anvil and a real proving cluster.
"""

from __future__ import annotations

import sqlite3
import struct
import subprocess

import pytest

from proofmarket.broker.order import BatchStatus, FulfillmentType, OrderStatus
from proofmarket.market import events as ev
from proofmarket.market.pricing import slash_split

from .harness import ETHER, PROVER_KEYS, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def advance(chain, seconds: int) -> None:
    chain.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.w3.provider.make_request("evm_mine", [])


def lock_events(client, request_id: int) -> list[ev.RequestLocked]:
    return list(client.iter_events(ev.RequestLocked, request_id=request_id))


def test_fulfil_after_another_provers_lock_lapses(chain, requestor, staked_provers, make_broker):
    ours, theirs = staked_provers
    request, signature, _ = requestor.submit(
        requestor.build(4, lock_timeout=20, timeout=400, lock_collateral=10 * ETHER)
    )
    theirs.lock_request(request, signature)
    stake_before = ours.balance_of_stake()
    broker = make_broker().start()  # finds the lapsing lock in its lookback scan
    broker.wait_started()
    # priced on the collateral reward, waiting for the lock deadline
    wait_until(lambda: "lookback scan" in broker.log(), 10, "lookback")
    assert not broker.order_for(request.id) or all(
        o.status is not OrderStatus.LOCKING for o in broker.order_for(request.id)
    )
    advance(chain, 30)  # past the lock deadline: anyone may fulfil now
    done = broker.wait_status(request.id, OrderStatus.DONE, timeout=90)
    assert done.fulfillment_type is FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE
    lock = ours.request_lock(request.id)
    assert lock.has(lock.PAID_AFTER_LOCK) and lock.fulfiller == broker.address
    advance(chain, 400)  # past the deadline: the lapsed locker is slashed
    slashed = requestor.client.slash(request.id).first(ev.ProverSlashed)
    split = slash_split(10 * ETHER)
    assert slashed.collateral_recipient == broker.address
    assert slashed.collateral_transferred == split.transferred
    assert ours.balance_of_stake() == stake_before + split.transferred


def test_two_brokers_on_one_cluster_lock_each_request_once(
    chain, requestor, staked_provers, make_broker
):
    brokers = [make_broker(key, f"b{key}").start() for key in PROVER_KEYS]
    for broker in brokers:
        broker.wait_started()
    requests = [requestor.submit(requestor.build(4 + i))[0] for i in range(4)]
    for request in requests:
        wait_until(
            lambda rid=request.id: lock_events(requestor.client, rid), 60, "the request's lock"
        )
        lockers = [e.prover for e in lock_events(requestor.client, request.id)]
        assert len(lockers) == 1
        winner = next(b for b in brokers if b.address == lockers[0])
        winner.wait_status(request.id, OrderStatus.DONE, timeout=90)
        assert requestor.client.request_lock(request.id).has(4)  # PAID_DURING_LOCK
        for loser in brokers:
            if loser is winner:
                continue
            for order in loser.order_for(request.id):
                assert order.status in (OrderStatus.SKIPPED,), order
    # both brokers saw every request: nothing was locked twice and the losers recorded why
    assert all(len(b.orders()) >= len(requests) for b in brokers)


def test_kill_9_mid_proof_then_restart(chain, requestor, staked_provers, make_broker):
    broker = make_broker().start()
    broker.wait_started()
    # long enough (~6M cycles) that the proof is still running when the broker is killed
    request, _, _ = requestor.submit(requestor.build(1000))
    proving = broker.wait_status(request.id, OrderStatus.PROVING, timeout=60)
    wait_until(
        lambda: (broker.order_for(request.id) or [proving])[0].proof_id, 30, "proof session id"
    )
    session = broker.order_for(request.id)[0].proof_id
    broker.kill()
    restarted = broker.start()
    done = restarted.wait_status(request.id, OrderStatus.DONE, timeout=120)
    assert done.proof_id == session  # the same cluster session, not a second proof
    assert len(lock_events(requestor.client, request.id)) == 1
    assert requestor.client.request_lock(request.id).has(4)


def test_lock_receipt_lost_but_lock_landed(chain, requestor, staked_provers, make_broker):
    broker = make_broker()
    broker.env["PROOFMARKET_BROKER_FAULTS"] = "lock-lost-receipt:1"
    broker.start().wait_started()
    request, _, _ = requestor.submit(requestor.build(4))
    broker.wait_status(request.id, OrderStatus.DONE, timeout=90)
    assert "receipt is reported lost" in broker.log()
    assert requestor.client.request_lock(request.id).has(4)


def test_stuck_order_sql_recovery(chain, requestor, staked_provers, make_broker):
    broker = make_broker(batcher={"max_submission_attempts": 2})
    broker.env["PROOFMARKET_BROKER_FAULTS"] = "fulfil-timeout:2"
    broker.start().wait_started()
    request, _, _ = requestor.submit(requestor.build(4))
    stuck = broker.wait_status(request.id, OrderStatus.PENDING_SUBMISSION, timeout=90)

    def batch_failed() -> bool:
        with sqlite3.connect(broker.db_path) as conn:
            row = conn.execute("SELECT data->>'status' FROM batches").fetchone()
        return row is not None and row[0] == BatchStatus.FAILED

    wait_until(batch_failed, 30, "batch marked Failed")
    assert not requestor.client.request_lock(request.id).has(4)
    # the operator guide's procedure, exactly as written
    found = subprocess.run(
        [
            "sqlite3",
            str(broker.db_path),
            f"SELECT id FROM batches WHERE data->>'orders' LIKE '%\"{stuck.id}\"%';",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(found) == 1
    subprocess.run(
        [
            "sqlite3",
            str(broker.db_path),
            "UPDATE batches SET data = json_set(data, '$.status', 'Complete') "
            f"WHERE id = {found[0]};",
        ],
        check=True,
    )
    broker.wait_status(request.id, OrderStatus.DONE, timeout=60)
    assert requestor.client.request_lock(request.id).has(4)


def test_hot_reload_and_safe_stop(chain, requestor, staked_provers, make_broker):
    broker = make_broker(market={"max_concurrent_proofs": 0})
    broker.start().wait_started()
    held, _, _ = requestor.submit(requestor.build(4))
    wait_until(lambda: "lookback" in broker.log(), 5, "broker running")
    # max_concurrent_proofs = 0: priced, never locked
    with pytest.raises(AssertionError):
        wait_until(lambda: requestor.client.request_is_locked(held.id), 6, "a lock")
    broker.write_config(market={"max_concurrent_proofs": 2})
    wait_until(lambda: "config reloaded" in broker.log(), 15, "config reload")
    broker.wait_status(held.id, OrderStatus.DONE, timeout=90)
    # SIGTERM while an order is committed: it is finished, nothing new is locked, then exit
    committed, _, _ = requestor.submit(requestor.build(120))
    # a dev-mode cluster may prove it faster than the poll sees "Proving": any committed
    # state (or already done) will do; the safe stop must then finish it either way
    locked_states = frozenset(
        {
            OrderStatus.PROVING,
            OrderStatus.READY_FOR_BATCH,
            OrderStatus.BATCHING,
            OrderStatus.PENDING_SUBMISSION,
            OrderStatus.DONE,
        }
    )
    broker.wait_status(committed.id, locked_states, timeout=60)
    assert broker.process is not None
    broker.process.send_signal(15)
    late, _, _ = requestor.submit(requestor.build(4))
    assert broker.process.wait(120) == 0
    statuses = {o.id: o.status for o in broker.order_for(committed.id)}
    assert list(statuses.values()) == [OrderStatus.DONE]
    assert not requestor.client.request_is_locked(late.id)
    assert "safe stop" in broker.log() or "no committed orders left" in broker.log()


@pytest.mark.parametrize("fault", ["crash-before-lock", "crash-after-lock", "crash-after-fulfil"])
def test_kill_9_around_locks_and_fulfilments(chain, requestor, staked_provers, make_broker, fault):
    """SIGKILL just before a lock is queued, or after a lock or fulfilment landed but before
    the database recorded it: the restart locks once, proves, and fulfils once."""
    broker = make_broker()
    broker.env["PROOFMARKET_BROKER_FAULTS"] = f"{fault}:1"
    broker.start().wait_started()
    request, _, _ = requestor.submit(requestor.build(4))
    assert broker.process is not None
    assert broker.process.wait(60) == -9
    assert "FAULT" in broker.log()
    broker.env.pop("PROOFMARKET_BROKER_FAULTS")
    broker.start()
    broker.wait_status(request.id, OrderStatus.DONE, timeout=90)
    assert len(lock_events(requestor.client, request.id)) == 1
    lock = requestor.client.request_lock(request.id)
    assert lock.has(4) and lock.prover == broker.address
    delivered = list(requestor.client.iter_events(ev.ProofDelivered, request_id=request.id))
    assert len(delivered) == 1


def test_an_order_past_its_expiry_is_failed_not_fulfilled(
    chain, requestor, staked_provers, make_broker
):
    """The broker dies right after locking; when it comes back the lock deadline has passed:
    the order is failed (nothing fulfilled late), and the lock is left to be slashed."""
    broker = make_broker()
    broker.env["PROOFMARKET_BROKER_FAULTS"] = "crash-after-lock:1"
    broker.start().wait_started()
    request, _, _ = requestor.submit(requestor.build(4, lock_timeout=60, timeout=120))
    assert broker.process is not None and broker.process.wait(60) == -9
    advance(chain, 90)  # past the lock deadline
    broker.env.pop("PROOFMARKET_BROKER_FAULTS")
    broker.start()
    failed = broker.wait_status(request.id, OrderStatus.FAILED, timeout=60)
    assert "expired" in (failed.error_msg or "")
    assert not list(requestor.client.iter_events(ev.ProofDelivered, request_id=request.id))


def test_lapsed_lock_proof_cancelled_when_another_prover_fulfils_first(
    chain, requestor, staked_provers, make_broker
):
    """While the broker proves a lapsed lock, the original locker fulfils it after all: the
    broker's cluster session is stopped and the order skipped, nothing delivered by it."""
    from proofmarket import zkvm
    from proofmarket.contracts.seals import mock_seal
    from proofmarket.market.predicates import claim_digest
    from proofmarket.market.types import Fulfillment, FulfillmentDataType

    theirs = staked_provers[1]
    n = 3000  # a long proof (~18M cycles) so the race happens while it runs
    request, signature, _ = requestor.submit(requestor.build(n, lock_timeout=20, timeout=900))
    theirs.lock_request(request, signature)
    broker = make_broker().start()
    broker.wait_started()
    advance(chain, 30)
    proving = broker.wait_status(request.id, OrderStatus.PROVING, timeout=90)
    assert proving.fulfillment_type is FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE
    journal = zkvm.execute(requestor.elf, struct.pack("<I", n)).journal
    fill = Fulfillment(
        request=request,
        client_signature=signature,
        fulfillment_data_type=FulfillmentDataType.IMAGE_ID_AND_JOURNAL,
        image_id=requestor.image_id,
        journal=journal,
        seal=mock_seal(claim_digest(requestor.image_id, journal)),
    )
    theirs.fulfill_committed([fill])
    skipped = broker.wait_status(request.id, OrderStatus.SKIPPED, timeout=60)
    assert "another prover" in (skipped.error_msg or "")
    provers = {
        e.prover for e in requestor.client.iter_events(ev.ProofDelivered, request_id=request.id)
    }
    assert provers == {theirs.signer.address}
    from proofmarket.cluster.client import ClusterClient

    with ClusterClient(broker.cluster_url) as cluster:
        assert skipped.proof_id is not None
        assert cluster.status(skipped.proof_id).status != "SUCCEEDED"  # stopped, not finished

"""Order monitor: decides which priced orders to commit to, and locks them.

Every block it drops priced orders that can no longer be taken (locked by someone else,
fulfilled, too close to expiry), waits for each order's target time (when the offer's
price reaches ``mcycle_price``), applies the capacity limits and locks the accepted ones
through the transaction queue. The order is written as ``Locking`` before the lock is
sent; a lock whose confirmation timed out is reconciled against the chain before the
order is given up, because a lock that landed must be fulfilled (Boundless #547).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Coroutine
from typing import Any

from proofmarket.broker import capacity
from proofmarket.broker.context import BrokerContext
from proofmarket.broker.order import FulfillmentType, Order, OrderStatus
from proofmarket.broker.picker import Priced
from proofmarket.broker.txn import TxIntent
from proofmarket.market import events as ev
from proofmarket.market.eip712 import request_message

log = logging.getLogger(__name__)


class OrderMonitor:
    def __init__(self, ctx: BrokerContext, *, poll_secs: float = 0.25) -> None:
        self.ctx = ctx
        self.poll_secs = poll_secs
        self.pending: dict[str, Priced] = {}
        self._wake = asyncio.Event()
        self._sending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def deliver(self, priced: Priced) -> None:
        self.pending[priced.order.id] = priced
        self._wake.set()

    async def run(self) -> None:
        await self.resume_locking()
        last_reconcile = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_secs)
            self._wake.clear()
            await self.step()
            if time.monotonic() - last_reconcile > 2.0:
                await self.reconcile_locking()
                last_reconcile = time.monotonic()

    async def step(self) -> None:
        ctx = self.ctx
        if ctx.stopping:
            self.pending.clear()
            return
        now = ctx.now()
        cfg = ctx.config
        ready: list[Priced] = []
        for key, priced in list(self.pending.items()):
            order = priced.order
            reason = self._still_valid(order, now)
            if reason is not None:
                del self.pending[key]
                ctx.record(order.model_copy(update={"error_msg": reason}))
                continue
            if now >= (order.target_timestamp or 0):
                ready.append(priced)
        if not ready:
            return
        ready = self._prioritise(ready)
        committed = ctx.db.committed_orders()
        decision = capacity.apply_capacity(
            [capacity.Candidate(p.order.id, p.take.total_cycles, p.take.expiry) for p in ready],
            [
                capacity.Committed(o.total_cycles or 0, o.proving_started_at or now)
                for o in committed
            ],
            now=now,
            max_concurrent_proofs=cfg.market.max_concurrent_proofs,
            peak_prove_khz=cfg.market.peak_prove_khz,
            additional_proof_cycles=cfg.market.additional_proof_cycles,
            deadline_buffer=cfg.batcher.block_deadline_buffer_secs,
        )
        for key, reason in decision.never.items():
            priced = self.pending.pop(key)
            ctx.record(priced.order.model_copy(update={"error_msg": reason}))
        for key in decision.accepted:
            priced = self.pending.pop(key)
            await self._commit(priced)

    def _still_valid(self, order: Order, now: int) -> str | None:
        db = self.ctx.db
        if now >= order.expire_timestamp:
            return "expired before it could be locked"
        if order.expire_timestamp - now <= self.ctx.config.market.min_deadline:
            return "too close to expiry (min_deadline)"
        if db.is_request_fulfilled(order.request_id):
            return "fulfilled by another prover"
        locker = db.request_locker(order.request_id)
        if order.fulfillment_type is FulfillmentType.LOCK_AND_FULFILL and locker is not None:
            return f"locked by {locker}" if locker != self.ctx.address else "already locked by us"
        return None

    def _prioritise(self, ready: list[Priced]) -> list[Priced]:
        mode = self.ctx.config.market.order_commitment_priority
        if mode == "random":
            random.shuffle(ready)
        else:
            ready.sort(key=lambda p: p.take.expiry)
        ready.sort(key=lambda p: not p.priority)
        return ready

    async def _commit(self, priced: Priced) -> None:
        ctx = self.ctx
        order = priced.order
        existing = ctx.db.get_order(order.id)
        if existing is not None and existing.status is not OrderStatus.SKIPPED:
            return
        if order.fulfillment_type is FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE:
            ctx.record(order.with_status(OrderStatus.PENDING_PROVING, proving_started_at=ctx.now()))
            return
        sent_at = time.time()
        if not ctx.db.insert_order_if_absent(
            order.with_status(OrderStatus.LOCKING, lock_sent_at=sent_at)
        ):
            return
        self._spawn(self._send_lock(order, sent_at))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Locks run concurrently: one slow confirmation never holds up the next lock."""
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("lock task failed: %s", task.exception())

    async def _send_lock(self, order: Order, sent_at: float) -> None:
        """Queue the lock (idempotent per order in the trader) and settle the outcome."""
        self._sending.add(order.id)
        try:
            await self._lock_and_settle(order, sent_at)
        except Exception as exc:  # RPC down mid-lock: the periodic reconcile settles it
            log.warning("order %s: lock outcome unknown (%s); reconciling", order.id, exc)
        finally:
            self._sending.discard(order.id)

    async def _lock_and_settle(self, order: Order, sent_at: float) -> None:
        ctx = self.ctx
        request = order.proof_request
        data = ctx.market.contract.encode_abi(
            "lockRequest", args=[request_message(request), order.signature]
        )
        intent = TxIntent(
            purpose="lock",
            ref=order.id,
            to=ctx.market.address,
            data=bytes.fromhex(data.removeprefix("0x")),
            priority_gas=ctx.config.market.lockin_priority_gas or 0,
            request_id=order.request_id,
        )
        ctx.emit("lock_sent", order_id=order.id, latency=sent_at - order.observed_at)
        log.info(
            "locking %s (%.3f s after the request was seen)", order.id, sent_at - order.observed_at
        )
        outcome = await ctx.sender.send(intent)
        ctx.emit(
            "tx", purpose="lock", order_id=order.id, gas_used=outcome.gas_used, state=outcome.state
        )
        if outcome.ok:
            price = next((e.price for e in outcome.events if isinstance(e, ev.RequestLocked)), None)
            if price is None:  # reconciled from the chain's events: read the lock record
                price = (await asyncio.to_thread(ctx.market.request_lock, order.request_id)).price
            ctx.transition(
                order.id,
                (OrderStatus.LOCKING, OrderStatus.SKIPPED),
                OrderStatus.PENDING_PROVING,
                lock_price=hex(price),
                lock_tx=outcome.tx_hash,
                proving_started_at=ctx.now(),
                error_msg=None,
            )
            ctx.emit(
                "locked",
                order_id=order.id,
                latency=sent_at - order.observed_at,
                lock_sent_at=sent_at,
            )
            return
        if outcome.state == "rejected":
            ctx.transition(
                order.id,
                (OrderStatus.LOCKING,),
                OrderStatus.SKIPPED,
                error_msg=f"lock refused: {outcome.error}",
            )
            return
        # timed out or reverted: the lock may have landed; the chain decides
        await self._reconcile(order.id, outcome.tx_hash, outcome.error or outcome.state)

    async def _reconcile(self, order_id: str, tx_hash: str | None, why: str) -> None:
        ctx = self.ctx
        order = ctx.db.get_order(order_id)
        if order is None or order.status is not OrderStatus.LOCKING:
            return
        lock = await asyncio.to_thread(ctx.market.request_lock, order.request_id)
        digest_tag = bytes.fromhex(order.request_digest.removeprefix("0x"))[:8]
        if (
            lock.has(lock.LOCKED)
            and lock.prover == ctx.address
            and lock.request_digest_tag
            in (
                digest_tag,
                bytes(8),
            )
        ):
            log.warning("order %s: lock reported %s but it landed; proving it", order_id, why)
            ctx.transition(
                order_id,
                (OrderStatus.LOCKING,),
                OrderStatus.PENDING_PROVING,
                lock_price=hex(lock.price),
                lock_tx=tx_hash,
                proving_started_at=ctx.now(),
                error_msg=None,
            )
        elif lock.has(lock.LOCKED) or ctx.now() > order.expire_timestamp:
            ctx.transition(
                order_id,
                (OrderStatus.LOCKING,),
                OrderStatus.SKIPPED,
                error_msg=f"lock failed ({why})",
            )
        else:
            log.debug("order %s: lock %s, not on chain yet; will re-check", order_id, why)

    async def reconcile_locking(self) -> None:
        """Each round: settle orders left in Locking that no lock is in flight for."""
        for order in self.ctx.db.orders_with_status(OrderStatus.LOCKING):
            if order.id not in self._sending:
                await self._reconcile(order.id, order.lock_tx, "unconfirmed")

    async def resume_locking(self) -> None:
        """After a restart: a Locking order whose lock is not on chain is queued again.

        The trader keys locks by order, so this returns the lock already queued before the
        crash (or sends it if the crash came before it was queued): never a second lock.
        """
        for order in self.ctx.db.orders_with_status(OrderStatus.LOCKING):
            await self._reconcile(order.id, order.lock_tx, "unconfirmed before a restart")
            current = self.ctx.db.get_order(order.id)
            if current is not None and current.status is OrderStatus.LOCKING:
                log.info("order %s: lock interrupted by a restart; queuing it again", order.id)
                self._spawn(self._send_lock(current, time.time()))

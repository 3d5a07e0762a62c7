"""Market monitor: finds open requests and follows their locks and fulfilments.

On start it scans the last ``lookback_blocks`` (and anything since the last processed
block) for ``RequestSubmitted``, ``RequestLocked`` and ``RequestFulfilled``; then it follows
new blocks. Open requests go to the picker as ``LockAndFulfill`` candidates; a request
locked by another prover becomes a ``FulfillAfterLockExpire`` candidate; a lock by this
broker's key reconciles an order whose lock confirmation was lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from proofmarket.broker.chain import LogReader
from proofmarket.broker.context import BrokerContext
from proofmarket.broker.order import FulfillmentType, OrderStatus
from proofmarket.market import events as ev
from proofmarket.market.types import ProofRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A request the picker should consider, and how."""

    request: ProofRequest
    client_sig: bytes
    kind: FulfillmentType
    observed_at: float
    block: int


Submit = Callable[[Candidate], Awaitable[None]]


class MarketMonitor:
    def __init__(self, ctx: BrokerContext, submit: Submit, *, poll_secs: float = 0.5) -> None:
        self.ctx = ctx
        self.submit = submit
        self.poll_secs = poll_secs
        self.reader = LogReader(ctx.market)
        self.known: dict[int, tuple[ProofRequest, bytes]] = {}

    async def run(self) -> None:
        ctx = self.ctx
        head = await ctx.chain.refresh()
        lookback = max(0, head.number - ctx.config.market.lookback_blocks)
        last = ctx.db.get_last_block()
        start = lookback if last is None else min(lookback, last + 1)
        await self._scan_startup(start, head.number)
        next_block = head.number + 1
        while True:
            head = await ctx.chain.refresh()
            if head.number >= next_block:
                events = await asyncio.to_thread(self.reader.fetch, next_block, head.number)
                for event in events:
                    await self._handle(event, live=True)
                ctx.db.set_last_block(head.number)
                next_block = head.number + 1
            await asyncio.sleep(self.poll_secs)

    async def _scan_startup(self, start: int, end: int) -> None:
        ctx = self.ctx
        events = await asyncio.to_thread(self.reader.fetch, start, end)
        log.info("lookback scan of blocks %d..%d: %d market events", start, end, len(events))
        submitted: list[ev.RequestSubmitted] = []
        for event in events:
            if isinstance(event, ev.RequestSubmitted):
                submitted.append(event)
            await self._handle(event, live=False)
        now = ctx.now()
        for event in submitted:
            rid = event.request_id
            if ctx.db.is_request_fulfilled(rid) or now > event.request.offer.deadline:
                continue
            locker = ctx.db.request_locker(rid)
            if locker is None:
                await self._offer(
                    event.request, event.client_signature, FulfillmentType.LOCK_AND_FULFILL, event
                )
            elif locker != ctx.address:
                await self._offer(
                    event.request,
                    event.client_signature,
                    FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE,
                    event,
                )
        ctx.db.set_last_block(end)

    async def _offer(
        self, request: ProofRequest, sig: bytes, kind: FulfillmentType, event: ev.MarketEvent
    ) -> None:
        await self.submit(Candidate(request, sig, kind, time.time(), event.meta.block_number))

    async def _handle(self, event: ev.MarketEvent, *, live: bool) -> None:
        ctx = self.ctx
        if isinstance(event, ev.RequestSubmitted):
            self.known[event.request_id] = (event.request, event.client_signature)
            if live:
                await self._offer(
                    event.request, event.client_signature, FulfillmentType.LOCK_AND_FULFILL, event
                )
        elif isinstance(event, ev.RequestLocked):
            ctx.db.set_request_locked(event.request_id, event.prover, event.meta.block_number)
            if event.prover == ctx.address:
                self._reconcile_own_lock(event)
            elif live:
                known = self.known.get(event.request_id) or await self._find_request(
                    event.request_id
                )
                if known is not None:
                    request, sig = known
                    await self._offer(
                        request, sig, FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE, event
                    )
        elif isinstance(event, ev.RequestFulfilled):
            ctx.db.set_request_fulfilled(event.request_id, event.meta.block_number)

    def _reconcile_own_lock(self, event: ev.RequestLocked) -> None:
        """A lock by our key landed: make sure its order is committed (Boundless #547)."""
        for order in self.ctx.db.orders_for_request(event.request_id):
            if order.fulfillment_type is not FulfillmentType.LOCK_AND_FULFILL:
                continue
            if order.request_digest != "0x" + event.request_digest.hex():
                continue
            if order.status in (OrderStatus.LOCKING, OrderStatus.SKIPPED):
                log.info("order %s: our lock is on chain (tx %s)", order.id, event.meta.tx_hash)
                self.ctx.transition(
                    order.id,
                    (OrderStatus.LOCKING, OrderStatus.SKIPPED),
                    OrderStatus.PENDING_PROVING,
                    lock_price=hex(event.price),
                    lock_tx=event.meta.tx_hash,
                    proving_started_at=self.ctx.now(),
                    error_msg=None,
                )

    async def _find_request(self, request_id: int) -> tuple[ProofRequest, bytes] | None:
        try:
            found = await asyncio.to_thread(
                self.ctx.market.get_submitted_request, request_id, from_block=0
            )
        except Exception as exc:  # not broadcast on chain: nothing to fulfil
            log.info("request %#x locked by another prover but not found: %s", request_id, exc)
            return None
        self.known[request_id] = (found.request, found.client_signature)
        return found.request, found.client_signature

"""Proving service: one cluster session per committed order, monitored to the end.

Orders move ``PendingProving`` → ``Proving`` (the session ID is stored at once, so after a
restart the broker resumes watching the same session instead of proving twice) →
``ReadyForBatch`` with the verified journal and claim digest. A session is cancelled when
its order can no longer pay: past expiry, or (for a lapsed lock) fulfilled by another
prover first.

The cluster's receipt (STARK unless the cluster runs in dev mode) is verified here, then
published through the broker's storage provider under its claim digest
(:mod:`proofmarket.broker.receipts`) for requestors to verify off chain; the order records
its URL and mode. A failed upload is logged and does not stop the fulfilment. On chain the
seal still goes through the dev verifier until the fraud-proof verifier exists.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from proofmarket.broker.context import BrokerContext
from proofmarket.broker.order import FulfillmentType, Order, OrderStatus
from proofmarket.cluster.client import ClusterApiError
from proofmarket.market.errors import MarketError
from proofmarket.market.guest_env import decode_guest_env
from proofmarket.market.predicates import claim_digest, evaluate
from proofmarket.market.storage import fetch_url
from proofmarket.market.types import InputType
from proofmarket.market.validation import MAX_JOURNAL_BYTES

log = logging.getLogger(__name__)


class ProofAbandoned(Exception):
    """The order no longer pays; the message says why."""


class ProvingService:
    def __init__(self, ctx: BrokerContext, *, poll_secs: float = 0.25) -> None:
        self.ctx = ctx
        self.poll_secs = poll_secs
        self.active: dict[str, asyncio.Task[None]] = {}
        self._storage: Any = None  # the receipts' storage provider, opened on first use

    def _publish(self, claim: bytes, data: bytes) -> str | None:
        """Upload a receipt for requestors; None (logged) when the storage refuses it."""
        from proofmarket.broker.receipts import publish_receipt
        from proofmarket.market.storage import storage_from_env

        try:
            if self._storage is None:
                self._storage = storage_from_env(self.ctx.storage_env)
            return publish_receipt(self._storage, claim, data)
        except MarketError as exc:
            log.warning("could not publish the receipt of claim %s: %s", claim.hex(), exc)
            return None

    async def run(self) -> None:
        ctx = self.ctx
        for order in ctx.db.orders_with_status(OrderStatus.PROVING):
            self._start(order)
        try:
            while True:
                taken = ctx.db.take_order(OrderStatus.PENDING_PROVING, OrderStatus.PROVING)
                if taken is None:
                    await asyncio.sleep(self.poll_secs)
                    continue
                ctx.emit("order_status", order_id=taken.id, status=taken.status.value, error=None)
                self._start(taken)
        finally:
            for task in self.active.values():
                task.cancel()

    def _start(self, order: Order) -> None:
        if order.id in self.active:
            return
        task = asyncio.create_task(self._prove(order))
        self.active[order.id] = task
        oid = order.id

        def forget(_task: asyncio.Task[None]) -> None:
            self.active.pop(oid, None)

        task.add_done_callback(forget)

    async def _prove(self, order: Order) -> None:
        ctx = self.ctx
        retries = ctx.config.prover.proof_retry_count
        attempt = 0
        while True:
            try:
                await self._prove_once(order)
                return
            except ProofAbandoned as exc:
                status = OrderStatus.SKIPPED if "another prover" in str(exc) else OrderStatus.FAILED
                ctx.set_status(order.id, status, error_msg=str(exc))
                return
            except Exception as exc:
                attempt += 1
                if attempt > retries:
                    log.exception("proving %s failed", order.id)
                    ctx.set_status(order.id, OrderStatus.FAILED, error_msg=f"proving failed: {exc}")
                    return
                log.warning("proving %s failed (%s); retry %d/%d", order.id, exc, attempt, retries)
                order = ctx.set_status(order.id, OrderStatus.PROVING, proof_id=None)
                await asyncio.sleep(ctx.config.prover.proof_retry_sleep_ms / 1000)

    def _check_useful(self, order: Order) -> None:
        ctx = self.ctx
        if ctx.now() > order.expire_timestamp:
            raise ProofAbandoned("expired while proving")
        if (
            order.fulfillment_type is FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE
            and ctx.db.is_request_fulfilled(order.request_id)
        ):
            raise ProofAbandoned("fulfilled by another prover first")

    async def _prove_once(self, order: Order) -> None:
        ctx = self.ctx
        prover = ctx.prover
        self._check_useful(order)
        session = order.proof_id
        if session is None:
            image_id, input_id = await self._inputs(order)
            session = await prover.start_proof(image_id, input_id)
            order = ctx.set_status(
                order.id, OrderStatus.PROVING, proof_id=session, input_id=input_id
            )
            log.info("order %s: proving in cluster session %s", order.id, session)
        errors = 0
        while True:
            try:
                status = await prover.status(session)
                errors = 0
            except ClusterApiError:
                errors += 1
                if errors > ctx.config.prover.status_poll_retry_count:
                    raise
                await asyncio.sleep(ctx.config.prover.status_poll_ms / 1000)
                continue
            if status.finished:
                break
            try:
                self._check_useful(order)
            except ProofAbandoned:
                await prover.cancel(session)
                raise
            await asyncio.sleep(min(self.poll_secs, ctx.config.prover.status_poll_ms / 1000))
        if status.status != "SUCCEEDED":
            raise RuntimeError(f"cluster session {session} {status.status}: {status.error_msg}")
        await self._finish(order, session)

    async def _inputs(self, order: Order) -> tuple[bytes, str]:
        """Image and input on the cluster (uploaded again if this is a fresh cluster)."""
        prover = self.ctx.prover
        request = order.proof_request
        max_bytes = self.ctx.config.market.max_file_size
        if order.image_id is not None:
            image_id = bytes.fromhex(order.image_id)
        else:
            from proofmarket.zkvm import compute_image_id

            elf = await asyncio.to_thread(fetch_url, request.image_url, max_bytes)
            image_id = await asyncio.to_thread(compute_image_id, elf)
        if not await prover.has_image(image_id):  # a fresh cluster: upload (it checks the ID)
            elf = await asyncio.to_thread(fetch_url, request.image_url, max_bytes)
            await prover.upload_image(image_id, elf)
        if request.input.input_type == InputType.URL:
            env = await asyncio.to_thread(fetch_url, request.input.url, max_bytes)
        else:
            env = request.input.data
        input_id = await prover.upload_input(decode_guest_env(env))
        return image_id, input_id

    async def _finish(self, order: Order, session: str) -> None:
        from proofmarket.zkvm.receipt import Receipt, stark_profiles, verify

        ctx = self.ctx
        data = await ctx.prover.receipt(session)
        receipt = Receipt.from_bytes(data)
        image_id = bytes.fromhex(order.image_id or receipt.image_id.hex())
        # the broker checks its own cluster's work: a dev-mode cluster or one on the test
        # profile is the operator's choice, recorded on the order (receipt_mode) and seen
        # by every requestor who verifies the published receipt
        await asyncio.to_thread(
            verify, receipt, image_id, allow_dev_mode=True, allow_insecure_params=True
        )
        mode = receipt.mode
        if not receipt.is_dev_mode:
            mode += f" ({', '.join(sorted(stark_profiles(receipt)))})"
        journal = receipt.journal
        request = order.proof_request
        if len(journal) > MAX_JOURNAL_BYTES:
            raise ProofAbandoned(f"journal of {len(journal)} bytes exceeds the contract limit")
        if not evaluate(request.requirements.predicate, image_id, journal):
            raise ProofAbandoned("the proven journal does not satisfy the predicate")
        claim = claim_digest(image_id, journal)
        url = await asyncio.to_thread(self._publish, claim, data)
        ctx.set_status(
            order.id,
            OrderStatus.READY_FOR_BATCH,
            journal=journal.hex(),
            claim_digest=claim.hex(),
            image_id=image_id.hex(),
            dev_mode=receipt.is_dev_mode,
            receipt_mode=mode,
            receipt_url=url,
        )
        ctx.emit("proved", order_id=order.id, cycles=order.total_cycles)

"""Submitter: fulfils each ``Complete`` batch in one transaction.

Before sending, every order is checked against the chain so nothing is paid twice or sent
for nothing: a lock already paid (an earlier attempt landed after its confirmation timed
out), a lapsed lock another prover fulfilled first, or an order past its expiry is settled
without a fill. Seals: a set-inclusion seal against the batch's root (the root is
submitted with the fills), or a mock seal for requests that name the dev verifier.

Manual recovery: setting a batch back to ``Complete`` makes the submitter run it again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from eth_utils import keccak

from proofmarket.broker.context import BrokerContext
from proofmarket.broker.order import BatchStatus, FulfillmentType, Order, OrderStatus
from proofmarket.broker.txn import TxIntent
from proofmarket.contracts.seals import dev_root_seal, merkle_path, mock_seal, set_inclusion_seal
from proofmarket.market.client import MarketClient, fulfillment_message
from proofmarket.market.commit import BATCH_CALLDATA_PADDING
from proofmarket.market.types import Fulfillment, FulfillmentDataType, PredicateType

log = logging.getLogger(__name__)


class Submitter:
    def __init__(self, ctx: BrokerContext, *, poll_secs: float = 0.25) -> None:
        self.ctx = ctx
        self.poll_secs = poll_secs

    async def run(self) -> None:
        db = self.ctx.db
        for batch_id in db.batches_with_status(BatchStatus.PENDING_SUBMISSION):
            # interrupted mid-submission: check the chain and submit what is still owed
            db.update_batch(batch_id, BatchStatus.COMPLETE)
        while True:
            taken = db.take_batch(BatchStatus.COMPLETE, BatchStatus.PENDING_SUBMISSION)
            if taken is None:
                await asyncio.sleep(self.poll_secs)
                continue
            await self.submit(taken)

    async def submit(self, batch_id: int) -> None:
        ctx = self.ctx
        cfg = ctx.config.batcher
        last_error = "no attempt"
        for attempt in range(1, cfg.max_submission_attempts + 1):
            try:
                if await self._attempt(batch_id):
                    return
                last_error = "transaction not confirmed"
            except Exception as exc:  # keep the batch for recovery, never crash the service
                log.exception("batch %d: submission attempt %d failed", batch_id, attempt)
                last_error = str(exc)
            if attempt < cfg.max_submission_attempts:
                await asyncio.sleep(cfg.submit_retry_delay_ms / 1000)
        ctx.db.update_batch(batch_id, BatchStatus.FAILED, error_msg=last_error)
        for oid in self._orders(batch_id):
            order = ctx.db.get_order(oid)
            if order is not None and order.status is OrderStatus.PENDING_SUBMISSION:
                ctx.set_status(order, OrderStatus.PENDING_SUBMISSION, error_msg=last_error)
        log.error(
            "batch %d failed after %d attempts: %s",
            batch_id,
            cfg.max_submission_attempts,
            last_error,
        )

    def _orders(self, batch_id: int) -> list[str]:
        batch = self.ctx.db.get_batch(batch_id)
        return list(batch["orders"]) if batch else []

    async def _owed(self, order: Order) -> str | None:
        """None if a fill is still owed, else why the order is settled without one."""
        ctx = self.ctx
        if ctx.now() > order.expire_timestamp:
            return "expired before submission"
        lock = await asyncio.to_thread(ctx.market.request_lock, order.request_id)
        if order.fulfillment_type is FulfillmentType.LOCK_AND_FULFILL:
            if lock.has(lock.PAID_DURING_LOCK):
                return "done"
        elif lock.has(lock.PAID_AFTER_LOCK) or lock.has(lock.PAID_DURING_LOCK):
            return "done" if lock.fulfiller == ctx.address else "fulfilled by another prover first"
        return None

    async def _attempt(self, batch_id: int) -> bool:
        ctx = self.ctx
        batch = ctx.db.get_batch(batch_id)
        assert batch is not None
        digests = [bytes.fromhex(d) for d in batch["claim_digests"]]
        root = bytes.fromhex(batch["root"])
        fills: list[Fulfillment] = []
        included: list[Order] = []
        needs_root = False
        for index, oid in enumerate(batch["orders"]):
            order = ctx.db.get_order(oid)
            if order is None or order.status in (
                OrderStatus.DONE,
                OrderStatus.FAILED,
                OrderStatus.SKIPPED,
            ):
                continue
            settled = await self._owed(order)
            if settled == "done":
                ctx.set_status(order, OrderStatus.DONE)
                continue
            if settled is not None:
                status = OrderStatus.SKIPPED if "another prover" in settled else OrderStatus.FAILED
                ctx.set_status(order, status, error_msg=settled)
                continue
            fill, uses_root = self._fill(order, digests, index)
            needs_root |= uses_root
            fills.append(fill)
            included.append(order)
        if not fills:
            ctx.db.update_batch(batch_id, BatchStatus.SUBMITTED)
            return True
        if not await self._commit(batch_id, fills):
            return False
        intent = self._intent(batch_id, fills, root, needs_root)
        outcome = await ctx.sender.send(intent)
        ctx.emit(
            "tx",
            purpose="fulfil",
            batch_id=batch_id,
            gas_used=outcome.gas_used,
            state=outcome.state,
        )
        if not outcome.ok:
            log.warning("batch %d: fulfil %s: %s", batch_id, outcome.state, outcome.error)
            if outcome.state == "rejected":
                raise RuntimeError(f"fulfil refused: {outcome.error}")
            return False
        for order in included:
            ctx.set_status(order, OrderStatus.DONE, error_msg=None)
            ctx.emit("fulfilled", order_id=order.id, lock_price=order.lock_price)
        ctx.db.update_batch(batch_id, BatchStatus.SUBMITTED, tx_hash=outcome.tx_hash)
        log.info("batch %d submitted: %d fills in %s", batch_id, len(fills), outcome.tx_hash)
        return True

    async def _commit(self, batch_id: int, fills: list[Fulfillment]) -> bool:
        """Commit, a block before the reveal, every fill that is not our own lock paid in
        time (lapsed locks, late fills): the market refuses those uncommitted."""
        ctx = self.ctx
        market = ctx.market
        needed: list[bytes] = []
        for fill in fills:
            if await asyncio.to_thread(market.needs_commitment, fill):
                commitment = market.fill_commitment(fill)
                if await asyncio.to_thread(market.commitment_block, commitment) == 0:
                    needed.append(commitment)
        if not needed:
            return True
        if len(needed) == 1:
            data = market.contract.encode_abi("commitFulfillment", args=[needed[0]])
        else:
            data = market.contract.encode_abi("commitFulfillments", args=[needed])
        tag = keccak(b"".join(needed)).hex()[:16]
        outcome = await ctx.sender.send(
            TxIntent(
                purpose="commit",
                ref=f"batch-{batch_id}-{tag}",
                to=market.address,
                data=bytes.fromhex(data.removeprefix("0x")),
            )
        )
        ctx.emit(
            "tx",
            purpose="commit",
            batch_id=batch_id,
            gas_used=outcome.gas_used,
            state=outcome.state,
        )
        if not outcome.ok:
            log.warning("batch %d: commit %s: %s", batch_id, outcome.state, outcome.error)
            return False
        committed_at = outcome.block_number or 0
        while await asyncio.to_thread(market.block_number) <= committed_at:
            if await asyncio.to_thread(_automines, market):
                break  # the reveal itself will be mined in a later block
            await asyncio.sleep(0.2)
        log.info("batch %d: %d fills committed in block %d", batch_id, len(needed), committed_at)
        return True

    def _fill(self, order: Order, digests: list[bytes], index: int) -> tuple[Fulfillment, bool]:
        verifiers = self.ctx.verifiers
        request = order.proof_request
        claim = bytes.fromhex(order.claim_digest or "")
        selector = request.requirements.selector
        if verifiers.mock_selector is not None and selector == verifiers.mock_selector:
            seal, uses_root = mock_seal(claim, selector), False
        elif verifiers.set_selector is not None:
            path = merkle_path(digests, index)
            seal, uses_root = set_inclusion_seal(verifiers.set_selector, path), True
        elif verifiers.mock_selector is not None:
            seal, uses_root = mock_seal(claim, verifiers.mock_selector), False
        else:
            raise RuntimeError("no verifier to fulfil with (no set verifier, not a dev deployment)")
        carries_journal = (
            request.requirements.predicate.predicate_type != PredicateType.CLAIM_DIGEST_MATCH
            or request.requirements.callback.addr != "0x0000000000000000000000000000000000000000"
        )
        fill = Fulfillment(
            request=request,
            client_signature=order.signature,
            fulfillment_data_type=FulfillmentDataType.IMAGE_ID_AND_JOURNAL
            if carries_journal
            else FulfillmentDataType.NONE,
            image_id=bytes.fromhex(order.image_id or "") if carries_journal else bytes(32),
            journal=order.journal_bytes if carries_journal else b"",
            seal=seal,
        )
        return fill, uses_root

    def _intent(
        self, batch_id: int, fills: list[Fulfillment], root: bytes, needs_root: bool
    ) -> TxIntent:
        ctx = self.ctx
        verifiers = ctx.verifiers
        messages: list[dict[str, Any]] = [fulfillment_message(f) for f in fills]
        if needs_root:
            assert verifiers.set_verifier is not None and verifiers.set_builder_image_id is not None
            root_seal = dev_root_seal(verifiers.set_builder_image_id, root)
            data = ctx.market.contract.encode_abi(
                "submitRootAndFulfillBatch",
                args=[verifiers.set_verifier, root, root_seal, messages],
            )
        else:
            data = ctx.market.contract.encode_abi("fulfillBatch", args=[messages])
            data += BATCH_CALLDATA_PADDING.hex()  # the market decodes fills from padded calldata
        return TxIntent(
            purpose="fulfil",
            ref=f"batch-{batch_id}",
            to=ctx.market.address,
            data=bytes.fromhex(data.removeprefix("0x")),
        )


def _automines(market: MarketClient) -> bool:
    """True on a node that mines each transaction at once (anvil's default)."""
    try:
        answer = market.w3.provider.make_request("anvil_getAutomine", [])  # type: ignore[arg-type]
        return bool(answer["result"])
    except Exception:  # not anvil: blocks come on a timer
        return False

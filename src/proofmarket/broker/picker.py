"""Order picker: filters, preflight on the cluster, pricing.

Every candidate goes through cheap filters first (expiry, lists, selector, stake, gas),
then a preflight (an execute-only cluster session with a cycle limit, at most
``max_concurrent_preflights`` at once, cached per image and input), then the checks that
need the preflight (cycles, journal size, predicate) and Boundless's pricing. A refusal
is stored as a ``Skipped`` order with its reason, and logged. What passes is handed to the
order monitor, which decides when to lock.

The filters are also the broker's protection against requests built to get a prover
slashed: anything whose fulfilment could revert is refused before locking.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import requests

from proofmarket.broker import pricing
from proofmarket.broker.config import MarketConfig
from proofmarket.broker.context import BrokerContext
from proofmarket.broker.market_monitor import Candidate
from proofmarket.broker.order import FulfillmentType, Order, OrderStatus
from proofmarket.broker.prover import PreflightFailed
from proofmarket.cluster.client import ClusterApiError
from proofmarket.market.eip712 import recover_request_signer, request_digest
from proofmarket.market.errors import RpcUnavailableError
from proofmarket.market.guest_env import decode_guest_env
from proofmarket.market.predicates import evaluate
from proofmarket.market.storage import fetch_url
from proofmarket.market.types import InputType, ProofRequest
from proofmarket.market.validation import MAX_JOURNAL_BYTES, request_problems

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Priced:
    """A candidate that passed pricing: lock it (or prove it) from ``target_timestamp``."""

    order: Order
    take: pricing.Take
    priority: bool


@dataclass(frozen=True)
class Preflight:
    image_id: bytes
    input_id: str
    total_cycles: int
    journal: bytes | None
    """None when the preflight was skipped (``skip_preflight_ids``)."""


class PreflightCache:
    """Results per (image ID, input digest), shared by concurrent callers, with a TTL."""

    def __init__(self) -> None:
        self._entries: dict[tuple[bytes, bytes], tuple[float, asyncio.Future[Preflight]]] = {}

    def get_or_start(
        self, key: tuple[bytes, bytes], ttl: float, start: Callable[[], Awaitable[Preflight]]
    ) -> asyncio.Future[Preflight]:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            future = entry[1]
            if not (future.done() and future.exception() is not None):
                return future
        future = asyncio.ensure_future(start())
        self._entries[key] = (now + ttl, future)
        return future

    def __len__(self) -> int:
        return len(self._entries)


def pricing_rank(cfg: MarketConfig, candidate: Candidate) -> tuple[int, float]:
    """Pricing order: priority requestors first, then ``order_pricing_priority``."""
    first = 0 if candidate.request.client in (cfg.priority_requestor_addresses or []) else 1
    mode = cfg.order_pricing_priority
    if mode == "shortest_expiry":
        offer = candidate.request.offer
        expiry = (
            offer.lock_deadline
            if candidate.kind is FulfillmentType.LOCK_AND_FULFILL
            else offer.deadline
        )
        return first, float(expiry)
    if mode == "random":
        return first, random.random()
    return first, candidate.observed_at


RETRY_UNAVAILABLE_SECS = 2.0
UNAVAILABLE = (ClusterApiError, RpcUnavailableError, requests.exceptions.RequestException)


def _transient(exc: BaseException) -> bool:
    """The cluster or node could not be reached (or answered 5xx): not the request's fault."""
    if isinstance(exc, ClusterApiError):
        return exc.status == 0 or exc.status >= 500
    return True


class Refused(Exception):
    """A candidate is not taken; the message is the logged reason."""


class OrderPicker:
    def __init__(self, ctx: BrokerContext, deliver: Callable[[Priced], None]) -> None:
        self.ctx = ctx
        self.deliver = deliver
        self.queue: asyncio.PriorityQueue[tuple[tuple[int, float], int, Candidate]] = (
            asyncio.PriorityQueue(maxsize=1000)
        )
        self._seq = itertools.count()
        self.cache = PreflightCache()
        self._images: dict[str, bytes] = {}
        self._running = 0
        self._seen: set[str] = set()
        self._retries: set[asyncio.Task[None]] = set()

    async def submit(self, candidate: Candidate) -> None:
        rank = pricing_rank(self.ctx.config.market, candidate)
        await self.queue.put((rank, next(self._seq), candidate))

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                _, _, candidate = await self.queue.get()
                if self.ctx.stopping:
                    continue
                while self._running >= self.ctx.config.market.max_concurrent_preflights:
                    await asyncio.sleep(0.05)
                self._running += 1
                task = asyncio.create_task(self._price(candidate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()

    async def _price(self, candidate: Candidate) -> None:
        try:
            await self._price_candidate(candidate)
        except Exception:  # a broken request must never stop the picker
            log.exception("pricing request %#x failed", candidate.request.id)
        finally:
            self._running -= 1

    async def _price_candidate(self, candidate: Candidate) -> None:
        ctx = self.ctx
        request = candidate.request
        digest = request_digest(request, ctx.market.domain)
        order = Order.new(
            request,
            candidate.client_sig,
            digest,
            candidate.kind,
            chain_id=ctx.market.chain_id,
            market_address=ctx.market.address,
        ).model_copy(update={"observed_at": candidate.observed_at})
        if order.id in self._seen:
            return
        existing = ctx.db.get_order(order.id)
        if existing is not None and existing.status is not OrderStatus.SKIPPED:
            return
        self._seen.add(order.id)
        try:
            priced = await self.evaluate(order, request)
        except Refused as exc:
            ctx.record(order.model_copy(update={"error_msg": str(exc)}))
            return
        except UNAVAILABLE as exc:
            if not _transient(exc):
                raise
            self._seen.discard(order.id)
            log.warning(
                "pricing %s: %s unavailable (%s); retrying in %.0f s",
                order.id,
                "cluster" if isinstance(exc, ClusterApiError) else "chain",
                exc,
                RETRY_UNAVAILABLE_SECS,
            )
            self._retry_later(candidate)
            return
        except Exception as exc:
            log.exception("pricing %s failed", order.id)
            ctx.record(order.model_copy(update={"error_msg": f"pricing failed: {exc}"}))
            return
        self.deliver(priced)

    def _retry_later(self, candidate: Candidate) -> None:
        """Price again once the cluster or node is back (the order's own checks drop it
        when it expires meanwhile)."""

        async def again() -> None:
            await asyncio.sleep(RETRY_UNAVAILABLE_SECS)
            await self.submit(candidate)

        task = asyncio.create_task(again())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    # ------------------------------------------------------------------ evaluation
    async def evaluate(self, order: Order, request: ProofRequest) -> Priced:
        ctx = self.ctx
        cfg = ctx.config.market
        kind = order.fulfillment_type
        lock_expired = kind is FulfillmentType.FULFILL_AFTER_LOCK_EXPIRE
        offer = request.offer
        client = request.client
        priority = client in (cfg.priority_requestor_addresses or [])
        now = ctx.now()
        expiry = order.expire_timestamp
        if expiry <= now:
            raise Refused("expired")
        if expiry - now <= cfg.min_deadline:
            raise Refused(
                f"expires in {expiry - now} s, within min_deadline ({cfg.min_deadline} s)"
            )
        if cfg.allow_client_addresses is not None and client not in cfg.allow_client_addresses:
            raise Refused(f"requestor {client} is not in allow_client_addresses")
        if client in (cfg.deny_requestor_addresses or []):
            raise Refused(f"requestor {client} is in deny_requestor_addresses")
        problems = request_problems(request)
        if problems:
            raise Refused("invalid request: " + "; ".join(problems))
        selector = request.requirements.selector
        if not ctx.verifiers.supports(selector):
            raise Refused(f"unknown verifier selector 0x{selector.hex()}")
        gas_limit = request.requirements.callback.gas_limit
        if gas_limit > cfg.max_callback_gas:
            raise Refused(
                f"callback gas limit {gas_limit} above max_callback_gas ({cfg.max_callback_gas})"
            )
        signer = recover_request_signer(request, ctx.market.domain, order.signature)
        if signer != client:
            raise Refused(f"client signature recovers to {signer}, not the requestor {client}")
        if lock_expired:
            if ctx.db.is_request_fulfilled(order.request_id):
                raise Refused("already fulfilled")
        else:
            if offer.lock_collateral > cfg.max_stake_units:
                raise Refused(
                    f"lock collateral {offer.lock_collateral} above max_stake ({cfg.max_stake})"
                )
            locker = ctx.db.request_locker(order.request_id)
            if locker is not None:
                raise Refused(f"already locked by {locker}")
        head = await ctx.chain.current()
        gas_cost = head.gas_price * pricing.order_gas(cfg, request, kind)
        if not lock_expired and gas_cost > offer.max_price:
            raise Refused(f"gas cost {gas_cost} wei above the max price {offer.max_price}")
        committed_gas = sum(
            head.gas_price * pricing.fulfil_gas(cfg, o.proof_request)
            for o in ctx.db.committed_orders()
        )
        balance = await asyncio.to_thread(ctx.market.w3.eth.get_balance, ctx.address)  # type: ignore[arg-type]
        if gas_cost > int(balance) - committed_gas:
            raise Refused(
                f"gas cost {gas_cost} wei above the wallet's available "
                f"{int(balance) - committed_gas}"
            )
        if not lock_expired:
            stake = await asyncio.to_thread(ctx.market.balance_of_stake, ctx.address)
            if offer.lock_collateral > stake:
                raise Refused(
                    f"insufficient stake: lock needs {offer.lock_collateral}, have {stake}"
                )
            if await asyncio.to_thread(ctx.market.account_is_frozen, ctx.address):
                raise Refused("this prover's account is frozen (unfreeze after the slash)")
        preflight_limit, prove_limit = pricing.exec_limits(
            cfg, request, kind, gas_cost, now, priority=priority
        )
        if prove_limit < 2:
            raise Refused(f"cycle limit {prove_limit} too small for the offer")
        started = time.perf_counter()
        result = await self._preflight(order, request, preflight_limit, priority)
        preflight_secs = time.perf_counter() - started
        ctx.emit("preflight", order_id=order.id, seconds=preflight_secs)
        if result.total_cycles > prove_limit:
            raise Refused(
                f"{result.total_cycles} cycles above the limit {prove_limit} for this offer"
            )
        if result.journal is not None:
            journal_cap = min(cfg.max_journal_bytes, MAX_JOURNAL_BYTES)
            if len(result.journal) > journal_cap:
                raise Refused(f"journal of {len(result.journal)} bytes above {journal_cap}")
            if not evaluate(request.requirements.predicate, result.image_id, result.journal):
                raise Refused("the preflight journal does not satisfy the request's predicate")
        take = (
            pricing.price_lock_expired(cfg, offer, result.total_cycles)
            if lock_expired
            else pricing.price_lockable(cfg, offer, result.total_cycles, gas_cost)
        )
        if isinstance(take, pricing.Skip):
            raise Refused(take.reason)
        priced = order.model_copy(
            update={
                "image_id": result.image_id.hex(),
                "input_id": result.input_id,
                "total_cycles": result.total_cycles,
                "target_timestamp": take.target_timestamp,
                "journal": None if result.journal is None else result.journal.hex(),
                "preflight_secs": preflight_secs,
            }
        )
        return Priced(priced, take, priority)

    async def _preflight(
        self, order: Order, request: ProofRequest, limit: int, priority: bool
    ) -> Preflight:
        cfg = self.ctx.config
        max_bytes = cfg.market.max_file_size if not priority else 1 << 40
        elf = await self._fetch(request.image_url, max_bytes, "program")
        wanted = request.requirements.image_id
        if wanted is None:  # ClaimDigestMatch: the image ID comes from the program itself
            image_id = await asyncio.to_thread(_image_id, elf)
        else:
            # the cluster computes and checks the ELF's image ID on upload (once per image),
            # which spares this process the page-tree hashing of every program
            image_id = wanted
            try:
                await self.ctx.prover.upload_image(image_id, elf)
            except ClusterApiError as exc:
                if exc.type_name != "ImageIdMismatch":
                    raise
                raise Refused(
                    f"program at imageUrl does not have the request's image ID "
                    f"{wanted.hex()}: {exc.msg}"
                ) from exc
        if request.input.input_type == InputType.URL:
            env = await self._fetch(request.input.url, max_bytes, "input")
        else:
            env = request.input.data
        try:
            stdin = decode_guest_env(env)
        except Exception as exc:
            raise Refused(f"input cannot be decoded: {exc}") from exc
        key = (image_id, hashlib.sha256(env).digest())
        skip_ids = cfg.market.skip_preflight_ids or []

        async def run() -> Preflight:
            prover = self.ctx.prover
            await prover.upload_image(image_id, elf)
            input_id = await prover.upload_input(stdin)
            if image_id.hex() in skip_ids:
                return Preflight(image_id, input_id, 0, None)
            try:
                result = await prover.preflight(
                    image_id,
                    input_id,
                    limit,
                    poll=0.1,
                    timeout=cfg.prover.preflight_timeout_secs,
                )
            except PreflightFailed as exc:
                if exc.limit is not None:
                    raise Refused(f"preflight stopped at the cycle limit {limit}: {exc}") from exc
                raise Refused(f"preflight failed: {exc}") from exc
            return Preflight(image_id, input_id, result.total_cycles, result.journal)

        future = self.cache.get_or_start(key, cfg.market.preflight_cache_secs, run)
        result = await asyncio.shield(future)
        return result

    async def _fetch(self, url: str, max_bytes: int, what: str) -> bytes:
        cached = self._images.get(url)
        if cached is not None and len(cached) <= max_bytes:
            return cached
        retries = self.ctx.config.market.max_fetch_retries
        last: Exception | None = None
        for _ in range(retries + 1):
            try:
                data = await asyncio.to_thread(fetch_url, url, max_bytes)
            except Exception as exc:
                last = exc
                if (
                    "larger" in str(exc)
                    or "limit" in str(exc)
                    or type(exc).__name__ == "FetchTooLarge"
                ):
                    break
                await asyncio.sleep(0.2)
                continue
            if what == "program":
                self._images[url] = data
            return data
        raise Refused(f"{what} unavailable: {last}")


def _image_id(elf: bytes) -> bytes:
    from proofmarket.zkvm import compute_image_id

    return compute_image_id(elf)

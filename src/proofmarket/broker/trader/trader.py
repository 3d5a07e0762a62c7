"""``Trader``: the one transaction queue of a signing key.

Services never send transactions themselves: they :meth:`Trader.enqueue` a call (with a
purpose and the order it serves) and later ``await`` :meth:`Trader.wait` for its outcome.
One loop (:meth:`Trader.tick`, run by :meth:`Trader.run` or a thread) does every send:

* **nonces in one place** – a nonce is picked when a record is first signed: one above the
  highest nonce any in-flight record holds, or the chain's pending count if higher. A lock
  and a fulfil from the same wallet therefore never race for a nonce, and nothing ever
  needs a "replacement transaction underpriced" retry;
* **write before send** – the signed bytes are stored before they are broadcast, so after
  a crash the same bytes (same nonce, same hash) are rebroadcast: nothing runs twice;
* **fee bumping** – an attempt still unmined after ``bump_after`` seconds is re-signed on
  the same nonce with both fee fields raised by ``bump_percent``;
* **``txn_timeout``** – past it, a lock is first looked for in the chain's lock events;
  otherwise a zero-value self-transfer replaces the transaction on its nonce. Whichever
  of the two is mined decides the outcome, so a late lock is never mistaken for a failure
  (Boundless #547) and a given-up transaction can no longer land behind our back;
* **retries** – a refused gas estimate while earlier transactions of the key are still in
  flight waits for them (a fulfil may depend on a lock just sent); RPC errors are retried
  on the next tick, a broadcast refused by the node up to ``max_send_retries`` times.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

from proofmarket.broker.trader.fees import Fees, bumped_fees, initial_fees
from proofmarket.broker.trader.reconcile import Reconciler
from proofmarket.broker.trader.store import TxStore
from proofmarket.broker.trader.types import (
    ACTIVE_STATUSES,
    IN_FLIGHT_STATUSES,
    TxAttempt,
    TxOutcome,
    TxPurpose,
    TxReceiptInfo,
    TxRecord,
    TxStatus,
)
from proofmarket.market.reverts import revert_from_exception

log = logging.getLogger(__name__)

CANCEL_GAS = 21_000
LEASE_TTL_SECS = 15.0
"""A loop that stops renewing (killed on another host) frees its key after this long."""
WAIT_POLL_SECS = 0.05
"""How often a waiting service re-reads its record (a cheap indexed read)."""
NODE_REFUSED = "NodeRefused"
GAS_MULTIPLIER = 1.25
GAS_HEADROOM = 10_000
_NONCE_USED = ("nonce too low", "already known", "known transaction", "nonce has already")


class TraderError(RuntimeError):
    """A queue operation could not be done (unknown record, wait timeout)."""


class TxWaitTimeout(TraderError):
    """:meth:`Trader.wait` ran out of time before the record became final."""


@dataclass
class TraderConfig:
    """How the queue sends; the broker fills it from broker.toml."""

    txn_timeout: float = 45.0
    """Seconds from the first send until the queue gives a transaction up (cancels it)."""
    bump_after: float = 15.0
    """Seconds an attempt may stay unmined before it is re-sent with higher fees."""
    bump_percent: int = 20
    max_fee_per_gas_cap: int | None = None
    max_in_flight: int = 8
    """Transactions of one key that may wait in the mempool at once."""
    max_send_retries: int = 5
    poll_interval: float = 0.5


@dataclass(frozen=True)
class TxHandle:
    """What :meth:`Trader.enqueue` returns: the record's id (durable across restarts)."""

    id: int
    sender: str
    purpose: TxPurpose
    order_id: str


@dataclass
class _Chain:
    """What one tick reads from the chain once."""

    base_fee: int
    priority_fee: int
    latest_nonce: int
    pending_nonce: int


def _holder_is_gone(holder: str) -> bool:
    """A lease held by a process of this host that no longer runs (killed, crashed)."""
    from proofmarket.processes import pid_alive

    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def _is_nonce_used(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _NONCE_USED)


def _rpc_down(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)


class Trader:
    """The queue of one key: enqueue from any thread or task, one loop sends."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        store: TxStore,
        config: TraderConfig | None = None,
        *,
        reconcilers: dict[TxPurpose, Reconciler] | None = None,
        on_final: Callable[[TxRecord], None] | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.store = store
        self.config = config or TraderConfig()
        self.reconcilers: dict[TxPurpose, Reconciler] = dict(reconcilers or {})
        self.on_final = on_final
        self._enqueue_lock = threading.Lock()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This loop's name in the store's lease: one loop per key sends at a time."""
        self._lease_renew_at = 0.0
        self._lease_warned = False
        self._wake = threading.Event()
        """Set by enqueue: the loop sends a new transaction now, not at its next poll."""
        self._tick_lock = threading.Lock()
        self._chain_id: int | None = None

    @classmethod
    def for_market(
        cls,
        w3: Web3,
        account: LocalAccount,
        store: TxStore,
        market_address: str,
        config: TraderConfig | None = None,
        **kwargs: Any,
    ) -> Trader:
        """A trader whose lock records are reconciled against ``market_address``'s events."""
        from proofmarket.broker.trader.reconcile import LockReconciler
        from proofmarket.market.client import MarketClient

        market = MarketClient(w3, market_address)
        reconcilers = {TxPurpose.LOCK: LockReconciler(market), **kwargs.pop("reconcilers", {})}
        return cls(w3, account, store, config, reconcilers=reconcilers, **kwargs)

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    # ------------------------------------------------------------------ the public queue
    def enqueue(
        self,
        to: str,
        data: str | bytes,
        *,
        purpose: TxPurpose | str = TxPurpose.OTHER,
        order_id: str = "",
        request_id: int | None = None,
        value: int = 0,
        gas_limit: int | None = None,
        priority_fee_bonus: int = 0,
        idempotency_key: str | None = None,
    ) -> TxHandle:
        """Queue a call; returns at once. Safe to call again after a restart.

        ``idempotency_key`` (default ``"{purpose}:{order_id}"`` when an order id is given)
        makes a repeated enqueue return the existing record instead of queuing a second
        transaction, unless that record already failed or reverted.
        """
        purpose = TxPurpose(purpose)
        calldata = data if isinstance(data, str) else "0x" + data.hex()
        if not calldata.startswith("0x"):
            raise ValueError(f"calldata must be 0x-prefixed hex, got {calldata[:12]!r}…")
        if value < 0 or priority_fee_bonus < 0 or (gas_limit is not None and gas_limit <= 0):
            raise ValueError("value, priority_fee_bonus and gas_limit must be positive")
        key = idempotency_key if idempotency_key is not None else ""
        if idempotency_key is None and order_id:
            key = f"{purpose}:{order_id}"
        with self._enqueue_lock:
            if key:
                existing = self.store.find_idempotent(self.address, key)
                if existing is not None and existing.status not in (
                    TxStatus.FAILED,
                    TxStatus.REVERTED,
                ):
                    return self._handle(existing)
            try:
                head = int(self.w3.eth.block_number)
            except Exception:  # reconciliation then scans from genesis; still correct
                head = 0
            record = TxRecord(
                sender=self.address,
                purpose=purpose,
                to=to_checksum_address(to),
                data=calldata,
                value=value,
                order_id=order_id,
                request_id=request_id,
                idempotency_key=key,
                priority_fee_bonus=priority_fee_bonus,
                gas_limit=gas_limit,
                from_block=head,
            )
            self.store.insert(record)
        self._wake.set()
        log.info("queued tx %d (%s %s) for %s", record.id, purpose, order_id, self.address)
        return self._handle(record)

    def enqueue_call(self, fn: Any, **kwargs: Any) -> TxHandle:
        """Queue a web3 contract function call (``contract.functions.name(args)``)."""
        return self.enqueue(fn.address, fn._encode_transaction_data(), **kwargs)

    def get(self, tx_id: int | TxHandle) -> TxRecord:
        record = self.store.get(tx_id.id if isinstance(tx_id, TxHandle) else tx_id)
        if record is None or record.sender != self.address:
            raise TraderError(f"no transaction {tx_id} in the queue of {self.address}")
        return record

    def outcome(self, tx_id: int | TxHandle) -> TxOutcome | None:
        """The final outcome, or None while the record is still queued or in flight."""
        record = self.get(tx_id)
        return TxOutcome.of(record) if record.status.final else None

    def records(
        self, statuses: Iterable[TxStatus] | None = None, limit: int | None = None
    ) -> list[TxRecord]:
        """This key's records, oldest first."""
        return self.store.list(self.address, list(statuses) if statuses else None, limit)

    def pending(self) -> list[TxRecord]:
        """Records not yet final (queued or in flight)."""
        return self.records(ACTIVE_STATUSES)

    async def wait(self, tx_id: int | TxHandle, timeout: float | None = None) -> TxOutcome:
        """Wait until the record is final; the queue's own loop must be running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = await asyncio.to_thread(self.outcome, tx_id)
            if found is not None:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise TxWaitTimeout(f"transaction {tx_id} not final within {timeout:g} s")
            await asyncio.sleep(WAIT_POLL_SECS)

    def wait_sync(self, tx_id: int | TxHandle, timeout: float | None = None) -> TxOutcome:
        """:meth:`wait` for threads (the loop runs elsewhere, e.g. :meth:`start_thread`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = self.outcome(tx_id)
            if found is not None:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise TxWaitTimeout(f"transaction {tx_id} not final within {timeout:g} s")
            time.sleep(WAIT_POLL_SECS)

    # ------------------------------------------------------------------ the loop
    def _nap(self) -> None:
        """Wait one poll interval, or less when something is enqueued meanwhile."""
        self._wake.wait(self.config.poll_interval)
        self._wake.clear()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Tick until ``stop`` is set (or the task is cancelled)."""
        try:
            while stop is None or not stop.is_set():
                await asyncio.to_thread(self.tick)
                await asyncio.to_thread(self._nap)
        finally:
            self.close()

    def run_forever(self, stop: threading.Event) -> None:
        """Tick in this thread until ``stop`` is set."""
        while not stop.is_set():
            self.tick()
            self._nap()
        self.close()

    def start_thread(self) -> tuple[threading.Thread, threading.Event]:
        """Run the loop in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name=f"trader-{self.address}", daemon=True
        )
        thread.start()
        return thread, stop

    def close(self) -> None:
        """Give the key's lease back so another loop can take over at once."""
        try:
            self.store.release_lease(self.address, self.owner)
        except Exception as exc:  # the lease simply expires
            log.warning("trader %s: could not release the lease: %s", self.address, exc)
        self._lease_renew_at = 0.0

    def _hold_lease(self) -> bool:
        """Claim or renew the key's lease; False while another live loop holds it."""
        now = time.monotonic()
        if now < self._lease_renew_at:
            return True
        holder = self.store.claim_lease(self.address, self.owner, LEASE_TTL_SECS)
        if holder is not None and _holder_is_gone(holder):
            log.warning("trader %s: taking over from %s (no longer running)", self.address, holder)
            holder = self.store.claim_lease(self.address, self.owner, LEASE_TTL_SECS, force=True)
        if holder is not None:
            if not self._lease_warned:
                log.error(
                    "trader %s: another queue loop (%s) holds this key in %s; waiting for it",
                    self.address, holder, self.store.url,
                )  # fmt: skip
                self._lease_warned = True
            return False
        self._lease_warned = False
        self._lease_renew_at = now + LEASE_TTL_SECS / 3
        return True

    def tick(self) -> None:
        """One pass: settle or bump what is in flight, then send what is queued."""
        with self._tick_lock:
            try:
                if not self._hold_lease():
                    return
                chain = self._read_chain()
            except Exception as exc:
                log.warning("trader %s: cannot read the chain or the store: %s", self.address, exc)
                return
            in_flight = self.store.list(self.address, IN_FLIGHT_STATUSES)
            for record in in_flight:
                self._guard(record, functools.partial(self._follow, record, chain))
            in_flight = self.store.list(self.address, IN_FLIGHT_STATUSES)
            busy = len(in_flight)
            for record in self.store.list(self.address, [TxStatus.QUEUED]):
                if busy >= self.config.max_in_flight:
                    break
                sent = self._guard(record, functools.partial(self._send_new, record, chain, busy))
                if sent:
                    busy += 1

    def _guard(self, record: TxRecord, action: Callable[[], bool | None]) -> bool:
        """Run one record's step; a daemon must survive any single record's failure."""
        try:
            return bool(action())
        except Exception as exc:
            if _rpc_down(exc):
                log.warning("trader: RPC unavailable while handling tx %d: %s", record.id, exc)
            else:
                log.exception("trader: tx %d: unexpected error", record.id)
            return False

    def _read_chain(self) -> _Chain:
        block = self.w3.eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas", 0) or 0)
        try:
            priority = int(self.w3.eth.max_priority_fee)
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            priority = 10**9
        return _Chain(
            base_fee=base_fee,
            priority_fee=priority,
            latest_nonce=int(self.w3.eth.get_transaction_count(self.account.address, "latest")),
            pending_nonce=int(self.w3.eth.get_transaction_count(self.account.address, "pending")),
        )

    # ------------------------------------------------------------------ sending
    def _next_nonce(self, chain: _Chain) -> int:
        held = [r.nonce for r in self.store.list(self.address, IN_FLIGHT_STATUSES)]
        ours = max((n for n in held if n is not None), default=-1) + 1
        return max(ours, chain.pending_nonce, chain.latest_nonce)

    def _send_new(self, record: TxRecord, chain: _Chain, busy: int) -> bool:
        params: dict[str, Any] = {
            "from": self.address,
            "to": record.to,
            "data": HexStr(record.data),
            "value": record.value,
        }
        gas = record.gas_limit
        if gas is None:
            try:
                estimate = self.w3.eth.estimate_gas(params, "pending")  # type: ignore[arg-type]
            except (ContractLogicError, Web3RPCError, ValueError) as exc:
                if busy:
                    log.info("tx %d: estimate refused while %d in flight; waiting", record.id, busy)
                    return False
                revert = revert_from_exception(exc, str(record.purpose))
                self._finish(
                    record,
                    TxStatus.FAILED,
                    error=f"refused at gas estimation: {revert}",
                    error_name=revert.name,
                )
                return False
            gas = int(estimate * GAS_MULTIPLIER) + GAS_HEADROOM
        fees = initial_fees(
            chain.base_fee,
            chain.priority_fee,
            record.priority_fee_bonus,
            self.config.max_fee_per_gas_cap,
        )
        record.nonce = self._next_nonce(chain)
        record.gas_limit = gas
        record.status = TxStatus.PENDING
        record.first_sent_at = time.time()
        self._sign_and_store(record, fees, cancel=False)
        self._broadcast(record, chain)
        return True

    def _tx_fields(self, record: TxRecord, fees: Fees, cancel: bool) -> dict[str, Any]:
        assert record.nonce is not None and record.gas_limit is not None
        fields: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": record.nonce,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        if cancel:
            return {**fields, "to": self.address, "value": 0, "data": "0x", "gas": CANCEL_GAS}
        return {
            **fields,
            "to": record.to,
            "value": record.value,
            "data": record.data,
            "gas": record.gas_limit,
        }

    def _sign_and_store(self, record: TxRecord, fees: Fees, cancel: bool) -> None:
        signed = self.account.sign_transaction(self._tx_fields(record, fees, cancel))
        record.attempts.append(
            TxAttempt(
                tx_hash=signed.hash.to_0x_hex(),
                raw=signed.raw_transaction.to_0x_hex(),
                max_fee_per_gas=fees.max_fee_per_gas,
                max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
                sent_at=time.time(),
                cancel=cancel,
            )
        )
        record.updated_at = time.time()
        self.store.save(record)  # before the broadcast: a crash now resends these bytes

    def _broadcast(self, record: TxRecord, chain: _Chain | None = None) -> None:
        attempt = record.attempts[-1]
        try:
            self.w3.eth.send_raw_transaction(HexStr(attempt.raw))
        except Web3RPCError as exc:
            if _is_nonce_used(exc):
                if not record.accepted:  # pooled or mined: never give this nonce back
                    record.accepted = True
                    self.store.save(record)
                return  # the next tick settles it
            record.send_errors += 1
            record.error = f"node refused the transaction: {exc}"
            if (
                record.send_errors > self.config.max_send_retries
                and not record.accepted
                and not attempt.cancel
            ):
                if not self._later_nonces_in_flight(record):
                    # Never accepted by any node and nothing after it: the nonce is free.
                    record.nonce = None
                    self._finish(record, TxStatus.FAILED, error=record.error)
                    return
                if chain is not None:
                    # Later transactions wait on this nonce: fill it with a cheap
                    # cancellation (retried until the node takes it) instead of a gap.
                    log.warning(
                        "tx %d: refused by the node; filling nonce %s", record.id, record.nonce
                    )
                    record.error_name = NODE_REFUSED
                    self._replace(record, chain, cancel=True)
                    return
            record.updated_at = time.time()
            self.store.save(record)
            log.warning("tx %d: broadcast refused (%d): %s", record.id, record.send_errors, exc)
            return
        if not record.accepted:
            record.accepted = True
            self.store.save(record)

    def _later_nonces_in_flight(self, record: TxRecord) -> bool:
        assert record.nonce is not None
        return any(
            other.nonce is not None and other.nonce > record.nonce
            for other in self.store.list(self.address, IN_FLIGHT_STATUSES)
        )

    # ------------------------------------------------------------------ following
    def _receipt(self, record: TxRecord) -> tuple[TxAttempt, TxReceiptInfo] | None:
        for attempt in reversed(record.attempts):
            try:
                receipt = self.w3.eth.get_transaction_receipt(HexStr(attempt.tx_hash))
            except TransactionNotFound:
                continue
            if receipt is None or receipt.get("blockNumber") is None:
                continue
            return attempt, TxReceiptInfo(
                tx_hash=attempt.tx_hash,
                block_number=int(receipt["blockNumber"]),
                gas_used=int(receipt["gasUsed"]),
                effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
                status=int(receipt["status"]),
            )
        return None

    def _node_knows(self, record: TxRecord) -> bool:
        for attempt in record.attempts:
            try:
                self.w3.eth.get_transaction(HexStr(attempt.tx_hash))
                return True
            except TransactionNotFound:
                continue
        return False

    def _follow(self, record: TxRecord, chain: _Chain) -> None:
        found = self._receipt(record)
        if found is not None:
            self._settle(record, *found)
            return
        assert record.nonce is not None
        if chain.latest_nonce > record.nonce:
            # The nonce is used but no attempt of ours has a receipt we can see.
            if self._try_reconcile(record):
                return
            self._finish(
                record,
                TxStatus.FAILED,
                error=f"nonce {record.nonce} was used by a transaction without a receipt "
                "from this queue",
            )
            return
        now = time.time()
        started = record.first_sent_at or now
        if record.status is TxStatus.PENDING and now - started >= self.config.txn_timeout:
            if self._try_reconcile(record):
                return
            self._replace(record, chain, cancel=True)
            return
        stale = now - record.attempts[-1].sent_at >= self.config.bump_after
        if not self._node_knows(record) and not stale:
            # Lost by the node (restart, eviction) or never broadcast (crash): same bytes.
            log.info(
                "tx %d: node does not know it; rebroadcasting nonce %d", record.id, record.nonce
            )
            self._broadcast(record, chain)
            return
        if stale:  # unmined for bump_after, or dropped as underpriced: re-sign higher
            self._replace(record, chain, cancel=record.status is TxStatus.CANCELLING)

    def _replace(self, record: TxRecord, chain: _Chain, *, cancel: bool) -> None:
        last = record.attempts[-1]
        fees = bumped_fees(
            Fees(last.max_fee_per_gas, last.max_priority_fee_per_gas),
            chain.base_fee,
            self.config.bump_percent,
            self.config.max_fee_per_gas_cap,
        )
        if fees is None:
            log.warning("tx %d: fee cap reached; cannot bump further", record.id)
            if cancel and record.status is TxStatus.PENDING:
                record.status = TxStatus.CANCELLING
                self.store.save(record)
            return
        if cancel:
            record.status = TxStatus.CANCELLING
            log.warning(
                "tx %d (%s %s) not confirmed within %g s: cancelling nonce %d",
                record.id,
                record.purpose,
                record.order_id,
                self.config.txn_timeout,
                record.nonce,
            )
        self._sign_and_store(record, fees, cancel=cancel)
        self._broadcast(record)

    def _try_reconcile(self, record: TxRecord) -> bool:
        reconciler = self.reconcilers.get(record.purpose)
        if reconciler is None:
            return False
        receipt = reconciler(record)
        if receipt is None:
            return False
        log.warning(
            "tx %d (%s %s): no receipt of ours, but the chain shows it landed in block %d",
            record.id,
            record.purpose,
            record.order_id,
            receipt.block_number,
        )
        record.receipt = receipt
        record.reconciled = True
        self._finish(record, TxStatus.CONFIRMED)
        return True

    def _settle(self, record: TxRecord, attempt: TxAttempt, receipt: TxReceiptInfo) -> None:
        record.receipt = receipt
        record.reconciled = record.status is TxStatus.CANCELLING and not attempt.cancel
        if attempt.cancel:
            if self._try_reconcile(record):
                return
            if record.error_name == NODE_REFUSED:
                self._finish(
                    record,
                    TxStatus.FAILED,
                    error=f"{record.error}; its nonce was filled by a cancellation",
                    error_name=NODE_REFUSED,
                )
                return
            self._finish(
                record,
                TxStatus.FAILED,
                error=f"not confirmed within txn_timeout ({self.config.txn_timeout:g} s); "
                "replaced by a cancellation",
                error_name="TxTimeout",
            )
            return
        if receipt.status == 1:
            self._finish(record, TxStatus.CONFIRMED)
            return
        error, name = self._revert_reason(record, receipt)
        self._finish(record, TxStatus.REVERTED, error=error, error_name=name)

    def _revert_reason(self, record: TxRecord, receipt: TxReceiptInfo) -> tuple[str, str]:
        """Replay the call just before its block to recover the revert reason."""
        params: dict[str, Any] = {
            "from": self.address,
            "to": record.to,
            "data": HexStr(record.data),
            "value": record.value,
        }
        try:
            self.w3.eth.call(params, max(receipt.block_number - 1, 0))  # type: ignore[arg-type]
        except (ContractLogicError, Web3RPCError, ValueError) as exc:
            revert = revert_from_exception(exc, str(record.purpose))
            return str(revert), revert.name
        except Exception:  # the replay itself failed: report the bare revert
            pass
        return f"transaction {receipt.tx_hash} reverted", "Reverted"

    def _finish(
        self, record: TxRecord, status: TxStatus, *, error: str = "", error_name: str = ""
    ) -> None:
        record.status = status
        if error or status is TxStatus.CONFIRMED:
            record.error = error
            record.error_name = error_name
        record.updated_at = time.time()
        self.store.save(record)
        log.info(
            "tx %d (%s %s) %s%s",
            record.id,
            record.purpose,
            record.order_id,
            status,
            f": {error}" if error else "",
        )
        if self.on_final is not None:
            try:
                self.on_final(record)
            except Exception:  # a metrics hook must never stop the queue
                log.exception("trader: on_final hook failed for tx %d", record.id)

    @staticmethod
    def _handle(record: TxRecord) -> TxHandle:
        return TxHandle(record.id, record.sender, record.purpose, record.order_id)

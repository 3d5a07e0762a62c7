"""What every broker service shares: config, database, chain, cluster, sender, hooks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proofmarket.broker.chain import ChainMonitor
from proofmarket.broker.config import BrokerConfig, ConfigWatcher
from proofmarket.broker.db import OrderDB
from proofmarket.broker.order import Order, OrderStatus
from proofmarket.broker.prover import ClusterProver
from proofmarket.broker.txn import TransactionQueue
from proofmarket.market.client import MarketClient

log = logging.getLogger("proofmarket.broker")

Hook = Callable[[str, dict[str, Any]], None]
"""``hook(event, fields)``: called for ``order_status``, ``lock_sent``, ``locked``,
``preflight``, ``proved``, ``fulfilled``, ``tx`` (metrics, logs, tests)."""

ZERO_SELECTOR = bytes(4)


@dataclass(frozen=True)
class Verifiers:
    """The proof selectors this broker can satisfy and how."""

    set_verifier: str | None
    set_selector: bytes | None
    set_builder_image_id: bytes | None
    mock_selector: bytes | None
    """Set only on dev deployments (the router has the mock verifier registered)."""

    def supports(self, selector: bytes) -> bool:
        return selector == ZERO_SELECTOR or selector in (self.set_selector, self.mock_selector)


@dataclass
class BrokerContext:
    watcher: ConfigWatcher
    db: OrderDB
    market: MarketClient
    chain: ChainMonitor
    prover: ClusterProver
    sender: TransactionQueue
    verifiers: Verifiers
    address: str
    hooks: list[Hook] = field(default_factory=list)
    stopping: bool = False
    """Set by SIGTERM: no new preflights or locks; committed orders still finish."""
    storage_env: dict[str, str] | None = None
    """``STORAGE_PROVIDER`` settings receipts are published with (None: the process
    environment); the CLI passes the chain commands' view, so ``.env.devnet`` counts."""

    @property
    def config(self) -> BrokerConfig:
        return self.watcher.current

    def emit(self, event: str, **fields: Any) -> None:
        for hook in self.hooks:
            try:
                hook(event, fields)
            except Exception:  # a broken hook must never stop the pipeline
                log.exception("broker hook failed on %s", event)

    def now(self) -> int:
        """Chain time: deadlines are judged by the chain's clock, never the machine's."""
        head = self.chain.head
        return head.now() if head is not None else int(time.time())

    def set_status(self, order: Order | str, status: OrderStatus, **changes: Any) -> Order:
        order_id = order if isinstance(order, str) else order.id
        updated = self.db.set_status(order_id, status, **changes)
        reason = (
            f" ({updated.error_msg})" if status in (OrderStatus.SKIPPED, OrderStatus.FAILED) else ""
        )
        log.info("order %s -> %s%s", order_id, status.value, reason)
        self.emit("order_status", order_id=order_id, status=status.value, error=updated.error_msg)
        return updated

    def transition(
        self,
        order_id: str,
        from_statuses: tuple[OrderStatus, ...],
        status: OrderStatus,
        **changes: Any,
    ) -> Order | None:
        """Change status only from ``from_statuses`` (another service may have moved it)."""
        updated = self.db.transition(order_id, from_statuses, status, **changes)
        if updated is not None:
            reason = f" ({updated.error_msg})" if updated.error_msg else ""
            log.info("order %s -> %s%s", order_id, status.value, reason)
            self.emit(
                "order_status", order_id=order_id, status=status.value, error=updated.error_msg
            )
        return updated

    def record(self, order: Order) -> Order:
        """Store a new order and report its status."""
        self.db.put_order(order)
        reason = f" ({order.error_msg})" if order.error_msg else ""
        log.info("order %s -> %s%s", order.id, order.status.value, reason)
        self.emit(
            "order_status", order_id=order.id, status=order.status.value, error=order.error_msg
        )
        return order

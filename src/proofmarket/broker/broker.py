"""The broker: wires the services together and runs them under the supervisor.

``Broker.connect(settings)`` opens the database, the market client, the cluster client and
the transaction sender; ``run()`` starts chain monitor → market monitor → order picker →
order monitor → proving → aggregator → submitter → reaper, plus the config watcher, until
stopped. ``stop()`` (SIGTERM) is a safe stop: no new preflights or locks, committed orders
still proven and fulfilled, then the broker exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address

from proofmarket.broker.aggregator import Aggregator
from proofmarket.broker.chain import ChainMonitor
from proofmarket.broker.config import BrokerConfig, ConfigWatcher
from proofmarket.broker.context import BrokerContext, Hook, Verifiers
from proofmarket.broker.db import OrderDB
from proofmarket.broker.market_monitor import MarketMonitor
from proofmarket.broker.offchain_monitor import OffchainMonitor
from proofmarket.broker.order_monitor import OrderMonitor
from proofmarket.broker.picker import OrderPicker
from proofmarket.broker.prover import ClusterProver
from proofmarket.broker.proving import ProvingService
from proofmarket.broker.reaper import Reaper
from proofmarket.broker.submitter import Submitter
from proofmarket.broker.supervisor import supervise
from proofmarket.broker.txn import DirectSender, TransactionQueue
from proofmarket.market.client import MarketClient

log = logging.getLogger("proofmarket.broker")

MOCK_SELECTOR = bytes.fromhex("ffffffff")
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker connects (command-line flags; the tunables live in broker.toml)."""

    rpc_url: str
    private_key: str
    market_address: str
    cluster_url: str
    db_path: Path
    config_path: Path | None = None
    set_verifier_address: str | None = None
    cluster_api_key: str | None = None
    poll_secs: float = 0.5
    order_stream_url: str | None = None
    """Follow the off-chain order stream too (``--order-stream-url``)."""
    storage_env: dict[str, str] | None = None
    """Storage settings for publishing receipts (None: the process environment)."""


def discover_verifiers(market: MarketClient, set_verifier: str | None) -> Verifiers:
    """Which selectors the market's router accepts that this broker can produce seals for."""
    from proofmarket.contracts.compile import load_artifact

    w3 = market.w3
    router = w3.eth.contract(
        address=to_checksum_address(market.verifier_router_address()),
        abi=load_artifact("VerifierRouter").abi,
    )
    mock = router.functions.verifiers(MOCK_SELECTOR).call()
    mock_selector = MOCK_SELECTOR if mock != ZERO_ADDRESS and int(mock, 16) != 0 else None
    set_selector = image_id = None
    if set_verifier:
        contract = w3.eth.contract(
            address=to_checksum_address(set_verifier), abi=load_artifact("SetVerifier").abi
        )
        set_selector = bytes(contract.functions.SELECTOR().call())
        image_id = bytes(contract.functions.IMAGE_ID().call())
        routed = router.functions.verifiers(set_selector).call()
        if int(routed, 16) == 0:
            raise ValueError(f"the market's router has no verifier for set verifier {set_verifier}")
    return Verifiers(
        set_verifier=to_checksum_address(set_verifier) if set_verifier else None,
        set_selector=set_selector,
        set_builder_image_id=image_id,
        mock_selector=mock_selector,
    )


class Broker:
    """One running broker (one key, one market, one database)."""

    def __init__(
        self, ctx: BrokerContext, *, poll_secs: float = 0.5, order_stream_url: str | None = None
    ) -> None:
        self.ctx = ctx
        self.poll_secs = poll_secs
        self.monitor = OrderMonitor(ctx, poll_secs=min(poll_secs, 0.25))
        self.picker = OrderPicker(ctx, self.monitor.deliver)
        self.market_monitor = MarketMonitor(ctx, self.picker.submit, poll_secs=poll_secs)
        self.proving = ProvingService(ctx, poll_secs=min(poll_secs, 0.25))
        self.aggregator = Aggregator(ctx)
        self.submitter = Submitter(ctx, poll_secs=min(poll_secs, 0.25))
        self.reaper = Reaper(ctx)
        self.offchain = (
            OffchainMonitor(ctx, self.picker.submit, order_stream_url, self.market_monitor)
            if order_stream_url
            else None
        )
        self._stopped = asyncio.Event()

    @classmethod
    def connect(
        cls,
        settings: BrokerSettings,
        *,
        config: BrokerConfig | None = None,
        sender: TransactionQueue | None = None,
        hooks: list[Hook] | None = None,
    ) -> Broker:
        watcher = ConfigWatcher(settings.config_path, config)
        cfg = watcher.current
        market = MarketClient.connect(
            settings.rpc_url,
            settings.market_address,
            settings.private_key,
            tx_timeout=cfg.batcher.txn_timeout,
        )
        ctx = BrokerContext(
            watcher=watcher,
            db=OrderDB(settings.db_path),
            market=market,
            chain=ChainMonitor(market, poll_secs=settings.poll_secs),
            prover=ClusterProver(
                settings.cluster_url,
                api_key=settings.cluster_api_key,
                retries=cfg.prover.req_retry_count,
                retry_sleep=cfg.prover.req_retry_sleep_ms / 1000,
            ),
            sender=sender
            or _sender_from_env(
                market,
                cfg.batcher.txn_timeout,
                settings.db_path,
                lambda: watcher.current.batcher.txn_timeout,
            ),
            verifiers=discover_verifiers(market, settings.set_verifier_address),
            address=str(market.signer.address),
            hooks=list(hooks or []),
            storage_env=settings.storage_env,
        )
        return cls(ctx, poll_secs=settings.poll_secs, order_stream_url=settings.order_stream_url)

    # ------------------------------------------------------------------ lifecycle
    def stop(self) -> None:
        """Safe stop: take nothing new; exit once committed orders are settled."""
        if not self.ctx.stopping:
            log.info("stopping: no new locks; waiting for committed orders to finish")
        self.ctx.stopping = True

    async def _watch_config(self) -> None:
        while True:
            self.ctx.watcher.poll()
            await asyncio.sleep(1.0)

    async def _watch_stop(self) -> None:
        while True:
            if self.ctx.stopping:
                committed = self.ctx.db.committed_orders()
                if not committed:
                    self._stopped.set()
                    return
            await asyncio.sleep(0.5)

    async def run(self) -> None:
        ctx = self.ctx
        log.info(
            "broker %s on market %s (chain %d), cluster %s, database %s",
            ctx.address,
            ctx.market.address,
            ctx.market.chain_id,
            ctx.prover.endpoint,
            ctx.db.path,
        )
        await ctx.chain.refresh()
        services: dict[str, Callable[[], Awaitable[None]]] = {
            "chain-monitor": ctx.chain.run,
            "market-monitor": self.market_monitor.run,
            "order-picker": self.picker.run,
            "order-monitor": self.monitor.run,
            "proving": self.proving.run,
            "aggregator": self.aggregator.run,
            "submitter": self.submitter.run,
            "reaper": self.reaper.run,
            "config-watcher": self._watch_config,
        }
        if self.offchain is not None:
            services["offchain-market-monitor"] = self.offchain.run
        retries = ctx.config.prover.max_critical_task_retries
        tasks = [
            asyncio.create_task(
                supervise(name, fn, max_retries=lambda: retries), name=f"broker-{name}"
            )
            for name, fn in services.items()
        ]
        stopper = asyncio.create_task(self._watch_stop())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self.stop)
        try:
            done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            log.info("no committed orders left; broker stopped")
        finally:
            for task in [*tasks, stopper]:
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
            ctx.prover.close()

    def status_counts(self) -> dict[str, int]:
        return self.ctx.db.count_by_status()


def _sender_from_env(
    market: MarketClient,
    txn_timeout: float,
    db_path: Path,
    txn_timeout_source: Callable[[], float] | None = None,
) -> TransactionQueue:
    """The trader's durable queue (in the order database's file), wrapped by the fault
    injector when tests ask for it; ``PROOFMARKET_BROKER_TRADER=direct`` sends directly."""
    sender: TransactionQueue
    if os.environ.get("PROOFMARKET_BROKER_TRADER") == "direct":
        sender = DirectSender(market, txn_timeout)
    else:
        from proofmarket.broker.trader import TraderConfig, open_store
        from proofmarket.broker.trader.queue import TraderQueue

        store_url = os.environ.get("PROOFMARKET_TRADER_STORE") or f"sqlite:///{db_path}"
        sender = TraderQueue(
            market,
            open_store(store_url),
            TraderConfig(txn_timeout=txn_timeout, poll_interval=0.2),
            txn_timeout_source=txn_timeout_source,
        )
    faults = os.environ.get("PROOFMARKET_BROKER_FAULTS", "")
    if faults:
        from proofmarket.broker.faults import FaultySender

        return FaultySender(sender, faults)
    return sender

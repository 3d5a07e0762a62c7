"""Broker test harness: a proving cluster, brokers as processes, and a requestor.

The cluster runs as ``proofmarket cluster up --detach`` (dev-mode receipts, one agent per
type); each broker is ``python -m proofmarket.cli.main broker run`` with its own config
file, key and SQLite database; requests use the small ``iter`` guest.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofmarket.broker.db import OrderDB
from proofmarket.broker.order import Order, OrderStatus
from proofmarket.contracts.deploy import Deployment
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market.builder import OfferParams, RequestBuilder
from proofmarket.market.client import MarketClient, load_account
from proofmarket.market.request_id import RequestId
from proofmarket.market.storage import FileStorageProvider
from proofmarket.market.types import ProofRequest

ETHER = 10**18
REQUESTOR_KEY = 1
PROVER_KEYS = (3, 4)

FAST_CONFIG: dict[str, dict[str, Any]] = {
    "market": {
        "mcycle_price": "0.0000001",
        "mcycle_price_collateral_token": "0",
        "min_deadline": 5,
        "lookback_blocks": 50,
        "max_stake": "100",
        "max_concurrent_proofs": 4,
        "max_concurrent_preflights": 2,
    },
    "prover": {"status_poll_ms": 100, "reaper_interval_secs": 1, "reaper_grace_period_secs": 0},
    "batcher": {
        "min_batch_size": 1,
        "block_deadline_buffer_secs": 5,
        "txn_timeout": 20,
        "batch_poll_time_ms": 100,
        "submit_retry_delay_ms": 100,
    },
}
"""Short deadlines and fast polls; tests override keys per section."""


def wait_until(check: Callable[[], Any], timeout: float, what: str, poll: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


@dataclass
class BrokerProcess:
    """One ``broker run`` process and its files."""

    workdir: Path
    rpc_url: str
    deployment: Deployment
    cluster_url: str
    key_index: int
    market: dict[str, Any] = field(default_factory=dict)
    batcher: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config(self.market, self.batcher)

    @property
    def config_path(self) -> Path:
        return self.workdir / "broker.toml"

    @property
    def db_path(self) -> Path:
        return self.workdir / "broker.db"

    @property
    def log_path(self) -> Path:
        return self.workdir / "broker.log"

    @property
    def address(self) -> str:
        return str(load_account(dev_keys()[self.key_index]).address)

    def write_config(
        self, market: dict[str, Any] | None = None, batcher: dict[str, Any] | None = None
    ) -> None:
        """Write broker.toml: the fast defaults with these keys changed (atomically)."""
        import tomli_w

        config = {section: dict(values) for section, values in FAST_CONFIG.items()}
        config["market"].update(market or {})
        config["batcher"].update(batcher or {})
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(tomli_w.dumps(config))
        tmp.replace(self.config_path)

    def start(self) -> BrokerProcess:
        command = [
            sys.executable,
            "-m",
            "proofmarket.cli.main",
            "broker",
            "run",
            "--config",
            str(self.config_path),
            "--rpc-url",
            self.rpc_url,
            "--private-key",
            dev_keys()[self.key_index],
            "--market-address",
            self.deployment.market,
            "--set-verifier-address",
            self.deployment.set_verifier,
            "--cluster-url",
            self.cluster_url,
            "--db",
            str(self.db_path),
            "--poll-secs",
            "0.2",
            *self.extra_args,
        ]
        env = {**os.environ, "PROOFMARKET_DEV_MODE": "1", **self.env}
        env.pop("PROOFMARKET_ENV_FILE", None)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_started(self, timeout: float = 60) -> None:
        wait_until(lambda: "lookback scan" in self.log() or self._dead(), timeout, "broker start")
        assert not self._dead(), self.log()[-3000:]

    def _dead(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def orders(self) -> list[Order]:
        if not self.db_path.exists():
            return []
        db = OrderDB(self.db_path)
        try:
            return db.all_orders()
        finally:
            db.close()

    def order_for(self, request_id: int) -> list[Order]:
        return [o for o in self.orders() if o.id.startswith(f"0x{request_id:x}-")]

    def wait_status(
        self,
        request_id: int,
        status: OrderStatus | frozenset[OrderStatus],
        timeout: float = 90,
        kind: str | None = None,
    ) -> Order:
        """Wait for the order to be in ``status`` (or in any of a set of states)."""
        wanted = status if isinstance(status, frozenset) else frozenset({status})

        def check() -> Order | None:
            if self._dead():
                raise AssertionError(f"broker died:\n{self.log()[-4000:]}")
            for order in self.order_for(request_id):
                if order.status in wanted and (kind is None or order.fulfillment_type == kind):
                    return order
            return None

        names = "/".join(sorted(s.value for s in wanted))
        try:
            return wait_until(check, timeout, f"order {request_id:#x} {names}")
        except AssertionError:
            print(self.log()[-6000:])
            print([(o.id[-20:], o.status, o.error_msg) for o in self.order_for(request_id)])
            raise


@dataclass
class Requestor:
    """Builds, signs and submits ``iter`` requests from the requestor account."""

    client: MarketClient
    storage: FileStorageProvider
    elf: bytes
    image_id: bytes
    next_index: int = 1
    lock_timeout: int = 300
    timeout: int = 600

    def build(
        self,
        n: int = 4,
        *,
        max_price: int = ETHER // 100,
        min_price: int | None = None,
        lock_timeout: int | None = None,
        timeout: int | None = None,
        ramp_up_period: int = 0,
        lock_collateral: int = 2 * ETHER,
        journal: bytes | None = None,
        elf: bytes | None = None,
        stdin: bytes | None = None,
        requirements: dict[str, Any] | None = None,
        **changes: Any,
    ) -> ProofRequest:
        from proofmarket import zkvm

        program = elf or self.elf
        stdin = struct.pack("<I", n) if stdin is None else stdin
        if journal is None:
            journal = zkvm.execute(program, stdin).journal
        # automine: the latest block may be old; mine one so "now" is the chain's now
        self.client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        now = self.client.block_timestamp()
        request_id = RequestId(self.client.signer.address, self.next_index)
        self.next_index += 1
        request = RequestBuilder(storage=self.storage).build(
            request_id=request_id,
            image_id=zkvm.compute_image_id(program) if elf else self.image_id,
            now=now,
            program=program,
            stdin=stdin,
            journal=journal,
            offer=OfferParams(
                min_price=max_price if min_price is None else min_price,
                max_price=max_price,
                ramp_up_start=now - 1,
                ramp_up_period=ramp_up_period,
                lock_timeout=self.lock_timeout if lock_timeout is None else lock_timeout,
                timeout=self.timeout if timeout is None else timeout,
                lock_collateral=lock_collateral,
            ),
        )
        if requirements:
            changes["requirements"] = request.requirements.model_copy(update=requirements)
        if changes:
            request = request.model_copy(update=changes)
        return request

    def submit(self, request: ProofRequest) -> tuple[ProofRequest, bytes, float]:
        signature = self.client.sign_request(request)
        self.client.submit_request(request, signature)
        return request, signature, time.time()

"""``proofmarket demo``: the whole market on one machine, with nothing driven by hand.

A local chain (anvil) with the market deployed in dev mode, a proving cluster on its
embedded defaults (SQLite TaskDB, filesystem stores), a prover's broker (``proofmarket
broker run``, a real process with its own database and transaction queue) and a requestor
that submits several requests (different guests, prices and deadlines). The broker
prices, locks, proves, batches and fulfils them; the requestor follows the chain and
checks every delivered proof. The demo ends with a table of requests, who fulfilled them,
the prices paid and the verification result, then proves and verifies a STARK for an
example AIR. Everything is started here and stopped at the end.

The cluster proves for real (STARK receipts, ``--stark-profile``, default ``default``); the
broker publishes each receipt in the requestor's storage and the requestor verifies it off
chain (the table's ``receipt`` column). On chain the seal still goes through the dev
verifier until the fraud-proof verifier exists. ``--dev-mode`` runs the cluster in dev
mode instead (DEV MODE receipts, labelled everywhere).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

console = Console()
ETHER = 10**18
PROVER_STAKE = 100 * ETHER
REQUESTOR_DEPOSIT = ETHER // 10

BROKER_CONFIG = """
[market]
mcycle_price = "0.0000001"
mcycle_price_collateral_token = "0"
min_deadline = 30
lookback_blocks = 100
max_stake = "50"
max_concurrent_proofs = 4
max_concurrent_preflights = 2

[prover]
status_poll_ms = 100
reaper_interval_secs = 5

[batcher]
min_batch_size = 2
batch_max_time = 3
block_deadline_buffer_secs = 20
txn_timeout = 30
batch_poll_time_ms = 200
"""


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _say(text: str) -> None:
    console.print(text, highlight=False)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "proofmarket.cli.main", *args]


DEMO_SEGMENT_PO2 = 16  # every demo request fits one segment


@dataclass(frozen=True)
class Proving:
    """How the demo's cluster proves: for real with a STARK profile, or in dev mode."""

    dev_mode: bool = False
    stark_profile: str = "default"

    @property
    def label(self) -> str:
        return "DEV MODE" if self.dev_mode else f"STARK, {self.stark_profile} profile"

    def cluster_args(self) -> list[str]:
        return ["--dev-mode"] if self.dev_mode else ["--stark-profile", self.stark_profile]


def _cluster_env() -> dict[str, str]:
    """The demo decides dev mode by its own flag, not by an inherited environment."""
    env = {k: v for k, v in os.environ.items() if k != "PROOFMARKET_DEV_MODE"}
    env.pop("PROOFMARKET_STARK_PROFILE", None)
    return env


@contextmanager
def _local_cluster(data_dir: Path, port: int, proving: Proving) -> Iterator[str]:
    """``proofmarket cluster up`` (API + one agent per type), stopped afterwards."""
    from proofmarket.cluster.client import wait_healthy

    common = ["--data-dir", str(data_dir)]
    up = _cli(
        "cluster", "up", "--detach", "--port", str(port), "--segment-po2",
        str(DEMO_SEGMENT_PO2), *proving.cluster_args(), *common,
    )  # fmt: skip
    done = subprocess.run(up, capture_output=True, text=True, check=False, env=_cluster_env())
    endpoint = f"http://127.0.0.1:{port}"
    try:
        if done.returncode != 0:
            raise RuntimeError(f"cluster up failed: {done.stderr.strip()[-2000:]}")
        if not wait_healthy(endpoint, 60):
            raise RuntimeError(f"the proving cluster at {endpoint} did not become healthy")
        yield endpoint
    finally:
        subprocess.run(_cli("cluster", "down", *common), capture_output=True, check=False)


@contextmanager
def _broker_process(
    workdir: Path,
    rpc_url: str,
    key: str,
    deployment: Any,
    cluster_url: str,
    metrics_port: int,
    storage: Path,
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``proofmarket broker run`` with the demo's broker.toml; safe-stopped afterwards.
    It publishes receipts in ``storage``, the requestor's file storage."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "broker.toml"
    config.write_text(BROKER_CONFIG)
    db = workdir / "broker.db"
    log_path = workdir / "broker.log"
    command = _cli(
        "broker", "run", "--config", str(config), "--rpc-url", rpc_url, "--private-key", key,
        "--market-address", deployment.market, "--set-verifier-address", deployment.set_verifier,
        "--cluster-url", cluster_url, "--db", str(db), "--poll-secs", "0.2",
        "--metrics-port", str(metrics_port),
    )  # fmt: skip
    env = {**_cluster_env(), "STORAGE_PROVIDER": "file", "FILE_STORAGE_DIR": str(storage)}
    env.pop("PROOFMARKET_ENV_FILE", None)
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=workdir)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "lookback scan" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the broker did not start:\n{tail}")
            time.sleep(0.2)
        yield process, db
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # safe stop: committed orders finish first
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _scrape_metrics(port: int) -> dict[str, float]:
    """The broker's /metrics, flattened to ``name{labels}`` → value."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    flat: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith("proofmarket_broker") or "_bucket" in sample.name:
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            flat[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return flat


def _wait_broker_settled(db: Path, address: str, timeout: float = 30.0) -> None:
    """The requestor sees a delivery as soon as it is mined; give the broker the moment it
    needs to record it (orders ``Done``, its queue empty) before reading its state."""
    from proofmarket.broker.metrics import COMMITTED_STATES, read_orders
    from proofmarket.broker.trader import ACTIVE_STATUSES, open_store

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = any(o["status"] in COMMITTED_STATES for o in read_orders(db))
        store = open_store(f"sqlite:///{db}")
        try:
            busy = busy or bool(store.list(address, ACTIVE_STATUSES))
        finally:
            store.close()
        if not busy:
            return
        time.sleep(0.2)


def _broker_summary(db: Path, address: str) -> dict[str, Any]:
    from proofmarket.broker.metrics import gas_spent, order_totals, read_orders
    from proofmarket.broker.trader import open_store

    store = open_store(f"sqlite:///{db}")
    try:
        records = store.list(address)
        spent = gas_spent(store, address)
    finally:
        store.close()
    totals = order_totals(read_orders(db))
    return {
        "address": address,
        "orders": totals["by_state"],
        "revenue_wei": totals["revenue_wei"],
        "transactions": [
            {k: r.summary()[k] for k in ("purpose", "status", "nonce", "attempts", "fee_wei")}
            for r in records
        ],
        "gas_spent_wei": sum(spent.values()),
    }


@contextmanager
def _work_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="proofmarket-demo-") as tmp:
        yield Path(tmp)


def _demo_market(
    results: dict[str, Any], n: int, timeout: float, keep: Path | None, proving: Proving
) -> None:
    from web3 import Web3

    from proofmarket.broker.receipts import ON_CHAIN_NOTE
    from proofmarket.cli.demo_requests import (
        broker_orders,
        demo_plan,
        follow,
        refusals_of,
        render_table,
        submit_all,
        verify_all,
    )
    from proofmarket.contracts.deploy import deploy_market_stack, mint_hit_points
    from proofmarket.devnet.anvil import AnvilProcess, dev_accounts, dev_keys, free_port
    from proofmarket.market.client import MarketClient
    from proofmarket.market.storage import FileStorageProvider

    with _work_dir(keep) as work:
        _step("1. Chain: start anvil, deploy the market (dev mode), fund both parties")
        with AnvilProcess.start(state_dir=work / "anvil") as anvil:
            w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 60}))
            accounts = dev_accounts()
            deployment = deploy_market_stack(w3, accounts[0].address, dev_mode=True)
            requestor = MarketClient(w3, deployment.market, accounts[1], tx_timeout=60)
            prover = MarketClient(w3, deployment.market, accounts[2], tx_timeout=60)
            mint_hit_points(w3, accounts[0].address, deployment, prover.signer.address,
                            PROVER_STAKE)  # fmt: skip
            requestor.deposit(REQUESTOR_DEPOSIT)
            prover.deposit_stake(PROVER_STAKE)
            _say(
                f"anvil {anvil.rpc_url}, market {deployment.market}\n"
                f"requestor {requestor.signer.address}: "
                f"{requestor.balance_of() / ETHER:.2f} ETH in escrow\n"
                f"prover    {prover.signer.address}: "
                f"{prover.balance_of_stake() / ETHER:.0f} HP stake"
            )

            _step("2. Prover: start a proving cluster and the broker")
            storage_dir = work / "storage"
            with _local_cluster(work / "cluster", free_port(), proving) as cluster_url:
                _say(
                    f"cluster {cluster_url} (SQLite TaskDB, filesystem stores, "
                    f"{proving.label} receipts)"
                )
                metrics_port = free_port()
                with _broker_process(
                    work / "broker",
                    anvil.rpc_url,
                    dev_keys()[2],
                    deployment,
                    cluster_url,
                    metrics_port,
                    storage_dir,
                ) as (broker, db):
                    _say(
                        f"broker pid {broker.pid}, database {db} (log next to it), metrics "
                        f"http://127.0.0.1:{metrics_port}/metrics"
                    )

                    _step("3. Requestor: submit requests (guests, prices, deadlines)")
                    start_block = requestor.block_number()
                    storage = FileStorageProvider(storage_dir)
                    tracked = submit_all(
                        requestor, storage, demo_plan(n, real=not proving.dev_mode), _say
                    )

                    _step(f"4. Broker: price, lock, prove ({proving.label}), batch and fulfil")

                    def refusals() -> dict[int, str]:
                        if broker.poll() is not None:
                            log = (db.parent / "broker.log").read_text(errors="replace")
                            raise RuntimeError(f"the broker exited:\n{log[-3000:]}")
                        return refusals_of(broker_orders(db))

                    try:
                        follow(requestor, tracked, start_block, timeout, _say, refusals)
                    except TimeoutError as exc:
                        log = (db.parent / "broker.log").read_text(errors="replace")
                        raise TimeoutError(f"{exc}\nbroker log (tail):\n{log[-4000:]}") from exc
                    _wait_broker_settled(db, prover.signer.address)
                    results["broker"] = _broker_summary(db, prover.signer.address)
                    results["broker"]["metrics"] = _scrape_metrics(metrics_port)
                    orders = broker_orders(db)
                    for t in tracked:
                        t.dev_mode = bool(orders.get(t.request_id, {}).get("dev_mode"))
                        t.receipt_mode = orders.get(t.request_id, {}).get("receipt_mode")

            _step("5. Requestor: check every delivered proof (receipt off chain, seal on chain)")
            verify_all(
                requestor,
                tracked,
                storage_dir,
                allow_dev_mode=proving.dev_mode,
                allow_insecure_params=proving.stark_profile == "test-insecure",
            )
            console.print(render_table(tracked))
            _say(f"note: {ON_CHAIN_NOTE}")
            results["on_chain"] = ON_CHAIN_NOTE
            results["proving"] = {
                "dev_mode": proving.dev_mode,
                "stark_profile": None if proving.dev_mode else proving.stark_profile,
            }
            paid = sum(t.price_wei or 0 for t in tracked)
            _say(
                f"requestor paid {paid / ETHER:.5f} ETH in all; prover stake back to "
                f"{prover.balance_of_stake() / ETHER:.0f} HP; broker sent "
                f"{len(results['broker']['transactions'])} transactions "
                f"({results['broker']['gas_spent_wei'] / ETHER:.6f} ETH of gas)"
            )
            results["requests"] = [t.to_dict() for t in tracked]
            if not all(t.as_expected for t in tracked):
                raise RuntimeError("a request did not end as expected (see the table)")


def _demo_stark(results: dict[str, Any]) -> None:
    from proofmarket.stark import DEFAULT
    from proofmarket.stark import prove as stark_prove
    from proofmarket.stark import verify as stark_verify
    from proofmarket.stark.examples import FibonacciAir, fibonacci_trace

    _step("6. STARK engine: prove and verify a Fibonacci AIR (2^14 rows)")
    air = FibonacciAir()
    trace, public = fibonacci_trace(1, 1, 14)
    started = time.perf_counter()
    proof = stark_prove(air, trace, public, DEFAULT)
    prove_s = time.perf_counter() - started
    data = proof.to_bytes()
    started = time.perf_counter()
    stark_verify(air, data, public, DEFAULT)
    verify_s = time.perf_counter() - started
    _say(
        f"proved in {prove_s:.2f} s, verified in {verify_s * 1000:.0f} ms, proof "
        f"{len(data) / 1024:.1f} KiB, {DEFAULT.conjectured_security_bits():.0f} bits "
        "of conjectured security"
    )
    results["stark"] = {"prove_s": prove_s, "verify_s": verify_s, "proof_bytes": len(data)}


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        n: int = typer.Option(1000, "--n", help="Which Fibonacci number the first request asks."),
        timeout: float = typer.Option(
            900.0, "--timeout", help="Seconds to wait for every request to be fulfilled."
        ),
        stark: bool = typer.Option(True, "--stark/--no-stark", help="Also prove a STARK."),
        workdir: Path | None = typer.Option(
            None, "--workdir", help="Keep chain, cluster and broker files here (default: temp)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary at the end."),
        dev_mode: bool = typer.Option(
            False, "--dev-mode", help="Cluster in dev mode: DEV MODE receipts, nothing proven."
        ),
        stark_profile: str = typer.Option(
            "default",
            "--stark-profile",
            help="STARK profile the cluster proves with (test-insecure: fast, insecure).",
        ),
    ) -> None:
        """Run the end-to-end demo: request, lock, prove, fulfil, verify; then a STARK."""
        from proofmarket.cluster.config import STARK_PROFILES

        if not 0 <= n < 2**32:
            raise typer.BadParameter("n must fit in a u32", param_hint="--n")
        if stark_profile not in STARK_PROFILES:
            raise typer.BadParameter(
                f"choose one of {', '.join(STARK_PROFILES)}", param_hint="--stark-profile"
            )
        results: dict[str, Any] = {}
        started = time.perf_counter()
        try:
            _demo_market(results, n, timeout, workdir, Proving(dev_mode, stark_profile))
        except (RuntimeError, TimeoutError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        results["market_wall_s"] = round(time.perf_counter() - started, 2)
        if stark:
            _demo_stark(results)
        results["wall_s"] = round(time.perf_counter() - started, 2)
        console.rule(f"[bold green]demo complete in {results['wall_s']:.0f} s")
        if as_json:
            typer.echo(json.dumps(results))

"""``proofmarket demo``: one guided run through the whole market.

A requestor asks for a proof of ``fib(n)`` on a local chain; a prover prices the request,
locks it with collateral, proves the execution on a local proving cluster, and fulfils it;
the requestor collects the verified journal. Then a STARK is proven and verified for an
example AIR. Everything runs on this machine (anvil, SQLite TaskDB, filesystem stores),
started here and stopped at the end. Receipts from the cluster are DEV MODE until the
RV32IM circuit lands, and every step that uses one says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

console = Console()
ETHER = 10**18


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _eth(wei: int) -> str:
    return f"{wei / ETHER:.6f} ETH"


@contextmanager
def _local_cluster(data_dir: Path, port: int) -> Iterator[str]:
    """Start ``proofmarket cluster up`` (API + one agent per type) and stop it after."""
    command = [sys.executable, "-m", "proofmarket.cli.main", "cluster"]
    common = ["--data-dir", str(data_dir)]
    up = [*command, "up", "--detach", "--port", str(port), "--segment-po2", "16", *common]
    subprocess.run(up, check=True, capture_output=True, text=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield endpoint
    finally:
        subprocess.run([*command, "down", *common], capture_output=True, text=True, check=False)


def _wait_healthy(endpoint: str, timeout: float = 60.0) -> None:
    from proofmarket.cluster.client import wait_healthy

    if not wait_healthy(endpoint, timeout):
        raise RuntimeError(f"the proving cluster at {endpoint} did not become healthy")


def _demo_market(results: dict[str, Any], n: int) -> None:
    from web3 import Web3

    from proofmarket import zkvm
    from proofmarket.cluster.client import ClusterClient
    from proofmarket.contracts.deploy import deploy_market_stack, mint_hit_points
    from proofmarket.contracts.seals import mock_seal
    from proofmarket.devnet.anvil import AnvilProcess, dev_accounts, free_port
    from proofmarket.market import events as ev
    from proofmarket.market import pricing
    from proofmarket.market.builder import OfferParams, RequestBuilder
    from proofmarket.market.client import MarketClient
    from proofmarket.market.guest_env import decode_guest_env
    from proofmarket.market.ids import next_index
    from proofmarket.market.predicates import claim_digest, evaluate
    from proofmarket.market.request_id import RequestId
    from proofmarket.market.storage import FileStorageProvider, fetch_url
    from proofmarket.market.types import Fulfillment, FulfillmentDataType
    from proofmarket.zkvm.guests import example_elf
    from proofmarket.zkvm.receipt import Receipt, verify

    _step("1. Requestor: build the fib guest (RV32IM, ziglang clang) and preflight it")
    elf = example_elf("fib")
    image_id = zkvm.compute_image_id(elf)
    stdin = n.to_bytes(4, "little")
    started = time.perf_counter()
    session = zkvm.execute(elf, stdin)
    console.print(
        f"fib.elf {len(elf)} bytes, image ID {image_id.hex()}\n"
        f"fib({n}) mod 2^32 = {int.from_bytes(session.journal[:4], 'little')}: "
        f"{session.total_cycles} cycles ({session.user_cycles} user), exit "
        f"{session.exit_code}, {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    results["preflight"] = {"total_cycles": session.total_cycles, "journal": session.journal.hex()}

    with tempfile.TemporaryDirectory(prefix="proofmarket-demo-") as tmp:
        work = Path(tmp)
        _step("2. Chain: start anvil, deploy the market (dev mode), fund both parties")
        with AnvilProcess.start(state_dir=work / "anvil") as anvil:
            w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
            accounts = dev_accounts()
            deployment = deploy_market_stack(w3, accounts[0].address, dev_mode=True)
            requestor = MarketClient(w3, deployment.market, accounts[0])
            prover = MarketClient(w3, deployment.market, accounts[1])
            mint_hit_points(w3, accounts[0].address, deployment, prover.signer.address, 50 * ETHER)
            requestor.deposit(ETHER // 10)
            prover.deposit_stake(20 * ETHER)
            console.print(
                f"anvil {anvil.rpc_url}, market {deployment.market}\n"
                f"requestor {requestor.signer.address}: {_eth(requestor.balance_of())} escrow\n"
                f"prover    {prover.signer.address}: "
                f"{prover.balance_of_stake() / ETHER:.0f} HP stake"
            )

            _step("3. Requestor: upload the program, sign and submit the request")
            storage = FileStorageProvider(work / "storage")
            now = requestor.block_timestamp()
            request_id = RequestId(requestor.signer.address, next_index(requestor))
            request = RequestBuilder(storage=storage).build(
                request_id=request_id,
                image_id=image_id,
                now=now,
                program=elf,
                stdin=stdin,
                journal=session.journal,
                offer=OfferParams(
                    min_price=ETHER // 1000,
                    max_price=ETHER // 100,
                    ramp_up_start=now,
                    ramp_up_period=120,
                    lock_timeout=600,
                    timeout=1200,
                    lock_collateral=5 * ETHER,
                ),
            )
            signature = requestor.sign_request(request)
            start_block = requestor.block_number()
            requestor.submit_request(request, signature)
            console.print(f"request {hex(request.id)} submitted, program at {request.image_url}")

            _step("4. Prover: read the request, check it, price it and lock it")
            seen = prover.get_submitted_request(request.id, from_block=start_block)
            program = fetch_url(seen.request.image_url)
            guest_input = decode_guest_env(seen.request.input.data)
            if zkvm.compute_image_id(program) != seen.request.requirements.image_id:
                raise RuntimeError("program does not match the request's image ID")
            price_now = pricing.price_at(seen.request.offer, prover.block_timestamp())
            locked = prover.lock_request(seen.request, seen.client_signature)
            lock_event = locked.first(ev.RequestLocked)
            console.print(
                f"price now {_eth(price_now)}; locked at {_eth(lock_event.price)} with "
                f"{lock_event.collateral / ETHER:.0f} HP collateral (gas {locked.gas_used})"
            )

            _step("5. Prover: prove on the local proving cluster (DEV MODE receipts)")
            cluster_dir = work / "cluster"
            with _local_cluster(cluster_dir, free_port()) as endpoint:
                _wait_healthy(endpoint)
                with ClusterClient(endpoint) as cluster:
                    cluster.upload_img(image_id.hex(), program)
                    input_id = cluster.upload_input(guest_input)
                    started = time.perf_counter()
                    job = cluster.create_session(image_id.hex(), input_id)
                    status = cluster.wait(job, poll_secs=0.2, timeout_secs=300)
                    wall = time.perf_counter() - started
                    if status.status != "SUCCEEDED":
                        raise RuntimeError(f"proving failed: {status.error_msg}")
                    receipt = Receipt.from_bytes(cluster.download_receipt(job))
            verify(receipt, image_id, allow_dev_mode=True)
            proven = receipt.claim.digest()
            if proven != claim_digest(image_id, receipt.journal):
                raise RuntimeError("the receipt does not prove a successful run of the image")
            console.print(
                f"job {job}: {wall:.2f} s, receipt verified (DEV MODE), claim {proven.hex()}"
            )
            results["proving"] = {"job": job, "wall_s": wall, "dev_mode": receipt.is_dev_mode}

            _step("6. Prover: fulfil on chain and get paid")
            fill = Fulfillment(
                request=seen.request,
                client_signature=seen.client_signature,
                fulfillment_data_type=FulfillmentDataType.IMAGE_ID_AND_JOURNAL,
                image_id=image_id,
                journal=receipt.journal,
                seal=mock_seal(proven),
            )
            paid_before = prover.balance_of()
            fulfilled = prover.fulfill(fill)
            console.print(
                f"fulfilled (gas {fulfilled.gas_used}); prover earned "
                f"{_eth(prover.balance_of() - paid_before)}, stake back to "
                f"{prover.balance_of_stake() / ETHER:.0f} HP"
            )

            _step("7. Requestor: collect the proof and check it")
            delivered = requestor.wait_for_fulfillment(
                request.id, from_block=start_block, timeout=30
            )
            if not evaluate(request.requirements.predicate, image_id, delivered.journal):
                raise RuntimeError("the delivered journal does not satisfy the predicate")
            value = int.from_bytes(delivered.journal[:4], "little")
            console.print(
                f"journal fib({n}) = {value} (predicate satisfied), seal "
                f"{delivered.seal.hex()[:18]}… (DEV MODE mock-verifier seal)"
            )
            results["market"] = {
                "request_id": hex(request.id),
                "price_wei": lock_event.price,
                "lock_gas": locked.gas_used,
                "fulfil_gas": fulfilled.gas_used,
                "journal": delivered.journal.hex(),
            }


def _demo_stark(results: dict[str, Any]) -> None:
    from proofmarket.stark import DEFAULT
    from proofmarket.stark import prove as stark_prove
    from proofmarket.stark import verify as stark_verify
    from proofmarket.stark.examples import FibonacciAir, fibonacci_trace

    _step("8. STARK engine: prove and verify a Fibonacci AIR (2^14 rows)")
    air = FibonacciAir()
    trace, public = fibonacci_trace(1, 1, 14)
    started = time.perf_counter()
    proof = stark_prove(air, trace, public, DEFAULT)
    prove_s = time.perf_counter() - started
    data = proof.to_bytes()
    started = time.perf_counter()
    stark_verify(air, data, public, DEFAULT)
    verify_s = time.perf_counter() - started
    console.print(
        f"proved in {prove_s:.2f} s, verified in {verify_s * 1000:.0f} ms, proof "
        f"{len(data) / 1024:.1f} KiB, {DEFAULT.conjectured_security_bits():.0f} bits "
        "of conjectured security"
    )
    results["stark"] = {"prove_s": prove_s, "verify_s": verify_s, "proof_bytes": len(data)}


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        n: int = typer.Option(1000, "--n", help="Which Fibonacci number to prove."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary at the end."),
    ) -> None:
        """Run the end-to-end demo: request, lock, prove, fulfil, verify; then a STARK."""
        if not 0 <= n < 2**32:
            raise typer.BadParameter("n must fit in a u32", param_hint="--n")
        os.environ.setdefault("PROOFMARKET_DEV_MODE", "1")
        results: dict[str, Any] = {}
        _demo_market(results, n)
        _demo_stark(results)
        console.rule("[bold green]demo complete")
        if as_json:
            typer.echo(json.dumps(results))

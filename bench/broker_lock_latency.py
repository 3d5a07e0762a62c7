"""Broker lock latency: request event → lock transaction sent, uncached vs cached preflight.

Starts anvil (automine) with the dev-mode market, a proving cluster (``cluster up``) and,
for each round, a fresh broker process. In each round a requestor submits an ``iter``
N=4 request (the broker has never seen this image and input: uncached preflight), waits
for the lock, then submits a second N=4 request (same image and input: cached preflight).
Reported per request, from the broker's order database:

* ``seen→sent``: the market monitor saw the ``RequestSubmitted`` event → the lock was
  handed to the transaction queue;
* ``mined→sent``: the requestor's ``submitRequest`` call returned with its receipt → lock
  handed over (includes the event poll, 0.2 s here; the client's own receipt poll blurs
  it by up to 0.1 s).

Run: ``python bench/broker_lock_latency.py [--rounds 3] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ETHER = 10**18
CONFIG = """
[market]
mcycle_price = "0.0000001"
mcycle_price_collateral_token = "0"
min_deadline = 5
max_stake = "100"
max_concurrent_proofs = 4
[batcher]
block_deadline_buffer_secs = 5
"""


def cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proofmarket.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def wait_locked(db_path: Path, request_id: int, timeout: float = 120) -> dict[str, Any]:
    from proofmarket.broker.db import OrderDB

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db_path.exists():
            db = OrderDB(db_path)
            try:
                for order in db.orders_for_request(request_id):
                    if order.lock_sent_at is not None:
                        return order.model_dump()
                    if order.status.value == "Skipped":
                        raise RuntimeError(f"request skipped: {order.error_msg}")
            finally:
                db.close()
        time.sleep(0.05)
    raise TimeoutError(f"request {request_id:#x} not locked in {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["PROOFMARKET_DEV_MODE"] = "1"

    from web3 import Web3

    from proofmarket import zkvm
    from proofmarket.cluster.client import wait_healthy
    from proofmarket.contracts.deploy import deploy_market_stack, mint_hit_points
    from proofmarket.devnet.anvil import AnvilProcess, dev_accounts, dev_keys, free_port
    from proofmarket.market.builder import OfferParams, RequestBuilder
    from proofmarket.market.client import MarketClient
    from proofmarket.market.request_id import RequestId
    from proofmarket.market.storage import FileStorageProvider
    from proofmarket.zkvm.guests import example_elf

    work = Path(tempfile.mkdtemp(prefix="pm-lock-bench-"))
    rows: list[dict[str, Any]] = []
    cluster_dir = work / "cluster"
    try:
        with AnvilProcess.start() as anvil:
            w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
            accounts = dev_accounts()
            deployment = deploy_market_stack(w3, accounts[0].address, dev_mode=True)
            requestor = MarketClient(w3, deployment.market, accounts[1])
            prover = MarketClient(w3, deployment.market, accounts[3])
            mint_hit_points(w3, accounts[0].address, deployment, prover.signer.address, 500 * ETHER)
            prover.deposit_stake(400 * ETHER)
            requestor.deposit(10 * ETHER)
            port = free_port()
            up = cli(
                "cluster",
                "up",
                "--detach",
                "--port",
                str(port),
                "--segment-po2",
                "16",
                "--data-dir",
                str(cluster_dir),
            )
            if up.returncode != 0:
                raise SystemExit(up.stderr)
            endpoint = f"http://127.0.0.1:{port}"
            if not wait_healthy(endpoint, 60):
                raise SystemExit("cluster not healthy")
            elf = example_elf("iter")
            image_id = zkvm.compute_image_id(elf)
            stdin = struct.pack("<I", 4)
            journal = zkvm.execute(elf, stdin).journal
            storage = FileStorageProvider(work / "storage")
            index = 1
            for round_no in range(args.rounds):
                bdir = work / f"broker{round_no}"
                bdir.mkdir()
                (bdir / "broker.toml").write_text(CONFIG)
                log = (bdir / "broker.log").open("wb")
                broker = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "proofmarket.cli.main",
                        "broker",
                        "run",
                        "--config",
                        str(bdir / "broker.toml"),
                        "--rpc-url",
                        anvil.rpc_url,
                        "--private-key",
                        dev_keys()[3],
                        "--market-address",
                        deployment.market,
                        "--set-verifier-address",
                        deployment.set_verifier,
                        "--cluster-url",
                        endpoint,
                        "--db",
                        str(bdir / "broker.db"),
                        "--poll-secs",
                        "0.2",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    while b"lookback scan" not in (bdir / "broker.log").read_bytes():
                        if broker.poll() is not None:
                            raise SystemExit((bdir / "broker.log").read_text()[-2000:])
                        time.sleep(0.1)
                    for kind in ("uncached", "cached"):
                        now = requestor.block_timestamp()
                        request = RequestBuilder(storage=storage).build(
                            request_id=RequestId(requestor.signer.address, index),
                            image_id=image_id,
                            now=now,
                            program=elf,
                            stdin=stdin,
                            journal=journal,
                            offer=OfferParams(
                                min_price=ETHER // 100,
                                max_price=ETHER // 100,
                                ramp_up_start=now - 1,
                                ramp_up_period=0,
                                lock_timeout=300,
                                timeout=600,
                                lock_collateral=2 * ETHER,
                            ),
                        )
                        index += 1
                        signature = requestor.sign_request(request)
                        requestor.submit_request(request, signature)
                        mined = time.time()
                        order = wait_locked(bdir / "broker.db", request.id)
                        rows.append(
                            {
                                "round": round_no,
                                "preflight": kind,
                                "seen_to_sent_s": order["lock_sent_at"] - order["observed_at"],
                                "mined_to_sent_s": order["lock_sent_at"] - mined,
                                "preflight_s": order["preflight_secs"],
                            }
                        )
                finally:
                    broker.terminate()
                    try:
                        broker.wait(60)
                    except subprocess.TimeoutExpired:
                        broker.kill()
                    log.close()
    finally:
        cli("cluster", "down", "--data-dir", str(cluster_dir))
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    summary = {
        kind: {
            "median_seen_to_sent_s": statistics.median(
                r["seen_to_sent_s"] for r in rows if r["preflight"] == kind
            ),
            "median_mined_to_sent_s": statistics.median(
                r["mined_to_sent_s"] for r in rows if r["preflight"] == kind
            ),
        }
        for kind in ("uncached", "cached")
    }
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary, "loadavg": load}, indent=2))
        return
    print(
        f"{'round':>5} {'preflight':>9} {'seen→sent s':>12} {'mined→sent s':>13} "
        f"{'preflight s':>12}"
    )
    for r in rows:
        print(
            f"{r['round']:>5} {r['preflight']:>9} {r['seen_to_sent_s']:>12.3f} "
            f"{r['mined_to_sent_s']:>13.3f} {r['preflight_s']:>12.3f}"
        )
    for kind, values in summary.items():
        print(
            f"median {kind}: seen→sent {values['median_seen_to_sent_s']:.3f} s, "
            f"mined→sent {values['median_mined_to_sent_s']:.3f} s"
        )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

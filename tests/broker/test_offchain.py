"""Requests from the off-chain order stream: locked and fulfilled without ever being
broadcast on chain."""

from __future__ import annotations

import subprocess
import sys

import pytest

from proofmarket.broker.order import OrderStatus
from proofmarket.devnet.anvil import free_port
from proofmarket.market import events as ev

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def orderstream_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proofmarket.cli.main", "orderstream", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_broker_follows_the_order_stream(chain, requestor, staked_provers, make_broker, tmp_path):
    from proofmarket.orderstream.client import OrderStreamClient

    port = free_port()
    data_dir = tmp_path / "orderstream"
    up = orderstream_cli(
        "up",
        "--detach",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--rpc-url",
        chain.anvil.rpc_url,
        "--market-address",
        chain.deployment.market,
    )
    assert up.returncode == 0, up.stderr
    url = f"http://127.0.0.1:{port}"
    try:
        broker = make_broker(extra_args=["--order-stream-url", url]).start()
        broker.wait_started()
        request = requestor.build(4)
        signature = requestor.client.sign_request(request)
        with OrderStreamClient(url) as client:
            client.submit(request, signature)
        done = broker.wait_status(request.id, OrderStatus.DONE, timeout=90)
        assert not list(requestor.client.iter_events(ev.RequestSubmitted, request_id=request.id))
        lock = requestor.client.request_lock(request.id)
        assert lock.prover == broker.address and lock.has(4)
        assert "following the order stream" in broker.log()
        assert done.journal
    finally:
        orderstream_cli("down", "--data-dir", str(data_dir))

"""The broker keeps going when the cluster is down: requests are priced once it is back."""

from __future__ import annotations

import pytest

from proofmarket.broker.order import OrderStatus
from proofmarket.devnet.anvil import free_port

from .conftest import cluster_cli
from .harness import PROVER_KEYS, BrokerProcess, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_cluster_down_then_up(chain, requestor, staked_provers, tmp_path):
    from proofmarket.cluster.client import wait_healthy

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    broker = BrokerProcess(
        tmp_path / "broker", chain.anvil.rpc_url, chain.deployment, endpoint, PROVER_KEYS[0]
    )
    data_dir = tmp_path / "cluster"
    try:
        broker.start().wait_started()
        request, _, _ = requestor.submit(requestor.build(4))
        wait_until(lambda: "cluster unavailable" in broker.log(), 60, "the outage noticed")
        assert not [o for o in broker.order_for(request.id) if o.status is OrderStatus.SKIPPED]
        up = cluster_cli(
            "up",
            "--detach",
            "--port",
            str(port),
            "--segment-po2",
            "16",
            "--data-dir",
            str(data_dir),
        )
        assert up.returncode == 0, up.stderr
        assert wait_healthy(endpoint, 60)
        broker.wait_status(request.id, OrderStatus.DONE, timeout=90)
        assert requestor.client.request_lock(request.id).has(4)
    finally:
        broker.kill()
        cluster_cli("down", "--data-dir", str(data_dir))

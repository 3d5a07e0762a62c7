"""The broker with a cluster that proves for real: it locks a request, the cluster makes a
STARK receipt, the broker verifies it, publishes it under the claim digest and fulfils on
chain with a dev-verifier seal; the requestor's `request verify-proof` finds the receipt
where the broker published it and verifies it off chain.

The guest's only syscall is its HALT (what the circuit proves today); the cluster uses the
fast, insecure TEST profile, so the requestor passes --allow-insecure-params."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.broker.order import OrderStatus
from proofmarket.broker.receipts import ON_CHAIN_NOTE, receipt_key
from proofmarket.cli.main import app
from proofmarket.devnet.anvil import free_port
from proofmarket.market.predicates import claim_digest
from zkvm.programs import counting_loop, halt, make_elf

from .conftest import cluster_cli
from .harness import PROVER_KEYS, BrokerProcess

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def stark_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A cluster NOT in dev mode: prove agents make STARK receipts (TEST profile)."""
    from proofmarket.cluster.client import wait_healthy

    data_dir = tmp_path_factory.mktemp("stark-cluster")
    port = free_port()
    args = ["--port", str(port), "--segment-po2", "13", "--data-dir", str(data_dir)]
    up = cluster_cli("up", "--detach", "--stark-profile", "test-insecure", *args, dev_mode=False)
    assert up.returncode == 0, up.stderr
    endpoint = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(endpoint, 60), "cluster did not become healthy"
        yield endpoint
    finally:
        cluster_cli("down", "--data-dir", str(data_dir))


def test_broker_publishes_a_stark_receipt_the_requestor_verifies(
    chain, requestor, staked_provers, stark_cluster_url, tmp_path: Path, monkeypatch
) -> None:
    storage = tmp_path / "storage"  # shared by the broker and the requestor, as on a devnet
    storage_env = {"STORAGE_PROVIDER": "file", "FILE_STORAGE_DIR": str(storage)}
    broker = BrokerProcess(
        tmp_path / "broker",
        chain.anvil.rpc_url,
        chain.deployment,
        stark_cluster_url,
        PROVER_KEYS[0],
        env=storage_env,
    )
    try:
        broker.start().wait_started()
        elf = make_elf([*counting_loop(20), *halt(0)])
        request, _, _ = requestor.submit(requestor.build(elf=elf, stdin=b""))
        order = broker.wait_status(request.id, OrderStatus.DONE, timeout=300)
    finally:
        broker.kill()
    assert order.dev_mode is False
    assert order.receipt_mode == "STARK (test-insecure)"
    image_id = bytes.fromhex(order.image_id or "")
    claim = claim_digest(image_id, b"")
    assert order.receipt_url == (storage / receipt_key(claim)).resolve().as_uri()

    monkeypatch.delenv("PROOFMARKET_DEV_MODE", raising=False)
    monkeypatch.delenv("PROOFMARKET_ENV_FILE", raising=False)
    env = {
        **storage_env,
        "RPC_URL": chain.anvil.rpc_url,
        "PROOFMARKET_MARKET_ADDRESS": chain.deployment.market,
        "PROOFMARKET_DEPLOY_BLOCK": str(chain.deployment.deploy_block),
    }
    result = CliRunner().invoke(
        app,
        ["request", "verify-proof", hex(request.id), "--allow-insecure-params", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["verified"] is True
    assert verdict["checks"]["receiptVerifies"] and verdict["checks"]["sealVerifies"]
    assert verdict["receipt"]["mode"] == "STARK"
    assert verdict["receipt"]["url"] == order.receipt_url
    assert verdict["onChain"] == ON_CHAIN_NOTE

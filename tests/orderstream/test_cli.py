"""``request submit --offchain`` and ``proofmarket orderstream up/status/down``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.contracts.testing import ChainEnv
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market.request_id import RequestId
from proofmarket.zkvm.guests import example_elf_path

from .conftest import ETHER, REQUESTOR_KEY, Stream, market_client

runner = CliRunner()


@pytest.fixture
def cli_env(stream: Stream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROOFMARKET_ENV_FILE", raising=False)
    return {
        "RPC_URL": stream.chain.anvil.rpc_url,
        "PRIVATE_KEY": dev_keys()[REQUESTOR_KEY],
        "PROOFMARKET_MARKET_ADDRESS": stream.chain.deployment.market,
        "STORAGE_PROVIDER": "file",
        "FILE_STORAGE_DIR": str(tmp_path / "storage"),
        "PROOFMARKET_DEPLOY_BLOCK": str(stream.chain.deployment.deploy_block),
        "ORDER_STREAM_URL": stream.url,
    }


def invoke(env: dict, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_request_submit_offchain(cli_env: dict, stream: Stream) -> None:
    requestor = market_client(stream.chain, REQUESTOR_KEY)
    submit = (
        "request", "submit", "--offchain", "--program", str(example_elf_path("fib")),
        "--input", "0a000000", "--max-price", "0.01", "--lock-stake", "1", "--json",
    )  # fmt: skip
    code, output = invoke(cli_env, *submit)
    assert code == 1 and "InsufficientBalance" in output  # nothing deposited yet
    requestor.deposit(ETHER // 100)
    nonce = requestor.w3.eth.get_transaction_count(requestor.signer.address)
    code, output = invoke(cli_env, *submit)
    assert code == 0, output
    data = json.loads(output)
    assert data["offchain"] is True and data["txHash"] is None
    assert data["orderStreamUrl"] == stream.url
    assert requestor.w3.eth.get_transaction_count(requestor.signer.address) == nonce
    order = stream.client(None).get(RequestId.parse(data["requestId"]))
    assert order.id == data["orderId"]
    assert order.request_digest.hex() == data["requestDigest"][2:]
    assert order.request.offer.max_price == ETHER // 100

    code, output = invoke(cli_env, "orderstream", "status", "--url", stream.url, "--json")
    assert code == 0, output
    status = json.loads(output)
    assert status["orders"] == 1 and status["refused"] == {"InsufficientBalance": 1}
    code, output = invoke(cli_env, "orderstream", "status", "--url", stream.url)
    assert code == 0 and "1 orders" in output


def test_status_without_a_service(tmp_path: Path) -> None:
    code, output = invoke({}, "orderstream", "status", "--data-dir", str(tmp_path))
    assert code == 1 and "no order stream runs" in output
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = invoke({}, "orderstream", "status", "--url", f"http://127.0.0.1:{port}")
    assert code == 1 and "cannot reach" in output


@pytest.mark.slow
def test_up_detach_status_down(chain: ChainEnv, tmp_path: Path) -> None:
    """The real command in its own process, found again through its data directory."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data_dir = tmp_path / "os"
    base = [sys.executable, "-m", "proofmarket", "orderstream"]
    up = subprocess.run(
        [*base, "up", "--detach", "--port", str(port), "--data-dir", str(data_dir),
         "--rpc-url", chain.anvil.rpc_url, "--market-address", chain.deployment.market],
        capture_output=True, text=True, timeout=90, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{port}" in up.stdout
        status = subprocess.run(
            [*base, "status", "--data-dir", str(data_dir), "--json"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["orders"] == 0 and report["database"] == "sqlite"
        assert report["market"] == chain.deployment.market
        assert (data_dir / "orderstream.sqlite").exists()
    finally:
        down = subprocess.run(
            [*base, "down", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60
        )
    assert down.returncode == 0 and "stopped" in down.stdout, down.stdout + down.stderr
    assert not (data_dir / "state.json").exists()


def test_up_refuses_bad_settings_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROOFMARKET_ENV_FILE", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {"RPC_URL": dead, "PROOFMARKET_MARKET_ADDRESS": "0x" + "11" * 20}
    code, output = invoke(env, "orderstream", "up", "--data-dir", str(tmp_path))
    assert code == 1 and "cannot reach the RPC endpoint" in output
    code, output = invoke(
        env, "orderstream", "up", "--heartbeat-interval", "5", "--heartbeat-timeout", "5"
    )
    assert code == 1 and "heartbeat" in output
    code, output = invoke({"RPC_URL": dead}, "orderstream", "up")
    assert code == 1 and "no market address" in output

"""``proofmarket devnet up/status/down``: idempotent, restartable, on a random port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.devnet.anvil import free_port
from proofmarket.devnet.env import read_env_file
from proofmarket.market.client import MarketClient

runner = CliRunner()


def _json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def devnet_dirs(tmp_path: Path):
    state = tmp_path / "devnet"
    env_file = tmp_path / ".env.devnet"
    yield ["--state-dir", str(state)], ["--env-file", str(env_file)], env_file
    runner.invoke(app, ["devnet", "down", "--state-dir", str(state), "--env-file", str(env_file)])


def test_devnet_up_is_idempotent_and_survives_restart(
    devnet_dirs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, env_opt, env_file = devnet_dirs
    port = free_port()
    first = _json("devnet", "up", "--port", str(port), *state, *env_opt)
    assert first["running"] and first["contractsPresent"]
    assert any("deployed and funded" in a for a in first["actions"])
    market = first["deployment"]["market"]

    env = read_env_file(env_file)
    assert env["RPC_URL"] == f"http://127.0.0.1:{port}"
    assert env["PROOFMARKET_MARKET_ADDRESS"] == market
    client = MarketClient.connect(env["RPC_URL"], market, env["PRIVATE_KEY"])
    assert client.balance_of() == 10 * 10**18
    assert (
        client.balance_of_stake(client.w3.eth.account.from_key(env["PROVER_PRIVATE_KEY"]).address)
        == 100 * 10**18
    )

    # the chain commands find .env.devnet in the working directory
    monkeypatch.chdir(tmp_path)
    unset = {"RPC_URL": None, "PRIVATE_KEY": None, "PROOFMARKET_MARKET_ADDRESS": None}
    shown = runner.invoke(app, ["account", "balance-of-stake", "--json"], env=unset)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["stake"] == "100"

    second = _json("devnet", "up", *state, *env_opt)
    assert second["deployment"]["market"] == market
    assert "anvil already running" in second["actions"]
    assert not any("deployed" in a for a in second["actions"])
    assert _json("devnet", "status", *state, *env_opt)["pid"] == first["pid"]

    client.deposit(1)  # a change that must survive the restart
    down = _json("devnet", "down", *state, *env_opt)
    assert any("stopped anvil" in a for a in down["actions"])
    assert _json("devnet", "status", *state, *env_opt)["running"] is False

    third = _json("devnet", "up", *state, *env_opt)
    assert third["port"] == port and third["deployment"]["market"] == market
    assert not any("deployed" in a for a in third["actions"])
    assert MarketClient.connect(env["RPC_URL"], market).balance_of(client.signer.address) == (
        10 * 10**18 + 1
    )

    purged = _json("devnet", "down", "--purge", *state, *env_opt)
    assert not env_file.exists()
    assert any("removed" in a for a in purged["actions"])


def test_devnet_port_conflict_is_reported(devnet_dirs, tmp_path: Path) -> None:
    state, env_opt, _ = devnet_dirs
    port = free_port()
    _json("devnet", "up", "--port", str(port), *state, *env_opt)
    moved = runner.invoke(app, ["devnet", "up", "--port", str(free_port()), *state, *env_opt])
    assert moved.exit_code == 1 and "already runs on port" in moved.output
    other_state = ["--state-dir", str(tmp_path / "other")]
    clash = runner.invoke(
        app, ["devnet", "up", "--port", str(port), *other_state, "--env-file", str(tmp_path / "e")]
    )
    assert clash.exit_code == 1 and "already answers JSON-RPC" in clash.output

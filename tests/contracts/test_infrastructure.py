"""Compilation cache, deployment records and the anvil process helper."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from web3 import Web3

from proofmarket.contracts import compile as compile_mod
from proofmarket.contracts.compile import CONTRACT_NAMES, ContractCompileError, load_artifact
from proofmarket.contracts.deploy import Deployment, DeploymentError
from proofmarket.devnet.anvil import AnvilError, AnvilProcess, dev_accounts, dev_keys, stop_anvil

EIP170_LIMIT = 24_576


def test_all_contracts_compile_within_size_limit() -> None:
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert artifact.abi and artifact.bytecode.startswith("0x")
        assert 0 < artifact.runtime_size <= EIP170_LIMIT, name


def test_compile_cache_roundtrip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROOFMARKET_CACHE_DIR", str(tmp_path))
    load_artifact.cache_clear()
    try:
        fresh = load_artifact("MockVerifier")
        cached_file = (
            tmp_path / "contracts" / compile_mod.sources_fingerprint() / "MockVerifier.json"
        )
        assert cached_file.is_file()
        assert json.loads(cached_file.read_text())["bytecode"] == fresh.bytecode
        # a corrupt cache entry is ignored and rewritten
        cached_file.write_text("{not json")
        load_artifact.cache_clear()
        again = load_artifact("MockVerifier")
        assert again == fresh
        assert json.loads(cached_file.read_text())["abi"] == fresh.abi
        assert not list(cached_file.parent.glob("*.tmp"))
    finally:
        load_artifact.cache_clear()


def test_unknown_contract() -> None:
    with pytest.raises(ContractCompileError, match="unknown contract"):
        compile_mod.compile_contract("NoSuchContract")


def test_deployment_record_roundtrip(dev_stack: Deployment) -> None:
    again = Deployment.from_json(dev_stack.to_json())
    assert again == dev_stack
    assert dev_stack.dev_mode and dev_stack.mock_verifier is not None
    assert dev_stack.treasury == dev_stack.market
    with pytest.raises(DeploymentError, match="lacks"):
        Deployment.from_dict({"market": dev_stack.market})
    with pytest.raises(DeploymentError, match="not JSON"):
        Deployment.from_json("{oops")


def test_dev_accounts_are_anvils() -> None:
    assert dev_accounts()[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert dev_keys()[0] == "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    assert len(dev_accounts()) == 10


def test_anvil_state_dir_persists_and_stops(tmp_path: Path) -> None:
    receiver = dev_accounts()[9].address
    with AnvilProcess.start(chain_id=4242, state_dir=tmp_path) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
        assert w3.eth.chain_id == 4242
        before = w3.eth.get_balance(receiver)
        tx = w3.eth.send_transaction(
            {"from": dev_accounts()[0].address, "to": receiver, "value": 12345}
        )
        w3.eth.wait_for_transaction_receipt(tx)
    assert not anvil.is_running()
    assert (tmp_path / "anvil.log").is_file()
    # A fresh port: the state lives in state_dir, and reusing the old port could race
    # with another test process that was just handed it.
    with AnvilProcess.start(chain_id=4242, state_dir=tmp_path) as again:
        w3 = Web3(Web3.HTTPProvider(again.rpc_url))
        assert w3.eth.get_balance(receiver) == before + 12345


def test_anvil_port_in_use_and_detached_stop(anvil: AnvilProcess) -> None:
    with pytest.raises(AnvilError):
        AnvilProcess.start(port=anvil.port, chain_id=999, ready_timeout=5)
    detached = AnvilProcess.start(block_time=1, detach=True)
    try:
        assert detached.is_running()
        assert stop_anvil(detached.pid)
        detached.process.wait(timeout=10)
    finally:
        detached.stop()
    assert not detached.is_running()
    with pytest.raises(AnvilError, match="block_time"):
        AnvilProcess.start(block_time=0)


def test_concurrent_compiles_share_one_cache(tmp_path: Path) -> None:
    """Two processes filling the same empty cache both succeed and agree."""
    import subprocess
    import sys

    script = (
        "from proofmarket.contracts.compile import load_artifact;"
        "print(load_artifact('MockVerifier').bytecode)"
    )
    env = {**os.environ, "PROOFMARKET_CACHE_DIR": str(tmp_path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs[0] == outputs[1] == load_artifact("MockVerifier").bytecode
    assert len(list((tmp_path / "contracts").rglob("MockVerifier.json"))) == 1


def test_deploy_with_separate_owner(chain) -> None:
    from proofmarket.contracts.deploy import contract_at, deploy_market_stack

    owner = dev_accounts()[8].address
    deployment = deploy_market_stack(chain.w3, dev_accounts()[0], dev_mode=True, owner=owner)
    assert deployment.owner == owner
    for name, address in (
        ("ProofMarket", deployment.market),
        ("VerifierRouter", deployment.verifier_router),
        ("HitPoints", deployment.collateral_token),
    ):
        assert contract_at(chain.w3, name, address).functions.owner().call() == owner
    token = contract_at(chain.w3, "HitPoints", deployment.collateral_token)
    assert token.functions.isMinter(owner).call()
    with pytest.raises(DeploymentError, match="has no code"):
        deploy_market_stack(
            chain.w3, dev_accounts()[0], dev_mode=True, collateral_token=dev_accounts()[7].address
        )

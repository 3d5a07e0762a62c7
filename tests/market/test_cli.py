"""The account / request / ops commands end to end (typer CliRunner against anvil)."""

from __future__ import annotations

import json
import secrets
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.contracts.seals import mock_seal
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market import events as ev
from proofmarket.market.builder import OfferParams
from proofmarket.market.client import MarketClient
from proofmarket.market.predicates import claim_digest
from proofmarket.market.request_id import RequestId
from proofmarket.market.types import Fulfillment, FulfillmentDataType
from proofmarket.zkvm.guests import example_elf_path

from .conftest import MarketChain
from .helpers import ETHER, dev_fulfillment, make_request

runner = CliRunner()


@pytest.fixture
def cli_env(market_chain: MarketChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROOFMARKET_ENV_FILE", raising=False)
    return {
        "RPC_URL": market_chain.rpc_url,
        "PRIVATE_KEY": dev_keys()[6],
        "PROOFMARKET_MARKET_ADDRESS": market_chain.deployment.market,
        "STORAGE_PROVIDER": "file",
        "FILE_STORAGE_DIR": str(tmp_path / "storage"),
        "PROOFMARKET_DEPLOY_BLOCK": str(market_chain.deployment.deploy_block),
    }


def run(env: dict, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def run_json(env: dict, *args: str) -> dict:
    code, output = run(env, *args, "--json")
    assert code == 0, output
    return json.loads(output)


def test_account_eth_flow(cli_env: dict) -> None:
    before = run_json(cli_env, "account", "balance")["balanceWei"]
    deposited = run_json(cli_env, "account", "deposit", "1.5")
    assert deposited["depositedWei"] == 15 * ETHER // 10
    assert deposited["balanceWei"] == before + 15 * ETHER // 10
    after = run_json(cli_env, "account", "withdraw", "0.5")
    assert after["balanceWei"] == before + ETHER
    other = run_json(cli_env, "account", "balance", "0x" + "00" * 19 + "01")
    assert other["balanceWei"] == 0
    code, output = run(cli_env, "account", "withdraw", "100000")
    assert code == 1 and "InsufficientBalance" in output


def test_account_stake_flow(cli_env: dict, market_chain: MarketChain) -> None:
    from proofmarket.contracts.deploy import mint_hit_points

    holder = MarketClient(market_chain.w3, market_chain.deployment.market)
    address = market_chain.anvil.addresses[6]
    mint_hit_points(
        market_chain.w3,
        market_chain.anvil.addresses[0],
        market_chain.deployment,
        address,
        50 * ETHER,
    )
    start = holder.balance_of_stake(address)
    out = run_json(cli_env, "account", "deposit-stake", "10")
    assert out["stakeUnits"] == start + 10 * ETHER and out["token"] == "HP"
    out = run_json(cli_env, "account", "withdraw-stake", "2.25")
    assert out["stakeUnits"] == start + 775 * ETHER // 100
    shown = run_json(cli_env, "account", "balance-of-stake")
    assert shown["stake"] == str(out["stake"]) and shown["frozen"] is False
    unfrozen = run_json(cli_env, "account", "unfreeze")
    assert unfrozen["changed"] is False
    # one-transaction deposit by EIP-2612 permit, and a deposit into another prover's stake
    permitted = run_json(cli_env, "account", "deposit-stake", "1", "--permit")
    assert permitted["stakeUnits"] == start + 875 * ETHER // 100
    other = market_chain.anvil.addresses[7]
    other_before = holder.balance_of_stake(other)
    given = run_json(cli_env, "account", "deposit-stake", "0.5", "--to", other)
    assert given["address"] == other and given["stakeUnits"] == other_before + ETHER // 2
    assert holder.balance_of_stake(address) == start + 875 * ETHER // 100
    code, output = run(cli_env, "account", "deposit-stake", "1", "--to", other, "--permit")
    assert code != 0 and "--permit" in output


def test_account_deposit_to_another(cli_env: dict, market_chain: MarketChain) -> None:
    other = market_chain.anvil.addresses[8]
    holder = MarketClient(market_chain.w3, market_chain.deployment.market)
    before = holder.balance_of(other)
    out = run_json(cli_env, "account", "deposit", "0.25", "--to", other)
    assert out["address"] == other and out["balanceWei"] == before + ETHER // 4
    code, output = run(cli_env, "account", "deposit", "1", "--to", "not-an-address")
    assert code == 1 and "not an Ethereum address" in output


def test_ops_ownership_handover(cli_env: dict, market_chain: MarketChain) -> None:
    owner_env = dict(cli_env, PRIVATE_KEY=dev_keys()[0])
    new_env = dict(cli_env, PRIVATE_KEY=dev_keys()[9])
    new_owner = market_chain.anvil.addresses[9]
    code, output = run(cli_env, "ops", "transfer-ownership", new_owner)
    assert code == 1 and "NotOwner" in output
    offered = run_json(owner_env, "ops", "transfer-ownership", new_owner)
    assert offered["pendingOwner"] == new_owner and offered["owner"] != new_owner
    code, output = run(cli_env, "ops", "accept-ownership")
    assert code == 1 and "NotPendingOwner" in output
    assert run_json(new_env, "ops", "accept-ownership")["owner"] == new_owner
    back = run_json(new_env, "ops", "transfer-ownership", market_chain.anvil.addresses[0])
    assert back["owner"] == new_owner
    assert (
        run_json(owner_env, "ops", "accept-ownership")["owner"] == market_chain.anvil.addresses[0]
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [("abc", "not a number"), ("-1", "negative"), ("0.0000000000000000001", "decimal places")],
)
def test_bad_amounts(cli_env: dict, amount: str, message: str) -> None:
    code, output = run(cli_env, "account", "deposit", "--", amount)
    assert code == 1 and message in output


def test_missing_key_unreachable_rpc_and_bad_id(cli_env: dict) -> None:
    env = dict(cli_env, PRIVATE_KEY="")
    code, output = run(env, "account", "deposit", "1")
    assert code == 1 and "no private key" in output
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = run(dict(cli_env, RPC_URL=f"http://127.0.0.1:{port}"), "account", "balance")
    assert code == 1 and "cannot reach the RPC endpoint" in output
    code, output = run(cli_env, "request", "status", "not-an-id")
    assert code == 1 and "neither 0x-hex nor a decimal" in output
    code, output = run(dict(cli_env, PROOFMARKET_MARKET_ADDRESS=""), "account", "balance")
    assert code == 1 and "no market address" in output


def test_submit_fulfil_get_and_verify_proof(
    cli_env: dict, market_chain: MarketChain, prover: MarketClient
) -> None:
    elf = example_elf_path("fib")
    submitted = run_json(
        cli_env,
        "request", "submit", "--program", str(elf), "--input", "0a000000",
        "--max-price", "0.01", "--lock-stake", "1", "--timeout", "900",
    )  # fmt: skip
    rid = submitted["requestId"]
    assert RequestId.parse(rid).client == market_chain.anvil.addresses[6]
    assert submitted["predicateType"] == "DigestMatch"
    assert run_json(cli_env, "request", "status", rid)["status"] == "Unknown"

    event = prover.get_submitted_request(RequestId.parse(rid))
    request = event.request
    prover.lock_request(request, event.client_signature)
    assert run_json(cli_env, "request", "status", rid)["status"] == "Locked"
    journal = (55).to_bytes(4, "little")  # fib(10)
    image_id = bytes.fromhex(submitted["imageId"][2:])
    prover.fulfill(dev_fulfillment(request, event.client_signature, image_id, journal))

    status = run_json(cli_env, "request", "status", rid)
    assert status["status"] == "Fulfilled" and status["lockedBy"] == prover.signer.address
    proof = run_json(cli_env, "request", "get-proof", rid)
    assert proof["journal"] == "0x" + journal.hex()
    assert proof["claimDigest"] == "0x" + claim_digest(image_id, journal).hex()
    assert proof["devMode"] is True
    # no prover published a receipt here (tests/cli/test_verify_proof.py checks receipts)
    code, output = run(cli_env, "request", "verify-proof", rid, "--no-receipt")
    assert code == 0, output
    assert "DEV MODE" in output and "VERIFIED" in output
    verdict = run_json(cli_env, "request", "verify-proof", rid, "--no-receipt")
    assert (
        verdict["verified"] and verdict["checks"]["predicate"] and verdict["checks"]["sealVerifies"]
    )
    code, output = run(
        cli_env, "request", "verify-proof", rid, "--no-receipt", "--image-id", "0x" + "11" * 32
    )
    assert code == 1 and "NOT VERIFIED" in output


def test_submit_from_yaml_and_claim_digest_fulfilment(
    cli_env: dict, tmp_path: Path, prover: MarketClient
) -> None:
    image_id = secrets.token_bytes(32)
    request_yaml = tmp_path / "request.yaml"
    request_yaml.write_text(
        f"""
requirements:
  predicate:
    type: ClaimDigestMatch
    data: "0x{claim_digest(image_id, b"out").hex()}"
imageUrl: file:///programs/guest.elf
input:
  type: inline
  data: "0x0001020304"
offer:
  minPrice: 1000
  maxPrice: 2000000
  rampUpPeriod: 10
  lockTimeout: 100
  timeout: 200
  lockCollateral: 1000000000000000000
"""
    )
    first = run_json(cli_env, "request", "submit", str(request_yaml))
    second = run_json(cli_env, "request", "submit", str(request_yaml))
    assert (
        RequestId.parse(second["requestId"]).index == RequestId.parse(first["requestId"]).index + 1
    )
    assert first["predicateType"] == "ClaimDigestMatch"
    assert run_json(cli_env, "request", "status", first["requestId"])["submitted"] is True

    # a fill without journal (ClaimDigestMatch): the CLI takes the claim from the request
    rid = RequestId.parse(first["requestId"])
    event = prover.get_submitted_request(rid)
    claim = claim_digest(image_id, b"out")
    fill = Fulfillment(
        request=event.request,
        client_signature=event.client_signature,
        fulfillment_data_type=FulfillmentDataType.NONE,
        seal=mock_seal(claim),
    )
    prover.fulfill_committed([fill])
    proof = run_json(cli_env, "request", "get-proof", rid.hex())
    assert proof["journal"] is None and proof["claimDigest"] == "0x" + claim.hex()
    verdict = run_json(cli_env, "request", "verify-proof", rid.hex(), "--no-receipt")
    assert verdict["verified"] and verdict["checks"]["predicate"] and verdict["devMode"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("requirements: [unclosed", "not valid YAML"),
        ("- a list", "must hold a mapping"),
        (
            "requirements: {predicate: {type: Bogus, data: '0x'}}\nimageUrl: x\n"
            "input: {type: inline, data: '0x'}\noffer: {minPrice: 1, maxPrice: 2, "
            "rampUpPeriod: 1, lockTimeout: 2, timeout: 3, lockCollateral: 0}",
            "requirements.predicate.type",
        ),
        (
            "requirements: {predicate: {type: ClaimDigestMatch, data: '0x12'}}\nimageUrl: x\n"
            "input: {type: inline, data: '0x'}\noffer: {minPrice: 5, maxPrice: 2, "
            "rampUpPeriod: 1, lockTimeout: 2, timeout: 3, lockCollateral: 0}",
            "minPrice (5) is greater than maxPrice (2)",
        ),
    ],
)
def test_bad_request_files(cli_env: dict, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, output = run(cli_env, "request", "submit", str(path))
    assert code == 1
    assert message in output


def test_submit_bad_inputs(cli_env: dict, tmp_path: Path) -> None:
    elf = str(example_elf_path("fib"))
    code, output = run(cli_env, "request", "submit", "--program", elf, "--input", "0xzz")
    assert code == 1 and "not valid hex" in output
    code, output = run(cli_env, "request", "submit", "--program", str(tmp_path / "nope.elf"))
    assert code == 1 and "does not exist" in output
    code, output = run(cli_env, "request", "submit", str(tmp_path / "missing.yaml"))
    assert code == 1 and "does not exist" in output
    code, output = run(
        cli_env, "request", "submit", "--program", elf, "--input-file", str(tmp_path / "in.bin")
    )
    assert code == 1 and "does not exist" in output
    code, output = run(cli_env, "request", "get-proof", hex(RequestId(
        "0x" + "22" * 20, 1).value))  # fmt: skip
    assert code == 1 and "no proof delivered" in output


def test_ops_slash_after_expiry(
    cli_env: dict, market_chain: MarketChain, requestor: MarketClient, prover: MarketClient
) -> None:
    rid = RequestId(requestor.signer.address, secrets.randbelow(2**32))
    # the ramp starts in the future and the lock's block is pinned to its first second, so
    # the lock price is minPrice however slowly the transactions before it were mined
    start = requestor.block_timestamp() + 30
    offer = OfferParams(
        min_price=10, max_price=20, ramp_up_start=start, ramp_up_period=5,
        lock_timeout=20, timeout=40, lock_collateral=ETHER,
    )  # fmt: skip
    request, _, _ = make_request(requestor, rid, offer=offer)
    signature = requestor.sign_request(request)
    requestor.submit_request(request, signature)
    market_chain.set_next_timestamp(start)
    lock = prover.lock_request(request, signature).first(ev.RequestLocked)
    assert lock.price == 10
    code, output = run(cli_env, "ops", "slash", rid.hex())
    assert code == 1 and "RequestIsNotExpired" in output
    market_chain.increase_time(41)  # past deadline = rampUpStart + timeout
    slashed = run_json(cli_env, "ops", "slash", rid.hex())
    assert slashed["collateralBurned"] == ETHER // 2
    assert slashed["prover"] == prover.signer.address
    assert slashed["clientRefund"] == 10  # the lock price, at the start of the ramp
    assert slashed["collateralRecipient"] == market_chain.deployment.market
    status = run_json(cli_env, "request", "status", rid.hex())
    assert status["status"] == "Expired" and status["slashed"] is True
    # the slashed prover is frozen until it unfreezes itself
    assert prover.account_is_frozen()
    unfrozen = run_json(dict(cli_env, PRIVATE_KEY=dev_keys()[1]), "account", "unfreeze")
    assert unfrozen["changed"] is True and not prover.account_is_frozen()
    assert any(isinstance(e, ev.ProverUnfrozen) for e in prover.iter_events(
        ev.ProverUnfrozen, from_block=prover.block_number()))  # fmt: skip

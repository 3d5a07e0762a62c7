"""`request verify-proof` verifies the prover's real receipt off chain: fetched from where
the prover published it (receipts/<claim digest>.receipt in the storage provider), checked
against the request's image ID and the delivered journal; tampered, missing or
unacceptable receipts fail with exit status 1. Every output says that on chain the seal
went through the dev verifier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.broker.receipts import ON_CHAIN_NOTE, publish_receipt, receipt_key
from proofmarket.cli.main import app
from proofmarket.contracts.deploy import mint_hit_points
from proofmarket.contracts.seals import mock_seal
from proofmarket.contracts.testing import ChainEnv
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market.builder import OfferParams, RequestBuilder
from proofmarket.market.client import MarketClient, load_account
from proofmarket.market.predicates import claim_digest
from proofmarket.market.request_id import RequestId
from proofmarket.market.storage import FileStorageProvider
from proofmarket.market.types import Fulfillment, FulfillmentDataType
from proofmarket.zkvm import compute_image_id
from proofmarket.zkvm.prove import prove
from zkvm.programs import counting_loop, halt, make_elf

pytestmark = [pytest.mark.slow, pytest.mark.anvil]
runner = CliRunner()
ETHER = 10**18
REQUESTOR, PROVER = 1, 3  # fixture accounts: a client, and a prover holding HP


@dataclass(frozen=True)
class Proven:
    elf: bytes
    image_id: bytes
    stark: bytes  # a real receipt (TEST profile, one segment)
    dev: bytes  # a DEV MODE receipt of the same run


@pytest.fixture(scope="module")
def proven() -> Proven:
    """A guest whose only syscall is its HALT (the circuit proves it), proven for real."""
    elf = make_elf([*counting_loop(20), *halt(0)])
    stark = prove(elf, dev_mode=False, segment_po2=13, profile="test-insecure")
    dev = prove(elf, dev_mode=True, segment_po2=13)
    return Proven(elf, compute_image_id(elf), stark.to_bytes(), dev.to_bytes())


@dataclass
class Delivered:
    request_id: str
    env: dict[str, str]
    storage: FileStorageProvider
    claim: bytes


@pytest.fixture
def delivered(
    chain: ChainEnv, proven: Proven, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Delivered]:
    """A request for the guest's empty journal, locked and fulfilled with a dev seal."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROOFMARKET_ENV_FILE", raising=False)
    monkeypatch.delenv("PROOFMARKET_DEV_MODE", raising=False)
    requestor = MarketClient(chain.w3, chain.deployment.market, load_account(dev_keys()[REQUESTOR]))
    prover = MarketClient(chain.w3, chain.deployment.market, load_account(dev_keys()[PROVER]))
    mint_hit_points(
        chain.w3, chain.anvil.addresses[0], chain.deployment, prover.signer.address, 10 * ETHER
    )
    prover.deposit_stake(10 * ETHER)
    requestor.deposit(ETHER // 10)
    now = requestor.block_timestamp()
    request = RequestBuilder().build(
        request_id=RequestId(requestor.signer.address, 7),
        image_id=proven.image_id,
        now=now,
        program_url="file:///programs/guest.elf",
        stdin=b"",
        journal=b"",
        offer=OfferParams(
            min_price=ETHER // 1000,
            max_price=ETHER // 100,
            ramp_up_start=now,
            ramp_up_period=10,
            lock_timeout=300,
            timeout=600,
            lock_collateral=ETHER,
        ),
    )
    signature = requestor.sign_request(request)
    requestor.submit_request(request, signature)
    prover.lock_request(request, signature)
    claim = claim_digest(proven.image_id, b"")
    prover.fulfill(
        Fulfillment(
            request=request,
            client_signature=signature,
            fulfillment_data_type=FulfillmentDataType.IMAGE_ID_AND_JOURNAL,
            image_id=proven.image_id,
            journal=b"",
            seal=mock_seal(claim),
        )
    )
    storage_dir = tmp_path / "storage"
    yield Delivered(
        request.request_id.hex(),
        {
            "RPC_URL": chain.anvil.rpc_url,
            "PROOFMARKET_MARKET_ADDRESS": chain.deployment.market,
            "PROOFMARKET_DEPLOY_BLOCK": str(chain.deployment.deploy_block),
            "STORAGE_PROVIDER": "file",
            "FILE_STORAGE_DIR": str(storage_dir),
        },
        FileStorageProvider(storage_dir),
        claim,
    )


def verify_proof(d: Delivered, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["request", "verify-proof", d.request_id, *args], env=d.env)
    return result.exit_code, result.output


def test_real_receipt_verifies_off_chain(delivered: Delivered, proven: Proven) -> None:
    url = publish_receipt(delivered.storage, delivered.claim, proven.stark)
    assert url.endswith(receipt_key(delivered.claim))
    code, output = verify_proof(delivered, "--allow-insecure-params", "--json")
    assert code == 0, output
    verdict = json.loads(output)
    assert verdict["verified"] is True
    assert verdict["checks"]["receiptVerifies"] is True
    assert verdict["checks"]["sealVerifies"] is True
    assert verdict["receipt"]["url"] == url
    assert verdict["receipt"]["mode"] == "STARK"
    assert verdict["receipt"]["starkProfiles"] == ["test-insecure"]
    assert verdict["onChain"] == ON_CHAIN_NOTE
    code, text = verify_proof(delivered, "--allow-insecure-params")
    assert code == 0, text
    assert "ok   receiptVerifies (STARK, test-insecure profile, 1 segment(s))" in text
    assert "dev verifier" in text and "fraud-proof verifier exists" in text
    assert text.strip().endswith("VERIFIED")
    # production verification refuses seals of the insecure test profile
    code, text = verify_proof(delivered)
    assert code == 1 and "insecure profile" in text and "NOT VERIFIED" in text


def test_tampered_receipt_fails(delivered: Delivered, proven: Proven) -> None:
    data = bytearray(proven.stark)
    data[len(data) // 2] ^= 1
    publish_receipt(delivered.storage, delivered.claim, bytes(data))
    code, output = verify_proof(delivered, "--allow-insecure-params", "--json")
    assert code == 1
    verdict = json.loads(output)
    assert verdict["verified"] is False and verdict["checks"]["receiptVerifies"] is False
    assert verdict["checks"]["sealVerifies"] is True  # the dev seal alone would have passed
    assert verdict["receipt"]["error"]


def test_missing_receipt_fails_unless_skipped(delivered: Delivered) -> None:
    code, output = verify_proof(delivered, "--json")
    assert code == 1
    verdict = json.loads(output)
    assert verdict["checks"]["receiptVerifies"] is False
    assert verdict["receipt"]["error"].startswith("no receipt")
    code, text = verify_proof(delivered, "--no-receipt")
    assert code == 0, text
    assert "not checked (--no-receipt)" in text and "dev verifier" in text


def test_dev_receipt_needs_dev_mode_and_urls_can_be_given(
    delivered: Delivered, proven: Proven, tmp_path: Path
) -> None:
    elsewhere = FileStorageProvider(tmp_path / "elsewhere")
    url = elsewhere.upload("dev.receipt", proven.dev)
    code, output = verify_proof(delivered, "--receipt-url", url, "--json")
    assert code == 1 and "DEV MODE" in json.loads(output)["receipt"]["error"]
    code, output = verify_proof(delivered, "--receipt-url", url, "--dev-mode", "--json")
    assert code == 0, output
    assert json.loads(output)["receipt"]["mode"] == "DEV MODE"


def test_receipt_of_another_run_fails(delivered: Delivered) -> None:
    other = make_elf([*counting_loop(21), *halt(0)])  # another image: verify refuses it
    receipt = prove(other, dev_mode=True, segment_po2=13)
    publish_receipt(delivered.storage, delivered.claim, receipt.to_bytes())
    code, output = verify_proof(delivered, "--dev-mode", "--json")
    assert code == 1
    assert "image ID mismatch" in json.loads(output)["receipt"]["error"]

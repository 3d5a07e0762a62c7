"""Batch fulfilment (plain and through the set verifier), request-index allocation and
``request submit --wait``."""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.contracts.seals import (
    dev_root_seal,
    merkle_path,
    merkle_root,
    set_inclusion_seal,
)
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient
from proofmarket.market.errors import FulfillmentNotCommitted
from proofmarket.market.ids import next_index
from proofmarket.market.predicates import claim_digest
from proofmarket.market.request_id import RequestId
from proofmarket.market.types import Fulfillment

from .conftest import MarketChain
from .helpers import dev_fulfillment, make_request


def _two_requests(requestor: MarketClient, fresh_id: RequestId):
    made = []
    for offset in range(2):
        rid = RequestId(fresh_id.client, (fresh_id.index + offset) % 2**32)
        request, image_id, journal = make_request(requestor, rid, journal=bytes([offset]) * 8)
        made.append((request, requestor.sign_request(request), image_id, journal))
    return made


def test_fulfill_batch_with_dev_seals(
    requestor: MarketClient, prover: MarketClient, fresh_id: RequestId
) -> None:
    made = _two_requests(requestor, fresh_id)
    prover.lock_request(made[0][0], made[0][1])  # one locked, one never locked
    fills = [dev_fulfillment(*item) for item in made]
    with pytest.raises(FulfillmentNotCommitted):  # the never-locked fill needs a commitment
        prover.fulfill_batch(fills)
    assert prover.needs_commitment(fills[1]) and not prover.needs_commitment(fills[0])
    result = prover.fulfill_committed(fills)
    delivered = result.all(ev.ProofDelivered)
    assert sorted(e.request_id for e in delivered) == sorted(f.request.id for f in fills)
    assert all(requestor.request_is_fulfilled(f.request.id) for f in fills)


def test_submit_root_and_fulfill_batch_through_set_verifier(
    requestor: MarketClient, prover: MarketClient, fresh_id: RequestId, market_chain: MarketChain
) -> None:
    made = _two_requests(requestor, fresh_id)
    deployment = market_chain.deployment
    claims = [claim_digest(image_id, journal) for _, _, image_id, journal in made]
    root = merkle_root(claims)
    selector = bytes.fromhex(deployment.set_verifier_selector[2:])
    image = bytes.fromhex(deployment.set_builder_image_id[2:])
    fills = [
        Fulfillment(
            request=request,
            client_signature=signature,
            image_id=image_id,
            journal=journal,
            seal=set_inclusion_seal(selector, merkle_path(claims, index)),
        )
        for index, (request, signature, image_id, journal) in enumerate(made)
    ]
    prover.commit_fulfillments(fills)  # before the root exists: commitments are local hashes
    result = prover.submit_root_and_fulfill_batch(
        deployment.set_verifier, root, dev_root_seal(image, root), fills
    )
    assert len(result.all(ev.ProofDelivered)) == 2
    # each set-inclusion seal now verifies on its own through the router
    prover.verify_integrity(fills[0].seal, claims[0])


def test_next_index_scans_chain_and_counter_file(
    market_chain: MarketChain, prover: MarketClient, tmp_path: Path
) -> None:
    client = market_chain.client(7)
    owner = client.signer.address
    start = client.block_number()
    assert next_index(client, from_block=start, counter_file=None) == 0
    request, _, _ = make_request(client, RequestId(owner, 5))
    client.deposit(request.offer.max_price)
    client.submit_request(request)
    assert next_index(client, from_block=start, counter_file=None) == 6
    counter = tmp_path / "index.json"
    assert next_index(client, from_block=start, counter_file=counter) == 6
    assert next_index(client, from_block=start, counter_file=counter) == 7
    assert json.loads(counter.read_text())[f"{client.chain_id}:{client.address}:{owner}"] == 8
    # an index locked (but never broadcast) is skipped too
    hidden, _, _ = make_request(client, RequestId(owner, 8))
    prover.lock_request(hidden, client.sign_request(hidden))
    assert next_index(client, from_block=start, counter_file=counter) == 9


def test_request_submit_wait_prints_the_proof(
    market_chain: MarketChain,
    prover: MarketClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    image_id = secrets.token_bytes(32)
    start = prover.block_number()
    errors: list[BaseException] = []

    def fulfil_when_submitted() -> None:
        try:
            event = prover.wait_for_event(ev.RequestSubmitted, from_block=start, timeout=60)
            request = event.request
            journal = b"any journal"
            prover.lock_request(request, event.client_signature)
            prover.fulfill(dev_fulfillment(request, event.client_signature, image_id, journal))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    worker = threading.Thread(target=fulfil_when_submitted, daemon=True)
    worker.start()
    request_yaml = tmp_path / "request.yaml"
    request_yaml.write_text(
        f"""
requirements:
  predicate: {{type: PrefixMatch, data: "0x{image_id.hex()}616e79"}}
imageUrl: file:///programs/guest.elf
input: {{type: url, data: "file:///inputs/input.bin"}}
offer: {{minPrice: 1, maxPrice: 1000, rampUpPeriod: 0, lockTimeout: 300, timeout: 600,
        lockCollateral: 1}}
"""
    )
    env = {
        "RPC_URL": market_chain.rpc_url,
        "PRIVATE_KEY": dev_keys()[8],
        "PROOFMARKET_MARKET_ADDRESS": market_chain.deployment.market,
    }
    result = CliRunner().invoke(
        app,
        ["request", "submit", str(request_yaml), "--wait", "--wait-timeout", "60", "--json"],
        env=env,
    )
    worker.join(timeout=60)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["proof"]["journal"] == "0x" + b"any journal".hex()
    assert out["proof"]["devMode"] is True

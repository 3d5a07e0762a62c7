"""Verifier router, dev-mode mock verifier, set (batch) verifier, claim digests."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.exceptions import ContractLogicError

from proofmarket.contracts.deploy import deploy_contract, deploy_market_stack
from proofmarket.contracts.seals import (
    MOCK_VERIFIER_SELECTOR,
    dev_root_seal,
    merkle_path,
    merkle_root,
    mock_seal,
    set_inclusion_seal,
    set_root_claim_digest,
)
from proofmarket.contracts.testing import (
    IMAGE_ID,
    ChainEnv,
    Market,
    claim_digest,
    digest_match,
    fulfillment,
)
from proofmarket.zkvm.claim import ReceiptClaim

digests32 = st.binary(min_size=32, max_size=32)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(image_id=digests32, journal=st.binary(max_size=300))
def test_on_chain_claim_digest_matches_python(
    chain: ChainEnv, image_id: bytes, journal: bytes
) -> None:
    """verify(seal, imageId, sha256(journal)) recomputes ReceiptClaim.ok on chain."""
    digest = ReceiptClaim.ok(image_id, journal).digest()
    journal_digest = hashlib.sha256(journal).digest()
    chain.mock_verifier.functions.verify(mock_seal(digest), image_id, journal_digest).call()
    chain.router.functions.verify(mock_seal(digest), image_id, journal_digest).call()
    with pytest.raises(ContractLogicError, match="VerificationFailed"):
        chain.router.functions.verify(mock_seal(digest), image_id, b"\x00" * 32).call()


def test_mock_verifier_is_labelled_dev_mode(chain: ChainEnv) -> None:
    assert chain.mock_verifier.functions.DEV_MODE().call() is True
    assert bytes(chain.mock_verifier.functions.SELECTOR().call()) == MOCK_VERIFIER_SELECTOR
    assert (
        chain.router.functions.getVerifier(MOCK_VERIFIER_SELECTOR).call()
        == chain.deployment.mock_verifier
    )
    with pytest.raises(ContractLogicError, match="VerificationFailed"):
        chain.mock_verifier.functions.verifyIntegrity(
            (mock_seal(claim_digest()) + b"\x00", claim_digest())
        ).call()


def test_router_selector_management(chain: ChainEnv) -> None:
    router, owner, outsider = chain.router.functions, chain.deployer, chain.others[0]
    selector = bytes.fromhex("0f000001")  # the reserved optimistic range
    other_mock = deploy_contract(chain.w3, owner.address, "MockVerifier", selector)
    with pytest.raises(ContractLogicError, match="NotOwner"):
        chain.send(router.addVerifier(selector, other_mock.address), outsider)
    with pytest.raises(ContractLogicError, match="SelectorUnknown"):
        router.getVerifier(selector).call()
    with pytest.raises(ContractLogicError, match="VerifierAddressZero"):
        chain.send(router.addVerifier(selector, "0x" + "00" * 20), owner)
    chain.send(router.addVerifier(selector, other_mock.address), owner)
    with pytest.raises(ContractLogicError, match="SelectorInUse"):
        chain.send(router.addVerifier(selector, other_mock.address), owner)
    router.verifyIntegrity((selector + claim_digest(), claim_digest())).call()
    with pytest.raises(ContractLogicError, match="NotOwner"):
        chain.send(router.removeVerifier(selector), outsider)
    chain.send(router.removeVerifier(selector), owner)
    with pytest.raises(ContractLogicError, match="SelectorRemoved"):
        router.verifyIntegrity((selector + claim_digest(), claim_digest())).call()
    with pytest.raises(ContractLogicError, match="SelectorRemoved"):
        chain.send(router.addVerifier(selector, other_mock.address), owner)
    with pytest.raises(ContractLogicError, match="MalformedSeal"):
        router.verifyIntegrity((b"\x01\x02", claim_digest())).call()


def test_production_stack_rejects_dev_seals(chain: ChainEnv) -> None:
    prod = deploy_market_stack(chain.w3, chain.deployer.address, dev_mode=False)
    assert prod.mock_verifier is None and not prod.dev_mode
    env = ChainEnv(chain.w3, prod, chain.anvil)
    m = Market(env)
    env.deposit(env.clients[0], 10**18)
    req, sig = m.request(env.clients[0], start_in=0)
    with pytest.raises(ContractLogicError, match="SelectorUnknown"):
        m.fulfill(fulfillment(req, sig), env.provers[0])
    # nor can a dev root seal vouch for a batch root there
    set_verifier = env.set_verifier.functions
    image_id = bytes.fromhex(prod.set_builder_image_id[2:])
    root = merkle_root([claim_digest()])
    with pytest.raises(ContractLogicError, match="SelectorUnknown"):
        env.send(set_verifier.submitMerkleRoot(root, dev_root_seal(image_id, root)), env.provers[0])


def _batch(env: ChainEnv, n: int) -> tuple[list[bytes], bytes, bytes, bytes]:
    digests = [claim_digest(IMAGE_ID, b"item %d" % i) for i in range(n)]
    image_id = bytes.fromhex(env.deployment.set_builder_image_id[2:])
    selector = bytes.fromhex(env.deployment.set_verifier_selector[2:])
    root = merkle_root(digests)
    return digests, root, selector, dev_root_seal(image_id, root)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_set_inclusion_good_path(chain: ChainEnv, n: int) -> None:
    digests, root, selector, root_seal = _batch(chain, n)
    verifier = chain.set_verifier.functions
    assert not verifier.containsRoot(root).call()
    receipt = chain.send(verifier.submitMerkleRoot(root, root_seal), chain.provers[0])
    assert len(chain.set_verifier.events.VerifiedRoot().process_receipt(receipt)) == 1
    assert verifier.containsRoot(root).call()
    for i, digest in enumerate(digests):
        seal = set_inclusion_seal(selector, merkle_path(digests, i))
        chain.router.functions.verifyIntegrity((seal, digest)).call()


def test_set_inclusion_bad_paths(chain: ChainEnv) -> None:
    digests, root, selector, root_seal = _batch(chain, 4)
    chain.send(chain.set_verifier.functions.submitMerkleRoot(root, root_seal), chain.provers[0])
    router = chain.router.functions
    path = merkle_path(digests, 1)
    with pytest.raises(ContractLogicError, match="VerificationFailed"):  # path of another leaf
        router.verifyIntegrity(
            (set_inclusion_seal(selector, merkle_path(digests, 2)), digests[1])
        ).call()
    with pytest.raises(ContractLogicError, match="VerificationFailed"):  # tampered node
        bad = [path[0][:-1] + bytes([path[0][-1] ^ 1]), *path[1:]]
        router.verifyIntegrity((set_inclusion_seal(selector, bad), digests[1])).call()
    with pytest.raises(ContractLogicError, match="VerificationFailed"):  # claim not in the set
        router.verifyIntegrity(
            (set_inclusion_seal(selector, path), claim_digest(IMAGE_ID, b"x"))
        ).call()
    with pytest.raises(ContractLogicError, match="MalformedSeal"):
        router.verifyIntegrity((selector + b"\x00" * 40, digests[1])).call()
    with pytest.raises(ContractLogicError, match="SelectorMismatch"):
        chain.set_verifier.functions.verifyIntegrity((mock_seal(digests[1]), digests[1])).call()


def test_set_inclusion_unknown_root_and_inline_root_seal(chain: ChainEnv) -> None:
    digests, root, selector, root_seal = _batch(chain, 3)
    seal = set_inclusion_seal(selector, merkle_path(digests, 0))
    with pytest.raises(ContractLogicError, match="VerificationFailed"):
        chain.router.functions.verifyIntegrity((seal, digests[0])).call()
    inline = set_inclusion_seal(selector, merkle_path(digests, 0), root_seal)
    chain.router.functions.verifyIntegrity((inline, digests[0])).call()
    image_id = bytes.fromhex(chain.deployment.set_builder_image_id[2:])
    wrong_root_seal = mock_seal(set_root_claim_digest(image_id, b"\x01" * 32))
    with pytest.raises(ContractLogicError, match="VerificationFailed"):
        chain.router.functions.verifyIntegrity(
            (set_inclusion_seal(selector, merkle_path(digests, 0), wrong_root_seal), digests[0])
        ).call()
    with pytest.raises(ContractLogicError, match="VerificationFailed"):
        chain.send(
            chain.set_verifier.functions.submitMerkleRoot(root, wrong_root_seal), chain.provers[0]
        )


def test_batch_fulfil_through_set_verifier(funded: ChainEnv, m: Market) -> None:
    client, prover = funded.clients[0], funded.provers[0]
    journals = [b"j%d" % i for i in range(6)]
    items = []
    for j in journals:
        req, sig = m.request(client, start_in=0, predicate=digest_match(IMAGE_ID, j))
        m.lock(req, sig, prover)
        items.append((req, sig, j))
    digests = [claim_digest(IMAGE_ID, j) for j in journals]
    selector = bytes.fromhex(funded.deployment.set_verifier_selector[2:])
    root = merkle_root(digests)
    image_id = bytes.fromhex(funded.deployment.set_builder_image_id[2:])
    fills = [
        fulfillment(r, s, journal=j, seal=set_inclusion_seal(selector, merkle_path(digests, i)))
        for i, (r, s, j) in enumerate(items)
    ]
    with pytest.raises(ContractLogicError, match="VerificationFailed"):  # root not yet vouched for
        m.fulfill_batch(fills, prover)
    call = funded.market.functions.submitRootAndFulfillBatch(
        funded.deployment.set_verifier, root, dev_root_seal(image_id, root), fills
    )
    receipt = funded.send(call, prover)
    assert len(m.events(receipt, "ProofDelivered")) == len(fills)
    assert all(funded.market.functions.requestIsFulfilled(r.id).call() for r, _, _ in items)
    assert Web3.to_checksum_address(funded.deployment.set_verifier)

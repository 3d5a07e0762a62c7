"""Requests the broker must refuse before locking, each with its logged reason.

Lists, sizes, cycle limits, deadlines, stake, and the traps a request can set to get a
prover slashed (callback gas, oversized journal, unknown selector, unsatisfiable
predicate, unreachable program, guest panic). One broker, one good request that must
still be fulfilled.
"""

from __future__ import annotations

import pytest

from proofmarket.broker.order import OrderStatus
from proofmarket.devnet.anvil import dev_keys
from proofmarket.market.client import MarketClient, load_account
from proofmarket.market.storage import FileStorageProvider
from proofmarket.market.types import Callback, RequestInput

from .harness import ETHER, PROVER_KEYS, Requestor, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def other_requestor(chain, key: int, base: Requestor, tmp_path) -> Requestor:
    client = MarketClient(chain.w3, chain.deployment.market, load_account(dev_keys()[key]))
    client.deposit(ETHER)
    return Requestor(client, FileStorageProvider(tmp_path / f"s{key}"), base.elf, base.image_id)


FOREIGN_SELECTOR = bytes.fromhex("12345678")


def register_foreign_verifier(chain, selector: bytes) -> None:
    """A verifier the router knows but this broker cannot produce seals for."""
    from proofmarket.contracts.deploy import contract_at, deploy_contract, send_transaction

    owner = chain.anvil.addresses[0]
    verifier = deploy_contract(chain.w3, owner, "MockVerifier", selector)
    router = contract_at(chain.w3, "VerifierRouter", chain.deployment.verifier_router)
    send_transaction(chain.w3, owner, router.functions.addVerifier(selector, verifier.address))


def test_refusals(chain, requestor, make_broker, tmp_path):
    from proofmarket.zkvm.guests import example_elf

    register_foreign_verifier(chain, FOREIGN_SELECTOR)
    prover = MarketClient(
        chain.w3, chain.deployment.market, load_account(dev_keys()[PROVER_KEYS[0]])
    )
    prover.deposit_stake(20 * ETHER)
    denied = other_requestor(chain, 2, requestor, tmp_path)
    stranger = other_requestor(chain, 6, requestor, tmp_path)
    allowed = [requestor.client.signer.address, denied.client.signer.address]
    broker = make_broker(
        market={
            "max_file_size": 8000,
            "max_mcycle_limit": 1,
            "max_journal_bytes": 16,
            "max_callback_gas": 100_000,
            "allow_client_addresses": allowed,
            "deny_requestor_addresses": [denied.client.signer.address],
            "max_stake": "50",
            "min_deadline": 1000,
        },
    ).start()
    broker.wait_started()

    # long deadlines: only the min_deadline case comes within min_deadline, however slow
    # the machine is
    for who in (requestor, denied, stranger):
        who.lock_timeout, who.timeout = 3000, 3600
    big_input = tmp_path / "big-input.bin"
    big_input.write_bytes(b"\x00" + bytes(9000))
    cases = {
        "deny_requestor_addresses": denied.build(),
        "not in allow_client_addresses": stranger.build(),
        "input unavailable": requestor.build(
            input=RequestInput.from_url(big_input.resolve().as_uri())
        ),
        "cycle limit": requestor.build(2000),
        "min_deadline": requestor.build(lock_timeout=900),
        "callback gas limit 200000 above max_callback_gas": requestor.build(
            requirements={"callback": Callback(addr="0x" + "42" * 20, gas_limit=200_000)}
        ),
        "unknown verifier selector 0x12345678": requestor.build(
            requirements={"selector": FOREIGN_SELECTOR}
        ),
        "does not satisfy the request's predicate": requestor.build(journal=b"nope"),
        "program unavailable": requestor.build(image_url="file:///nonexistent/iter.elf"),
        "preflight failed": requestor.build(0, journal=b"x"),
        "journal of 32 bytes above 16": requestor.build(elf=example_elf("sha256"), stdin=b"abc"),
        "does not have the request's image ID": requestor.build(
            elf=example_elf("panic"),
            journal=b"x",
            image_url=requestor.storage.upload_program(requestor.elf),
        ),
        "above max_stake": requestor.build(lock_collateral=60 * ETHER),
        "insufficient stake": requestor.build(lock_collateral=30 * ETHER),
    }
    submitted = {}
    for reason, request in cases.items():
        owner = {denied.client.signer.address: denied, stranger.client.signer.address: stranger}
        who = owner.get(request.client, requestor)
        who.submit(request)
        submitted[reason] = request
    good, _, _ = requestor.submit(requestor.build(4))

    broker.wait_status(good.id, OrderStatus.DONE, timeout=120)
    for reason, request in submitted.items():
        order = broker.wait_status(request.id, OrderStatus.SKIPPED, timeout=60)
        assert order.error_msg is not None and reason in order.error_msg, (reason, order.error_msg)
        assert not prover.request_is_locked(request.id), reason
        assert reason.split()[0] in broker.log()
    wait_until(lambda: "Skipped" in broker.log(), 5, "refusals logged")


def test_frozen_account_refuses_to_lock(chain, requestor, make_broker):
    key = PROVER_KEYS[1]
    register_foreign_verifier(chain, FOREIGN_SELECTOR)
    prover = MarketClient(chain.w3, chain.deployment.market, load_account(dev_keys()[key]))
    prover.deposit_stake(50 * ETHER)
    # get this prover slashed: lock a request and let it expire
    request, signature, _ = requestor.submit(requestor.build(4, lock_timeout=5, timeout=10))
    prover.lock_request(request, signature)
    chain.w3.provider.make_request("evm_increaseTime", [30])
    chain.w3.provider.make_request("evm_mine", [])
    requestor.client.slash(request.id)
    assert prover.account_is_frozen()

    broker = make_broker(key_index=key).start()
    broker.wait_started()
    fresh, _, _ = requestor.submit(requestor.build(4))
    order = broker.wait_status(fresh.id, OrderStatus.SKIPPED, timeout=60)
    assert "frozen" in (order.error_msg or "")
    assert not prover.request_is_locked(fresh.id)

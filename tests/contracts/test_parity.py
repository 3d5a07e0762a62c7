"""Boundless parity: ERC-1271 requestors, deposits for others and by permit, fulfil and
withdraw, standalone root submission with large batches, verifyDelivery, code sizes."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from proofmarket.contracts.compile import load_artifact
from proofmarket.contracts.deploy import deploy_contract, send_transaction
from proofmarket.contracts.seals import (
    dev_root_seal,
    merkle_path,
    merkle_root,
    set_inclusion_seal,
)
from proofmarket.contracts.testing import (
    IMAGE_ID,
    ChainEnv,
    Market,
    Offer,
    Request,
    claim_digest,
    digest_match,
    fulfillment,
    request_id,
    sign_permit,
)

from .conftest import PROVER_STAKE

ERC1271_FLAG = 1 << 192
CODE_SIZE_LIMIT = 24_576


def test_smart_contract_requestor(funded: ChainEnv, m: Market) -> None:
    """An ERC-1271 wallet is the client: its owner key signs, the wallet vouches."""
    owner, prover = funded.others[0], funded.provers[0]
    wallet = deploy_contract(funded.w3, owner.address, "TestWallet", owner.address)
    funded.send(funded.market.functions.depositTo(wallet.address), owner, value=10**16)
    assert funded.balance(wallet.address) == 10**16
    req = Request(
        request_id(wallet.address, 1) | ERC1271_FLAG,
        Offer(ramp_up_start=funded.now() + 5, min_price=10**15, max_price=10**15),
    )
    sig = m.sign(req, owner)  # the owner's ECDSA signature over the request digest
    m.lock(req, sig, prover)
    m.fulfill(fulfillment(req, sig), prover)
    assert funded.balance(wallet.address) == 10**16 - 10**15
    assert funded.balance(prover.address) == 10**15

    other = Request(req.id + 1, req.offer)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):  # not the owner's key
        m.lock(other, m.sign(other, funded.others[1]), prover)
    funded.send(wallet.functions.setAccept(False), owner)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):  # the wallet says no
        m.lock(other, m.sign(other, owner), prover)
    plain = Request(request_id(wallet.address, 3), req.offer)  # no flag: ECDSA from a contract
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.lock(plain, m.sign(plain, owner), prover)


def test_deposits_for_others(funded: ChainEnv) -> None:
    payer, client, prover = funded.others[0], funded.clients[1], funded.provers[2]
    market = funded.market.functions
    before = funded.balance(client.address)
    funded.send(market.depositTo(client.address), payer, value=12345)
    assert funded.balance(client.address) == before + 12345
    funded.send(funded.token.functions.approve(funded.deployment.market, 7), funded.provers[0])
    funded.send(market.depositCollateralTo(prover.address, 7), funded.provers[0])
    assert funded.stake(prover.address) == PROVER_STAKE + 7
    assert funded.stake(funded.provers[0].address) == PROVER_STAKE
    with pytest.raises(ContractLogicError, match="InvalidReceiver"):
        funded.send(market.depositTo("0x" + "00" * 20), payer, value=1)


def test_deposit_with_permit(chain: ChainEnv) -> None:
    prover = chain.provers[0]
    market = chain.market.functions
    deadline = chain.now() + 100
    v, r, s = sign_permit(chain, prover, 5 * 10**18, deadline, 0)
    chain.send(market.depositStakeWithPermit(5 * 10**18, deadline, v, r, s), prover)
    assert chain.stake(prover.address) == 5 * 10**18
    assert chain.token.functions.nonces(prover.address).call() == 1
    with pytest.raises(ContractLogicError, match="InvalidSignature"):  # replayed permit
        chain.send(market.depositStakeWithPermit(5 * 10**18, deadline, v, r, s), prover)
    late = chain.now() + 1
    v, r, s = sign_permit(chain, prover, 10**18, late, 1)
    chain.mine(late + 5)
    with pytest.raises(ContractLogicError, match="PermitExpired"):
        chain.send(market.depositStakeWithPermit(10**18, late, v, r, s), prover)


def test_fulfill_and_withdraw(funded: ChainEnv, m: Market) -> None:
    prover = funded.provers[0]
    req, sig = m.request(funded.clients[0], start_in=0, min_price=10**15, max_price=10**15)
    m.lock(req, sig, prover)
    eth_before = funded.w3.eth.get_balance(prover.address)
    call = funded.market.functions.fulfillAndWithdraw([fulfillment(req, sig)])
    receipt = funded.send(call, prover)
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert funded.balance(prover.address) == 0
    assert funded.w3.eth.get_balance(prover.address) == eth_before + 10**15 - fee
    (withdrawal,) = m.events(receipt, "Withdrawal")
    assert withdrawal["value"] == 10**15


def _set_batch(env: ChainEnv, m: Market, size: int, lock: bool) -> tuple[list, bytes]:
    selector = bytes.fromhex(env.deployment.set_verifier_selector[2:])
    items = []
    for i in range(size):
        journal = f"large {i}".encode()
        req, sig = m.request(
            env.clients[0], start_in=0, predicate=digest_match(IMAGE_ID, journal), lock_collateral=1
        )
        if lock:
            m.lock(req, sig, env.provers[0])
        items.append((req, sig, journal))
    digests = [claim_digest(IMAGE_ID, j) for _, _, j in items]
    fills = [
        fulfillment(r, s, journal=j, seal=set_inclusion_seal(selector, merkle_path(digests, i)))
        for i, (r, s, j) in enumerate(items)
    ]
    return fills, merkle_root(digests)


def test_standalone_root_and_a_batch_larger_than_32(funded: ChainEnv, m: Market) -> None:
    prover = funded.provers[0]
    fills, root = _set_batch(funded, m, 40, lock=True)
    image_id = bytes.fromhex(funded.deployment.set_builder_image_id[2:])
    funded.send(
        funded.market.functions.submitRoot(
            funded.deployment.set_verifier, root, dev_root_seal(image_id, root)
        ),
        prover,
    )
    assert funded.set_verifier.functions.containsRoot(root).call()
    with pytest.raises(ContractLogicError, match="BatchCalldataNotPadded"):
        send_transaction(funded.w3, prover.address, funded.market.functions.fulfillBatch(fills))
    receipt = m.fulfill_batch(fills, prover)
    assert len(m.events(receipt, "ProofDelivered")) == 40
    assert len(m.events(receipt, "ProverPaid")) == 40
    assert funded.stake(prover.address) == PROVER_STAKE


def test_batch_over_256_is_refused(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=0)
    fills = [fulfillment(req, sig)] * 257
    with pytest.raises(ContractLogicError, match="BatchSizeExceedsLimit"):
        m.fulfill_batch(fills, funded.provers[0])


def test_verify_delivery(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(funded.clients[0], start_in=0)
    verify = funded.market.functions.verifyDelivery
    assert bytes(verify(fulfillment(req, sig)).call()) == claim_digest()
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        verify(fulfillment(req, sig, journal=b"other")).call()
    assert not funded.market.functions.requestIsFulfilled(req.id).call()  # a view: no effect


def test_code_sizes_leave_room() -> None:
    """Both halves of the market stay 2 KB under the EIP-170 limit."""
    for name in ("ProofMarket", "ProofMarketExtension"):
        assert load_artifact(name).runtime_size <= CODE_SIZE_LIMIT - 2048, name

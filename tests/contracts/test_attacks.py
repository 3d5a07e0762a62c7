"""The audit's attacks, each performed against anvil, and the reason each now fails.

Copied fulfilments (mempool replay from another address, in the same block or after),
forged journals and provers in events, verifiers without code, requests an honest locker
cannot fulfil, lock signatures held back by a relayer, and the admin roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractLogicError

from proofmarket.contracts.deploy import contract_at, deploy_contract, deploy_market_stack
from proofmarket.contracts.seals import mock_seal
from proofmarket.contracts.testing import (
    CLAIM_DIGEST_MATCH,
    DATA_IMAGE_ID_AND_JOURNAL,
    DATA_NONE,
    NEVER,
    ChainEnv,
    Market,
    claim_digest,
    fulfillment,
    sign_lock,
)
from proofmarket.devnet.anvil import dev_accounts

from .conftest import CLIENT_DEPOSIT, PROVER_STAKE

MAX_CALLBACK_GAS = 10_000_000


def _reasons(m: Market, receipt: Any) -> list[str]:
    return [e["reason"] for e in m.events(receipt, "PaymentRequirementsFailed")]


@pytest.fixture
def manual_mining(chain: ChainEnv) -> Iterator[None]:
    """Transactions wait in the pool until the test mines a block (a real mempool)."""
    chain.rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        chain.rpc("evm_setAutomine", True)


def _pool_send(env: ChainEnv, call: Any, sender: LocalAccount, gas: int = 3_000_000) -> bytes:
    """Send without estimating (the pool has not run the transactions before it yet)."""
    return bytes(call.transact({"from": sender.address, "gas": gas}))


# ---------------------------------------------------------------- 1. copied fulfilments


def test_copied_reveal_from_another_address_is_refused(funded: ChainEnv, m: Market) -> None:
    """Never-locked request: the copier replays the honest reveal's calldata itself."""
    client, honest, copier = funded.clients[0], funded.provers[0], funded.provers[1]
    req, sig = m.request(client, start_in=0, min_price=10**15, max_price=10**15)
    fill = fulfillment(req, sig)
    m.commit([fill], honest)
    with pytest.raises(ContractLogicError, match="FulfillmentNotCommitted"):
        m.fulfill(fill, copier)  # the same calldata, from the copier's address
    # even a copy of the honest commitment does not help: it names the honest prover
    funded.send(funded.market.functions.commitFulfillment(m.commitment(fill, honest)), copier)
    with pytest.raises(ContractLogicError, match="FulfillmentNotCommitted"):
        m.fulfill(fill, copier)
    receipt = m.fulfill(fill, honest)
    assert funded.balance(honest.address) == 10**15
    assert funded.balance(copier.address) == 0
    (delivered,) = m.events(receipt, "ProofDelivered")
    assert delivered["prover"] == honest.address


def test_copier_committing_in_the_reveal_block_gets_nothing(
    funded: ChainEnv, m: Market, manual_mining: None
) -> None:
    """The copier sees the pending reveal, commits to the same fill under its own address
    in that block, and reveals in the next one: the honest reveal was mined first."""
    client, honest, copier = funded.clients[0], funded.provers[0], funded.provers[1]
    req, sig = m.request(client, start_in=0, min_price=10**15, max_price=10**15)
    fill = fulfillment(req, sig)
    market = funded.market.functions
    _pool_send(funded, market.commitFulfillment(m.commitment(fill, honest)), honest)
    funded.rpc("evm_mine")
    # block N: the honest reveal and the copier's commitment, both from the pool
    _pool_send(funded, market.commitFulfillment(m.commitment(fill, copier)), copier)
    _pool_send(funded, market.fulfill(fill), honest)
    funded.rpc("evm_mine")
    # block N+1: the copier reveals
    copy_hash = _pool_send(funded, market.fulfill(fill), copier)
    funded.rpc("evm_mine")
    receipt = funded.w3.eth.get_transaction_receipt(copy_hash)  # type: ignore[arg-type]
    assert receipt["status"] == 1
    assert _reasons(m, receipt) == ["RequestIsFulfilled"]
    assert m.events(receipt, "ProofDelivered") == []  # not logged as a delivery either
    assert funded.balance(honest.address) == 10**15
    assert funded.balance(copier.address) == 0


def test_copier_revealing_in_the_commit_block_is_refused(
    funded: ChainEnv, m: Market, manual_mining: None
) -> None:
    """A commitment and its reveal in one block: the reveal is refused."""
    req, sig = m.request(funded.clients[0], start_in=0)
    fill = fulfillment(req, sig)
    copier = funded.provers[1]
    market = funded.market.functions
    _pool_send(funded, market.commitFulfillment(m.commitment(fill, copier)), copier)
    reveal = _pool_send(funded, market.fulfill(fill), copier)
    funded.rpc("evm_mine")
    assert funded.w3.eth.get_transaction_receipt(reveal)["status"] == 0  # type: ignore[arg-type]
    with pytest.raises(ContractLogicError, match="CommitmentTooRecent"):
        funded.market.functions.fulfill(fill).call({"from": copier.address}, "latest")
    assert not funded.market.functions.requestIsFulfilled(req.id).call()


def test_copied_secondary_fulfilment_does_not_take_the_slash_reward(
    funded: ChainEnv, m: Market
) -> None:
    client, locker, second, copier = (
        funded.clients[0],
        funded.provers[0],
        funded.provers[1],
        funded.provers[2],
    )
    req, sig = m.request(client, start_in=0, lock_timeout=100, timeout=400, ramp_up_period=50)
    m.lock(req, sig, locker)
    funded.mine(req.offer.lock_deadline + 1)
    fill = fulfillment(req, sig)
    m.commit([fill], second)
    with pytest.raises(ContractLogicError, match="FulfillmentNotCommitted"):
        m.fulfill(fill, copier)
    m.fulfill(fill, second)
    funded.mine(req.offer.deadline + 1)
    receipt = funded.send(funded.market.functions.slash(req.id), copier)
    (slashed,) = m.events(receipt, "ProverSlashed")
    assert slashed["collateralRecipient"] == second.address
    assert slashed["prover"] == locker.address
    assert funded.stake(copier.address) == PROVER_STAKE
    assert funded.stake(second.address) == PROVER_STAKE + slashed["collateralTransferred"]


def test_copied_locked_fulfilment_is_refused(funded: ChainEnv, m: Market) -> None:
    """During a lock a copy of the locker's fill is refused, so no event names the copier."""
    client, locker, copier = funded.clients[0], funded.provers[0], funded.provers[1]
    req, sig = m.request(client, start_in=0)
    m.lock(req, sig, locker)
    fill = fulfillment(req, sig)
    with pytest.raises(ContractLogicError, match="FulfillmentNotCommitted"):
        m.fulfill(fill, copier)
    receipt = m.fulfill(fill, locker)
    (delivered,) = m.events(receipt, "ProofDelivered")
    assert delivered["prover"] == locker.address


# ---------------------------------------------------------------- 2. unverified event data


def test_rewrapped_seal_with_a_forged_journal_is_refused(funded: ChainEnv, m: Market) -> None:
    """The honest fill proves a claim without a journal; the copier re-wraps its seal with a
    journal and image id of its choosing (under both data types)."""
    journal = b"the real output"
    claim = claim_digest(journal=journal)
    req, sig = m.request(funded.clients[0], start_in=0, predicate=(CLAIM_DIGEST_MATCH, claim))
    copier = funded.provers[1]
    forged_typed = fulfillment(
        req, sig, seal=mock_seal(claim), data_type=DATA_IMAGE_ID_AND_JOURNAL, journal=b"forged"
    )
    with pytest.raises(ContractLogicError, match="PredicateNotSatisfied"):
        m.fulfill(forged_typed, copier)
    untyped = list(fulfillment(req, sig, seal=mock_seal(claim), data_type=DATA_NONE))
    untyped[4] = b"forged"  # a journal riding along with data type None
    with pytest.raises(ContractLogicError, match="InvalidFulfillment"):
        m.fulfill(tuple(untyped), copier)
    untyped[3], untyped[4] = b"\x01" * 32, b""  # or an image id alone
    with pytest.raises(ContractLogicError, match="InvalidFulfillment"):
        m.fulfill(tuple(untyped), copier)
    receipt = m.commit_and_fulfill(
        fulfillment(req, sig, seal=mock_seal(claim), data_type=DATA_NONE), funded.provers[0]
    )
    (delivered,) = m.events(receipt, "ProofDelivered")
    assert (delivered["journal"], delivered["imageId"]) == (b"", bytes(32))
    assert delivered["claimDigest"] == claim


# ---------------------------------------------------------------- 3. verifiers without code


def test_verifier_without_code_is_refused_at_registration(funded: ChainEnv) -> None:
    owner, eoa = funded.deployer, funded.others[3].address
    with pytest.raises(ContractLogicError, match="VerifierHasNoCode"):
        funded.send(funded.router.functions.addVerifier(b"\x12\x34\x56\x78", eoa), owner)
    with pytest.raises(ContractLogicError, match="InvalidVerifier"):
        deploy_contract(funded.w3, owner.address, "SetVerifier", eoa, b"\x00" * 32, "url")
    with pytest.raises(ContractLogicError, match="InvalidVerifier"):
        deploy_contract(
            funded.w3,
            owner.address,
            "ProofMarketExtension",
            eoa,
            funded.deployment.collateral_token,
        )


def test_verifier_that_lost_its_code_is_refused_when_called(funded: ChainEnv, m: Market) -> None:
    """Code removed under a registered verifier (anvil_setCode stands in for a selfdestruct
    in its creation transaction) and under the market's router: both refuse to route."""
    req, sig = m.request(funded.clients[0], start_in=0)
    m.lock(req, sig, funded.provers[0])
    fill = fulfillment(req, sig)
    funded.rpc("anvil_setCode", funded.deployment.mock_verifier, "0x")
    with pytest.raises(ContractLogicError, match="VerifierHasNoCode"):
        m.fulfill(fill, funded.provers[0])
    funded.rpc("anvil_setCode", funded.deployment.verifier_router, "0x")
    with pytest.raises(ContractLogicError, match="VerifierHasNoCode"):
        m.fulfill(fill, funded.provers[0])
    assert not funded.market.functions.requestIsFulfilled(req.id).call()


# ---------------------------------------------------------------- 4. unfulfillable locks


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        pytest.param(
            {"callback": ("0x" + "11" * 20, MAX_CALLBACK_GAS + 1)},
            "CallbackGasLimitTooHigh",
            id="callback-gas",
        ),
        pytest.param({"selector": b"\x12\x34\x56\x78"}, "SelectorUnknown", id="selector"),
    ],
)
def test_unfulfillable_request_refused_at_submit_and_lock(
    funded: ChainEnv, m: Market, kwargs: dict[str, Any], reason: str
) -> None:
    req, sig = m.request(funded.clients[0], start_in=0, **kwargs)
    with pytest.raises(ContractLogicError, match=reason):
        funded.send(funded.market.functions.submitRequest(req.as_tuple(), sig), funded.clients[0])
    with pytest.raises(ContractLogicError, match=reason):
        m.lock(req, sig, funded.provers[0])
    assert funded.stake(funded.provers[0].address) == PROVER_STAKE


def test_removed_selector_refused_at_lock(funded: ChainEnv, m: Market) -> None:
    selector = bytes.fromhex(funded.deployment.set_verifier_selector[2:])
    funded.send(funded.router.functions.removeVerifier(selector), funded.deployer)
    req, sig = m.request(funded.clients[0], start_in=0, selector=selector)
    with pytest.raises(ContractLogicError, match="SelectorRemoved"):
        m.lock(req, sig, funded.provers[0])


def test_callback_gas_at_the_limit_is_accepted(funded: ChainEnv, m: Market) -> None:
    req, sig = m.request(
        funded.clients[0], start_in=0, callback=("0x" + "11" * 20, MAX_CALLBACK_GAS)
    )
    m.lock(req, sig, funded.provers[0])
    assert funded.market.functions.requestIsLocked(req.id).call()


# ---------------------------------------------------------------- 5. held-back lock signatures


def test_lock_signature_expires_and_bounds_the_price(funded: ChainEnv, m: Market) -> None:
    client, prover, relayer = funded.clients[0], funded.provers[1], funded.others[0]
    req, sig = m.request(client, start_in=0, min_price=10**15, max_price=2 * 10**15)
    market = funded.market.functions
    expires = funded.now() + 20
    prover_sig = sign_lock(req, prover, m.chain_id, m.address, expires_at=expires)
    funded.mine(expires + 1)  # the relayer held the signature too long
    call = market.lockRequestWithSignature(req.as_tuple(), sig, prover_sig, 0, expires)
    with pytest.raises(ContractLogicError, match="LockSignatureExpired"):
        funded.send(call, relayer)
    # a floor above the current price: the relayer cannot lock now
    floor = 2 * 10**15
    floor_sig = sign_lock(req, prover, m.chain_id, m.address, min_price=floor)
    call = market.lockRequestWithSignature(req.as_tuple(), sig, floor_sig, floor, NEVER)
    with pytest.raises(ContractLogicError, match="LockPriceTooLow"):
        funded.send(call, relayer)
    # nor can it drop the floor: the signature then names someone without stake
    call = market.lockRequestWithSignature(req.as_tuple(), sig, floor_sig, 0, NEVER)
    with pytest.raises(ContractLogicError, match="InsufficientBalance"):
        funded.send(call, relayer)
    funded.mine(req.offer.ramp_up_start + req.offer.ramp_up_period)  # price reaches the floor
    call = market.lockRequestWithSignature(req.as_tuple(), sig, floor_sig, floor, NEVER)
    (locked,) = m.events(funded.send(call, relayer), "RequestLocked")
    assert (locked["prover"], locked["price"]) == (prover.address, floor)


# ---------------------------------------------------------------- 6. admin powers


def test_router_timelock_announces_verifier_changes(funded: ChainEnv, m: Market) -> None:
    """With a delay, an accept-all verifier or a removal under a lock is seen coming: a
    locker whose selector is scheduled for removal still fulfils before it takes effect."""
    router, owner, anyone = funded.router.functions, funded.deployer, funded.others[0]
    funded.send(router.increaseDelay(3600), owner)
    with pytest.raises(ContractLogicError, match="InvalidDelay"):
        funded.send(router.increaseDelay(60), owner)  # never lowered
    mock = funded.deployment.mock_verifier
    new_selector = b"\x0a\x0b\x0c\x0d"
    funded.send(router.addVerifier(new_selector, mock), owner)
    with pytest.raises(ContractLogicError, match="SelectorUnknown"):
        router.getVerifier(new_selector).call()
    with pytest.raises(ContractLogicError, match="TooEarly"):
        funded.send(router.executeScheduled(new_selector), anyone)

    selector = bytes.fromhex(funded.deployment.mock_verifier_selector[2:])
    req, sig = m.request(funded.clients[0], start_in=0, selector=selector)
    m.lock(req, sig, funded.provers[0])
    funded.send(router.removeVerifier(selector), owner)  # scheduled, not applied
    m.fulfill(fulfillment(req, sig), funded.provers[0])
    assert funded.market.functions.requestIsFulfilled(req.id).call()

    funded.advance(3601)
    funded.send(router.executeScheduled(new_selector), anyone)
    assert router.getVerifier(new_selector).call() == mock
    funded.send(router.executeScheduled(selector), anyone)
    with pytest.raises(ContractLogicError, match="SelectorRemoved"):
        router.getVerifier(selector).call()
    with pytest.raises(ContractLogicError, match="NothingScheduled"):
        funded.send(router.executeScheduled(selector), anyone)


def test_ownership_moves_in_two_steps(funded: ChainEnv) -> None:
    owner, new, outsider = funded.deployer, funded.others[1], funded.others[2]
    hp = funded.token.functions
    for contract in (funded.market, funded.router, funded.token):
        fns = contract.functions
        funded.send(fns.transferOwnership(new.address), owner)
        assert fns.owner().call() == owner.address  # nothing moves yet
        assert fns.pendingOwner().call() == new.address
        with pytest.raises(ContractLogicError, match="NotPendingOwner"):
            funded.send(fns.acceptOwnership(), outsider)
        funded.send(fns.acceptOwnership(), new)
        assert fns.owner().call() == new.address
        with pytest.raises(ContractLogicError, match="NotOwner"):
            funded.send(fns.transferOwnership(outsider.address), owner)
    with pytest.raises(ContractLogicError, match="NotOwner"):
        funded.send(hp.grantMinterRole(owner.address), owner)


def test_deployment_hands_every_role_to_the_owner(chain: ChainEnv) -> None:
    deployer, owner = dev_accounts()[0], dev_accounts()[8]
    deployment = deploy_market_stack(
        chain.w3, deployer.address, dev_mode=True, owner=owner.address, router_delay=600
    )
    router = contract_at(chain.w3, "VerifierRouter", deployment.verifier_router).functions
    assert router.delay().call() == 600
    set_selector = bytes.fromhex(deployment.set_verifier_selector[2:])
    assert router.getVerifier(set_selector).call() == deployment.set_verifier  # not pending
    hp = contract_at(chain.w3, "HitPoints", deployment.collateral_token).functions
    assert not hp.isMinter(deployer.address).call()
    assert hp.isMinter(owner.address).call()
    for name, address in (
        ("ProofMarket", deployment.market),
        ("VerifierRouter", deployment.verifier_router),
        ("HitPoints", deployment.collateral_token),
    ):
        fns = contract_at(chain.w3, name, address).functions
        assert fns.owner().call() == owner.address, name
        assert fns.pendingOwner().call() == "0x" + "00" * 20, name
    with pytest.raises(ContractLogicError, match="NotMinter"):
        chain.send(hp.mint(deployer.address, 1), deployer)


def test_owner_cannot_revoke_the_markets_transfer_role(funded: ChainEnv) -> None:
    """Revoking it would freeze every prover's stake; deployment makes it permanent."""
    hp = funded.token.functions
    assert hp.isPermanentTransfer(funded.deployment.market).call()
    with pytest.raises(ContractLogicError, match="RolePermanent"):
        funded.send(hp.revokeAuthorizedTransferRole(funded.deployment.market), funded.deployer)
    funded.send(funded.market.functions.withdrawStake(1), funded.provers[0])  # still works
    other = funded.others[2].address
    funded.send(hp.grantAuthorizedTransferRole(other), funded.deployer)
    funded.send(hp.revokeAuthorizedTransferRole(other), funded.deployer)  # others stay revocable
    assert not hp.isAuthorizedTransfer(other).call()


def test_extension_refuses_direct_calls(funded: ChainEnv) -> None:
    """The extension only acts on the market's storage, through the market's fallback."""
    ext = contract_at(funded.w3, "ProofMarketExtension", funded.deployment.market_extension)
    with pytest.raises(ContractLogicError, match="OnlyThroughMarket"):
        funded.send(ext.functions.deposit(), funded.clients[0], value=1)
    with pytest.raises(ContractLogicError, match="OnlyThroughMarket"):
        funded.send(ext.functions.slash(1), funded.clients[0])


# ---------------------------------------------------------------- 7. value events


def test_slash_logs_every_amount(funded: ChainEnv, m: Market) -> None:
    client, locker = funded.clients[0], funded.provers[0]
    req, sig = m.request(client, start_in=0, lock_timeout=20, timeout=60, ramp_up_period=10)
    (locked,) = m.events(m.lock(req, sig, locker), "RequestLocked")
    assert locked["client"] == client.address
    assert (locked["lockDeadline"], locked["deadline"]) == (
        req.offer.lock_deadline,
        req.offer.deadline,
    )
    funded.mine(req.offer.deadline + 1)
    receipt = funded.send(funded.market.functions.slash(req.id), funded.others[0])
    (refund,) = m.events(receipt, "ClientRefunded")
    assert (refund["client"], refund["amount"]) == (client.address, locked["price"])
    assert funded.balance(client.address) == CLIENT_DEPOSIT
    (slashed,) = m.events(receipt, "ProverSlashed")
    assert slashed["prover"] == locker.address
    assert slashed["collateralBurned"] + slashed["collateralTransferred"] == locked["collateral"]

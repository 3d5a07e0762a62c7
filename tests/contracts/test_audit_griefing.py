"""Second audit: griefing attacks that cost an honest party money, performed against anvil.

A smart-contract client that withdraws its ERC-1271 approval after a prover locked (the
locker could no longer deliver and would be slashed), and a copied EIP-2612 permit sent
ahead of the prover's own `depositStakeWithPermit` (the deposit would revert).
"""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
import pytest
from web3.exceptions import ContractLogicError

from proofmarket.contracts.deploy import deploy_contract
from proofmarket.contracts.testing import ChainEnv, Market, Offer, Request, fulfillment, request_id

from .conftest import PROVER_STAKE

ERC1271_FLAG = 1 << 192


def _wallet_request(env: ChainEnv, m: Market, owner: LocalAccount, index: int) -> tuple:
    wallet = deploy_contract(env.w3, owner.address, "TestWallet", owner.address)
    env.send(env.market.functions.depositTo(wallet.address), owner, value=10**16)
    req = Request(
        request_id(wallet.address, index) | ERC1271_FLAG,
        Offer(ramp_up_start=env.now() + 5, min_price=10**15, max_price=10**15),
    )
    return wallet, req, m.sign(req, owner)


def test_erc1271_client_revoking_after_lock_cannot_strand_the_locker(
    funded: ChainEnv, m: Market
) -> None:
    """The wallet vouches at lock, then says no: the locker still delivers and is paid."""
    owner, locker = funded.others[0], funded.provers[0]
    wallet, req, sig = _wallet_request(funded, m, owner, 1)
    m.lock(req, sig, locker)
    assert funded.stake(locker.address) == PROVER_STAKE - req.offer.lock_collateral
    funded.send(wallet.functions.setAccept(False), owner)  # the client withdraws its approval
    receipt = m.fulfill(fulfillment(req, sig), locker)
    (paid,) = m.events(receipt, "ProverPaid")
    assert paid["price"] == 10**15
    assert funded.balance(locker.address) == 10**15
    assert funded.stake(locker.address) == PROVER_STAKE
    assert funded.balance(wallet.address) == 10**16 - 10**15


def test_erc1271_lock_binding_is_the_full_digest(funded: ChainEnv, m: Market) -> None:
    """The lock vouches only for the request it locked: an altered request (same id) still
    needs the wallet's word, and a never-locked request from a revoked wallet is refused."""
    owner, locker = funded.others[0], funded.provers[0]
    wallet, req, sig = _wallet_request(funded, m, owner, 2)
    m.lock(req, sig, locker)
    funded.send(wallet.functions.setAccept(False), owner)
    altered = Request(req.id, Offer(**{**req.offer.__dict__, "max_price": 2 * 10**15}))
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.fulfill(fulfillment(altered, m.sign(altered, owner)), locker)
    never_locked = Request(req.id + 1, req.offer)
    never_sig = m.sign(never_locked, owner)
    with pytest.raises(ContractLogicError, match="InvalidSignature"):
        m.commit_and_fulfill(fulfillment(never_locked, never_sig), funded.provers[1])
    assert funded.balance(wallet.address) == 10**16 - 10**15  # only the lock's price left


def _permit(env: ChainEnv, owner: LocalAccount, value: int, deadline: int) -> tuple:
    nonce = env.token.functions.nonces(owner.address).call()
    signable = encode_typed_data(
        {
            "name": "HitPoints",
            "version": "1",
            "chainId": env.w3.eth.chain_id,
            "verifyingContract": env.deployment.collateral_token,
        },
        {
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ]
        },
        {
            "owner": owner.address,
            "spender": env.deployment.market,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    )
    signed = Account.sign_message(signable, owner.key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_copied_permit_sent_first_does_not_block_the_deposit(chain: ChainEnv) -> None:
    """A watcher submits the prover's permit to the token itself, ahead of the deposit."""
    prover, watcher = chain.provers[0], chain.others[1]
    amount, deadline = 5 * 10**18, chain.now() + 100
    v, r, s = _permit(chain, prover, amount, deadline)
    token = chain.token.functions
    chain.send(token.permit(prover.address, chain.deployment.market, amount, deadline, v, r, s), watcher)
    chain.send(chain.market.functions.depositStakeWithPermit(amount, deadline, v, r, s), prover)
    assert chain.stake(prover.address) == amount
    # the used-up permit moves nothing more: the allowance it granted is spent
    with pytest.raises(ContractLogicError):
        chain.send(chain.market.functions.depositStakeWithPermit(amount, deadline, v, r, s), prover)
    assert chain.stake(prover.address) == amount

"""Test and benchmark helpers: a deployed-stack handle and requests built as ABI tuples.

Requests are plain tuples in the contract's ABI order; EIP-712 digests and signatures come
from eth-account's generic ``encode_typed_data`` over the type definitions of
``proofmarket.market.eip712``, so the contracts (whose type hashes are written out in Vyper)
are checked against an implementation that shares no code with them. Not for production
use: accounts are anvil's unlocked dev accounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from proofmarket.contracts.deploy import Deployment, contract_at, send_transaction
from proofmarket.contracts.seals import mock_seal
from proofmarket.devnet.anvil import AnvilProcess, dev_accounts
from proofmarket.market.commit import BATCH_CALLDATA_PADDING, fill_commitment, fill_digest
from proofmarket.market.eip712 import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    LOCK_REQUEST_TYPES,
    PERMIT_TYPES,
)
from proofmarket.market.eip712 import EIP712_TYPES as REQUEST_TYPES
from proofmarket.zkvm.claim import ReceiptClaim


@dataclass
class ChainEnv:
    """A deployed stack plus the helpers tests need (send, time travel, balances)."""

    w3: Web3
    deployment: Deployment
    anvil: AnvilProcess

    @property
    def deployer(self) -> LocalAccount:
        return dev_accounts()[0]

    @property
    def clients(self) -> tuple[LocalAccount, ...]:
        return dev_accounts()[1:3]

    @property
    def provers(self) -> tuple[LocalAccount, ...]:
        return dev_accounts()[3:6]

    @property
    def others(self) -> tuple[LocalAccount, ...]:
        return dev_accounts()[6:10]

    @property
    def market(self) -> Contract:
        return contract_at(self.w3, "ProofMarket", self.deployment.market)

    @property
    def token(self) -> Contract:
        name = "HitPoints" if self.deployment.collateral_is_hit_points else "TestToken"
        return contract_at(self.w3, name, self.deployment.collateral_token)

    @property
    def router(self) -> Contract:
        return contract_at(self.w3, "VerifierRouter", self.deployment.verifier_router)

    @property
    def set_verifier(self) -> Contract:
        return contract_at(self.w3, "SetVerifier", self.deployment.set_verifier)

    @property
    def mock_verifier(self) -> Contract:
        assert self.deployment.mock_verifier is not None
        return contract_at(self.w3, "MockVerifier", self.deployment.mock_verifier)

    def send(self, call: Any, sender: LocalAccount | str, value: int = 0) -> TxReceipt:
        """Send from an (anvil-unlocked) account; revert reasons raise ContractLogicError."""
        address = sender if isinstance(sender, str) else sender.address
        return send_transaction(self.w3, address, call, value=value)

    def rpc(self, method: str, *params: Any) -> Any:
        return self.w3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def set_next_timestamp(self, timestamp: int) -> None:
        self.rpc("evm_setNextBlockTimestamp", timestamp)

    def mine(self, timestamp: int | None = None) -> None:
        if timestamp is not None:
            self.set_next_timestamp(timestamp)
        self.rpc("evm_mine")

    def advance(self, seconds: int) -> int:
        """Mine a block ``seconds`` after the latest one; returns its timestamp."""
        target = self.now() + seconds
        self.mine(target)
        return target

    def deposit(self, account: LocalAccount, wei: int) -> None:
        self.send(self.market.functions.deposit(), account, value=wei)

    def deposit_stake(self, account: LocalAccount, amount: int) -> None:
        self.send(self.token.functions.approve(self.deployment.market, amount), account)
        self.send(self.market.functions.depositStake(amount), account)

    def balance(self, account: str) -> int:
        return int(self.market.functions.balanceOf(account).call())

    def stake(self, account: str) -> int:
        return int(self.market.functions.balanceOfStake(account).call())


DIGEST_MATCH, PREFIX_MATCH, CLAIM_DIGEST_MATCH = 0, 1, 2
DATA_NONE, DATA_IMAGE_ID_AND_JOURNAL = 0, 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

IMAGE_ID = hashlib.sha256(b"proofmarket test guest").digest()
JOURNAL = b"journal: 42"

# The request types come from proofmarket.market's single definition; the contracts are
# still checked independently, since their type hashes are written out in Vyper.
EIP712_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    **REQUEST_TYPES,
}
LOCK_TYPES = {**EIP712_TYPES, "LockRequest": LOCK_REQUEST_TYPES["LockRequest"]}


def claim_digest(image_id: bytes = IMAGE_ID, journal: bytes = JOURNAL) -> bytes:
    return ReceiptClaim.ok(image_id, journal).digest()


def digest_match(image_id: bytes = IMAGE_ID, journal: bytes = JOURNAL) -> tuple[int, bytes]:
    return (DIGEST_MATCH, image_id + hashlib.sha256(journal).digest())


@dataclass(frozen=True)
class Offer:
    min_price: int = 10**15
    max_price: int = 10**16
    ramp_up_start: int = 0
    ramp_up_period: int = 100
    lock_timeout: int = 300
    timeout: int = 600
    lock_collateral: int = 10 * 10**18

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.min_price,
            self.max_price,
            self.ramp_up_start,
            self.ramp_up_period,
            self.lock_timeout,
            self.timeout,
            self.lock_collateral,
        )

    def message(self) -> dict[str, int]:
        return {
            "minPrice": self.min_price,
            "maxPrice": self.max_price,
            "rampUpStart": self.ramp_up_start,
            "rampUpPeriod": self.ramp_up_period,
            "lockTimeout": self.lock_timeout,
            "timeout": self.timeout,
            "lockCollateral": self.lock_collateral,
        }

    @property
    def lock_deadline(self) -> int:
        return self.ramp_up_start + self.lock_timeout

    @property
    def deadline(self) -> int:
        return self.ramp_up_start + self.timeout


@dataclass(frozen=True)
class Request:
    id: int
    offer: Offer
    predicate: tuple[int, bytes] = field(default_factory=digest_match)
    callback: tuple[str, int] = ("0x" + "00" * 20, 0)
    selector: bytes = b"\x00" * 4
    image_url: str = "file:///guest.elf"
    input: tuple[int, bytes] = (0, b"\x00input")

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.id,
            (self.callback, self.predicate, self.selector),
            self.image_url,
            self.input,
            self.offer.as_tuple(),
        )

    def message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requirements": {
                "callback": {"addr": self.callback[0], "gasLimit": self.callback[1]},
                "predicate": {"predicateType": self.predicate[0], "data": self.predicate[1]},
                "selector": self.selector,
            },
            "imageUrl": self.image_url,
            "input": {"inputType": self.input[0], "data": self.input[1]},
            "offer": self.offer.message(),
        }

    def with_offer(self, **changes: int) -> Request:
        return replace(self, offer=replace(self.offer, **changes))


def request_id(client: str, index: int) -> int:
    return (int(client, 16) << 32) | index


def domain(chain_id: int, market: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": market,
    }


def request_signable(req: Request, chain_id: int, market: str) -> SignableMessage:
    return encode_typed_data(
        full_message={
            "types": EIP712_TYPES,
            "primaryType": "ProofRequest",
            "domain": domain(chain_id, market),
            "message": req.message(),
        }
    )


def sign_request(req: Request, account: LocalAccount, chain_id: int, market: str) -> bytes:
    return bytes(
        Account.sign_message(request_signable(req, chain_id, market), account.key).signature
    )


NEVER = 2**40 - 1
"""A lock-signature expiry far in the future."""


def sign_lock(
    req: Request,
    account: LocalAccount,
    chain_id: int,
    market: str,
    *,
    min_price: int = 0,
    expires_at: int = NEVER,
) -> bytes:
    """The prover's LockRequest signature (void after ``expires_at``, below ``min_price``)."""
    signable = encode_typed_data(
        full_message={
            "types": LOCK_TYPES,
            "primaryType": "LockRequest",
            "domain": domain(chain_id, market),
            "message": {
                "request": req.message(),
                "minLockPrice": min_price,
                "expiresAt": expires_at,
            },
        }
    )
    return bytes(Account.sign_message(signable, account.key).signature)


def sign_permit(
    env: ChainEnv, owner: LocalAccount, value: int, deadline: int, nonce: int | None = None
) -> tuple[int, bytes, bytes]:
    """EIP-2612 permit of the HP collateral for the market: ``(v, r, s)``; the owner's current
    nonce unless ``nonce`` is given."""
    if nonce is None:
        nonce = env.token.functions.nonces(owner.address).call()
    signable = encode_typed_data(
        {
            "name": "HitPoints",
            "version": "1",
            "chainId": env.w3.eth.chain_id,
            "verifyingContract": env.deployment.collateral_token,
        },
        PERMIT_TYPES,
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


def malleable(signature: bytes) -> bytes:
    """The same signature with s' = n - s and the other v (valid for ecrecover, high s)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def fulfillment(
    req: Request,
    signature: bytes,
    *,
    seal: bytes | None = None,
    data_type: int = DATA_IMAGE_ID_AND_JOURNAL,
    image_id: bytes = IMAGE_ID,
    journal: bytes = JOURNAL,
) -> tuple[Any, ...]:
    """A Fulfillment tuple; the default seal is the dev-mode seal for (image_id, journal)."""
    if seal is None:
        seal = mock_seal(claim_digest(image_id, journal))
    if data_type == DATA_NONE:
        return (req.as_tuple(), signature, DATA_NONE, b"\x00" * 32, b"", seal)
    return (req.as_tuple(), signature, data_type, image_id, journal, seal)


class Market:
    """Small façade over a ChainEnv for the market tests: requests, locks, fills."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.chain_id = env.w3.eth.chain_id
        self.address = env.deployment.market
        self._next_index = 1

    def request(
        self,
        client: LocalAccount | None = None,
        *,
        index: int | None = None,
        start_in: int = 10,
        **kwargs: Any,
    ) -> tuple[Request, bytes]:
        """A signed request whose ramp starts ``start_in`` seconds after the latest block."""
        client = client or self.env.clients[0]
        if index is None:
            index = self._next_index
            self._next_index += 1
        offer_fields = {k: kwargs.pop(k) for k in list(kwargs) if k in Offer.__dataclass_fields__}
        offer_fields.setdefault("ramp_up_start", self.env.now() + start_in)
        req = Request(request_id(client.address, index), Offer(**offer_fields), **kwargs)
        return req, self.sign(req, client)

    def sign(self, req: Request, client: LocalAccount) -> bytes:
        return sign_request(req, client, self.chain_id, self.address)

    def lock(self, req: Request, sig: bytes, prover: LocalAccount) -> Any:
        return self.env.send(self.env.market.functions.lockRequest(req.as_tuple(), sig), prover)

    def fulfill(self, fill: tuple[Any, ...], prover: LocalAccount) -> Any:
        """Reveal ``fill`` from ``prover`` (no commit: the locker's in-time path)."""
        return self.env.send(self.env.market.functions.fulfill(fill), prover)

    def fulfill_batch(self, fills: list[tuple[Any, ...]], prover: LocalAccount) -> Any:
        """``fulfillBatch`` with the calldata padding the market's decoder needs."""
        call = self.env.market.functions.fulfillBatch(fills)
        return send_transaction(
            self.env.w3, prover.address, call, data_suffix=BATCH_CALLDATA_PADDING
        )

    def commitment(self, fill: tuple[Any, ...], prover: LocalAccount | str) -> bytes:
        """``keccak256(abi.encode(fillDigest, prover))`` for ``fill``."""
        market = self.env.market.functions
        claim = bytes(market.verifyDelivery(fill).call())
        digest = bytes(market.requestDigest(fill[0]).call())
        address = prover if isinstance(prover, str) else prover.address
        return fill_commitment(fill_digest(digest, claim, bytes(fill[5])), address)

    def commit(self, fills: list[tuple[Any, ...]], prover: LocalAccount) -> Any:
        """Commit ``prover`` to ``fills`` (mined in its own block on the automining node)."""
        commitments = [self.commitment(fill, prover) for fill in fills]
        return self.env.send(self.env.market.functions.commitFulfillments(commitments), prover)

    def commit_and_fulfill(self, fill: tuple[Any, ...], prover: LocalAccount) -> Any:
        """The two-step fulfil of an open (never-locked or lapsed) request."""
        self.commit([fill], prover)
        return self.fulfill(fill, prover)

    def events(self, receipt: Any, name: str) -> list[Any]:
        event = getattr(self.env.market.events, name)()
        return [e["args"] for e in event.process_receipt(receipt, errors=DISCARD)]

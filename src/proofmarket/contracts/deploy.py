"""Deploy the market stack with web3.py.

Order (mirrors the Boundless localnet script): HitPoints (unless an ERC-20 collateral token is
given), verifier router, mock verifier (dev mode only, selector 0xFFFFFFFF), set verifier, the
market's extension and the market; then the router learns the selectors and HP authorises the
market to move collateral. When the owner is not the deployer, every role is handed over in
the same deployment (two-step ownership, accepted by the owner) and the deployer keeps none.
The ``deployer`` is either a local account (transactions are signed here) or the address of an
account the node unlocks (anvil's dev accounts).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import TxParams, TxReceipt

from proofmarket.contracts.compile import load_artifact
from proofmarket.contracts.seals import (
    MOCK_VERIFIER_SELECTOR,
    SET_BUILDER_IMAGE_ID_DEV,
    set_verifier_selector,
)

Sender = LocalAccount | str
DEFAULT_SET_BUILDER_URL = "proofmarket://set-builder/v1"


class DeploymentError(RuntimeError):
    """A deployment transaction failed or the deployment record is malformed."""


@dataclass(frozen=True)
class Deployment:
    """Addresses and parameters of a deployed market stack (JSON-serialisable)."""

    chain_id: int
    market: str
    market_extension: str
    collateral_token: str
    collateral_is_hit_points: bool
    verifier_router: str
    set_verifier: str
    mock_verifier: str | None
    treasury: str  # the market's own account key holds the treasury balances
    owner: str
    dev_mode: bool
    set_builder_image_id: str  # 0x hex
    set_verifier_selector: str  # 0x hex, 4 bytes
    mock_verifier_selector: str | None
    deploy_block: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        names = {f.name for f in fields(cls)}
        missing = names - set(data)
        if missing:
            raise DeploymentError(f"deployment record lacks {', '.join(sorted(missing))}")
        return cls(**{name: data[name] for name in names})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DeploymentError(f"deployment record is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise DeploymentError("deployment record must be a JSON object")
        return cls.from_dict(data)


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """A web3 contract object for the compiled contract ``name`` at ``address``."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name).abi)


def sender_address(sender: Sender) -> str:
    return sender.address if isinstance(sender, LocalAccount) else Web3.to_checksum_address(sender)


def send_transaction(
    w3: Web3,
    sender: Sender,
    call: ContractFunction | ContractConstructor,
    value: int = 0,
    *,
    data_suffix: bytes = b"",
) -> TxReceipt:
    """Send ``call`` from ``sender`` and return the mined receipt; raise if it reverted.

    ``data_suffix`` is appended to the calldata (the padding ``fulfillBatch`` needs)."""
    params: TxParams = {"from": sender_address(sender), "value": value}  # type: ignore[typeddict-item]
    if data_suffix:
        assert isinstance(call, ContractFunction)
        params["to"] = call.address
        params["data"] = call._encode_transaction_data() + data_suffix.hex()
    # estimate against the pending block: a fulfilment revealed right after its commitment
    # only passes once the block number has moved past the commit's block
    estimate = (
        w3.eth.estimate_gas(params, "pending")
        if data_suffix
        else call.estimate_gas(params, block_identifier="pending")
    )
    params["gas"] = int(estimate * 1.2) + 10_000
    if isinstance(sender, LocalAccount):
        params["nonce"] = w3.eth.get_transaction_count(sender.address, "pending")
        tx: dict[str, Any] = dict(params) if data_suffix else dict(call.build_transaction(params))
        if data_suffix:
            tx.update(chainId=w3.eth.chain_id, gasPrice=w3.eth.gas_price)
        signed = sender.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    elif data_suffix:
        tx_hash = w3.eth.send_transaction(params)
    else:
        tx_hash = call.transact(params)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.05)
    if receipt["status"] != 1:
        raise DeploymentError(f"transaction {tx_hash.hex()} reverted")
    return receipt


def deploy_contract(w3: Web3, deployer: Sender, name: str, *args: Any) -> Contract:
    """Deploy the compiled contract ``name`` with constructor ``args``."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send_transaction(w3, deployer, factory.constructor(*args))
    address = receipt["contractAddress"]
    if address is None:
        raise DeploymentError(f"deploying {name} produced no contract address")
    return contract_at(w3, name, address)


def deploy_market_stack(
    w3: Web3,
    deployer: Sender,
    *,
    dev_mode: bool,
    collateral_token: str | None = None,
    owner: Sender | None = None,
    set_builder_image_id: bytes | None = None,
    set_builder_url: str = DEFAULT_SET_BUILDER_URL,
    accept_ownership: bool = True,
    router_delay: int = 0,
) -> Deployment:
    """Deploy router, verifiers, collateral token (HP unless given) and the market.

    ``dev_mode`` registers the mock verifier (seals ``0xFFFFFFFF || claimDigest``); never
    use it for a deployment that holds real value. ``owner`` (default: the deployer) owns
    the router, the market and HP and is HP's only minter. When it differs from the
    deployer, ownership is offered to it (two-step) and, with ``accept_ownership``, accepted
    by it here (``owner`` must then be a local account or a node-unlocked address);
    otherwise the owner calls :func:`accept_ownership` itself. ``router_delay`` (seconds)
    timelocks later verifier additions and removals, after this deployment's own.
    """
    deployer_addr = sender_address(deployer)
    final_owner = sender_address(owner) if owner is not None else deployer_addr
    image_id = set_builder_image_id or SET_BUILDER_IMAGE_ID_DEV
    if len(image_id) != 32:
        raise DeploymentError("set_builder_image_id must be 32 bytes")
    start_block = w3.eth.block_number

    is_hp = collateral_token is None
    if is_hp:
        token = deploy_contract(w3, deployer, "HitPoints", deployer_addr)
        send_transaction(w3, deployer, token.functions.grantMinterRole(final_owner))
        token_address = token.address
    else:
        assert collateral_token is not None
        token_address = Web3.to_checksum_address(collateral_token)
        if not w3.eth.get_code(token_address):
            raise DeploymentError(f"collateral token {token_address} has no code")

    router = deploy_contract(w3, deployer, "VerifierRouter", deployer_addr)
    mock_address: str | None = None
    if dev_mode:
        mock = deploy_contract(w3, deployer, "MockVerifier", MOCK_VERIFIER_SELECTOR)
        send_transaction(
            w3, deployer, router.functions.addVerifier(MOCK_VERIFIER_SELECTOR, mock.address)
        )
        mock_address = mock.address
    set_verifier = deploy_contract(
        w3, deployer, "SetVerifier", router.address, image_id, set_builder_url
    )
    selector = bytes(set_verifier.functions.SELECTOR().call())
    if selector != set_verifier_selector(image_id):
        raise DeploymentError("set verifier selector differs from the Python computation")
    send_transaction(w3, deployer, router.functions.addVerifier(selector, set_verifier.address))
    if router_delay:
        send_transaction(w3, deployer, router.functions.increaseDelay(router_delay))
    extension = deploy_contract(w3, deployer, "ProofMarketExtension", router.address, token_address)
    market = deploy_contract(
        w3,
        deployer,
        "ProofMarket",
        router.address,
        token_address,
        final_owner,
        extension.address,
    )
    if is_hp:
        send_transaction(w3, deployer, token.functions.grantAuthorizedTransferRole(market.address))
        # irrevocable: no owner can later freeze stake deposits, withdrawals and slash burns
        send_transaction(w3, deployer, token.functions.makeTransferRolePermanent(market.address))

    if final_owner != deployer_addr:
        send_transaction(w3, deployer, router.functions.transferOwnership(final_owner))
        if is_hp:
            send_transaction(w3, deployer, token.functions.transferOwnership(final_owner))
        if accept_ownership:
            assert owner is not None
            accept_ownerships(w3, owner, router.address, token_address if is_hp else None)

    return Deployment(
        chain_id=w3.eth.chain_id,
        market=market.address,
        market_extension=extension.address,
        collateral_token=token_address,
        collateral_is_hit_points=is_hp,
        verifier_router=router.address,
        set_verifier=set_verifier.address,
        mock_verifier=mock_address,
        treasury=market.address,
        owner=final_owner,
        dev_mode=dev_mode,
        set_builder_image_id="0x" + image_id.hex(),
        set_verifier_selector="0x" + selector.hex(),
        mock_verifier_selector="0x" + MOCK_VERIFIER_SELECTOR.hex() if dev_mode else None,
        deploy_block=start_block + 1,
    )


def accept_ownerships(w3: Web3, owner: Sender, router: str, hit_points: str | None) -> None:
    """The new owner's half of the two-step handover (router, and HP when it is the token)."""
    send_transaction(
        w3, owner, contract_at(w3, "VerifierRouter", router).functions.acceptOwnership()
    )
    if hit_points is not None:
        token = contract_at(w3, "HitPoints", hit_points)
        send_transaction(w3, owner, token.functions.acceptOwnership())


def accept_ownership(w3: Web3, owner: Sender, deployment: Deployment) -> None:
    """Accept a pending ownership of the router and HP (the market is owned from birth)."""
    accept_ownerships(
        w3,
        owner,
        deployment.verifier_router,
        deployment.collateral_token if deployment.collateral_is_hit_points else None,
    )


def mint_hit_points(w3: Web3, minter: Sender, deployment: Deployment, to: str, amount: int) -> None:
    """Mint HP collateral (the minter needs the minter role; the owner has it)."""
    if not deployment.collateral_is_hit_points:
        raise DeploymentError("this deployment's collateral is not HitPoints")
    token = contract_at(w3, "HitPoints", deployment.collateral_token)
    send_transaction(w3, minter, token.functions.mint(Web3.to_checksum_address(to), amount))

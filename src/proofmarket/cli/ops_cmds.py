"""``proofmarket ops``: operations anyone may perform, such as slashing a lapsed lock."""

from __future__ import annotations

from typing import Annotated

import typer

from proofmarket.cli.chain_options import (
    JsonOpt,
    MarketAddressOpt,
    PrivateKeyOpt,
    RpcUrlOpt,
    TxTimeoutOpt,
    cli_errors,
    connect,
    emit,
)

ops_app = typer.Typer(
    help="Market operations: slashing (anyone) and the owner's two-step handover.",
    no_args_is_help=True,
)


@ops_app.command("slash")
@cli_errors
def slash(
    request_id: Annotated[str, typer.Argument(help="request ID (0x-hex or decimal)")],
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Slash the prover of a locked request that expired unfulfilled.

    Half the collateral is burned; the rest goes to the prover who fulfilled after the lock
    lapsed, or to the market treasury (and the client gets its lock price back).
    """
    from proofmarket.market import events as ev
    from proofmarket.market.request_id import RequestId

    rid = RequestId.parse(request_id)
    client = connect(rpc_url, private_key, market_address, tx_timeout, need_key=True)
    result = client.slash(rid)
    event = result.first(ev.ProverSlashed)
    refunds = result.all(ev.ClientRefunded)
    data = {
        "requestId": rid.hex(),
        "prover": event.prover,
        "clientRefund": refunds[0].amount if refunds else 0,
        "collateralBurned": event.collateral_burned,
        "collateralTransferred": event.collateral_transferred,
        "collateralRecipient": event.collateral_recipient,
        "txHash": result.tx_hash,
        "blockNumber": result.block_number,
    }
    emit(
        data,
        as_json,
        [
            f"slashed request {rid.hex()} (prover {event.prover}, now frozen)",
            f"  burned:      {event.collateral_burned}",
            f"  transferred: {event.collateral_transferred} -> {event.collateral_recipient}",
            f"  tx:          {result.tx_hash}",
        ],
    )


@ops_app.command("transfer-ownership")
@cli_errors
def transfer_ownership(
    new_owner: Annotated[str, typer.Argument(help="address offered the market's ownership")],
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Owner only: offer the market to NEW_OWNER (it takes effect when that key accepts)."""
    client = connect(rpc_url, private_key, market_address, tx_timeout, need_key=True)
    result = client.transfer_ownership(new_owner)
    data = {"owner": client.owner(), "pendingOwner": client.pending_owner()}
    emit(
        {**data, "txHash": result.tx_hash},
        as_json,
        [f"offered the market to {data['pendingOwner']}; owner stays {data['owner']} until then"],
    )


@ops_app.command("accept-ownership")
@cli_errors
def accept_ownership(
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept the market's ownership offered to your key."""
    client = connect(rpc_url, private_key, market_address, tx_timeout, need_key=True)
    result = client.accept_ownership()
    emit(
        {"owner": client.owner(), "txHash": result.tx_hash},
        as_json,
        [f"{client.owner()} now owns the market"],
    )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(ops_app, name="ops")

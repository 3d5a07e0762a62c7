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

ops_app = typer.Typer(help="Market operations open to anyone.", no_args_is_help=True)


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
    data = {
        "requestId": rid.hex(),
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
            f"slashed request {rid.hex()}",
            f"  burned:      {event.collateral_burned}",
            f"  transferred: {event.collateral_transferred} -> {event.collateral_recipient}",
            f"  tx:          {result.tx_hash}",
        ],
    )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(ops_app, name="ops")

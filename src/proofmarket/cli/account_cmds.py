"""``proofmarket account``: ETH escrow and collateral (stake) of a market account.

Amounts are human units: ETH for the balance, whole collateral tokens (decimals read from
the token contract) for the stake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from proofmarket.cli.chain_options import (
    Connection,
    JsonOpt,
    MarketAddressOpt,
    PrivateKeyOpt,
    RpcUrlOpt,
    TxTimeoutOpt,
    cli_errors,
    connect,
    emit,
)
from proofmarket.market.errors import MarketError
from proofmarket.market.units import format_units, parse_units

if TYPE_CHECKING:
    from proofmarket.market.client import MarketClient, TxResult

account_app = typer.Typer(
    help="Deposit, withdraw and inspect market balances.", no_args_is_help=True
)

AmountArg = Annotated[str, typer.Argument(help="amount in human units (e.g. 0.5)")]
AddressArg = Annotated[str | None, typer.Argument(help="account (default: your key's address)")]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", help="credit this account instead of your own (you pay)"),
]


def _tx_out(result: TxResult, data: dict[str, Any], as_json: bool, text: str) -> None:
    emit({**data, "txHash": result.tx_hash, "blockNumber": result.block_number}, as_json, [text])


def _eth_summary(client: MarketClient, address: str | None) -> dict[str, Any]:
    wei = client.balance_of(address)
    return {
        "address": address or client.signer.address,
        "balanceWei": wei,
        "balance": format_units(wei),
        "unit": "ETH",
    }


def _stake_summary(client: MarketClient, address: str | None) -> dict[str, Any]:
    decimals = client.collateral_decimals()
    units = client.balance_of_stake(address)
    return {
        "address": address or client.signer.address,
        "stakeUnits": units,
        "stake": format_units(units, decimals),
        "token": client.collateral_symbol(),
        "tokenAddress": client.collateral_token_address,
        "frozen": client.account_is_frozen(address),
    }


def _check_eth_funds(client: MarketClient, wei: int, *, withdrawing: bool) -> None:
    """Name the amounts when the money is not there, before any gas is spent."""
    owner = client.signer.address
    if withdrawing:
        have = client.balance_of()
        if wei > have:
            raise MarketError(
                f"insufficient balance: withdrawing {format_units(wei)} ETH but the market "
                f"balance of {owner} is {format_units(have)} ETH (nothing sent; the market "
                "would revert with InsufficientBalance)"
            )
        return
    held = int(client.w3.eth.get_balance(owner))
    if wei > held:
        raise MarketError(
            f"insufficient funds: depositing {format_units(wei)} ETH but {owner} holds "
            f"{format_units(held)} ETH (nothing sent)"
        )


def _move_eth(
    amount: str,
    connection: Connection,
    as_json: bool,
    *,
    withdrawing: bool,
    to: str | None = None,
) -> None:
    """Deposit or withdraw ETH and report the new balance (of ``to`` when given)."""
    wei = parse_units(amount, 18, what="ETH amount")
    client = connect(*connection, need_key=True)
    _check_eth_funds(client, wei, withdrawing=withdrawing)
    if withdrawing:
        result = client.withdraw(wei)
    elif to is not None:
        result = client.deposit_to(to, wei)
    else:
        result = client.deposit(wei)
    summary = _eth_summary(client, to)
    moved_key, verb = ("withdrawnWei", "withdrew") if withdrawing else ("depositedWei", "deposited")
    _tx_out(
        result,
        {moved_key: wei, **summary},
        as_json,
        f"{verb} {format_units(wei)} ETH; balance {summary['balance']} ETH",
    )


def _move_stake(
    amount: str,
    connection: Connection,
    as_json: bool,
    *,
    withdrawing: bool,
    to: str | None = None,
    permit: bool = False,
) -> None:
    """Deposit or withdraw collateral tokens and report the new stake (of ``to`` if given)."""
    client = connect(*connection, need_key=True)
    decimals = client.collateral_decimals()
    units = parse_units(amount, decimals, what="collateral amount")
    if withdrawing:
        result = client.withdraw_stake(units)
    elif to is not None:
        result = client.deposit_collateral_to(to, units)
    elif permit:
        result = client.deposit_stake_with_permit(units)
    else:
        result = client.deposit_stake(units)
    summary = _stake_summary(client, to)
    moved_key, verb = (
        ("withdrawnUnits", "withdrew") if withdrawing else ("depositedUnits", "deposited")
    )
    _tx_out(
        result,
        {moved_key: units, **summary},
        as_json,
        f"{verb} {format_units(units, decimals)} {summary['token']}; "
        f"stake {summary['stake']} {summary['token']}",
    )


@account_app.command("deposit")
@cli_errors
def deposit(
    amount: AmountArg,
    to: ToOpt = None,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deposit ETH into your market balance, or another's with --to (pays for requests)."""
    connection = (rpc_url, private_key, market_address, tx_timeout)
    _move_eth(amount, connection, as_json, withdrawing=False, to=to)


@account_app.command("withdraw")
@cli_errors
def withdraw(
    amount: AmountArg,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw ETH from your market balance."""
    connection = (rpc_url, private_key, market_address, tx_timeout)
    _move_eth(amount, connection, as_json, withdrawing=True)


@account_app.command("balance")
@cli_errors
def balance(
    address: AddressArg = None,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the ETH market balance of an account."""
    client = connect(rpc_url, private_key, market_address, None, need_key=address is None)
    summary = _eth_summary(client, address)
    emit(summary, as_json, [f"{summary['address']}: {summary['balance']} ETH"])


@account_app.command("deposit-stake")
@cli_errors
def deposit_stake(
    amount: AmountArg,
    to: ToOpt = None,
    permit: Annotated[
        bool,
        typer.Option("--permit", help="authorise by an EIP-2612 permit (one transaction)"),
    ] = False,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve and deposit collateral tokens (needed to lock requests); --to credits
    another prover's stake, --permit signs a permit instead of a separate approve."""
    if to is not None and permit:
        raise typer.BadParameter("--permit deposits into your own stake; drop --to or --permit")
    connection = (rpc_url, private_key, market_address, tx_timeout)
    _move_stake(amount, connection, as_json, withdrawing=False, to=to, permit=permit)


@account_app.command("withdraw-stake")
@cli_errors
def withdraw_stake(
    amount: AmountArg,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw collateral tokens from your stake."""
    connection = (rpc_url, private_key, market_address, tx_timeout)
    _move_stake(amount, connection, as_json, withdrawing=True)


@account_app.command("balance-of-stake")
@cli_errors
def balance_of_stake(
    address: AddressArg = None,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the collateral (stake) balance of an account and whether it is frozen."""
    client = connect(rpc_url, private_key, market_address, None, need_key=address is None)
    summary = _stake_summary(client, address)
    frozen = " (FROZEN: run `proofmarket account unfreeze`)" if summary["frozen"] else ""
    emit(summary, as_json, [f"{summary['address']}: {summary['stake']} {summary['token']}{frozen}"])


@account_app.command("unfreeze")
@cli_errors
def unfreeze(
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Clear your account's frozen flag (set when one of your locks was slashed)."""
    client = connect(rpc_url, private_key, market_address, tx_timeout, need_key=True)
    if not client.account_is_frozen():
        emit(
            {"address": client.signer.address, "frozen": False, "changed": False},
            as_json,
            [f"{client.signer.address} is not frozen; nothing to do"],
        )
        return
    result = client.unfreeze()
    _tx_out(
        result,
        {"address": client.signer.address, "frozen": False, "changed": True},
        as_json,
        f"{client.signer.address} unfrozen",
    )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(account_app, name="account")

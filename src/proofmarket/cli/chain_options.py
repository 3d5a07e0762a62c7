"""Options and helpers shared by the chain-facing command groups (account, request, ops).

Connection settings come from flags, else environment variables (``RPC_URL``,
``PRIVATE_KEY``, ``PROOFMARKET_MARKET_ADDRESS``, ``TX_TIMEOUT``), else ``.env.devnet`` in the
current directory (written by ``proofmarket devnet up``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from proofmarket.cli.errors import report
from proofmarket.devnet.env import EnvFileError, find_devnet_env, read_env_file
from proofmarket.market.errors import ConfigError, ContractRevert, MarketError

if TYPE_CHECKING:
    from proofmarket.market.client import MarketClient

DEFAULT_TX_TIMEOUT = 45.0

RpcUrlOpt = Annotated[
    str | None, typer.Option("--rpc-url", help="JSON-RPC URL (env RPC_URL, .env.devnet)")
]
PrivateKeyOpt = Annotated[
    str | None,
    typer.Option("--private-key", help="hex private key (env PRIVATE_KEY, .env.devnet)"),
]
MarketAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--market-address", help="market contract (env PROOFMARKET_MARKET_ADDRESS, .env.devnet)"
    ),
]
TxTimeoutOpt = Annotated[
    float | None,
    typer.Option("--tx-timeout", help="seconds to wait for a transaction (env TX_TIMEOUT)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]

Connection = tuple[str | None, str | None, str | None, float | None]
"""``(rpc_url, private_key, market_address, tx_timeout)`` as given on the command line."""


@dataclass(frozen=True)
class ChainSettings:
    rpc_url: str
    market_address: str
    private_key: str | None
    tx_timeout: float
    env: dict[str, str]


def settings(
    rpc_url: str | None,
    private_key: str | None,
    market_address: str | None,
    tx_timeout: float | None,
) -> ChainSettings:
    """Resolve connection settings: flag > environment > ``.env.devnet``."""
    file_values: dict[str, str] = {}
    env_path = find_devnet_env()
    if env_path is not None:
        try:
            file_values = read_env_file(env_path)
        except EnvFileError as exc:
            raise ConfigError(str(exc)) from exc

    def pick(flag: Any, name: str) -> str | None:
        if flag not in (None, ""):
            return str(flag)
        return os.environ.get(name) or file_values.get(name) or None

    rpc = pick(rpc_url, "RPC_URL")
    if rpc is None:
        raise ConfigError(
            "no RPC URL: pass --rpc-url, set RPC_URL, or run `proofmarket devnet up` here"
        )
    market = pick(market_address, "PROOFMARKET_MARKET_ADDRESS")
    if market is None:
        raise ConfigError(
            "no market address: pass --market-address or set PROOFMARKET_MARKET_ADDRESS"
        )
    timeout_text = pick(tx_timeout, "TX_TIMEOUT")
    try:
        timeout = float(timeout_text) if timeout_text else DEFAULT_TX_TIMEOUT
    except ValueError:
        raise ConfigError(f"TX_TIMEOUT must be seconds, got {timeout_text!r}") from None
    if timeout <= 0:
        raise ConfigError(f"--tx-timeout must be positive, got {timeout:g}")
    merged = {**file_values, **{k: v for k, v in os.environ.items()}}
    return ChainSettings(rpc, market, pick(private_key, "PRIVATE_KEY"), timeout, merged)


def connect(
    rpc_url: str | None,
    private_key: str | None,
    market_address: str | None,
    tx_timeout: float | None,
    *,
    need_key: bool,
) -> MarketClient:
    """A connected :class:`MarketClient`; ``need_key`` makes a missing key an error."""
    from proofmarket.market.client import MarketClient

    chain = settings(rpc_url, private_key, market_address, tx_timeout)
    if need_key and not chain.private_key:
        raise ConfigError("no private key: pass --private-key, set PRIVATE_KEY or use .env.devnet")
    return MarketClient.connect(
        chain.rpc_url, chain.market_address, chain.private_key, tx_timeout=chain.tx_timeout
    )


def emit(data: dict[str, Any], as_json: bool, lines: list[str] | None = None) -> None:
    """Print ``data`` as JSON, or ``lines`` (default: ``key: value``) for people."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=_json_default))
        return
    for line in lines if lines is not None else [f"{k}: {v}" for k, v in data.items()]:
        typer.echo(line)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


P = ParamSpec("P")
R = TypeVar("R")


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's errors into one line (``error: ...`` on stderr, or a JSON object
    on stdout when the command was given ``--json``) and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not _expected(exc):
                raise
            report(_describe(exc), as_json=bool(kwargs.get("as_json")))
            raise typer.Exit(1) from exc

    return wrapper


def _expected(exc: BaseException) -> bool:
    """Errors that are the user's input or environment, reported without a traceback."""
    if isinstance(exc, MarketError | OSError | ValueError):
        return True
    # zkvm errors (bad ELF, guest panic...) without importing the zkvm at start-up
    return type(exc).__module__.startswith("proofmarket.zkvm")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, MarketError):
        return f"the contract reverted: {exc}" if isinstance(exc, ContractRevert) else str(exc)
    return str(exc)

"""``broker.toml``: one typed model of every broker setting, loaded strictly.

Keys follow the Boundless operator guide (``[market]``, ``[prover]``, ``[batcher]``). An
unknown key is an error that names it (a typo must never silently fall back to a default),
and :class:`ConfigWatcher` reloads the file while the broker runs, keeping the previous
settings when the new file is invalid.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from proofmarket.market.units import BadAmountError, parse_units

log = logging.getLogger(__name__)


class BrokerConfigError(ValueError):
    """``broker.toml`` is missing, not TOML, or has an unknown or invalid key."""


def _amount(value: Any) -> str:
    text = str(value).strip()
    try:
        parse_units(text, 18)
    except BadAmountError as exc:
        raise ValueError(str(exc)) from exc
    return text


def _address_list(value: Any) -> list[str] | None:
    from eth_utils import is_address, to_checksum_address

    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError("must be a list of addresses")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not is_address(item):
            raise ValueError(f"{item!r} is not an Ethereum address")
        out.append(str(to_checksum_address(item)))
    return out


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


Amount = Annotated[str, BeforeValidator(_amount)]
"""A decimal amount in whole units (ETH or collateral tokens), kept as text to stay exact."""
AddressList = Annotated[list[str] | None, BeforeValidator(_address_list)]


class MarketConfig(_Section):
    """``[market]``: which requests to take and how to price and lock them."""

    mcycle_price: Amount = "0.00001"
    mcycle_price_collateral_token: Amount = "0.001"
    assumption_price: Amount | None = None
    peak_prove_khz: int | None = Field(default=None, ge=0)
    min_deadline: int = Field(default=120, ge=0)
    lookback_blocks: int = Field(default=100, ge=0)
    max_stake: Amount = Field(
        default="0.1", validation_alias=AliasChoices("max_stake", "max_collateral")
    )
    skip_preflight_ids: list[str] | None = None
    max_file_size: int = Field(default=50_000_000, ge=1)
    max_fetch_retries: int = Field(default=2, ge=0)
    allow_client_addresses: AddressList = None
    deny_requestor_addresses: AddressList = None
    priority_requestor_addresses: AddressList = None
    lockin_priority_gas: int | None = Field(default=None, ge=0)
    max_concurrent_proofs: int | None = Field(
        default=None,
        ge=0,
        validation_alias=AliasChoices("max_concurrent_proofs", "max_concurrent_locks"),
    )
    max_concurrent_preflights: int = Field(default=4, ge=1)
    max_mcycle_limit: int | None = Field(default=None, ge=0)
    max_journal_bytes: int = Field(default=10_000, ge=0)
    max_callback_gas: int = Field(default=1_000_000, ge=0)
    lockin_gas_estimate: int = Field(default=200_000, ge=0)
    fulfill_gas_estimate: int = Field(default=750_000, ge=0)
    additional_proof_cycles: int = Field(default=0, ge=0)
    order_pricing_priority: Literal["random", "observation_time", "shortest_expiry"] = (
        "observation_time"
    )
    order_commitment_priority: Literal["random", "shortest_expiry"] = "shortest_expiry"
    preflight_cache_secs: int = Field(default=3 * 3600, ge=0)

    @field_validator("skip_preflight_ids")
    @classmethod
    def _image_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for item in value:
            text = item.lower().removeprefix("0x")
            if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
                raise ValueError(f"{item!r} is not a 32-byte hex image ID")
            out.append(text)
        return out

    @property
    def mcycle_price_wei(self) -> int:
        return parse_units(self.mcycle_price, 18)

    @property
    def mcycle_price_collateral_units(self) -> int:
        return parse_units(self.mcycle_price_collateral_token, 18)

    @property
    def max_stake_units(self) -> int:
        return parse_units(self.max_stake, 18)


class ProverConfig(_Section):
    """``[prover]``: how the broker drives the proving cluster and its own services."""

    status_poll_ms: int = Field(default=1000, ge=10)
    status_poll_retry_count: int = Field(default=3, ge=0)
    req_retry_count: int = Field(default=3, ge=0)
    req_retry_sleep_ms: int = Field(default=500, ge=0)
    proof_retry_count: int = Field(default=1, ge=0)
    proof_retry_sleep_ms: int = Field(default=500, ge=0)
    max_critical_task_retries: int | None = Field(default=None, ge=0)
    reaper_interval_secs: int = Field(default=60, ge=1)
    reaper_grace_period_secs: int = Field(default=10_800, ge=0)
    preflight_timeout_secs: int = Field(default=120, ge=1)


class BatcherConfig(_Section):
    """``[batcher]``: when a batch is closed and how it is submitted."""

    batch_max_time: int | None = Field(default=None, ge=0)
    min_batch_size: int = Field(
        default=1, ge=1, validation_alias=AliasChoices("min_batch_size", "batch_size")
    )
    batch_max_journal_bytes: int = Field(default=10_000, ge=0)
    batch_max_fees: Amount | None = None
    block_deadline_buffer_secs: int = Field(default=120, ge=0)
    txn_timeout: int = Field(default=45, ge=1)
    batch_poll_time_ms: int = Field(default=1000, ge=10)
    max_submission_attempts: int = Field(default=2, ge=1)
    submit_retry_delay_ms: int = Field(default=1500, ge=0)


class BrokerConfig(_Section):
    """The whole ``broker.toml``."""

    market: MarketConfig = MarketConfig()
    prover: ProverConfig = ProverConfig()
    batcher: BatcherConfig = BatcherConfig()


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {where!r}"
    return f"{where}: {error['msg']}"


def parse_config(text: str, source: str = "broker.toml") -> BrokerConfig:
    """Parse TOML text into a :class:`BrokerConfig` or raise :class:`BrokerConfigError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BrokerConfigError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return BrokerConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(dict(e)) for e in exc.errors())
        raise BrokerConfigError(f"{source}: {problems}") from None


def load_config(path: str | Path) -> BrokerConfig:
    """Read and parse ``path``."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise BrokerConfigError(f"cannot read {file}: {exc.strerror or exc}") from exc
    return parse_config(text, str(file))


class ConfigWatcher:
    """Holds the live config and reloads it when the file's content changes.

    ``poll()`` is cheap (one ``stat`` unless the file changed) and is called by the broker
    every second; services read :attr:`current` each time they decide something, so a new
    value takes effect on their next step. A broken edit is logged and ignored.
    """

    def __init__(self, path: str | Path | None, initial: BrokerConfig | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.current = (
            initial
            if initial is not None
            else (load_config(self.path) if self.path is not None else BrokerConfig())
        )
        self._stamp = self._stat()
        self._digest = self._hash()
        self.reloads = 0
        self.last_error: str | None = None

    def _stat(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _hash(self) -> str | None:
        if self.path is None:
            return None
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def poll(self) -> bool:
        """Reload if the file changed; True when a new config was applied."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        digest = self._hash()
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        assert self.path is not None
        try:
            fresh = load_config(self.path)
        except BrokerConfigError as exc:
            self.last_error = str(exc)
            log.error("config reload refused, keeping the previous settings: %s", exc)
            return False
        self.current = fresh
        self.last_error = None
        self.reloads += 1
        log.info("config reloaded from %s", self.path)
        return True

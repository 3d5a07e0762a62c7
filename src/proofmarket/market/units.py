"""Human amounts ("1.5" ether, "100" HP) to integer base units and back, exactly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from proofmarket.market.errors import MarketError

UINT256_MAX = (1 << 256) - 1


class BadAmountError(MarketError, ValueError):
    """An amount is not a non-negative decimal number representable in base units."""


def parse_units(text: str | int | Decimal, decimals: int = 18, *, what: str = "amount") -> int:
    """``"1.5"`` with 18 decimals -> ``1500000000000000000``; rejects extra precision."""
    raw = str(text).strip().replace("_", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadAmountError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise BadAmountError(f"{what} {text!r} is not a finite number")
    if value < 0:
        raise BadAmountError(f"{what} {text!r} must not be negative")
    if value.adjusted() + decimals > 78:
        raise BadAmountError(f"{what} {text!r} is too large")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise BadAmountError(f"{what} {text!r} has more than {decimals} decimal places")
    units = int(scaled)
    if units > UINT256_MAX:
        raise BadAmountError(f"{what} {text!r} is too large")
    return units


def format_units(value: int, decimals: int = 18) -> str:
    """``1500000000000000000`` with 18 decimals -> ``"1.5"`` (no exponent, no trailing zeros)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    digits = f"{frac:0{decimals}d}".rstrip("0")
    return f"{sign}{whole}.{digits}"

"""The default cycle limit: no execution runs unbounded unless someone asks for more.

A guest that loops forever would otherwise keep the executor (and a cluster cutting its
segments) busy without end. Every execution is bounded by, in order: the caller's
explicit limit (``--cycle-limit`` on ``execute``, ``prove``, ``request submit`` and
``cluster bench``), else ``PROOFMARKET_CYCLE_LIMIT``, else :data:`DEFAULT_CYCLE_LIMIT`
(2^28 = 268,435,456 cycles: tens of seconds of execution, far more than any example).

Limits are written as plain integers (``1000000``, ``1_000_000``) or with a unit:
``k``/``M``/``G`` are powers of ten, ``Ki``/``Mi``/``Gi`` powers of two (``256Mi`` is the
default; Bento's "Mcycles" are ``Mi``).
"""

from __future__ import annotations

import os
import re

DEFAULT_CYCLE_LIMIT = 1 << 28
CYCLE_LIMIT_ENV = "PROOFMARKET_CYCLE_LIMIT"

_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "Ki": 1 << 10,
    "Mi": 1 << 20,
    "Gi": 1 << 30,
}
_PATTERN = re.compile(r"^\s*(\d[\d_]*)\s*(k|M|G|Ki|Mi|Gi)?\s*$")


def parse_cycles(text: str, *, what: str = "cycle limit") -> int:
    """``"256Mi"`` → 268435456; ``ValueError`` with a precise message otherwise."""
    match = _PATTERN.match(text)
    if match is None or match.group(1).endswith("_"):
        raise ValueError(f"{what} {text!r} is not a cycle count: write e.g. 1000000, 500M or 256Mi")
    value = int(match.group(1).replace("_", "")) * _UNITS[match.group(2) or ""]
    if value <= 0:
        raise ValueError(f"{what} must be positive, got {text!r}")
    return value


def default_cycle_limit() -> int:
    """``PROOFMARKET_CYCLE_LIMIT`` if set, else :data:`DEFAULT_CYCLE_LIMIT`."""
    text = os.environ.get(CYCLE_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_CYCLE_LIMIT
    return parse_cycles(text, what=CYCLE_LIMIT_ENV)


def resolve_cycle_limit(limit: int | None) -> int:
    """The explicit limit, else the configured default."""
    if limit is None:
        return default_cycle_limit()
    if limit <= 0:
        raise ValueError(f"cycle limit must be positive, got {limit}")
    return limit


__all__ = [
    "CYCLE_LIMIT_ENV",
    "DEFAULT_CYCLE_LIMIT",
    "default_cycle_limit",
    "parse_cycles",
    "resolve_cycle_limit",
]

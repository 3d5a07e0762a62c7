"""16-bit range checks with LogUp lookups into a fixed byte table, plus a public bus.

Columns: ``word, lo, hi, mult, sel``.

* every row: ``word = lo + 256·hi`` and both ``lo`` and ``hi`` are looked up in the
  preprocessed byte table (``table[r] = r mod 256``) — so every word is < 2^16;
* ``mult`` is the table's multiplicity column (how often row r's byte is looked up);
* ``sel`` is boolean and marks rows whose word is one of the public values: those rows
  look the word up on bus 1, and the verifier itself provides each public value once on
  that bus, so the trace must contain every public word exactly once with ``sel = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder

BYTE_BUS = 0
PUBLIC_BUS = 1


class RangeCheckAir(Air):
    """Proves every trace word is a 16-bit value and that the public words occur in it."""

    name = "range-check-u16"

    def __init__(self, num_public_words: int = 2) -> None:
        super().__init__(main_width=5, preprocessed_width=1, num_public_inputs=num_public_words)

    def min_log_rows(self) -> int:
        return 8  # the byte table needs 256 rows

    def params_tag(self) -> bytes:
        return self.num_public_inputs.to_bytes(4, "little")

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        return (np.arange(1 << log_n, dtype=np.uint64) % 256)[:, None]

    def define(self, b: AirBuilder) -> None:
        word, lo, hi, mult, sel = (b.main(i) for i in range(5))
        b.assert_every_row(word - (lo + hi * 256), name="word = lo + 256·hi")
        b.assert_every_row(sel * (sel - 1), name="sel is boolean")
        b.lookup([lo], bus=BYTE_BUS, name="lo is a byte")
        b.lookup([hi], bus=BYTE_BUS, name="hi is a byte")
        b.provide([b.pre(0)], mult, bus=BYTE_BUS, name="byte table")
        b.lookup([word], sel, bus=PUBLIC_BUS, name="selected word")
        for i in range(self.num_public_inputs):
            b.public_provide([b.public(i)], 1, bus=PUBLIC_BUS, name=f"public word {i}")


def range_check_trace(
    words: Sequence[int], public_words: Sequence[int], log_n: int
) -> tuple[np.ndarray, list[int]]:
    """Trace for ``words`` (padded with zeros to 2^log_n rows); marks the public words.

    Each public word must occur in ``words``; its first occurrence gets ``sel = 1``.
    """
    n = 1 << log_n
    if len(words) > n:
        raise ValueError(f"{len(words)} words do not fit in {n} rows")
    w = np.zeros(n, dtype=np.uint64)
    w[: len(words)] = [int(x) for x in words]
    lo, hi = w % 256, w // 256
    # out-of-range high bytes (words ≥ 2^16) get no table entry, so such a trace fails
    in_table = hi[hi < 256].astype(np.int64)
    counts = np.bincount(lo.astype(np.int64), minlength=256) + np.bincount(in_table, minlength=256)
    mult = np.zeros(n, dtype=np.uint64)
    mult[:256] = counts[:256] % F.P
    sel = np.zeros(n, dtype=np.uint64)
    for p in public_words:
        hits = np.flatnonzero((w == int(p)) & (sel == 0))
        if not hits.size:
            raise ValueError(f"public word {p} does not occur in the trace")
        sel[hits[0]] = 1
    trace = np.stack([w, lo, hi % F.P, mult, sel], axis=1).astype(np.uint64)
    return trace, [int(p) for p in public_words]

"""Bus terms of the statement: variable-length data the verifier puts on a LogUp bus.

A public interaction (:meth:`~proofmarket.stark.air.AirBuilder.public_provide`) has a
fixed shape decided by the AIR. Some statements carry data whose length varies from proof
to proof, such as the journal bytes a zkVM segment wrote: the verifier provides one tuple
``(index, byte)`` per byte, and the execution table looks each one up. ``StatementTerms``
hold such tuples as concrete field elements with one signed multiplicity each; both
sides add ``Σ m / (β − compress(bus, values))`` to the global LogUp sum, and both bind
the terms to the transcript (their encoding is observed before any challenge is drawn),
so the prover cannot choose them after seeing β and γ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.protocol import ExtValue


class StatementTermsError(ValueError):
    """Malformed statement bus terms (values not canonical, wrong shape)."""


@dataclass(frozen=True)
class StatementTerms:
    """``rows`` tuples on ``bus``, each added with multiplicity ``multiplicity``.

    ``values`` has shape ``(rows, arity)`` (canonical field elements). A provide (the
    statement supplies the tuples, tables look them up) uses ``multiplicity = −1``.
    """

    bus: int
    values: np.ndarray
    multiplicity: int = -1

    def __post_init__(self) -> None:
        vals = np.asarray(self.values)
        if vals.ndim != 2 or vals.shape[1] < 1:
            raise StatementTermsError(f"statement terms need shape (rows, arity), got {vals.shape}")
        if vals.size and (vals.min() < 0 or vals.max() >= F.P):
            raise StatementTermsError("statement term values must be canonical field elements")
        if not 0 <= self.bus < F.P:
            raise StatementTermsError(f"bus id {self.bus} is not a field element")
        object.__setattr__(self, "values", vals.astype(np.uint64))

    def encode(self) -> bytes:
        """Canonical bytes (bus, multiplicity, shape, values) for the transcript."""
        rows, arity = self.values.shape
        head = np.array([self.bus, self.multiplicity % F.P, rows, arity], dtype="<u8")
        return head.tobytes() + self.values.astype("<u4").tobytes()

    def sum(self, beta: ExtValue, gamma: ExtValue) -> ExtValue:
        """``m · Σ_rows 1 / (β − (bus + Σ_j v_j·γ^(j+1)))`` in the extension field."""
        rows, arity = self.values.shape
        if rows == 0:
            return (0, 0, 0, 0)
        g = np.asarray(gamma, dtype=np.uint64)
        t = F.ext_from_base(np.full(rows, self.bus, dtype=np.uint64))
        gpow = g.copy()
        for j in range(arity):
            t = F.ext_add(t, F.ext_mul_base(np.broadcast_to(gpow, (rows, 4)), self.values[:, j]))
            gpow = F.ext_mul(gpow, g)
        d = F.ext_sub(np.broadcast_to(np.asarray(beta, dtype=np.uint64), (rows, 4)), t)
        inv = F.ext_batch_inv(d)
        total = inv.astype(np.int64).sum(axis=0) % F.P  # rows < 2^32: no overflow
        m = self.multiplicity % F.P
        out = F.mul(total.astype(np.uint64), np.uint64(m))
        return (int(out[0]), int(out[1]), int(out[2]), int(out[3]))


def statement_digest(terms: Sequence[StatementTerms]) -> bytes:
    """SHA-256 of every term's encoding, in order (what the transcript observes)."""
    h = hashlib.sha256(len(terms).to_bytes(4, "little"))
    for term in terms:
        data = term.encode()
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def statement_sum(terms: Sequence[StatementTerms], chals: Sequence[ExtValue]) -> ExtValue:
    """Σ over ``terms`` of their sums (zero when there are none)."""
    acc = [0, 0, 0, 0]
    for term in terms:
        s = term.sum(chals[0], chals[1])
        for k in range(4):
            acc[k] = (acc[k] + s[k]) % F.P
    return (acc[0], acc[1], acc[2], acc[3])

"""LogUp (log-derivative) lookups and permutations over extension-field running sums.

Every *interaction* contributes ``m(row) / (β − t(row))`` per row, where the tuple
``(bus, v_1, …, v_k)`` is compressed with a second challenge γ as
``t = bus + Σ_j v_j·γ^j`` and ``m`` is a signed multiplicity expression: a lookup adds
``+m``, a table row that *provides* values adds ``−m`` (its multiplicity column). Public
interactions (row-invariant tuples built from public inputs) are added once by whoever
evaluates the constraints, so the verifier recomputes them from the statement.

The lookups balance iff the sum of all contributions over all rows is zero; a random β
makes this fail with probability ≤ (rows·interactions)/|F_p^4| otherwise.

Auxiliary columns (extension field, committed after the main trace):

* one *helper* column per batch of interactions, ``h = Σ_{i∈batch} m_i/d_i``, enforced on
  every row by ``h·Π d_i − Σ_i m_i·Π_{j≠i} d_j = 0`` (batches are sized to the degree cap),
* one running sum ``acc`` with ``acc[0] = Σ h[0]``, ``acc[r+1] = acc[r] + Σ h[r+1]`` and
  ``acc[n−1] + Σ public contributions = S``, where ``S`` is the table's claimed sum
  (:data:`CLAIMED_SUM`). A proof sends every table's ``S`` and the verifier checks that
  they add up to zero, so buses balance across tables; a single-table check uses S = 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from proofmarket.stark import field
from proofmarket.stark.expr import (
    Expr,
    ExprError,
    ExprLike,
    Group,
    challenge,
    column,
    inv,
    lift,
    neg,
    sum_exprs,
)

BETA = challenge(0)
"""The LogUp evaluation point β (extension field)."""
GAMMA = challenge(1)
"""The tuple-compression challenge γ (extension field)."""
NUM_CHALLENGES = 2
"""Challenges drawn by Fiat–Shamir (β, γ), shared by every table of a proof."""
CLAIMED_SUM = challenge(2)
"""The table's claimed LogUp total (sent in the proof; all tables' claims must sum to 0)."""


RowEvaluator: TypeAlias = Callable[[Sequence[Expr]], list[np.ndarray]]
"""Evaluates expressions over all trace rows, returning one ``(n, 4)`` array each."""


class LogUpError(ValueError):
    """Raised for a malformed lookup (empty tuple, row-dependent public interaction, ...)."""


@dataclass(frozen=True)
class Interaction:
    """One signed term ``multiplicity / (β − compress(bus, values))`` per row."""

    name: str
    bus: int
    values: tuple[Expr, ...]
    multiplicity: Expr  # already signed: +m for lookups, −m for provided table rows

    @property
    def denominator(self) -> Expr:
        return compress(self.bus, self.values)

    @property
    def degree(self) -> tuple[int, int]:
        """(degree of the denominator, degree of the multiplicity)."""
        return max(1, self.denominator.degree), self.multiplicity.degree


def compress(bus: int, values: Sequence[Expr]) -> Expr:
    """``β − (bus + Σ_j v_j·γ^(j+1))``: the denominator of one tuple."""
    t: Expr = lift(bus)
    gpow: Expr = GAMMA
    for v in values:
        t = t + v * gpow
        gpow = gpow * GAMMA
    return BETA - t


@dataclass(frozen=True)
class LogUpLayout:
    """How interactions map to auxiliary columns, and the constraints that enforce them."""

    interactions: tuple[Interaction, ...]
    public: tuple[Interaction, ...]
    batches: tuple[tuple[int, ...], ...]

    @property
    def num_aux_columns(self) -> int:
        """Extension aux columns: one helper per batch plus the running sum."""
        return len(self.batches) + 1

    @property
    def acc_index(self) -> int:
        return len(self.batches)

    def public_sum(self) -> Expr:
        """Σ over public interactions of m/d (row-invariant; verifier recomputes it)."""
        return sum_exprs(p.multiplicity * inv(p.denominator) for p in self.public)

    def helper_constraint(self, b: int) -> Expr:
        """``h_b·Π d_i − Σ_i m_i·Π_{j≠i} d_j`` (zero on every row)."""
        members = [self.interactions[i] for i in self.batches[b]]
        dens = [m.denominator for m in members]
        h = column(Group.AUX, b)
        prod_all: Expr = lift(1)
        for d in dens:
            prod_all = prod_all * d
        numer: Expr = lift(0)
        for i, inter in enumerate(members):
            others: Expr = lift(1)
            for j, d in enumerate(dens):
                if j != i:
                    others = others * d
            numer = numer + inter.multiplicity * others
        return h * prod_all - numer

    def helper_sum(self, next_row: bool) -> Expr:
        return sum_exprs(column(Group.AUX, b, next_row) for b in range(len(self.batches)))

    def acc(self, next_row: bool = False) -> Expr:
        return column(Group.AUX, self.acc_index, next_row)

    def helpers(self, evaluate_rows: RowEvaluator, rows: int) -> np.ndarray:
        """The helper columns ``(rows, 4·batches)`` over a block of rows.

        ``evaluate_rows(exprs)`` evaluates expressions over the block's rows (challenges
        fixed) and returns ``(rows, 4)`` extension arrays. Callers work in row blocks so
        that the per-interaction temporaries stay small.
        """
        out = np.zeros((rows, 4 * len(self.batches)), dtype=np.uint64)
        for b, members in enumerate(self.batches):
            inters = [self.interactions[i] for i in members]
            dens = evaluate_rows([i.denominator for i in inters])
            mults = evaluate_rows([i.multiplicity for i in inters])
            try:
                inverses = field.ext_batch_inv(np.stack(dens))
            except field.FieldError as exc:
                raise LogUpError(
                    "a LogUp denominator vanished (β collides with a looked-up tuple)"
                ) from exc
            h = np.zeros((rows, 4), dtype=np.uint64)
            for m, inv_d in zip(mults, inverses, strict=True):
                h = field.add(h, field.ext_mul(m, inv_d))
            out[:, 4 * b : 4 * b + 4] = h
        return out


def plan_batches(interactions: Sequence[Interaction], max_degree: int) -> list[tuple[int, ...]]:
    """Greedily group interactions so each helper constraint has degree ≤ ``max_degree``."""
    batches: list[tuple[int, ...]] = []
    current: list[int] = []
    for idx, inter in enumerate(interactions):
        candidate = [*current, idx]
        if current and _batch_degree([interactions[i] for i in candidate]) > max_degree:
            batches.append(tuple(current))
            candidate = [idx]
        if _batch_degree([interactions[i] for i in candidate]) > max_degree:
            raise LogUpError(
                f"interaction {inter.name!r} alone needs degree "
                f"{_batch_degree([inter])} > {max_degree}"
            )
        current = candidate
    if current:
        batches.append(tuple(current))
    return batches


def _batch_degree(members: Sequence[Interaction]) -> int:
    dens = [m.degree[0] for m in members]
    total = sum(dens)
    worst = 1 + total
    for i, m in enumerate(members):
        worst = max(worst, m.degree[1] + total - dens[i])
    return worst


def make_interaction(
    name: str, bus: int, values: Sequence[ExprLike], multiplicity: ExprLike, provide: bool
) -> Interaction:
    """Validate and sign one interaction."""
    if not values:
        raise LogUpError(f"lookup {name!r}: the tuple of values is empty")
    if bus < 0 or bus >= field.P:
        raise LogUpError(f"lookup {name!r}: bus id must be in [0, P), got {bus}")
    vals = tuple(lift(v) for v in values)
    for v in vals:
        if v.is_ext:
            raise LogUpError(f"lookup {name!r}: looked-up values must be base-field expressions")
    m = lift(multiplicity)
    if m.is_ext:
        raise LogUpError(f"lookup {name!r}: the multiplicity must be a base-field expression")
    return Interaction(name, bus, vals, neg(m) if provide else m)


def make_public_interaction(
    name: str, bus: int, values: Sequence[ExprLike], multiplicity: ExprLike, provide: bool
) -> Interaction:
    """Like :func:`make_interaction` but row-invariant (built from public inputs)."""
    inter = make_interaction(name, bus, values, multiplicity, provide)
    if any(not v.row_invariant for v in inter.values) or not inter.multiplicity.row_invariant:
        raise LogUpError(f"public lookup {name!r} may only use public inputs and constants")
    return inter


__all__ = [
    "BETA",
    "CLAIMED_SUM",
    "GAMMA",
    "NUM_CHALLENGES",
    "ExprError",
    "Interaction",
    "LogUpError",
    "LogUpLayout",
    "compress",
    "make_interaction",
    "make_public_interaction",
    "plan_batches",
]

"""The AIR interface: constraints written once, shared by prover, verifier and checker.

Subclass :class:`Air`, declare the widths, and write :meth:`Air.define` against an
:class:`AirBuilder`::

    class Fib(Air):
        name = "fibonacci"

        def __init__(self) -> None:
            super().__init__(main_width=2, num_public_inputs=3)

        def define(self, b: AirBuilder) -> None:
            x, y = b.main(0), b.main(1)
            b.assert_first_row(x - b.public(0))
            b.assert_first_row(y - b.public(1))
            b.assert_transition(b.main_next(0) - y)
            b.assert_transition(b.main_next(1) - (x + y))
            b.assert_last_row(y - b.public(2))

Constraint kinds and their vanishing factors (n = trace rows, g = trace generator):

============  ==========================  ==========================================
kind          rows                        quotient term
============  ==========================  ==========================================
transition    0 … n−2 (next row exists)   C(x)·(x − g^(n−1)) / (x^n − 1)
every row     0 … n−1                     C(x) / (x^n − 1)
row k         k (first: 0, last: n−1)     C(x) / (x − g^k)
============  ==========================  ==========================================

LogUp interactions (:meth:`AirBuilder.lookup`, :meth:`AirBuilder.provide`, public
variants) are turned into auxiliary extension columns and ordinary constraints by
:mod:`proofmarket.stark.logup`.
"""

from __future__ import annotations

import enum
import struct
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from Crypto.Hash import keccak

from proofmarket.stark import field as F
from proofmarket.stark.air_id import serialize_constraints
from proofmarket.stark.expr import (
    Expr,
    ExprLike,
    Group,
    Program,
    column,
    compile_program,
    lift,
    public,
    topological_order,
)
from proofmarket.stark.logup import (
    CLAIMED_SUM,
    NUM_CHALLENGES,
    Interaction,
    LogUpLayout,
    make_interaction,
    make_public_interaction,
    plan_batches,
)

MAX_CONSTRAINT_DEGREE = 4
"""Largest constraint degree accepted (blowup 4 evaluates it exactly on the LDE coset)."""


class AirError(ValueError):
    """Raised for an ill-formed AIR (bad column index, degree too high, ...)."""


class TraceCheckError(AssertionError):
    """A trace violates a constraint; names the constraint and the first failing row."""

    def __init__(self, constraint: str, row: int, detail: str) -> None:
        super().__init__(f"constraint {constraint!r} fails at row {row}: {detail}")
        self.constraint = constraint
        self.row = row


class Kind(enum.Enum):
    """Where a constraint must hold."""

    TRANSITION = "transition"
    EVERY_ROW = "every_row"
    ROW = "row"


@dataclass(frozen=True)
class Constraint:
    """A named constraint ``expr = 0`` on the rows selected by ``kind`` (and ``row``)."""

    name: str
    expr: Expr
    kind: Kind
    row: int | None = None  # for Kind.ROW: row index, negative counts from the end

    def row_index(self, n: int) -> int:
        """The concrete row for ``Kind.ROW`` on an ``n``-row trace."""
        assert self.row is not None
        r = self.row % n if self.row < 0 else self.row
        if not 0 <= r < n:
            raise AirError(f"constraint {self.name!r}: row {self.row} outside a {n}-row trace")
        return r

    def domain_key(self, n: int) -> tuple[str, int]:
        """Constraints with the same key share one vanishing factor."""
        if self.kind is Kind.ROW:
            return ("row", self.row_index(n))
        return (self.kind.value, -1)

    @property
    def quotient_chunks(self) -> int:
        """Chunks of degree < n needed for this constraint's quotient."""
        d = self.expr.degree
        if self.kind is Kind.ROW:
            return max(1, d)
        return max(1, d - 1)


class AirBuilder:
    """Collects constraints and lookups while :meth:`Air.define` runs."""

    def __init__(self, main_width: int, preprocessed_width: int, num_public_inputs: int) -> None:
        self.main_width = main_width
        self.preprocessed_width = preprocessed_width
        self.num_public_inputs = num_public_inputs
        self.constraints: list[Constraint] = []
        self.interactions: list[Interaction] = []
        self.public_interactions: list[Interaction] = []

    # -- variables -------------------------------------------------------------------
    def main(self, i: int) -> Expr:
        """Main column ``i`` at the current row."""
        self._check(i, self.main_width, "main")
        return column(Group.MAIN, i)

    def main_next(self, i: int) -> Expr:
        """Main column ``i`` at the next row."""
        self._check(i, self.main_width, "main")
        return column(Group.MAIN, i, True)

    def pre(self, i: int) -> Expr:
        """Preprocessed (fixed) column ``i`` at the current row."""
        self._check(i, self.preprocessed_width, "preprocessed")
        return column(Group.PREPROCESSED, i)

    def pre_next(self, i: int) -> Expr:
        """Preprocessed column ``i`` at the next row."""
        self._check(i, self.preprocessed_width, "preprocessed")
        return column(Group.PREPROCESSED, i, True)

    def public(self, i: int) -> Expr:
        """Public input ``i``."""
        self._check(i, self.num_public_inputs, "public input")
        return public(i)

    @staticmethod
    def _check(i: int, width: int, what: str) -> None:
        if not 0 <= i < width:
            raise AirError(f"{what} index {i} out of range (width {width})")

    # -- constraints -----------------------------------------------------------------
    def _add(self, expr: ExprLike, kind: Kind, row: int | None, name: str | None) -> None:
        e = lift(expr)
        label = name or f"{kind.value}{'' if row is None else f'@{row}'}#{len(self.constraints)}"
        self.constraints.append(Constraint(label, e, kind, row))

    def assert_transition(self, expr: ExprLike, name: str | None = None) -> None:
        """``expr = 0`` on every row but the last (may use next-row columns)."""
        self._add(expr, Kind.TRANSITION, None, name)

    def assert_every_row(self, expr: ExprLike, name: str | None = None) -> None:
        """``expr = 0`` on every row (next-row columns wrap around to row 0)."""
        self._add(expr, Kind.EVERY_ROW, None, name)

    def assert_first_row(self, expr: ExprLike, name: str | None = None) -> None:
        """``expr = 0`` on row 0."""
        self._add(expr, Kind.ROW, 0, name)

    def assert_last_row(self, expr: ExprLike, name: str | None = None) -> None:
        """``expr = 0`` on the last row."""
        self._add(expr, Kind.ROW, -1, name)

    def assert_at_row(self, row: int, expr: ExprLike, name: str | None = None) -> None:
        """``expr = 0`` on one row (negative indices count from the end)."""
        self._add(expr, Kind.ROW, row, name)

    # -- lookups ---------------------------------------------------------------------
    def lookup(
        self,
        values: Sequence[ExprLike],
        multiplicity: ExprLike = 1,
        bus: int = 0,
        name: str | None = None,
    ) -> None:
        """Look the tuple up ``multiplicity`` times per row in whatever ``provide``s ``bus``."""
        label = name or f"lookup#{len(self.interactions)}"
        self.interactions.append(make_interaction(label, bus, values, multiplicity, False))

    def provide(
        self,
        values: Sequence[ExprLike],
        multiplicity: ExprLike,
        bus: int = 0,
        name: str | None = None,
    ) -> None:
        """Offer the tuple as a table entry that ``multiplicity`` lookups may consume."""
        label = name or f"provide#{len(self.interactions)}"
        self.interactions.append(make_interaction(label, bus, values, multiplicity, True))

    def public_lookup(
        self,
        values: Sequence[ExprLike],
        multiplicity: ExprLike = 1,
        bus: int = 0,
        name: str | None = None,
    ) -> None:
        """A lookup made once by the statement (public inputs), recomputed by the verifier."""
        label = name or f"public_lookup#{len(self.public_interactions)}"
        inter = make_public_interaction(label, bus, values, multiplicity, False)
        self.public_interactions.append(inter)

    def public_provide(
        self,
        values: Sequence[ExprLike],
        multiplicity: ExprLike = 1,
        bus: int = 0,
        name: str | None = None,
    ) -> None:
        """A table entry offered once by the statement, recomputed by the verifier."""
        label = name or f"public_provide#{len(self.public_interactions)}"
        inter = make_public_interaction(label, bus, values, multiplicity, True)
        self.public_interactions.append(inter)


@dataclass(frozen=True)
class ConstraintSystem:
    """The compiled form of an AIR: constraints (user + LogUp), widths and the program."""

    constraints: tuple[Constraint, ...]
    main_width: int
    preprocessed_width: int
    num_public_inputs: int
    logup: LogUpLayout | None
    program: Program = field(repr=False)

    @property
    def aux_width(self) -> int:
        """Number of extension aux columns (each committed as 4 base columns)."""
        return self.logup.num_aux_columns if self.logup else 0

    @property
    def num_challenges(self) -> int:
        return NUM_CHALLENGES if self.logup else 0

    @property
    def max_degree(self) -> int:
        return max((c.expr.degree for c in self.constraints), default=1)

    @property
    def num_quotient_chunks(self) -> int:
        return max((c.quotient_chunks for c in self.constraints), default=1)

    def describe(self) -> str:
        """One line per constraint (kind, degree, name) plus a summary — for debugging."""
        lines = [
            f"main {self.main_width} cols, preprocessed {self.preprocessed_width}, "
            f"aux {self.aux_width} ext cols, {self.num_public_inputs} public inputs, "
            f"{len(self.constraints)} constraints, max degree {self.max_degree}, "
            f"{self.num_quotient_chunks} quotient chunks, {len(self.program.nodes)} DAG nodes"
        ]
        for c in self.constraints:
            where = c.kind.value if c.row is None else f"row {c.row}"
            lines.append(f"  [{where:<10}] deg {c.expr.degree}  {c.name}")
        return "\n".join(lines)


class Air(ABC):
    """Base class of every AIR. Subclasses set ``name`` and implement :meth:`define`."""

    name: str = "air"

    def __init__(
        self, main_width: int, preprocessed_width: int = 0, num_public_inputs: int = 0
    ) -> None:
        if main_width < 1:
            raise AirError("an AIR needs at least one main column")
        self.main_width = main_width
        self.preprocessed_width = preprocessed_width
        self.num_public_inputs = num_public_inputs

    @abstractmethod
    def define(self, b: AirBuilder) -> None:
        """Declare constraints and lookups on ``b``."""

    def preprocessed_trace(self, log_n: int) -> np.ndarray | None:
        """Fixed columns ``(2^log_n, preprocessed_width)`` (only if the width is > 0)."""
        return None

    def padding_rows(self, count: int, trace: np.ndarray) -> np.ndarray:
        """``count`` rows appended to ``trace`` to reach a power-of-two height.

        All-zero by default: AIRs used in machines are written so that a zero row is a
        no-op (satisfies every constraint, multiplicity 0 on every bus). Override for
        AIRs whose padding must continue a recurrence instead.
        """
        return np.zeros((count, self.main_width), dtype=np.uint64)

    def min_log_rows(self) -> int:
        """Smallest supported log2 of the trace height."""
        return 2

    def params_tag(self) -> bytes:
        """Extra bytes describing the instance (e.g. widths); bound into the AIR id."""
        return b""

    @cached_property
    def system(self) -> ConstraintSystem:
        """Build and validate the constraint system once."""
        b = AirBuilder(self.main_width, self.preprocessed_width, self.num_public_inputs)
        self.define(b)
        constraints = list(b.constraints)
        for c in constraints:
            if c.expr.degree > MAX_CONSTRAINT_DEGREE:
                raise AirError(
                    f"{self.name}: constraint {c.name!r} has degree {c.expr.degree} "
                    f"> {MAX_CONSTRAINT_DEGREE}"
                )
            if c.expr.op == "const" and c.expr.data != 0:
                raise AirError(f"{self.name}: constraint {c.name!r} is a nonzero constant")
            if any(n.op == "col" and n.data[0] is Group.AUX for n in topological_order([c.expr])):
                raise AirError(f"{self.name}: constraint {c.name!r} uses aux columns directly")
            if any(n.op == "chal" for n in topological_order([c.expr])):
                raise AirError(f"{self.name}: constraint {c.name!r} uses LogUp challenges")
        layout: LogUpLayout | None = None
        if b.interactions or b.public_interactions:
            user_max = max((c.expr.degree for c in constraints), default=1)
            cap = min(MAX_CONSTRAINT_DEGREE, max(3, user_max))
            batches = plan_batches(b.interactions, cap)
            layout = LogUpLayout(
                tuple(b.interactions), tuple(b.public_interactions), tuple(batches)
            )
            constraints.extend(_logup_constraints(layout))
        program = compile_program([c.expr for c in constraints])
        return ConstraintSystem(
            tuple(constraints),
            self.main_width,
            self.preprocessed_width,
            self.num_public_inputs,
            layout,
            program,
        )

    @cached_property
    def air_id(self) -> bytes:
        """keccak256 of the name, widths and the full constraint DAG: binds the statement."""
        h = keccak.new(digest_bits=256)
        name = self.name.encode()
        h.update(b"proofmarket.stark.air.v1")
        h.update(struct.pack("<I", len(name)) + name)
        h.update(
            struct.pack("<III", self.main_width, self.preprocessed_width, self.num_public_inputs)
        )
        tag = self.params_tag()
        h.update(struct.pack("<I", len(tag)) + tag)
        h.update(serialize_constraints(self.system.constraints))
        return h.digest()

    def check_public_inputs(self, public_inputs: Sequence[int]) -> list[int]:
        """Validate the count and range of public inputs; return them as ints."""
        if len(public_inputs) != self.num_public_inputs:
            raise AirError(
                f"{self.name}: expected {self.num_public_inputs} public inputs, "
                f"got {len(public_inputs)}"
            )
        out = [int(v) for v in public_inputs]
        for i, v in enumerate(out):
            if not 0 <= v < F.P:
                raise AirError(f"{self.name}: public input {i} = {v} is not in [0, P)")
        return out


def _logup_constraints(layout: LogUpLayout) -> list[Constraint]:
    out = [
        Constraint(f"logup: helper column {b}", layout.helper_constraint(b), Kind.EVERY_ROW)
        for b in range(len(layout.batches))
    ]
    out.append(
        Constraint("logup: running sum start", layout.acc() - layout.helper_sum(False), Kind.ROW, 0)
    )
    out.append(
        Constraint(
            "logup: running sum step",
            layout.acc(True) - layout.acc() - layout.helper_sum(True),
            Kind.TRANSITION,
        )
    )
    out.append(
        Constraint(
            "logup: final sum (lookups must balance)",
            layout.acc() + layout.public_sum() - CLAIMED_SUM,
            Kind.ROW,
            -1,
        )
    )
    return out


# the trace checker and aux generation live in their own modules; re-exported here
from proofmarket.stark.aux_trace import generate_aux_trace  # noqa: E402
from proofmarket.stark.trace_check import RowFrame, check_trace  # noqa: E402

__all__ = [
    "MAX_CONSTRAINT_DEGREE",
    "Air",
    "AirBuilder",
    "AirError",
    "Constraint",
    "ConstraintSystem",
    "Kind",
    "RowFrame",
    "TraceCheckError",
    "check_trace",
    "generate_aux_trace",
]

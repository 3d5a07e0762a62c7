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
from typing import Any

import numpy as np
from Crypto.Hash import keccak

from proofmarket.stark import field as F
from proofmarket.stark.expr import (
    NUMPY_OPS,
    Algebra,
    ArrayOps,
    Expr,
    ExprLike,
    Group,
    Program,
    Value,
    column,
    compile_program,
    lift,
    public,
    to_str,
    topological_order,
)
from proofmarket.stark.logup import (
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
        sys_ = self.system
        h.update(_serialize_constraints(sys_.constraints))
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
            layout.acc() + layout.public_sum(),
            Kind.ROW,
            -1,
        )
    )
    return out


def _serialize_constraints(constraints: Sequence[Constraint]) -> bytes:
    nodes = topological_order([c.expr for c in constraints])
    index = {id(n): k for k, n in enumerate(nodes)}
    out = bytearray(struct.pack("<I", len(nodes)))
    ops = {"const": 0, "col": 1, "pub": 2, "chal": 3, "add": 4, "sub": 5, "mul": 6, "neg": 7}
    ops["inv"] = 8
    groups = {Group.MAIN: 0, Group.PREPROCESSED: 1, Group.AUX: 2}
    for n in nodes:
        out.append(ops[n.op])
        if n.op == "col":
            g, i, nxt = n.data
            out += struct.pack("<BIB", groups[g], i, int(nxt))
        elif n.op in ("const", "pub", "chal"):
            out += struct.pack("<I", n.data)
        for a in n.args:
            out += struct.pack("<I", index[id(a)])
    out += struct.pack("<I", len(constraints))
    kinds = {Kind.TRANSITION: 0, Kind.EVERY_ROW: 1, Kind.ROW: 2}
    for c in constraints:
        row = 0 if c.row is None else c.row
        out += struct.pack("<IBi", index[id(c.expr)], kinds[c.kind], row)
    return bytes(out)


# ---------------------------------------------------------------------------------------
# evaluation over the trace rows (checker and aux-trace generation)
# ---------------------------------------------------------------------------------------


class RowFrame:
    """Leaf values over all ``n`` trace rows: columns as arrays, next rows rolled by one."""

    def __init__(
        self,
        main: np.ndarray,
        preprocessed: np.ndarray | None,
        aux: np.ndarray | None,
        public_inputs: Sequence[int],
        challenges: Sequence[Sequence[int]],
        ops: ArrayOps = NUMPY_OPS,
    ) -> None:
        self.main = main
        self.pre = preprocessed
        self.aux = aux
        self.public_inputs = list(public_inputs)
        self.challenges = [tuple(int(c) for c in ch) for ch in challenges]
        self.algebra = Algebra(ops)
        self._cols: dict[tuple[Group, int, bool], Any] = {}

    def _base_col(self, mat: np.ndarray | None, group: Group, j: int, nxt: bool) -> Any:
        key = (group, j, nxt)
        if key not in self._cols:
            if mat is None:
                raise AirError(f"{group.value} column {j} used but no such matrix was given")
            col = np.ascontiguousarray(mat[:, j])
            self._cols[key] = np.roll(col, -1) if nxt else col
        return self._cols[key]

    def leaf(self, node: Expr) -> Value:
        if node.op == "col":
            group, j, nxt = node.data
            if group is Group.MAIN:
                return self._base_col(self.main, group, j, nxt)
            if group is Group.PREPROCESSED:
                return self._base_col(self.pre, group, j, nxt)
            return tuple(self._base_col(self.aux, group, 4 * j + k, nxt) for k in range(4))
        if node.op == "pub":
            return self.public_inputs[node.data]
        if node.op == "chal":
            if node.data >= len(self.challenges):
                raise AirError(f"challenge {node.data} used before it was drawn")
            return self.challenges[node.data]
        raise AirError(f"not a leaf: {node.op}")

    def evaluate(self, exprs: Sequence[Expr]) -> list[Value]:
        """Evaluate expressions over every row (values may be ints when row-invariant)."""
        program = compile_program(list(exprs))
        results: list[Value] = [0] * len(exprs)

        def sink(r: int, v: Value) -> None:
            results[r] = v

        program.evaluate(self.algebra, self.leaf, sink)
        return results

    def evaluate_ext(self, exprs: Sequence[Expr]) -> list[np.ndarray]:
        """Evaluate expressions over every row as ``(n, 4)`` extension arrays."""
        n = self.main.shape[0]
        out = []
        for v in self.evaluate(exprs):
            comps = v if isinstance(v, tuple) else (v, 0, 0, 0)
            arr = np.empty((n, 4), dtype=np.uint64)
            for k in range(4):
                arr[:, k] = comps[k]
            out.append(arr)
        return out


def generate_aux_trace(
    air: Air,
    main: np.ndarray,
    preprocessed: np.ndarray | None,
    public_inputs: Sequence[int],
    challenges: Sequence[Sequence[int]],
) -> np.ndarray | None:
    """The LogUp auxiliary trace ``(n, 4·aux_width)`` for the given challenges (or None)."""
    layout = air.system.logup
    if layout is None:
        return None
    frame = RowFrame(main, preprocessed, None, public_inputs, challenges)
    return layout.generate(frame.evaluate_ext, main.shape[0])


def check_trace(
    air: Air,
    main: np.ndarray,
    public_inputs: Sequence[int],
    challenges: Sequence[Sequence[int]] | None = None,
) -> None:
    """Check every constraint on every row; raise :class:`TraceCheckError` for the earliest
    failing row (the first constraint in definition order when several fail there).

    LogUp constraints are checked with fixed pseudo-random challenges (or the given ones),
    so an unbalanced lookup shows up as the ``logup: final sum`` constraint failing.
    """
    sys_ = air.system
    pub = air.check_public_inputs(public_inputs)
    main = _as_trace(main, air.main_width, "main trace")
    n = main.shape[0]
    if n < 2 or n & (n - 1):
        raise AirError(f"trace height must be a power of two ≥ 2, got {n}")
    log_n = n.bit_length() - 1
    pre = air.preprocessed_trace(log_n) if air.preprocessed_width else None
    chals: list[Sequence[int]] = []
    if sys_.num_challenges:
        if challenges is None:
            rng = np.random.default_rng(0x5EED)
            chals = [[int(c) for c in rng.integers(0, F.P, 4)] for _ in range(sys_.num_challenges)]
        else:
            chals = list(challenges)
    aux = generate_aux_trace(air, main, pre, pub, chals)
    frame = RowFrame(main, pre, aux, pub, chals)
    values = frame.evaluate([c.expr for c in sys_.constraints])
    first_failure: tuple[Constraint, int] | None = None
    for c, v in zip(sys_.constraints, values, strict=True):
        comps = v if isinstance(v, tuple) else (v,)
        bad = np.zeros(n, dtype=bool)
        for comp in comps:
            bad |= np.broadcast_to(np.asarray(comp) != 0, (n,))
        if c.kind is Kind.TRANSITION:
            bad[n - 1] = False
        elif c.kind is Kind.ROW:
            keep = c.row_index(n)
            mask = np.zeros(n, dtype=bool)
            mask[keep] = True
            bad &= mask
        if bad.any():
            row = int(np.argmax(bad))
            if first_failure is None or row < first_failure[1]:
                first_failure = (c, row)
    if first_failure is not None:
        c, row = first_failure
        raise TraceCheckError(c.name, row, f"{to_str(c.expr)[:200]} != 0")


def _as_trace(mat: Any, width: int, what: str) -> np.ndarray:
    arr = np.asarray(mat)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise AirError(f"{what}: expected shape (n, {width}), got {arr.shape}")
    return F.check_canonical(arr, what)

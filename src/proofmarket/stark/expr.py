"""Symbolic constraint expressions: one definition drives the prover, verifier and checker.

An AIR writes its constraints once as :class:`Expr` trees over trace columns (current and
next row), preprocessed columns, public inputs, LogUp challenges and auxiliary columns.
Nodes are *interned* (structurally equal nodes are the same object), so shared
subexpressions form a DAG that is evaluated once.

Every node knows
* its **degree** in the trace polynomials (columns count 1, everything row-invariant 0),
  which fixes the quotient size, and
* whether it is **extension-valued** (challenges and auxiliary columns are in F_p^4).

:func:`compile_program` orders the DAG of a list of roots; :class:`Program.evaluate` walks
it over *values* that are either base elements (a Python int or an array) or extension
elements (a 4-tuple of such). The same walk therefore serves

* the prover: arrays over a block of the LDE coset (vectorised; row-invariant nodes are
  folded to Python ints once),
* the verifier: Python ints at the out-of-domain point (everything is an extension tuple),
* the trace checker: arrays over the trace rows.
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, Union

import numpy as _np

from proofmarket.stark import field as _field
from proofmarket.stark.field import P, inv_int

_W = P - 11  # x^4 = W in the extension F_p[x]/(x^4 + 11)


class ExprError(ValueError):
    """Raised when an expression is malformed (e.g. inverting a row-dependent value)."""


class Group(enum.Enum):
    """Which committed matrix a column belongs to."""

    MAIN = "main"
    PREPROCESSED = "preprocessed"
    AUX = "aux"


_Key: TypeAlias = tuple[Any, ...]
_INTERN: weakref.WeakValueDictionary[_Key, Expr] = weakref.WeakValueDictionary()

ExprLike: TypeAlias = Union["Expr", int]


class Expr:
    """An interned node of the constraint DAG. Build with the helpers, not directly."""

    __slots__ = ("__weakref__", "args", "data", "degree", "is_ext", "op")

    op: str
    data: Any
    args: tuple[Expr, ...]
    degree: int
    is_ext: bool

    def __new__(cls, op: str, data: Any = None, args: tuple[Expr, ...] = ()) -> Expr:
        key = (op, data, *(id(a) for a in args))
        node = _INTERN.get(key)
        if node is not None:
            return node
        node = object.__new__(cls)
        node.op = op
        node.data = data
        node.args = args
        node.degree, node.is_ext = _shape_of(op, data, args)
        _INTERN[key] = node
        return node

    # -- arithmetic ------------------------------------------------------------------
    def __add__(self, other: ExprLike) -> Expr:
        return add(self, other)

    def __radd__(self, other: ExprLike) -> Expr:
        return add(other, self)

    def __sub__(self, other: ExprLike) -> Expr:
        return sub(self, other)

    def __rsub__(self, other: ExprLike) -> Expr:
        return sub(other, self)

    def __mul__(self, other: ExprLike) -> Expr:
        return mul(self, other)

    def __rmul__(self, other: ExprLike) -> Expr:
        return mul(other, self)

    def __neg__(self) -> Expr:
        return neg(self)

    def __pow__(self, k: int) -> Expr:
        if not isinstance(k, int) or k < 0:
            raise ExprError(f"exponent must be a non-negative int, got {k!r}")
        result: Expr = const(1)
        base: Expr = self
        while k:
            if k & 1:
                result = result * base
            k >>= 1
            if k:
                base = base * base
        return result

    @property
    def row_invariant(self) -> bool:
        """True when the value is the same on every row (no column leaf below)."""
        return self.degree == 0

    def __repr__(self) -> str:
        return to_str(self)


def _shape_of(op: str, data: Any, args: tuple[Expr, ...]) -> tuple[int, bool]:
    if op == "const":
        return 0, False
    if op == "col":
        group: Group = data[0]
        return 1, group is Group.AUX
    if op == "pub":
        return 0, False
    if op == "chal":
        return 0, True
    is_ext = any(a.is_ext for a in args)
    if op in ("add", "sub"):
        return max(a.degree for a in args), is_ext
    if op == "mul":
        return args[0].degree + args[1].degree, is_ext
    if op == "neg":
        return args[0].degree, is_ext
    if op == "inv":
        return 0, is_ext
    raise ExprError(f"unknown expression op {op!r}")


# ---------------------------------------------------------------------------------------
# constructors
# ---------------------------------------------------------------------------------------


def const(value: int) -> Expr:
    """A base-field constant (reduced mod P)."""
    return Expr("const", int(value) % P)


def column(group: Group, index: int, next_row: bool = False) -> Expr:
    """Column ``index`` of ``group`` at the current row (or the next one, cyclically)."""
    if index < 0:
        raise ExprError(f"column index must be >= 0, got {index}")
    return Expr("col", (group, int(index), bool(next_row)))


def public(index: int) -> Expr:
    """Public input number ``index`` (a base-field element)."""
    return Expr("pub", int(index))


def challenge(index: int) -> Expr:
    """Verifier challenge number ``index`` (an extension element, drawn after main)."""
    return Expr("chal", int(index))


def lift(x: ExprLike) -> Expr:
    """Turn an int into a constant node; pass expressions through."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, int):
        return const(x)
    raise ExprError(f"cannot use {type(x).__name__} in a constraint expression")


def _is_const(e: Expr, value: int | None = None) -> bool:
    return e.op == "const" and (value is None or e.data == value)


def add(a: ExprLike, b: ExprLike) -> Expr:
    """a + b with constant folding."""
    x, y = lift(a), lift(b)
    if _is_const(x) and _is_const(y):
        return const(x.data + y.data)
    if _is_const(x, 0):
        return y
    if _is_const(y, 0):
        return x
    return Expr("add", None, (x, y))


def sub(a: ExprLike, b: ExprLike) -> Expr:
    """a − b with constant folding."""
    x, y = lift(a), lift(b)
    if _is_const(x) and _is_const(y):
        return const(x.data - y.data)
    if _is_const(y, 0):
        return x
    if _is_const(x, 0):
        return neg(y)
    return Expr("sub", None, (x, y))


def mul(a: ExprLike, b: ExprLike) -> Expr:
    """a · b with constant folding."""
    x, y = lift(a), lift(b)
    if _is_const(x) and _is_const(y):
        return const(x.data * y.data)
    if _is_const(x, 0) or _is_const(y, 0):
        return const(0)
    if _is_const(x, 1):
        return y
    if _is_const(y, 1):
        return x
    return Expr("mul", None, (x, y))


def neg(a: ExprLike) -> Expr:
    """−a with constant folding."""
    x = lift(a)
    if _is_const(x):
        return const(-x.data)
    if x.op == "neg":
        return x.args[0]
    return Expr("neg", None, (x,))


def inv(a: ExprLike) -> Expr:
    """1/a for a *row-invariant* expression (e.g. a LogUp term built from public inputs)."""
    x = lift(a)
    if not x.row_invariant:
        raise ExprError("inv() only applies to row-invariant expressions (no columns)")
    if _is_const(x):
        if x.data == 0:
            raise ExprError("inverse of the constant 0")
        return const(inv_int(x.data))
    return Expr("inv", None, (x,))


def sum_exprs(items: Iterable[ExprLike]) -> Expr:
    """Σ items (0 for an empty sequence)."""
    total: Expr = const(0)
    for item in items:
        total = total + item
    return total


def to_str(e: Expr, depth: int = 8) -> str:
    """Human-readable rendering used in error messages (deep subtrees shown as ``…``)."""
    if e.op == "const":
        v = e.data
        return str(v - P) if v > P // 2 else str(v)
    if e.op == "col":
        group, index, nxt = e.data
        name = {Group.MAIN: "main", Group.PREPROCESSED: "pre", Group.AUX: "aux"}[group]
        return f"{name}{'_next' if nxt else ''}[{index}]"
    if e.op == "pub":
        return f"pub[{e.data}]"
    if e.op == "chal":
        return f"chal[{e.data}]"
    if depth <= 0:
        return "…"
    if e.op == "neg":
        return f"-({to_str(e.args[0], depth - 1)})"
    if e.op == "inv":
        return f"inv({to_str(e.args[0], depth - 1)})"
    sym = {"add": "+", "sub": "-", "mul": "*"}[e.op]
    return f"({to_str(e.args[0], depth - 1)} {sym} {to_str(e.args[1], depth - 1)})"


def leaves(roots: Iterable[Expr]) -> set[Expr]:
    """All leaf nodes (columns, publics, challenges, constants) below ``roots``."""
    out: set[Expr] = set()
    for node in topological_order(list(roots)):
        if not node.args:
            out.add(node)
    return out


def topological_order(roots: Sequence[Expr]) -> list[Expr]:
    """Every node reachable from ``roots``, children before parents, each once."""
    order: list[Expr] = []
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded or not node.args:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))
    return order


# ---------------------------------------------------------------------------------------
# values and arithmetic over them
# ---------------------------------------------------------------------------------------

Scalar: TypeAlias = Any
"""A base value: a Python int (row-invariant) or a backend array (one entry per row)."""
ExtValue: TypeAlias = tuple[Scalar, Scalar, Scalar, Scalar]
Value: TypeAlias = Scalar | ExtValue


class ArrayOps(Protocol):
    """Elementwise base-field arithmetic on backend arrays (one operand may be a scalar)."""

    def add(self, a: Any, b: Any) -> Any:
        """(a + b) mod P."""
        ...

    def sub(self, a: Any, b: Any) -> Any:
        """(a − b) mod P."""
        ...

    def mul(self, a: Any, b: Any) -> Any:
        """(a · b) mod P."""
        ...

    def neg(self, a: Any) -> Any:
        """(−a) mod P."""
        ...

    def scalar(self, v: int) -> Any:
        """A backend scalar usable as the other operand of an array op."""
        ...


class Algebra:
    """Base/extension arithmetic over values, folding Python ints and skipping zeros.

    Zero components are kept as the int 0, so an embedded base value ``(a, 0, 0, 0)`` costs
    four base multiplications in an extension product, not sixteen.
    """

    def __init__(self, ops: ArrayOps | None) -> None:
        self.ops = ops

    # base ------------------------------------------------------------------------
    def badd(self, a: Scalar, b: Scalar) -> Scalar:
        ai, bi = isinstance(a, int), isinstance(b, int)
        if ai and bi:
            return (a + b) % P
        if ai and a == 0:
            return b
        if bi and b == 0:
            return a
        assert self.ops is not None
        return self.ops.add(self._arr(a), self._arr(b))

    def bsub(self, a: Scalar, b: Scalar) -> Scalar:
        ai, bi = isinstance(a, int), isinstance(b, int)
        if ai and bi:
            return (a - b) % P
        if bi and b == 0:
            return a
        assert self.ops is not None
        if ai and a == 0:
            return self.ops.neg(b)
        return self.ops.sub(self._arr(a), self._arr(b))

    def bmul(self, a: Scalar, b: Scalar) -> Scalar:
        ai, bi = isinstance(a, int), isinstance(b, int)
        if ai and bi:
            return (a * b) % P
        if (ai and a == 0) or (bi and b == 0):
            return 0
        if ai and a == 1:
            return b
        if bi and b == 1:
            return a
        assert self.ops is not None
        return self.ops.mul(self._arr(a), self._arr(b))

    def bneg(self, a: Scalar) -> Scalar:
        if isinstance(a, int):
            return (-a) % P
        assert self.ops is not None
        return self.ops.neg(a)

    def _arr(self, a: Scalar) -> Any:
        if isinstance(a, int):
            assert self.ops is not None
            return self.ops.scalar(a)
        return a

    # extension -------------------------------------------------------------------
    @staticmethod
    def is_ext(v: Value) -> bool:
        return isinstance(v, tuple)

    @staticmethod
    def to_ext(v: Value) -> ExtValue:
        if isinstance(v, tuple):
            return v
        return (v, 0, 0, 0)

    def add(self, a: Value, b: Value) -> Value:
        if not self.is_ext(a) and not self.is_ext(b):
            return self.badd(a, b)
        x, y = self.to_ext(a), self.to_ext(b)
        return tuple(self.badd(x[i], y[i]) for i in range(4))

    def sub(self, a: Value, b: Value) -> Value:
        if not self.is_ext(a) and not self.is_ext(b):
            return self.bsub(a, b)
        x, y = self.to_ext(a), self.to_ext(b)
        return tuple(self.bsub(x[i], y[i]) for i in range(4))

    def neg(self, a: Value) -> Value:
        if not self.is_ext(a):
            return self.bneg(a)
        return tuple(self.bneg(c) for c in a)

    def mul(self, a: Value, b: Value) -> Value:
        ae, be = self.is_ext(a), self.is_ext(b)
        if not ae and not be:
            return self.bmul(a, b)
        if not ae:
            return tuple(self.bmul(a, c) for c in b)
        if not be:
            return tuple(self.bmul(c, b) for c in a)
        x, y = a, b
        lo: list[Scalar] = [0, 0, 0, 0]
        hi: list[Scalar] = [0, 0, 0]
        for i in range(4):
            if isinstance(x[i], int) and x[i] == 0:
                continue
            for j in range(4):
                if isinstance(y[j], int) and y[j] == 0:
                    continue
                prod = self.bmul(x[i], y[j])
                k = i + j
                if k < 4:
                    lo[k] = self.badd(lo[k], prod)
                else:
                    hi[k - 4] = self.badd(hi[k - 4], prod)
        # x^(4+k) = W·x^k
        out = [lo[k] if k == 3 else self.badd(lo[k], self.bmul(hi[k], _W)) for k in range(4)]
        return (out[0], out[1], out[2], out[3])

    def inv(self, a: Value) -> Value:
        """Inverse of a row-invariant (all-int) value."""
        if not self.is_ext(a):
            if not isinstance(a, int):
                raise ExprError("inv() of a row-dependent value")
            return inv_int(a)
        comps = [c for c in a]
        if not all(isinstance(c, int) for c in comps):
            raise ExprError("inv() of a row-dependent value")
        return ext_inv_ints(tuple(comps))


def ext_mul_ints(a: Sequence[int], b: Sequence[int]) -> tuple[int, int, int, int]:
    """Product of two extension elements given as 4 Python ints each."""
    out = Algebra(None).mul(tuple(a), tuple(b))
    return out


def ext_inv_ints(a: Sequence[int]) -> tuple[int, int, int, int]:
    """Inverse of an extension element given as 4 Python ints (ExprError on zero)."""
    a0, a1, a2, a3 = (int(c) % P for c in a)
    if not (a0 or a1 or a2 or a3):
        raise ExprError("inverse of zero in the extension field")
    # a(x)·a(−x) = b0 + b1·x^2 ; (b0 + b1 y)(b0 − b1 y) = b0^2 − W b1^2 = norm (y^2 = W)
    b0 = (a0 * a0 + _W * a2 * a2 - 2 * _W * a1 * a3) % P
    b1 = (2 * a0 * a2 - a1 * a1 - _W * a3 * a3) % P
    norm = (b0 * b0 - _W * b1 * b1) % P
    n_inv = inv_int(norm)
    conj = (a0, -a1 % P, a2, -a3 % P)
    d = (b0 * n_inv % P, 0, (-b1) * n_inv % P, 0)
    return ext_mul_ints(conj, d)


# ---------------------------------------------------------------------------------------
# compiled programs
# ---------------------------------------------------------------------------------------

LeafFn: TypeAlias = Callable[[Expr], Value]


@dataclass(frozen=True)
class Program:
    """A DAG compiled to straight-line code: nodes in order plus when each value dies."""

    nodes: tuple[Expr, ...]
    roots: tuple[Expr, ...]
    last_use: tuple[int, ...]
    root_slots: tuple[int, ...]

    def evaluate(
        self,
        algebra: Algebra,
        leaf: LeafFn,
        sink: Callable[[int, Value], None],
        invariant_cache: dict[int, Value] | None = None,
    ) -> None:
        """Evaluate every root, handing ``(root_index, value)`` to ``sink`` as soon as ready.

        ``leaf`` supplies column/public/challenge values. Row-invariant nodes are computed
        once and memoised in ``invariant_cache`` (pass the same dict for every block).
        """
        cache = invariant_cache if invariant_cache is not None else {}
        values: dict[int, Value] = {}
        roots_at: dict[int, list[int]] = {}
        for r, slot in enumerate(self.root_slots):
            roots_at.setdefault(slot, []).append(r)
        for i, node in enumerate(self.nodes):
            if node.row_invariant and i in cache:
                v = cache[i]
            else:
                v = self._eval_node(algebra, leaf, node, values, i)
                if node.row_invariant:
                    cache[i] = v
            values[i] = v
            for r in roots_at.get(i, ()):
                sink(r, v)
            # free children whose last use is this node
            for child_slot in self._child_slots[i]:
                if self.last_use[child_slot] == i:
                    values.pop(child_slot, None)
            if self.last_use[i] == -1:
                values.pop(i, None)

    def _eval_node(
        self, alg: Algebra, leaf: LeafFn, node: Expr, values: dict[int, Value], i: int
    ) -> Value:
        op = node.op
        if op == "const":
            return int(node.data)
        if op in ("col", "pub", "chal"):
            return leaf(node)
        a = values[self._child_slots[i][0]]
        if op == "neg":
            return alg.neg(a)
        if op == "inv":
            return alg.inv(a)
        b = values[self._child_slots[i][1]]
        if op == "add":
            return alg.add(a, b)
        if op == "sub":
            return alg.sub(a, b)
        if op == "mul":
            return alg.mul(a, b)
        raise ExprError(f"unknown op {op!r}")

    @property
    def _child_slots(self) -> tuple[tuple[int, ...], ...]:
        cached: tuple[tuple[int, ...], ...] | None = self.__dict__.get("_cs")
        if cached is None:
            index = {id(n): k for k, n in enumerate(self.nodes)}
            cached = tuple(tuple(index[id(c)] for c in n.args) for n in self.nodes)
            object.__setattr__(self, "_cs", cached)
        return cached


def compile_program(roots: Sequence[Expr]) -> Program:
    """Order the DAG below ``roots`` and compute value lifetimes (−1: only a root)."""
    nodes = topological_order(roots)
    index = {id(n): k for k, n in enumerate(nodes)}
    last_use = [-1] * len(nodes)
    for k, node in enumerate(nodes):
        for child in node.args:
            last_use[index[id(child)]] = k
    root_slots = tuple(index[id(r)] for r in roots)
    # a root's value must survive until it is handed to the sink (done in the same step)
    return Program(tuple(nodes), tuple(roots), tuple(last_use), root_slots)


class NumpyOps:
    """:class:`ArrayOps` over canonical ``np.uint64`` arrays (numba ufuncs from ``field``)."""

    def add(self, a: Any, b: Any) -> Any:
        return _field._add(a, b)

    def sub(self, a: Any, b: Any) -> Any:
        return _field._sub(a, b)

    def mul(self, a: Any, b: Any) -> Any:
        return _field._mul(a, b)

    def neg(self, a: Any) -> Any:
        return _field._neg(a)

    def scalar(self, v: int) -> Any:
        return _np.uint64(v % P)


NUMPY_OPS = NumpyOps()
"""Shared instance of :class:`NumpyOps`."""

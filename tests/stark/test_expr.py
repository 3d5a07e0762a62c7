"""Symbolic expressions: interning, degrees, folding and the shared value algebra."""

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.expr import (
    NUMPY_OPS,
    Algebra,
    ExprError,
    Group,
    challenge,
    column,
    compile_program,
    const,
    ext_inv_ints,
    ext_mul_ints,
    inv,
    neg,
    public,
    to_str,
)


def test_nodes_are_interned_and_degrees_add_up():
    a = column(Group.MAIN, 0)
    b = column(Group.MAIN, 1, next_row=True)
    e1 = a * a * b + 3
    e2 = a * a * b + 3
    assert e1 is e2
    assert e1.degree == 3
    assert (a**4).degree == 4
    assert (a - a).degree == 1  # symbolic: no cancellation assumed
    assert (public(0) * challenge(1)).degree == 0
    assert (public(0) * challenge(1)).is_ext
    assert column(Group.AUX, 0).is_ext
    assert not (a * public(2)).is_ext


def test_constant_folding():
    a = column(Group.MAIN, 0)
    assert (a * 0).op == "const" and (a * 0).data == 0
    assert a * 1 is a
    assert a + 0 is a
    assert (const(2) * 3).data == 6
    assert (const(0) - 1).data == F.P - 1
    assert neg(neg(a)) is a


def test_inv_only_for_row_invariant_values():
    with pytest.raises(ExprError):
        inv(column(Group.MAIN, 0))
    with pytest.raises(ExprError):
        inv(0)
    assert inv(2).data * 2 % F.P == 1


def test_pow_rejects_negative():
    with pytest.raises(ExprError):
        column(Group.MAIN, 0) ** -1


def test_ext_int_helpers_match_field_module():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = [int(v) for v in rng.integers(0, F.P, 4)]
        b = [int(v) for v in rng.integers(0, F.P, 4)]
        want = F.ext_mul(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64))
        assert list(ext_mul_ints(a, b)) == [int(v) for v in want]
        assert ext_mul_ints(a, ext_inv_ints(a)) == (1, 0, 0, 0)
    with pytest.raises(ExprError):
        ext_inv_ints((0, 0, 0, 0))


def test_program_evaluates_arrays_and_scalars_identically():
    """The same DAG over arrays (prover) and over Python ints (verifier) agrees."""
    rng = np.random.default_rng(5)
    x, y = column(Group.MAIN, 0), column(Group.MAIN, 1)
    e = (x**3 + x * y * challenge(0) - public(0)) * (y + 7)
    prog = compile_program([e, x * y])
    n = 16
    cols = [rng.integers(0, F.P, n, dtype=np.uint64) for _ in range(2)]
    chal = tuple(int(v) for v in rng.integers(0, F.P, 4))
    pub = 12345

    def leaf_arrays(node):
        if node.op == "col":
            return cols[node.data[1]]
        if node.op == "pub":
            return pub
        return chal

    got: dict[int, object] = {}
    prog.evaluate(Algebra(NUMPY_OPS), leaf_arrays, got.__setitem__)
    for row in (0, 7, 15):
        scalars: dict[int, object] = {}

        def leaf_ints(node, row=row):
            if node.op == "col":
                return int(cols[node.data[1]][row])
            if node.op == "pub":
                return pub
            return chal

        prog.evaluate(Algebra(None), leaf_ints, scalars.__setitem__)
        vec = got[0]
        at_row = tuple(c if isinstance(c, int) else int(np.asarray(c)[row]) for c in vec)
        assert at_row == scalars[0]
        assert int(got[1][row]) == scalars[1]


def test_to_str_is_bounded_for_deep_dags():
    x = column(Group.MAIN, 0)
    e = x
    for _ in range(60):
        e = e * e + x  # exponential as a tree, linear as a DAG
    assert len(to_str(e)) < 10_000

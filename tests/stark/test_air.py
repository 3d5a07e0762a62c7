"""AIR builder, constraint system and the row-by-row trace checker."""

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder, AirError, TraceCheckError, check_trace
from proofmarket.stark.examples import (
    FibonacciAir,
    HashChainAir,
    RangeCheckAir,
    fibonacci_trace,
    hash_chain_trace,
    range_check_trace,
)


def test_valid_example_traces_pass_the_checker():
    t, pub = fibonacci_trace(2, 3, 5)
    check_trace(FibonacciAir(), t, pub)
    t, pub = hash_chain_trace([1, 2, 3, 4], 5)
    check_trace(HashChainAir(4), t, pub)
    t, pub = range_check_trace([1, 65535, 300], [300], 8)
    check_trace(RangeCheckAir(1), t, pub)


def test_checker_names_the_failing_constraint_and_row():
    t, pub = fibonacci_trace(1, 1, 5)
    t[9, 1] = (t[9, 1] + 1) % F.P
    with pytest.raises(TraceCheckError) as err:
        check_trace(FibonacciAir(), t, pub)
    assert err.value.constraint == "y' = x + y"
    assert err.value.row == 8
    assert "row 8" in str(err.value)


def test_checker_boundary_and_public_input_errors():
    t, pub = fibonacci_trace(1, 1, 4)
    with pytest.raises(TraceCheckError) as err:
        check_trace(FibonacciAir(), t, [pub[0], pub[1], (pub[2] + 1) % F.P])
    assert err.value.constraint == "y[n-1] = result"
    assert err.value.row == 15
    with pytest.raises(AirError):
        check_trace(FibonacciAir(), t, pub[:2])
    with pytest.raises(AirError):
        check_trace(FibonacciAir(), t[:, :1], pub)


class _TooHigh(Air):
    name = "too-high"

    def __init__(self) -> None:
        super().__init__(1)

    def define(self, b: AirBuilder) -> None:
        b.assert_transition(b.main(0) ** 5)


class _BadIndex(Air):
    name = "bad-index"

    def __init__(self) -> None:
        super().__init__(1)

    def define(self, b: AirBuilder) -> None:
        b.assert_transition(b.main(1))


def test_builder_rejects_bad_airs():
    with pytest.raises(AirError, match="degree 5"):
        _ = _TooHigh().system
    with pytest.raises(AirError, match="out of range"):
        _ = _BadIndex().system


def test_degrees_and_quotient_chunks():
    assert FibonacciAir().system.max_degree == 1
    assert FibonacciAir().system.num_quotient_chunks == 1
    hc = HashChainAir(3).system
    assert hc.max_degree == 3
    assert hc.num_quotient_chunks == 2


def test_air_id_depends_on_structure():
    assert HashChainAir(3).air_id != HashChainAir(4).air_id
    assert HashChainAir(3).air_id == HashChainAir(3).air_id
    assert FibonacciAir().air_id != RangeCheckAir(3).air_id
    assert len(FibonacciAir().air_id) == 32


def test_every_row_and_any_row_constraints():
    class Pinned(Air):
        name = "pinned"

        def __init__(self) -> None:
            super().__init__(1, num_public_inputs=1)

        def define(self, b: AirBuilder) -> None:
            b.assert_every_row(b.main(0) * (b.main(0) - 1), name="bit")
            b.assert_at_row(3, b.main(0) - b.public(0), name="row 3 pinned")

    t = np.array([[0], [1], [1], [1], [0], [0], [1], [0]], dtype=np.uint64)
    check_trace(Pinned(), t, [1])
    with pytest.raises(TraceCheckError) as err:
        check_trace(Pinned(), t, [0])
    assert err.value.row == 3
    t[6, 0] = 2
    with pytest.raises(TraceCheckError) as err:
        check_trace(Pinned(), t, [1])
    assert (err.value.constraint, err.value.row) == ("bit", 6)


def test_describe_lists_every_constraint():
    text = RangeCheckAir(1).system.describe()
    assert "word = lo + 256·hi" in text
    assert "logup: final sum" in text
    assert text.count("\n") == len(RangeCheckAir(1).system.constraints)

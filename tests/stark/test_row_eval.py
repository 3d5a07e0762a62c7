"""Compiled row evaluation agrees with the NumPy row frame and catches every failure."""

import numpy as np
import pytest

from proofmarket.stark.air import TraceCheckError, check_trace
from proofmarket.stark.aux_trace import generate_aux_trace
from proofmarket.stark.constraint_vm import Recorder, allocate, run
from proofmarket.stark.examples.bench import BenchAir, bench_trace
from proofmarket.stark.field import P
from proofmarket.stark.row_eval import as_words, constraints_hold
from proofmarket.stark.trace_check import RowFrame, check_challenges

CHALS = [(5, 17, 2, 9), (123456, 7, 0, 99)]


def _setup(lookups: int = 7) -> tuple[BenchAir, np.ndarray, np.ndarray, list[int]]:
    air = BenchAir(16, lookups=lookups)
    trace, pub = bench_trace(16, 9, lookups=lookups)
    pre = air.preprocessed_trace(9)
    return air, trace, pre, pub


def test_logup_helpers_match_the_numpy_row_frame() -> None:
    """Batched helpers (one inverse per batch) equal Σ m_i/d_i from the NumPy frame."""
    air, trace, pre, pub = _setup()
    layout = air.system.logup
    assert layout is not None and max(len(b) for b in layout.batches) > 1
    aux = generate_aux_trace(air, trace, pre, pub, CHALS, block_rows=128)
    assert aux is not None
    frame = RowFrame(trace, pre, None, pub, CHALS)
    expected = layout.helpers(frame.evaluate_ext, trace.shape[0])
    assert np.array_equal(aux[:, : expected.shape[1]], expected)


def test_fast_check_accepts_valid_and_rejects_each_kind_of_failure() -> None:
    air, trace, pre, pub = _setup(lookups=2)
    chals = check_challenges(air)
    aux = generate_aux_trace(air, trace, pre, pub, chals)
    words = [as_words(m) for m in (trace, pre, aux)]
    full = [*chals, (0, 0, 0, 0)]
    assert constraints_hold(air, words[0], words[1], words[2], pub, full, 64)
    # a transition failure in the middle, a boundary failure, a bad claimed sum
    bad = trace.copy()
    bad[100, 1] = (int(bad[100, 1]) + 1) % P
    assert not constraints_hold(air, as_words(bad), words[1], words[2], pub, full, 64)
    assert not constraints_hold(air, words[0], words[1], words[2], [pub[0] + 1, pub[1]], full, 64)
    wrong_sum = [*chals, (1, 0, 0, 0)]
    assert not constraints_hold(air, words[0], words[1], words[2], pub, wrong_sum, 64)


def test_check_trace_still_names_the_failing_row() -> None:
    air, trace, _, pub = _setup(lookups=2)
    bad = trace.copy()
    bad[37, 0] = (int(bad[37, 0]) + 5) % P
    with pytest.raises(TraceCheckError) as err:
        check_trace(air, bad, pub)
    assert err.value.row == 36  # the transition from row 36 into the changed row 37
    check_trace(air, trace, pub)


def test_interpreter_destination_never_aliases_a_source() -> None:
    rec = Recorder()
    x = rec.load(0, 0, 0)
    y = rec.load(0, 1, 1)
    acc = rec.mul(x, y)
    for _ in range(5):
        acc = rec.add(rec.mul(acc, acc), rec.sub(acc, rec.scalar(3)))
    rec.store(acc, 0)
    prog = allocate(rec)
    for op, d, a, b, _x in prog.code.tolist():
        if d >= 0:
            assert d not in (a, b) or op == 0
    mat = np.arange(32, dtype=np.uint64).reshape(16, 2) * 1_000_003 % P
    out = run(prog, [mat], 16, 1, block_rows=4)
    ref = []
    for r in range(16):
        v = int(mat[r, 0]) * int(mat[(r + 1) % 16, 1]) % P
        for _ in range(5):
            v = (v * v + v - 3) % P
        ref.append(v)
    assert out[:, 0].tolist() == ref


def test_helper_kernel_inverts_and_flags_a_zero_denominator() -> None:
    from proofmarket.stark.expr import ext_inv_ints, ext_mul_ints
    from proofmarket.stark.row_eval import _helpers_kernel

    rng = np.random.default_rng(3)
    vals = rng.integers(0, P, size=(300, 8 * 3), dtype=np.uint64)
    out = np.empty((300, 12), dtype=np.uint64)
    assert _helpers_kernel(vals, 3, out)
    for r in (0, 151, 299):
        for b in range(3):
            numer = [int(v) for v in vals[r, 8 * b : 8 * b + 4]]
            den = [int(v) for v in vals[r, 8 * b + 4 : 8 * b + 8]]
            assert out[r, 4 * b : 4 * b + 4].tolist() == list(
                ext_mul_ints(numer, ext_inv_ints(den))
            )
    vals[77, 12:16] = 0  # batch 1's denominator on row 77
    assert not _helpers_kernel(vals, 3, out)

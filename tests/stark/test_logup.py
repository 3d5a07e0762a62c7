"""LogUp lookups: balanced lookups prove, any unmatched lookup is rejected."""

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder, TraceCheckError, check_trace
from proofmarket.stark.examples import RangeCheckAir, range_check_trace
from proofmarket.stark.expr import Group, column
from proofmarket.stark.logup import LogUpError, make_interaction, plan_batches
from proofmarket.stark.params import TEST
from proofmarket.stark.prover import prove
from proofmarket.stark.verifier import VerificationError, verify

WORDS = [0, 1, 255, 256, 65535, 4660, 300, 300, 9999]


def _forced_proof(air, trace, pub):
    """Prove without the checker (as a cheating prover would) and return the bytes."""
    return prove(air, trace, pub, TEST, check=False).to_bytes()


def test_range_check_proves_and_verifies():
    air = RangeCheckAir(2)
    t, pub = range_check_trace(WORDS, [65535, 300], 8)
    verify(air, prove(air, t, pub, TEST).to_bytes(), pub, TEST)
    assert air.system.aux_width == 3  # two helper columns + running sum


def test_unmatched_lookup_is_rejected():
    """A word ≥ 2^16 (hi byte 256) has no table entry: one unmatched lookup."""
    air = RangeCheckAir(1)
    t, pub = range_check_trace([*WORDS, 65536], [300], 8)
    with pytest.raises(TraceCheckError, match="final sum"):
        check_trace(air, t, pub)
    with pytest.raises(VerificationError):
        verify(air, _forced_proof(air, t, pub), pub, TEST)


def test_wrong_multiplicity_is_rejected():
    air = RangeCheckAir(1)
    t, pub = range_check_trace(WORDS, [300], 8)
    t[7, 3] = (t[7, 3] + 1) % F.P  # table claims byte 7 is looked up once more
    with pytest.raises(TraceCheckError, match="final sum"):
        check_trace(air, t, pub)
    with pytest.raises(VerificationError):
        verify(air, _forced_proof(air, t, pub), pub, TEST)


def test_public_bus_binds_the_public_words():
    air = RangeCheckAir(2)
    t, pub = range_check_trace(WORDS, [4660, 9999], 8)
    proof = prove(air, t, pub, TEST).to_bytes()
    verify(air, proof, pub, TEST)
    # the verifier recomputes the public contributions: other words do not verify
    with pytest.raises(VerificationError):
        verify(air, proof, [4660, 9998], TEST)
    # a trace that does not contain a public word cannot be proven valid
    t2, _ = range_check_trace(WORDS, [4660, 9999], 8)
    with pytest.raises(TraceCheckError):
        check_trace(air, t2, [4660, 1234])
    with pytest.raises(VerificationError):
        verify(air, _forced_proof(air, t2, [4660, 1234]), [4660, 1234], TEST)


class _Permutation(Air):
    """Column 1 is a permutation of column 0 (multiset equality via LogUp)."""

    name = "permutation"

    def __init__(self) -> None:
        super().__init__(2)

    def define(self, b: AirBuilder) -> None:
        b.lookup([b.main(0)], bus=3)
        b.provide([b.main(1)], 1, bus=3)


def test_permutation_argument():
    air = _Permutation()
    rng = np.random.default_rng(9)
    a = rng.integers(0, F.P, 32, dtype=np.uint64)
    t = np.stack([a, rng.permutation(a)], axis=1)
    verify(air, prove(air, t, [], TEST).to_bytes(), [], TEST)
    t[5, 1] = (t[5, 1] + 1) % F.P
    with pytest.raises(TraceCheckError, match="final sum"):
        check_trace(air, t, [])
    with pytest.raises(VerificationError):
        verify(air, _forced_proof(air, t, []), [], TEST)


class _Tuples(Air):
    """Lookups of (a, b) pairs: tuple compression must keep the components apart."""

    name = "tuples"

    def __init__(self) -> None:
        super().__init__(4)

    def define(self, b: AirBuilder) -> None:
        b.lookup([b.main(0), b.main(1)], bus=2)
        b.provide([b.main(2), b.main(3)], 1, bus=2)


def test_tuple_components_are_not_interchangeable():
    air = _Tuples()
    pairs = np.array([[i, 3 * i + 1] for i in range(16)], dtype=np.uint64)
    t = np.concatenate([pairs, pairs[::-1]], axis=1)
    check_trace(air, t, [])
    swapped = t.copy()
    swapped[0, 2], swapped[0, 3] = t[0, 3], t[0, 2]  # provide (b, a) instead of (a, b)
    with pytest.raises(TraceCheckError):
        check_trace(air, swapped, [])
    with pytest.raises(VerificationError):
        verify(air, _forced_proof(air, swapped, []), [], TEST)


def test_batches_respect_the_degree_cap():
    m = column(Group.MAIN, 0)
    inters = [make_interaction(f"i{k}", 0, [column(Group.MAIN, k)], 1, False) for k in range(5)]
    assert plan_batches(inters, 3) == [(0, 1), (2, 3), (4,)]
    assert plan_batches(inters, 4) == [(0, 1, 2), (3, 4)]
    heavy = make_interaction("heavy", 0, [m * m * m * m], 1, False)
    with pytest.raises(LogUpError):
        plan_batches([heavy], 4)
    with pytest.raises(LogUpError):
        make_interaction("empty", 0, [], 1, False)


def test_public_lookup_must_be_row_invariant():
    class Bad(Air):
        name = "bad-public"

        def __init__(self) -> None:
            super().__init__(1)

        def define(self, b: AirBuilder) -> None:
            b.public_lookup([b.main(0)])

    with pytest.raises(LogUpError):
        _ = Bad().system


@pytest.mark.parametrize("forgery", ["shift-running-sum", "zero-helper"])
def test_forged_aux_trace_is_rejected(monkeypatch, forgery):
    """A cheating prover rewrites the LogUp columns so the final sum balances."""
    import proofmarket.stark.prover as prover_module
    from proofmarket.stark.air import generate_aux_trace as honest_aux

    air = RangeCheckAir(0)  # no public words: a balanced bus ends at 0
    t, pub = range_check_trace([*WORDS, 70000], [], 8)  # 70000 ≥ 2^16: unmatched
    forged_rows: list[np.ndarray] = []

    def forged_aux(air_, main, pre, pub_, chals):
        aux = honest_aux(air_, main, pre, pub_, chals)
        acc = slice(4 * air_.system.logup.acc_index, 4 * air_.system.logup.acc_index + 4)
        if forgery == "shift-running-sum":
            # subtract the final value from every row: last row balances, first row breaks
            aux[:, acc] = (aux[:, acc] + (F.P - aux[-1, acc])) % F.P
        else:
            # drop the offending lookup's contribution from its helper and the running sum
            aux[:, 0:8] = 0
            aux[:, acc] = 0
        forged_rows.append(aux[-1, acc].copy())
        return aux

    monkeypatch.setattr(prover_module, "generate_aux_trace", forged_aux)
    forged = prove(air, t, pub, TEST, check=False).to_bytes()
    assert not forged_rows[0].any()  # the final-sum constraint itself is satisfied
    with pytest.raises(VerificationError):
        verify(air, forged, pub, TEST)


# --- offline memory checking (the pattern of the RV32IM memory argument) -----------------

MEM_INIT = [10, 20, 30, 40]
MEM_OPS = [(1, False, 0), (1, True, 99), (2, True, 7), (1, False, 0), (3, False, 0), (2, True, 8)]


def test_memory_checking_proves_and_verifies():
    from proofmarket.stark.examples import MemoryAir, memory_trace

    air = MemoryAir(4)
    t, pub = memory_trace(MEM_INIT, MEM_OPS, 8)
    assert pub[3:6] == [20, 99, 4]  # cell 1: init 20, final 99, last access at clk 4
    verify(air, prove(air, t, pub, TEST).to_bytes(), pub, TEST)


def _mem_forgery(kind: str):
    from proofmarket.stark.examples import memory_trace

    t, pub = memory_trace(MEM_INIT, MEM_OPS, 8)
    if kind == "stale-read":
        # row 3 reads cell 1 and claims the old value 20 (consistently in prev_val too):
        # the row constraints hold, but (1, clk 2, 99) is produced and never consumed
        t[3, 2] = t[3, 4] = 20
        t[3, 3] = 1  # pretend the previous access was at clk 1 (value 20)
        t[3, 6], t[3, 7] = 2, 0
        t[1, 8] -= 1  # keep the byte-table multiplicities honest: only memory is off
        t[2, 8] += 1
    elif kind == "wrong-final":
        pub[4] = 98  # claim cell 1 ends with 98
    elif kind == "time-travel":
        t[3, 3] = t[3, 1]  # previous access "at the same time": diff = −1
        t[3, 6], t[3, 7] = (F.P - 1) % 256, 0
    return t, pub


@pytest.mark.parametrize("kind", ["stale-read", "wrong-final", "time-travel"])
def test_memory_inconsistencies_are_rejected(kind):
    from proofmarket.stark.examples import MemoryAir

    air = MemoryAir(4)
    t, pub = _mem_forgery(kind)
    with pytest.raises(TraceCheckError) as err:
        check_trace(air, t, pub)
    if kind != "time-travel":  # the row constraints hold; only the memory bus is unbalanced
        assert "final sum" in err.value.constraint
    with pytest.raises(VerificationError):
        verify(air, _forced_proof(air, t, pub), pub, TEST)

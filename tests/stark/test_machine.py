"""Multi-table proofs: tables of different heights sharing buses, one proof, and every
single-table guarantee for each table (bad cells, unbalanced buses, pinned heights,
swapped commitments, tampered bytes)."""

import dataclasses

import numpy as np
import pytest
from stark_cases import flips_accepted

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder, TraceCheckError
from proofmarket.stark.examples import (
    FibonacciAir,
    HashChainAir,
    example_machine,
    example_traces,
    fibonacci_trace,
    hash_chain_trace,
)
from proofmarket.stark.machine import (
    GLOBAL_SUM_CONSTRAINT,
    Machine,
    MachineError,
    Table,
    check_machine,
)
from proofmarket.stark.params import TEST
from proofmarket.stark.poseidon2 import permute
from proofmarket.stark.poseidon2_air import Poseidon2ChipAir, bus_id, chip_trace
from proofmarket.stark.proof import StarkProof
from proofmarket.stark.prover import ProverError, prove, prove_machine
from proofmarket.stark.verifier import VerificationError, verify, verify_machine

PAIRS = [(3, 5), (7, 11), (3, 5), (200, 255), (0, 9)]


@pytest.fixture(scope="module")
def honest():
    machine = example_machine()
    traces, pubs = example_traces(PAIRS, mul_rows=3)
    proof = prove_machine(machine, traces, pubs, TEST)
    return machine, traces, pubs, proof, proof.to_bytes()


def _replace_table(proof, index, **changes):
    tables = list(proof.tables)
    tables[index] = dataclasses.replace(tables[index], **changes)
    return dataclasses.replace(proof, tables=tuple(tables))


def test_tables_of_different_heights_prove_and_verify(honest):
    machine, _, pubs, proof, data = honest
    # program 5 rows → 2^3, mul chip 3 distinct pairs (+1 padding row) → 2^2, range 2^8
    assert proof.log_heights == [3, 2, 8]
    assert verify_machine(machine, data, pubs, TEST) == [3, 2, 8]
    assert StarkProof.from_bytes(data).to_bytes() == data
    # the claimed LogUp sums are not zero one by one, only together
    sums = [tuple(int(v) for v in t.claimed_sum) for t in proof.tables]
    assert all(s != (0, 0, 0, 0) for s in sums)


def test_wrong_public_result_fails(honest):
    machine, _, pubs, _, data = honest
    wrong = [[(pubs[0][0] + 1) % F.P], [], []]
    with pytest.raises(VerificationError):
        verify_machine(machine, data, wrong, TEST)


@pytest.mark.parametrize(("table", "row", "col"), [(0, 1, 2), (1, 0, 3), (2, 17, 0)])
def test_a_bad_cell_in_any_table_is_rejected(table, row, col):
    machine = example_machine()
    traces, pubs = example_traces(PAIRS, mul_rows=4)
    traces[table][row, col] = (traces[table][row, col] + 1) % F.P
    with pytest.raises(TraceCheckError):
        check_machine(machine, traces, pubs)
    with pytest.raises(TraceCheckError):
        prove_machine(machine, traces, pubs, TEST)
    forged = prove_machine(machine, traces, pubs, TEST, check=False).to_bytes()
    with pytest.raises(VerificationError):
        verify_machine(machine, forged, pubs, TEST)


def test_unbalanced_bus_across_tables_is_rejected():
    """Each table is locally valid, but the multiplier never provides the looked-up
    product: only the global sum fails."""
    machine = example_machine()
    traces, pubs = example_traces(PAIRS, mul_rows=4)
    mul = traces[1]
    row = int(np.flatnonzero((mul[:, 1] == 7) & (mul[:, 2] == 11))[0])
    mul[row, 1:] = [7, 12, 84]  # a true product, but not the one the program asks for
    with pytest.raises(TraceCheckError, match="global sum"):
        check_machine(machine, traces, pubs)
    with pytest.raises(TraceCheckError) as info:
        prove_machine(machine, traces, pubs, TEST)
    assert info.value.constraint == GLOBAL_SUM_CONSTRAINT
    forged = prove_machine(machine, traces, pubs, TEST, check=False).to_bytes()
    with pytest.raises(VerificationError, match="balance"):
        verify_machine(machine, forged, pubs, TEST)


def test_claimed_sums_that_cancel_are_still_bound(honest):
    machine, _, pubs, proof, _ = honest
    delta = np.array([5, 0, 0, 0], dtype=np.uint64)
    s0 = F.add(proof.tables[0].claimed_sum, delta)
    s1 = F.sub(proof.tables[1].claimed_sum, delta)
    forged = _replace_table(_replace_table(proof, 0, claimed_sum=s0), 1, claimed_sum=s1)
    with pytest.raises(VerificationError, match="out-of-domain"):
        verify_machine(machine, forged.to_bytes(), pubs, TEST)


def test_heights_are_pinned_by_the_statement():
    machine = example_machine()
    traces, pubs = example_traces(PAIRS, mul_rows=16)  # mul chip at 2^4
    data = prove_machine(machine, traces, pubs, TEST).to_bytes()
    assert verify_machine(machine, data, pubs, TEST) == [3, 4, 8]
    assert verify_machine(machine, data, pubs, TEST, log_heights=[3, 4, None]) == [3, 4, 8]
    with pytest.raises(VerificationError, match="pins 2\\^3"):
        verify_machine(machine, data, pubs, TEST, log_heights=[None, 3, None])
    narrow = Machine(
        [machine.tables[0], Table(machine.tables[1].air, [2, 3], name="mul"), machine.tables[2]]
    )
    with pytest.raises(VerificationError, match="not allowed"):
        verify_machine(narrow, data, pubs, TEST)
    # and the prover refuses a trace taller than the table allows
    with pytest.raises(ProverError, match="outside"):
        prove_machine(narrow, traces, pubs, TEST)


def test_one_table_verify_returns_and_pins_the_height():
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    data = prove(air, t, pub, TEST).to_bytes()
    assert verify(air, data, pub, TEST) == 6
    assert verify(air, data, pub, TEST, log_n=6) == 6
    with pytest.raises(VerificationError, match="pins"):
        verify(air, data, pub, TEST, log_n=7)


def test_swapped_or_reordered_table_commitments_are_rejected(honest):
    machine, _, pubs, proof, _ = honest
    t0, t1 = proof.tables[0], proof.tables[1]
    for name in ("main_root", "aux_root", "quotient_root"):
        swapped = _replace_table(
            _replace_table(proof, 0, **{name: getattr(t1, name)}), 1, **{name: getattr(t0, name)}
        )
        with pytest.raises(VerificationError):
            verify_machine(machine, swapped.to_bytes(), pubs, TEST)
    reordered = dataclasses.replace(proof, tables=(t1, t0, proof.tables[2]))
    with pytest.raises(VerificationError, match="AIR id"):
        verify_machine(machine, reordered.to_bytes(), pubs, TEST)
    with pytest.raises(VerificationError, match="tables"):
        verify_machine(machine, dataclasses.replace(proof, tables=proof.tables[:2]), pubs, TEST)


def test_tampered_bytes_anywhere_are_rejected(honest):
    """200 seeded single-byte corruptions across the whole multi-table proof."""
    machine, _, pubs, _, data = honest
    assert flips_accepted(lambda d: verify_machine(machine, d, pubs, TEST), data, 200, 8) == []


def test_unused_tables_are_padded_and_independent_tables_mix():
    """A table with no rows (None) is zero-padded; tables without buses ride along."""
    machine = Machine(
        [
            *example_machine().tables,
            Table(HashChainAir(2), range(4, 8), name="hash"),
            Table(FibonacciAir(), range(2, 10), name="fib"),
        ]
    )
    traces, pubs = example_traces([(1, 1)])
    traces[1] = traces[1][:1]
    ht, hpub = hash_chain_trace([3, 4], 5)
    ft, fpub = fibonacci_trace(1, 1, 7)
    proof = prove_machine(machine, [*traces, ht, ft], [*pubs, hpub, fpub], TEST)
    assert proof.log_heights == [2, 2, 8, 5, 7]
    assert verify_machine(machine, proof.to_bytes(), [*pubs, hpub, fpub], TEST) == proof.log_heights

    empty = Machine([Table(FibonacciAir(), range(2, 8), name="fib"), example_machine().tables[1]])
    ft, fpub = fibonacci_trace(1, 1, 6)
    proof = prove_machine(empty, [ft, None], [fpub, []], TEST)
    assert proof.log_heights == [6, 2]
    assert verify_machine(empty, proof.to_bytes(), [fpub, []], TEST) == [6, 2]


def test_machine_rejects_bad_definitions_and_inputs():
    air = FibonacciAir()
    with pytest.raises(MachineError, match="unique"):
        Machine([air, air])
    with pytest.raises(MachineError):
        Machine([])
    with pytest.raises(MachineError, match="outside"):
        Table(air, [1])
    machine = example_machine()
    traces, pubs = example_traces(PAIRS)
    with pytest.raises(ProverError, match="traces"):
        prove_machine(machine, traces[:2], pubs, TEST)
    with pytest.raises(ProverError, match="public"):
        prove_machine(machine, traces, pubs[:2], TEST)
    with pytest.raises(ProverError, match="shape"):
        prove_machine(machine, [traces[0][:, :2], *traces[1:]], pubs, TEST)
    with pytest.raises(VerificationError):
        verify_machine(machine, prove(air, *fibonacci_trace(1, 1, 4), TEST), pubs, TEST)


class _HashCaller(Air):
    """Rows ``(is_real, in[16], out[16])`` that look their permutation up in the chip."""

    name = "test-hash-caller"

    def __init__(self) -> None:
        super().__init__(main_width=33)

    def define(self, b: AirBuilder) -> None:
        is_real = b.main(0)
        b.assert_every_row(is_real * (is_real - 1), name="is_real is boolean")
        b.lookup([b.main(i) for i in range(1, 33)], is_real, bus=bus_id(16), name="permute")


def test_poseidon2_chip_serves_another_table():
    rng = np.random.default_rng(4)
    states = rng.integers(0, F.P, size=(3, 16), dtype=np.uint64)
    outputs = np.array([permute([int(v) for v in s], 16) for s in states], dtype=np.uint64)
    calls = [0, 1, 0, 2, 0]  # permutation 0 is used three times
    caller = np.array([[1, *states[i], *outputs[i]] for i in calls], dtype=np.uint64)
    machine = Machine(
        [Table(_HashCaller(), range(2, 6), name="caller"), Table(Poseidon2ChipAir(16), 2)]
    )
    chip = chip_trace(states, 2, [3, 1, 1])
    proof = prove_machine(machine, [caller, chip], None, TEST)
    assert verify_machine(machine, proof.to_bytes(), None, TEST) == [3, 2]
    # a wrong output in the caller finds no chip row: rejected by the global bus sum
    caller[1, 20] = (caller[1, 20] + 1) % F.P
    with pytest.raises(TraceCheckError, match="global sum"):
        check_machine(machine, [caller, chip], None)
    forged = prove_machine(machine, [caller, chip], None, TEST, check=False).to_bytes()
    with pytest.raises(VerificationError, match="balance"):
        verify_machine(machine, forged, None, TEST)

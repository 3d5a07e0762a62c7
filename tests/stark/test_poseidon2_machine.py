"""The Poseidon2 chip inside a multi-table proof: a caller table hashes over the bus."""

from __future__ import annotations

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder, TraceCheckError
from proofmarket.stark.machine import Machine, Table
from proofmarket.stark.params import TEST
from proofmarket.stark.poseidon2_air import Poseidon2ChipAir, bus_id, chip_rows
from proofmarket.stark.poseidon2_kernel import permute_many
from proofmarket.stark.prover import prove_machine
from proofmarket.stark.verifier import VerificationError, verify_machine

W = 16


class ChainCallerAir(Air):
    """Rows ``(is_real, in[16], out[16])``: every real row looks its permutation up in
    the chip; consecutive real rows chain (``in' = out``); the first input and the last
    output are public, so the statement is ``P^k(start) = end``."""

    name = "poseidon2-chain-caller"

    def __init__(self) -> None:
        super().__init__(main_width=1 + 2 * W, num_public_inputs=2 * W)

    def define(self, b: AirBuilder) -> None:
        real = b.main(0)
        ins = [b.main(1 + j) for j in range(W)]
        outs = [b.main(1 + W + j) for j in range(W)]
        b.assert_every_row(real * (real - 1), name="is_real is boolean")
        b.assert_transition(b.main_next(0) * (1 - real), name="real rows come first")
        for j in range(W):
            b.assert_first_row(ins[j] - b.public(j), name=f"start {j}")
            b.assert_transition(b.main_next(0) * (b.main_next(1 + j) - outs[j]), name="chain")
            # the last real row's output is public: it is the row whose successor is padding
            b.assert_transition(
                real * (1 - b.main_next(0)) * (outs[j] - b.public(W + j)), name=f"end {j}"
            )
        b.lookup([*ins, *outs], real, bus=bus_id(W), name="poseidon2")


def _chain(k: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    start = np.random.default_rng(seed).integers(0, F.P, size=(1, W), dtype=np.uint64)
    ins, outs = [start[0]], []
    for _ in range(k):
        outs.append(permute_many(ins[-1][None, :])[0])
        ins.append(outs[-1])
    return np.array(ins[:k]), np.array(outs)


def _machine() -> Machine:
    return Machine(
        [
            Table(ChainCallerAir(), range(2, 9), name="caller"),
            Table(Poseidon2ChipAir(W), range(1, 9), name="poseidon2"),
        ],
        name="poseidon2-chain",
    )


def _statement(k: int):
    ins, outs = _chain(k)
    # the machine pads the caller with zero rows (is_real = 0): the first marks the end
    caller = np.concatenate([np.ones((k, 1)), ins, outs], axis=1).astype(np.uint64)
    pub = [int(v) for v in np.concatenate([ins[0], outs[-1]])]
    return caller, chip_rows(ins), pub


def test_chain_of_permutations_proves_across_tables():
    machine = _machine()
    caller, chip, pub = _statement(5)
    proof = prove_machine(machine, [caller, chip], [pub, []], TEST)
    heights = verify_machine(machine, proof.to_bytes(), [pub, []], TEST)
    assert heights == [3, 3]  # 5 caller rows + padding → 8; 5 chip rows (zero-state padding)


def test_wrong_output_is_rejected():
    machine = _machine()
    caller, chip, pub = _statement(3)
    # the caller claims another last output (consistently in its own trace and the
    # statement); the chip holds the real permutation, so the bus cannot balance
    bad_caller = caller.copy()
    bad_caller[2, 1 + W] = (bad_caller[2, 1 + W] + 1) % F.P
    bad_pub = list(pub)
    bad_pub[W] = int(bad_caller[2, 1 + W])
    with pytest.raises(TraceCheckError):
        prove_machine(machine, [bad_caller, chip], [bad_pub, []], TEST)
    forged = prove_machine(machine, [bad_caller, chip], [bad_pub, []], TEST, check=False)
    with pytest.raises(VerificationError):
        verify_machine(machine, forged.to_bytes(), [bad_pub, []], TEST)

    # moving the chip's output instead means altering an S-box output column of the
    # last round, which breaks that S-box's constraint
    bad_chip = chip.copy()
    out_col = _output_columns()[0]
    bad_chip[2, out_col] = (bad_chip[2, out_col] + 1) % F.P
    forged = prove_machine(machine, [bad_caller, bad_chip], [bad_pub, []], TEST, check=False)
    with pytest.raises(VerificationError):
        verify_machine(machine, forged.to_bytes(), [bad_pub, []], TEST)


def test_a_caller_without_chip_rows_is_rejected():
    machine = _machine()
    caller, chip, pub = _statement(2)
    with pytest.raises(TraceCheckError):
        prove_machine(machine, [caller, chip[:1]], [pub, []], TEST)
    forged = prove_machine(machine, [caller, chip[:1]], [pub, []], TEST, check=False)
    with pytest.raises(VerificationError):
        verify_machine(machine, forged.to_bytes(), [pub, []], TEST)


def _output_columns() -> list[int]:
    """The chip's last S-box output columns (they feed the final linear layer)."""
    last = Poseidon2ChipAir(W).main_width - 2
    return [last - 2 * j for j in range(W)]

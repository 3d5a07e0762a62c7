"""The Poseidon2 permutation chip: trace = reference, degree within cap, proofs and forgeries."""

from __future__ import annotations

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.air import MAX_CONSTRAINT_DEGREE, TraceCheckError, check_trace
from proofmarket.stark.params import TEST
from proofmarket.stark.poseidon2 import Poseidon2Error, permute
from proofmarket.stark.poseidon2_air import (
    Poseidon2ChipAir,
    bus_id,
    chip_outputs,
    chip_trace,
    claims_public_inputs,
    num_columns,
)
from proofmarket.stark.poseidon2_kernel import permute_many
from proofmarket.stark.prover import prove
from proofmarket.stark.verifier import VerificationError, verify


def _inputs(k: int, width: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, F.P, size=(k, width), dtype=np.uint64)


def _assert_rejected(air, trace, pub) -> None:
    """The checker refuses the trace, and a proof forged from it does not verify."""
    with pytest.raises(TraceCheckError):
        check_trace(air, trace, pub)
    forged = prove(air, trace, pub, TEST, check=False).to_bytes()
    with pytest.raises(VerificationError):
        verify(air, forged, pub, TEST)


@pytest.mark.parametrize("width", [16, 24])
def test_chip_shape_degree_and_trace(width):
    air = Poseidon2ChipAir(width)
    assert air.main_width == num_columns(width) == {16: 299, 24: 451}[width]
    assert air.system.max_degree <= MAX_CONSTRAINT_DEGREE and air.system.max_degree == 3
    inputs = _inputs(3, width)
    trace = chip_trace(inputs, 3, [2, 0, 5])
    assert trace.shape == (8, air.main_width)
    outs = chip_outputs(trace, width)
    assert outs[0].tolist() == permute(inputs[0].tolist())
    assert (outs[:3] == permute_many(inputs)).all()
    assert (outs[3:] == permute_many(np.zeros((5, width), dtype=np.uint64))).all()
    assert trace[:, -1].tolist() == [2, 0, 5, 0, 0, 0, 0, 0]
    assert Poseidon2ChipAir(16).air_id != Poseidon2ChipAir(24).air_id
    assert Poseidon2ChipAir(16, 1).air_id != Poseidon2ChipAir(16, 2).air_id
    assert bus_id(16) != bus_id(24)


def test_single_table_proof_with_public_claims():
    width = 16
    inputs = _inputs(2, width, seed=9)
    outputs = permute_many(inputs)
    air = Poseidon2ChipAir(width, num_claims=2)
    pub = claims_public_inputs(inputs, outputs)
    trace = chip_trace(inputs, 2)
    check_trace(air, trace, pub)
    data = prove(air, trace, pub, TEST).to_bytes()
    verify(air, data, pub, TEST)

    # a claimed output that is not the permutation: the bus does not balance
    wrong = outputs.copy()
    wrong[1, 3] = (wrong[1, 3] + 1) % F.P
    bad_pub = claims_public_inputs(inputs, wrong)
    with pytest.raises(VerificationError):
        verify(air, data, bad_pub, TEST)
    _assert_rejected(air, trace, bad_pub)


def test_a_wrong_sbox_cell_is_rejected():
    width = 16
    inputs = _inputs(1, width, seed=4)
    air = Poseidon2ChipAir(width, num_claims=1)
    pub = claims_public_inputs(inputs, permute_many(inputs))
    trace = chip_trace(inputs, 2)
    for col in (width, width + 1, air.main_width - 2):  # first cube, first x^7, last x^7
        bad = trace.copy()
        bad[0, col] = (bad[0, col] + 1) % F.P
        _assert_rejected(air, bad, pub)


def test_a_claim_without_a_row_or_with_mult_zero_fails():
    width = 16
    inputs = _inputs(2, width, seed=6)
    air = Poseidon2ChipAir(width, num_claims=2)
    pub = claims_public_inputs(inputs, permute_many(inputs))
    _assert_rejected(air, chip_trace(inputs, 2, [1, 0]), pub)  # second claim not provided


def test_bad_chip_arguments():
    with pytest.raises(Poseidon2Error, match="width"):
        Poseidon2ChipAir(8)
    with pytest.raises(Poseidon2Error, match="num_claims"):
        Poseidon2ChipAir(16, -1)
    with pytest.raises(Poseidon2Error, match="fit"):
        chip_trace(_inputs(5, 16), 2)
    with pytest.raises(Poseidon2Error, match="multiplicities"):
        chip_trace(_inputs(2, 16), 2, [1])
    with pytest.raises(Poseidon2Error, match="shape"):
        claims_public_inputs(_inputs(2, 16), _inputs(1, 16))

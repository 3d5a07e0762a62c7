"""Statement bus terms: variable-length tuples the verifier provides on a LogUp bus."""

from __future__ import annotations

import numpy as np
import pytest

from proofmarket.stark import Machine, Table, prove_machine, verify_machine
from proofmarket.stark.air import Air, AirBuilder, TraceCheckError
from proofmarket.stark.machine import check_machine
from proofmarket.stark.params import TEST
from proofmarket.stark.statement_bus import StatementTerms, StatementTermsError
from proofmarket.stark.verifier import VerificationError

BUS = 0x7E57


class EmitAir(Air):
    """Rows (index, byte, active): active rows look up (index, byte) on the bus."""

    name = "test-emit"

    def __init__(self) -> None:
        super().__init__(main_width=3)

    def define(self, b: AirBuilder) -> None:
        active = b.main(2)
        b.assert_every_row(active * (active - 1))
        b.lookup([b.main(0), b.main(1)], active, bus=BUS)


def _machine() -> Machine:
    return Machine([Table(EmitAir(), range(2, 8))], name="statement-bus-test")


def _trace(data: bytes, rows: int = 16) -> np.ndarray:
    t = np.zeros((rows, 3), dtype=np.uint64)
    t[: len(data), 0] = np.arange(len(data))
    t[: len(data), 1] = np.frombuffer(data, dtype=np.uint8)
    t[: len(data), 2] = 1
    return t


def _terms(data: bytes) -> list[StatementTerms]:
    idx = np.arange(len(data), dtype=np.uint64)
    vals = np.stack([idx, np.frombuffer(data, dtype=np.uint8).astype(np.uint64)], axis=1)
    return [StatementTerms(BUS, vals.reshape(-1, 2))]


def test_the_statement_balances_the_tables_lookups() -> None:
    data = b"journal!"
    proof = prove_machine(_machine(), [_trace(data)], [[]], TEST, statement_terms=_terms(data))
    raw = proof.to_bytes()
    assert verify_machine(_machine(), raw, [[]], TEST, statement_terms=_terms(data)) == [4]
    for wrong in (b"journal?", b"journal", b"journal!!"):
        with pytest.raises(VerificationError):
            verify_machine(_machine(), raw, [[]], TEST, statement_terms=_terms(wrong))
    with pytest.raises(VerificationError):
        verify_machine(_machine(), raw, [[]], TEST)


def test_the_prover_checks_the_balance() -> None:
    with pytest.raises(TraceCheckError):
        prove_machine(_machine(), [_trace(b"abc")], [[]], TEST, statement_terms=_terms(b"abd"))
    with pytest.raises(TraceCheckError):
        check_machine(_machine(), [_trace(b"abc")], [[]], statement_terms=_terms(b"ab"))
    check_machine(_machine(), [_trace(b"abc")], [[]], statement_terms=_terms(b"abc"))


def test_malformed_terms_are_refused() -> None:
    with pytest.raises(StatementTermsError):
        StatementTerms(BUS, np.zeros(3, dtype=np.uint64))
    with pytest.raises(StatementTermsError):
        StatementTerms(BUS, np.full((1, 2), 2**31, dtype=np.uint64))

"""Security parameter profiles and the documented formulas."""

from __future__ import annotations

import math

import pytest

from proofmarket.stark.params import (
    CONSERVATIVE,
    DEFAULT,
    EXT_FIELD_BITS,
    PROFILES,
    TEST,
    ParamsError,
    StarkParams,
    get_profile,
)


def test_default_reaches_100_bits_conjectured() -> None:
    assert DEFAULT.conjectured_security_bits() >= 100
    # formula: min(q·log_blowup + pow, log2|F^4| − log_trace_len)
    fri = DEFAULT.num_queries * DEFAULT.log_blowup + DEFAULT.pow_bits
    cap = EXT_FIELD_BITS - DEFAULT.max_log_trace_len
    assert DEFAULT.conjectured_security_bits() == math.floor(min(fri, cap))


def test_reference_table_values() -> None:
    # zkvm.md §2.5: blowup 4, 16 PoW bits → 42 conjectured / ~91 Johnson / 124 provable queries
    p = StarkParams(name="x", num_queries=42, max_log_trace_len=16)
    assert p.conjectured_security_bits() == 100
    johnson = StarkParams(name="x", num_queries=91, max_log_trace_len=16)
    assert johnson.johnson_security_bits() >= 100
    provable = StarkParams(name="x", num_queries=124, max_log_trace_len=16)
    assert provable.provable_security_bits() >= 99
    assert CONSERVATIVE.johnson_security_bits() >= 100


def test_test_profile_is_labelled_insecure() -> None:
    assert "insecure" in TEST.name
    assert TEST.conjectured_security_bits() < 80
    assert "WARNING" in TEST.describe()
    assert "WARNING" not in DEFAULT.describe()
    assert "conjectured" in DEFAULT.describe()


def test_profiles_lookup_and_binding() -> None:
    assert get_profile("default") is DEFAULT
    assert set(PROFILES) == {"default", "conservative", "test-insecure"}
    with pytest.raises(ParamsError, match="unknown STARK parameter profile"):
        get_profile("fast")
    assert DEFAULT.to_bytes() != CONSERVATIVE.to_bytes()
    assert DEFAULT.to_bytes() == DEFAULT.with_(name="renamed").to_bytes()


@pytest.mark.parametrize(
    "changes",
    [
        {"log_blowup": 0},
        {"num_queries": 0},
        {"pow_bits": 40},
        {"extension_degree": 5},
        {"fri_log_arity": 0},
        {"max_log_trace_len": 26},
    ],
)
def test_invalid_parameters_rejected(changes: dict[str, int]) -> None:
    with pytest.raises(ParamsError):
        DEFAULT.with_(**changes)

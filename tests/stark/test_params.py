"""Security parameter profiles and the documented formulas."""

from __future__ import annotations

import pytest

from proofmarket.stark.params import (
    CONSERVATIVE,
    DEFAULT,
    PROFILES,
    TEST,
    ParamsError,
    get_profile,
)


def test_default_reaches_100_bits_conjectured() -> None:
    # every term counted at the reference RV32IM shape (tests/stark/test_security.py)
    assert DEFAULT.conjectured_security_bits() >= 100
    assert DEFAULT.conjectured_security_bits(20) == DEFAULT.conjectured_security_bits()
    assert DEFAULT.conjectured_security_bits(22) >= 105  # every rated size


def test_conservative_is_stronger_than_default_in_the_proven_regimes() -> None:
    assert CONSERVATIVE.johnson_security_bits() > DEFAULT.johnson_security_bits()
    assert CONSERVATIVE.provable_security_bits() > DEFAULT.provable_security_bits()
    assert CONSERVATIVE.johnson_security_bits() < 100  # list decoding over BabyBear^4


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
        {"lookup_pow_bits": 33},
        {"batch_pow_bits": -1},
        {"fold_pow_bits": 33},
        {"ood_pow_bits": -1},
        {"hash": "sha256"},
        {"extension_degree": 5},
        {"fri_log_arity": 0},
        {"max_log_trace_len": 26},
    ],
)
def test_invalid_parameters_rejected(changes: dict[str, int]) -> None:
    with pytest.raises(ParamsError):
        DEFAULT.with_(**changes)

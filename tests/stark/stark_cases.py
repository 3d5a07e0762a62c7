"""The example AIRs with small valid traces, shared by the prove/verify and soundness tests."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from proofmarket.stark.examples import (
    BenchAir,
    FibonacciAir,
    HashChainAir,
    RangeCheckAir,
    bench_trace,
    fibonacci_trace,
    hash_chain_trace,
    range_check_trace,
)
from proofmarket.stark.proof import ProofFormatError
from proofmarket.stark.verifier import VerificationError


def example_cases(range_values: list[int], range_lookups: list[int]) -> list[tuple[Any, ...]]:
    """``(name, air, trace, public_inputs)`` for each example; the range check is sized by
    the caller (its lookups decide the AIR's width)."""
    return [
        ("fibonacci", FibonacciAir(), *fibonacci_trace(3, 5, 6)),
        ("hash-chain", HashChainAir(4), *hash_chain_trace([9, 8, 7, 6], 6)),
        (
            "range-check",
            RangeCheckAir(len(range_lookups)),
            *range_check_trace(range_values, range_lookups, 8),
        ),
        ("bench", BenchAir(8), *bench_trace(8, 8)),
    ]


def parametrize_examples(cases: list[tuple[Any, ...]]) -> pytest.MarkDecorator:
    """Parametrize ``name, air, trace, pub`` over ``cases``, with the names as test ids."""
    return pytest.mark.parametrize(
        "name,air,trace,pub", cases, ids=lambda v: v if isinstance(v, str) else ""
    )


def flips_accepted(
    verify_bytes: Callable[[bytes], object], data: bytes, count: int, seed: int
) -> list[int]:
    """Positions among ``count`` seeded single-byte corruptions of ``data`` that still
    decode and verify (an honest format and verifier give ``[]``)."""
    rng = np.random.default_rng(seed)
    accepted = []
    for pos in rng.choice(len(data), size=count, replace=False):
        corrupted = bytearray(data)
        corrupted[pos] ^= int(rng.integers(1, 256))
        try:
            verify_bytes(bytes(corrupted))
        except (ProofFormatError, VerificationError):
            continue
        accepted.append(int(pos))
    return accepted

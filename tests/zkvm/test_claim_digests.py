"""Digest formulas against RISC Zero's published test vectors."""

from proofmarket.zkvm.claim import (
    SYSTEM_STATE_ZERO,
    ZERO_DIGEST,
    ExitCode,
    ReceiptClaim,
    tagged_list,
    tagged_struct,
)


def test_system_state_zero_digest_matches_risc0_solidity_constant() -> None:
    assert SYSTEM_STATE_ZERO.digest().hex() == (
        "a3acc27117418996340b84e5a90f3ef4c49d22c79e44aad822ec9c313e1eb8e2"
    )


def test_empty_tagged_list_is_zero() -> None:
    assert tagged_list("risc0.Assumptions", []) == ZERO_DIGEST


def test_tagged_struct_depends_on_every_part() -> None:
    base = tagged_struct("t", [ZERO_DIGEST], [1])
    assert base != tagged_struct("u", [ZERO_DIGEST], [1])
    assert base != tagged_struct("t", [b"\x01" * 32], [1])
    assert base != tagged_struct("t", [ZERO_DIGEST], [2])
    assert base != tagged_struct("t", [ZERO_DIGEST, ZERO_DIGEST], [1])


def test_join_requires_matching_states() -> None:
    a = ReceiptClaim(b"\x01" * 32, b"\x02" * 32, ExitCode.system_split())
    b = ReceiptClaim(b"\x02" * 32, b"\x03" * 32, ExitCode.halted(0), output=b"\x04" * 32)
    joined = a.join(b)
    assert joined.pre == a.pre and joined.post == b.post and joined.output == b.output
    try:
        b.join(a)
    except ValueError as exc:
        assert "differs" in str(exc)
    else:
        raise AssertionError("join of non-consecutive claims must fail")

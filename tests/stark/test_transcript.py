"""Transcript determinism, divergence, sampling ranges and grinding."""

from __future__ import annotations

import numpy as np
import pytest

from proofmarket.stark.field import P
from proofmarket.stark.keccak import keccak256, leading_zero_bits_ok
from proofmarket.stark.transcript import Transcript, TranscriptError


def _script(t: Transcript, root: bytes = b"\x11" * 32) -> list[object]:
    t.observe_bytes(b"header")
    t.observe_digest(root)
    t.observe_field(np.array([1, 2, P - 1], dtype=np.uint64))
    a = t.sample_base()
    e = t.sample_ext()
    t.observe_ext(e)
    idx = t.sample_indices(10, 12)
    return [a, e.tolist(), idx, t.state_digest()]


def test_deterministic() -> None:
    assert _script(Transcript(b"label")) == _script(Transcript(b"label"))


def test_diverges_on_any_difference() -> None:
    base = _script(Transcript(b"label"))
    assert _script(Transcript(b"other")) != base
    assert _script(Transcript(b"label"), root=b"\x12" + b"\x11" * 31) != base
    # observation boundaries matter (length prefixes)
    t1, t2 = Transcript(b"x"), Transcript(b"x")
    t1.observe_bytes(b"ab")
    t1.observe_bytes(b"c")
    t2.observe_bytes(b"a")
    t2.observe_bytes(b"bc")
    assert t1.sample_base() != t2.sample_base()
    # the kind of message is bound too
    t3, t4 = Transcript(b"x"), Transcript(b"x")
    t3.observe_field(np.array([5], dtype=np.uint64))
    t4.observe_bytes((5).to_bytes(4, "little"))
    assert t3.sample_base() != t4.sample_base()


def test_samples_are_in_range_and_vary() -> None:
    t = Transcript(b"range")
    vals = [t.sample_base() for _ in range(500)]
    assert all(0 <= v < P for v in vals)
    assert len(set(vals)) == 500
    idx = t.sample_indices(200, 5)
    assert all(0 <= i < 32 for i in idx)
    assert len(set(idx)) > 16
    e = t.sample_ext()
    assert e.shape == (4,) and e.dtype == np.uint64 and (e < P).all()
    assert t.sample_indices(3, 0) == [0, 0, 0]


def test_successive_samples_differ_and_observation_changes_stream() -> None:
    t1, t2 = Transcript(b"s"), Transcript(b"s")
    a1 = t1.sample_base()
    a2 = t2.sample_base()
    assert a1 == a2
    t1.observe_int(1)
    t2.observe_int(2)
    assert t1.sample_base() != t2.sample_base()


def test_grinding_round_trip() -> None:
    prover = Transcript(b"pow")
    prover.observe_bytes(b"commitments")
    verifier = Transcript(b"pow")
    verifier.observe_bytes(b"commitments")
    nonce = prover.grind(8)
    assert verifier.check_pow(nonce, 8)
    assert prover.sample_base() == verifier.sample_base()
    # the nonce satisfies the documented predicate
    t = Transcript(b"pow")
    t.observe_bytes(b"commitments")
    digest = keccak256(b"\x04" + t.state_digest() + nonce.to_bytes(8, "little"))
    assert leading_zero_bits_ok(digest, 8)


def test_bad_pow_nonce_rejected() -> None:
    t = Transcript(b"pow")
    t.observe_bytes(b"c")
    nonce = Transcript(b"pow").grind(10)  # ground against a different state
    v = Transcript(b"pow")
    v.observe_bytes(b"c")
    ok = v.check_pow(nonce, 10)
    # a nonce for another state passes only by a 2^-10 chance; find a failing one
    if ok:
        v = Transcript(b"pow")
        v.observe_bytes(b"c")
        ok = v.check_pow(nonce + 1, 10) and v.check_pow(nonce + 2, 10)
    assert not ok
    assert not Transcript(b"pow").check_pow(-1, 4)


def test_bad_inputs() -> None:
    t = Transcript(b"bad")
    with pytest.raises(TranscriptError, match="32 bytes"):
        t.observe_digest(b"short")
    with pytest.raises(TranscriptError, match="canonical"):
        t.observe_field(np.array([P], dtype=np.uint64))
    with pytest.raises(TranscriptError, match="trailing axis"):
        t.observe_ext(np.zeros(3, dtype=np.uint64))
    with pytest.raises(TranscriptError):
        t.sample_indices(1, 40)
    with pytest.raises(TranscriptError):
        t.grind(99)
    with pytest.raises(TranscriptError):
        Transcript("text")  # type: ignore[arg-type]

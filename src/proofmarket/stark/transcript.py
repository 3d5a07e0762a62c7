"""Fiat–Shamir transcript: a hash chain with rejection sampling and grinding.

State machine (``H`` is Ethereum keccak256 by default, or the Poseidon2 byte hash of
:mod:`proofmarket.stark.poseidon2_hash` with ``hash="poseidon2"``; written ``keccak``
below; ``‖`` is concatenation):

* init:      ``state = keccak(b"proofmarket.stark.transcript.v1" ‖ le32(len(label)) ‖ label)``
* observe:   ``state = keccak(0x01 ‖ state ‖ le32(tag_len) ‖ tag ‖ le64(len(data)) ‖ data)``
  where ``tag`` names the kind of message (``bytes``, ``digest``, ``field``, ``ext``,
  ``pow``). Every observation is length-prefixed and chained, so nothing observed can be
  erased or reinterpreted by a later one (cf. the duplex-overwrite pitfall in the
  reference's §2.2).
* squeeze:   ``block = keccak(0x02 ‖ state ‖ le64(counter))``; counter counts the blocks
  squeezed since the last observation. Before the next observation the state is ratcheted
  as ``state = keccak(0x03 ‖ state ‖ le64(counter))`` so that squeezing is also bound.
  Each 32-byte block yields eight little-endian u32 words.
* sample_base: take a word, keep its low 31 bits and **reject** values ≥ P (acceptance
  P/2^31 ≈ 0.94), so challenges are exactly uniform in F_p.
* sample_ext: four independent ``sample_base`` draws (c0..c3).
* sample_indices(count, log_n): each index is a word masked to ``log_n`` bits — uniform
  because the domain size is a power of two; indices are drawn independently (repeats are
  possible and kept, matching the soundness analysis).
* grind(bits): find the smallest nonce with
  ``keccak(0x04 ‖ state ‖ le64(nonce))`` starting with ``bits`` zero bits (MSB first),
  then observe the nonce (tag ``pow``). ``check_pow`` verifies and observes the same way,
  so prover and verifier transcripts stay in step. Grinding always uses keccak (only
  the work function; the state it binds comes from ``H``), so a Poseidon2 digest's
  non-uniform top bits never count as free zero bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .field import EXT_DEGREE, FieldArray, FieldError, P, check_canonical
from .keccak import grind_search, keccak256, leading_zero_bits_ok
from .poseidon2_hash import hash_bytes as poseidon2_bytes

_INIT_TAG = b"proofmarket.stark.transcript.v1"
_MAX_POW_BITS = 40
_HASHES: dict[str, Callable[[bytes], bytes]] = {"keccak": keccak256, "poseidon2": poseidon2_bytes}


class TranscriptError(ValueError):
    """Bad transcript input (non-canonical field data, wrong digest length, bad arguments)."""


class Transcript:
    """Prover/verifier Fiat–Shamir transcript; both sides must make identical calls."""

    def __init__(self, domain_label: bytes, hash: str = "keccak"):
        if not isinstance(domain_label, bytes | bytearray):
            raise TranscriptError("domain_label must be bytes")
        if hash not in _HASHES:
            raise TranscriptError(
                f"unknown transcript hash {hash!r}; choose one of {sorted(_HASHES)}"
            )
        self.hash = hash
        self._h = _HASHES[hash]
        self._state = self._h(_INIT_TAG + len(domain_label).to_bytes(4, "little") + domain_label)
        self._words: list[int] = []
        self._counter = 0

    # -- absorbing ----------------------------------------------------------------------

    def _absorb(self, tag: bytes, data: bytes) -> None:
        if self._counter:
            self._state = self._h(b"\x03" + self._state + self._counter.to_bytes(8, "little"))
            self._counter = 0
        self._words.clear()
        self._state = self._h(
            b"\x01"
            + self._state
            + len(tag).to_bytes(4, "little")
            + tag
            + len(data).to_bytes(8, "little")
            + data
        )

    def observe_bytes(self, data: bytes) -> None:
        """Absorb an arbitrary byte string (length-prefixed)."""
        self._absorb(b"bytes", bytes(data))

    def observe_digest(self, digest: bytes) -> None:
        """Absorb a 32-byte commitment (e.g. a Merkle root)."""
        if len(digest) != 32:
            raise TranscriptError(f"digests are 32 bytes, got {len(digest)}")
        self._absorb(b"digest", bytes(digest))

    def observe_field(self, arr: Any) -> None:
        """Absorb base-field elements (any shape, C order) as little-endian u32 words."""
        try:
            a = check_canonical(np.asarray(arr), "observe_field")
        except FieldError as exc:
            raise TranscriptError(str(exc)) from exc
        self._absorb(b"field", np.ascontiguousarray(a).astype("<u4").tobytes())

    def observe_ext(self, arr: Any) -> None:
        """Absorb extension elements (shape (..., 4)) as 16 bytes each."""
        a = np.asarray(arr)
        if a.ndim == 0 or a.shape[-1] != EXT_DEGREE:
            raise TranscriptError(f"extension arrays need a trailing axis of 4, got {a.shape}")
        try:
            a = check_canonical(a, "observe_ext")
        except FieldError as exc:
            raise TranscriptError(str(exc)) from exc
        self._absorb(b"ext", np.ascontiguousarray(a).astype("<u4").tobytes())

    def observe_int(self, value: int) -> None:
        """Absorb a non-negative integer < 2^64 (sizes, counts, parameters)."""
        if not 0 <= value < 1 << 64:
            raise TranscriptError(f"observe_int takes 0 ≤ value < 2^64, got {value}")
        self._absorb(b"int", value.to_bytes(8, "little"))

    # -- squeezing ----------------------------------------------------------------------

    def _next_word(self) -> int:
        if not self._words:
            block = self._h(b"\x02" + self._state + self._counter.to_bytes(8, "little"))
            self._counter += 1
            self._words = [int.from_bytes(block[i : i + 4], "little") for i in range(28, -1, -4)]
        return self._words.pop()

    def sample_base(self) -> int:
        """A uniform base-field element (rejection sampling on 31-bit words)."""
        while True:
            v = self._next_word() & 0x7FFFFFFF
            if v < P:
                return v

    def sample_ext(self) -> FieldArray:
        """A uniform extension element, shape (4,)."""
        return np.array([self.sample_base() for _ in range(EXT_DEGREE)], dtype=np.uint64)

    def sample_indices(self, count: int, log_n: int) -> list[int]:
        """``count`` independent uniform indices in ``[0, 2^log_n)`` (repeats possible)."""
        if not 0 <= log_n <= 32:
            raise TranscriptError(f"log_n must be in [0, 32], got {log_n}")
        if count < 0:
            raise TranscriptError(f"count must be ≥ 0, got {count}")
        mask = (1 << log_n) - 1
        return [self._next_word() & mask for _ in range(count)]

    # -- proof of work ------------------------------------------------------------------

    def _pow_prefix(self) -> bytes:
        return b"\x04" + self._state

    def grind(self, bits: int) -> int:
        """Find a proof-of-work nonce for the current state, observe it and return it."""
        if not 0 <= bits <= _MAX_POW_BITS:
            raise TranscriptError(f"pow bits must be in [0, {_MAX_POW_BITS}], got {bits}")
        self._ratchet()
        nonce = grind_search(self._pow_prefix(), bits)
        self._absorb(b"pow", nonce.to_bytes(8, "little"))
        return nonce

    def check_pow(self, nonce: int, bits: int) -> bool:
        """Verify a grinding nonce against the current state and observe it (if valid)."""
        if not 0 <= bits <= _MAX_POW_BITS:
            raise TranscriptError(f"pow bits must be in [0, {_MAX_POW_BITS}], got {bits}")
        if not 0 <= nonce < 1 << 64:
            return False
        self._ratchet()
        digest = keccak256(self._pow_prefix() + nonce.to_bytes(8, "little"))
        if not leading_zero_bits_ok(digest, bits):
            return False
        self._absorb(b"pow", nonce.to_bytes(8, "little"))
        return True

    def grind_site(self, bits: int) -> int:
        """Grind right before the next challenge; nothing at all (nonce 0) when ``bits`` is 0."""
        return self.grind(bits) if bits else 0

    def check_site(self, nonce: int, bits: int) -> bool:
        """The verifier's side of :meth:`grind_site` (a zero-bit site must carry nonce 0)."""
        return self.check_pow(nonce, bits) if bits else nonce == 0

    def _ratchet(self) -> None:
        if self._counter:
            self._state = self._h(b"\x03" + self._state + self._counter.to_bytes(8, "little"))
            self._counter = 0
            self._words.clear()

    # -- utilities ----------------------------------------------------------------------

    def state_digest(self) -> bytes:
        """The current 32-byte chain state (for debugging and tests; not a challenge)."""
        return self._state

    def fork(self, label: bytes) -> Transcript:
        """An independent copy that first observes ``label`` (the original is unchanged)."""
        t = Transcript.__new__(Transcript)
        t.hash = self.hash
        t._h = self._h
        t._state = self._state
        t._words = list(self._words)
        t._counter = self._counter
        t.observe_bytes(label)
        return t

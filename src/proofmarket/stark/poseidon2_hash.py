"""Poseidon2 as the engine's hash: Merkle leaves and nodes, and byte strings (transcript).

Everything uses the width-24 permutation (rate 16, capacity 8, as RISC Zero does). A
digest is 8 field elements; its 32-byte form is the elements as little-endian u32 words,
so it drops into the places that hold keccak digests (Merkle levels are kept as four
little-endian u64 lanes per digest, which is the same 32 bytes).

* **sponge(domain, length, elements)**: state = 0 except ``state[16] = domain`` and
  ``state[17] = length``; absorb 16 elements at a time by overwriting ``state[0..16]``
  (the last block zero-padded) and permuting after each block (one permutation for an
  empty input); the digest is ``state[0..8]``. The length in the capacity makes the
  padding unambiguous, and the domain keeps the three uses apart.
* **leaf** of a row of ``w`` field elements: ``sponge(1, w, row)``.
* **node**: ``permute(left ‖ right ‖ [2, 0, …, 0])[0..8]`` (a truncated permutation).
* **bytes** (transcript): ``sponge(3, len(data), elements)`` where each element holds
  three bytes of ``data`` (little-endian; the last one zero-padded).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from .field import P
from .poseidon2_kernel import constants, permute_inplace

WIDTH = 24
RATE = 16
DIGEST_ELEMS = 8
DOMAIN_LEAF = 1
DOMAIN_NODE = 2
DOMAIN_BYTES = 3
_MAX_BYTES = 1 << 30


class Poseidon2HashError(ValueError):
    """Input the Poseidon2 hash cannot take (non-canonical rows, wrong digest length)."""


@numba.njit(cache=True, inline="always")
def _sponge(
    row: Any, domain: Any, length: Any, ext: Any, internal: Any, diag: Any, out: Any
) -> None:  # pragma: no cover - compiled
    s = np.zeros(24, dtype=np.uint64)
    s[16] = domain
    s[17] = length
    m = row.shape[0]
    if m == 0:
        permute_inplace(s, ext, internal, diag)
    for start in range(0, m, 16):
        stop = min(start + 16, m)
        for i in range(16):
            s[i] = row[start + i] if start + i < stop else np.uint64(0)
        permute_inplace(s, ext, internal, diag)
    for i in range(8):
        out[i] = s[i]


@numba.njit(parallel=True, cache=True)
def _leaf_rows(
    rows: Any, ext: Any, internal: Any, diag: Any, out: Any
) -> None:  # pragma: no cover - compiled
    n, w = rows.shape
    for r in numba.prange(n):
        _sponge(rows[r], np.uint64(1), np.uint64(w), ext, internal, diag, out[r])


@numba.njit(cache=True)
def _sponge_one(
    row: Any, domain: Any, length: Any, ext: Any, internal: Any, diag: Any, out: Any
) -> None:  # pragma: no cover - compiled
    _sponge(row, domain, length, ext, internal, diag, out)


@numba.njit(cache=True, inline="always")
def _compress(
    left: Any, right: Any, ext: Any, internal: Any, diag: Any, out: Any
) -> None:  # pragma: no cover - compiled
    s = np.zeros(24, dtype=np.uint64)
    for i in range(8):
        s[i] = left[i]
        s[8 + i] = right[i]
    s[16] = np.uint64(2)
    permute_inplace(s, ext, internal, diag)
    for i in range(8):
        out[i] = s[i]


@numba.njit(parallel=True, cache=True)
def _level(
    children: Any, ext: Any, internal: Any, diag: Any, out: Any
) -> None:  # pragma: no cover - compiled
    for k in numba.prange(out.shape[0]):
        _compress(children[2 * k], children[2 * k + 1], ext, internal, diag, out[k])


@numba.njit(cache=True)
def _compress_one(
    left: Any, right: Any, ext: Any, internal: Any, diag: Any, out: Any
) -> None:  # pragma: no cover - compiled
    _compress(left, right, ext, internal, diag, out)


def _to_bytes(elems: npt.NDArray[np.uint64]) -> bytes:
    return elems.astype("<u4").tobytes()


def digest_elements(digest: bytes) -> npt.NDArray[np.uint64]:
    """The 8 field elements of a 32-byte Poseidon2 digest (Poseidon2HashError if malformed)."""
    if len(digest) != 4 * DIGEST_ELEMS:
        raise Poseidon2HashError(f"Poseidon2 digests are 32 bytes, got {len(digest)}")
    elems = np.frombuffer(digest, dtype="<u4").astype(np.uint64)
    if int(elems.max()) >= P:
        raise Poseidon2HashError("Poseidon2 digest holds a non-canonical element")
    return elems


def leaf_digests(rows: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Leaf digests ``(N, 8)`` of a canonical ``(N, w)`` uint64 matrix."""
    mat = np.ascontiguousarray(rows, dtype=np.uint64)
    out = np.empty((mat.shape[0], DIGEST_ELEMS), dtype=np.uint64)
    if mat.shape[0]:
        _leaf_rows(mat, *constants(WIDTH), out)
    return out


def _lanes(digests: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """(k, 8) elements → (k, 4) little-endian u64 lanes holding the same 32 bytes."""
    return np.ascontiguousarray(digests.astype("<u4")).view("<u8").astype(np.uint64)


def _elems(lanes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    return np.ascontiguousarray(lanes, dtype="<u8").view("<u4").astype(np.uint64)


def leaf_lanes(rows: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Leaf digests of a matrix as ``(N, 4)`` u64 lanes (the Merkle tree's storage)."""
    return _lanes(leaf_digests(rows))


def level_lanes(level: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Parent digests of a level of ``(k, 4)`` u64 lanes (k even)."""
    children = _elems(level).reshape(-1, DIGEST_ELEMS)
    out = np.empty((children.shape[0] // 2, DIGEST_ELEMS), dtype=np.uint64)
    _level(children, *constants(WIDTH), out)
    return _lanes(out)


def hash_leaf(row: Any) -> bytes:
    """Digest of one row of canonical field elements (verifier path)."""
    words = np.ascontiguousarray(np.asarray(row, dtype=np.uint64).reshape(-1))
    if words.size and int(words.max()) >= P:
        raise Poseidon2HashError("Poseidon2 leaves must hold canonical field elements")
    out = np.empty(DIGEST_ELEMS, dtype=np.uint64)
    _sponge_one(words, np.uint64(DOMAIN_LEAF), np.uint64(words.size), *constants(WIDTH), out)
    return _to_bytes(out)


def hash_node(left: bytes, right: bytes) -> bytes:
    """Digest of an internal Merkle node."""
    out = np.empty(DIGEST_ELEMS, dtype=np.uint64)
    _compress_one(digest_elements(left), digest_elements(right), *constants(WIDTH), out)
    return _to_bytes(out)


def bytes_to_elements(data: bytes) -> npt.NDArray[np.uint64]:
    """Three bytes per element, little-endian, the last group zero-padded."""
    pad = (-len(data)) % 3
    raw = np.frombuffer(bytes(data) + b"\x00" * pad, dtype=np.uint8).reshape(-1, 3)
    r = raw.astype(np.uint64)
    return np.ascontiguousarray(r[:, 0] | (r[:, 1] << np.uint64(8)) | (r[:, 2] << np.uint64(16)))


def hash_bytes(data: bytes) -> bytes:
    """32-byte Poseidon2 digest of a byte string (the transcript's hash)."""
    if len(data) >= _MAX_BYTES:
        raise Poseidon2HashError(f"Poseidon2 byte input is limited to 2^30 bytes, got {len(data)}")
    out = np.empty(DIGEST_ELEMS, dtype=np.uint64)
    elems = bytes_to_elements(data)
    _sponge_one(elems, np.uint64(DOMAIN_BYTES), np.uint64(len(data)), *constants(WIDTH), out)
    return _to_bytes(out)

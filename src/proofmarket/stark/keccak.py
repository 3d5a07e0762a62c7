"""Ethereum Keccak-256 (original Keccak padding, *not* NIST SHA3-256), single and batched.

* :func:`keccak256` hashes one byte string with pycryptodome's C implementation; the
  transcript and the verifier use it for the few hashes they compute.
* :func:`keccak256_rows` hashes many equal-length messages at once with a numba-compiled
  Keccak-f[1600] permutation running in parallel over the rows; Merkle trees use it to hash
  2^18 leaves without a Python-level loop. It is tested bit-for-bit against pycryptodome.

keccak256(b"") = c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from Crypto.Hash import keccak as _ckeccak

RATE_BYTES = 136
"""Sponge rate of Keccak-256 (1088 bits)."""
DIGEST_BYTES = 32

_RC = np.array(
    [
        0x0000000000000001,
        0x0000000000008082,
        0x800000000000808A,
        0x8000000080008000,
        0x000000000000808B,
        0x0000000080000001,
        0x8000000080008081,
        0x8000000000008009,
        0x000000000000008A,
        0x0000000000000088,
        0x0000000080008009,
        0x000000008000000A,
        0x000000008000808B,
        0x800000000000008B,
        0x8000000000008089,
        0x8000000000008003,
        0x8000000000008002,
        0x8000000000000080,
        0x000000000000800A,
        0x800000008000000A,
        0x8000000080008081,
        0x8000000000008080,
        0x0000000080000001,
        0x8000000080008008,
    ],
    dtype=np.uint64,
)

# rho rotation offsets indexed by lane x + 5y
_ROT = np.array(
    [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14],
    dtype=np.uint64,
)
# pi: lane x + 5y moves to lane y + 5·((2x + 3y) mod 5)
_PI = np.array(
    [(y + 5 * ((2 * x + 3 * y) % 5)) for y in range(5) for x in range(5)], dtype=np.int64
)

_U64 = np.uint64(64)
_U1 = np.uint64(1)
_U8 = np.uint64(8)
_UFF = np.uint64(0xFF)
_U32 = np.uint64(32)
_U56 = np.uint64(56)
_M32 = np.uint64(0xFFFFFFFF)


def keccak256(data: bytes) -> bytes:
    """Keccak-256 digest (Ethereum flavour) of one byte string."""
    h = _ckeccak.new(digest_bits=256)
    h.update(data)
    return h.digest()


@numba.njit(cache=True, inline="always")
def _rotl(v: np.uint64, n: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    if n == 0:
        return v
    return (v << n) | (v >> (_U64 - n))


@numba.njit(cache=True)
def _keccak_f(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:  # pragma: no cover
    """Keccak-f[1600] in place on 25 lanes; b (25) and c (5) are scratch."""
    for rnd in range(24):
        for x in range(5):
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]
        for x in range(5):
            d = c[(x + 4) % 5] ^ _rotl(c[(x + 1) % 5], _U1)
            for y in range(0, 25, 5):
                a[x + y] ^= d
        for i in range(25):
            b[_PI[i]] = _rotl(a[i], _ROT[i])
        for y in range(0, 25, 5):
            b0 = b[y]
            b1 = b[y + 1]
            b2 = b[y + 2]
            b3 = b[y + 3]
            b4 = b[y + 4]
            a[y] = b0 ^ (~b1 & b2)
            a[y + 1] = b1 ^ (~b2 & b3)
            a[y + 2] = b2 ^ (~b3 & b4)
            a[y + 3] = b3 ^ (~b4 & b0)
            a[y + 4] = b4 ^ (~b0 & b1)
        a[0] ^= _RC[rnd]


@numba.njit(cache=True)
def _absorb_row(msg: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    """Absorb one message (uint8 1-D) with Keccak padding 0x01 … 0x80 into zeroed lanes a."""
    length = msg.size
    nblocks = length // RATE_BYTES + 1
    for blk in range(nblocks):
        off = blk * RATE_BYTES
        last = blk == nblocks - 1
        full = off + RATE_BYTES <= length
        if full:
            for w in range(RATE_BYTES // 8):
                p = off + 8 * w
                lane = np.uint64(0)
                for t in range(8):
                    lane |= np.uint64(msg[p + t]) << np.uint64(8 * t)
                a[w] ^= lane
        else:
            for t in range(RATE_BYTES):
                p = off + t
                byte = np.uint64(0)
                if p < length:
                    byte = np.uint64(msg[p])
                elif p == length:
                    byte = np.uint64(0x01)
                if last and t == RATE_BYTES - 1:
                    byte ^= np.uint64(0x80)
                a[t // 8] ^= byte << np.uint64(8 * (t % 8))
        _keccak_f(a, b, c)


@numba.njit(parallel=True, cache=True)
def _keccak_rows_kernel(data: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    n = data.shape[0]
    for r in numba.prange(n):
        a = np.zeros(25, dtype=np.uint64)
        b = np.empty(25, dtype=np.uint64)
        c = np.empty(5, dtype=np.uint64)
        _absorb_row(data[r], a, b, c)
        for w in range(4):
            lane = a[w]
            for t in range(8):
                out[r, 8 * w + t] = np.uint8((lane >> np.uint64(8 * t)) & _UFF)


def keccak256_rows(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Hash every row of a ``(N, L)`` uint8 matrix; returns ``(N, 32)`` uint8 digests."""
    arr = np.ascontiguousarray(data, dtype=np.uint8)
    if arr.ndim != 2:
        raise ValueError(f"keccak256_rows expects a 2-D uint8 array, got shape {arr.shape}")
    out = np.empty((arr.shape[0], DIGEST_BYTES), dtype=np.uint8)
    if arr.shape[0]:
        _keccak_rows_kernel(arr, out)
    return out


@numba.njit(cache=True, inline="always")
def _u32_pair(row: Any, j: int, nwords: int) -> Any:  # pragma: no cover - compiled
    """Little-endian u64 made of u32 words 2j and 2j+1 of ``row`` (zero past the end)."""
    lo = row[2 * j] & _M32 if 2 * j < nwords else np.uint64(0)
    hi = row[2 * j + 1] & _M32 if 2 * j + 1 < nwords else np.uint64(0)
    return lo | (hi << _U32)


@numba.njit(cache=True, inline="always")
def _u64_word(row: Any, j: int, nwords: int) -> Any:  # pragma: no cover - compiled
    return row[j] if j < nwords else np.uint64(0)


@numba.njit(cache=True, inline="always")
def _absorb_prefixed(
    row: Any, nbytes: int, prefix: Any, use_u32: bool, a: Any, b: Any, c: Any
) -> None:  # pragma: no cover - compiled
    """Absorb ``prefix ‖ data`` where data is ``nbytes`` little-endian bytes of ``row``.

    ``row`` holds u32 values in u64 slots (``use_u32``) or plain u64 words. Lane g of the
    byte stream is ``(W[g−1] >> 56) | (W[g] << 8)`` with W the data as u64 words and
    ``W[−1] >> 56`` the prefix byte, so no byte-wise assembly is needed.
    """
    length = nbytes + 1
    nblocks = length // RATE_BYTES + 1
    lanes_per_block = RATE_BYTES // 8
    nwords = row.size
    pad_lane = length // 8
    pad_shift = np.uint64(8 * (length % 8))
    prev_top = prefix
    g = 0
    for blk in range(nblocks):
        for t in range(lanes_per_block):
            w = _u32_pair(row, g, nwords) if use_u32 else _u64_word(row, g, nwords)
            lane = prev_top | (w << _U8)
            prev_top = w >> _U56
            if g * 8 + 8 > length:  # mask bytes past the message (only the tail lane)
                keep = length - g * 8
                if keep <= 0:
                    lane = np.uint64(0)
                else:
                    lane &= (np.uint64(1) << np.uint64(8 * keep)) - np.uint64(1)
            if g == pad_lane:
                lane ^= np.uint64(0x01) << pad_shift
            if blk == nblocks - 1 and t == lanes_per_block - 1:
                lane ^= np.uint64(0x80) << _U56
            a[t] ^= lane
            g += 1
        _keccak_f(a, b, c)


@numba.njit(parallel=True, cache=True)
def _hash_rows_kernel(
    rows: Any, nbytes: int, prefix: Any, use_u32: bool, out: Any
) -> None:  # pragma: no cover - compiled
    for r in numba.prange(rows.shape[0]):
        a = np.zeros(25, dtype=np.uint64)
        b = np.empty(25, dtype=np.uint64)
        c = np.empty(5, dtype=np.uint64)
        _absorb_prefixed(rows[r], nbytes, prefix, use_u32, a, b, c)
        for w in range(4):
            out[r, w] = a[w]


def keccak256_prefixed_u32_rows(
    rows: npt.NDArray[np.uint64], prefix: int
) -> npt.NDArray[np.uint64]:
    """keccak256(prefix ‖ le32(row[0]) ‖ … ) for every row of an (N, w) array of u32 values.

    Returns digests as (N, 4) little-endian u64 lanes (``.view(np.uint8)`` gives the bytes
    on little-endian hosts; use :func:`lanes_to_bytes` to be explicit).
    """
    arr = np.ascontiguousarray(rows, dtype=np.uint64)
    out = np.empty((arr.shape[0], 4), dtype=np.uint64)
    if arr.shape[0]:
        _hash_rows_kernel(arr, 4 * arr.shape[1], np.uint64(prefix), True, out)
    return out


def keccak256_prefixed_u64_rows(
    rows: npt.NDArray[np.uint64], prefix: int
) -> npt.NDArray[np.uint64]:
    """keccak256(prefix ‖ le64(row[0]) ‖ …) for every row; digests as (N, 4) u64 lanes."""
    arr = np.ascontiguousarray(rows, dtype=np.uint64)
    out = np.empty((arr.shape[0], 4), dtype=np.uint64)
    if arr.shape[0]:
        _hash_rows_kernel(arr, 8 * arr.shape[1], np.uint64(prefix), False, out)
    return out


def lanes_to_bytes(lanes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """(N, 4) u64 digest lanes → (N, 32) digest bytes (explicitly little-endian)."""
    return np.ascontiguousarray(lanes, dtype="<u8").view(np.uint8).reshape(-1, DIGEST_BYTES)


@numba.njit(parallel=True, cache=True)
def _grind_kernel(
    prefix: np.ndarray, start: np.uint64, count: int, bits: int, found: np.ndarray
) -> None:  # pragma: no cover - compiled
    """found[i] = 1 if keccak(prefix ‖ le64(start + i)) has ``bits`` leading zero bits."""
    plen = prefix.size
    for i in numba.prange(count):
        msg = np.empty(plen + 8, dtype=np.uint8)
        msg[:plen] = prefix
        nonce = start + np.uint64(i)
        for t in range(8):
            msg[plen + t] = np.uint8((nonce >> np.uint64(8 * t)) & _UFF)
        a = np.zeros(25, dtype=np.uint64)
        b = np.empty(25, dtype=np.uint64)
        c = np.empty(5, dtype=np.uint64)
        _absorb_row(msg, a, b, c)
        # first 8 digest bytes read big-endian: byte-swap lane 0
        lane = a[0]
        be = np.uint64(0)
        for t in range(8):
            be = (be << _U8) | ((lane >> np.uint64(8 * t)) & _UFF)
        found[i] = 1 if (be >> np.uint64(64 - bits)) == 0 else 0


def leading_zero_bits_ok(digest: bytes, bits: int) -> bool:
    """True if the first ``bits`` bits of ``digest`` (MSB first) are all zero."""
    if bits == 0:
        return True
    return int.from_bytes(digest[:8], "big") >> (64 - bits) == 0


def grind_search(prefix: bytes, bits: int, batch: int = 1 << 14) -> int:
    """Smallest nonce with ``keccak256(prefix ‖ le64(nonce))`` starting with ``bits`` zeros."""
    if not 0 <= bits <= 63:
        raise ValueError(f"grinding bits must be in [0, 63], got {bits}")
    if bits == 0:
        return 0
    pre = np.frombuffer(prefix, dtype=np.uint8).copy()
    start = 0
    found = np.zeros(batch, dtype=np.uint8)
    while True:
        _grind_kernel(pre, np.uint64(start), batch, bits, found)
        hits = np.flatnonzero(found)
        if hits.size:
            return start + int(hits[0])
        start += batch

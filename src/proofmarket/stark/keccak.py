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

# The rho offsets and the pi lane permutation are written out in _keccak_f_unrolled
# (generated from the Keccak reference tables: rho[x + 5y], pi: (x, y) → (y, 2x + 3y)).

_U8 = np.uint64(8)
_UFF = np.uint64(0xFF)
_U32 = np.uint64(32)
_U56 = np.uint64(56)
_R1 = np.uint64(1)
_R63 = np.uint64(63)
_M32 = np.uint64(0xFFFFFFFF)
_CHUNK = 256  # rows per parallel work item


def keccak256(data: bytes) -> bytes:
    """Keccak-256 digest (Ethereum flavour) of one byte string."""
    h = _ckeccak.new(digest_bits=256)
    h.update(data)
    return h.digest()


@numba.njit(cache=True)
def _keccak_f_unrolled(s: Any) -> None:  # pragma: no cover - compiled
    """Keccak-f[1600] on 25 lanes held in locals (generated straight-line round body)."""
    (
        a0,
        a1,
        a2,
        a3,
        a4,
        a5,
        a6,
        a7,
        a8,
        a9,
        a10,
        a11,
        a12,
        a13,
        a14,
        a15,
        a16,
        a17,
        a18,
        a19,
        a20,
        a21,
        a22,
        a23,
        a24,
    ) = (
        s[0],
        s[1],
        s[2],
        s[3],
        s[4],
        s[5],
        s[6],
        s[7],
        s[8],
        s[9],
        s[10],
        s[11],
        s[12],
        s[13],
        s[14],
        s[15],
        s[16],
        s[17],
        s[18],
        s[19],
        s[20],
        s[21],
        s[22],
        s[23],
        s[24],
    )
    for rnd in range(24):
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
        c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
        c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
        c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
        d0 = c4 ^ ((c1 << _R1) | (c1 >> _R63))
        d1 = c0 ^ ((c2 << _R1) | (c2 >> _R63))
        d2 = c1 ^ ((c3 << _R1) | (c3 >> _R63))
        d3 = c2 ^ ((c4 << _R1) | (c4 >> _R63))
        d4 = c3 ^ ((c0 << _R1) | (c0 >> _R63))
        b0 = a0 ^ d0
        t = a1 ^ d1
        b10 = (t << np.uint64(1)) | (t >> np.uint64(63))
        t = a2 ^ d2
        b20 = (t << np.uint64(62)) | (t >> np.uint64(2))
        t = a3 ^ d3
        b5 = (t << np.uint64(28)) | (t >> np.uint64(36))
        t = a4 ^ d4
        b15 = (t << np.uint64(27)) | (t >> np.uint64(37))
        t = a5 ^ d0
        b16 = (t << np.uint64(36)) | (t >> np.uint64(28))
        t = a6 ^ d1
        b1 = (t << np.uint64(44)) | (t >> np.uint64(20))
        t = a7 ^ d2
        b11 = (t << np.uint64(6)) | (t >> np.uint64(58))
        t = a8 ^ d3
        b21 = (t << np.uint64(55)) | (t >> np.uint64(9))
        t = a9 ^ d4
        b6 = (t << np.uint64(20)) | (t >> np.uint64(44))
        t = a10 ^ d0
        b7 = (t << np.uint64(3)) | (t >> np.uint64(61))
        t = a11 ^ d1
        b17 = (t << np.uint64(10)) | (t >> np.uint64(54))
        t = a12 ^ d2
        b2 = (t << np.uint64(43)) | (t >> np.uint64(21))
        t = a13 ^ d3
        b12 = (t << np.uint64(25)) | (t >> np.uint64(39))
        t = a14 ^ d4
        b22 = (t << np.uint64(39)) | (t >> np.uint64(25))
        t = a15 ^ d0
        b23 = (t << np.uint64(41)) | (t >> np.uint64(23))
        t = a16 ^ d1
        b8 = (t << np.uint64(45)) | (t >> np.uint64(19))
        t = a17 ^ d2
        b18 = (t << np.uint64(15)) | (t >> np.uint64(49))
        t = a18 ^ d3
        b3 = (t << np.uint64(21)) | (t >> np.uint64(43))
        t = a19 ^ d4
        b13 = (t << np.uint64(8)) | (t >> np.uint64(56))
        t = a20 ^ d0
        b14 = (t << np.uint64(18)) | (t >> np.uint64(46))
        t = a21 ^ d1
        b24 = (t << np.uint64(2)) | (t >> np.uint64(62))
        t = a22 ^ d2
        b9 = (t << np.uint64(61)) | (t >> np.uint64(3))
        t = a23 ^ d3
        b19 = (t << np.uint64(56)) | (t >> np.uint64(8))
        t = a24 ^ d4
        b4 = (t << np.uint64(14)) | (t >> np.uint64(50))
        a0 = b0 ^ (~b1 & b2)
        a1 = b1 ^ (~b2 & b3)
        a2 = b2 ^ (~b3 & b4)
        a3 = b3 ^ (~b4 & b0)
        a4 = b4 ^ (~b0 & b1)
        a5 = b5 ^ (~b6 & b7)
        a6 = b6 ^ (~b7 & b8)
        a7 = b7 ^ (~b8 & b9)
        a8 = b8 ^ (~b9 & b5)
        a9 = b9 ^ (~b5 & b6)
        a10 = b10 ^ (~b11 & b12)
        a11 = b11 ^ (~b12 & b13)
        a12 = b12 ^ (~b13 & b14)
        a13 = b13 ^ (~b14 & b10)
        a14 = b14 ^ (~b10 & b11)
        a15 = b15 ^ (~b16 & b17)
        a16 = b16 ^ (~b17 & b18)
        a17 = b17 ^ (~b18 & b19)
        a18 = b18 ^ (~b19 & b15)
        a19 = b19 ^ (~b15 & b16)
        a20 = b20 ^ (~b21 & b22)
        a21 = b21 ^ (~b22 & b23)
        a22 = b22 ^ (~b23 & b24)
        a23 = b23 ^ (~b24 & b20)
        a24 = b24 ^ (~b20 & b21)
        a0 ^= _RC[rnd]
    s[0] = a0
    s[1] = a1
    s[2] = a2
    s[3] = a3
    s[4] = a4
    s[5] = a5
    s[6] = a6
    s[7] = a7
    s[8] = a8
    s[9] = a9
    s[10] = a10
    s[11] = a11
    s[12] = a12
    s[13] = a13
    s[14] = a14
    s[15] = a15
    s[16] = a16
    s[17] = a17
    s[18] = a18
    s[19] = a19
    s[20] = a20
    s[21] = a21
    s[22] = a22
    s[23] = a23
    s[24] = a24


@numba.njit(cache=True)
def _keccak_f(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:  # pragma: no cover
    """Keccak-f[1600] in place on 25 lanes (b, c: unused scratch kept for the call sites)."""
    _keccak_f_unrolled(a)


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
    nchunks = (n + _CHUNK - 1) // _CHUNK
    for ch in numba.prange(nchunks):
        a = np.empty(25, dtype=np.uint64)
        b = np.empty(25, dtype=np.uint64)
        c = np.empty(5, dtype=np.uint64)
        for r in range(ch * _CHUNK, min(n, (ch + 1) * _CHUNK)):
            a[:] = 0
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
    n = rows.shape[0]
    nchunks = (n + _CHUNK - 1) // _CHUNK
    for ch in numba.prange(nchunks):
        # scratch is allocated once per chunk: per-row allocation costs as much as a
        # permutation for short (node) messages
        a = np.empty(25, dtype=np.uint64)
        b = np.empty(25, dtype=np.uint64)
        c = np.empty(5, dtype=np.uint64)
        for r in range(ch * _CHUNK, min(n, (ch + 1) * _CHUNK)):
            a[:] = 0
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
    arr = np.asarray(rows)
    arr = np.ascontiguousarray(arr, dtype=np.uint32 if arr.dtype == np.uint32 else np.uint64)
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

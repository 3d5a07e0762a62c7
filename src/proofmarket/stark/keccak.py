"""Ethereum Keccak-256 (original Keccak padding, *not* NIST SHA3-256), single and batched.

* :func:`keccak256` hashes one byte string with pycryptodome's C implementation; the
  transcript and the verifier use it for the few hashes they compute.
* :func:`keccak256_rows` hashes many equal-length messages at once with a numba-compiled
  Keccak-f[1600] permutation running in parallel over the rows; Merkle trees use it to hash
  2^18 leaves without a Python-level loop. It is tested bit-for-bit against pycryptodome.

keccak256(b"") = c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
"""

from __future__ import annotations

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

"""Merkle trees over the rows of a field matrix, with deduplicated multi-openings.

The hash is Keccak-256 by default (cheap to check on the EVM); ``hash="poseidon2"``
selects the BabyBear Poseidon2 leaf/node hash of :mod:`proofmarket.stark.poseidon2_hash`
(same 32-byte digests, same tree shape and opening format).

Keccak layout
-------------
* Leaf ``i`` commits to row ``i`` of an ``(N, w)`` matrix (any trailing shape is flattened
  row-wise, so an ``(N, k, 4)`` extension matrix is ``4k`` words per row):
  ``leaf_i = keccak256(0x00 ‖ le32(row_i[0]) ‖ … ‖ le32(row_i[w−1]))``.
* Internal node: ``keccak256(0x01 ‖ left ‖ right)``. The 0x00 / 0x01 prefixes separate the
  leaf and node domains, so a node can never be passed off as a leaf (second preimages).
* ``N`` must be a power of two; the root of a one-leaf tree is that leaf's digest.

Multi-opening
-------------
:meth:`MerkleTree.open_batch` proves many leaves together: walking up level by level over
the sorted set of distinct indices, a sibling is included only when it cannot be computed
from the opened leaves themselves, so shared paths near the root are sent once.
:func:`verify_batch` replays the same walk. The order of sibling digests is therefore
fixed by the sorted distinct indices and is part of the format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from . import poseidon2_hash
from .field import FieldError, P
from .keccak import (
    DIGEST_BYTES,
    keccak256,
    keccak256_prefixed_u32_rows,
    keccak256_prefixed_u64_rows,
)

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

Digest = bytes


class MerkleError(ValueError):
    """Malformed Merkle input or opening (bad sizes, indices out of range, wrong lengths)."""


@dataclass(frozen=True)
class MerkleBatchProof:
    """Sibling digests needed to recompute the root from a set of opened leaves.

    ``siblings`` is ordered level by level (leaves first), left to right within a level.
    """

    siblings: tuple[Digest, ...]

    def to_bytes(self) -> bytes:
        """u32 count (little-endian) followed by the 32-byte digests."""
        return len(self.siblings).to_bytes(4, "little") + b"".join(self.siblings)

    @classmethod
    def from_bytes(cls, data: bytes) -> MerkleBatchProof:
        """Parse :meth:`to_bytes` output exactly (MerkleError on bad length)."""
        if len(data) < 4:
            raise MerkleError("Merkle proof bytes too short")
        count = int.from_bytes(data[:4], "little")
        if len(data) != 4 + DIGEST_BYTES * count:
            raise MerkleError(
                f"Merkle proof declares {count} digests but has {len(data) - 4} bytes of them"
            )
        return cls(tuple(data[4 + i * 32 : 4 + (i + 1) * 32] for i in range(count)))


def _rows_u64(rows: Any) -> npt.NDArray[np.uint64]:
    arr = np.asarray(rows)
    if arr.ndim < 1:
        raise MerkleError("Merkle rows must have at least one axis")
    if arr.dtype.kind not in "iu":
        raise MerkleError(f"Merkle rows must be an integer array, got dtype {arr.dtype}")
    flat = arr.reshape(arr.shape[0], -1)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= P):
        raise MerkleError("Merkle rows must hold canonical field elements")
    if flat.dtype == np.uint32:  # u32-stored LDEs are hashed in place (same leaf bytes)
        return np.ascontiguousarray(flat)
    return np.ascontiguousarray(flat, dtype=np.uint64)


def leaf_messages(rows: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """The byte messages hashed for each leaf: 0x00 ‖ row words as little-endian u32."""
    n, w = rows.shape
    msgs = np.empty((n, 1 + 4 * w), dtype=np.uint8)
    msgs[:, 0] = LEAF_PREFIX[0]
    msgs[:, 1:] = rows.astype("<u4").view(np.uint8).reshape(n, 4 * w)
    return msgs


def hash_leaves(rows: Any) -> npt.NDArray[np.uint8]:
    """Leaf digests (N, 32) of a matrix's rows."""
    lanes = keccak256_prefixed_u32_rows(_rows_u64(rows), LEAF_PREFIX[0])
    return np.ascontiguousarray(lanes, dtype="<u8").view(np.uint8).reshape(-1, DIGEST_BYTES)


def hash_leaf(row: Any) -> Digest:
    """Digest of one row (single-call path used by verifiers)."""
    words = np.asarray(row, dtype=np.uint64).reshape(-1)
    return keccak256(LEAF_PREFIX + words.astype("<u4").tobytes())


def hash_node(left: Digest, right: Digest) -> Digest:
    """Digest of an internal node."""
    return keccak256(NODE_PREFIX + left + right)


def _hash_level(level: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Parent digests of a level given as (k, 4) little-endian u64 lanes."""
    return keccak256_prefixed_u64_rows(level.reshape(-1, 8), NODE_PREFIX[0])


def _digest(level: npt.NDArray[np.uint64], i: int) -> Digest:
    return np.ascontiguousarray(level[i], dtype="<u8").tobytes()


def _keccak_leaves(mat: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    return keccak256_prefixed_u32_rows(mat, LEAF_PREFIX[0])


@dataclass(frozen=True)
class _Hasher:
    """One Merkle hash: bulk leaves/levels as (k, 4) u64 lanes, single leaf/node as bytes."""

    leaves: Callable[[npt.NDArray[np.uint64]], npt.NDArray[np.uint64]]
    level: Callable[[npt.NDArray[np.uint64]], npt.NDArray[np.uint64]]
    leaf: Callable[[Any], Digest]
    node: Callable[[Digest, Digest], Digest]


_HASHERS = {
    "keccak": _Hasher(_keccak_leaves, _hash_level, hash_leaf, hash_node),
    "poseidon2": _Hasher(
        poseidon2_hash.leaf_lanes,
        poseidon2_hash.level_lanes,
        poseidon2_hash.hash_leaf,
        poseidon2_hash.hash_node,
    ),
}
MERKLE_HASHES = tuple(_HASHERS)


def _hasher(name: str) -> _Hasher:
    try:
        return _HASHERS[name]
    except KeyError:
        raise MerkleError(f"unknown Merkle hash {name!r}; choose one of {MERKLE_HASHES}") from None


class MerkleTree:
    """A committed matrix: its rows, every level of digests and the root."""

    def __init__(
        self,
        rows: npt.NDArray[np.uint64],
        levels: list[npt.NDArray[np.uint64]],
        hash: str = "keccak",
    ):
        self.rows = rows
        self.hash = hash
        # levels[0]: leaf digests; levels[-1]: the root. Each digest is stored as four
        # little-endian u64 lanes, shape (k, 4); ``digest(level, i)`` gives its 32 bytes.
        self.levels = levels

    @classmethod
    def commit(cls, rows: Any, hash: str = "keccak") -> MerkleTree:
        """Hash every row and build the tree. ``rows`` has shape (N, ...) with N = 2^k."""
        h = _hasher(hash)
        mat = _rows_u64(rows)
        n = mat.shape[0]
        if n == 0 or n & (n - 1):
            raise MerkleError(f"number of Merkle leaves must be a power of two, got {n}")
        levels = [h.leaves(mat)]
        while levels[-1].shape[0] > 1:
            levels.append(h.level(levels[-1]))
        tree = cls(np.asarray(rows), levels, hash)
        return tree

    @property
    def root(self) -> Digest:
        """The 32-byte Merkle root."""
        return _digest(self.levels[-1], 0)

    def digest(self, level: int, index: int) -> Digest:
        """The 32-byte digest at ``index`` of ``level`` (0 = leaves)."""
        return _digest(self.levels[level], index)

    @property
    def num_leaves(self) -> int:
        return int(self.levels[0].shape[0])

    @property
    def depth(self) -> int:
        return len(self.levels) - 1

    def _check_indices(self, indices: Sequence[int]) -> list[int]:
        n = self.num_leaves
        out = []
        for i in indices:
            ii = int(i)
            if not 0 <= ii < n:
                raise MerkleError(f"leaf index {ii} out of range for {n} leaves")
            out.append(ii)
        return out

    def open_rows(self, indices: Sequence[int]) -> np.ndarray:
        """The committed rows at ``indices`` (in the given order, duplicates kept)."""
        return np.asarray(self.rows[np.asarray(self._check_indices(indices), dtype=np.int64)])

    def open_batch(self, indices: Sequence[int]) -> MerkleBatchProof:
        """A deduplicated multi-opening proof for the leaves at ``indices``."""
        known = sorted(set(self._check_indices(indices)))
        siblings: list[Digest] = []
        for level in self.levels[:-1]:
            nxt: list[int] = []
            i = 0
            while i < len(known):
                idx = known[i]
                if idx % 2 == 0 and i + 1 < len(known) and known[i + 1] == idx + 1:
                    i += 2
                else:
                    siblings.append(_digest(level, idx ^ 1))
                    i += 1
                nxt.append(idx >> 1)
            known = nxt
        return MerkleBatchProof(tuple(siblings))


def verify_batch(
    root: Digest,
    indices: Sequence[int],
    rows: Any,
    proof: MerkleBatchProof,
    num_leaves: int,
    hash: str = "keccak",
) -> bool:
    """Check that ``rows[k]`` is the leaf at ``indices[k]`` of the tree with ``root``.

    Returns False for any mismatch (wrong row, wrong sibling, extra or missing siblings,
    conflicting rows for a repeated index, out-of-range index, non-canonical row data).
    """
    h = _hasher(hash)
    if num_leaves <= 0 or num_leaves & (num_leaves - 1):
        return False
    if len(root) != DIGEST_BYTES:
        return False
    try:
        mat = _rows_u64(rows)
    except (MerkleError, FieldError):
        return False
    if mat.shape[0] != len(indices) or not len(indices):
        return False
    digests: dict[int, Digest] = {}
    for k, raw in enumerate(indices):
        idx = int(raw)
        if not 0 <= idx < num_leaves:
            return False
        d = h.leaf(mat[k])
        if digests.setdefault(idx, d) != d:
            return False
    known = sorted(digests)
    level_digests = digests
    sib_iter = iter(proof.siblings)
    depth = num_leaves.bit_length() - 1
    try:
        for _ in range(depth):
            nxt: dict[int, Digest] = {}
            i = 0
            while i < len(known):
                idx = known[i]
                if idx % 2 == 0 and i + 1 < len(known) and known[i + 1] == idx + 1:
                    left, right = level_digests[idx], level_digests[idx + 1]
                    i += 2
                else:
                    sib = next(sib_iter)
                    if len(sib) != DIGEST_BYTES:
                        return False
                    if idx % 2 == 0:
                        left, right = level_digests[idx], sib
                    else:
                        left, right = sib, level_digests[idx]
                    i += 1
                try:
                    nxt[idx >> 1] = h.node(left, right)
                except poseidon2_hash.Poseidon2HashError:
                    return False
            level_digests = nxt
            known = sorted(nxt)
    except StopIteration:
        return False
    if next(sib_iter, None) is not None:
        return False
    return level_digests.get(0) == root

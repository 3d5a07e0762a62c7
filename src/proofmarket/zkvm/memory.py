"""The paged memory image and its binary Merkle tree, hashed with Poseidon2 over BabyBear.

Memory is 2^22 pages of 1 KiB. The tree has the pages as leaves (depth 22) and uses
RISC Zero's node numbering: the root is node 1, the children of node i are 2i and 2i+1,
and page k is node ``NUM_PAGES + k``. Untouched subtrees are all-zero and take their
digest from a precomputed table, so an image only stores the nodes above real pages.

As in RISC Zero, the tree is Poseidon2 over BabyBear (width 24, the engine's hash in
:mod:`proofmarket.stark.poseidon2_hash`), so the paging tables of the segment circuit
can prove page-ins and page-outs with the engine's Poseidon2 chip::

    limbs(page)  = for each of the 256 little-endian words w: (w & 0xFFFF, w >> 16)
    leaf(page)   = Poseidon2 sponge(domain 1, length 512, limbs(page))    # 32 permutations
    node(l, r)   = Poseidon2 compression(l, r) (domain 2 in the capacity)  # 1 permutation

A digest is 8 field elements; its 32 bytes are the elements as little-endian u32. The
domain in the capacity keeps leaves and nodes apart. The limbs are the memory bus's
``(value_lo16, value_hi16)`` (``zkvm/circuit/buses.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from proofmarket.zkvm.errors import SegmentError
from proofmarket.zkvm.layout import NUM_PAGES, PAGE_BYTES, PAGE_WORDS, TREE_DEPTH

PAGE_LIMBS = 2 * PAGE_WORDS
"""Field elements a page is hashed as: two 16-bit limbs per word, low limb first."""


def page_limbs(page: bytes | bytearray | memoryview) -> npt.NDArray[np.uint64]:
    """The 512 16-bit limbs a page is hashed as (word i gives limbs 2i and 2i+1)."""
    if len(page) != PAGE_BYTES:
        raise ValueError(f"a page is {PAGE_BYTES} bytes, got {len(page)}")
    return np.frombuffer(bytes(page), dtype="<u2").astype(np.uint64)


def page_digests(pages: Mapping[int, bytes | bytearray | memoryview]) -> dict[int, bytes]:
    """Leaf digests of many pages at once (one parallel numba call)."""
    from proofmarket.stark.poseidon2_hash import leaf_digests

    if not pages:
        return {}
    keys = list(pages)
    rows = np.stack([page_limbs(pages[p]) for p in keys])
    raw = leaf_digests(rows).astype("<u4").tobytes()
    return {p: raw[32 * i : 32 * i + 32] for i, p in enumerate(keys)}


def page_digest(page: bytes | bytearray | memoryview) -> bytes:
    """Leaf digest of one 1 KiB page."""
    from proofmarket.stark.poseidon2_hash import hash_leaf

    return hash_leaf(page_limbs(page))


def node_digest(left: bytes, right: bytes) -> bytes:
    """Digest of an inner node from its children's digests."""
    from proofmarket.stark.poseidon2_hash import hash_node

    return hash_node(left, right)


def _node_digests(children: list[bytes]) -> list[bytes]:
    """Parents of consecutive child pairs ``children[2k], children[2k+1]`` in one call."""
    from proofmarket.stark.poseidon2_hash import level_lanes

    lanes = np.frombuffer(b"".join(children), dtype="<u8").reshape(-1, 4)
    raw = level_lanes(lanes).astype("<u8").tobytes()
    return [raw[32 * i : 32 * i + 32] for i in range(len(children) // 2)]


@cache
def zero_subtree() -> tuple[bytes, ...]:
    """``[h]`` = digest of an all-zero subtree of height h (h=0: one zero page)."""
    out = [page_digest(bytes(PAGE_BYTES))]
    for _ in range(TREE_DEPTH):
        out.append(node_digest(out[-1], out[-1]))
    return tuple(out)


def zero_image_root() -> bytes:
    """Root of the all-zero memory image."""
    return zero_subtree()[TREE_DEPTH]


def __getattr__(name: str) -> Any:
    # ZERO_SUBTREE / ZERO_IMAGE_ROOT are computed on first use, so importing this module
    # does not load the Poseidon2 kernels.
    if name == "ZERO_SUBTREE":
        return zero_subtree()
    if name == "ZERO_IMAGE_ROOT":
        return zero_image_root()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def height(node: int) -> int:
    """Height of a node above the leaves (leaves 0, root TREE_DEPTH)."""
    return TREE_DEPTH - (node.bit_length() - 1)


def leaf_node(page: int) -> int:
    if not 0 <= page < NUM_PAGES:
        raise ValueError(f"page index {page} out of range")
    return NUM_PAGES + page


def _proof_levels(pages: Iterable[int]) -> list[list[int]]:
    """Per level (leaves first), the sibling nodes a multiproof for ``pages`` carries.

    These are the siblings of the nodes on the paths from the pages to the root that are
    not themselves on one of those paths.
    """
    level = {leaf_node(p) for p in pages}
    out: list[list[int]] = []
    for _ in range(TREE_DEPTH):
        out.append(sorted(n ^ 1 for n in level if n ^ 1 not in level))
        level = {n >> 1 for n in level}
    return out


def proof_nodes(pages: Iterable[int]) -> list[int]:
    """Sibling nodes of a multiproof for ``pages``, in increasing node order."""
    return [n for level in reversed(_proof_levels(pages)) for n in level]


def _hash_levels(known: dict[int, bytes], leaves: Iterable[int], zero: bool) -> None:
    """Fill ``known`` with every node above ``leaves``, one batched call per level.

    A missing child is an error unless ``zero`` (then it is the all-zero subtree).
    """
    level = sorted({n >> 1 for n in leaves})
    for h in range(1, TREE_DEPTH + 1):
        children: list[bytes] = []
        for n in level:
            for c in (2 * n, 2 * n + 1):
                d = known.get(c)
                if d is None:
                    if not zero:
                        raise SegmentError(f"multiproof lacks the digest of node {c}")
                    d = zero_subtree()[h - 1]
                children.append(d)
        known.update(zip(level, _node_digests(children), strict=True))
        level = sorted({n >> 1 for n in level})


def root_from_proof(leaf_digests: Mapping[int, bytes], siblings: list[bytes]) -> bytes:
    """Root of a tree whose leaves ``page -> digest`` and sibling digests are given.

    ``siblings`` must be ordered as :func:`proof_nodes` orders their nodes.
    """
    if not leaf_digests:
        raise SegmentError("a multiproof needs at least one page")
    return tree_nodes(leaf_digests, siblings)[1]


def tree_nodes(leaf_digests: Mapping[int, bytes], siblings: list[bytes]) -> dict[int, bytes]:
    """Every node digest a multiproof determines: siblings, leaves and their paths."""
    wanted = proof_nodes(leaf_digests)
    if len(wanted) != len(siblings):
        raise SegmentError(
            f"multiproof has {len(siblings)} sibling digests, the pages need {len(wanted)}"
        )
    known: dict[int, bytes] = dict(zip(wanted, siblings, strict=True))
    leaves = [leaf_node(p) for p in leaf_digests]
    known.update(zip(leaves, leaf_digests.values(), strict=True))
    _hash_levels(known, leaves, zero=False)
    return known


class PageTree:
    """Digests of a memory image; only nodes above non-zero pages are stored."""

    def __init__(self) -> None:
        self._nodes: dict[int, bytes] = {}

    @classmethod
    def from_pages(cls, pages: Mapping[int, bytes]) -> PageTree:
        tree = cls()
        tree.update(page_digests(pages))
        return tree

    def node(self, n: int) -> bytes:
        d = self._nodes.get(n)
        return d if d is not None else zero_subtree()[height(n)]

    @property
    def root(self) -> bytes:
        return self.node(1)

    def leaf(self, page: int) -> bytes:
        return self.node(leaf_node(page))

    def update(self, leaf_digests: Mapping[int, bytes]) -> None:
        """Set page digests and recompute every affected inner node, level by level."""
        if not leaf_digests:
            return
        leaves = [leaf_node(p) for p in leaf_digests]
        self._nodes.update(zip(leaves, leaf_digests.values(), strict=True))
        _hash_levels(self._nodes, leaves, zero=True)

    def multiproof(self, pages: Iterable[int]) -> list[bytes]:
        """Sibling digests proving ``pages`` against :attr:`root` (``proof_nodes`` order)."""
        get = self._nodes.get
        out: list[bytes] = []
        levels = _proof_levels(pages)
        zeros = zero_subtree()
        for h in range(TREE_DEPTH - 1, -1, -1):
            zero = zeros[h]
            out.extend(get(n, zero) for n in levels[h])
        return out

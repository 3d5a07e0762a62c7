"""The paged memory image and its binary Merkle tree.

Memory is 2^22 pages of 1 KiB. The tree has the pages as leaves (depth 22) and uses
RISC Zero's node numbering: the root is node 1, the children of node i are 2i and 2i+1,
and page k is node ``NUM_PAGES + k``. Untouched subtrees are all-zero and take their
digest from a precomputed table, so an image only stores the nodes above real pages.

Hashes are SHA-256 with domain separation (a zero page and an inner node can never
collide)::

    leaf(page) = SHA-256("proofmarket.zkvm.page\\0" || page bytes)
    node(l, r) = SHA-256("proofmarket.zkvm.node\\0" || l || r)

RISC Zero hashes pages with Poseidon2 over BabyBear; ours are SHA-256, so our image IDs
intentionally differ from RISC Zero's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from proofmarket.zkvm.errors import SegmentError
from proofmarket.zkvm.layout import NUM_PAGES, PAGE_BYTES, TREE_DEPTH

_LEAF_TAG = b"proofmarket.zkvm.page\x00"
_NODE_TAG = b"proofmarket.zkvm.node\x00"
_sha256 = hashlib.sha256


def page_digest(page: bytes | bytearray | memoryview) -> bytes:
    """Leaf digest of one 1 KiB page."""
    if len(page) != PAGE_BYTES:
        raise ValueError(f"a page is {PAGE_BYTES} bytes, got {len(page)}")
    h = _sha256(_LEAF_TAG)
    h.update(page)
    return h.digest()


def node_digest(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE_TAG + left + right).digest()


def _zero_digests() -> list[bytes]:
    """``ZERO[h]`` = digest of an all-zero subtree of height h (h=0: one zero page)."""
    out = [page_digest(bytes(PAGE_BYTES))]
    for _ in range(TREE_DEPTH):
        out.append(node_digest(out[-1], out[-1]))
    return out


ZERO_SUBTREE = _zero_digests()
ZERO_IMAGE_ROOT = ZERO_SUBTREE[TREE_DEPTH]


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


def root_from_proof(leaf_digests: Mapping[int, bytes], siblings: list[bytes]) -> bytes:
    """Root of a tree whose leaves ``page -> digest`` and sibling digests are given.

    ``siblings`` must be ordered as :func:`proof_nodes` orders their nodes.
    """
    if not leaf_digests:
        raise SegmentError("a multiproof needs at least one page")
    wanted = proof_nodes(leaf_digests)
    if len(wanted) != len(siblings):
        raise SegmentError(
            f"multiproof has {len(siblings)} sibling digests, the pages need {len(wanted)}"
        )
    known: dict[int, bytes] = dict(zip(wanted, siblings, strict=True))
    level = {}
    for p, d in leaf_digests.items():
        known[leaf_node(p)] = d
        level[leaf_node(p) >> 1] = True
    for _ in range(TREE_DEPTH):
        for n in level:
            known[n] = node_digest(known[2 * n], known[2 * n + 1])
        level = {n >> 1: True for n in level}
    return known[1]


class PageTree:
    """Digests of a memory image; only nodes above non-zero pages are stored."""

    def __init__(self) -> None:
        self._nodes: dict[int, bytes] = {}

    @classmethod
    def from_pages(cls, pages: Mapping[int, bytes]) -> PageTree:
        tree = cls()
        tree.update({p: page_digest(b) for p, b in pages.items()})
        return tree

    def node(self, n: int) -> bytes:
        d = self._nodes.get(n)
        return d if d is not None else ZERO_SUBTREE[height(n)]

    @property
    def root(self) -> bytes:
        return self.node(1)

    def leaf(self, page: int) -> bytes:
        return self.node(leaf_node(page))

    def update(self, leaf_digests: Mapping[int, bytes]) -> None:
        """Set page digests and recompute every affected inner node, level by level."""
        nodes = self._nodes
        level: set[int] = set()
        for p, d in leaf_digests.items():
            n = leaf_node(p)
            nodes[n] = d
            level.add(n >> 1)
        get = nodes.get
        for h in range(1, TREE_DEPTH + 1):
            zero = ZERO_SUBTREE[h - 1]
            for n in level:
                nodes[n] = node_digest(get(2 * n, zero), get(2 * n + 1, zero))
            level = {n >> 1 for n in level}

    def multiproof(self, pages: Iterable[int]) -> list[bytes]:
        """Sibling digests proving ``pages`` against :attr:`root` (``proof_nodes`` order)."""
        get = self._nodes.get
        out: list[bytes] = []
        levels = _proof_levels(pages)
        for h in range(TREE_DEPTH - 1, -1, -1):
            zero = ZERO_SUBTREE[h]
            out.extend(get(n, zero) for n in levels[h])
        return out

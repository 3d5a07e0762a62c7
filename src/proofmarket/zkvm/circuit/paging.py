"""Paging tables: page-ins and page-outs proven against the segment's Poseidon2 roots.

Two tables and the engine's width-24 Poseidon2 chip (``stark/poseidon2_air.py``) prove
that the words the memory argument starts from hash to the pre-state root, and the words
it ends with hash to the post-state root, with the same sibling digests (so memory the
segment did not touch cannot change). The page tree is ``zkvm/memory.py``'s.

**Block table** (:class:`PageBlockAir`), one row per sponge block: 32 rows per page and
tree (``tree`` 0 = page-in under the pre root, 1 = page-out under the post root). A row
holds 8 words as 16 limbs, the sponge's input capacity and the permutation's output,
and

* looks the permutation ``(limbs ‖ capacity) → out`` up on the chip's bus;
* chains the capacity from the previous block (the first block starts with
  ``[1, 512, 0, …]``, the leaf domain and length of ``poseidon2_hash``);
* for each word: a page-in *produces* ``(addr, INITIAL_TIMESTAMP, lo, hi)`` on
  :data:`~proofmarket.zkvm.circuit.buses.MEMORY_BUS` (limbs range-checked on
  :data:`~proofmarket.zkvm.circuit.buses.U16_BUS`), a page-out *consumes*
  ``(addr, ts_final, lo, hi)``;
* on the page's last block, provides the leaf ``(tree, 2^22 + page, out[0..8])`` on the
  digest bus :data:`DIGEST_BUS`.

**Node table** (:class:`PageNodeAir`), one row per inner node on the union of the paths
of the segment's pages, computing both trees at once: it looks up the compressions
``pre = P(l_pre ‖ r_pre)`` and ``post = P(l_post ‖ r_post)``, consumes the children that
are on a path from the digest bus (``left_on`` / ``right_on``; at least one), requires
an off-path child (a multiproof sibling) to be the same in both trees, and provides
``(0, n, pre)`` and ``(1, n, post)``. The statement consumes ``(0, 1, pre_root)`` and
``(1, 1, post_root)`` from public inputs, so the bus balances only if the pages really
hash to those roots. Node ids start at the root (1) and double each level, so they never
wrap; leaves (sponge outputs) and inner nodes (compressions) are domain-separated.
"""

from __future__ import annotations

from proofmarket.stark.air import Air, AirBuilder
from proofmarket.stark.expr import Expr
from proofmarket.stark.poseidon2_air import bus_id as poseidon2_bus
from proofmarket.zkvm.circuit.buses import INITIAL_TIMESTAMP, MEMORY_BUS, U16_BUS
from proofmarket.zkvm.layout import NUM_PAGES, PAGE_WORDS
from proofmarket.zkvm.memory import PAGE_LIMBS

WIDTH = 24
RATE = 16
DIGEST = 8
WORDS_PER_BLOCK = RATE // 2
BLOCKS_PER_PAGE = PAGE_LIMBS // RATE  # 32
LEAF_DOMAIN = 1
NODE_DOMAIN = 2
CHIP_BUS = poseidon2_bus(WIDTH)
DIGEST_BUS = 0x5047_5400
"""Tree digests: ``(tree, node, d0 … d7)`` with tree 0 = pre-state, 1 = post-state."""
PUBLIC_INPUTS = 2 * DIGEST
"""Public inputs of the node table: the pre root's 8 elements, then the post root's."""


class BlockCols:
    """Column indices of :class:`PageBlockAir`."""

    IS_REAL, TREE, PAGE, BLOCK, IS_FIRST, IS_LAST = range(6)
    LIMBS = 6
    TS = LIMBS + RATE
    CAP = TS + WORDS_PER_BLOCK
    OUT = CAP + (WIDTH - RATE)
    WIDTH = OUT + WIDTH


class NodeCols:
    """Column indices of :class:`PageNodeAir` (``PRE``/``POST`` blocks: left, right, out)."""

    IS_REAL, NODE, LEFT_ON, RIGHT_ON = range(4)
    PRE = 4
    POST = PRE + 2 * DIGEST + WIDTH
    WIDTH = POST + 2 * DIGEST + WIDTH


def _bool(b: AirBuilder, x: Expr, name: str) -> None:
    b.assert_every_row(x * (x - 1), name=f"{name} is boolean")


class PageBlockAir(Air):
    """Sponge blocks of paged-in and paged-out pages (see module doc)."""

    name = "zkvm-page-blocks"

    def __init__(self) -> None:
        super().__init__(main_width=BlockCols.WIDTH)

    def min_log_rows(self) -> int:
        return 1

    def define(self, b: AirBuilder) -> None:
        c = BlockCols
        real, tree, page, block = b.main(c.IS_REAL), b.main(c.TREE), b.main(c.PAGE), b.main(c.BLOCK)
        first, last = b.main(c.IS_FIRST), b.main(c.IS_LAST)
        limbs = [b.main(c.LIMBS + i) for i in range(RATE)]
        cap = [b.main(c.CAP + i) for i in range(WIDTH - RATE)]
        out = [b.main(c.OUT + i) for i in range(WIDTH)]
        for x, n in ((real, "is_real"), (tree, "tree"), (first, "is_first"), (last, "is_last")):
            _bool(b, x, n)
        b.assert_every_row(first * (1 - real), name="is_first implies is_real")
        b.assert_every_row(last * (1 - real), name="is_last implies is_real")
        # Pages are runs of exactly 32 blocks 0..31, real rows first, then padding.
        b.assert_first_row(first - real, name="the first row starts a page")
        b.assert_transition(
            b.main_next(c.IS_FIRST) - last * b.main_next(c.IS_REAL), name="a page follows a page"
        )
        b.assert_transition((1 - real) * b.main_next(c.IS_REAL), name="no real row after padding")
        b.assert_transition(
            real * (1 - last) * (1 - b.main_next(c.IS_REAL)), name="a page is not cut short"
        )
        b.assert_last_row(real * (1 - last), name="the last page is complete")
        b.assert_every_row(first * block, name="a page starts at block 0")
        b.assert_every_row(last * (block - (BLOCKS_PER_PAGE - 1)), name="a page ends at block 31")
        stay = real * (1 - last)
        b.assert_transition(stay * (b.main_next(c.BLOCK) - block - 1), name="blocks count up")
        b.assert_transition(stay * (b.main_next(c.PAGE) - page), name="one page per run")
        b.assert_transition(stay * (b.main_next(c.TREE) - tree), name="one tree per run")
        # Sponge: the first block's capacity is (domain, length, 0…); later ones chain.
        init = [LEAF_DOMAIN, PAGE_LIMBS] + [0] * (WIDTH - RATE - 2)
        for i in range(WIDTH - RATE):
            b.assert_every_row(first * (cap[i] - init[i]), name=f"sponge capacity {i} starts")
            b.assert_transition(
                stay * (b.main_next(c.CAP + i) - out[RATE + i]), name=f"sponge capacity {i} chains"
            )
        b.lookup([*limbs, *cap, *out], real, bus=CHIP_BUS, name="sponge permutation")
        # Memory: a page-in produces initial states, a page-out consumes final states.
        base = page * PAGE_WORDS + block * WORDS_PER_BLOCK
        sign = real * (1 - 2 * tree)
        for k in range(WORDS_PER_BLOCK):
            ts = b.main(c.TS + k)
            b.assert_every_row((1 - tree) * (ts - INITIAL_TIMESTAMP), name="page-in timestamp")
            lo, hi = limbs[2 * k], limbs[2 * k + 1]
            b.provide([base + k, ts, lo, hi], sign, bus=MEMORY_BUS, name=f"memory word {k}")
        page_in = real * (1 - tree)
        for i, limb in enumerate(limbs):
            b.lookup([limb], page_in, bus=U16_BUS, name=f"limb {i} is 16 bits")
        b.provide([tree, NUM_PAGES + page, *out[:DIGEST]], last, bus=DIGEST_BUS, name="leaf")


class PageNodeAir(Air):
    """Inner nodes of the pre- and post-state trees over the segment's pages."""

    name = "zkvm-page-nodes"

    def __init__(self) -> None:
        super().__init__(main_width=NodeCols.WIDTH, num_public_inputs=PUBLIC_INPUTS)

    def min_log_rows(self) -> int:
        return 1

    def define(self, b: AirBuilder) -> None:
        c = NodeCols
        real, node = b.main(c.IS_REAL), b.main(c.NODE)
        left_on, right_on = b.main(c.LEFT_ON), b.main(c.RIGHT_ON)
        for x, n in ((real, "is_real"), (left_on, "left_on"), (right_on, "right_on")):
            _bool(b, x, n)
        b.assert_every_row(left_on * (1 - real), name="left_on implies is_real")
        b.assert_every_row(right_on * (1 - real), name="right_on implies is_real")
        b.assert_every_row(real * (1 - left_on) * (1 - right_on), name="a node is on a page's path")
        sides = []
        for tree, start in ((0, c.PRE), (1, c.POST)):
            left = [b.main(start + i) for i in range(DIGEST)]
            right = [b.main(start + DIGEST + i) for i in range(DIGEST)]
            out = [b.main(start + 2 * DIGEST + i) for i in range(WIDTH)]
            pad = [NODE_DOMAIN] + [0] * (WIDTH - 2 * DIGEST - 1)
            b.lookup([*left, *right, *pad, *out], real, bus=CHIP_BUS, name=f"compress {tree}")
            b.lookup([tree, 2 * node, *left], left_on, bus=DIGEST_BUS, name=f"left {tree}")
            b.lookup([tree, 2 * node + 1, *right], right_on, bus=DIGEST_BUS, name=f"right {tree}")
            b.provide([tree, node, *out[:DIGEST]], real, bus=DIGEST_BUS, name=f"node {tree}")
            sides.append((left, right))
        (lpre, rpre), (lpost, rpost) = sides
        for i in range(DIGEST):
            b.assert_every_row((1 - left_on) * (lpre[i] - lpost[i]), name="left sibling kept")
            b.assert_every_row((1 - right_on) * (rpre[i] - rpost[i]), name="right sibling kept")
        for tree in (0, 1):
            root = [b.public(DIGEST * tree + i) for i in range(DIGEST)]
            b.public_lookup([tree, 1, *root], 1, bus=DIGEST_BUS, name=f"root {tree}")

"""Witness of the paging tables: block rows, node rows and the Poseidon2 calls they make.

Built from the segment's pages before and after it runs, the multiproof siblings the
executor records (``Segment.proof``) and the timestamp of every word's last access (the
memory argument's final state), so the same data the executor already keeps is all the
prover needs. Rows are produced with the engine's numba Poseidon2 kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from proofmarket.stark.poseidon2_kernel import permute_many
from proofmarket.zkvm.circuit.buses import INITIAL_TIMESTAMP
from proofmarket.zkvm.circuit.paging import (
    BLOCKS_PER_PAGE,
    DIGEST,
    LEAF_DOMAIN,
    NODE_DOMAIN,
    RATE,
    WIDTH,
    WORDS_PER_BLOCK,
    BlockCols,
    NodeCols,
)
from proofmarket.zkvm.errors import SegmentError
from proofmarket.zkvm.layout import NUM_PAGES, PAGE_WORDS, TREE_DEPTH
from proofmarket.zkvm.memory import PAGE_LIMBS, page_limbs, proof_nodes

_U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class PagingWitness:
    """Traces of the block and node tables, the chip's input states, and the two roots."""

    blocks: _U64
    nodes: _U64
    chip_inputs: _U64
    pre_root: bytes
    post_root: bytes

    def public_inputs(self) -> list[int]:
        """The node table's public inputs: pre root then post root, 8 elements each."""
        return digest_ints(self.pre_root) + digest_ints(self.post_root)


def digest_ints(digest: bytes) -> list[int]:
    return [int(x) for x in np.frombuffer(digest, dtype="<u4")]


def _sponge_rows(tree: int, page: int, limbs: _U64, ts: _U64) -> tuple[_U64, _U64, _U64]:
    """Block rows of one page, their permutation inputs, and the leaf digest."""
    rows = np.zeros((BLOCKS_PER_PAGE, BlockCols.WIDTH), dtype=np.uint64)
    inputs = np.zeros((BLOCKS_PER_PAGE, WIDTH), dtype=np.uint64)
    cap = np.zeros(WIDTH - RATE, dtype=np.uint64)
    cap[0], cap[1] = LEAF_DOMAIN, PAGE_LIMBS
    for k in range(BLOCKS_PER_PAGE):
        state = np.concatenate([limbs[RATE * k : RATE * (k + 1)], cap])
        out = permute_many(state[None, :])[0]
        inputs[k] = state
        r = rows[k]
        r[BlockCols.IS_REAL], r[BlockCols.TREE], r[BlockCols.PAGE] = 1, tree, page
        r[BlockCols.BLOCK] = k
        r[BlockCols.IS_FIRST] = k == 0
        r[BlockCols.IS_LAST] = k == BLOCKS_PER_PAGE - 1
        r[BlockCols.LIMBS : BlockCols.LIMBS + RATE] = state[:RATE]
        r[BlockCols.TS : BlockCols.TS + WORDS_PER_BLOCK] = ts[
            WORDS_PER_BLOCK * k : WORDS_PER_BLOCK * (k + 1)
        ]
        r[BlockCols.CAP : BlockCols.CAP + WIDTH - RATE] = cap
        r[BlockCols.OUT : BlockCols.OUT + WIDTH] = out
        cap = out[RATE:].copy()
    return rows, inputs, rows[-1, BlockCols.OUT : BlockCols.OUT + DIGEST].copy()


def paging_witness(
    pre_pages: Mapping[int, bytes],
    post_pages: Mapping[int, bytes],
    siblings: list[bytes],
    final_ts: Mapping[int, int] | None = None,
) -> PagingWitness:
    """Witness paging in ``pre_pages`` and paging out ``post_pages`` (the same page set).

    ``siblings`` is the multiproof of the pages (``PageTree.multiproof`` order);
    ``final_ts`` maps a word address to its last access timestamp (missing: never
    accessed, :data:`INITIAL_TIMESTAMP`).
    """
    if set(pre_pages) != set(post_pages) or not pre_pages:
        raise SegmentError("paging needs the same non-empty page set before and after")
    ts_of = final_ts or {}
    pages = sorted(pre_pages)
    block_rows: list[_U64] = []
    chip: list[_U64] = []
    known: list[dict[int, _U64]] = [{}, {}]
    for tree, contents in ((0, pre_pages), (1, post_pages)):
        for p in pages:
            if tree == 0:
                ts = np.full(PAGE_WORDS, INITIAL_TIMESTAMP, dtype=np.uint64)
            else:
                base = p * PAGE_WORDS
                ts = np.array(
                    [ts_of.get(base + w, INITIAL_TIMESTAMP) for w in range(PAGE_WORDS)],
                    dtype=np.uint64,
                )
            rows, inputs, leaf = _sponge_rows(tree, p, page_limbs(contents[p]), ts)
            block_rows.append(rows)
            chip.append(inputs)
            known[tree][NUM_PAGES + p] = leaf
    wanted = proof_nodes(pages)
    if len(wanted) != len(siblings):
        raise SegmentError(f"{len(siblings)} siblings given, the pages need {len(wanted)}")
    sib = {
        n: np.frombuffer(d, dtype="<u4").astype(np.uint64)
        for n, d in zip(wanted, siblings, strict=True)
    }
    node_rows: list[_U64] = []
    level = sorted({(NUM_PAGES + p) >> 1 for p in pages})
    for _ in range(TREE_DEPTH):
        for n in level:
            row = np.zeros(NodeCols.WIDTH, dtype=np.uint64)
            row[NodeCols.IS_REAL], row[NodeCols.NODE] = 1, n
            row[NodeCols.LEFT_ON] = 2 * n in known[0]
            row[NodeCols.RIGHT_ON] = 2 * n + 1 in known[0]
            for tree, start in ((0, NodeCols.PRE), (1, NodeCols.POST)):
                left = known[tree].get(2 * n, sib.get(2 * n))
                right = known[tree].get(2 * n + 1, sib.get(2 * n + 1))
                if left is None or right is None:
                    raise SegmentError(f"multiproof lacks a child of node {n}")
                state = np.zeros(WIDTH, dtype=np.uint64)
                state[:DIGEST], state[DIGEST : 2 * DIGEST] = left, right
                state[2 * DIGEST] = NODE_DOMAIN
                out = permute_many(state[None, :])[0]
                chip.append(state[None, :])
                row[start : start + DIGEST] = left
                row[start + DIGEST : start + 2 * DIGEST] = right
                row[start + 2 * DIGEST : start + 2 * DIGEST + WIDTH] = out
                known[tree][n] = out[:DIGEST]
            node_rows.append(row)
        level = sorted({n >> 1 for n in level})
    return PagingWitness(
        blocks=np.concatenate(block_rows),
        nodes=np.stack(node_rows),
        chip_inputs=np.concatenate(chip),
        pre_root=known[0][1].astype("<u4").tobytes(),
        post_root=known[1][1].astype("<u4").tobytes(),
    )

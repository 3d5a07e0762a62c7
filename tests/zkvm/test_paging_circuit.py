"""Paging tables alone: page-ins and page-outs proven against Poseidon2 roots.

The memory argument of the segment circuit is replaced by a small stand-in table that
consumes initial word states and produces final ones (what the CPU and memory tables
do), and the 16-bit range table by a stand-in that provides exactly the limbs used.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from proofmarket.stark import TEST
from proofmarket.stark.air import Air, AirBuilder, TraceCheckError
from proofmarket.stark.machine import Machine, Table, check_machine
from proofmarket.stark.poseidon2_air import Poseidon2ChipAir, chip_rows
from proofmarket.stark.prover import prove_machine
from proofmarket.stark.verifier import VerificationError, verify_machine
from proofmarket.zkvm.circuit.buses import MEMORY_BUS, U16_BUS
from proofmarket.zkvm.circuit.paging import BlockCols, NodeCols, PageBlockAir, PageNodeAir
from proofmarket.zkvm.circuit.paging_trace import PagingWitness, digest_ints, paging_witness
from proofmarket.zkvm.layout import PAGE_BYTES, PAGE_WORDS
from proofmarket.zkvm.memory import PageTree, page_limbs


class StandInMemory(Air):
    """Consumes ``(addr, 0, lo, hi)`` and produces ``(addr, ts, lo', hi')`` per row."""

    name = "test-stand-in-memory"

    def __init__(self) -> None:
        super().__init__(main_width=7)

    def min_log_rows(self) -> int:
        return 1

    def define(self, b: AirBuilder) -> None:
        real, addr, ts, lo, hi, lo2, hi2 = (b.main(i) for i in range(7))
        b.lookup([addr, 0, lo, hi], real, bus=MEMORY_BUS)
        b.provide([addr, ts, lo2, hi2], real, bus=MEMORY_BUS)


class StandInU16(Air):
    """Provides ``value`` ``mult`` times on the u16 bus (no range constraint: a stand-in)."""

    name = "test-stand-in-u16"

    def __init__(self) -> None:
        super().__init__(main_width=2)

    def min_log_rows(self) -> int:
        return 1

    def define(self, b: AirBuilder) -> None:
        b.provide([b.main(0)], b.main(1), bus=U16_BUS)


MACHINE = Machine(
    [
        Table(PageBlockAir(), range(1, 17), name="blocks"),
        Table(PageNodeAir(), range(1, 17), name="nodes"),
        Table(Poseidon2ChipAir(24), range(1, 17), name="poseidon2"),
        Table(StandInMemory(), range(1, 17), name="memory"),
        Table(StandInU16(), range(1, 17), name="u16"),
    ],
    name="paging-test",
)


def scenario(
    seed: int,
) -> tuple[PageTree, PageTree, dict[int, bytes], dict[int, bytes], list[bytes], np.ndarray]:
    """An image with a few pages; the segment touches two and writes three words."""
    rng = random.Random(seed)
    image = {rng.randrange(1 << 22): rng.randbytes(PAGE_BYTES) for _ in range(6)}
    touched = sorted(image)[:2]
    pre = {p: image[p] for p in touched}
    post = dict(pre)
    writes = []
    for ts, (p, w) in enumerate([(touched[0], 3), (touched[0], 200), (touched[1], 0)], 5):
        value = rng.getrandbits(32)
        page = bytearray(post[p])
        page[4 * w : 4 * w + 4] = value.to_bytes(4, "little")
        post[p] = bytes(page)
        addr = p * PAGE_WORDS + w
        old = int.from_bytes(pre[p][4 * w : 4 * w + 4], "little")
        writes.append([1, addr, ts, old & 0xFFFF, old >> 16, value & 0xFFFF, value >> 16])
    tree = PageTree.from_pages(image)
    after = PageTree.from_pages({**image, **post})
    return tree, after, pre, post, tree.multiproof(touched), np.array(writes, dtype=np.uint64)


def traces(wit: PagingWitness, mem: np.ndarray) -> list[np.ndarray | None]:
    limbs = Counter(
        int(v)
        for p in wit.blocks[wit.blocks[:, BlockCols.TREE] == 0]
        for v in p[BlockCols.LIMBS : BlockCols.LIMBS + 16]
    )
    u16 = np.array(sorted(limbs.items()), dtype=np.uint64)
    return [wit.blocks, wit.nodes, chip_rows(wit.chip_inputs), mem, u16]


def publics(wit: PagingWitness) -> list[list[int]]:
    return [[], wit.public_inputs(), [], [], []]


def final_ts(mem: np.ndarray) -> dict[int, int]:
    return {int(r[1]): int(r[2]) for r in mem}


def test_witness_roots_are_the_executor_roots() -> None:
    tree, after, pre, post, proof, mem = scenario(1)
    wit = paging_witness(pre, post, proof, final_ts(mem))
    assert wit.pre_root == tree.root
    assert wit.post_root == after.root
    assert wit.pre_root != wit.post_root
    check_machine(MACHINE, traces(wit, mem), publics(wit))


@pytest.mark.slow
def test_paging_machine_proves_and_verifies() -> None:
    _, after, pre, post, proof, mem = scenario(2)
    wit = paging_witness(pre, post, proof, final_ts(mem))
    stark = prove_machine(MACHINE, traces(wit, mem), publics(wit), TEST)
    verify_machine(MACHINE, stark.to_bytes(), publics(wit), TEST)
    # The same proof does not verify against another post root.
    wrong = [[], digest_ints(wit.pre_root) + digest_ints(PageTree().root), [], [], []]
    with pytest.raises(VerificationError):
        verify_machine(MACHINE, stark.to_bytes(), wrong, TEST)
    assert after.root == wit.post_root


@pytest.mark.slow
def test_skipped_page_out_cannot_verify() -> None:
    """A tampered witness that never pages one page out: the proof is rejected."""
    _, _, pre, post, proof, mem = scenario(3)
    wit = paging_witness(pre, post, proof, final_ts(mem))
    skipped = int(wit.blocks[-1, BlockCols.PAGE])
    keep = ~((wit.blocks[:, BlockCols.TREE] == 1) & (wit.blocks[:, BlockCols.PAGE] == skipped))
    blocks = wit.blocks[keep]
    tampered = PagingWitness(blocks, wit.nodes, wit.chip_inputs, wit.pre_root, wit.post_root)
    with pytest.raises(TraceCheckError):
        check_machine(MACHINE, traces(tampered, mem), publics(tampered))
    stark = prove_machine(MACHINE, traces(tampered, mem), publics(tampered), TEST, check=False)
    with pytest.raises(VerificationError):
        verify_machine(MACHINE, stark.to_bytes(), publics(tampered), TEST)


@pytest.mark.parametrize("kind", ["page-in word", "final value", "sibling", "root"])
def test_tampered_witness_is_caught(kind: str) -> None:
    tree, _, pre, post, proof, mem = scenario(4)
    wit = paging_witness(pre, post, proof, final_ts(mem))
    blocks, nodes, mem = wit.blocks.copy(), wit.nodes.copy(), mem.copy()
    pub = publics(wit)
    if kind == "page-in word":  # a word paged in that is not the image's
        blocks[0, BlockCols.LIMBS] ^= 1
    elif kind == "final value":  # page-out of a value the segment did not write
        row = np.nonzero(blocks[:, BlockCols.TREE] == 1)[0][0]
        blocks[row, BlockCols.LIMBS + 1] = (blocks[row, BlockCols.LIMBS + 1] + 1) % 65536
    elif kind == "sibling":  # a post-tree sibling that differs from the pre-tree one
        row = int(np.nonzero(nodes[:, NodeCols.LEFT_ON] == 0)[0][0])
        nodes[row, NodeCols.POST] += 1
    else:  # a pre root that is not the image's
        pub = [[], digest_ints(PageTree().root) + digest_ints(wit.post_root), [], [], []]
    bad = PagingWitness(blocks, nodes, wit.chip_inputs, wit.pre_root, wit.post_root)
    with pytest.raises(TraceCheckError):
        check_machine(MACHINE, traces(bad, mem), pub)
    assert page_limbs(pre[min(pre)]).size == 2 * PAGE_WORDS
    assert tree.root == wit.pre_root

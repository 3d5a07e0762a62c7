"""The page tree: zero-subtree cache, incremental updates and multiproofs."""

from __future__ import annotations

import random

import pytest

from proofmarket.zkvm.errors import SegmentError
from proofmarket.zkvm.layout import NUM_PAGES, PAGE_BYTES, TREE_DEPTH
from proofmarket.zkvm.memory import (
    ZERO_IMAGE_ROOT,
    ZERO_SUBTREE,
    PageTree,
    node_digest,
    page_digest,
    page_digests,
    proof_nodes,
    root_from_proof,
)


def random_pages(rng: random.Random, count: int) -> dict[int, bytes]:
    return {rng.randrange(NUM_PAGES): rng.randbytes(PAGE_BYTES) for _ in range(count)}


def test_single_page_root_by_hand() -> None:
    page = 5
    data = bytes([7]) * PAGE_BYTES
    digest = page_digest(data)
    node = NUM_PAGES + page
    for level in range(TREE_DEPTH):
        sibling = ZERO_SUBTREE[level]
        digest = node_digest(sibling, digest) if node & 1 else node_digest(digest, sibling)
        node >>= 1
    assert PageTree.from_pages({page: data}).root == digest


def test_empty_image_and_zero_pages() -> None:
    assert PageTree().root == ZERO_IMAGE_ROOT
    assert PageTree.from_pages({3: bytes(PAGE_BYTES)}).root == ZERO_IMAGE_ROOT
    # Leaves and inner nodes are domain-separated.
    assert page_digest(bytes(PAGE_BYTES)) != node_digest(bytes(32), bytes(32))


def test_incremental_update_equals_rebuild() -> None:
    rng = random.Random(1)
    first = random_pages(rng, 20)
    second = random_pages(rng, 20)
    tree = PageTree.from_pages(first)
    tree.update({p: page_digest(b) for p, b in second.items()})
    assert tree.root == PageTree.from_pages({**first, **second}).root


@pytest.mark.parametrize("seed", range(5))
def test_multiproof_recomputes_the_root(seed: int) -> None:
    rng = random.Random(seed)
    pages = random_pages(rng, 40)
    tree = PageTree.from_pages(pages)
    chosen = [*rng.sample(sorted(pages), 7), rng.randrange(NUM_PAGES)]  # one zero page
    leaves = {p: tree.leaf(p) for p in chosen}
    proof = tree.multiproof(chosen)
    assert root_from_proof(leaves, proof) == tree.root
    # Changing one leaf changes the root computed from the same proof, like a page-out.
    new_leaf = page_digest(bytes([1]) * PAGE_BYTES)
    tree.update({chosen[0]: new_leaf})
    assert root_from_proof({**leaves, chosen[0]: new_leaf}, proof) == tree.root


def test_multiproof_of_neighbours_shares_nodes() -> None:
    assert len(proof_nodes([0, 1])) == TREE_DEPTH - 1
    assert len(proof_nodes([0])) == TREE_DEPTH


def test_bad_proof_length() -> None:
    with pytest.raises(SegmentError, match="sibling"):
        root_from_proof({0: ZERO_SUBTREE[0]}, [])


def test_batched_page_digests_match_single() -> None:
    rng = random.Random(2)
    pages = random_pages(rng, 5)
    assert page_digests(pages) == {p: page_digest(b) for p, b in pages.items()}


def test_page_digest_is_the_poseidon2_sponge_over_16_bit_limbs() -> None:
    from proofmarket.stark.poseidon2_hash import hash_leaf

    data = bytes(range(256)) * 4
    words = [int.from_bytes(data[i : i + 4], "little") for i in range(0, PAGE_BYTES, 4)]
    limbs = [x for w in words for x in (w & 0xFFFF, w >> 16)]
    assert page_digest(data) == hash_leaf(limbs)
    assert node_digest(page_digest(data), ZERO_SUBTREE[0]) != node_digest(
        ZERO_SUBTREE[0], page_digest(data)
    )


def test_interpreter_copies_of_paging_costs_match_layout() -> None:
    from proofmarket.zkvm import interp_core
    from proofmarket.zkvm.layout import PAGE_IN_CYCLES, PAGE_LEAF_PERMUTATIONS, PAGE_OUT_CYCLES

    assert PAGE_LEAF_PERMUTATIONS == PAGE_BYTES // 2 // 16
    assert (interp_core.PAGE_IN_CYCLES, interp_core.PAGE_OUT_CYCLES) == (
        PAGE_IN_CYCLES,
        PAGE_OUT_CYCLES,
    )
    assert PAGE_IN_CYCLES == PAGE_LEAF_PERMUTATIONS + TREE_DEPTH

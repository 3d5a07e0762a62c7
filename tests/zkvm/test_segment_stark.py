"""Whole-segment STARKs: execution tables and paging tables bound to the claim's states."""

from __future__ import annotations

from dataclasses import replace

import pytest

from proofmarket.stark import VerificationError, prove_machine
from proofmarket.stark.params import TEST
from proofmarket.zkvm.circuit.paging import BlockCols
from proofmarket.zkvm.circuit.paging_machine import (
    prove_segment_stark,
    segment_machine,
    segment_witness,
    verify_segment_stark,
)
from proofmarket.zkvm.circuit.statement import CpuStatement
from proofmarket.zkvm.claim import SystemExitKind
from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.isa import asm, load_imm
from proofmarket.zkvm.memory import zero_image_root
from zkvm.programs import halt, make_elf

pytestmark = pytest.mark.slow


def split_segment():  # type: ignore[no-untyped-def]
    """The first segment of a loop that needs two segments at po2 13 (ends SPLIT)."""
    code = [
        *load_imm("s5", 0x0030_0000),
        *load_imm("a1", 5000),
        asm("sw", "a1", 0, "s5"),
        asm("addi", "a1", "a1", -1),
        asm("bne", "a1", "zero", -8),
        *halt(0),
    ]
    session = execute(make_elf(code, bss=4096), segment_po2=13)
    assert session.segment_count == 2
    seg = session.segments[0]
    assert seg.exit_code.system is SystemExitKind.SYSTEM_SPLIT
    return seg


def test_segment_stark_binds_pre_and_post_states() -> None:
    seg = split_segment()
    wit = segment_witness(seg)
    assert wit.paging.pre_root == seg.pre_state.merkle_root
    assert wit.paging.post_root == seg.post_state.merkle_root
    assert (wit.pre_pc, wit.post_pc) == (seg.pre_state.pc, seg.post_state.pc)
    proof, _ = prove_segment_stark(seg, TEST)
    pre, post = seg.pre_state, seg.post_state
    st = CpuStatement(pre.pc, post.pc)
    verify_segment_stark(proof, st, pre.merkle_root, post.merkle_root, TEST)
    with pytest.raises(VerificationError):
        verify_segment_stark(proof, st, zero_image_root(), post.merkle_root, TEST)
    with pytest.raises(VerificationError):
        verify_segment_stark(proof, st, pre.merkle_root, pre.merkle_root, TEST)
    with pytest.raises(VerificationError):  # a split segment cannot claim a HALT
        verify_segment_stark(proof, replace(st, exit_a0=0), pre.merkle_root, post.merkle_root, TEST)


def test_skipped_page_out_in_a_segment_witness_does_not_verify() -> None:
    seg = split_segment()
    wit = segment_witness(seg)
    blocks = wit.traces[2]
    dropped = (blocks[:, BlockCols.TREE] == 1) & (blocks[:, BlockCols.PAGE] == blocks[0, 2])
    traces = list(wit.traces)
    traces[2] = blocks[~dropped]
    proof = prove_machine(segment_machine(), traces, wit.publics, TEST, check=False)
    pre, post = seg.pre_state, seg.post_state
    with pytest.raises(VerificationError):
        verify_segment_stark(
            proof.to_bytes(), wit.statement, pre.merkle_root, post.merkle_root, TEST
        )

"""Completeness on random streams: every segment of random RV32IM programs, with random
READ/WRITE transfers, satisfies the execution tables' constraints and bus balance.

The streams are the unicorn differential tests' (every ALU and M-extension op, loads and
stores of every width, branches, jumps, lui/auipc, fence), so the executor's results on
them are already checked against QEMU; here the circuit must accept exactly those runs.
"""

from __future__ import annotations

import random

import pytest

from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.layout import FD_JOURNAL, FD_STDOUT, SYS_CYCLE_COUNT, SYS_INPUT_LEN
from zkvm.circuit.circuit_programs import check_session
from zkvm.programs import halt, make_elf, read, syscall, write
from zkvm.test_unicorn_diff import DATA_START, random_program


def _io_program(seed: int) -> list[int]:
    rng = random.Random(seed)
    out: list[int] = []
    for _ in range(12):
        addr = DATA_START + rng.randrange(0, 3000)
        length = rng.choice([0, 1, 2, 3, 4, 5, 7, 8, 13, rng.randrange(0, 300)])
        kind = rng.randrange(4)
        if kind == 0:
            out += read(addr, length)
        elif kind == 1:
            out += write(rng.choice([FD_JOURNAL, FD_STDOUT]), addr, length)
        else:
            out += syscall(rng.choice([SYS_INPUT_LEN, SYS_CYCLE_COUNT]))
    return out


def _check_all_segments(code: list[int], data: bytes, inp: bytes, po2: int) -> int:
    elf = make_elf([*code, *halt(5)], data, data_addr=DATA_START)
    session = execute(elf, inp, segment_po2=po2, keep_segments=True)
    return len(check_session(session))


@pytest.mark.parametrize("seed", range(12))
def test_random_streams_satisfy_the_circuit(seed: int) -> None:
    words, data = random_program(seed)
    rng = random.Random(1000 + seed)
    inp = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 700)))
    code = [*_io_program(seed), *words, *_io_program(seed + 500)]
    _check_all_segments(code, data, inp, po2=13)


def test_transfers_across_segment_cuts_satisfy_the_circuit() -> None:
    """Large transfers at a small po2: moved to a fresh segment or shortened."""
    words, data = random_program(99)
    big = [*read(DATA_START + 1, 3000), *write(FD_JOURNAL, DATA_START + 3, 2999)]
    segments = _check_all_segments([*big, *words, *big], data, bytes(range(256)) * 12, po2=13)
    assert segments >= 1

"""The memory-bus contract between the execution tables and the paging tables."""

from __future__ import annotations

import pytest

from proofmarket.zkvm.circuit import buses
from proofmarket.zkvm.layout import REGS_ADDR


def test_bus_ids_are_distinct() -> None:
    ids = {buses.MEMORY_BUS, buses.U16_BUS, buses.BITWISE_BUS, buses.JOURNAL_BUS}
    assert len(ids) == 4


def test_timestamps_are_distinct_and_after_page_in() -> None:
    seen = {buses.cycle_timestamp(r, s) for r in range(100) for s in range(buses.TIMESTAMP_SLOTS)}
    assert len(seen) == 100 * buses.TIMESTAMP_SLOTS
    assert min(seen) > buses.INITIAL_TIMESTAMP
    with pytest.raises(ValueError, match="slot"):
        buses.cycle_timestamp(0, buses.TIMESTAMP_SLOTS)


def test_tuples() -> None:
    assert buses.memory_tuple(0x1000, 7, 0xDEADBEEF) == (0x400, 7, 0xBEEF, 0xDEAD)
    assert buses.register_address(5) == REGS_ADDR // 4 + 5
    with pytest.raises(ValueError, match="aligned"):
        buses.word_address(0x1002)
    with pytest.raises(ValueError, match="32-bit"):
        buses.split_word(1 << 32)
    with pytest.raises(ValueError, match="register"):
        buses.register_address(32)

"""Writes larger than what fits in one segment arrive whole (the SDK loops on short writes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from proofmarket.zkvm import execute
from proofmarket.zkvm.toolchain import build_guest

GUEST = r"""
#include "proofmarket.h"

static uint8_t buf[12288];

int main(void) {
    uint32_t n = pm_read_u32();
    for (uint32_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7 + (i >> 8));
    pm_commit(buf, n);
    pm_write(PM_FD_STDOUT, buf, n);
    return 0;
}
"""


def test_journal_and_stdout_writes_span_segments(tmp_path: Path) -> None:
    source = tmp_path / "bigwrite.c"
    source.write_text(GUEST)
    elf = build_guest([source], tmp_path / "bigwrite.elf").read_bytes()
    n = 12288
    expected = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(n))
    session = execute(elf, n.to_bytes(4, "little"), segment_po2=13)
    assert session.segment_count > 2
    assert len(session.journal) == n
    assert hashlib.sha256(session.journal).digest() == hashlib.sha256(expected).digest()
    assert session.stdout == expected

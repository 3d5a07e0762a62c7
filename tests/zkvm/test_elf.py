"""ELF loading: what is accepted, how it is laid out, and every rejection."""

from __future__ import annotations

import struct

import pytest

from proofmarket.zkvm import ElfError, compute_image_id, load_elf
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.guests import example_elf
from proofmarket.zkvm.isa import words_to_bytes
from proofmarket.zkvm.layout import PAGE_BYTES, USER_END
from zkvm.programs import DATA, TEXT, halt, make_elf

CODE = words_to_bytes(halt())


def patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def test_segments_are_laid_out_with_zeroed_bss() -> None:
    elf = make_elf(halt(), b"\x01\x02\x03", bss=3000)
    program = load_elf(elf)
    assert program.entry == TEXT
    code_page = program.pages[TEXT >> 10]
    assert code_page[TEXT & 1023 : (TEXT & 1023) + len(CODE)] == CODE
    data_page = program.pages[DATA >> 10]
    assert data_page[:4] == b"\x01\x02\x03\x00"
    # .bss pages that stay zero are not stored: they are zero pages of the image.
    assert (DATA >> 10) + 1 not in program.pages
    assert all(len(p) == PAGE_BYTES for p in program.pages.values())


def test_large_bss_is_not_materialized() -> None:
    program = load_elf(make_elf(halt(), b"\x01", bss=256 * 1024 * 1024))
    assert len(program.pages) == 2  # the code page and the one page with data


def test_example_guest_loads_and_has_a_stable_image_id() -> None:
    elf = example_elf("fib")
    program = load_elf(elf)
    assert program.entry >= 0x0020_0800
    assert compute_image_id(elf) == compute_image_id(elf)
    assert compute_image_id(elf) != compute_image_id(example_elf("iter"))


def test_image_id_commits_to_entry_and_every_byte() -> None:
    base = build_elf([(TEXT, CODE + bytes(8), len(CODE) + 8)], TEXT)
    moved_entry = build_elf([(TEXT, CODE + bytes(8), len(CODE) + 8)], TEXT + 4)
    changed = build_elf([(TEXT, CODE + b"\x00" * 7 + b"\x01", len(CODE) + 8)], TEXT)
    ids = {compute_image_id(e) for e in (base, moved_entry, changed)}
    assert len(ids) == 3


BAD = [
    ("empty", b"", "not an ELF"),
    ("text", b"hello world, not an elf", "not an ELF"),
    ("truncated", make_elf(halt())[:30], "truncated"),
    ("64-bit", patch(make_elf(halt()), 4, "<B", 2), "64-bit"),
    ("big-endian", patch(make_elf(halt()), 5, "<B", 2), "big-endian"),
    ("x86", build_elf([(TEXT, CODE, len(CODE))], TEXT, machine=62), "wrong architecture"),
    ("shared-object", patch(make_elf(halt()), 16, "<H", 3), "not an executable"),
    ("rvc", patch(make_elf(halt()), 36, "<I", 1), "compressed"),
    ("hard-float", patch(make_elf(halt()), 36, "<I", 4), "floating-point"),
    ("entry-low", build_elf([(TEXT, CODE, len(CODE))], 0x100), "outside user memory"),
    ("entry-kernel", build_elf([(TEXT, CODE, len(CODE))], 0xC000_1000), "outside user memory"),
    ("entry-misaligned", build_elf([(TEXT, CODE, len(CODE))], TEXT + 2), "aligned"),
    ("entry-not-code", build_elf([(TEXT, CODE, len(CODE))], TEXT + 0x1000), "executable segment"),
    ("segment-low", build_elf([(0x8000, CODE, len(CODE))], 0x8000), "outside user memory"),
    (
        "segment-past-end",
        build_elf([(TEXT, CODE, len(CODE)), (USER_END - 16, b"", 64)], TEXT),
        "outside user memory",
    ),
    ("huge-bss", build_elf([(TEXT, CODE, len(CODE)), (DATA, b"", 1 << 30)], TEXT), "more than"),
    ("no-load", build_elf([], TEXT), "no PT_LOAD"),
]


@pytest.mark.parametrize(("name", "elf", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_elf_files_are_rejected_with_a_reason(name: str, elf: bytes, message: str) -> None:
    with pytest.raises(ElfError, match=message):
        load_elf(elf)
    with pytest.raises(ElfError):
        compute_image_id(elf)


def test_segment_beyond_file_end() -> None:
    elf = make_elf(halt())
    # p_filesz of the first program header (offset 52 + 16) claims more than the file has.
    bad = patch(elf, 52 + 16, "<I", 10_000)
    bad = patch(bad, 52 + 20, "<I", 10_000)
    with pytest.raises(ElfError, match="past the end"):
        load_elf(bad)


def test_non_bytes_input() -> None:
    with pytest.raises(ElfError, match="bytes"):
        load_elf("not bytes")  # type: ignore[arg-type]

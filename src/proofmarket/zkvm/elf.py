"""Loading static RV32IM ELF executables into a paged memory image.

The loader accepts what the zkVM can run and nothing else: a little-endian 32-bit
RISC-V ``ET_EXEC`` file without compressed instructions or a hardware-float ABI, whose
``PT_LOAD`` segments and entry point lie in user memory. Every rejection says why.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.elffile import ELFFile

from proofmarket.zkvm.errors import ElfError
from proofmarket.zkvm.layout import MAX_IMAGE_BYTES, PAGE_BYTES, PAGE_SHIFT, USER_END, USER_START

EM_RISCV = 243
EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI = 0x6
EF_RISCV_RVE = 0x8
PF_X = 0x1


@dataclass(frozen=True)
class Program:
    """A loaded guest: its entry point and the non-zero pages of its initial image."""

    entry: int
    pages: dict[int, bytes]

    @property
    def size(self) -> int:
        return len(self.pages) * PAGE_BYTES


def _check_header(data: bytes) -> None:
    if len(data) < 4 or data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file (bad magic bytes)")
    if len(data) < 52:
        raise ElfError(f"truncated ELF file ({len(data)} bytes, the header alone is 52)")
    if data[4] == 2:
        raise ElfError("64-bit ELF files are not supported; build for rv32im (ilp32)")
    if data[4] != 1:
        raise ElfError(f"unknown ELF class {data[4]}")
    if data[5] != 1:
        raise ElfError("big-endian ELF files are not supported; RISC-V is little-endian")


def load_elf(data: bytes) -> Program:
    """Parse and validate an RV32IM executable and lay its segments into 1 KiB pages."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ElfError(f"ELF data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    _check_header(data)
    try:
        elf = ELFFile(io.BytesIO(data))
        header = elf.header
        machine = header["e_machine"]
        machine_id = machine if isinstance(machine, int) else _machine_number(data)
        if machine_id != EM_RISCV:
            raise ElfError(f"wrong architecture {machine}: expected RISC-V (EM_RISCV={EM_RISCV})")
        if header["e_type"] != "ET_EXEC":
            raise ElfError(
                f"not an executable ELF (type {header['e_type']}); link a static executable"
            )
        flags = header["e_flags"]
        if flags & EF_RISCV_RVC:
            raise ElfError("ELF uses compressed instructions (C extension); build for rv32im")
        if flags & EF_RISCV_FLOAT_ABI:
            raise ElfError("ELF uses a hardware floating-point ABI; build with -mabi=ilp32")
        if flags & EF_RISCV_RVE:
            raise ElfError("ELF targets the RV32E base ISA; build for rv32im")
        entry = header["e_entry"]
        loads = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        if not loads:
            raise ElfError("ELF has no PT_LOAD segments")
        image: dict[int, bytearray] = {}
        total = 0
        entry_ok = False
        for seg in loads:
            vaddr, memsz, filesz = seg["p_vaddr"], seg["p_memsz"], seg["p_filesz"]
            if memsz == 0:
                continue
            if filesz > memsz:
                raise ElfError(
                    f"segment at 0x{vaddr:08x}: file size {filesz} > memory size {memsz}"
                )
            if vaddr < USER_START or vaddr + memsz > USER_END:
                raise ElfError(
                    f"segment [0x{vaddr:08x}, 0x{vaddr + memsz:08x}) lies outside user memory "
                    f"[0x{USER_START:08x}, 0x{USER_END:08x})"
                )
            total += memsz
            if total > MAX_IMAGE_BYTES:
                raise ElfError(f"ELF segments need more than {MAX_IMAGE_BYTES} bytes of memory")
            offset = seg["p_offset"]
            if offset + filesz > len(data):
                raise ElfError(f"segment at 0x{vaddr:08x} extends past the end of the file")
            if seg["p_flags"] & PF_X and vaddr <= entry < vaddr + memsz:
                entry_ok = True
            _lay_out(image, vaddr, data[offset : offset + filesz])
    except _PyElfError as exc:
        raise ElfError(f"malformed ELF file: {exc}") from exc
    except (struct.error, ValueError, KeyError) as exc:
        raise ElfError(f"malformed ELF file: {exc}") from exc
    if not USER_START <= entry < USER_END:
        raise ElfError(f"entry point 0x{entry:08x} is outside user memory")
    if entry & 3:
        raise ElfError(f"entry point 0x{entry:08x} is not 4-byte aligned")
    if not entry_ok:
        raise ElfError(f"entry point 0x{entry:08x} is not inside an executable segment")
    pages = {p: bytes(b) for p, b in image.items() if any(b)}
    return Program(entry=entry, pages=pages)


def _machine_number(data: bytes) -> int:
    return int(struct.unpack_from("<H", data, 18)[0])


def _lay_out(image: dict[int, bytearray], vaddr: int, content: bytes) -> None:
    """Copy ``content`` to ``vaddr``. The rest of the segment (.bss) is left out: pages
    that are not in the image are zero pages, so a large .bss costs nothing here."""
    pos = 0
    while pos < len(content):
        a = vaddr + pos
        off = a & (PAGE_BYTES - 1)
        chunk = min(PAGE_BYTES - off, len(content) - pos)
        page = image.setdefault(a >> PAGE_SHIFT, bytearray(PAGE_BYTES))
        page[off : off + chunk] = content[pos : pos + chunk]
        pos += chunk


def build_elf(
    segments: list[tuple[int, bytes, int]], entry: int, *, machine: int = EM_RISCV
) -> bytes:
    """A minimal static ELF32 executable with the given ``(vaddr, content, memsz)`` loads.

    Used for hand-assembled test programs and the built-in benchmark; the first segment
    is marked executable, the others read/write.
    """
    ehsize, phentsize = 52, 32
    phoff = ehsize
    data_off = phoff + phentsize * len(segments)
    data_off = (data_off + 15) & ~15
    header = struct.pack(
        "<4sBBBBB7sHHIIIIIHHHHHH",
        b"\x7fELF",
        1,  # ELFCLASS32
        1,  # little-endian
        1,  # EV_CURRENT
        0,
        0,
        bytes(7),
        2,  # ET_EXEC
        machine,
        1,
        entry,
        phoff,
        0,  # no section headers
        0,  # e_flags: soft-float, no RVC
        ehsize,
        phentsize,
        len(segments),
        40,
        0,
        0,
    )
    phdrs = b""
    blobs = b""
    offset = data_off
    for i, (vaddr, content, memsz) in enumerate(segments):
        flags = 0x5 if i == 0 else 0x6  # R+X for code, R+W for data
        phdrs += struct.pack(
            "<IIIIIIII", 1, offset, vaddr, vaddr, len(content), max(memsz, len(content)), flags, 4
        )
        blobs += content
        offset += len(content)
    out = header + phdrs
    out += bytes(data_off - len(out))
    return out + blobs

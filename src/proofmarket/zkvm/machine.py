"""The machine: page pool, registers and syscalls around the interpreter loop.

``Machine.run_segment`` runs one segment: it pages in the register page, lets the
compiled loop run until it needs the host, serves syscalls in Python and returns a
``SegmentRun`` describing what the segment touched, dirtied and consumed. The same code
serves execution (pages are materialized on first touch) and segment replay (``strict``:
only the pages the segment carries exist).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from proofmarket.zkvm import interp_core as ic
from proofmarket.zkvm.backend import run_function
from proofmarket.zkvm.errors import GuestFault, GuestPanic, ReplayError, SessionLimitExceeded
from proofmarket.zkvm.layout import (
    FD_JOURNAL,
    FD_STDERR,
    FD_STDOUT,
    HALT_PAUSE,
    HALT_TERMINATE,
    MAX_PANIC_MESSAGE,
    NUM_PAGES,
    PAGE_BYTES,
    PAGE_IN_CYCLES,
    PAGE_OUT_CYCLES,
    PAGE_SHIFT,
    REG_PAGE,
    REG_PAGE_OFFSET,
    SYS_CYCLE_COUNT,
    SYS_HALT,
    SYS_INPUT_LEN,
    SYS_PANIC,
    SYS_READ,
    SYS_WRITE,
    USER_END,
    USER_START,
)

MASK = 0xFFFF_FFFF
_NO_LIMIT = 1 << 62
_REG_WORD = REG_PAGE_OFFSET // 4

assert np.little_endian, "the executor's page views assume a little-endian host"


class StopKind(Enum):
    SPLIT = "split"
    HALT = "halt"
    PAUSE = "pause"


class GuestInput:
    """The guest's input stream.

    During replay only the bytes the segment consumed are present, while ``INPUT_LEN``
    must still report what the whole session had left; ``total`` carries that.
    """

    def __init__(self, data: bytes, total: int | None = None, *, replay: bool = False) -> None:
        self.data = data
        self.total = len(data) if total is None else total
        self.pos = 0
        self.replay = replay

    def remaining(self) -> int:
        return self.total - self.pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ReplayError(
                f"segment reads {self.pos + n} input bytes but carries only {len(self.data)}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


@dataclass
class SegmentRun:
    """What one segment did, as the executor needs it to cut a ``Segment``."""

    kind: StopKind
    user_exit: int
    pc: int  # next pc (for HALT/PAUSE: after the ecall)
    user_cycles: int
    touched: list[int]  # pages in first-touch order (register page first)
    dirty: list[int]
    snapshots: dict[int, bytes] = field(default_factory=dict)  # pre-segment page contents
    input_consumed: bytes = b""

    @property
    def paging_cycles(self) -> int:
        out_pages = 0 if self.kind is StopKind.HALT else len(self.dirty)
        return len(self.touched) * PAGE_IN_CYCLES + out_pages * PAGE_OUT_CYCLES

    @property
    def cycles(self) -> int:
        return self.user_cycles + self.paging_cycles


_FAULT_REASONS = {
    ic.F_ILLEGAL: "illegal instruction 0x{info:08x}",
    ic.F_LOAD_MISALIGNED: "misaligned load from 0x{info:08x}",
    ic.F_STORE_MISALIGNED: "misaligned store to 0x{info:08x}",
    ic.F_LOAD_ACCESS: "load from 0x{info:08x} outside user memory",
    ic.F_STORE_ACCESS: "store to 0x{info:08x} outside user memory",
    ic.F_FETCH_ACCESS: "instruction fetch from 0x{info:08x} outside user memory",
    ic.F_TARGET_MISALIGNED: "jump or branch to misaligned address 0x{info:08x}",
    ic.F_EBREAK: "ebreak",
}


class Machine:
    """Registers, paged memory and I/O of one guest execution."""

    def __init__(
        self,
        pages: Mapping[int, bytes],
        pc: int,
        guest_input: GuestInput,
        *,
        start_cycle: int = 0,
        strict: bool = False,
        backend: str | None = None,
    ) -> None:
        self._run: Callable[..., int] = run_function(backend)
        self.strict = strict
        self.input = guest_input
        self.cycle = start_cycle  # total cycles of the session before the current segment
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.journal = bytearray()
        self.st = np.zeros(ic.ST_SIZE, dtype=np.int64)
        self.st[ic.ST_PC] = pc
        self.st[ic.ST_STRICT] = 1 if strict else 0
        self.regs = np.zeros(32, dtype=np.int64)
        # page -> slot + 1 (0: zero page not materialized); np.zeros is lazily zeroed memory
        self.pt = np.zeros(NUM_PAGES, dtype=np.int32)
        nslots = len(pages) if strict else max(64, 2 * len(pages) + 8)
        self._alloc_pool(nslots)
        for slot, (page, data) in enumerate(sorted(pages.items())):
            if len(data) != PAGE_BYTES:
                raise ValueError(f"page 0x{page:x} is {len(data)} bytes, not {PAGE_BYTES}")
            self.pt[page] = slot + 1
            self.slot_page[slot] = page
            self.mem8[slot * PAGE_BYTES : (slot + 1) * PAGE_BYTES] = np.frombuffer(data, np.uint8)
        self.st[ic.ST_NUSED] = len(pages)
        self._seg_limit = 0
        self.touched = np.zeros(0, dtype=np.int32)
        self.dirty = np.zeros(0, dtype=np.int32)
        self.snap = np.zeros(0, dtype=np.uint8)
        # per-instruction records for the circuit (no rows: recording off)
        self.rec = np.zeros((0, ic.REC_WIDTH), dtype=np.int64)

    def start_recording(self, capacity: int) -> None:
        """Record every instruction of the next segment (at most ``capacity``) in ``rec``."""
        self.rec = np.zeros((capacity, ic.REC_WIDTH), dtype=np.int64)
        self.st[ic.ST_NREC] = 0

    @property
    def records(self) -> np.ndarray:
        """The rows recorded so far (a view of ``rec``)."""
        return self.rec[: int(self.st[ic.ST_NREC])]

    # ------------------------------------------------------------------ memory
    def _alloc_pool(self, nslots: int) -> None:
        self.mem8 = np.zeros(nslots * PAGE_BYTES, dtype=np.uint8)
        self.mem16 = self.mem8.view(np.uint16)
        self.mem32 = self.mem8.view(np.uint32)
        self.slot_page = np.full(nslots, -1, dtype=np.int32)
        self.slot_touch = np.zeros(nslots, dtype=np.int32)
        self.slot_dirty = np.zeros(nslots, dtype=np.int32)

    def _grow(self, extra: int) -> None:
        if self.strict:
            raise ReplayError("segment replay ran out of carried pages")
        used = int(self.st[ic.ST_NUSED])
        old = (self.mem8, self.slot_page, self.slot_touch, self.slot_dirty)
        self._alloc_pool(max(2 * len(old[1]), used + extra, 64))
        self.mem8[: used * PAGE_BYTES] = old[0][: used * PAGE_BYTES]
        self.slot_page[:used] = old[1][:used]
        self.slot_touch[:used] = old[2][:used]
        self.slot_dirty[:used] = old[3][:used]

    @property
    def pc(self) -> int:
        return int(self.st[ic.ST_PC])

    def page_bytes(self, page: int) -> bytes:
        """Current content of a page (zeros if never materialized)."""
        slot = int(self.pt[page]) - 1
        if slot < 0:
            return bytes(PAGE_BYTES)
        return self.mem8[slot * PAGE_BYTES : (slot + 1) * PAGE_BYTES].tobytes()

    def _touch(self, page: int, write: bool) -> int:
        """Python twin of the touch logic in ``interp_core.run``; returns the slot."""
        slot = int(self.pt[page]) - 1
        if slot < 0:
            if self.strict:
                raise ReplayError(f"segment does not carry page 0x{page:x} that it touches")
            used = int(self.st[ic.ST_NUSED])
            if used >= len(self.slot_page):
                self._grow(1)
            slot = used
            self.st[ic.ST_NUSED] = used + 1
            self.pt[page] = slot + 1
            self.slot_page[slot] = page
        gen = self.st[ic.ST_GEN]
        if self.slot_touch[slot] != gen:
            self.slot_touch[slot] = gen
            k = int(self.st[ic.ST_NTOUCH])
            self.touched[k] = page
            self.snap[k * PAGE_BYTES : (k + 1) * PAGE_BYTES] = self.mem8[
                slot * PAGE_BYTES : (slot + 1) * PAGE_BYTES
            ]
            self.st[ic.ST_NTOUCH] = k + 1
        if write and self.slot_dirty[slot] != gen:
            self.slot_dirty[slot] = gen
            self.dirty[int(self.st[ic.ST_NDIRTY])] = page
            self.st[ic.ST_NDIRTY] += 1
        return slot

    def _segment_cycles(self) -> int:
        """Cycles so far in this segment, including page-outs of the pages dirtied so far."""
        st = self.st
        return int(
            st[ic.ST_UCYC] + st[ic.ST_NTOUCH] * PAGE_IN_CYCLES + st[ic.ST_NDIRTY] * PAGE_OUT_CYCLES
        )

    def _fit(self, addr: int, n: int, write: bool) -> int:
        """Bytes a READ/WRITE of ``n`` bytes may move in this segment; -1 = cut first.

        A transfer that does not fit is moved to a fresh segment; one that does not fit
        even there is shortened to the longest prefix that does (at least one byte).
        Costs: 1 + the number of words the buffer spans (one circuit row each) plus a
        page-in for each untouched page and, when writing guest memory, a page-out for
        each page not yet dirty.
        """
        if n == 0:
            return 0
        room = self._seg_limit - self._segment_cycles() - 1
        gen = self.st[ic.ST_GEN]
        paging = 0
        best = 0
        page = addr >> PAGE_SHIFT
        done = 0  # bytes covered by the pages examined so far
        while done < n:
            slot = int(self.pt[page]) - 1
            if slot < 0 or self.slot_touch[slot] != gen:
                paging += PAGE_IN_CYCLES
            if write and (slot < 0 or self.slot_dirty[slot] != gen):
                paging += PAGE_OUT_CYCLES
            end = min(n, ((page + 1) << PAGE_SHIFT) - addr)
            # words spanned by [addr, addr + k) <= room - paging
            most = min(end, ((addr >> 2) + room - paging) * 4 - addr)
            if most <= done:
                break
            best = most
            if most < end:
                break
            done = end
            page += 1
        if best == n:
            return n
        if self.st[ic.ST_UCYC] > 0:
            return -1
        if best == 0:
            raise RuntimeError("a fresh segment cannot hold a one-byte transfer")
        return best

    def _write_bytes(self, addr: int, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            a = addr + pos
            off = a & (PAGE_BYTES - 1)
            chunk = min(PAGE_BYTES - off, len(data) - pos)
            slot = self._touch(a >> PAGE_SHIFT, True)
            base = slot * PAGE_BYTES + off
            self.mem8[base : base + chunk] = np.frombuffer(data[pos : pos + chunk], np.uint8)
            pos += chunk

    def _read_bytes(self, addr: int, n: int, *, touch: bool = True) -> bytes:
        out = bytearray()
        while len(out) < n:
            a = addr + len(out)
            off = a & (PAGE_BYTES - 1)
            chunk = min(PAGE_BYTES - off, n - len(out))
            page = a >> PAGE_SHIFT
            slot = self._touch(page, False) if touch else (int(self.pt[page]) - 1)
            if slot < 0:
                out += bytes(chunk)
            else:
                base = slot * PAGE_BYTES + off
                out += self.mem8[base : base + chunk].tobytes()
        return bytes(out)

    # ------------------------------------------------------------------ segments
    def run_segment(
        self, po2: int, cycles_allowed: int | None = None, *, record: bool = True
    ) -> SegmentRun:
        """Run one segment of at most 2^po2 cycles.

        ``cycles_allowed``: cycles this segment may use before the session limit.
        ``record``: keep the pre-segment contents of touched pages (needed for segments).
        """
        limit = 1 << po2
        if self._seg_limit != limit:
            cap = limit // PAGE_IN_CYCLES + 8
            self.touched = np.zeros(cap, dtype=np.int32)
            self.dirty = np.zeros(cap, dtype=np.int32)
            self.snap = np.zeros(cap * PAGE_BYTES, dtype=np.uint8)
            self._seg_limit = limit
        st = self.st
        st[ic.ST_GEN] += 1
        st[ic.ST_UCYC] = 0
        st[ic.ST_NTOUCH] = 0
        st[ic.ST_NDIRTY] = 0
        st[ic.ST_FAULT] = 0
        st[ic.ST_LIMIT] = limit
        st[ic.ST_CLIMIT] = _NO_LIMIT if cycles_allowed is None else cycles_allowed
        input_start = self.input.pos
        # The register page is paged in at the start and out at the end of every segment.
        slot = self._touch(REG_PAGE, True)
        words = self.mem32[slot * 256 + _REG_WORD : slot * 256 + _REG_WORD + 32]
        self.regs[:] = words.astype(np.int64)
        self.regs[0] = 0
        kind = StopKind.SPLIT
        user_exit = 0
        while True:
            status = self._run(
                st,
                self.regs,
                self.pt,
                self.mem8,
                self.mem16,
                self.mem32,
                self.slot_page,
                self.slot_touch,
                self.slot_dirty,
                self.touched,
                self.snap,
                self.dirty,
                self.rec,
            )
            if status == ic.RUN_ECALL:
                stop = self._ecall()
                if stop is None:
                    if st[ic.ST_UCYC] + st[ic.ST_NTOUCH] * PAGE_IN_CYCLES > st[ic.ST_CLIMIT]:
                        self._raise_limit()
                    continue
                kind, user_exit = stop
                break
            if status == ic.RUN_SPLIT:
                break
            if status == ic.RUN_NEED_POOL:
                self._grow(2)
                continue
            if status == ic.RUN_LIMIT:
                self._raise_limit()
            if status == ic.RUN_FAULT:
                self._raise_fault()
            raise RuntimeError(f"interpreter returned unknown status {status}")
        if kind is not StopKind.HALT:
            slot = int(self.pt[REG_PAGE]) - 1
            self.mem32[slot * 256 + _REG_WORD : slot * 256 + _REG_WORD + 32] = self.regs
        ntouch = int(st[ic.ST_NTOUCH])
        touched = [int(p) for p in self.touched[:ntouch]]
        snapshots: dict[int, bytes] = {}
        if record:
            for k, page in enumerate(touched):
                snapshots[page] = self.snap[k * PAGE_BYTES : (k + 1) * PAGE_BYTES].tobytes()
        return SegmentRun(
            kind=kind,
            user_exit=user_exit,
            pc=self.pc,
            user_cycles=int(st[ic.ST_UCYC]),
            touched=touched,
            dirty=[int(p) for p in self.dirty[: int(st[ic.ST_NDIRTY])]],
            snapshots=snapshots,
            input_consumed=self.input.data[input_start : self.input.pos],
        )

    def _raise_limit(self) -> None:
        used = self.cycle + int(self.st[ic.ST_UCYC] + self.st[ic.ST_NTOUCH] * PAGE_IN_CYCLES)
        allowed = self.cycle + int(self.st[ic.ST_CLIMIT])
        raise SessionLimitExceeded(max(used, allowed + 1), allowed)

    def _raise_fault(self) -> None:
        code = int(self.st[ic.ST_FAULT])
        info = int(self.st[ic.ST_FAULT_INFO])
        if code == ic.F_MISSING_PAGE:
            raise ReplayError(f"segment does not carry page 0x{info:x} that it touches")
        reason = _FAULT_REASONS.get(code, "unknown fault {info}").format(info=info)
        raise GuestFault(self.pc, reason)

    # ------------------------------------------------------------------ syscalls
    def _user_range(self, addr: int, n: int, what: str) -> None:
        if n > 0 and (addr < USER_START or addr + n > USER_END):
            raise GuestFault(self.pc, f"{what} buffer 0x{addr:08x}+{n} is outside user memory")

    def _ecall(self) -> tuple[StopKind, int] | None:
        """Serve one syscall. Returns how the segment stops, or None to keep running."""
        regs = self.regs
        st = self.st
        sel = int(regs[5])
        a0, a1, a2 = int(regs[10]), int(regs[11]), int(regs[12])
        result: int
        extra = 0
        if sel == SYS_HALT:
            kind = a0 & 0xFF
            if kind not in (HALT_TERMINATE, HALT_PAUSE):
                raise GuestFault(self.pc, f"HALT with unknown kind {kind}")
            self._record_ecall(sel, a0, a0)
            st[ic.ST_UCYC] += 1
            st[ic.ST_PC] += 4
            return (StopKind.HALT if kind == HALT_TERMINATE else StopKind.PAUSE), a0 >> 8
        length = pointer = 0  # READ/WRITE: the length register and the buffer
        before: list[int] = []  # the buffer's words before and after (recording only)
        after: list[int] = []
        if sel == SYS_READ:
            n = min(a1, self.input.remaining())
            self._user_range(a0, n, "READ")
            k = self._fit(a0, n, True)
            if k < 0:
                return StopKind.SPLIT, 0
            length, pointer = a1, a0
            before = self._words(a0, k) if self._recording() else []
            if k:
                self._write_bytes(a0, self.input.take(k))
            after = self._words(a0, k) if before else []
            result, extra = k, _words_spanned(a0, k)
        elif sel == SYS_WRITE:
            if a0 not in (FD_STDOUT, FD_STDERR, FD_JOURNAL):
                raise GuestFault(self.pc, f"WRITE to unknown file descriptor {a0}")
            self._user_range(a1, a2, "WRITE")
            k = self._fit(a1, a2, False)
            if k < 0:
                return StopKind.SPLIT, 0
            length, pointer = a2, a1
            data = self._read_bytes(a1, k) if k else b""
            {FD_STDOUT: self.stdout, FD_STDERR: self.stderr, FD_JOURNAL: self.journal}[a0] += data
            before = after = self._words(a1, k) if self._recording() else []
            result, extra = k, _words_spanned(a1, k)
        elif sel == SYS_INPUT_LEN:
            result = min(self.input.remaining(), MASK)
        elif sel == SYS_CYCLE_COUNT:
            result = (self.cycle + int(st[ic.ST_UCYC] + st[ic.ST_NTOUCH] * PAGE_IN_CYCLES)) & MASK
        elif sel == SYS_PANIC:
            n = min(a1, MAX_PANIC_MESSAGE)
            if n and (a0 < USER_START or a0 + n > USER_END):
                message = f"<panic message at 0x{a0:08x}+{a1} is outside user memory>"
            else:
                message = self._read_bytes(a0, n, touch=False).decode("utf-8", "replace")
            raise GuestPanic(message, self.pc)
        else:
            raise GuestFault(self.pc, f"unknown syscall selector t0={sel}")
        self._record_ecall(sel, a0, result, length=length, pointer=pointer)
        self._record_io(pointer, result, before, after, write=sel == SYS_WRITE)
        regs[10] = result
        st[ic.ST_UCYC] += 1 + extra
        st[ic.ST_PC] += 4
        return None

    def _recording(self) -> bool:
        return self.rec.shape[0] > 0

    def _words(self, addr: int, n: int) -> list[int]:
        """The words spanned by ``[addr, addr + n)`` (for the syscall's I/O records)."""
        if n == 0:
            return []
        first = addr & ~3
        data = self._read_bytes(first, 4 * _words_spanned(addr, n), touch=False)
        return [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4)]

    def _record_ecall(
        self, selector: int, a0: int, result: int, *, length: int = 0, pointer: int = 0
    ) -> None:
        """The syscall's own record row (recording only): t0, a0 before and after, and
        for READ/WRITE the length register and the buffer pointer."""
        n = int(self.st[ic.ST_NREC])
        if n >= self.rec.shape[0]:
            return
        pc = int(self.st[ic.ST_PC])
        self.rec[n] = 0
        self.rec[n, ic.REC_PC] = pc
        self.rec[n, ic.REC_INSN] = 0x73
        self.rec[n, ic.REC_RS1_VAL] = selector
        self.rec[n, ic.REC_RS2_VAL] = a0
        self.rec[n, ic.REC_RD_VAL] = result
        self.rec[n, ic.REC_MEM_ADDR] = length
        self.rec[n, ic.REC_MEM_OLD] = pointer
        self.rec[n, ic.REC_NEXT_PC] = pc + 4
        self.st[ic.ST_NREC] = n + 1

    def _record_io(
        self, addr: int, k: int, before: list[int], after: list[int], *, write: bool
    ) -> None:
        """One I/O record row per word a READ/WRITE moves (recording only).

        ``REC_INSN`` is :data:`IO_READ_WORD` / :data:`IO_WRITE_WORD` (opcode 0: never an
        executable instruction); ``REC_RS1_VAL`` packs the first byte offset and the end
        offset within the word (``lo | hi << 4``), ``REC_RS2_VAL`` the bytes still to move.
        """
        if not before:
            return
        n = int(self.st[ic.ST_NREC])
        if n + len(before) > self.rec.shape[0]:
            return
        pc = int(self.st[ic.ST_PC]) + 4
        end = addr + k
        first = addr & ~3
        rem = k
        for i, (old, new) in enumerate(zip(before, after, strict=True)):
            w = first + 4 * i
            lo = max(addr - w, 0)
            hi = min(end - w, 4)
            row = self.rec[n + i]
            row[:] = 0
            row[ic.REC_PC] = pc
            row[ic.REC_INSN] = IO_WRITE_WORD if write else IO_READ_WORD
            row[ic.REC_RS1_VAL] = lo | hi << 4
            row[ic.REC_RS2_VAL] = rem
            row[ic.REC_MEM_ADDR] = w
            row[ic.REC_MEM_OLD] = old
            row[ic.REC_MEM_NEW] = new
            row[ic.REC_NEXT_PC] = pc
            rem -= hi - lo
        self.st[ic.ST_NREC] = n + len(before)


IO_READ_WORD = 0x0000_0000
"""Record word of a READ's I/O row (opcode 0, funct3 0)."""
IO_WRITE_WORD = 0x0000_1000
"""Record word of a WRITE's I/O row (opcode 0, funct3 1)."""


def _words_spanned(addr: int, n: int) -> int:
    """Words of memory that the bytes ``[addr, addr + n)`` lie in (0 for none)."""
    return 0 if n <= 0 else ((addr + n + 3) >> 2) - (addr >> 2)

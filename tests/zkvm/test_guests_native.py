"""Example guests: zkVM run == native (gcc + host shim) run == Python reference."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from proofmarket.zkvm import GuestPanic, execute
from proofmarket.zkvm.claim import ExitCode, ReceiptClaim
from proofmarket.zkvm.guests import example_elf, example_source
from proofmarket.zkvm.toolchain import build_guest
from zkvm.native import NativeResult, build_native, run_native

MASK = 0xFFFF_FFFF


def fib_reference(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) & MASK
    return a


def iter_reference(n: int) -> int:
    x = n
    for i in range(n * 1024):
        x = (((x ^ i) * 0x9E3779B1) + (x >> 15)) & MASK
    return x


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("native")
    return {
        name: build_native([example_source(name)], out / name)
        for name in ("fib", "sha256", "iter", "panic")
    }


def assert_same_as_native(name: str, data: bytes, native_result: NativeResult) -> bytes:
    """Run on the zkVM and compare every observable with the native run; return journal."""
    session = execute(example_elf(name), data)
    assert native_result.kind == "halted"
    assert session.exit_code == ExitCode.halted(native_result.user_exit or 0)
    assert session.journal == native_result.journal
    assert session.stdout == native_result.stdout
    assert session.stderr == native_result.stderr
    assert session.claim().exit_code == session.exit_code
    return session.journal


def assert_journal(native: dict[str, Path], name: str, data: bytes, expected: bytes) -> None:
    """The native run and the zkVM run of guest ``name`` both commit ``expected``."""
    result = run_native(native[name], data)
    assert result.journal == expected
    assert assert_same_as_native(name, data, result) == expected


def assert_same_panic(native: dict[str, Path], name: str, data: bytes) -> str:
    """Guest ``name`` panics natively and on the zkVM with the same message; returns it."""
    result = run_native(native[name], data)
    assert result.kind == "panic"
    with pytest.raises(GuestPanic) as info:
        execute(example_elf(name), data)
    assert info.value.message == result.panic_message
    return info.value.message


@pytest.mark.parametrize("n", [0, 1, 2, 10, 47, 48, 100, 1000])
def test_fib(native: dict[str, Path], n: int) -> None:
    assert_journal(native, "fib", u32(n), u32(fib_reference(n)))


def test_fib_session_claim_is_ok_claim() -> None:
    session = execute(example_elf("fib"), u32(20))
    assert session.claim() == ReceiptClaim.ok(session.image_id, u32(6765))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"abc",
        b"a" * 55,  # padding fits in one block
        b"b" * 56,  # padding spills into a second block
        b"c" * 64,
        b"d" * 119,
        bytes(range(256)) * 5,  # 1280 bytes, 20+ blocks
    ],
    ids=lambda d: f"{len(d)}B",
)
def test_sha256(native: dict[str, Path], data: bytes) -> None:
    assert_journal(native, "sha256", data, hashlib.sha256(data).digest())


@pytest.mark.parametrize("n", [1, 3])
def test_iter(native: dict[str, Path], n: int) -> None:
    assert_journal(native, "iter", u32(n), u32(iter_reference(n)))


def test_iter_cycles_scale_with_n() -> None:
    one = execute(example_elf("iter"), u32(1)).user_cycles
    four = execute(example_elf("iter"), u32(4)).user_cycles
    assert one > 1024 * 4
    assert 3.5 < four / one < 4.5


def test_iter_zero_panics(native: dict[str, Path]) -> None:
    assert assert_same_panic(native, "iter", u32(0)) == "iter: N must be at least 1"


@pytest.mark.parametrize("code", [1, 7, 255, 0xFFFFFF])
def test_panic_guest_exit_code(native: dict[str, Path], code: int) -> None:
    result = run_native(native["panic"], u32(code))
    assert result.user_exit == code
    assert result.stdout == b"panic guest: halting\n"
    assert assert_same_as_native("panic", u32(code), result) == u32(code)


def test_exit_code_is_24_bits(native: dict[str, Path]) -> None:
    """HALT passes ``user_exit << 8`` in a0, so only the low 24 bits of a code survive."""
    result = run_native(native["panic"], u32(0x1234567))
    assert result.user_exit == 0x234567
    session = execute(example_elf("panic"), u32(0x1234567))
    assert session.exit_code == ExitCode.halted(0x234567)


def test_panic_guest_panics_with_message(native: dict[str, Path]) -> None:
    assert assert_same_panic(native, "panic", u32(0)) == "panic guest: code 0 requested"


@pytest.mark.parametrize("name", ["fib", "iter", "panic"])
def test_short_input_panics(native: dict[str, Path], name: str) -> None:
    assert assert_same_panic(native, name, b"ab") == "input too short: expected a u32"


SELFTEST = Path(__file__).parent / "native" / "guests" / "runtime_selftest.c"


@pytest.mark.parametrize("size", [0, 45, 200])
def test_runtime_selftest_matches_native(tmp_path: Path, size: int) -> None:
    """The SDK runtime (mem*, heap, compiler-rt, streaming SHA-256) agrees with libc/gcc."""
    data = bytes((i * 37 + 11) & 0xFF for i in range(size))
    elf = build_guest([SELFTEST], tmp_path / "selftest.elf")
    exe = build_native([SELFTEST], tmp_path / "selftest")
    result = run_native(exe, data)
    assert result.kind == "halted" and result.user_exit == 3
    assert result.stderr == b"cycles advance\n"
    session = execute(elf.read_bytes(), data)
    assert session.exit_code == ExitCode.halted(3)
    assert session.journal == result.journal
    assert session.stdout == b"selftest done\n"
    assert session.stderr == b"cycles advance\n"
    assert hashlib.sha256(data).digest() in session.journal

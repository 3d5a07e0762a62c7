"""Compile C guests to RV32IM ELF files with the clang that the ``ziglang`` package bundles.

The flags pin the guest ISA to exactly what the zkVM executes: RV32I + M, no compressed
('c') or atomic ('a') instructions, no floating point, a static executable laid out by the
SDK linker script. zig links its own compiler-rt builtins (``__udivdi3`` and friends for
64-bit arithmetic), so guests need no extra runtime library.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

from proofmarket.tools import ToolError, zig_command
from proofmarket.zkvm.errors import ZkvmError

GUEST_SDK_DIR = Path(__file__).resolve().parent / "guest"
"""The C SDK: proofmarket.h, the runtime, start.S and link.ld."""

SDK_SOURCES: tuple[str, ...] = ("start.S", "runtime.c", "sha256.c")
"""SDK files compiled into every guest, before the caller's sources."""

LINKER_SCRIPT = "link.ld"

TARGET_FLAGS: tuple[str, ...] = ("-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+m")

GUEST_CFLAGS: tuple[str, ...] = (
    "-ffreestanding",
    "-static",
    "-g0",
    "-fno-pic",
    "-fno-pie",
    "-fno-stack-protector",
    "-fomit-frame-pointer",
    "-fno-exceptions",
    "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
    "-fdata-sections",
    "-ffunction-sections",
    "-Wl,--gc-sections",
    "-Wall",
)

ALLOWED_OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz")
SOURCE_SUFFIXES = (".c", ".S", ".s")
BUILD_TIMEOUT_S = 600.0
ELF32_RISCV_HEADER = b"\x7fELF\x01\x01"
EM_RISCV = 243


class GuestBuildError(ZkvmError):
    """A guest could not be compiled; the message carries the compiler's diagnostics."""


@cache
def toolchain_version() -> str:
    """The ziglang package version: part of every build-cache key."""
    try:
        return metadata.version("ziglang")
    except metadata.PackageNotFoundError as exc:  # pragma: no cover - hard dependency
        raise GuestBuildError("the 'ziglang' package is not installed") from exc


def guest_compile_command(
    sources: Sequence[Path], output: Path, *, opt: str = "-O2", extra_flags: Sequence[str] = ()
) -> list[str]:
    """The full compiler command line for ``sources`` (the SDK files are added here)."""
    try:
        zig = zig_command()
    except ToolError as exc:
        raise GuestBuildError(str(exc)) from exc
    return [
        *zig,
        "cc",
        *TARGET_FLAGS,
        *GUEST_CFLAGS,
        opt,
        *extra_flags,
        "-I",
        str(GUEST_SDK_DIR),
        "-T",
        str(GUEST_SDK_DIR / LINKER_SCRIPT),
        "-o",
        str(output),
        *(str(GUEST_SDK_DIR / name) for name in SDK_SOURCES),
        *(str(path) for path in sources),
    ]


def _check_inputs(sources: Sequence[Path], opt: str) -> list[Path]:
    if opt not in ALLOWED_OPT_LEVELS:
        raise GuestBuildError(
            f"unsupported optimisation level {opt!r}; use one of {', '.join(ALLOWED_OPT_LEVELS)}"
        )
    if not sources:
        raise GuestBuildError("no guest sources given")
    paths = [Path(source) for source in sources]
    for path in paths:
        if path.suffix not in SOURCE_SUFFIXES:
            raise GuestBuildError(
                f"{path}: not a C or assembly source (expected {', '.join(SOURCE_SUFFIXES)})"
            )
        if not path.is_file():
            raise GuestBuildError(f"{path}: source file not found")
    return paths


def _check_elf(path: Path) -> None:
    header = path.read_bytes()[:20]
    if not header.startswith(ELF32_RISCV_HEADER) or int.from_bytes(header[18:20], "little") != (
        EM_RISCV
    ):
        raise GuestBuildError(f"{path}: the compiler did not produce an ELF32 RISC-V executable")


def build_guest(
    sources: Sequence[Path],
    output: Path,
    *,
    opt: str = "-O2",
    extra_flags: Sequence[str] = (),
) -> Path:
    """Compile and link ``sources`` with the guest SDK into the RV32IM ELF ``output``.

    The ELF is written to a temporary file and renamed into place, so concurrent builds
    of the same output never expose a half-written file. Raises ``GuestBuildError``.
    """
    paths = _check_inputs(sources, opt)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        command = guest_compile_command(paths, tmp, opt=opt, extra_flags=extra_flags)
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise GuestBuildError(f"guest build timed out after {BUILD_TIMEOUT_S:.0f} s") from exc
        except OSError as exc:
            raise GuestBuildError(f"could not run the guest compiler: {exc}") from exc
        if result.returncode != 0:
            diagnostics = (result.stderr or result.stdout).strip()
            names = ", ".join(str(path) for path in paths)
            raise GuestBuildError(
                f"guest build of {names} failed (exit {result.returncode}):\n{diagnostics}"
            )
        _check_elf(tmp)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return output

"""Example guests shipped with the SDK, built on first use and cached on disk.

The cache key hashes the SDK and example sources, the compiler flags and the ziglang
version, so an edited source or a new toolchain rebuilds automatically. Builds write to a
temporary file and rename it into place, which makes concurrent test workers safe.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from proofmarket.zkvm.toolchain import (
    GUEST_CFLAGS,
    GUEST_SDK_DIR,
    LINKER_SCRIPT,
    SDK_SOURCES,
    TARGET_FLAGS,
    build_guest,
    toolchain_version,
)

EXAMPLES_DIR = GUEST_SDK_DIR / "examples"
EXAMPLE_OPT = "-O2"
_SDK_FILES = (*SDK_SOURCES, LINKER_SCRIPT, "proofmarket.h")

_memo: dict[str, bytes] = {}
_lock = threading.Lock()


class UnknownGuestError(KeyError):
    """No example guest has that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown example guest"


def example_names() -> list[str]:
    """Names of the example guests (``fib``, ``iter``, ``panic``, ``sha256``)."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.c"))


def example_source(name: str) -> Path:
    """The C source of an example guest."""
    path = EXAMPLES_DIR / f"{name}.c"
    if not path.is_file():
        raise UnknownGuestError(
            f"unknown example guest {name!r}; available: {', '.join(example_names())}"
        )
    return path


def guest_cache_dir() -> Path:
    """``$PROOFMARKET_CACHE_DIR/guests`` if set, else ``~/.cache/proofmarket/guests``."""
    root = os.environ.get("PROOFMARKET_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "proofmarket"
    return base / "guests"


def build_key(name: str) -> str:
    """Hash of everything that determines the example's ELF bytes."""
    h = hashlib.sha256()
    for path in (*(GUEST_SDK_DIR / f for f in _SDK_FILES), example_source(name)):
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes())
    h.update("\0".join((*TARGET_FLAGS, *GUEST_CFLAGS, EXAMPLE_OPT)).encode())
    h.update(toolchain_version().encode())
    return h.hexdigest()


def example_elf_path(name: str) -> Path:
    """Path of the cached ELF for ``name``, building it first if needed."""
    source = example_source(name)
    path = guest_cache_dir() / f"{name}-{build_key(name)[:24]}.elf"
    if not path.is_file():
        build_guest([source], path, opt=EXAMPLE_OPT)
    return path


def example_elf(name: str) -> bytes:
    """ELF bytes of the example guest ``name`` (built from the package sources once)."""
    with _lock:
        key = f"{name}:{build_key(name)}"
        cached = _memo.get(key)
        if cached is None:
            cached = example_elf_path(name).read_bytes()
            _memo[key] = cached
        return cached

"""The numba and pure-Python interpreters agree on real guests, and with native builds."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from proofmarket.zkvm import GuestPanic, Session, execute, interp_python
from proofmarket.zkvm import backend as backend_module
from proofmarket.zkvm.backend import ENV_VAR, resolve
from proofmarket.zkvm.claim import ExitCode
from proofmarket.zkvm.guests import example_elf, example_source
from zkvm.native import build_native, run_native

CASES = [
    ("fib", struct.pack("<I", 3000)),
    ("sha256", bytes(range(256)) * 3),
    ("iter", struct.pack("<I", 2)),
    ("panic", struct.pack("<I", 9)),
]


def run_both(name: str, data: bytes) -> tuple[Session, Session]:
    elf = example_elf(name)
    fast = execute(elf, data, segment_po2=13, backend="numba")
    slow = execute(elf, data, segment_po2=13, backend="python")
    return fast, slow


@pytest.mark.parametrize(("name", "data"), CASES, ids=[c[0] for c in CASES])
def test_backends_produce_identical_sessions(name: str, data: bytes) -> None:
    fast, slow = run_both(name, data)
    assert fast.segment_count > 1 or name == "panic"
    assert fast.journal == slow.journal
    assert fast.exit_code == slow.exit_code
    assert (fast.total_cycles, fast.user_cycles) == (slow.total_cycles, slow.user_cycles)
    assert fast.segments == slow.segments  # states, pages, proofs, cycle counts
    assert fast.claim() == slow.claim()


def test_backends_agree_on_panics() -> None:
    messages = []
    for backend in ("numba", "python"):
        with pytest.raises(GuestPanic) as info:
            execute(example_elf("panic"), struct.pack("<I", 0), backend=backend)
        messages.append((info.value.message, info.value.pc))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(("name", "data"), CASES, ids=[c[0] for c in CASES])
def test_python_backend_matches_native_build(tmp_path: Path, name: str, data: bytes) -> None:
    native = run_native(build_native([example_source(name)], tmp_path / name), data)
    session = execute(example_elf(name), data, backend="python")
    assert native.kind == "halted"
    assert session.exit_code == ExitCode.halted(native.user_exit or 0)
    assert session.journal == native.journal
    assert session.stdout == native.stdout


def test_backend_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "python")
    assert resolve() == "python"
    monkeypatch.setenv(ENV_VAR, "numba")
    assert resolve() == "numba"
    assert resolve("python") == "python"
    monkeypatch.setenv(ENV_VAR, "bogus")
    with pytest.raises(ValueError, match="unknown executor backend"):
        resolve()
    monkeypatch.delenv(ENV_VAR)
    assert resolve() == "numba"
    # Without numba the pure-Python interpreter is chosen, and asking for numba fails.
    monkeypatch.setattr(backend_module, "numba_available", lambda: False)
    assert resolve() == "python"
    assert backend_module.run_function() is interp_python.run
    with pytest.raises(ValueError, match="not installed"):
        resolve("numba")

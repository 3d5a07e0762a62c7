"""Cold start: importing the engine loads no optional backend, every kernel is cached on
disk, and ``warmup()`` reaches every kernel specialisation a real proof uses."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import numba
from numba.core import event
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher

import proofmarket.stark
from proofmarket.stark import DEFAULT, prove, verify, warmup
from proofmarket.stark.examples import BenchAir, bench_trace


def test_importing_the_engine_does_not_import_torch():
    code = "import sys, proofmarket.stark; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def _stark_dispatchers() -> dict[str, CPUDispatcher]:
    found: dict[str, CPUDispatcher] = {}
    for info in pkgutil.walk_packages(proofmarket.stark.__path__, "proofmarket.stark."):
        if ".backend.torch" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == info.name:
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_stark_kernel_is_cached_on_disk():
    kernels = _stark_dispatchers()
    assert len(kernels) >= 20  # field, ntt, keccak, Poseidon2, kernels, constraint VM
    uncached = [name for name, d in kernels.items() if isinstance(d._cache, NullCache)]
    assert uncached == []


class _Compiles(event.Listener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def on_start(self, ev: event.Event) -> None:
        self.names.append(str(ev.data["dispatcher"]))

    def on_end(self, ev: event.Event) -> None:
        pass


def test_warmup_leaves_nothing_to_compile_for_a_real_proof():
    warmup()
    listener = _Compiles()
    event.register("numba:compile", listener)
    try:
        air = BenchAir(16)
        trace, pub = bench_trace(16, 13)
        verify(air, prove(air, trace, pub, DEFAULT).to_bytes(), pub, DEFAULT)
        assert listener.names == []

        # the listener does see compilations (a fresh function, uncached on purpose)
        @numba.njit(cache=False)
        def fresh(x: int) -> int:
            return x + 1

        assert fresh(1) == 2
        assert listener.names != []
    finally:
        event.unregister("numba:compile", listener)

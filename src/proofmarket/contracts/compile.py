"""Compile the Vyper contracts with the ``vyper`` package and cache the artifacts.

Artifacts (ABI + deployment bytecode) are cached on disk keyed by the SHA-256 of all the
Vyper sources and the compiler version, so a fresh process reuses them instantly and an
edited source or a new compiler invalidates them. Writes go through a temporary file and an
atomic rename, so concurrent processes (pytest-xdist workers) never see a torn artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import vyper
from vyper.compiler.input_bundle import FilesystemInputBundle
from vyper.compiler.settings import OptimizationLevel, Settings

VYPER_DIR = Path(__file__).resolve().parent / "vyper"

CONTRACT_NAMES = (
    "ProofMarket",
    "ProofMarketExtension",
    "HitPoints",
    "TestToken",
    "VerifierRouter",
    "MockVerifier",
    "SetVerifier",
    "TestCallback",
    "TestWallet",
)

# The market's fallback DELEGATECALLs its extension, so clients talk to the market address
# with both ABIs: the market's artifact carries the union (the market's own entries first).
MERGED_ABIS = {"ProofMarket": ("ProofMarketExtension",)}


class ContractCompileError(RuntimeError):
    """A contract is unknown or failed to compile."""


@dataclass(frozen=True)
class Artifact:
    """What deployment and clients need from a compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed deployment bytecode
    runtime_bytecode: str  # 0x-prefixed runtime bytecode

    @property
    def runtime_size(self) -> int:
        """Deployed code size in bytes (EIP-170 limit: 24576)."""
        return (len(self.runtime_bytecode) - 2) // 2


def cache_dir() -> Path:
    """``$PROOFMARKET_CACHE_DIR/contracts``, else ``$XDG_CACHE_HOME/proofmarket/contracts``."""
    base = os.environ.get("PROOFMARKET_CACHE_DIR")
    if base:
        return Path(base) / "contracts"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "proofmarket" / "contracts"


def sources_fingerprint() -> str:
    """Hash of every Vyper source (contracts, modules, interfaces) and the compiler version."""
    h = hashlib.sha256()
    h.update(f"vyper {vyper.__version__}\n".encode())
    for path in sorted(VYPER_DIR.rglob("*.vy*")):
        h.update(str(path.relative_to(VYPER_DIR)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def compile_contract(name: str) -> Artifact:
    """Compile ``vyper/<name>.vy`` (no cache)."""
    source = VYPER_DIR / f"{name}.vy"
    if name not in CONTRACT_NAMES or not source.is_file():
        raise ContractCompileError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    bundle = FilesystemInputBundle([VYPER_DIR])
    file_input = bundle.load_file(source)
    settings = Settings(optimize=OptimizationLevel.GAS, evm_version="cancun")
    try:
        out = vyper.compile_from_file_input(
            file_input,
            input_bundle=bundle,
            settings=settings,
            output_formats=["abi", "bytecode", "bytecode_runtime"],
        )
    except Exception as exc:  # vyper raises many exception types; surface them uniformly
        raise ContractCompileError(f"compiling {name}.vy failed: {exc}") from exc
    abi = list(out["abi"])
    for extra in MERGED_ABIS.get(name, ()):
        abi = merge_abis(abi, compile_contract(extra).abi)
    if name == "ProofMarket":
        abi.append(_fulfill_batch_abi(abi))
    return Artifact(name, abi, out["bytecode"], out["bytecode_runtime"])


def _fulfill_batch_abi(abi: list[dict[str, Any]]) -> dict[str, Any]:
    """``fulfillBatch(Fulfillment[] fills)``: the market decodes it by hand in its fallback
    (one fill at a time, see ProofMarket.vy), so Vyper emits no ABI entry; it is derived
    here from ``fulfill(Fulfillment fill)``."""
    (fill_input,) = next(e for e in abi if e.get("name") == "fulfill")["inputs"]
    return {
        "type": "function",
        "name": "fulfillBatch",
        "stateMutability": "nonpayable",
        "inputs": [{**fill_input, "name": "fills", "type": "tuple[]"}],
        "outputs": [],
    }


def merge_abis(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``first`` plus the functions and events of ``second`` it lacks (by type and name)."""
    seen = {(entry.get("type"), entry.get("name")) for entry in first}
    extra = [
        entry
        for entry in second
        if entry.get("type") in ("function", "event")
        and (entry.get("type"), entry.get("name")) not in seen
    ]
    return first + extra


def _write_atomic(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@cache
def load_artifact(name: str) -> Artifact:
    """The compiled artifact for contract ``name``, from the on-disk cache when fresh."""
    path = cache_dir() / sources_fingerprint() / f"{name}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return Artifact(name, data["abi"], data["bytecode"], data["runtime_bytecode"])
        except (OSError, ValueError, KeyError):
            pass  # corrupt or partial: recompile below
    artifact = compile_contract(name)
    payload = {
        "abi": artifact.abi,
        "bytecode": artifact.bytecode,
        "runtime_bytecode": artifact.runtime_bytecode,
        "compiler": vyper.__version__,
    }
    _write_atomic(path, json.dumps(payload))
    return artifact


def compile_all() -> dict[str, Artifact]:
    """Every contract's artifact (compiling what the cache lacks)."""
    return {name: load_artifact(name) for name in CONTRACT_NAMES}

"""Package floors (see docs/index.md): a package imports only from floors below it.

Modules directly under ``proofmarket`` (``tools``, ``limits``, ``processes``) sit below
every floor, so any package may use them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import proofmarket

FLOORS = {
    "cli": 5,
    "broker": 4,
    "orderstream": 3,  # below the broker, which subscribes with its client
    "devnet": 4,
    "contracts": 3,
    "market": 2,
    "cluster": 2,
    "zkvm": 1,
    "stark": 0,
}
# Imports that cross floors upward today, each with its reason; do not add to this list.
KNOWN = {
    # the market client reads ABIs from the compiled Vyper (one source of truth)
    ("market/client.py", "proofmarket.contracts.compile"),
    # the public testing API starts anvil for the tests that use it
    ("contracts/testing.py", "proofmarket.devnet.anvil"),
    # the broker subscribes to the order stream through its client (same floor)
    ("broker/offchain_monitor.py", "proofmarket.orderstream.client"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_package_imports_from_its_own_floor_or_above() -> None:
    root = Path(proofmarket.__file__).parent
    upward = set()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        package = rel.parts[0] if len(rel.parts) > 1 else None
        if package not in FLOORS:
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "proofmarket" or len(parts) < 2 or parts[1] == package:
                continue
            if parts[1] in FLOORS and FLOORS[parts[1]] >= FLOORS[package]:
                upward.add((rel.as_posix(), name))
    assert upward <= KNOWN, sorted(upward - KNOWN)

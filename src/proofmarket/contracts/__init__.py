"""proofmarket.contracts: Vyper sources, cached compilation and deployment of the market stack.

Public API (imported lazily, so ``import proofmarket.contracts`` does not load the compiler):
``load_artifact``, ``Artifact``, ``deploy_market_stack``, ``Deployment``, ``contract_at``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Artifact": "proofmarket.contracts.compile",
    "load_artifact": "proofmarket.contracts.compile",
    "ContractCompileError": "proofmarket.contracts.compile",
    "Deployment": "proofmarket.contracts.deploy",
    "DeploymentError": "proofmarket.contracts.deploy",
    "deploy_market_stack": "proofmarket.contracts.deploy",
    "contract_at": "proofmarket.contracts.deploy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'proofmarket.contracts' has no attribute {name!r}")
    return getattr(import_module(module), name)

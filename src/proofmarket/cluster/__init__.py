"""proofmarket.cluster: the proving cluster (TaskDB, planner, agents, storage, REST API).

Public names are imported lazily so that ``import proofmarket.cluster.taskdb`` (used by
every agent and by the API) does not pull in FastAPI, boto3 or the zkVM.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Agent": "proofmarket.cluster.agent",
    "AgentSettings": "proofmarket.cluster.agent",
    "ClusterApiError": "proofmarket.cluster.client",
    "ClusterClient": "proofmarket.cluster.client",
    "ClusterConfig": "proofmarket.cluster.config",
    "Planner": "proofmarket.cluster.planner",
    "TaskLimits": "proofmarket.cluster.config",
    "create_app": "proofmarket.cluster.api",
    "open_object_store": "proofmarket.cluster.storage",
    "open_segment_store": "proofmarket.cluster.storage",
    "resolve_config": "proofmarket.cluster.config",
    "run_bench": "proofmarket.cluster.bench",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'proofmarket.cluster' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

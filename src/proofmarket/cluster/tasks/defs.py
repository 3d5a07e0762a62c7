"""Task definitions stored in ``tasks.task_def``: externally tagged JSON like Bento's
``TaskType`` (``{"Executor": {...}}``, ``{"Prove": {"index": 0}}``, ...)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


class InvalidTaskDef(ValueError):
    """A stored task definition cannot be decoded (unknown tag or bad fields)."""


@dataclass(frozen=True)
class ExecutorReq:
    """Output of the ``init`` task is ``ExecutorResp``."""

    TAG: ClassVar[str] = "Executor"
    image: str
    input: str
    user_id: str
    assumptions: list[str] = field(default_factory=list)
    execute_only: bool = False
    compress: str = "None"
    exec_limit: int | None = None  # Mcycles (x 2^20), None = the agent's default


@dataclass(frozen=True)
class ProveReq:
    TAG: ClassVar[str] = "Prove"
    index: int  # segment index


@dataclass(frozen=True)
class JoinReq:
    TAG: ClassVar[str] = "Join"
    idx: int  # task number of the join result
    left: int
    right: int


@dataclass(frozen=True)
class ResolveReq:
    TAG: ClassVar[str] = "Resolve"
    max_idx: int  # task number of the root receipt
    union_max_idx: int | None = None


@dataclass(frozen=True)
class FinalizeReq:
    TAG: ClassVar[str] = "Finalize"
    max_idx: int


EXECUTOR_TAG = ExecutorReq.TAG

TaskDef = ExecutorReq | ProveReq | JoinReq | ResolveReq | FinalizeReq
_BY_TAG: dict[str, type[Any]] = {
    cls.TAG: cls for cls in (ExecutorReq, ProveReq, JoinReq, ResolveReq, FinalizeReq)
}

# Job-type strings used in reports (Bento's names).
TASK_TYPE_NAMES: dict[str, str] = {
    "Executor": "executor",
    "Prove": "prove-lift",
    "Join": "join",
    "Resolve": "resolve",
    "Finalize": "finalize",
}


def encode_task_def(task: TaskDef) -> dict[str, Any]:
    return {task.TAG: asdict(task)}


def task_tag(task_def: dict[str, Any]) -> str:
    if not isinstance(task_def, dict) or len(task_def) != 1:
        raise InvalidTaskDef(f"task_def must be a one-key tagged object, got {task_def!r}")
    return next(iter(task_def))


def decode_task_def(task_def: dict[str, Any]) -> TaskDef:
    tag = task_tag(task_def)
    cls = _BY_TAG.get(tag)
    if cls is None:
        raise InvalidTaskDef(f"unknown task type {tag!r} (known: {', '.join(sorted(_BY_TAG))})")
    body = task_def[tag]
    if not isinstance(body, dict):
        raise InvalidTaskDef(f"{tag} task body must be an object, got {body!r}")
    try:
        decoded: TaskDef = cls(**body)
    except TypeError as exc:
        raise InvalidTaskDef(f"bad {tag} task fields {body!r}: {exc}") from None
    return decoded

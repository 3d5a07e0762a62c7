"""Checks of caller input shared by both backends, so both refuse the same things."""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

from proofmarket.cluster.taskdb.errors import InvalidArgument, UnknownJob, UnknownStream

WORKER_TYPE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_ID_LEN = 200


def check_worker_type(worker_type: str) -> str:
    if not isinstance(worker_type, str) or not WORKER_TYPE_RE.match(worker_type):
        raise InvalidArgument(
            f"worker type {worker_type!r} must be 1-40 characters of letters, digits, '_', '.', '-'"
        )
    return worker_type


def check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LEN:
        raise InvalidArgument(f"{kind} must be a non-empty string of at most {MAX_ID_LEN} chars")
    return value


def parse_uuid(value: str) -> str | None:
    """Canonical form of a uuid string, or ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def job_key(job_id: str) -> str:
    """Canonical job id; :class:`UnknownJob` when it is not a uuid (no such job exists)."""
    key = parse_uuid(job_id)
    if key is None:
        raise UnknownJob(job_id, "not a uuid")
    return key


def stream_key(stream_id: str) -> str:
    """Canonical stream id; :class:`UnknownStream` when it is not a uuid."""
    key = parse_uuid(stream_id)
    if key is None:
        raise UnknownStream(stream_id)
    return key


def check_stream_params(reserved: int, be_mult: float) -> tuple[int, float]:
    if isinstance(reserved, bool) or not isinstance(reserved, int) or reserved < 0:
        raise InvalidArgument(f"reserved must be a non-negative integer, got {reserved!r}")
    if (
        isinstance(be_mult, bool)
        or not isinstance(be_mult, int | float)
        or not math.isfinite(be_mult)
        or be_mult <= 0
    ):
        raise InvalidArgument(f"be_mult must be a finite number > 0, got {be_mult!r}")
    return reserved, float(be_mult)


def check_limits(max_retries: int, timeout_secs: int) -> tuple[int, int]:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgument(f"max_retries must be a non-negative integer, got {max_retries!r}")
    if isinstance(timeout_secs, bool) or not isinstance(timeout_secs, int) or timeout_secs <= 0:
        raise InvalidArgument(f"timeout_secs must be a positive integer, got {timeout_secs!r}")
    if timeout_secs > 10 * 365 * 86400 or max_retries > 1_000_000:
        raise InvalidArgument("max_retries or timeout_secs is unreasonably large")
    return max_retries, timeout_secs


def dump_json_object(kind: str, value: dict[str, Any] | None) -> str | None:
    """Serialise a task definition or output; must be a JSON object (or ``None``)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgument(f"{kind} must be a JSON object (dict), got {type(value).__name__}")
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{kind} is not JSON-serialisable: {exc}") from exc


def check_prerequisites(task_id: str, prerequisites: list[str]) -> list[str]:
    """Distinct prerequisites in their given order; a task may not depend on itself."""
    if not isinstance(prerequisites, list | tuple):
        raise InvalidArgument("prerequisites must be a list of task ids")
    seen: dict[str, None] = {}
    for pre in prerequisites:
        check_name("prerequisite task id", pre)
        if pre == task_id:
            raise InvalidArgument(f"task {task_id!r} cannot depend on itself")
        seen[pre] = None
    return list(seen)


def check_progress(progress: float) -> float:
    if (
        isinstance(progress, bool)
        or not isinstance(progress, int | float)
        or not math.isfinite(progress)
        or not 0.0 <= progress <= 1.0
    ):
        raise InvalidArgument(f"progress must be a number in [0, 1], got {progress!r}")
    return float(progress)


def check_error_text(error: str) -> str:
    if not isinstance(error, str):
        raise InvalidArgument("error must be a string")
    # Like the reference agent, keep error texts bounded.
    return error[:4096]


def check_wait(wait_secs: float) -> float:
    if isinstance(wait_secs, bool) or not isinstance(wait_secs, int | float):
        raise InvalidArgument(f"wait_secs must be a number, got {wait_secs!r}")
    if math.isnan(wait_secs) or wait_secs < 0:
        raise InvalidArgument(f"wait_secs must be >= 0, got {wait_secs!r}")
    return float(min(wait_secs, 86400.0))


def check_age(kind: str, secs: float) -> float:
    if isinstance(secs, bool) or not isinstance(secs, int | float) or not secs >= 0:
        raise InvalidArgument(f"{kind} must be a number >= 0, got {secs!r}")
    return float(secs)


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
    return limit

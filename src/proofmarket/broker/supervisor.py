"""Supervisor: runs each service and restarts it with back-off when it fails.

Back-off as Boundless's ``RetryPolicy``: 0.5 s × 1.5 per failure up to 60 s, reset after a
service ran 5 minutes without failing. With ``max_retries`` set, a service that fails more
often than that stops the whole broker (:class:`ServiceGaveUp`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


class ServiceGaveUp(RuntimeError):
    """A service failed more than ``max_retries`` times in a row."""


@dataclass(frozen=True)
class RetryPolicy:
    initial: float = 0.5
    factor: float = 1.5
    maximum: float = 60.0
    reset_after: float = 300.0


async def supervise(
    name: str,
    service: Callable[[], Awaitable[None]],
    *,
    policy: RetryPolicy = RetryPolicy(),
    max_retries: Callable[[], int | None] = lambda: None,
    on_restart: Callable[[str, BaseException], None] | None = None,
) -> None:
    """Run ``service()`` forever; restart it after a failure or an unexpected return."""
    failures = 0
    delay = policy.initial
    while True:
        started = time.monotonic()
        try:
            await service()
            error: BaseException = RuntimeError(f"service {name} returned")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = exc
        if time.monotonic() - started >= policy.reset_after:
            failures, delay = 0, policy.initial
        failures += 1
        limit = max_retries()
        if limit is not None and failures > limit:
            raise ServiceGaveUp(f"service {name} failed {failures} times: {error}") from error
        log.error("service %s failed (%s); restart %d in %.1f s", name, error, failures, delay)
        if on_restart is not None:
            on_restart(name, error)
        await asyncio.sleep(delay)
        delay = min(policy.maximum, delay * policy.factor)

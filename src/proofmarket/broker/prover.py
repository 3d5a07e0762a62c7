"""The broker's view of the proving cluster: uploads, preflight, proof sessions.

A thin async layer over :class:`proofmarket.cluster.client.ClusterClient` (the blocking
REST client runs in worker threads) that retries transient REST failures
(``req_retry_count``) and maps the cluster's error messages to outcomes the picker
understands (cycle limit, guest panic).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from proofmarket.cluster.client import ClusterApiError, ClusterClient, SessionStatus

log = logging.getLogger(__name__)

T = TypeVar("T")
MCYCLE_UNIT = 1 << 20
MAX_LIMIT_UNITS = 1 << 32
"""Largest ``exec_cycle_limit`` sent (2^52 cycles): larger values overflow the TaskDB."""
LIMIT_ERRORS = ("Session limit exceeded", "Execution stopped intentionally due to session limit")
PANIC_ERRORS = ("Guest panicked", "GuestPanic")


class PreflightFailed(RuntimeError):
    """A preflight ended without a result; ``limit`` is set when the cycle limit hit."""

    def __init__(self, message: str, *, limit: int | None = None, panic: bool = False) -> None:
        super().__init__(message)
        self.limit = limit
        self.panic = panic


@dataclass(frozen=True)
class PreflightResult:
    total_cycles: int
    journal: bytes
    session_id: str


class ClusterProver:
    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        retries: int = 3,
        retry_sleep: float = 0.5,
    ) -> None:
        self.endpoint = endpoint
        self.client = ClusterClient(endpoint, api_key=api_key)
        self.retries = retries
        self.retry_sleep = retry_sleep

    def close(self) -> None:
        self.client.close()

    async def _call(self, action: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return await asyncio.to_thread(action)
            except ClusterApiError as exc:
                transient = exc.status == 0 or exc.status >= 500
                if not transient or attempt >= self.retries:
                    raise
                attempt += 1
                log.warning("cluster call failed (%s); retry %d/%d", exc, attempt, self.retries)
                await asyncio.sleep(self.retry_sleep)

    async def upload_image(self, image_id: bytes, elf: bytes) -> None:
        await self._call(lambda: self.client.upload_img(image_id.hex(), elf))

    async def has_image(self, image_id: bytes) -> bool:
        return await self._call(lambda: self.client.has_img(image_id.hex()))

    async def upload_input(self, data: bytes) -> str:
        return await self._call(lambda: self.client.upload_input(data))

    async def preflight(
        self, image_id: bytes, input_id: str, cycle_limit: int, *, poll: float, timeout: float
    ) -> PreflightResult:
        """Execute only, stopping at ``cycle_limit`` cycles (rounded up to 2^20)."""
        limit_units = min(MAX_LIMIT_UNITS, max(1, -(-cycle_limit // MCYCLE_UNIT)))
        session = await self._call(
            lambda: self.client.create_session(
                image_id.hex(), input_id, execute_only=True, exec_cycle_limit=limit_units
            )
        )
        status = await self.wait(session, poll=poll, timeout=timeout)
        if status.status != "SUCCEEDED":
            message = status.error_msg or status.status
            if any(marker in message for marker in LIMIT_ERRORS):
                raise PreflightFailed(message, limit=cycle_limit)
            raise PreflightFailed(message, panic=any(m in message for m in PANIC_ERRORS))
        journal = await self._call(lambda: self.client.exec_only_journal(session))
        cycles = status.stats.total_cycles if status.stats else 0
        return PreflightResult(cycles, journal, session)

    async def start_proof(self, image_id: bytes, input_id: str) -> str:
        return await self._call(lambda: self.client.create_session(image_id.hex(), input_id))

    async def status(self, session_id: str) -> SessionStatus:
        return await self._call(lambda: self.client.status(session_id))

    async def wait(self, session_id: str, *, poll: float, timeout: float) -> SessionStatus:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status(session_id)
            if status.finished:
                return status
            if time.monotonic() > deadline:
                await self.cancel(session_id)
                raise PreflightFailed(f"session {session_id} still running after {timeout:.0f} s")
            await asyncio.sleep(poll)

    async def receipt(self, session_id: str) -> bytes:
        return await self._call(lambda: self.client.download_receipt(session_id))

    async def cancel(self, session_id: str) -> None:
        try:
            await self._call(lambda: self.client.stop(session_id))
        except ClusterApiError as exc:
            log.warning("could not stop session %s: %s", session_id, exc)

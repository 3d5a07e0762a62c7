"""Python client of the Bonsai-compatible cluster API (what ``bonsai_sdk`` does).

Used by ``proofmarket cluster bench`` and the tests; the broker can use it as its prover.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

API_KEY_HEADER = "x-api-key"
VERSION_HEADER = "x-risc0-version"
DEFAULT_ENDPOINT = "http://127.0.0.1:8081"


class ClusterApiError(Exception):
    """The API answered an error ``{type, msg}`` (or the connection failed: type ``Http``)."""

    def __init__(self, status: int, type_name: str, msg: str) -> None:
        # a connection failure (status 0) reads as its message alone
        super().__init__(msg if status == 0 else f"{type_name} ({status}): {msg}")
        self.status = status
        self.type_name = type_name
        self.msg = msg


class SessionTimeout(ClusterApiError):
    """``wait`` gave up before the session ended."""


def wait_healthy(endpoint: str, timeout: float) -> bool:
    """Poll ``GET {endpoint}/health`` until it answers 200; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{endpoint}/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:  # not up yet: keep polling
            pass
        time.sleep(0.3)
    return False


@dataclass(frozen=True)
class SessionStats:
    segments: int
    total_cycles: int
    cycles: int


@dataclass(frozen=True)
class SessionStatus:
    status: str  # RUNNING | SUCCEEDED | FAILED | ABORTED
    receipt_url: str | None
    error_msg: str | None
    state: str | None
    elapsed_time: float | None
    stats: SessionStats | None

    @property
    def finished(self) -> bool:
        return self.status != "RUNNING"


class ClusterClient:
    """Blocking client; one ``httpx.Client`` with keep-alive."""

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        headers = {VERSION_HEADER: "1.2.0"}
        if api_key:
            headers[API_KEY_HEADER] = api_key
        self.endpoint = endpoint.rstrip("/")
        self._http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)

    @classmethod
    def from_env(cls, *, timeout: float = 60.0) -> ClusterClient:
        """Bonsai SDK convention: ``BONSAI_API_URL`` and ``BONSAI_API_KEY``."""
        return cls(
            os.environ.get("BONSAI_API_URL", DEFAULT_ENDPOINT),
            api_key=os.environ.get("BONSAI_API_KEY") or None,
            timeout=timeout,
        )

    def __enter__(self) -> ClusterClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.ConnectError as exc:
            reason = "connection refused" if "refused" in str(exc) else "no answer"
            message = f"cannot reach the cluster API at {self.endpoint}: {reason}"
            raise ClusterApiError(0, "Http", message) from exc
        except httpx.HTTPError as exc:
            raise ClusterApiError(0, "Http", f"{method} {url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                type_name, msg = str(body["type"]), str(body["msg"])
            except (ValueError, KeyError, TypeError):
                type_name, msg = "Http", response.text[:500]
            raise ClusterApiError(response.status_code, type_name, msg)
        return response

    # -- meta --------------------------------------------------------------------------------
    def health(self) -> bool:
        return self._request("GET", "/health").status_code == 200

    def version(self) -> dict[str, Any]:
        return dict(self._request("GET", "/version").json())

    def quotas(self) -> dict[str, Any]:
        return dict(self._request("GET", "/user/quotas").json())

    # -- uploads -----------------------------------------------------------------------------
    def has_img(self, image_id: str) -> bool:
        return self._request("GET", f"/images/upload/{image_id}").status_code == 204

    def upload_img(self, image_id: str, elf: bytes) -> bool:
        """Upload an ELF under its image id; returns True if it was already there."""
        response = self._request("GET", f"/images/upload/{image_id}")
        if response.status_code == 204:
            return True
        put = self._request("PUT", response.json()["url"], content=elf)
        return put.status_code == 204

    def upload_input(self, data: bytes) -> str:
        res = self._request("GET", "/inputs/upload").json()
        self._request("PUT", res["url"], content=data)
        return str(res["uuid"])

    def upload_receipt(self, data: bytes) -> str:
        res = self._request("GET", "/receipts/upload").json()
        self._request("PUT", res["url"], content=data)
        return str(res["uuid"])

    def delete_img(self, image_id: str) -> None:
        self._request("DELETE", f"/images/{image_id}")

    def delete_input(self, input_id: str) -> None:
        self._request("DELETE", f"/inputs/{input_id}")

    # -- sessions ----------------------------------------------------------------------------
    def create_session(
        self,
        image_id: str,
        input_id: str,
        assumptions: list[str] | None = None,
        *,
        execute_only: bool = False,
        exec_cycle_limit: int | None = None,
    ) -> str:
        body = {
            "img": image_id,
            "input": input_id,
            "assumptions": assumptions or [],
            "execute_only": execute_only,
            "exec_cycle_limit": exec_cycle_limit,
        }
        return str(self._request("POST", "/sessions/create", json=body).json()["uuid"])

    def status(self, session_id: str) -> SessionStatus:
        body = self._request("GET", f"/sessions/status/{session_id}").json()
        stats = body.get("stats")
        return SessionStatus(
            status=body["status"],
            receipt_url=body.get("receipt_url"),
            error_msg=body.get("error_msg"),
            state=body.get("state"),
            elapsed_time=body.get("elapsed_time"),
            stats=SessionStats(**stats) if stats else None,
        )

    def wait(
        self,
        session_id: str,
        *,
        poll_secs: float = 1.0,
        timeout_secs: float | None = None,
        on_status: Callable[[SessionStatus], None] | None = None,
    ) -> SessionStatus:
        """Poll until the session ends (any status but RUNNING)."""
        deadline = None if timeout_secs is None else time.monotonic() + timeout_secs
        while True:
            status = self.status(session_id)
            if on_status is not None:
                on_status(status)
            if status.finished:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise SessionTimeout(
                    0, "Timeout", f"session {session_id} still {status.state} after {timeout_secs}s"
                )
            time.sleep(poll_secs)

    def stop(self, session_id: str) -> None:
        self._request("GET", f"/sessions/stop/{session_id}")

    def logs(self, session_id: str) -> str:
        return self._request("GET", f"/sessions/logs/{session_id}").text

    def exec_only_journal(self, session_id: str) -> bytes:
        return self._request("GET", f"/sessions/exec_only_journal/{session_id}").content

    def receipt_url(self, session_id: str) -> str:
        return str(self._request("GET", f"/receipts/{session_id}").json()["url"])

    def download_receipt(self, session_id: str) -> bytes:
        return self._request("GET", self.receipt_url(session_id)).content

"""``proofmarket prover benchmark``: prove real market requests on the cluster, report kHz.

For each request ID the program and input are taken from its ``RequestSubmitted`` event
(image URL, inline or URL input), proven on the cluster (a full proving session, not a
preflight), and timed by the client from session creation to ``SUCCEEDED``:
``kHz = total_cycles / 1000 / seconds`` (Boundless's formula). The worst request decides:
``peak_prove_khz`` is recommended at 0.75 × the worst kHz, so the broker's deadline math
keeps a margin for the load it did not measure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from proofmarket.cluster.client import ClusterClient, SessionStatus
from proofmarket.market.guest_env import decode_guest_env
from proofmarket.market.storage import fetch_url
from proofmarket.market.types import InputType, ProofRequest

RECOMMENDED_PEAK_PROVE_KHZ_FACTOR = 0.75
DEFAULT_MAX_FETCH_BYTES = 50_000_000


class BenchmarkError(RuntimeError):
    """A request could not be loaded or proven."""


@dataclass(frozen=True)
class RequestBench:
    request_id: str
    image_id: str
    session_id: str
    total_cycles: int
    segments: int
    wall_secs: float
    khz: float


@dataclass(frozen=True)
class BenchReport:
    results: list[RequestBench]

    @property
    def worst_khz(self) -> float:
        return min(r.khz for r in self.results)

    @property
    def recommended_peak_prove_khz(self) -> int:
        return recommend_peak_khz(self.worst_khz)

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [asdict(r) for r in self.results],
            "worst_khz": self.worst_khz,
            "recommended_peak_prove_khz": self.recommended_peak_prove_khz,
            "factor": RECOMMENDED_PEAK_PROVE_KHZ_FACTOR,
        }


def recommend_peak_khz(worst_khz: float) -> int:
    """0.75 × the worst measured kHz, rounded down (at least 1: the key is an integer)."""
    return max(1, math.floor(worst_khz * RECOMMENDED_PEAK_PROVE_KHZ_FACTOR))


def parse_request_ids(text: str) -> list[int]:
    """``0xabc,123`` → request IDs; a clear error names the bad entry."""
    ids: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            value = int(item, 0)
        except ValueError:
            raise ValueError(f"request ID {item!r} is not a number (hex 0x… or decimal)") from None
        if value < 0 or value >= 1 << 256:
            raise ValueError(f"request ID {item!r} is out of range")
        ids.append(value)
    if not ids:
        raise ValueError("no request IDs given (use --request-ids 0xID,0xID)")
    return ids


def load_program_and_input(
    request: ProofRequest, max_bytes: int = DEFAULT_MAX_FETCH_BYTES
) -> tuple[bytes, bytes]:
    """The request's ELF and its guest stdin (the decoded GuestEnv)."""
    elf = fetch_url(request.image_url, max_bytes)
    env = (
        fetch_url(request.input.url, max_bytes)
        if request.input.input_type == InputType.URL
        else request.input.data
    )
    return elf, decode_guest_env(env)


def prove_and_time(
    client: ClusterClient,
    elf: bytes,
    stdin: bytes,
    *,
    label: str,
    timeout_secs: float | None = None,
    on_status: Callable[[SessionStatus], None] | None = None,
) -> RequestBench:
    """One full proving session; kHz from the client's wall time."""
    from proofmarket.zkvm import compute_image_id

    image_id = compute_image_id(elf).hex()
    client.upload_img(image_id, elf)
    input_id = client.upload_input(stdin)
    started = time.monotonic()
    session = client.create_session(image_id, input_id)
    status = client.wait(session, poll_secs=0.1, timeout_secs=timeout_secs, on_status=on_status)
    wall = time.monotonic() - started
    if status.status != "SUCCEEDED":
        raise BenchmarkError(f"{label}: session {session} {status.status}: {status.error_msg}")
    if status.stats is None:
        raise BenchmarkError(f"{label}: session {session} reported no cycle statistics")
    cycles = int(status.stats.total_cycles)
    return RequestBench(
        request_id=label,
        image_id=image_id,
        session_id=session,
        total_cycles=cycles,
        segments=int(status.stats.segments),
        wall_secs=wall,
        khz=cycles / 1000.0 / wall if wall > 0 else 0.0,
    )


def benchmark_requests(
    market: Any,
    cluster: ClusterClient,
    request_ids: Sequence[int],
    *,
    from_block: int = 0,
    timeout_secs: float | None = None,
    on_result: Callable[[RequestBench], None] | None = None,
) -> BenchReport:
    """Prove each request (``market`` is a MarketClient) and report the worst case."""
    from proofmarket.market.errors import MarketError

    results: list[RequestBench] = []
    for request_id in request_ids:
        label = f"{request_id:#x}"
        try:
            submitted = market.get_submitted_request(request_id, from_block=from_block)
            elf, stdin = load_program_and_input(submitted.request)
        except (MarketError, OSError, ValueError) as exc:
            raise BenchmarkError(f"request {label}: {exc}") from exc
        result = prove_and_time(cluster, elf, stdin, label=label, timeout_secs=timeout_secs)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return BenchReport(results)

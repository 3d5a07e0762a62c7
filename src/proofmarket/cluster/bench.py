"""``cluster bench``: Bento's ``bento_cli -c N`` through the REST API.

Submits the ``iter`` example guest with input N (N*1024 loop iterations), waits, downloads
and verifies the receipt, and reports cycles, segments, time and kHz
(``total_cycles / 1000 / server_elapsed_secs``). The time is the job's own, from the
server's task timestamps (first task created to last task finished), so it does not
include the client's polling interval; the client's wall time is reported beside it.

The receipt says what the kHz measures: ``STARK`` (with the seals' parameter profiles)
when the prove agents proved every segment for real, ``DEV MODE`` when the cluster runs
in dev mode (segments replayed, nothing proven: the kHz is the pipeline's, not a prover's).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from proofmarket.cluster.client import ClusterClient, SessionStatus
from proofmarket.cluster.config import MCYCLE
from proofmarket.cluster.zkvm_api import (
    DEV_MODE_LABEL,
    Receipt,
    ReceiptError,
    compute_image_id,
    example_elf,
    stark_profiles,
    verify,
)


class BenchFailed(RuntimeError):
    """The benchmark session failed or its receipt did not verify."""


@dataclass(frozen=True)
class BenchResult:
    session_id: str
    image_id: str
    iterations: int
    execute_only: bool
    status: str
    segments: int
    total_cycles: int
    user_cycles: int
    wall_secs: float
    server_elapsed_secs: float | None
    khz: float
    receipt_mode: str | None  # "DEV MODE" or "STARK"; None for exec-only
    receipt_bytes: int | None
    journal_hex: str
    stark_profiles: list[str] = field(default_factory=list)  # of the receipt's seals
    dev_mode: bool | None = None  # None for exec-only

    @property
    def real_proving(self) -> bool:
        """The kHz comes from real STARK proving of every segment."""
        return self.receipt_mode == "STARK"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "real_proving": self.real_proving}


def run_bench(
    endpoint: str,
    iterations: int,
    *,
    execute_only: bool = False,
    reserved: int | None = None,
    poll_secs: float = 0.05,
    timeout_secs: float | None = None,
    cycle_limit: int | None = None,
    on_status: Callable[[SessionStatus], None] | None = None,
) -> BenchResult:
    if iterations < 0 or iterations >= 1 << 32:
        raise ValueError(f"iteration count must fit in a u32, got {iterations}")
    api_key = f"v1:reserved:{reserved}" if reserved is not None else None
    elf = example_elf("iter")
    image_id = compute_image_id(elf).hex()
    with ClusterClient(endpoint, api_key=api_key) as client:
        client.upload_img(image_id, elf)
        input_id = client.upload_input(struct.pack("<I", iterations))
        started = time.monotonic()
        session = client.create_session(
            image_id,
            input_id,
            execute_only=execute_only,
            exec_cycle_limit=None if cycle_limit is None else -(-cycle_limit // MCYCLE),
        )
        status = client.wait(
            session, poll_secs=poll_secs, timeout_secs=timeout_secs, on_status=on_status
        )
        wall = time.monotonic() - started
        seconds = status.elapsed_time if status.elapsed_time else wall
        if status.status != "SUCCEEDED":
            raise BenchFailed(
                f"session {session} {status.status}: {status.error_msg or 'no error message'}"
            )
        if status.stats is None:
            raise BenchFailed(f"session {session} succeeded without cycle statistics")
        receipt_mode = None
        receipt_size = None
        profiles: list[str] = []
        dev_mode = None
        if execute_only:
            journal = client.exec_only_journal(session)
        else:
            data = client.download_receipt(session)
            try:
                receipt = Receipt.from_bytes(data)
                # the report names dev mode and the profile, so both are accepted here
                verify(
                    receipt,
                    bytes.fromhex(image_id),
                    allow_dev_mode=True,
                    allow_insecure_params=True,
                )
                if not receipt.is_dev_mode:
                    profiles = sorted(stark_profiles(receipt))
            except ReceiptError as exc:
                raise BenchFailed(f"receipt of session {session} does not verify: {exc}") from exc
            receipt_mode = DEV_MODE_LABEL if receipt.is_dev_mode else receipt.mode
            dev_mode = receipt.is_dev_mode
            receipt_size = len(data)
            journal = receipt.journal
    return BenchResult(
        session_id=session,
        image_id=image_id,
        iterations=iterations,
        execute_only=execute_only,
        status=status.status,
        segments=status.stats.segments,
        total_cycles=status.stats.total_cycles,
        user_cycles=status.stats.cycles,
        wall_secs=wall,
        server_elapsed_secs=status.elapsed_time,
        khz=status.stats.total_cycles / 1000.0 / seconds if seconds > 0 else 0.0,
        receipt_mode=receipt_mode,
        receipt_bytes=receipt_size,
        journal_hex=journal.hex(),
        stark_profiles=profiles,
        dev_mode=dev_mode,
    )

"""The result of executing a guest: exit code, outputs, cycle counts and segments."""

from __future__ import annotations

from dataclasses import dataclass, field

from proofmarket.zkvm.claim import ExitCode, Output, ReceiptClaim, SystemState

# ``execute`` lives in executor.py; re-exported because callers import it with Session.
from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.segment import Segment


@dataclass
class Session:
    """A finished execution (HALT or PAUSE). Faults, panics and limits raise instead."""

    image_id: bytes
    exit_code: ExitCode
    journal: bytes
    stdout: bytes
    stderr: bytes
    total_cycles: int
    user_cycles: int
    paging_cycles: int
    segment_count: int
    post_state: SystemState  # SYSTEM_STATE_ZERO when halted
    segments: list[Segment] = field(default_factory=list)

    @property
    def output_digest(self) -> bytes:
        return Output.of_journal(self.journal).digest()

    def claim(self) -> ReceiptClaim:
        """Claim of the whole session (what joining all segment claims yields)."""
        return ReceiptClaim(
            pre=self.image_id,
            post=self.post_state.digest(),
            exit_code=self.exit_code,
            output=self.output_digest,
        )


__all__ = ["Session", "execute"]

"""proofmarket.zkvm: an RV32IM zkVM (executor, segments, image IDs, claims, receipts)."""

from proofmarket.zkvm.claim import (
    SYSTEM_STATE_ZERO,
    ExitCode,
    Output,
    ReceiptClaim,
    SystemExitKind,
    SystemState,
)
from proofmarket.zkvm.elf import Program, load_elf
from proofmarket.zkvm.errors import (
    ElfError,
    GuestFault,
    GuestPanic,
    InputTooLarge,
    InvalidSegmentPo2,
    ReplayError,
    SegmentError,
    SessionLimitExceeded,
    ZkvmError,
)
from proofmarket.zkvm.executor import compute_image_id, execute
from proofmarket.zkvm.layout import (
    DEFAULT_SEGMENT_PO2,
    MAX_INPUT_BYTES,
    MAX_SEGMENT_PO2,
    MIN_SEGMENT_PO2,
)
from proofmarket.zkvm.segment import Segment, replay_segment
from proofmarket.zkvm.session import Session

__all__ = [
    "DEFAULT_SEGMENT_PO2",
    "MAX_INPUT_BYTES",
    "MAX_SEGMENT_PO2",
    "MIN_SEGMENT_PO2",
    "SYSTEM_STATE_ZERO",
    "ElfError",
    "ExitCode",
    "GuestFault",
    "GuestPanic",
    "InputTooLarge",
    "InvalidSegmentPo2",
    "Output",
    "Program",
    "ReceiptClaim",
    "ReplayError",
    "Segment",
    "SegmentError",
    "Session",
    "SessionLimitExceeded",
    "SystemExitKind",
    "SystemState",
    "ZkvmError",
    "compute_image_id",
    "execute",
    "load_elf",
    "replay_segment",
]

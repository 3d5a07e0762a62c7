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
from proofmarket.zkvm.guests import UnknownGuestError, example_elf, example_names
from proofmarket.zkvm.layout import (
    DEFAULT_SEGMENT_PO2,
    MAX_INPUT_BYTES,
    MAX_SEGMENT_PO2,
    MIN_SEGMENT_PO2,
)
from proofmarket.zkvm.prove import ProvedSession, prove, prove_segment, prove_session
from proofmarket.zkvm.receipt import (
    ProverUnavailable,
    Receipt,
    ReceiptError,
    ReceiptFormatError,
    Seal,
    SealKind,
    SegmentReceipt,
    SuccinctReceipt,
    VerificationError,
    finalize,
    join,
    lift,
    verify,
)
from proofmarket.zkvm.segment import Segment, replay_segment
from proofmarket.zkvm.session import Session
from proofmarket.zkvm.toolchain import GuestBuildError, build_guest

__all__ = [
    "DEFAULT_SEGMENT_PO2",
    "MAX_INPUT_BYTES",
    "MAX_SEGMENT_PO2",
    "MIN_SEGMENT_PO2",
    "SYSTEM_STATE_ZERO",
    "ElfError",
    "ExitCode",
    "GuestBuildError",
    "GuestFault",
    "GuestPanic",
    "InputTooLarge",
    "InvalidSegmentPo2",
    "Output",
    "Program",
    "ProvedSession",
    "ProverUnavailable",
    "Receipt",
    "ReceiptClaim",
    "ReceiptError",
    "ReceiptFormatError",
    "ReplayError",
    "Seal",
    "SealKind",
    "Segment",
    "SegmentError",
    "SegmentReceipt",
    "Session",
    "SessionLimitExceeded",
    "SuccinctReceipt",
    "SystemExitKind",
    "SystemState",
    "UnknownGuestError",
    "VerificationError",
    "ZkvmError",
    "build_guest",
    "compute_image_id",
    "example_elf",
    "example_names",
    "execute",
    "finalize",
    "join",
    "lift",
    "load_elf",
    "prove",
    "prove_segment",
    "prove_session",
    "replay_segment",
    "verify",
]

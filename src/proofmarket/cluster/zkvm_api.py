"""The zkVM names the cluster uses, imported in one place.

Executor names come from ``proofmarket.zkvm``; receipt and guest names from the modules
that define them (``receipt``, ``prove``, ``guests``), so the cluster has one spot to
adapt if the package's exports move.
"""

from __future__ import annotations

from proofmarket.zkvm import (
    ElfError,
    GuestFault,
    GuestPanic,
    Segment,
    SegmentError,
    Session,
    SessionLimitExceeded,
    ZkvmError,
    compute_image_id,
    execute,
)
from proofmarket.zkvm.guests import example_elf
from proofmarket.zkvm.prove import prove_segment
from proofmarket.zkvm.receipt import (
    DEV_MODE_LABEL,
    ProverUnavailable,
    Receipt,
    ReceiptError,
    SuccinctReceipt,
    VerificationError,
    finalize,
    join,
    lift,
    stark_profiles,
    verify,
)

__all__ = [
    "DEV_MODE_LABEL",
    "ElfError",
    "GuestFault",
    "GuestPanic",
    "ProverUnavailable",
    "Receipt",
    "ReceiptError",
    "Segment",
    "SegmentError",
    "Session",
    "SessionLimitExceeded",
    "SuccinctReceipt",
    "VerificationError",
    "ZkvmError",
    "compute_image_id",
    "example_elf",
    "execute",
    "finalize",
    "join",
    "lift",
    "prove_segment",
    "stark_profiles",
    "verify",
]

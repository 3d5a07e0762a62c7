"""Capacity: how many priced orders may be locked now (Boundless ``apply_capacity_limits``).

Two limits: the number of committed orders (``max_concurrent_proofs``) and time. With
``peak_prove_khz`` set, committed work is simulated as a queue on the cluster: each order
takes ``ceil(ceil(cycles / 1000) / peak_prove_khz)`` seconds, and an order is accepted only
if it would finish ``block_deadline_buffer_secs`` before its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PER_ROUND = 10
"""Orders accepted per round (Boundless ``MAX_PROVING_BATCH_SIZE``)."""


@dataclass(frozen=True)
class Committed:
    total_cycles: int
    proving_started_at: int


@dataclass(frozen=True)
class Candidate:
    key: str
    total_cycles: int
    expiry: int


@dataclass
class Decision:
    accepted: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)
    """Not now, maybe next round (capacity full, or the queue frees up in time)."""
    never: dict[str, str] = field(default_factory=dict)
    """Cannot finish in time even if started now: reason per key."""


def prove_seconds(cycles: int, peak_prove_khz: int) -> int:
    kilocycles = -(-cycles // 1000)
    return -(-kilocycles // peak_prove_khz)


def apply_capacity(
    candidates: list[Candidate],
    committed: list[Committed],
    *,
    now: int,
    max_concurrent_proofs: int | None,
    peak_prove_khz: int | None,
    additional_proof_cycles: int,
    deadline_buffer: int,
) -> Decision:
    """Split ``candidates`` (already in priority order) into accepted / later / never."""
    decision = Decision()
    slots = MAX_PER_ROUND
    if max_concurrent_proofs is not None:
        slots = min(slots, max(0, max_concurrent_proofs - len(committed)))
    available_at = now
    if peak_prove_khz:
        total = sum(c.total_cycles + additional_proof_cycles for c in committed)
        if committed:
            started = min(c.proving_started_at for c in committed)
            available_at = max(now, started + prove_seconds(total, peak_prove_khz))
    for candidate in candidates:
        if len(decision.accepted) >= slots:
            decision.later.append(candidate.key)
            continue
        if peak_prove_khz:
            needed = prove_seconds(candidate.total_cycles + additional_proof_cycles, peak_prove_khz)
            if available_at + needed + deadline_buffer > candidate.expiry:
                if now + needed + deadline_buffer > candidate.expiry:
                    decision.never[candidate.key] = (
                        f"proving needs ~{needed} s at peak_prove_khz={peak_prove_khz} plus "
                        f"{deadline_buffer} s buffer; expires in {candidate.expiry - now} s"
                    )
                else:
                    decision.later.append(candidate.key)
                continue
            available_at += needed
        decision.accepted.append(candidate.key)
    return decision

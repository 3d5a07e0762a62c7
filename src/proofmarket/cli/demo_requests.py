"""The requestor side of ``proofmarket demo``: what is asked, how it is followed, the table.

The requestor submits a few requests on chain (different guests, prices and deadlines),
follows them through the chain's events only (locked → fulfilled), and at the end checks
every delivered proof the way a requestor would: the prover's receipt off chain (fetched
from where the broker published it, verified against the request's image ID and the
delivered journal), the journal against its own execution, and the seal through the
market's verifier router (on chain the seal still goes through the dev verifier until the
fraud-proof verifier exists).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofmarket.market.client import MarketClient

ETHER = 10**18


@dataclass(frozen=True)
class DemoRequest:
    """One request the demo's requestor submits."""

    name: str
    guest: str
    stdin: bytes
    min_price: int
    max_price: int
    ramp_up_period: int
    lock_timeout: int
    timeout: int
    lock_collateral: int = 5 * ETHER
    expect_skip: bool = False
    """Priced below its gas cost on purpose: the broker should refuse it."""


def demo_plan(n: int, *, real: bool = True) -> list[DemoRequest]:
    """Four requests: three guests, flat and ramping prices, loose and tight deadlines, and
    one priced below the gas a fulfilment costs, which the broker refuses.

    ``real``: the cluster proves for real, one proof at a time (tens of seconds each on a
    small machine), so the tight lock window is wider than in dev mode."""
    tight = 420 if real else 180
    return [
        DemoRequest(f"fib({n})", "fib", n.to_bytes(4, "little"), ETHER // 1000, ETHER // 100,
                    60, 600, 1200),
        DemoRequest("iter(N=2)", "iter", (2).to_bytes(4, "little"), ETHER // 200, ETHER // 200,
                    0, 600, 1200),
        DemoRequest("sha256('proofmarket')", "sha256", b"proofmarket", ETHER // 500, ETHER // 50,
                    30, tight, 2 * tight),
        DemoRequest("fib(10) (underpriced)", "fib", (10).to_bytes(4, "little"), ETHER // 20000,
                    ETHER // 10000, 0, 120, 240, expect_skip=True),
    ]  # fmt: skip


@dataclass
class Tracked:
    """A submitted request and what the chain said about it."""

    spec: DemoRequest
    request_id: int
    image_id: bytes
    expected_journal: bytes
    submitted_at: float
    lock_deadline: int
    deadline: int
    locked_by: str | None = None
    price_wei: int | None = None
    locked_at: float | None = None
    fulfilled_by: str | None = None
    fulfilled_at: float | None = None
    journal: bytes | None = None
    seal: bytes = b""
    dev_mode: bool = False
    """The broker proved it with a DEV MODE receipt (the seal then proves nothing)."""
    receipt_mode: str | None = None
    """The broker's receipt: ``STARK (<profile>)`` or ``DEV MODE`` (its order record)."""
    receipt: dict[str, Any] | None = None
    """The requestor's off-chain check of the published receipt."""
    skipped: str | None = None
    """The broker's reason when it refused the request."""
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    @property
    def settled(self) -> bool:
        return self.fulfilled_at is not None or self.skipped is not None

    @property
    def as_expected(self) -> bool:
        if self.spec.expect_skip:
            return self.skipped is not None and self.locked_by is None
        return self.verified

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "guest": self.spec.guest,
            "request_id": hex(self.request_id),
            "max_price_wei": self.spec.max_price,
            "price_wei": self.price_wei,
            "lock_deadline": self.lock_deadline,
            "deadline": self.deadline,
            "locked_by": self.locked_by,
            "fulfilled_by": self.fulfilled_by,
            "seconds_to_lock": _delta(self.submitted_at, self.locked_at),
            "seconds_to_fulfil": _delta(self.submitted_at, self.fulfilled_at),
            "journal": None if self.journal is None else self.journal.hex(),
            "expected_journal": self.expected_journal.hex(),
            "dev_mode": self.dev_mode,
            "receipt_mode": self.receipt_mode,
            "receipt": self.receipt,
            "skipped": self.skipped,
            "checks": dict(self.checks),
            "verified": self.verified,
            "as_expected": self.as_expected,
        }


def _delta(start: float, end: float | None) -> float | None:
    return None if end is None else round(end - start, 2)


def submit_all(
    client: MarketClient, storage: Any, plan: list[DemoRequest], say: Callable[[str], None]
) -> list[Tracked]:
    """Execute locally (the requestor's own preflight), upload, sign and submit each."""
    from proofmarket import zkvm
    from proofmarket.market.builder import OfferParams, RequestBuilder
    from proofmarket.market.ids import next_index
    from proofmarket.market.request_id import RequestId
    from proofmarket.zkvm.guests import example_elf

    tracked = []
    index = next_index(client, counter_file=None)
    for spec in plan:
        elf = example_elf(spec.guest)
        image_id = zkvm.compute_image_id(elf)
        session = zkvm.execute(elf, spec.stdin)
        now = client.block_timestamp()
        request = RequestBuilder(storage=storage).build(
            request_id=RequestId(client.signer.address, index),
            image_id=image_id,
            now=now,
            program=elf,
            stdin=spec.stdin,
            journal=session.journal,
            offer=OfferParams(
                min_price=spec.min_price,
                max_price=spec.max_price,
                ramp_up_start=now,
                ramp_up_period=spec.ramp_up_period,
                lock_timeout=spec.lock_timeout,
                timeout=spec.timeout,
                lock_collateral=spec.lock_collateral,
            ),
        )
        index += 1
        client.submit_request(request, client.sign_request(request))
        offer = request.offer
        tracked.append(
            Tracked(
                spec=spec,
                request_id=int(request.id),
                image_id=image_id,
                expected_journal=session.journal,
                submitted_at=time.monotonic(),
                lock_deadline=offer.ramp_up_start + offer.lock_timeout,
                deadline=offer.ramp_up_start + offer.timeout,
            )
        )
        say(
            f"submitted {spec.name:<24} {int(request.id):#x}  {session.total_cycles:>7} cycles, "
            f"{spec.min_price / ETHER:.4f}→{spec.max_price / ETHER:.4f} ETH, "
            f"lock within {spec.lock_timeout} s"
        )
    return tracked


def broker_orders(db: Path) -> dict[int, dict[str, Any]]:
    """Per request ID: the broker's order status, its reason, whether its receipt was DEV
    MODE and the receipt's mode (read-only, from the broker's order database)."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "SELECT id, data->>'status', data->>'error_msg', data->>'dev_mode', "
            "data->>'receipt_mode' FROM orders"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()
    return {
        int(oid.split("-", 1)[0], 16): {
            "status": status,
            "reason": reason,
            "dev_mode": bool(dev),
            "receipt_mode": mode,
        }
        for oid, status, reason, dev, mode in rows
    }


def refusals_of(orders: dict[int, dict[str, Any]]) -> dict[int, str]:
    return {
        rid: f"{o['status']}: {o['reason']}"
        for rid, o in orders.items()
        if o["status"] in ("Skipped", "Failed")
    }


def follow(
    client: MarketClient,
    tracked: list[Tracked],
    from_block: int,
    timeout: float,
    say: Callable[[str], None],
    refusals: Callable[[], dict[int, str]] = dict,
) -> None:
    """Watch lock and delivery events (and the broker's refusals) until every request is
    settled, or raise ``TimeoutError``."""
    from proofmarket.market import events as ev

    by_id = {t.request_id: t for t in tracked}
    next_block = from_block
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while not all(t.settled for t in tracked):
        if time.monotonic() > deadline:
            missing = ", ".join(t.spec.name for t in tracked if not t.settled)
            raise TimeoutError(f"not settled within {timeout:g} s: {missing}")
        head = client.block_number()
        if head >= next_block:
            for lock in client.iter_events(ev.RequestLocked, from_block=next_block, to_block=head):
                t = by_id.get(lock.request_id)
                if t is not None and t.locked_at is None:
                    t.locked_by, t.price_wei, t.locked_at = (
                        lock.prover,
                        lock.price,
                        time.monotonic(),
                    )
                    say(
                        f"[{time.monotonic() - started:6.1f} s] {t.spec.name:<24} locked by "
                        f"{lock.prover[:10]}… at {lock.price / ETHER:.5f} ETH"
                    )
            for proof in client.iter_events(
                ev.ProofDelivered, from_block=next_block, to_block=head
            ):
                t = by_id.get(proof.request_id)
                if t is not None and t.fulfilled_at is None:
                    t.fulfilled_by, t.fulfilled_at = proof.prover, time.monotonic()
                    t.journal, t.seal = proof.journal, proof.seal
                    say(
                        f"[{time.monotonic() - started:6.1f} s] {t.spec.name:<24} fulfilled by "
                        f"{proof.prover[:10]}…"
                    )
            next_block = head + 1
        for request_id, reason in refusals().items():
            t = by_id.get(request_id)
            if t is None or t.skipped is not None or t.fulfilled_at is not None:
                continue
            if t.locked_at is None:
                t.skipped = reason
                say(
                    f"[{time.monotonic() - started:6.1f} s] {t.spec.name:<24} refused by the "
                    f"broker: {reason}"
                )
            elif reason.startswith("Failed"):  # locked, then proving failed: nothing comes
                t.skipped = reason
                say(
                    f"[{time.monotonic() - started:6.1f} s] {t.spec.name:<24} failed at the "
                    f"broker: {reason}"
                )
        time.sleep(0.25)


def check_receipt(
    url: str,
    image_id: bytes,
    journal: bytes,
    *,
    allow_dev_mode: bool,
    allow_insecure_params: bool,
) -> dict[str, Any]:
    """Fetch a published receipt and verify it off chain against the request's image ID
    and the delivered journal: ``{"url", "mode", "verified", "error", ...}``."""
    from proofmarket.market.storage import FetchError, fetch_url
    from proofmarket.zkvm.receipt import Receipt, ReceiptError, stark_profiles, verify

    found: dict[str, Any] = {"url": url, "mode": None, "verified": False, "error": None}
    try:
        receipt = Receipt.from_bytes(fetch_url(url, 1 << 29))
        found["mode"] = receipt.mode
        if not receipt.is_dev_mode:
            found["stark_profiles"] = sorted(stark_profiles(receipt))
        verify(
            receipt,
            image_id,
            allow_dev_mode=allow_dev_mode,
            allow_insecure_params=allow_insecure_params,
        )
        if receipt.journal != journal:
            raise ReceiptError("the receipt's journal differs from the delivered journal")
    except (FetchError, ReceiptError) as exc:
        found["error"] = str(exc)
        return found
    found["verified"] = True
    return found


def verify_all(
    client: MarketClient,
    tracked: list[Tracked],
    storage_dir: Path,
    *,
    allow_dev_mode: bool = False,
    allow_insecure_params: bool = False,
) -> None:
    """The requestor's checks on each delivered proof: the receipt the broker published in
    ``storage_dir`` (verified off chain), the journal, the seal on chain, who delivered."""
    from proofmarket.broker.receipts import receipt_location
    from proofmarket.market.errors import MarketError
    from proofmarket.market.predicates import claim_digest

    storage_env = {"STORAGE_PROVIDER": "file", "FILE_STORAGE_DIR": str(storage_dir)}
    for t in tracked:
        if t.journal is None:
            if t.skipped is None:
                t.checks = {"delivered": False}
            continue
        t.checks["journal_matches_local_execution"] = t.journal == t.expected_journal
        claim = claim_digest(t.image_id, t.journal)
        t.receipt = check_receipt(
            receipt_location(claim, storage_env),
            t.image_id,
            t.journal,
            allow_dev_mode=allow_dev_mode,
            allow_insecure_params=allow_insecure_params,
        )
        t.checks["receipt_verifies_off_chain"] = t.receipt["verified"]
        try:
            client.verify_integrity(t.seal, claim)
            t.checks["seal_verifies_on_chain"] = True
        except MarketError:
            t.checks["seal_verifies_on_chain"] = False
        t.checks["fulfilled_by_locker"] = t.fulfilled_by == t.locked_by


def render_table(tracked: list[Tracked]) -> Any:
    from rich.table import Table

    table = Table(title="requests")
    for column in (
        "request", "guest", "id", "paid (ETH)", "fulfilled by", "time", "receipt", "verified",
    ):  # fmt: skip
        table.add_column(column)
    for t in tracked:
        price = "-" if t.price_wei is None else f"{t.price_wei / ETHER:.5f}"
        seconds = _delta(t.submitted_at, t.fulfilled_at)
        receipt = "-"
        if t.fulfilled_by is not None:
            who = t.fulfilled_by[:12] + "…"
            verdict = ("yes" if t.verified else "NO") + (" (DEV MODE)" if t.dev_mode else "")
            if t.receipt is not None:
                profiles = t.receipt.get("stark_profiles")
                mode = str(t.receipt["mode"] or "none")
                receipt = mode + (f" ({', '.join(profiles)})" if profiles else "")
                if not t.receipt["verified"]:
                    receipt += ", NOT verified"
                elif mode == "DEV MODE":
                    receipt += ", accepted (proves nothing)"
                else:
                    receipt += ", verified off chain"
        else:
            who = f"nobody ({t.skipped})" if t.skipped else "-"
            verdict = "-"
        table.add_row(
            t.spec.name,
            t.spec.guest,
            f"{t.request_id:#x}"[-10:],
            price,
            who,
            "-" if seconds is None else f"{seconds:.1f} s",
            receipt,
            verdict,
        )
    return table

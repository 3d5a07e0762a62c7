"""``proofmarket request``: submit proof requests and follow them to a verified proof."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from proofmarket.cli.chain_options import (
    JsonOpt,
    MarketAddressOpt,
    PrivateKeyOpt,
    RpcUrlOpt,
    TxTimeoutOpt,
    cli_errors,
    connect,
    emit,
    settings,
)
from proofmarket.cli.execution import CycleLimitOpt, cycle_limit_value
from proofmarket.cli.present import (
    RequestView,
    input_problem,
    state_text,
    submission_problems,
    when,
)
from proofmarket.market import events as ev
from proofmarket.market.builder import OfferParams, RequestBuilder
from proofmarket.market.errors import InvalidRequestError, MarketError, RequestNotFoundError
from proofmarket.market.request_file import load_request_document, request_from_document
from proofmarket.market.request_id import RequestId
from proofmarket.market.storage import fetch_url, storage_from_env
from proofmarket.market.types import PredicateType, ProofRequest, parse_hex
from proofmarket.market.units import format_units, parse_units
from proofmarket.market.validation import validate_request

if TYPE_CHECKING:
    from proofmarket.market.client import MarketClient

request_app = typer.Typer(
    help="Submit proof requests and fetch their proofs.", no_args_is_help=True
)

MOCK_SELECTOR = bytes.fromhex("ffffffff")
MAX_RECEIPT_BYTES = 1 << 29  # a receipt carries one STARK (~0.2-0.7 MB) per segment
BIDDING_START_DELAY = 15
RequestIdArg = Annotated[str, typer.Argument(help="request ID (0x-hex or decimal)")]
FromBlockOpt = Annotated[
    int | None,
    typer.Option("--from-block", help="first block to scan for events (default: deploy block)"),
]


def _from_block(client: MarketClient, from_block: int | None, env: dict[str, str]) -> int:
    if from_block is not None:
        return from_block
    text = env.get("PROOFMARKET_DEPLOY_BLOCK", "")
    return int(text) if text.isdigit() else 0


def _open_request(
    rpc_url: str | None, market_address: str | None, request_id: str, from_block: int | None
) -> tuple[MarketClient, RequestId, int]:
    """A read-only client, the parsed request ID and the first block to scan for its events."""
    chain = settings(rpc_url, None, market_address, None)
    client = connect(rpc_url, None, market_address, None, need_key=False)
    rid = RequestId.parse(request_id)
    return client, rid, _from_block(client, from_block, chain.env)


def _read_input(input_file: Path | None, input_hex: str | None) -> bytes:
    if input_file is not None and input_hex is not None:
        raise InvalidRequestError("give either --input-file or --input, not both")
    if input_file is not None:
        if not input_file.is_file():
            raise InvalidRequestError(f"input file {input_file} does not exist")
        return input_file.read_bytes()
    if input_hex is not None:
        return parse_hex(input_hex, "--input")
    return b""


def _load_program(program: Path | None, program_url: str | None) -> tuple[bytes, str | None]:
    if (program is None) == (program_url is None):
        raise InvalidRequestError("give exactly one of --program ELF or --program-url URL")
    if program is not None:
        if not program.is_file():
            raise InvalidRequestError(f"program file {program} does not exist")
        return program.read_bytes(), None
    assert program_url is not None
    return fetch_url(program_url), program_url


def _preflight(
    elf: bytes, stdin: bytes, cycle_limit: int, *, show: bool
) -> tuple[bytes, bytes, int]:
    """Run the guest locally, bounded, keeping no segments: (image ID, journal, cycles)."""
    from proofmarket.cli.execution import execute_bounded

    session = execute_bounded(elf, stdin, cycle_limit=cycle_limit, show=show)
    return session.image_id, session.journal, session.total_cycles


@request_app.command("submit")
@cli_errors
def submit(
    request_file: Annotated[
        Path | None, typer.Argument(help="request YAML (see docs/market.md); or use flags")
    ] = None,
    program: Annotated[Path | None, typer.Option("--program", help="guest ELF to upload")] = None,
    program_url: Annotated[
        str | None, typer.Option("--program-url", help="URL of an uploaded guest ELF")
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input-file", help="file with the guest's input bytes")
    ] = None,
    input_hex: Annotated[str | None, typer.Option("--input", help="guest input as hex")] = None,
    preflight: Annotated[
        bool,
        typer.Option(
            "--preflight/--no-preflight",
            help="run the guest locally to require its exact journal (else any journal)",
        ),
    ] = True,
    cycle_limit: CycleLimitOpt = None,
    min_price: Annotated[str | None, typer.Option(help="ETH at ramp-up start (0)")] = None,
    max_price: Annotated[str | None, typer.Option(help="ETH after ramp-up (0.001)")] = None,
    ramp_up_period: Annotated[int | None, typer.Option(help="seconds (60)")] = None,
    lock_timeout: Annotated[int | None, typer.Option(help="seconds (600)")] = None,
    timeout: Annotated[int | None, typer.Option(help="seconds (1200)")] = None,
    lock_stake: Annotated[str | None, typer.Option(help="collateral tokens (5)")] = None,
    index: Annotated[int | None, typer.Option(help="request index (next unused)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the proof")] = False,
    wait_timeout: Annotated[
        float | None, typer.Option(help="seconds to wait (until the deadline)")
    ] = None,
    offchain: Annotated[
        bool, typer.Option("--offchain", "-o", help="post to an order stream: no gas")
    ] = False,
    order_stream_url: Annotated[
        str | None, typer.Option("--order-stream-url", help="env ORDER_STREAM_URL")
    ] = None,
    rpc_url: RpcUrlOpt = None,
    private_key: PrivateKeyOpt = None,
    market_address: MarketAddressOpt = None,
    tx_timeout: TxTimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a proof request from a YAML file or from flags; prints its request ID."""
    max_cycles = cycle_limit_value(cycle_limit)
    chain = settings(rpc_url, private_key, market_address, tx_timeout)
    client = connect(rpc_url, private_key, market_address, tx_timeout, need_key=True)
    owner = client.signer.address
    deploy_block = _from_block(client, None, chain.env)
    now = client.block_timestamp()
    extra: dict[str, Any] = {}

    from proofmarket.market.ids import next_index

    def allocate() -> int:
        if index is not None:
            return RequestId(owner, index).value
        return RequestId(owner, next_index(client, from_block=deploy_block)).value

    if request_file is not None:
        if program or program_url or input_file or input_hex:
            raise InvalidRequestError(
                "a request file already names the program and input; drop the program/input flags"
            )
        document = load_request_document(request_file)
        request = request_from_document(
            document,
            request_id=0 if document.get("id") else allocate(),
            now=now + BIDDING_START_DELAY,
        )
        validate_request(request)
    else:
        elf, url = _load_program(program, program_url)
        stdin = _read_input(input_file, input_hex)
        _refuse_input(len(stdin))
        journal: bytes | None = None
        if preflight:
            image_id, journal, cycles = _preflight(elf, stdin, max_cycles, show=not as_json)
            extra["cycles"] = cycles
        else:
            from proofmarket.zkvm import compute_image_id

            image_id = compute_image_id(elf)
        decimals = client.collateral_decimals()
        offer = OfferParams(
            min_price=None if min_price is None else parse_units(min_price, what="--min-price"),
            max_price=None if max_price is None else parse_units(max_price, what="--max-price"),
            ramp_up_period=ramp_up_period,
            lock_timeout=lock_timeout,
            timeout=timeout,
            lock_collateral=(
                5 * 10**decimals
                if lock_stake is None
                else parse_units(lock_stake, decimals, what="--lock-stake")
            ),
            bidding_start_delay=BIDDING_START_DELAY,
        )
        builder = RequestBuilder(storage=storage_from_env(chain.env))
        request = builder.build(
            request_id=RequestId.from_int(allocate()),
            image_id=image_id,
            now=now,
            program=elf if url is None else None,
            program_url=url,
            stdin=stdin,
            journal=journal,
            offer=offer,
        )
    if request.client != owner:
        raise InvalidRequestError(f"request ID belongs to {request.client} but the key is {owner}")
    _refuse_hopeless(request, client.block_timestamp())
    signature = client.sign_request(request)
    shortfall = max(0, request.offer.max_price - client.balance_of())
    if shortfall and not offchain:
        _check_funds(client, owner, shortfall, request.offer.max_price)
    if offchain:  # the order stream checks the balance; nothing is sent on chain
        from proofmarket.orderstream.offchain import order_stream_url as stream_url
        from proofmarket.orderstream.offchain import submit_offchain

        stream_at = stream_url(order_stream_url, chain.env)
        order = submit_offchain(request, signature, stream_at)
        extra.update(offchain=True, orderStreamUrl=stream_at, orderId=order.id)
        shortfall, tx_hash, block_number = 0, f"none (order {order.id} at {stream_at})", None
    else:
        result = client.submit_request(request, signature, value=shortfall)
        tx_hash, block_number = result.tx_hash, result.block_number
    data: dict[str, Any] = {
        "requestId": request.request_id.hex(),
        "requestDigest": "0x" + client.request_digest(request).hex(),
        "imageUrl": request.image_url,
        "imageId": _hex(request.requirements.image_id),
        "predicateType": _enum_text(request.requirements.predicate.predicate_type.name),
        "deposited": shortfall,
        "txHash": None if offchain else tx_hash,
        "blockNumber": block_number,
        "lockDeadline": request.offer.lock_deadline,
        "deadline": request.offer.deadline,
        **extra,
    }
    lines = [
        f"submitted request {data['requestId']}",
        f"  image id:  {data['imageId']}",
        f"  image url: {request.image_url}",
        f"  max price: {format_units(request.offer.max_price)} ETH"
        + (f" (deposited {format_units(shortfall)} ETH)" if shortfall else ""),
        f"  lock by:   {when(request.offer.lock_deadline, now)}",
        f"  deadline:  {when(request.offer.deadline, now)}",
        f"  tx:        {tx_hash}",
    ]
    if wait:
        limit = wait_timeout
        if limit is None:
            limit = max(1.0, request.offer.deadline - client.block_timestamp() + 30.0)
        if not as_json:
            typer.echo("\n".join(lines))
            lines = []
        from rich.console import Console

        console = Console(stderr=True, quiet=as_json)
        with console.status(f"waiting up to {limit:.0f} s for a proof...") as line:

            def note(text: str) -> None:
                line.update(text)
                if not console.is_terminal and not as_json:  # no spinner: say it once
                    typer.echo(text, err=True)

            delivered = _wait_telling_why(
                client, request, block_number or client.block_number(), limit, note
            )
        claim = _claim_of(delivered, request)
        data["proof"] = _proof_json(delivered, claim)
        lines += _proof_lines(delivered, claim)
    emit(data, as_json, lines)


WAIT_SLICE_SECS = 5.0


def _wait_telling_why(
    client: MarketClient,
    request: ProofRequest,
    from_block: int,
    limit: float,
    say: Callable[[str], None],
) -> ev.ProofDelivered:
    """Wait for the proof in slices, saying whether any prover has taken the request."""
    import time

    from proofmarket.market.errors import WaitTimeout

    started = time.monotonic()
    give_up = started + limit
    chain_start = client.block_timestamp()
    said = ""

    def tell(kind: str, text: str) -> None:  # once per change of state, not per poll
        nonlocal said
        if kind != said:
            said = kind
            say(text)

    while True:
        remaining = give_up - time.monotonic()
        try:
            return client.wait_for_fulfillment(
                request.id, from_block=from_block, timeout=max(0.5, min(WAIT_SLICE_SECS, remaining))
            )
        except WaitTimeout as exc:
            if time.monotonic() >= give_up:
                state = "locked by a prover" if said == "locked" else "not locked by any prover"
                raise WaitTimeout(
                    f"no proof delivered within {limit:g} s (the request is {state})"
                ) from exc
        # an idle devnet mines no blocks, so its last block time stands still: count the
        # time waited on top of the chain time at the start
        now = max(client.block_timestamp(), chain_start + int(time.monotonic() - started))
        if client.request_is_locked(request.id):
            tell("locked", "locked by a prover; waiting for its proof")
        elif now < request.offer.ramp_up_start:
            tell("before", f"bidding opens {when(request.offer.ramp_up_start, now)}")
        else:
            tell(
                "open",
                "nothing is competing for this request yet: no prover has locked it "
                f"(it stays open until {when(request.offer.lock_deadline, now)})",
            )


def _refuse_input(size: int) -> None:
    """An input the executor would refuse is refused here, with or without preflight."""
    from proofmarket.zkvm.layout import MAX_INPUT_BYTES

    problem = input_problem(size, MAX_INPUT_BYTES)
    if problem is not None:
        raise InvalidRequestError("not submitted: " + problem)


def _refuse_hopeless(request: ProofRequest, now: int) -> None:
    """Refuse a request that cannot succeed before any gas is spent; warn on a poor one."""
    errors, warnings = submission_problems(
        deadline=request.offer.deadline, max_price=request.offer.max_price, now=now
    )
    if errors:
        raise InvalidRequestError("not submitted: " + "; ".join(errors))
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def _check_funds(client: MarketClient, owner: str, deposit: int, max_price: int) -> None:
    """Name the amounts when the key cannot pay the deposit (before the node says so)."""
    have = int(client.w3.eth.get_balance(owner))  # type: ignore[arg-type]
    if have < deposit:
        raise InvalidRequestError(
            f"insufficient funds: submitting deposits {format_units(deposit)} ETH (max price "
            f"{format_units(max_price)} ETH less your market balance) plus gas, but {owner} "
            f"holds {format_units(have)} ETH"
        )


def _enum_text(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def _find_request(
    client: MarketClient, rid: RequestId, from_block: int
) -> ev.RequestSubmitted | None:
    try:
        return client.get_submitted_request(rid, from_block=from_block)
    except RequestNotFoundError:
        return None


@request_app.command("status")
@cli_errors
def status(
    request_id: RequestIdArg,
    from_block: FromBlockOpt = None,
    rpc_url: RpcUrlOpt = None,
    market_address: MarketAddressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Unknown / Locked / Fulfilled / Expired, with deadlines when known."""
    client, rid, start = _open_request(rpc_url, market_address, request_id, from_block)
    submitted = _find_request(client, rid, start)
    expires_at = submitted.request.offer.deadline if submitted else None
    state = client.get_status(rid, expires_at)
    locked = client.request_is_locked(rid)
    data: dict[str, Any] = {
        "requestId": rid.hex(),
        "status": state.value,
        "locked": locked,
        "fulfilled": client.request_is_fulfilled(rid),
        "slashed": client.request_is_slashed(rid),
        "submitted": submitted is not None,
        "lockDeadline": submitted.request.offer.lock_deadline if submitted else None,
        "deadline": expires_at,
        "now": client.block_timestamp(),
    }
    if locked:
        lock = client.request_lock(rid)
        data.update(
            lockedBy=lock.prover,
            lockPrice=lock.price,
            lockDeadline=lock.lock_deadline,
            deadline=lock.deadline,
        )
    view = RequestView(
        status=state.value,
        submitted=submitted is not None,
        locked=locked,
        slashed=bool(data["slashed"]),
        lock_deadline=data["lockDeadline"],
        deadline=data["deadline"],
        now=int(data["now"]),
    )
    data["state"] = state_text(view)
    lines = [f"request {rid.hex()}: {data['state']}"]
    if locked:
        lines.append(f"  locked by {data['lockedBy']} at {format_units(data['lockPrice'])} ETH")
    if not view.submitted and not locked and state.value != "Fulfilled":
        lines.append(f"  (searched RequestSubmitted events from block {start})")
    emit(data, as_json, lines)


def _is_dev_seal(seal: bytes) -> bool:
    return seal[:4] == MOCK_SELECTOR


def _claim_of(event: ev.ProofDelivered, request: ProofRequest | None) -> bytes | None:
    """The claim digest the delivered seal proves: the one the market verified and logged
    (the client re-checked it against the journal), else from the journal when the fill
    carries one, else what the request's predicate names (None if unknown)."""
    from proofmarket.market.predicates import claim_digest, expected_claim_digest

    if event.claim_digest != bytes(32):
        return event.claim_digest
    if event.carries_journal:
        return claim_digest(event.image_id, event.journal)
    if request is None:
        return None
    predicate = request.requirements.predicate
    if predicate.predicate_type == PredicateType.PREFIX_MATCH:
        return None
    return expected_claim_digest(predicate, event.image_id, event.journal)


def _proof_json(event: ev.ProofDelivered, claim: bytes | None) -> dict[str, Any]:
    return {
        "requestId": hex(event.request_id),
        "prover": event.prover,
        "requestDigest": "0x" + event.request_digest.hex(),
        "imageId": "0x" + event.image_id.hex() if event.carries_journal else None,
        "journal": "0x" + event.journal.hex() if event.carries_journal else None,
        "seal": "0x" + event.seal.hex(),
        "claimDigest": _hex(claim),
        "devMode": _is_dev_seal(event.seal),
        "txHash": event.meta.tx_hash,
        "blockNumber": event.meta.block_number,
    }


def _proof_lines(event: ev.ProofDelivered, claim: bytes | None) -> list[str]:
    lines = [f"proof for request {event.request_id:#x} delivered by {event.prover}"]
    if event.carries_journal:
        lines += [
            f"  image id:     0x{event.image_id.hex()}",
            f"  journal:      0x{event.journal.hex()}",
        ]
    else:
        lines.append("  (no journal delivered: claim-digest fulfilment)")
    lines.append(f"  seal:         0x{event.seal.hex()}")
    if claim is not None:
        lines.append(f"  claim digest: 0x{claim.hex()}")
    if _is_dev_seal(event.seal):
        lines.append("  DEV MODE: mock-verifier seal, it proves nothing")
    return lines


@request_app.command("get-proof")
@cli_errors
def get_proof(
    request_id: RequestIdArg,
    from_block: FromBlockOpt = None,
    rpc_url: RpcUrlOpt = None,
    market_address: MarketAddressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the journal and seal delivered for a request."""
    client, rid, start = _open_request(rpc_url, market_address, request_id, from_block)
    event = client.get_fulfillment(rid, from_block=start)
    submitted = None if event.carries_journal else _find_request(client, rid, start)
    claim = _claim_of(event, submitted.request if submitted else None)
    emit(_proof_json(event, claim), as_json, _proof_lines(event, claim))


def _check_against_request(
    request: ProofRequest, event: ev.ProofDelivered, claim: bytes, checks: dict[str, bool]
) -> None:
    from proofmarket.market.predicates import evaluate, predicate_image_id

    predicate = request.requirements.predicate
    if event.carries_journal:
        checks["predicate"] = evaluate(predicate, event.image_id, event.journal)
        named = predicate_image_id(predicate)
        if named is not None:
            checks["imageIdMatchesRequest"] = named == event.image_id
    else:
        expected = _claim_of(event, request)
        checks["predicate"] = expected is not None and expected == claim


def _receipt_image_id(
    request: ProofRequest | None, event: ev.ProofDelivered, expected: bytes | None
) -> bytes | None:
    """The image ID the receipt must prove a run of: the request's, else the delivered one,
    else the one the user named."""
    from proofmarket.market.predicates import predicate_image_id

    if request is not None:
        named = predicate_image_id(request.requirements.predicate)
        if named is not None:
            return named
    if event.carries_journal:
        return event.image_id
    return expected


def _check_receipt(
    url: str,
    image_id: bytes | None,
    event: ev.ProofDelivered,
    claim: bytes,
    *,
    allow_dev_mode: bool,
    allow_insecure_params: bool,
) -> dict[str, Any]:
    """Fetch the published receipt and verify it off chain: the zkVM receipt proves a run
    of ``image_id`` whose claim is the fulfilment's claim (and journal, when delivered)."""
    from proofmarket.market.storage import FetchError
    from proofmarket.zkvm.receipt import Receipt as ZkReceipt
    from proofmarket.zkvm.receipt import ReceiptError, stark_profiles
    from proofmarket.zkvm.receipt import verify as verify_receipt

    found: dict[str, Any] = {"url": url, "verified": False, "error": None, "mode": None}
    try:
        data = fetch_url(url, MAX_RECEIPT_BYTES)
    except FetchError as exc:
        found["error"] = f"no receipt: {exc}"
        return found
    found["bytes"] = len(data)
    try:
        receipt = ZkReceipt.from_bytes(data)
        found["mode"] = receipt.mode
        found["segments"] = receipt.inner.segment_count
        if not receipt.is_dev_mode:
            found["starkProfiles"] = sorted(stark_profiles(receipt))
        if image_id is None:
            raise ReceiptError("the request names no image ID; pass --image-id")
        verify_receipt(
            receipt,
            image_id,
            allow_dev_mode=allow_dev_mode,
            allow_insecure_params=allow_insecure_params,
        )
        if receipt.claim.digest() != claim:
            raise ReceiptError(
                f"the receipt proves claim 0x{receipt.claim.digest().hex()}, not the "
                f"fulfilment's 0x{claim.hex()}"
            )
        if event.carries_journal and receipt.journal != event.journal:
            raise ReceiptError("the receipt's journal differs from the delivered journal")
    except (ReceiptError, ValueError) as exc:
        found["error"] = str(exc)
        return found
    found["verified"] = True
    return found


def _receipt_line(found: dict[str, Any]) -> str:
    if found["verified"]:
        profiles = found.get("starkProfiles")
        what = found["mode"] + (f", {', '.join(profiles)} profile" if profiles else "")
        return f"ok   receiptVerifies ({what}, {found['segments']} segment(s)) {found['url']}"
    return f"FAIL receiptVerifies: {found['error']} ({found['url']})"


@request_app.command("verify-proof")
@cli_errors
def verify_proof(
    request_id: RequestIdArg,
    image_id: Annotated[
        str | None, typer.Option("--image-id", help="also require this image ID (hex)")
    ] = None,
    receipt_url: Annotated[
        str | None,
        typer.Option(
            "--receipt-url",
            help="the prover's receipt (default: receipts/<claim digest>.receipt in the "
            "storage STORAGE_PROVIDER names, where brokers publish it)",
        ),
    ] = None,
    check_receipt: Annotated[
        bool,
        typer.Option("--receipt/--no-receipt", help="verify the prover's receipt off chain"),
    ] = True,
    dev_mode: Annotated[
        bool, typer.Option("--dev-mode", help="accept a DEV MODE receipt (it proves nothing)")
    ] = False,
    allow_insecure_params: Annotated[
        bool,
        typer.Option(
            "--allow-insecure-params", help="accept seals of the insecure test STARK profile"
        ),
    ] = False,
    from_block: FromBlockOpt = None,
    rpc_url: RpcUrlOpt = None,
    market_address: MarketAddressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a delivered proof: the prover's zkVM receipt off chain, the claim against the
    request's predicate and the seal through the market's verifier router. Exit status 1
    when any check fails; DEV MODE is labelled."""
    from proofmarket.broker.receipts import ON_CHAIN_NOTE, receipt_location

    chain = settings(rpc_url, None, market_address, None)
    client, rid, start = _open_request(rpc_url, market_address, request_id, from_block)
    event = client.get_fulfillment(rid, from_block=start)
    submitted = _find_request(client, rid, start)
    request = submitted.request if submitted else None
    claim = _claim_of(event, request)
    if claim is None:
        raise InvalidRequestError(
            f"cannot tell which claim request {rid.hex()} proves: the fulfilment carries no "
            "journal and its RequestSubmitted event was not found (try --from-block)"
        )
    checks: dict[str, bool] = {}
    expected_image = None if image_id is None else parse_hex(image_id, "--image-id")
    if expected_image is not None:
        checks["imageIdMatchesExpected"] = expected_image == event.image_id
    if request is not None:
        _check_against_request(request, event, claim, checks)
    found: dict[str, Any] | None = None
    if check_receipt:
        found = _check_receipt(
            receipt_url or receipt_location(claim, chain.env),
            _receipt_image_id(request, event, expected_image),
            event,
            claim,
            allow_dev_mode=dev_mode,
            allow_insecure_params=allow_insecure_params,
        )
        checks["receiptVerifies"] = found["verified"]
    seal_error = ""
    try:
        client.verify_integrity(event.seal, claim)
        checks["sealVerifies"] = True
    except MarketError as exc:
        checks["sealVerifies"] = False
        seal_error = str(exc)
    verified = all(checks.values())
    dev = _is_dev_seal(event.seal)
    data = {
        "requestId": rid.hex(),
        "verified": verified,
        "devMode": dev,
        "checks": checks,
        "requestFound": request is not None,
        "sealError": seal_error or None,
        "claimDigest": "0x" + claim.hex(),
        "imageId": "0x" + event.image_id.hex() if event.carries_journal else None,
        "receipt": found,
        "onChain": ON_CHAIN_NOTE,
    }
    lines = [
        _receipt_line(found)
        if name == "receiptVerifies" and found is not None
        else f"{'ok  ' if ok else 'FAIL'} {name}"
        for name, ok in checks.items()
    ]
    if not check_receipt:
        lines.append("note: the prover's receipt was not checked (--no-receipt)")
    if request is None:
        lines.append("note: request not found in RequestSubmitted events; predicate not checked")
    if seal_error:
        lines.append(f"seal error: {seal_error}")
    if dev:
        lines.append("DEV MODE: the seal is a mock-verifier seal and proves nothing")
    lines.append(f"note: {ON_CHAIN_NOTE}")
    lines.append(f"request {rid.hex()}: {'VERIFIED' if verified else 'NOT VERIFIED'}")
    emit(data, as_json, lines)
    if not verified:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(request_app, name="request")


__all__ = ["register"]

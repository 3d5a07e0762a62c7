"""The order-stream service (FastAPI): submit, list and get orders; subscribe over a
WebSocket.

Routes (Boundless' order-stream names): ``POST /api/v1/submit_order``,
``GET /api/v1/orders``, ``GET /api/v1/orders/{request_id}``, ``GET /api/v1/nonce/{address}``,
``GET /ws/v1/orders``, ``GET /api/v1/health``, ``GET /api/v1/status``. Every refusal is
``{"type", "msg"}`` with a precise status code. Chain reads and database calls are blocking
and run in the thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import proofmarket
from proofmarket.market.eip712 import MarketDomain
from proofmarket.market.errors import InvalidRequestError, MarketError
from proofmarket.market.request_id import RequestId
from proofmarket.market.types import ProofRequest
from proofmarket.market.validation import validate_request
from proofmarket.orderstream import errors
from proofmarket.orderstream.auth import AUTH_HEADER, AuthData
from proofmarket.orderstream.hub import Hub
from proofmarket.orderstream.models import Order, parse_submission
from proofmarket.orderstream.ratelimit import RateLimiter
from proofmarket.orderstream.session import Session
from proofmarket.orderstream.settings import StreamSettings
from proofmarket.orderstream.signatures import check_request_signature
from proofmarket.orderstream.store import OrderStore

if TYPE_CHECKING:
    from proofmarket.market.client import MarketClient

log = logging.getLogger(__name__)


@dataclass
class StreamContext:
    """What the service runs on: the book, the market it serves and its limits."""

    store: OrderStore
    market: MarketClient
    settings: StreamSettings = field(default_factory=StreamSettings)

    def __post_init__(self) -> None:
        s = self.settings
        self.domain = MarketDomain(self.market.chain_id, self.market.address)
        self.hub = Hub(s.max_subscribers, s.subscriber_queue)
        self.submit_by_address = RateLimiter(s.submit_per_minute_per_address)
        self.submit_by_ip = RateLimiter(s.submit_per_minute_per_ip)
        self.connect_by_ip = RateLimiter(s.connect_per_minute_per_ip)
        self.read_by_ip = RateLimiter(s.read_per_minute_per_ip)
        self.publish_lock = asyncio.Lock()
        self.started_at = time.time()
        self.accepted = 0
        self.refused: dict[str, int] = {}


def _ip(connection: Request | WebSocket) -> str:
    return connection.client.host if connection.client else "unknown"


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise errors.PayloadTooLarge(f"body of {int(declared)} bytes exceeds {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise errors.PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
    return bytes(body)


def _check_chain(ctx: StreamContext, request: ProofRequest) -> None:
    """What only the chain knows: time, the request's state, the requestor's balance."""
    market = ctx.market
    try:
        now = market.block_timestamp()
        if request.offer.lock_deadline <= now:
            raise errors.InvalidOrder(
                f"the lock deadline {request.offer.lock_deadline} has passed (chain time {now})"
            )
        if market.request_is_fulfilled(request.id):
            raise errors.DuplicateOrder(f"request {hex(request.id)} is already fulfilled")
        if market.request_is_locked(request.id):
            raise errors.DuplicateOrder(f"request {hex(request.id)} is already locked on chain")
        balance = market.balance_of(request.client)
    except MarketError as exc:
        raise errors.ChainUnavailable(f"cannot read the market: {exc}") from None
    if balance < request.offer.max_price:
        raise errors.InsufficientBalance(
            f"{request.client} has {balance} wei in the market, less than the max price "
            f"{request.offer.max_price} wei (deposit first)"
        )


async def _authenticate(ctx: StreamContext, websocket: WebSocket) -> str:
    """The subscriber's address, after the login signature and a one-time nonce check."""
    s = ctx.settings
    ctx.connect_by_ip.check(_ip(websocket), "connections from this IP")
    auth = AuthData.parse(websocket.headers.get(AUTH_HEADER))
    if abs(time.time() - auth.timestamp) > s.max_clock_skew:
        raise errors.Unauthorized(
            f"login timestamp {auth.timestamp} is more than {s.max_clock_skew:g} s from "
            "the server's clock"
        )
    signer = auth.signer(ctx.market.address, ctx.domain.chain_id)
    if signer != auth.address:
        raise errors.Unauthorized(f"login for {auth.address} is signed by {signer}")
    if not await run_in_threadpool(ctx.store.consume_nonce, auth.address, auth.nonce, s.nonce_ttl):
        raise errors.Unauthorized("nonce unknown, expired or already used; get a new one")
    if s.min_broker_stake > 0:
        try:
            stake = await run_in_threadpool(ctx.market.balance_of_stake, auth.address)
        except MarketError as exc:
            raise errors.ChainUnavailable(f"cannot read the market: {exc}") from None
        if stake < s.min_broker_stake:
            raise errors.Unauthorized(
                f"{auth.address} holds {stake} collateral in the market; subscribing needs "
                f"{s.min_broker_stake}"
            )
    if ctx.hub.full:
        raise errors.ServerAtCapacity(
            f"{len(ctx.hub.subscribers)} subscribers connected, the limit; retry later"
        )
    return auth.address


def _since(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("since")
    if raw is None or raw == "":
        return None
    if not raw.isdecimal():
        raise errors.InvalidOrder(f"since must be a non-negative order id, got {raw!r}")
    return int(raw)


async def _deny(websocket: WebSocket, exc: errors.OrderStreamError) -> None:
    """Refuse the upgrade with an HTTP status and a ``{type, msg}`` body."""
    try:
        await websocket.send_denial_response(_error_response(exc))
    except RuntimeError:  # the server cannot send denial bodies: a bare 403
        await websocket.close(code=1008, reason=exc.msg[:120])


def _error_response(exc: errors.OrderStreamError) -> JSONResponse:
    headers = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)


async def _publish_new(ctx: StreamContext) -> None:
    """Push every stored order this process has not pushed yet, in id order.

    All pushes go through here, from the database: orders accepted by this process (called
    right after the insert) and by other processes sharing the database (the tailer).
    Inserts commit in id order (the store serialises them), so reading ``id > last`` never
    skips an order that commits later.
    """
    async with ctx.publish_lock:
        while True:
            page = await run_in_threadpool(
                ctx.store.list, ctx.hub.last_published, ctx.settings.replay_page
            )
            for order in page:
                ctx.hub.publish(order)
            if len(page) < ctx.settings.replay_page:
                return


async def _tail(ctx: StreamContext) -> None:
    """Pick up orders other service processes stored (same database), every
    ``tail_interval`` seconds; a database error is logged and retried, never fatal."""
    while True:
        await asyncio.sleep(ctx.settings.tail_interval)
        try:
            await _publish_new(ctx)
        except errors.OrderStreamError as exc:
            log.warning("cannot read new orders: %s", exc)


def create_app(ctx: StreamContext, on_shutdown: Callable[[], None] | None = None) -> FastAPI:
    """Build the service around an open store and a market client; ``on_shutdown`` runs
    when the server stops (before uvicorn re-raises a SIGTERM it caught)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ctx.hub.last_published = await run_in_threadpool(ctx.store.last_id)
        tailer = asyncio.create_task(_tail(ctx), name="orderstream-tailer")
        try:
            yield
        finally:
            tailer.cancel()
            await asyncio.gather(tailer, return_exceptions=True)
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="proofmarket order stream",
        version=proofmarket.__version__,
        description="Off-chain order book: signed requests in, WebSocket stream out.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    s = ctx.settings

    def refuse(exc: errors.OrderStreamError) -> JSONResponse:
        ctx.refused[exc.type_name] = ctx.refused.get(exc.type_name, 0) + 1
        return _error_response(exc)

    @app.exception_handler(errors.OrderStreamError)
    async def _stream_error(_: Request, exc: errors.OrderStreamError) -> Response:
        return refuse(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return refuse(errors.InvalidOrder(f"invalid parameters: {details}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return refuse(
                errors.MethodNotAllowed(f"{request.method} not allowed on {request.url.path}")
            )
        return refuse(errors.NotFound(f"no route {request.url.path}"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unexpected error")
        return refuse(errors.OrderStreamError(f"internal error: {type(exc).__name__}: {exc}"))

    @app.post("/api/v1/submit_order", status_code=201)
    async def submit_order(request: Request) -> dict[str, Any]:
        ctx.submit_by_ip.check(_ip(request), "submissions from this IP")
        body = await _read_body(request, s.max_body_bytes)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.MalformedBody(f"the body is not JSON: {exc}") from None
        sub = parse_submission(data)
        try:
            validate_request(sub.request)
        except InvalidRequestError as exc:
            raise errors.InvalidOrder(str(exc)) from None
        ctx.submit_by_address.check(sub.request.client.lower(), f"{sub.request.client}")
        digest = await run_in_threadpool(
            check_request_signature, sub.request, sub.signature, ctx.domain, ctx.market
        )
        if await run_in_threadpool(ctx.store.get, sub.request.id) is not None:
            raise errors.DuplicateOrder(
                f"request {hex(sub.request.id)} is already in the order stream"
            )
        await run_in_threadpool(_check_chain, ctx, sub.request)
        order = await run_in_threadpool(ctx.store.add, sub.request, digest, sub.signature)
        try:
            await _publish_new(ctx)
        except errors.OrderStreamError as exc:  # stored: the tailer pushes it later
            log.warning("order %s stored, push delayed: %s", order.id, exc)
        ctx.accepted += 1
        return {"order": order.to_json()}

    @app.get("/api/v1/orders")
    async def list_orders(
        request: Request, after: int = 0, limit: int = 100, client: str | None = None
    ) -> dict[str, Any]:
        ctx.read_by_ip.check(_ip(request), "reads from this IP")
        if after < 0 or not 1 <= limit <= s.max_page:
            raise errors.InvalidOrder(f"need after >= 0 and 1 <= limit <= {s.max_page}")
        orders = await run_in_threadpool(ctx.store.list, after, limit, client)
        next_after = orders[-1].id if len(orders) == limit else None
        return {"orders": [o.to_json() for o in orders], "next": next_after}

    @app.get("/api/v1/orders/{request_id}")
    async def get_order(request: Request, request_id: str) -> dict[str, Any]:
        ctx.read_by_ip.check(_ip(request), "reads from this IP")
        try:
            rid = RequestId.parse(request_id)
        except InvalidRequestError as exc:
            raise errors.InvalidOrder(str(exc)) from None
        order: Order | None = await run_in_threadpool(ctx.store.get, rid.value)
        if order is None:
            raise errors.NotFound(f"no order for request {rid.hex()}")
        return {"order": order.to_json()}

    @app.get("/api/v1/nonce/{address}")
    async def nonce(request: Request, address: str) -> dict[str, Any]:
        from eth_utils import is_address, to_checksum_address

        ctx.connect_by_ip.check(_ip(request), "nonce requests from this IP")
        if not is_address(address):
            raise errors.InvalidOrder(f"not an address: {address!r}")
        value = secrets.token_hex(16)
        await run_in_threadpool(ctx.store.issue_nonce, address, value, s.nonce_ttl)
        return {
            "address": to_checksum_address(address),
            "nonce": value,
            "expiresIn": s.nonce_ttl,
            "market": ctx.market.address,
            "chainId": ctx.domain.chain_id,
            "serverTime": int(time.time()),
        }

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/status")
    async def status() -> dict[str, Any]:
        count = await run_in_threadpool(ctx.store.count)
        last = await run_in_threadpool(ctx.store.last_id)
        return {
            "version": proofmarket.__version__,
            "database": ctx.store.backend,
            "market": ctx.market.address,
            "chainId": ctx.domain.chain_id,
            "orders": count,
            "lastOrderId": last,
            "accepted": ctx.accepted,
            "refused": dict(ctx.refused),
            "subscribers": [sub.info() for sub in ctx.hub.subscribers],
            "droppedHeartbeat": ctx.hub.dropped_heartbeat,
            "droppedSlow": ctx.hub.dropped_slow,
            "uptime": time.time() - ctx.started_at,
            "heartbeatInterval": s.heartbeat_interval,
            "heartbeatTimeout": s.heartbeat_timeout,
        }

    @app.websocket("/ws/v1/orders")
    async def subscribe(websocket: WebSocket) -> None:
        try:
            since = _since(websocket)
            address = await _authenticate(ctx, websocket)
        except errors.OrderStreamError as exc:
            ctx.refused[exc.type_name] = ctx.refused.get(exc.type_name, 0) + 1
            await _deny(websocket, exc)
            return
        sub = ctx.hub.add(address, _ip(websocket))
        try:
            await websocket.accept()
            await Session(websocket, sub, ctx.store, ctx.hub, s).run(since)
        finally:
            ctx.hub.remove(sub)

    return app

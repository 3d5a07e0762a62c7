"""``OrderStreamClient``: submit, list and follow the order stream from Python.

HTTP calls are synchronous (httpx). ``subscribe`` is an async iterator of orders that keeps
itself alive: it logs in with the broker's key (one-time nonce), answers the server's pings,
sends its own, treats ``heartbeat_timeout`` seconds of silence as a dead socket (Boundless
#241), and reconnects with back-off, resuming after the last order it delivered, so a
dropped connection loses nothing and delivers nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from proofmarket.market.request_id import RequestId
from proofmarket.market.types import ProofRequest
from proofmarket.orderstream.auth import AUTH_HEADER, AuthData, sign_login
from proofmarket.orderstream.errors import (
    OrderStreamError,
    StreamClosed,
    Unauthorized,
    error_from_body,
)
from proofmarket.orderstream.models import Order, Submission

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8585"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next: int | None
    """Pass as ``after`` for the next page; None when this was the last one."""


def _decode(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise error_from_body(response.status_code, body)
    return body


class OrderStreamClient:
    """A client of one order-stream service; ``private_key`` is needed only to subscribe."""

    def __init__(
        self, url: str = DEFAULT_URL, private_key: str | None = None, *, timeout: float = 10.0
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise OrderStreamError(f"order stream URL must be http(s)://, got {url!r}")
        self.url = url.rstrip("/")
        self.private_key = private_key
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OrderStreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StreamClosed(f"cannot reach the order stream at {self.url}: {exc}") from exc
        return _decode(response)

    # ------------------------------------------------------------------ requests
    def submit(self, request: ProofRequest, signature: bytes) -> Order:
        """Post a signed request; returns the order as the book stored it."""
        body = self._call(
            "POST", "/api/v1/submit_order", json=Submission(request, signature).to_json()
        )
        return Order.from_json(body["order"])

    def get(self, request_id: int | RequestId) -> Order:
        """The order for a request ID (:class:`NotFound` when absent)."""
        body = self._call("GET", f"/api/v1/orders/{hex(int(request_id))}")
        return Order.from_json(body["order"])

    def list(self, after: int = 0, limit: int = 100, client: str | None = None) -> OrderPage:
        params: dict[str, Any] = {"after": after, "limit": limit}
        if client is not None:
            params["client"] = client
        body = self._call("GET", "/api/v1/orders", params=params)
        return OrderPage([Order.from_json(o) for o in body["orders"]], body["next"])

    def iter_orders(self, after: int = 0, page_size: int = 100) -> Iterator[Order]:
        """Every order after ``after``, page by page."""
        cursor: int | None = after
        while cursor is not None:
            page = self.list(cursor, page_size)
            yield from page.orders
            cursor = page.next

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/health"))

    def status(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/status"))

    # ------------------------------------------------------------------ subscribing
    def subscribe(
        self,
        since: int | None = None,
        *,
        heartbeat_interval: float = 5.0,
        heartbeat_timeout: float = 15.0,
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 10.0,
        max_failures: int | None = None,
    ) -> Subscription:
        """Orders with ``id > since`` (None: from now on), live, surviving reconnects.

        Use as ``async with client.subscribe() as sub: async for order in sub: ...``.
        """
        if not self.private_key:
            raise Unauthorized("subscribing needs the broker's private key")
        return Subscription(
            self,
            since,
            heartbeat_interval=heartbeat_interval,
            heartbeat_timeout=heartbeat_timeout,
            reconnect_delay=reconnect_delay,
            max_reconnect_delay=max_reconnect_delay,
            max_failures=max_failures,
        )

    async def login(self, http: httpx.AsyncClient) -> AuthData:
        """Fetch a nonce and sign the login message with this client's key."""
        assert self.private_key is not None
        from eth_account import Account

        address = Account.from_key(self.private_key).address
        response = await http.get(f"{self.url}/api/v1/nonce/{quote(address)}")
        info = _decode(response)
        return sign_login(
            self.private_key, info["market"], int(info["chainId"]), info["nonce"], int(time.time())
        )

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :] + "/ws/v1/orders"


class _Dead(Exception):
    """The current connection is gone or silent; reconnect."""


class Subscription:
    """An async iterator of orders over a self-healing WebSocket connection.

    ``last_id`` is the id of the last order delivered (the resume cursor), ``reconnects``
    counts connections after the first, ``connected`` is set while a connection is up.
    """

    def __init__(
        self,
        client: OrderStreamClient,
        since: int | None,
        *,
        heartbeat_interval: float,
        heartbeat_timeout: float,
        reconnect_delay: float,
        max_reconnect_delay: float,
        max_failures: int | None,
        queue_size: int = 10_000,
    ) -> None:
        self.client = client
        self.last_id = since
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.max_failures = max_failures
        self.reconnects = 0
        self.connections = 0
        self.connected = asyncio.Event()
        self._queue: asyncio.Queue[Order | BaseException] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # ------------------------------------------------------------------ iterator protocol
    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Order:
        if self._closed:
            raise StopAsyncIteration
        self.start()
        item = await self._queue.get()
        if isinstance(item, BaseException):
            self._closed = True
            raise item
        return item

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="orderstream-subscription")

    async def __aenter__(self) -> Subscription:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5.0)

    async def wait_connected(self, timeout: float = 10.0) -> None:
        self.start()
        await asyncio.wait_for(self.connected.wait(), timeout)

    # ------------------------------------------------------------------ the connection loop
    async def _run(self) -> None:
        delay = self.reconnect_delay
        failures = 0
        # no keep-alive: a login must not ride on a connection that died with the socket
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=self.client.timeout, limits=limits) as http:
            while True:
                try:
                    delivered = await self._connect_once(http)
                except OrderStreamError as exc:
                    if exc.status_code not in RETRYABLE_STATUS:
                        await self._queue.put(exc)  # a refusal retrying cannot fix
                        return
                    delivered = False
                    log.warning("order stream busy: %s", exc)
                except (_Dead, OSError, TimeoutError, httpx.HTTPError) as exc:
                    delivered = self.connected.is_set()
                    log.info("order stream connection lost: %s", exc)
                except Exception as exc:  # websockets' handshake and protocol errors
                    delivered = False
                    log.info("order stream connection failed: %s: %s", type(exc).__name__, exc)
                self.connected.clear()
                if delivered:
                    delay, failures = self.reconnect_delay, 0
                else:
                    failures += 1
                    if self.max_failures is not None and failures >= self.max_failures:
                        await self._queue.put(
                            StreamClosed(f"gave up after {failures} failed connection attempts")
                        )
                        return
                await asyncio.sleep(delay)
                delay = min(self.max_reconnect_delay, delay * 2)
                self.reconnects += 1

    async def _connect_once(self, http: httpx.AsyncClient) -> bool:
        """One connection, until it dies; true when the handshake succeeded."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        auth = await self.client.login(http)
        url = self.client.ws_url
        if self.last_id is not None:
            url += f"?since={self.last_id}"
        try:
            ws = await connect(
                url,
                additional_headers={AUTH_HEADER: auth.header()},
                open_timeout=self.heartbeat_timeout,
                close_timeout=1.0,
                ping_interval=None,  # heartbeats are application messages, both ways
                proxy=None,
                max_size=4 << 20,
            )
        except InvalidStatus as exc:
            body: Any = exc.response.body or b""
            with contextlib.suppress(ValueError):
                body = json.loads(body)
            raise error_from_body(exc.response.status_code, body) from None
        self.connections += 1
        pinger = asyncio.create_task(self._pinger(ws))
        try:
            hello = await self._recv(ws)
            if hello.get("type") != "hello":
                raise _Dead(f"expected hello, got {hello.get('type')!r}")
            if self.last_id is None:
                self.last_id = int(hello["since"])
            self.connected.set()
            while True:
                message = await self._recv(ws)
                kind = message.get("type")
                if kind == "order":
                    order = Order.from_json(message["order"])
                    if self.last_id is not None and order.id <= self.last_id:
                        continue
                    self.last_id = order.id
                    await self._queue.put(order)
                elif kind == "ping":
                    await ws.send(json.dumps({"type": "pong", "ts": message.get("ts")}))
        except ConnectionClosed as exc:
            raise _Dead(f"closed by the server: {exc}") from None
        finally:
            pinger.cancel()
            ws.transport.abort()  # no closing handshake with a peer that may be gone
            # gather, not a bare await: a cancel of this task must not be swallowed here
            await asyncio.gather(pinger, return_exceptions=True)

    async def _recv(self, ws: Any) -> dict[str, Any]:
        try:
            text = await asyncio.wait_for(ws.recv(), self.heartbeat_timeout)
        except TimeoutError:
            raise _Dead(f"nothing heard for {self.heartbeat_timeout:g} s") from None
        try:
            message = json.loads(text)
        except ValueError:
            raise _Dead("the server sent a frame that is not JSON") from None
        if not isinstance(message, dict):
            raise _Dead("the server sent a frame that is not a JSON object")
        return message

    async def _pinger(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    ws.send(json.dumps({"type": "ping", "ts": time.time()})),
                    self.heartbeat_interval,
                )

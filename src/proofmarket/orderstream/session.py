"""One subscriber's WebSocket session: replay from ``since``, then live orders and
heartbeats both ways.

Messages are JSON text frames with a ``type``. Server to client: ``hello`` (once, with the
cursor the stream starts after and the heartbeat timings), ``order``, ``ping``, ``pong``.
Client to server: ``ping`` (answered with ``pong``) and ``pong``. Any frame from the client
counts as a sign of life; one silent for ``heartbeat_timeout`` is closed with code 4000. A
subscriber that falls too far behind is closed with 4008 and resumes on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket
from fastapi.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from proofmarket.orderstream.hub import Hub, Subscriber
from proofmarket.orderstream.models import Order
from proofmarket.orderstream.settings import StreamSettings
from proofmarket.orderstream.store import OrderStore

log = logging.getLogger(__name__)

CLOSE_HEARTBEAT_TIMEOUT = 4000
CLOSE_TOO_SLOW = 4008


class _Stop(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Session:
    def __init__(
        self,
        websocket: WebSocket,
        sub: Subscriber,
        store: OrderStore,
        hub: Hub,
        settings: StreamSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = websocket
        self.sub = sub
        self.store = store
        self.hub = hub
        self.settings = settings
        self.clock = clock
        self.last_seen = clock()
        self.cursor = 0
        self._send_lock = asyncio.Lock()

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            try:
                await asyncio.wait_for(
                    self.ws.send_text(json.dumps(message)), self.settings.send_timeout
                )
            except TimeoutError:
                raise _Stop(CLOSE_TOO_SLOW, "send timed out") from None

    async def _send_order(self, order: Order) -> None:
        await self._send({"type": "order", "order": order.to_json()})
        self.sub.sent += 1
        self.cursor = max(self.cursor, order.id)

    async def run(self, since: int | None) -> None:
        try:
            start = since if since is not None else await run_in_threadpool(self.store.last_id)
            self.cursor = start
            await self._send(
                {
                    "type": "hello",
                    "address": self.sub.address,
                    "since": start,
                    "heartbeatInterval": self.settings.heartbeat_interval,
                    "heartbeatTimeout": self.settings.heartbeat_timeout,
                }
            )
            await self._replay()
            await self._live()
        except _Stop as stop:
            if stop.code == CLOSE_HEARTBEAT_TIMEOUT:
                self.hub.dropped_heartbeat += 1
            elif stop.code == CLOSE_TOO_SLOW:
                self.hub.dropped_slow += 1
            log.info("closing subscriber %s: %s", self.sub.address, stop.reason)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(stop.code, stop.reason), 2.0)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the peer went away

    async def _replay(self) -> None:
        """Orders accepted after the cursor, from the database, before live ones."""
        while True:
            page = await run_in_threadpool(self.store.list, self.cursor, self.settings.replay_page)
            for order in page:
                await self._send_order(order)
            if len(page) < self.settings.replay_page:
                return

    async def _live(self) -> None:
        tasks = [
            asyncio.create_task(self._reader()),
            asyncio.create_task(self._pinger()),
            asyncio.create_task(self._sender()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # re-raise _Stop / disconnects

    async def _reader(self) -> None:
        while True:
            frame = await self.ws.receive()
            if frame["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(frame.get("code", 1000))
            self.last_seen = self.clock()  # any frame is a sign of life
            try:
                message = json.loads(frame.get("text") or "")
            except ValueError:
                continue  # binary or not JSON: ignored
            if isinstance(message, dict) and message.get("type") == "ping":
                await self._send({"type": "pong", "ts": message.get("ts")})

    async def _pinger(self) -> None:
        interval = self.settings.heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            silent = self.clock() - self.last_seen
            if silent > self.settings.heartbeat_timeout:
                raise _Stop(CLOSE_HEARTBEAT_TIMEOUT, f"no heartbeat for {silent:.1f} s")
            await self._send({"type": "ping", "ts": time.time()})

    async def _sender(self) -> None:
        while True:
            order = await self.sub.queue.get()
            if order is None:
                raise _Stop(CLOSE_TOO_SLOW, "subscriber fell too far behind; resume with since")
            if order.id > self.cursor:  # not already sent by the replay
                await self._send_order(order)

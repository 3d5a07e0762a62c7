"""An asyncio TCP proxy for fault injection between a client and a real service.

Runs its event loop in a background thread. Modes:

* ``refuse()`` — drop every open connection and refuse new ones (server down);
* ``cut()`` — drop every open connection once, keep accepting (connections reset);
* ``stall()`` — keep connections open but forward nothing (a hung server or network);
* ``heal()`` — back to normal forwarding (the listening port never changes).

``drop_next_reply(match)`` cuts the connection whose next server→client chunk contains
``match`` instead of delivering it: the server did the work, the client never hears back
(a claim whose reply is lost). ``after_replies(match, n, mode)`` switches to ``mode`` once
``n`` server→client chunks containing ``match`` went through (e.g. refuse Redis after
the third ``+OK``: a fault at a precise point of a job, whatever the machine's speed).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.mode = "ok"
        self.connections = 0  # accepted since start
        self.dropped_replies = 0
        self._drop_match: bytes | None = None
        self._trigger: tuple[bytes, int, str] | None = None
        self.triggered = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._resume = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- control (any thread) -------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def refuse(self) -> None:
        self._call(self._set_mode("refuse"))

    def cut(self) -> None:
        self._call(self._set_mode("cut"))

    def stall(self) -> None:
        self._call(self._set_mode("stall"))

    def heal(self) -> None:
        self._call(self._set_mode("ok"))

    def drop_next_reply(self, match: bytes) -> None:
        self._drop_match = match

    def after_replies(self, match: bytes, count: int, mode: str) -> None:
        self.triggered.clear()
        self._trigger = (match, count, mode)

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    # -- event loop side ------------------------------------------------------------------
    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._resume.set()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._drop_all()
        self._resume.set()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def _set_mode(self, mode: str) -> None:
        self.mode = "ok" if mode == "cut" else mode
        if mode in ("refuse", "cut"):
            self._drop_all()
        if mode == "refuse" and self._server is not None:
            self._server.close()
            self._server = None
        if mode == "stall":
            self._resume.clear()
        else:
            self._resume.set()
        if mode in ("ok", "cut") and self._server is None:
            await self._listen()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "refuse":
            writer.transport.abort()
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pump(reader, up_writer, replies=False),
            self._pump(up_reader, writer, replies=True),
            return_exceptions=True,
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            with contextlib.suppress(Exception):
                w.transport.abort()

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, replies: bool
    ) -> None:
        try:
            while data := await src.read(65536):
                await self._resume.wait()
                if replies and self._drop_match is not None and self._drop_match in data:
                    self._drop_match = None
                    self.dropped_replies += 1
                    dst.transport.abort()
                    return
                dst.write(data)
                await dst.drain()
                if replies and self._trigger is not None and self._trigger[0] in data:
                    match, count, mode = self._trigger
                    self._trigger = (match, count - data.count(match), mode)
                    if self._trigger[1] <= 0:
                        self._trigger = None
                        self.triggered.set()
                        await self._set_mode(mode)
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.transport.abort()


@contextmanager
def fault_proxy(host: str, port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(host, port).start()
    try:
        yield proxy
    finally:
        proxy.close()

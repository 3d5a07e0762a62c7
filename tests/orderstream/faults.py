"""A TCP proxy that injects network faults between a subscriber and the service.

``freeze()`` turns every connection open at that moment into a black hole (bytes are
swallowed both ways, nothing is closed: a dead peer as TCP sees it); ``cut()`` aborts them;
``refuse`` closes new connections at once. Connections opened later pass normally.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Pipe:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    frozen: bool = False


@dataclass
class FaultProxy:
    target_host: str
    target_port: int
    refuse: bool = False
    pipes: set[_Pipe] = field(default_factory=set)
    accepted: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def freeze(self) -> None:
        for pipe in self.pipes:
            pipe.frozen = True

    def cut(self) -> None:
        for pipe in list(self.pipes):
            pipe.client.transport.abort()
            pipe.server.transport.abort()
        self.pipes.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.transport.abort()
            return
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        pipe = _Pipe(writer, up_writer)
        self.pipes.add(pipe)
        await asyncio.gather(
            self._copy(reader, up_writer, pipe),
            self._copy(up_reader, writer, pipe),
            return_exceptions=True,
        )
        self.pipes.discard(pipe)

    @staticmethod
    async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter, pipe: _Pipe) -> None:
        try:
            while data := await src.read(65536):
                if not pipe.frozen:
                    dst.write(data)
                    await dst.drain()
        finally:
            if not pipe.frozen:
                dst.transport.abort()

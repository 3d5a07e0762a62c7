"""A minimal HTTP object store: ``PUT /<key>`` stores the body in a directory, ``GET /<key>``
returns it. Enough to share programs and inputs between machines without S3; used by the
``http`` storage provider and its tests."""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

MAX_PUT_BYTES = 256 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: HttpStoreServer

    def log_message(self, format: str, *args: object) -> None:
        del format, args

    def _path(self) -> Path | None:
        key = unquote(urlparse(self.path).path).lstrip("/")
        root = self.server.root
        target = (root / key).resolve()
        if not key or root not in target.parents:
            return None
        return target

    def do_PUT(self) -> None:
        target = self._path()
        if target is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "bad key")
            return
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self.send_error(HTTPStatus.LENGTH_REQUIRED)
            return
        length = int(length_text)
        if length > MAX_PUT_BYTES:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(length)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(target)
        self.send_response(HTTPStatus.CREATED)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        target = self._path()
        if target is None or not target.is_file():
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        data = target.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class HttpStoreServer(ThreadingHTTPServer):
    """Serve ``root`` over HTTP on ``host:port`` (port 0 = any free port)."""

    daemon_threads = True

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HttpStoreServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

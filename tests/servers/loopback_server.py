"""A ThreadingHTTPServer on loopback served from a daemon thread, for the small stand-ins."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

# Seconds to wait for the serving thread when stopping.
STOP_TIMEOUT = 5.0


class LoopbackServer:
    """Serve HANDLER on 127.0.0.1 with a random port. Handlers reach this object as ``owner``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        if not host.startswith("127."):
            raise ValueError(f"stand-in servers listen on loopback only, not {host!r}")
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        cast(Any, self.httpd).owner = self
        self.lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=type(self).__name__,
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(STOP_TIMEOUT)
        self.httpd.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the test output clean and sends small bodies."""

    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        return

    @property
    def owner(self) -> Any:
        return cast(Any, self.server).owner

    def send_text(self, status: int, body: str, content_type: str = "text/html") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

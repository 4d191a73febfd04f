"""HTTP plumbing shared by the loopback stand-in servers (IdP, Duo, AWS sign-in)."""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any, ClassVar, cast
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
MAX_BODY_BYTES = 256 * 1024
MAX_RECORDED_REQUESTS = 2000


class BackgroundHTTPServer:
    """A ThreadingHTTPServer on a loopback address, served from a daemon thread.

    Handlers reach this object as ``self.server.owner``.
    """

    handler_class: ClassVar[type[BaseHTTPRequestHandler]]

    def __init__(self, host: str) -> None:
        if not host.startswith("127."):
            raise ValueError(f"stand-in servers listen on loopback only, not {host!r}")
        self._httpd = ThreadingHTTPServer((host, 0), self.handler_class)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{type(self).__name__}-{host}",
            daemon=True,
        )
        self._lock = threading.RLock()
        self.requests: deque[tuple[str, str]] = deque(maxlen=MAX_RECORDED_REQUESTS)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait up to TIMEOUT seconds for the serving thread."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout)
        self._httpd.server_close()

    def record(self, method: str, path: str) -> None:
        self.requests.append((method, path))


class StandInHandler(BaseHTTPRequestHandler):
    """Shared helpers: bounded body reads, HTML, JSON and redirect responses."""

    # Seconds a connection may stay silent before the handler thread gives up on it.
    timeout = 10
    server_version = "StandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    @property
    def owner(self) -> Any:
        return cast(Any, self.server).owner

    def split_path(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        return parts.path, query

    def read_form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError(f"request body of {length} bytes exceeds {MAX_BODY_BYTES}")
        body = self.rfile.read(length).decode("utf-8") if length else ""
        return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}

    def cookies(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                result[name] = value
        return result

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_html(self, status: int, html: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_body(status, html.encode("utf-8"), "text/html;charset=utf-8", headers)

    def send_json(
        self, status: int, document: object, headers: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps(document).encode("utf-8")
        self.send_body(status, body, "application/json", headers)

    def redirect(
        self, location: str, status: int = 302, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()


def render_template(name: str, **values: str) -> str:
    """Fill a ``string.Template`` file under templates/. VALUES are inserted without escaping."""
    return Template((TEMPLATES / name).read_text("utf-8")).substitute(values)


def json_for_script(document: object) -> str:
    """Serialise DOCUMENT for a ``<script type="application/json">`` block."""
    return (
        json.dumps(document).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )

"""A recording HTTP proxy on loopback: plain ``GET``/``POST`` forwarding and ``CONNECT`` tunnels.

It stands in for a corporate proxy named in HTTP_PROXY or HTTPS_PROXY. Each
request line it receives is recorded (``"POST http://127.0.0.1:PORT/"`` or
``"CONNECT 127.0.0.1:PORT"``), so a test can assert that a client went
through it. It forwards only to loopback targets and answers 403 to others,
so nothing a test sends can leave the machine.

Thinner than a real proxy: no authentication, no keep-alive for forwarded
requests (one request per connection), no chunked request bodies, and
tunnels are closed after 30 s of silence.
"""

from __future__ import annotations

import http.client
import ipaddress
import select
import socket
from http import HTTPStatus
from urllib.parse import urlsplit

from servers.loopback_server import LoopbackServer, QuietHandler

TUNNEL_IDLE_TIMEOUT = 30.0
MAX_BODY_BYTES = 2 * 1024 * 1024


class RecordingProxy(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return self.base_url

    def record(self, line: str) -> None:
        with self.lock:
            self.seen.append(line)

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()

    def lines(self) -> list[str]:
        with self.lock:
            return list(self.seen)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"

    def do_CONNECT(self) -> None:
        proxy: RecordingProxy = self.owner
        proxy.record(f"CONNECT {self.path}")
        host, _, port = self.path.rpartition(":")
        if not _is_loopback(host.strip("[]")):
            self.send_error(HTTPStatus.FORBIDDEN, "this proxy only reaches loopback")
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            self.send_error(HTTPStatus.BAD_GATEWAY)
            return
        self.send_response(HTTPStatus.OK, "Connection Established")
        self.end_headers()
        self._relay(self.connection, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], TUNNEL_IDLE_TIMEOUT)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()
            self.close_connection = True

    def _forward(self) -> None:
        proxy: RecordingProxy = self.owner
        proxy.record(f"{self.command} {self.path}")
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname or not _is_loopback(target.hostname):
            self.send_error(HTTPStatus.FORBIDDEN, "this proxy only reaches http on loopback")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() not in ("proxy-connection", "connection", "keep-alive")
        }
        path = target.path + (f"?{target.query}" if target.query else "")
        connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            connection.request(self.command, path or "/", body=body, headers=headers)
            reply = connection.getresponse()
            data = reply.read()
        except OSError:
            self.send_error(HTTPStatus.BAD_GATEWAY)
            return
        finally:
            connection.close()
        self.send_response(reply.status, reply.reason)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    do_GET = _forward
    do_POST = _forward

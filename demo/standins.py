"""Run the demo's local AWS login world in one container, on fixed loopback ports.

The servers are the test suite's own, from tests/servers: a real SimpleSAMLphp IdP, the
Shibboleth IdP and Duo Universal Prompt stand-in (its simulated phone approves every
push), the strict STS stand-in that checks the assertion's signature, and `rclone serve s3`.
They listen on 127.0.0.x inside this container. The login container joins this
container's network namespace (compose ``network_mode: service:standins``), so Firefox
and boto3 there reach them on loopback, the only place where shibaws accepts plain HTTP.

Ports (all inside this container's network namespace):

    9000  Shibboleth IdP stand-in on 127.0.0.1, start URL SHIBBOLETH_START_URL
    9001  Duo Universal Prompt stand-in on 127.0.0.2
    9002  AWS sign-in stand-in for the Shibboleth IdP, on 127.0.0.3 (SHIBBOLETH_SIGN_IN_URL)
    8080  SimpleSAMLphp on 127.0.0.1, start URL SIMPLESAML_START_URL
    8081  AWS sign-in stand-in for SimpleSAMLphp, on 127.0.0.1
    9100  strict STS on 127.0.0.1 (AWS_ENDPOINT_URL_STS)
    9200  rclone serve s3 on 127.0.0.1, access key and secret from tests/servers/s3_fixtures.py

The test servers pick free ports themselves; this script pins them by replacing the server
class and port helper those modules look up, so the compose file can name fixed URLs.
"""

from __future__ import annotations

import argparse
import functools
import signal
import socketserver
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import servers.s3_fixtures
import servers.simplesamlphp
import servers.standin_http
import servers.strict_sts
from servers.saml_builder import make_signing_key
from servers.shibboleth import ShibbolethDuoStandIn
from servers.simplesamlphp import IDP_USERS, PROVIDER_A, start_simplesaml_idp
from servers.strict_sts import StrictSts

SHIBBOLETH_PORT = 9000
DUO_PORT = 9001
SHIBBOLETH_SIGN_IN_PORT = 9002
SIMPLESAML_PORT = 8080
SIMPLESAML_SIGN_IN_PORT = 8081
STS_PORT = 9100
S3_PORT = 9200

# Port for each stand-in server, keyed by the name of its request handler class.
HANDLER_PORTS = {
    "IdPHandler": SHIBBOLETH_PORT,
    "DuoHandler": DUO_PORT,
    "SignInHandler": SHIBBOLETH_SIGN_IN_PORT,
}

DEMO_USERNAME = "alice"
DEMO_PASSWORD = "alice-pass"
DEMO_ROLE = "arn:aws:iam::111122223333:role/ReadOnly"

READY_FILE = Path("/tmp/standins.ready")
# The demo world stops by itself after this many seconds, so a forgotten one ends.
DEFAULT_MAX_LIFETIME = 4 * 3600


class PinnedPortServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that binds a fixed port where its caller asked for port 0."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        bind_and_activate: bool = True,
        *,
        port: int | None = None,
    ) -> None:
        host, requested = address
        if requested == 0:
            requested = port if port is not None else _handler_port(handler)
        super().__init__((host, requested), handler, bind_and_activate)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's name, which waits for DNS timeouts
        # on an internal Docker network; no stand-in uses that name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


def _handler_port(handler: type[BaseHTTPRequestHandler]) -> int:
    for cls in handler.__mro__:
        if cls.__name__ in HANDLER_PORTS:
            return HANDLER_PORTS[cls.__name__]
    raise RuntimeError(f"no demo port for the server with handler {handler.__name__}")


def pin_ports() -> None:
    """Replace the server class and port helpers of the test server modules with fixed ports."""
    servers.standin_http.ThreadingHTTPServer = PinnedPortServer  # type: ignore[misc]
    servers.strict_sts.ThreadingHTTPServer = functools.partial(  # type: ignore[misc]
        PinnedPortServer, port=STS_PORT
    )
    servers.simplesamlphp.ThreadingHTTPServer = functools.partial(  # type: ignore[misc]
        PinnedPortServer, port=SIMPLESAML_SIGN_IN_PORT
    )
    servers.simplesamlphp.free_port = lambda: SIMPLESAML_PORT
    servers.s3_fixtures.free_port = lambda: S3_PORT


def check_ports(urls: dict[str, int]) -> None:
    """Raise unless every URL is on its fixed port, which the compose file and tests name."""
    for url, port in urls.items():
        if urlsplit(url).port != port:
            raise RuntimeError(
                f"{url} is not on the fixed port {port}: the test servers now create their "
                "HTTP servers another way, so update pin_ports() in demo/standins.py"
            )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-lifetime",
        type=int,
        default=DEFAULT_MAX_LIFETIME,
        help=f"seconds after which the servers stop (default: {DEFAULT_MAX_LIFETIME})",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Start every server, report their URLs, and stop them on SIGTERM or SIGINT."""
    args = parse_args(argv)
    pin_ports()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    work = Path(tempfile.mkdtemp(prefix="shibaws-demo-"))
    (work / "simplesamlphp").mkdir()
    shibboleth = ShibbolethDuoStandIn(make_signing_key("shibaws-demo-idp"))
    shibboleth.idp.add_user(DEMO_USERNAME, DEMO_PASSWORD, [f"{PROVIDER_A},{DEMO_ROLE}"])
    shibboleth.start()
    simplesaml = start_simplesaml_idp(work / "simplesamlphp")
    s3 = servers.s3_fixtures.start_rclone_s3(work / "s3")
    sts = StrictSts().start()
    try:
        sts.trust_cert(shibboleth.signing_key.cert_pem)
        sts.trust_cert(simplesaml.cert_pem)
        for user in IDP_USERS.values():
            for role_arn in user.role_arns:
                sts.set_role(role_arn)
        sts.set_role(DEMO_ROLE)

        check_ports(
            {
                shibboleth.idp.start_url: SHIBBOLETH_PORT,
                shibboleth.duo.base_url: DUO_PORT,
                shibboleth.sign_in.url: SHIBBOLETH_SIGN_IN_PORT,
                simplesaml.start_url: SIMPLESAML_PORT,
                simplesaml.sign_in_url: SIMPLESAML_SIGN_IN_PORT,
                sts.endpoint_url: STS_PORT,
                s3.endpoint_url: S3_PORT,
            }
        )
        print(f"SHIBBOLETH_START_URL={shibboleth.idp.start_url}", flush=True)
        print(f"SHIBBOLETH_SIGN_IN_URL={shibboleth.sign_in.url}", flush=True)
        print(f"SIMPLESAML_START_URL={simplesaml.start_url}", flush=True)
        print(f"SIMPLESAML_SIGN_IN_URL={simplesaml.sign_in_url}", flush=True)
        print(f"AWS_ENDPOINT_URL_STS={sts.endpoint_url}", flush=True)
        print(f"AWS_ENDPOINT_URL_S3={s3.endpoint_url}", flush=True)
        READY_FILE.touch()
        print("demo stand-ins ready", flush=True)

        stop.wait(args.max_lifetime)
    finally:
        READY_FILE.unlink(missing_ok=True)
        sts.stop()
        s3.stop()
        simplesaml.stop()
        shibboleth.stop()
    print("demo stand-ins stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

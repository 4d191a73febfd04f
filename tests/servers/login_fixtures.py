"""Fixtures for login tests: IdP signing key, strict STS, moto STS and a SimpleSAMLphp IdP.

- ``saml_signing_key``: one self-signed ``SigningKey`` per session, for ``build_response``.
- ``strict_sts``: a ``StrictSts`` reset for each test, already trusting ``saml_signing_key``.
- ``moto_sts``: the endpoint URL of ``moto_server`` (session-scoped).
- ``simplesaml_idp``: a running SimpleSAMLphp IdP (session-scoped); see ``SimpleSamlIdp``.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.saml_builder import SigningKey, make_signing_key
from servers.simplesamlphp import SimpleSamlIdp, free_port, start_simplesaml_idp
from servers.strict_sts import StrictSts

MOTO_START_TIMEOUT_SECONDS = 30.0
MOTO_STOP_TIMEOUT_SECONDS = 10.0


@pytest.fixture(scope="session")
def saml_signing_key() -> SigningKey:
    return make_signing_key("test-idp")


@pytest.fixture(scope="session")
def _strict_sts_server() -> Iterator[StrictSts]:
    with StrictSts() as server:
        yield server


@pytest.fixture
def strict_sts(_strict_sts_server: StrictSts, saml_signing_key: SigningKey) -> Iterator[StrictSts]:
    """The session's strict STS, emptied for this test and trusting ``saml_signing_key``."""
    _strict_sts_server.reset()
    _strict_sts_server.trust_cert(saml_signing_key.cert_pem)
    yield _strict_sts_server
    _strict_sts_server.reset()


def _moto_server_binary() -> str:
    # The venv's own moto_server, next to the interpreter running the tests.
    path = Path(sys.executable).parent / "moto_server"
    if not path.exists():
        pytest.fail(f"{path} not found; run tests/setup/python.sh to install moto[server]")
    return str(path)


def _wait_for_moto(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + MOTO_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto_server exited with {process.returncode}:\n{log.read_text()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/moto-api/")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    pytest.fail(
        f"moto_server did not answer within {MOTO_START_TIMEOUT_SECONDS} s:\n{log.read_text()}"
    )


def _stop_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        return


@pytest.fixture(scope="session")
def moto_sts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run ``moto_server`` on loopback in its own process group and yield its endpoint URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto-sts") / "moto_server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [_moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_moto(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop_group(process, MOTO_STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def simplesaml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlIdp]:
    """Start SimpleSAMLphp with users alice (one role) and bob (three roles)."""
    idp = start_simplesaml_idp(tmp_path_factory.mktemp("simplesamlphp"))
    try:
        yield idp
    finally:
        idp.stop()

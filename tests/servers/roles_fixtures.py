"""Fixtures for multi-role logins and the credential commands.

- ``signin_page``: the AWS account-list page stand-in (``SigninPage``), reset per test.
- ``federation``: the federation endpoint stand-in (``FederationEndpoint``), reset per test,
  accepting only credentials that the test's strict STS issued.
- ``recording_proxy``: a loopback HTTP/CONNECT proxy that records each request (``RecordingProxy``).

Each server lives for the whole session and is stopped when it ends.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

import pytest

from servers.federation import FederationEndpoint
from servers.proxy import RecordingProxy
from servers.signin_page import SigninPage
from servers.strict_sts import StrictSts


@pytest.fixture(scope="session")
def _signin_page_server() -> Iterator[SigninPage]:
    server = SigninPage()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def signin_page(_signin_page_server: SigninPage) -> Iterator[SigninPage]:
    _signin_page_server.reset()
    yield _signin_page_server
    _signin_page_server.reset()


@pytest.fixture(scope="session")
def _federation_server() -> Iterator[FederationEndpoint]:
    server = FederationEndpoint()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def federation(
    _federation_server: FederationEndpoint, strict_sts: StrictSts
) -> Iterator[FederationEndpoint]:
    def issued_by_sts(key_id: str, secret: str, token: str) -> bool:
        for issued in strict_sts.issued_credentials():
            if issued.access_key_id == key_id:
                return hmac.compare_digest(issued.secret_access_key, secret) and (
                    hmac.compare_digest(issued.session_token, token)
                )
        return False

    _federation_server.reset(check=issued_by_sts)
    yield _federation_server
    _federation_server.reset()


@pytest.fixture(scope="session")
def _proxy_server() -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def recording_proxy(_proxy_server: RecordingProxy) -> Iterator[RecordingProxy]:
    _proxy_server.reset()
    yield _proxy_server
    _proxy_server.reset()

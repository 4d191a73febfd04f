"""Shared fixtures. Server fixtures live in tests/servers/*_fixtures.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins: list[str] = [
    # Each area adds its fixture module here.
    "servers.samba_fixtures",
    "servers.login_fixtures",
    "servers.shib_fixtures",
    "servers.s3_fixtures",
    "servers.docker_fixtures",
    "servers.roles_fixtures",
]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on HOST at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _stop_leftover_logins() -> Iterator[None]:
    """Stop background logins that a failed test left running, so no Firefox outlives it."""
    yield
    from login_helpers import stop_leftover_logins

    stop_leftover_logins()


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point HOME and the AWS file variables at an empty folder, never the real home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_S3",
        "SHIBAWS_IDP_URL",
        "SHIBAWS_USERNAME",
        "SHIBAWS_PASSWORD_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    yield home / ".aws"

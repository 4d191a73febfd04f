"""The backup reads when a ``shibaws login`` profile expires."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3

from shibaws.backup.s3 import credential_expiry


def test_expiry_read_from_login_profile(aws_home: Path) -> None:
    aws_home.mkdir(mode=0o700)
    (aws_home / "credentials").write_text(
        "[saml]\naws_access_key_id = ASIAX\naws_secret_access_key = s\n"
        "aws_session_token = t\nshibaws_expiration = 2026-12-05T01:02:03Z\n"
    )
    session = boto3.Session(profile_name="saml")
    assert credential_expiry(session) == datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)


def test_expiry_unknown_for_static_keys(aws_home: Path) -> None:
    aws_home.mkdir(mode=0o700)
    (aws_home / "credentials").write_text(
        "[static]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    assert credential_expiry(boto3.Session(profile_name="static")) is None

"""Credential lifecycle: settings round trip, skip-when-valid, --force, status and logout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from login_helpers import login_env, run_shibaws
from roles_helpers import (
    RESEARCH,
    add_seven_role_user,
    assume_calls,
    login_args,
    read_ini,
    role_arn,
    seed_profile,
)
from servers.saml_builder import SigningKey
from servers.shib_fixtures import ShibDuo
from servers.strict_sts import StrictSts
from shibaws.exitcodes import ExitCode

ADMIN = role_arn(RESEARCH, "Admin")
OPERATOR = role_arn(RESEARCH, "team/ops/Operator")
ORIGINAL_CONFIG = "# written by hand\n[profile research-admin]\noutput = json ; keep\n"


@pytest.fixture
def world(shib_duo: ShibDuo, strict_sts: StrictSts) -> tuple[ShibDuo, StrictSts]:
    add_seven_role_user(shib_duo, strict_sts)
    return shib_duo, strict_sts


@pytest.mark.browser
def test_settings_round_trip_and_skip(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    aws_home.mkdir(mode=0o700)
    (aws_home / "config").write_text(ORIGINAL_CONFIG)
    env = login_env(aws_home, sts.endpoint_url)

    first = run_shibaws(
        login_args(shib, "carol", "--role", OPERATOR, "--profile", "research-admin"),
        env,
        "carol-pass\n",
    )
    assert first.returncode == 0, first.stderr
    config = (aws_home / "config").read_text()
    assert config.startswith(ORIGINAL_CONFIG)
    stored = read_ini(aws_home / "config")["profile research-admin"]
    assert stored["shibaws_idp_url"] == shib.start_url
    assert stored["shibaws_username"] == "carol"
    assert stored["shibaws_role_arn"] == OPERATOR
    assert stored["shibaws_sign_in_url"] == shib.sign_in_url

    # Valid credentials: no browser, no push.
    skipped = run_shibaws(["login", "--profile", "research-admin"], env)
    assert skipped.returncode == 0, skipped.stderr
    assert "not logging in" in skipped.stderr
    assert shib.push_count == 1

    # --force logs in with nothing but the stored settings, and -v names their source.
    forced = run_shibaws(
        ["login", "--profile", "research-admin", "--force", "--password-stdin", "-v"],
        env,
        "carol-pass\n",
    )
    assert forced.returncode == 0, forced.stderr
    assert shib.push_count == 2
    assert assume_calls(sts)[-1].params["RoleArn"] == OPERATOR
    assert "username = carol (from " in forced.stderr
    assert "[profile research-admin])" in forced.stderr
    assert "browser_mode = headless (from default)" in forced.stderr
    assert (aws_home / "config").read_text().startswith(ORIGINAL_CONFIG)


@pytest.mark.browser
def test_other_role_not_skipped(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    env = login_env(aws_home, sts.endpoint_url)
    first = run_shibaws(
        login_args(shib, "carol", "--role", ADMIN, "--profile", "p"), env, "carol-pass\n"
    )
    assert first.returncode == 0, first.stderr
    second = run_shibaws(
        login_args(shib, "carol", "--role", OPERATOR, "--profile", "p"), env, "carol-pass\n"
    )
    assert second.returncode == 0, second.stderr
    assert shib.push_count == 2
    assert read_ini(aws_home / "config")["profile p"]["shibaws_role_arn"] == OPERATOR


def test_skip_when_margin_not_exceeded(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    """Seeded credentials last an hour: --margin 7200 demands a login, which fails here."""
    seed_profile(strict_sts, saml_signing_key, "p", ADMIN)
    env = login_env(aws_home, strict_sts.endpoint_url)
    kept = run_shibaws(["login", "--profile", "p", "--margin", "600"], env)
    assert kept.returncode == 0, kept.stderr
    assert "not logging in" in kept.stderr
    renewed = run_shibaws(["login", "--profile", "p", "--margin", "7200"], env)
    assert renewed.returncode == ExitCode.USAGE
    assert "missing --idp-url" in renewed.stderr


def test_status_lists_expiry(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    seed_profile(strict_sts, saml_signing_key, "research-admin", ADMIN, account_name="research")
    seed_profile(strict_sts, saml_signing_key, "old", role_arn(RESEARCH, "ReadOnly"))
    credentials = aws_home / "credentials"
    text = credentials.read_text()
    marker = "[old]"
    head, tail = text.split(marker)
    expired = tail.replace(tail.split("shibaws_expiration = ")[1][:20], "2020-01-01T00:00:00Z")
    credentials.write_text(head + marker + expired)

    env = login_env(aws_home, None)
    table = run_shibaws(["status"], env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["PROFILE", "ACCOUNT", "ROLE", "EXPIRES", "LEFT", "STORED", "IN"]
    admin_line = next(line for line in lines if line.startswith("research-admin"))
    assert f"research ({RESEARCH})" in admin_line
    assert "0h 5" in admin_line or "0h 59m" in admin_line or "1h 00m" in admin_line
    old_line = next(line for line in lines if line.startswith("old"))
    assert "expired" in old_line

    listing = json.loads(run_shibaws(["status", "--json"], env).stdout)
    by_name = {item["profile"]: item for item in listing}
    assert by_name["research-admin"]["role_arn"] == ADMIN
    assert 3000 < by_name["research-admin"]["seconds_left"] <= 3600
    assert by_name["old"]["seconds_left"] < 0
    assert by_name["old"]["expiration"] == "2020-01-01T00:00:00Z"


def test_status_without_profiles(aws_home: Path) -> None:
    unknown = run_shibaws(["status", "--profile", "nosuch"], login_env(aws_home, None))
    assert unknown.returncode == ExitCode.USAGE
    assert "'nosuch' has no shibaws credentials" in unknown.stderr
    result = run_shibaws(["status"], login_env(aws_home, None))
    assert result.returncode == 0
    assert result.stdout == ""
    assert "No shibaws profiles" in result.stderr


def test_logout_removes_only_ours(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    aws_home.mkdir(mode=0o700)
    (aws_home / "credentials").write_text("# mine\n[static]\naws_access_key_id = AKIAKEEP\n\n")
    (aws_home / "config").write_text("[profile research]\noutput = json\n")
    seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    env = login_env(aws_home, None)
    run_shibaws(["configure", "--profile", "research", "--username", "carol"], env)

    result = run_shibaws(["logout", "--profile", "research"], env)
    assert result.returncode == 0, result.stderr
    credentials = read_ini(aws_home / "credentials")
    assert credentials["static"]["aws_access_key_id"] == "AKIAKEEP"
    assert not credentials.has_option("research", "aws_access_key_id")
    config = read_ini(aws_home / "config")["profile research"]
    assert dict(config) == {"output": "json"}
    assert (aws_home / "credentials").read_text().startswith("# mine\n[static]\n")

    again = run_shibaws(["logout", "--profile", "research"], env)
    assert again.returncode == 0
    assert "has no shibaws credentials" in again.stderr


def test_logout_keeps_foreign_static_keys(aws_home: Path) -> None:
    aws_home.mkdir(mode=0o700)
    original = "[research]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = s\n"
    (aws_home / "credentials").write_text(original)
    result = run_shibaws(["logout", "--profile", "research"], login_env(aws_home, None))
    assert result.returncode == 0
    assert (aws_home / "credentials").read_text() == original


def test_logout_needs_profile(aws_home: Path) -> None:
    result = run_shibaws(["logout"], login_env(aws_home, None))
    assert result.returncode == ExitCode.USAGE
    assert "--profile" in result.stderr

"""Stored ``shibaws_*`` settings: precedence, sources, bad values and comment-keeping writes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from login_helpers import login_env, run_shibaws
from shibaws.accounts import parse_account_names
from shibaws.cli import build_parser
from shibaws.commands import login as login_command
from shibaws.errors import UsageError
from shibaws.exitcodes import ExitCode
from shibaws.settings import apply_settings, write_settings

IDP = "https://idp.example.edu/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices"
OTHER_IDP = "https://idp2.example.edu/idp/profile/SAML2/Unsolicited/SSO"
ADMIN = "arn:aws:iam::111122223333:role/Admin"
VALIDATORS = {
    "idp_url": login_command._url,
    "roles": login_command._role_arn,
    "duration": login_command._duration,
    "region": login_command._region,
    "browser_mode": login_command._browser_mode,
}


def _config(aws_home: Path, text: str) -> Path:
    aws_home.mkdir(mode=0o700, exist_ok=True)
    path = aws_home / "config"
    path.write_text(text)
    return path


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["login", *argv])


def _sources(resolved: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {item.setting.dest: item.source for item in resolved}


def test_stored_values_fill_unset_options(aws_home: Path) -> None:
    _config(
        aws_home,
        f"[profile research]\nshibaws_idp_url = {IDP}\nshibaws_username = alice\n"
        f"shibaws_role_arn = {ADMIN}\nshibaws_duration = 7200\nregion = eu-west-1\n",
    )
    args = _parse("--profile", "research")
    resolved = apply_settings(args, "research", VALIDATORS, environ={})
    assert args.idp_url == IDP
    assert args.username == "alice"
    assert args.roles == [ADMIN]
    assert args.duration == 7200
    assert args.region == "eu-west-1"
    assert args.browser_mode == "headless"
    assert _sources(resolved)["username"].endswith("[profile research]")
    assert _sources(resolved)["browser_mode"] == "default"


def test_command_line_beats_settings(aws_home: Path) -> None:
    _config(aws_home, f"[profile research]\nshibaws_idp_url = {IDP}\nshibaws_username = alice\n")
    args = _parse("--profile", "research", "--username", "bob", "--idp-url", OTHER_IDP)
    resolved = apply_settings(args, "research", VALIDATORS, environ={})
    assert args.username == "bob"
    assert args.idp_url == OTHER_IDP
    assert _sources(resolved)["username"] == "command line"


def test_environment_beats_settings(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(aws_home, "[profile research]\nshibaws_username = alice\n")
    monkeypatch.setenv("SHIBAWS_USERNAME", "erin")
    args = _parse("--profile", "research")
    resolved = apply_settings(args, "research", VALIDATORS)
    assert args.username == "erin"
    assert _sources(resolved)["username"] == "environment variable SHIBAWS_USERNAME"


def test_default_section_shared(aws_home: Path) -> None:
    _config(
        aws_home,
        f"[default]\nshibaws_idp_url = {IDP}\nregion = us-gov-west-1\nshibaws_role_arn = {ADMIN}\n"
        "[profile other]\nshibaws_username = alice\n",
    )
    args = _parse("--profile", "other")
    resolved = apply_settings(args, "other", VALIDATORS, environ={})
    assert args.idp_url == IDP
    assert _sources(resolved)["idp_url"].endswith("[default]")
    # A [default] region or role belongs to that profile alone.
    assert args.region is None
    assert not args.roles


def test_all_roles_ignores_stored_role(aws_home: Path) -> None:
    _config(aws_home, f"[profile research]\nshibaws_role_arn = {ADMIN}\n")
    args = _parse("--profile", "research", "--all-roles")
    apply_settings(args, "research", VALIDATORS, environ={})
    assert args.roles == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("shibaws_duration = 60", "invalid duration 60"),
        ("shibaws_duration = 1h", "expected a whole number"),
        ("shibaws_role_arn = Admin", "invalid role ARN"),
        ("shibaws_idp_url = ftp://idp/x", "invalid URL"),
        ("shibaws_browser_mode = kiosk", "invalid browser mode"),
        ("shibaws_trust_browser = maybe", "expected true or false"),
    ],
)
def test_bad_stored_value_named(aws_home: Path, line: str, message: str) -> None:
    _config(aws_home, f"[profile research]\n{line}\n")
    args = _parse("--profile", "research")
    with pytest.raises(UsageError) as caught:
        apply_settings(args, "research", VALIDATORS, environ={})
    assert message in str(caught.value)
    assert "[profile research]" in str(caught.value)


def test_write_keeps_comments_and_others(aws_home: Path) -> None:
    original = (
        "# my config\n[default]\nregion = us-east-1 ; inline\n\n"
        "[profile research]\n# set by hand\noutput = json\n\n[profile x]\nregion = eu-west-1\n"
    )
    path = _config(aws_home, original)
    write_settings("research", {"shibaws_username": "alice", "shibaws_idp_url": IDP})
    text = path.read_text()
    assert text.startswith("# my config\n[default]\nregion = us-east-1 ; inline\n")
    assert "# set by hand\noutput = json\nshibaws_username = alice\n" in text
    assert text.endswith("[profile x]\nregion = eu-west-1\n")
    write_settings("research", {"shibaws_username": None, "shibaws_idp_url": None})
    assert path.read_text() == original


def test_write_rejects_foreign_key(aws_home: Path) -> None:
    with pytest.raises(UsageError, match="only its own keys"):
        write_settings("research", {"aws_access_key_id": "AKIA"})


def test_account_names_both_forms() -> None:
    assert parse_account_names("\n111122223333 = research\n444455556666=teaching lab") == {
        "111122223333": "research",
        "444455556666": "teaching lab",
    }
    assert parse_account_names("111122223333=a, 444455556666=b") == {
        "111122223333": "a",
        "444455556666": "b",
    }


@pytest.mark.parametrize("text", ["1111=x", "111122223333", "111122223333 = ", "111122223333=[x]"])
def test_account_names_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_account_names(text)


def test_malformed_account_names_setting(aws_home: Path) -> None:
    _config(aws_home, "[default]\nshibaws_account_names = research\n")
    result = run_shibaws(
        ["login", "--idp-url", IDP, "--username", "alice", "--password-stdin"],
        login_env(aws_home, None),
        "x\n",
    )
    assert result.returncode == ExitCode.USAGE
    assert "invalid shibaws_account_names" in result.stderr


def test_configure_writes_settings(aws_home: Path) -> None:
    config = _config(aws_home, "# keep me\n[profile research]\noutput = json\n")
    result = run_shibaws(
        [
            "configure",
            "--profile",
            "research",
            "--idp-url",
            IDP,
            "--username",
            "alice",
            "--role",
            ADMIN,
            "--duo-method",
            "passcode",
            "--account-name",
            "111122223333=research",
            "--account-name",
            "444455556666=teaching",
        ],
        login_env(aws_home, None),
    )
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text.startswith("# keep me\n[profile research]\noutput = json\n")
    assert f"shibaws_idp_url = {IDP}\n" in text
    assert f"shibaws_role_arn = {ADMIN}\n" in text
    assert "shibaws_duo_method = passcode\n" in text
    assert "shibaws_account_names = 111122223333=research, 444455556666=teaching\n" in text
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "Admin"], "invalid role ARN"),
        (["--duration", "99999"], "invalid duration"),
        (["--account-name", "research"], "invalid --account-name"),
        (["--profile", "bad]name"], "invalid profile name"),
        (["--duo-method", "carrier-pigeon"], "invalid choice"),
    ],
)
def test_configure_bad_input(aws_home: Path, args: list[str], message: str) -> None:
    result = run_shibaws(["configure", *args], login_env(aws_home, None))
    assert result.returncode == ExitCode.USAGE
    assert message in result.stderr


def test_configure_nothing_without_terminal(aws_home: Path) -> None:
    result = run_shibaws(["configure", "--profile", "x"], login_env(aws_home, None))
    assert result.returncode == ExitCode.USAGE
    assert "nothing to configure" in result.stderr

"""``shibaws login`` options: every bad input gets a clear message and its own exit code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from login_helpers import login_env, run_shibaws
from shibaws.exitcodes import ExitCode

IDP = "http://127.0.0.1:9/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices"


def _run(aws_home: Path, *args: str, stdin: str = "", **env: str) -> tuple[int, str]:
    environment = login_env(aws_home, None)
    environment.update(env)
    result = run_shibaws(["login", *args], environment, stdin)
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--idp-url", "ftp://idp.example.edu/x"], "invalid URL"),
        (["--idp-url", "http://idp.example.edu/x"], "refusing plain http"),
        (["--idp-url", "http://127.0.0.1:99999/x"], "Port out of range"),
        (["--idp-url", "http://[::1:5/idp"], "invalid URL"),
        (["--duration", "60"], "invalid duration 60"),
        (["--duration", "50000"], "invalid duration 50000"),
        (["--duration", "1h"], "expected a whole number of seconds"),
        (["--timeout", "0"], "invalid timeout 0"),
        (["--role", "Admin"], "invalid role ARN"),
        (["--region", "Mars"], "invalid region"),
        (["--browser-mode", "kiosk"], "invalid choice"),
        (["--password-stdin", "--password-file", "/x"], "not allowed with"),
    ],
)
def test_bad_option_is_usage_error(aws_home: Path, args: list[str], message: str) -> None:
    code, stderr = _run(aws_home, "--username", "alice", *args)
    assert code == ExitCode.USAGE
    assert message in stderr


def test_missing_idp_url(aws_home: Path) -> None:
    code, stderr = _run(aws_home, "--username", "alice", "--password-stdin", stdin="x\n")
    assert code == ExitCode.USAGE
    assert "missing --idp-url" in stderr


def test_missing_username(aws_home: Path) -> None:
    code, stderr = _run(aws_home, "--idp-url", IDP, "--password-stdin", stdin="x\n")
    assert code == ExitCode.USAGE
    assert "missing --username" in stderr


def test_environment_supplies_options(aws_home: Path, tmp_path: Path) -> None:
    """SHIBAWS_* variables fill the options; the missing password file is then reported."""
    code, stderr = _run(
        aws_home,
        SHIBAWS_IDP_URL=IDP,
        SHIBAWS_USERNAME="alice",
        SHIBAWS_PASSWORD_FILE=str(tmp_path / "absent"),
    )
    assert code == ExitCode.USAGE
    assert "password file" in stderr
    assert "not found" in stderr


def test_empty_password_rejected(aws_home: Path) -> None:
    code, stderr = _run(aws_home, "--idp-url", IDP, "--username", "alice", "--password-stdin")
    assert code == ExitCode.USAGE
    assert "password is empty" in stderr


def test_no_terminal_for_prompt(aws_home: Path) -> None:
    code, stderr = _run(aws_home, "--idp-url", IDP, "--username", "alice")
    assert code == ExitCode.USAGE
    assert "--password-stdin or --password-file" in stderr


def test_profile_template_typo_before_browser(aws_home: Path) -> None:
    code, stderr = _run(
        aws_home,
        "--idp-url",
        IDP,
        "--username",
        "alice",
        "--password-stdin",
        "--profile",
        "a{role_nam}",
        stdin="x\n",
    )
    assert code == ExitCode.USAGE
    assert "{role_nam}" in stderr


def test_broken_credentials_file_before_browser(aws_home: Path) -> None:
    aws_home.mkdir(mode=0o700)
    (aws_home / "credentials").write_text("not an ini line\n[saml]\n")
    code, stderr = _run(
        aws_home, "--idp-url", IDP, "--username", "alice", "--password-stdin", stdin="x\n"
    )
    assert code == ExitCode.USAGE
    assert "cannot parse" in stderr
    assert (aws_home / "credentials").read_text() == "not an ini line\n[saml]\n"


def test_principal_arn_needs_role(aws_home: Path) -> None:
    code, stderr = _run(
        aws_home,
        "--idp-url",
        IDP,
        "--username",
        "alice",
        "--principal-arn",
        "arn:aws:iam::111122223333:saml-provider/S",
    )
    assert code == ExitCode.USAGE
    assert "--principal-arn needs --role" in stderr


def test_password_never_in_argv_options() -> None:
    from shibaws.cli import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["login", "--password", "secret"])


def test_help_names_each_option(aws_home: Path) -> None:
    result = run_shibaws(["login", "--help"], login_env(aws_home, None))
    assert result.returncode == 0
    for option in (
        "--idp-url",
        "--username",
        "--password-stdin",
        "--password-file",
        "--profile",
        "--role",
        "--duration",
        "--region",
        "--browser-mode",
        "--timeout",
        "--sign-in-url",
        "SHIBAWS_IDP_URL",
        "SHIBAWS_PASSWORD_FILE",
    ):
        assert option in result.stdout


def test_exit_codes_distinct() -> None:
    values = [code.value for code in ExitCode]
    assert len(values) == len(set(values))
    assert ExitCode.CANCELLED == 130


def test_readme_lists_every_exit_code() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    listed = {int(code) for code in re.findall(r"^\| (\d+) \|", readme, flags=re.MULTILINE)}
    assert listed == {code.value for code in ExitCode}

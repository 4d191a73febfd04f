"""credential-process, exec, env and console through the CLI, with the real AWS CLI as consumer."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from login_helpers import login_env, run_shibaws
from roles_helpers import RESEARCH, read_ini, role_arn, seed_profile
from servers.federation import FederationEndpoint
from servers.saml_builder import SigningKey
from servers.strict_sts import StrictSts
from shibaws.exitcodes import ExitCode

ADMIN = role_arn(RESEARCH, "Admin")
AWS_CLI = str(Path(sys.executable).parent / "aws")


def _aws(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AWS_CLI, *args],
        capture_output=True,
        text=True,
        env={**env, "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=60,
        start_new_session=True,
    )


def _seed_with_process(
    sts: StrictSts, key: SigningKey, aws_home: Path, profile: str = "research"
) -> dict[str, str]:
    seed_profile(sts, key, profile, ADMIN)
    env = login_env(aws_home, sts.endpoint_url)
    result = run_shibaws(["configure", "--profile", profile, "--credential-process"], env)
    assert result.returncode == 0, result.stderr
    return env


def test_configure_moves_keys_to_process(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    _seed_with_process(strict_sts, saml_signing_key, aws_home)
    credentials = read_ini(aws_home / "credentials")
    assert not credentials.has_option("research", "aws_access_key_id")
    config = read_ini(aws_home / "config")["profile research"]
    assert "credential-process --profile research" in config["credential_process"]
    cache = aws_home / "shibaws" / "cache" / "research.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700


def test_aws_cli_uses_credential_process(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    env = _seed_with_process(strict_sts, saml_signing_key, aws_home)
    result = _aws(["sts", "get-caller-identity", "--profile", "research", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["Account"] == RESEARCH
    assert identity["Arn"].startswith(f"arn:aws:sts::{RESEARCH}:assumed-role/Admin/")


def test_process_prints_only_json(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    env = _seed_with_process(strict_sts, saml_signing_key, aws_home)
    result = run_shibaws(["credential-process", "--profile", "research", "-vv"], env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Version"] == 1
    assert set(document) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    }
    assert result.stdout.count("\n") == 1


def test_process_expired_without_terminal(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    env = _seed_with_process(strict_sts, saml_signing_key, aws_home)
    cache = aws_home / "shibaws" / "cache" / "research.json"
    document = json.loads(cache.read_text())
    document["Expiration"] = "2020-01-01T00:00:00Z"
    cache.write_text(json.dumps(document))

    result = run_shibaws(["credential-process", "--profile", "research"], env)
    assert result.returncode == ExitCode.LOGIN_REQUIRED
    assert result.stdout == ""
    assert "no terminal to log in from" in result.stderr
    assert "shibaws login --profile research" in result.stderr

    cli = _aws(["sts", "get-caller-identity", "--profile", "research"], env)
    assert cli.returncode != 0


def test_process_unknown_profile(aws_home: Path) -> None:
    result = run_shibaws(
        ["credential-process", "--profile", "nobody", "--no-login"], login_env(aws_home, None)
    )
    assert result.returncode == ExitCode.LOGIN_REQUIRED
    assert result.stdout == ""
    assert "are missing" in result.stderr


def test_process_requires_profile(aws_home: Path) -> None:
    result = run_shibaws(["credential-process"], login_env(aws_home, None))
    assert result.returncode == ExitCode.USAGE


def test_static_and_process_never_both(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    """A later login into a credential_process profile updates the cache, not static keys."""
    _seed_with_process(strict_sts, saml_signing_key, aws_home)
    seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    assert not read_ini(aws_home / "credentials").has_option("research", "aws_access_key_id")

    env = login_env(aws_home, strict_sts.endpoint_url)
    back = run_shibaws(["configure", "--profile", "research", "--no-credential-process"], env)
    assert back.returncode == 0, back.stderr
    assert not read_ini(aws_home / "config").has_option("profile research", "credential_process")
    assert read_ini(aws_home / "credentials")["research"]["aws_access_key_id"].startswith("ASIA")
    assert not (aws_home / "shibaws" / "cache" / "research.json").exists()


def test_process_refused_over_foreign_keys(aws_home: Path) -> None:
    aws_home.mkdir(mode=0o700)
    (aws_home / "credentials").write_text("[research]\naws_access_key_id = AKIAUSER\n")
    result = run_shibaws(
        ["configure", "--profile", "research", "--credential-process"], login_env(aws_home, None)
    )
    assert result.returncode == ExitCode.USAGE
    assert "did not write" in result.stderr
    assert not (aws_home / "config").exists()


def test_exec_passes_exit_code(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    seeded = seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    env = login_env(aws_home, strict_sts.endpoint_url)
    env["AWS_PROFILE"] = "elsewhere"
    script = (
        "import os, sys; print(os.environ['AWS_ACCESS_KEY_ID']); "
        "print(os.environ.get('AWS_PROFILE', 'unset')); sys.exit(3)"
    )
    result = run_shibaws(["exec", "--profile", "research", "--", sys.executable, "-c", script], env)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == [seeded.access_key_id, "unset"]


def test_exec_runs_aws_cli(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    env = login_env(aws_home, strict_sts.endpoint_url)
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    result = run_shibaws(
        ["exec", "--profile", "research", "--", AWS_CLI, "sts", "get-caller-identity"], env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Account"] == RESEARCH


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        ([], ExitCode.USAGE, "missing command"),
        (["--", "/nonexistent/tool"], ExitCode.COMMAND_NOT_FOUND, "command not found"),
    ],
)
def test_exec_bad_command(
    strict_sts: StrictSts,
    saml_signing_key: SigningKey,
    aws_home: Path,
    command: list[str],
    code: int,
    message: str,
) -> None:
    seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    result = run_shibaws(["exec", "--profile", "research", *command], login_env(aws_home, None))
    assert result.returncode == code
    assert message in result.stderr


def test_env_export_lines_evaluate(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    seeded = seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    env = login_env(aws_home, None)
    result = run_shibaws(["env", "--profile", "research"], env)
    assert result.returncode == 0, result.stderr
    assert "export AWS_SESSION_TOKEN=" in result.stdout
    shell = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$1"; printf "%s\\n%s" "$AWS_SESSION_TOKEN" "${AWS_PROFILE-unset}"',
            "bash",
            result.stdout,
        ],
        capture_output=True,
        text=True,
        env={**env, "AWS_PROFILE": "elsewhere"},
        timeout=30,
    )
    assert shell.stdout.splitlines() == [seeded.session_token, "unset"]


def test_env_quotes_hostile_region(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    seed_profile(strict_sts, saml_signing_key, "research", ADMIN)
    config = aws_home / "config"
    config.write_text(
        config.read_text().replace(
            "[profile research]", "[profile research]\nregion = $(touch pwned)"
        )
    )
    result = run_shibaws(["env", "--profile", "research"], login_env(aws_home, None))
    assert result.returncode == 0, result.stderr
    assert "export AWS_REGION='$(touch pwned)'" in result.stdout


def _console(
    aws_home: Path, federation: FederationEndpoint, *args: str
) -> subprocess.CompletedProcess[str]:
    env = login_env(aws_home, None)
    env["SHIBAWS_FEDERATION_URL"] = federation.url
    return run_shibaws(["console", *args], env)


@pytest.mark.parametrize(
    ("partition", "region", "destination"),
    [
        ("aws", None, "https://console.aws.amazon.com/"),
        ("aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com/console/home"),
        ("aws-cn", "cn-north-1", "https://console.amazonaws.cn/console/home"),
    ],
)
def test_console_url_per_partition(
    strict_sts: StrictSts,
    saml_signing_key: SigningKey,
    aws_home: Path,
    federation: FederationEndpoint,
    partition: str,
    region: str | None,
    destination: str,
) -> None:
    seed_profile(strict_sts, saml_signing_key, "p", role_arn(RESEARCH, "Admin", partition))
    if region:
        from shibaws.settings import write_settings

        write_settings("p", {"region": region})
    result = _console(aws_home, federation, "--profile", "p")
    assert result.returncode == 0, result.stderr
    url = urlsplit(result.stdout.strip())
    query = parse_qs(url.query)
    assert result.stdout.strip().startswith(federation.url + "?")
    assert query["Action"] == ["login"]
    assert query["SigninToken"] == [federation.state.tokens[-1]]
    assert query["Destination"][0].startswith(destination)
    if region:
        assert f"region={region}" in query["Destination"][0]


def test_console_open_uses_browser(
    strict_sts: StrictSts,
    saml_signing_key: SigningKey,
    aws_home: Path,
    federation: FederationEndpoint,
    tmp_path: Path,
) -> None:
    seed_profile(strict_sts, saml_signing_key, "p", ADMIN)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    env = login_env(aws_home, None)
    env["SHIBAWS_FEDERATION_URL"] = federation.url
    env["BROWSER"] = str(browser)
    result = run_shibaws(["console", "--profile", "p", "--open"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert opened.read_text().startswith(federation.url + "?Action=login")


def test_console_rejected_credentials(aws_home: Path, federation: FederationEndpoint) -> None:
    aws_home.mkdir(mode=0o700)
    (aws_home / "credentials").write_text(
        "[p]\naws_access_key_id = ASIAFAKE\naws_secret_access_key = s\n"
        "aws_session_token = t\nshibaws_expiration = 2099-01-01T00:00:00Z\n"
    )
    result = _console(aws_home, federation, "--profile", "p")
    assert result.returncode == ExitCode.FEDERATION_FAILED
    assert "refused the credentials of profile p" in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://federation.example.com/federation", "plain http only on loopback"),
        ("ftp://x/federation", "invalid SHIBAWS_FEDERATION_URL"),
    ],
)
def test_console_bad_federation_url(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path, url: str, message: str
) -> None:
    seed_profile(strict_sts, saml_signing_key, "p", ADMIN)
    env = login_env(aws_home, None)
    env["SHIBAWS_FEDERATION_URL"] = url
    result = run_shibaws(["console", "--profile", "p"], env)
    assert result.returncode == ExitCode.USAGE
    assert message in result.stderr


def test_console_region_outside_partition(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    seed_profile(strict_sts, saml_signing_key, "gov", role_arn(RESEARCH, "Admin", "aws-us-gov"))
    result = run_shibaws(
        ["console", "--profile", "gov", "--region", "eu-west-1"], login_env(aws_home, None)
    )
    assert result.returncode == ExitCode.USAGE
    assert "not in partition aws-us-gov" in result.stderr

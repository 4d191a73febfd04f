"""Several roles from one Duo approval, in real Firefox against the stand-ins and strict STS."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from login_helpers import login_env, run_shibaws
from roles_helpers import (
    ACCOUNT_NAMES,
    ARCHIVE,
    RESEARCH,
    SEVEN_ROLES,
    TEACHING,
    add_seven_role_user,
    assume_calls,
    login_args,
    read_ini,
    role_arn,
)
from servers.shib_fixtures import ShibDuo
from servers.signin_page import PageForm, SigninPage
from servers.strict_sts import StrictSts
from shibaws.exitcodes import ExitCode

pytestmark = pytest.mark.browser

TEMPLATE = "{account_name}-{role_name}"
EXPECTED_PROFILES = {
    "research-Admin",
    "research-ReadOnly",
    "research-Operator",
    "teaching-Admin",
    "teaching-Developer",
    "archive-Admin",
    "archive-Auditor",
}


@pytest.fixture
def world(shib_duo: ShibDuo, strict_sts: StrictSts) -> tuple[ShibDuo, StrictSts]:
    add_seven_role_user(shib_duo, strict_sts)
    return shib_duo, strict_sts


def _write_account_names(aws_home: Path) -> None:
    aws_home.mkdir(mode=0o700, exist_ok=True)
    (aws_home / "config").write_text(
        "# names for the picker\n[default]\nshibaws_account_names =\n"
        f"    {RESEARCH} = research\n    {TEACHING} = teaching\n    {ARCHIVE} = archive\n"
    )


def _caller_arn(aws_home: Path, sts: StrictSts, profile: str) -> str:
    session = boto3.session.Session(profile_name=profile)
    client = session.client("sts", region_name="us-east-1", endpoint_url=sts.endpoint_url)
    return str(client.get_caller_identity()["Arn"])


def test_seven_roles_one_push(
    world: tuple[ShibDuo, StrictSts], aws_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shib, sts = world
    _write_account_names(aws_home)
    result = run_shibaws(
        login_args(shib, "carol", "--all-roles", "--profile", TEMPLATE),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == 0, result.stderr
    assert shib.push_count == 1
    credentials = read_ini(aws_home / "credentials")
    assert set(credentials.sections()) == EXPECTED_PROFILES
    assert "Wrote 7 profiles" in result.stderr
    assert len(assume_calls(sts)) == 7
    # Every profile works with the SDK, as the right role.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_home / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_home / "config"))
    assert _caller_arn(aws_home, sts, "research-Operator").startswith(
        f"arn:aws:sts::{RESEARCH}:assumed-role/Operator/"
    )
    assert ":assumed-role/Auditor/" in _caller_arn(aws_home, sts, "archive-Auditor")


def test_failing_role_among_good_ones(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    _write_account_names(aws_home)
    failing = role_arn(TEACHING, "Developer")
    sts.fail_role(failing, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
    result = run_shibaws(
        login_args(shib, "carol", "--all-roles", "--profile", TEMPLATE),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == ExitCode.LOGIN_PARTIAL, result.stderr
    credentials = read_ini(aws_home / "credentials")
    assert set(credentials.sections()) == EXPECTED_PROFILES - {"teaching-Developer"}
    assert "Wrote 6 profiles" in result.stderr
    assert "Failed 1 profiles:" in result.stderr
    assert f"[teaching-Developer] {failing}: STS rejected" in result.stderr
    assert "AccessDenied" in result.stderr


def test_all_roles_failing_exit_code(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    for arn in SEVEN_ROLES:
        sts.fail_role(arn, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
    result = run_shibaws(
        login_args(shib, "carol", "--all-roles", "--profile", "{account_id}-{role_name}"),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == ExitCode.STS_REJECTED
    assert not (aws_home / "credentials").exists()


def test_duration_ladder_finds_role_maximum(
    world: tuple[ShibDuo, StrictSts], aws_home: Path
) -> None:
    shib, sts = world
    admin = role_arn(RESEARCH, "Admin")
    sts.set_role(admin, max_session_duration=14400)
    result = run_shibaws(
        login_args(shib, "carol", "--role", admin, "--profile", "admin"),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == 0, result.stderr
    durations = [call.params["DurationSeconds"] for call in assume_calls(sts)]
    assert durations == ["43200", "28800", "14400"]
    assert "granted 14400 s instead of the 43200 s" in result.stderr


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("2023", {"research-Admin", "teaching-Admin"}),
        ("classic", {"research-Admin", "teaching-Admin"}),
        ("interstitial", {f"{RESEARCH}-Admin", f"{TEACHING}-Admin"}),
        ("missing", {f"{RESEARCH}-Admin", f"{TEACHING}-Admin"}),
    ],
)
def test_account_names_from_signin_page(
    world: tuple[ShibDuo, StrictSts],
    aws_home: Path,
    signin_page: SigninPage,
    form: PageForm,
    expected: set[str],
) -> None:
    shib, sts = world
    signin_page.configure(form, ACCOUNT_NAMES)
    result = run_shibaws(
        login_args(
            shib,
            "carol",
            "--role",
            role_arn(RESEARCH, "Admin"),
            "--role",
            role_arn(TEACHING, "Admin"),
            "--profile",
            TEMPLATE,
            "--account-names-from-signin",
            "--signin-page-url",
            signin_page.url,
        ),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == 0, result.stderr
    assert len(signin_page.posts) == 1
    assert set(read_ini(aws_home / "credentials").sections()) == expected


def test_account_names_not_fetched_unasked(
    world: tuple[ShibDuo, StrictSts], aws_home: Path, signin_page: SigninPage
) -> None:
    shib, sts = world
    result = run_shibaws(
        login_args(
            shib,
            "carol",
            "--role",
            role_arn(ARCHIVE, "Admin"),
            "--profile",
            "archive",
            "--signin-page-url",
            signin_page.url,
        ),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == 0, result.stderr
    assert signin_page.posts == []


def test_single_profile_for_several_roles_rejected(
    world: tuple[ShibDuo, StrictSts], aws_home: Path
) -> None:
    shib, sts = world
    result = run_shibaws(
        login_args(shib, "carol", "--all-roles", "--profile", "one"),
        login_env(aws_home, sts.endpoint_url),
        "carol-pass\n",
    )
    assert result.returncode == ExitCode.USAGE
    assert "use a template such as" in result.stderr
    assert assume_calls(sts) == []

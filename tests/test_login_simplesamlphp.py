"""``shibaws login`` in real Firefox against a real SAML IdP (SimpleSAMLphp)."""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
from pathlib import Path

import pytest

from login_helpers import login_env, run_shibaws
from servers.simplesamlphp import SimpleSamlIdp
from servers.strict_sts import StrictSts
from shibaws.exitcodes import ExitCode

pytestmark = pytest.mark.browser

AWS_CLI = str(Path(sys.executable).parent / "aws")


def _args(idp: SimpleSamlIdp, username: str, *extra: str) -> list[str]:
    return [
        "login",
        "--idp-url",
        idp.start_url,
        "--username",
        username,
        "--password-stdin",
        "--sign-in-url",
        idp.sign_in_url,
        "--timeout",
        "60",
        *extra,
    ]


def _trust(sts: StrictSts, idp: SimpleSamlIdp) -> None:
    sts.trust_cert(idp.cert_pem)
    for user in idp.users.values():
        for role in user.role_arns:
            sts.set_role(role, max_session_duration=43200)


def test_one_role_with_moto_sts(
    simplesaml_idp: SimpleSamlIdp, moto_sts: str, aws_home: Path
) -> None:
    alice = simplesaml_idp.users["alice"]
    result = run_shibaws(
        _args(simplesaml_idp, "alice"), login_env(aws_home, moto_sts), f"{alice.password}\n"
    )
    assert result.returncode == 0, result.stderr
    credentials = configparser.ConfigParser()
    credentials.read(aws_home / "credentials")
    assert credentials["saml"]["aws_access_key_id"].startswith("ASIA")


def test_profile_works_with_aws_cli(
    simplesaml_idp: SimpleSamlIdp, strict_sts: StrictSts, aws_home: Path
) -> None:
    _trust(strict_sts, simplesaml_idp)
    env = login_env(aws_home, strict_sts.endpoint_url)
    alice = simplesaml_idp.users["alice"]
    result = run_shibaws(_args(simplesaml_idp, "alice"), env, f"{alice.password}\n")
    assert result.returncode == 0, result.stderr

    identity = subprocess.run(
        [AWS_CLI, "--profile", "saml", "--region", "us-east-1", "sts", "get-caller-identity"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert identity.returncode == 0, identity.stderr
    arn = json.loads(identity.stdout)["Arn"]
    assert arn.startswith("arn:aws:sts::111122223333:assumed-role/ReadOnly/")


def test_three_roles_choose_path_role(
    simplesaml_idp: SimpleSamlIdp, strict_sts: StrictSts, aws_home: Path
) -> None:
    _trust(strict_sts, simplesaml_idp)
    bob = simplesaml_idp.users["bob"]
    path_role = next(role for role in bob.role_arns if role.count("/") > 1)
    result = run_shibaws(
        _args(simplesaml_idp, "bob", "--role", path_role),
        login_env(aws_home, strict_sts.endpoint_url),
        f"{bob.password}\n",
    )
    assert result.returncode == 0, result.stderr
    assumed = [call for call in strict_sts.calls if call.action == "AssumeRoleWithSAML"]
    assert assumed[-1].params["RoleArn"] == path_role


def test_three_roles_listed_without_terminal(
    simplesaml_idp: SimpleSamlIdp, strict_sts: StrictSts, aws_home: Path
) -> None:
    bob = simplesaml_idp.users["bob"]
    result = run_shibaws(
        _args(simplesaml_idp, "bob"),
        login_env(aws_home, strict_sts.endpoint_url),
        f"{bob.password}\n",
    )
    assert result.returncode == ExitCode.NO_USABLE_ROLE
    for role in bob.role_arns:
        assert role in result.stderr


def test_wrong_password_reported(
    simplesaml_idp: SimpleSamlIdp, strict_sts: StrictSts, aws_home: Path
) -> None:
    result = run_shibaws(
        _args(simplesaml_idp, "alice"), login_env(aws_home, strict_sts.endpoint_url), "wrong\n"
    )
    assert result.returncode == ExitCode.AUTHENTICATION_FAILED, result.stderr
    assert "Incorrect username or password" in result.stderr

"""Shared set-up for the multi-role and credential-command tests."""

from __future__ import annotations

import configparser
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from servers.saml_builder import SigningKey, build_response, encode_response
from servers.shib_fixtures import ShibDuo
from servers.strict_sts import StrictSts, StsCall

RESEARCH, TEACHING, ARCHIVE = "111122223333", "444455556666", "777788889999"
ACCOUNT_NAMES = {RESEARCH: "research", TEACHING: "teaching", ARCHIVE: "archive"}


def role_arn(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def provider_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:saml-provider/Shibboleth"


# Seven roles across three accounts; Operator carries a role path.
SEVEN_ROLES = (
    role_arn(RESEARCH, "Admin"),
    role_arn(RESEARCH, "ReadOnly"),
    role_arn(RESEARCH, "team/ops/Operator"),
    role_arn(TEACHING, "Admin"),
    role_arn(TEACHING, "Developer"),
    role_arn(ARCHIVE, "Admin"),
    role_arn(ARCHIVE, "Auditor"),
)


def role_values(roles: tuple[str, ...], partition: str = "aws") -> list[str]:
    """Return Role attribute values, provider first (the usual Shibboleth order)."""
    return [f"{provider_arn(arn.split(':')[4], partition)},{arn}" for arn in roles]


def add_seven_role_user(shib: ShibDuo, sts: StrictSts, username: str = "carol") -> None:
    """Add USERNAME (password USERNAME-pass) with SEVEN_ROLES; every role allows 12 h."""
    sts.trust_cert(shib.cert_pem)
    for arn in SEVEN_ROLES:
        sts.set_role(arn, max_session_duration=43200)
    shib.add_user(username, f"{username}-pass", role_values(SEVEN_ROLES))
    shib.set_push_behaviour("approve")


def login_args(shib: ShibDuo, username: str, *extra: str) -> list[str]:
    return [
        "login",
        "--idp-url",
        shib.start_url,
        "--username",
        username,
        "--password-stdin",
        "--sign-in-url",
        shib.sign_in_url,
        "--timeout",
        "60",
        *extra,
    ]


def assume_calls(sts: StrictSts) -> list[StsCall]:
    return [call for call in sts.calls if call.action == "AssumeRoleWithSAML"]


def read_ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser


@dataclass(frozen=True)
class Seeded:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime


def seed_profile(
    sts: StrictSts, key: SigningKey, profile: str, role: str, *, account_name: str | None = None
) -> Seeded:
    """Get real credentials for ROLE from the strict STS and store them as a login would.

    Runs in-process, so the ``aws_home`` fixture's environment decides where files go.
    """
    from shibaws import lifecycle
    from shibaws.settings import write_settings
    from shibaws.sts import Credentials

    sts.set_role(role, max_session_duration=43200)
    xml = build_response(
        destination="https://signin.aws.amazon.com/saml",
        role_values=role_values((role,), role.split(":")[1]),
        key=key,
    )
    client = boto3.session.Session().client(
        "sts",
        region_name="us-east-1",
        endpoint_url=sts.endpoint_url,
        config=Config(signature_version=UNSIGNED),
    )
    reply = client.assume_role_with_saml(
        RoleArn=role,
        PrincipalArn=provider_arn(role.split(":")[4], role.split(":")[1]),
        SAMLAssertion=encode_response(xml),
        DurationSeconds=3600,
    )
    data = reply["Credentials"]
    credentials = Credentials(
        access_key_id=data["AccessKeyId"],
        secret_access_key=data["SecretAccessKey"],
        session_token=data["SessionToken"],
        expiration=data["Expiration"],
        assumed_role_arn=reply["AssumedRoleUser"]["Arn"],
        duration=3600,
    )
    lifecycle.store_credentials(profile, credentials)
    settings: dict[str, str | None] = {"shibaws_role_arn": role}
    if account_name:
        settings["shibaws_account_name"] = account_name
    write_settings(profile, settings)
    return Seeded(
        data["AccessKeyId"], data["SecretAccessKey"], data["SessionToken"], data["Expiration"]
    )

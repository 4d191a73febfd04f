"""Exchange a SAML assertion for temporary credentials with STS AssumeRoleWithSAML.

The call is unsigned: it needs no AWS credentials. boto3 honours
AWS_ENDPOINT_URL_STS, so a VPC endpoint or a local STS can stand in.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shibaws.errors import StsRejected, StsUnreachable
from shibaws.saml import Role

logger = logging.getLogger(__name__)

# Durations tried, longest first, when STS rejects the requested one as above the role's
# MaxSessionDuration. STS never reveals the maximum, and roles are usually set to one of
# these values (1, 2, 4, 8 or 12 h). Walking down finds the longest grant in at most five
# calls, well inside an assertion's usual five-minute window.
DURATION_LADDER = (43200, 28800, 14400, 7200, 3600)
# Duration that STS always grants, since every role allows at least one hour.
FALLBACK_DURATION = 3600
# Duration asked for when neither the user nor the assertion names one: the STS maximum.
DEFAULT_DURATION = 43200
MAX_DURATION_MESSAGE = "exceeds the MaxSessionDuration"

# What to tell the user for each error code STS returns.
_REMEDIES = {
    "ExpiredToken": "the SAML assertion has expired; log in again",
    "InvalidIdentityToken": (
        "STS could not validate the assertion: check that the STS region belongs to the "
        "partition the IdP posts to (use --region), and that the IdP's metadata in IAM is current"
    ),
    "IDPRejectedClaim": "the IdP's claims were rejected; ask your IdP administrators",
    "AccessDenied": (
        "the role's trust policy does not allow this SAML provider or user; "
        "ask the account administrators"
    ),
    "ValidationError": "check --duration and --role",
    "MalformedPolicyDocument": "the request was malformed",
}


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials for one role. Secrets never appear in ``repr``."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    assumed_role_arn: str
    duration: int


class StsCallRejected(StsRejected):
    """STS returned an error document; ``code`` is its error code (``AccessDenied``...)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def assume_role_with_saml(role: Role, assertion: str, *, region: str, duration: int) -> Credentials:
    """Call AssumeRoleWithSAML for ROLE, walking down DURATION_LADDER while DURATION
    exceeds the role's MaxSessionDuration. ``Credentials.duration`` is what was granted."""
    client = _sts_client(region)
    logger.info("assuming %s through STS in %s", role.role_arn, region)
    attempts = durations_to_try(duration)
    for attempt in attempts:
        try:
            return _call(client, role, assertion, attempt)
        except StsCallRejected as error:
            if MAX_DURATION_MESSAGE not in str(error) or attempt == attempts[-1]:
                raise
        logger.info("%s allows less than %d s; trying a shorter session", role.role_arn, attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def durations_to_try(requested: int) -> list[int]:
    """Return REQUESTED followed by the shorter ladder steps, ending at FALLBACK_DURATION."""
    shorter = [step for step in DURATION_LADDER if step < requested]
    return [requested, *shorter]


@functools.cache
def _sts_client(region: str) -> Any:
    """Return one STS client per region, shared by every role of a login."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        signature_version=UNSIGNED,
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=30,
    )
    session = boto3.session.Session()
    return session.client("sts", region_name=region, config=config)


def _call(client: Any, role: Role, assertion: str, duration: int) -> Credentials:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.assume_role_with_saml(
            RoleArn=role.role_arn,
            PrincipalArn=role.principal_arn,
            SAMLAssertion=assertion,
            DurationSeconds=duration,
        )
    except ClientError as error:
        raise _rejected(role, error) from None
    except BotoCoreError as error:
        raise StsUnreachable(
            f"could not call STS at {client.meta.endpoint_url}: {error}; check the network "
            "path to STS, or set AWS_ENDPOINT_URL_STS to your STS VPC endpoint"
        ) from None

    data = response["Credentials"]
    return Credentials(
        access_key_id=data["AccessKeyId"],
        secret_access_key=data["SecretAccessKey"],
        session_token=data["SessionToken"],
        expiration=data["Expiration"],
        assumed_role_arn=response.get("AssumedRoleUser", {}).get("Arn", ""),
        duration=duration,
    )


def _rejected(role: Role, error: Any) -> StsCallRejected:
    details = error.response.get("Error", {})
    code = details.get("Code", "Unknown")
    message = details.get("Message", "")
    remedy = _REMEDIES.get(code, "")
    text = f"STS rejected {role.role_arn} with {code}: {message}"
    if remedy:
        text += f" ({remedy})"
    return StsCallRejected(text, code)

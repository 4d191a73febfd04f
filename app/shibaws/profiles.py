"""Turn one SAML assertion into one profile per chosen role.

The assertion is presented to STS once per role while it is still valid
(usually five minutes after the IdP issued it). A role that STS rejects does
not stop the others; only an unreachable STS or an expired assertion ends
the run early, because every later call would fail the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shibaws import awsfiles, lifecycle
from shibaws.errors import ShibawsError, StsRejected, StsUnreachable, UsageError
from shibaws.roles import role_label
from shibaws.saml import Role
from shibaws.settings import write_settings
from shibaws.sts import Credentials, StsCallRejected, assume_role_with_saml

logger = logging.getLogger(__name__)

Notify = Callable[[str], None]
TEMPLATE_FIELDS = ("account_name", "account_id", "role_name")


@dataclass(frozen=True)
class WrittenProfile:
    profile: str
    role: Role
    credentials: Credentials


@dataclass(frozen=True)
class FailedProfile:
    profile: str
    role: Role
    reason: str
    error: ShibawsError = field(repr=False)


@dataclass
class LoginOutcome:
    """The profiles a login wrote and those it could not, with the reasons."""

    written: list[WrittenProfile] = field(default_factory=list)
    failed: list[FailedProfile] = field(default_factory=list)


@dataclass(frozen=True)
class AssumeRequest:
    """Settings shared by every STS call of one login."""

    assertion: str = field(repr=False)
    sts_region: str
    duration: int
    config_region: str | None
    account_names: Mapping[str, str]


def profile_names(
    template: str, roles: Sequence[Role], account_names: Mapping[str, str]
) -> list[str]:
    """Return one profile name per role: TEMPLATE itself for one role, else TEMPLATE filled in.

    Fields: {account_name} (the account id when no name is known), {account_id}, {role_name}.
    """
    if len(roles) == 1 and "{" not in template:
        return [awsfiles.check_profile_name(template)]
    if "{" not in template:
        raise UsageError(
            f"{len(roles)} roles were chosen but --profile {template!r} names one profile; "
            "use a template such as --profile '{account_name}-{role_name}'"
        )
    names = [_fill(template, role, account_names) for role in roles]
    if len(set(names)) != len(names):
        raise UsageError(
            f"--profile template {template!r} gives the same name to several roles; "
            "include both {account_id} (or {account_name}) and {role_name}"
        )
    return names


def _fill(template: str, role: Role, account_names: Mapping[str, str]) -> str:
    fields = {
        "account_name": account_names.get(role.account_id) or role.account_id,
        "account_id": role.account_id,
        "role_name": role.role_name,
    }
    try:
        name = template.format(**fields)
    except (KeyError, IndexError, ValueError) as error:
        raise UsageError(
            f"invalid --profile template {template!r} ({error}); use the fields "
            + ", ".join("{" + name + "}" for name in TEMPLATE_FIELDS)
        ) from None
    # Account names may contain spaces; profile names may not.
    return awsfiles.check_profile_name("-".join(name.split()))


def assume_roles(
    roles: Sequence[Role], names: Sequence[str], request: AssumeRequest, notify: Notify
) -> LoginOutcome:
    """Assume each role and write its profile; collect failures instead of stopping."""
    outcome = LoginOutcome()
    for index, (name, role) in enumerate(zip(names, roles, strict=True)):
        try:
            credentials = assume_role_with_saml(
                role, request.assertion, region=request.sts_region, duration=request.duration
            )
        except StsRejected as error:
            outcome.failed.append(FailedProfile(name, role, str(error), error))
            if isinstance(error, StsCallRejected) and error.code == "ExpiredToken":
                _skip_rest(outcome, names, roles, index, "the assertion expired before its turn")
                break
            continue
        except StsUnreachable as error:
            outcome.failed.append(FailedProfile(name, role, str(error), error))
            _skip_rest(outcome, names, roles, index, "not tried: STS is unreachable")
            break

        write_profile(name, role, credentials, request)
        outcome.written.append(WrittenProfile(name, role, credentials))
        notify(written_line(name, role, credentials, request))
    return outcome


def _skip_rest(
    outcome: LoginOutcome, names: Sequence[str], roles: Sequence[Role], index: int, reason: str
) -> None:
    error = outcome.failed[-1].error
    for name, role in zip(names[index + 1 :], roles[index + 1 :], strict=True):
        outcome.failed.append(FailedProfile(name, role, reason, error))


def write_profile(
    profile: str, role: Role, credentials: Credentials, request: AssumeRequest
) -> None:
    """Store the credentials, and the profile's region, role and account name in ~/.aws/config."""
    lifecycle.store_credentials(profile, credentials)
    values: dict[str, str | None] = {"shibaws_role_arn": role.role_arn}
    account_name = request.account_names.get(role.account_id)
    if account_name:
        values["shibaws_account_name"] = account_name
    if request.config_region:
        values["region"] = request.config_region
    write_settings(profile, values)


def written_line(profile: str, role: Role, credentials: Credentials, request: AssumeRequest) -> str:
    """Return the line telling the user about one written profile and its granted duration."""
    local = credentials.expiration.astimezone()
    line = (
        f"Wrote profile [{profile}] for {role_label(role, request.account_names)}, "
        f"valid until {local:%Y-%m-%d %H:%M %Z}"
    )
    if credentials.duration != request.duration:
        line += (
            f" (granted {credentials.duration} s instead of the {request.duration} s asked for: "
            "the role's maximum is lower)"
        )
    return line


def summary_lines(outcome: LoginOutcome) -> list[str]:
    """Return the closing summary of a multi-role login: what was written, what failed, why."""
    lines = []
    if outcome.written:
        profiles = ", ".join(item.profile for item in outcome.written)
        lines.append(f"Wrote {len(outcome.written)} profiles: {profiles}")
    if outcome.failed:
        lines.append(f"Failed {len(outcome.failed)} profiles:")
        lines.extend(
            f"  [{item.profile}] {item.role.role_arn}: {item.reason}" for item in outcome.failed
        )
    return lines

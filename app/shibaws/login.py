"""``shibaws login``: from the campus password and a Duo approval to credentials in ~/.aws."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shibaws import awsfiles
from shibaws.browser import BrowserMode, BrowserSettings, open_browser
from shibaws.capture import CapturedPost, SamlCapture
from shibaws.errors import UsageError
from shibaws.pages.base import LoginContext
from shibaws.partitions import (
    PARTITIONS,
    Partition,
    SignInEndpoint,
    parse_signin_url,
    partition_for_region,
)
from shibaws.password import PasswordSource, read_password
from shibaws.roles import Picker, choose_roles
from shibaws.saml import Role, SamlAssertion, parse_saml_response
from shibaws.sts import FALLBACK_DURATION, Credentials, assume_role_with_saml

logger = logging.getLogger(__name__)

Notify = Callable[[str], None]


@dataclass(frozen=True)
class LoginSettings:
    idp_url: str
    username: str
    password_source: PasswordSource = field(default_factory=PasswordSource)
    profile: str = "saml"
    roles: tuple[str, ...] = ()
    principal_arn: str | None = None
    duration: int | None = None
    region: str | None = None
    browser_mode: BrowserMode = BrowserMode.HEADLESS
    timeout: float = 300.0
    sign_in_urls: tuple[str, ...] = ()
    trust_browser: bool = False


@dataclass(frozen=True)
class WrittenProfile:
    profile: str
    role: Role
    credentials: Credentials


def run_login(
    settings: LoginSettings,
    *,
    notify: Notify | None = None,
    picker: Picker | None = None,
    interactive: bool | None = None,
) -> list[WrittenProfile]:
    """Log in through the browser, assume the chosen roles and write their profiles."""
    tell = notify or _print_to_stderr
    password = read_password(settings.password_source, settings.username)

    captured = capture_assertion(settings, password, tell)
    assertion = parse_saml_response(captured.saml_response)
    endpoint = _signin_endpoint(assertion, captured)
    region = _sts_region(settings.region, endpoint)

    can_ask = sys.stdin.isatty() and sys.stderr.isatty() if interactive is None else interactive
    roles = choose_roles(
        assertion,
        settings.roles,
        principal_arn=settings.principal_arn,
        interactive=can_ask,
        picker=picker,
    )
    names = profile_names(settings.profile, roles)
    duration = settings.duration or assertion.session_duration or FALLBACK_DURATION

    written = []
    for name, role in zip(names, roles, strict=True):
        credentials = assume_role_with_saml(
            role, assertion.encoded, region=region, duration=duration
        )
        write_profile(name, credentials, _config_region(settings.region, endpoint))
        written.append(WrittenProfile(name, role, credentials))
        tell(_summary(name, role, credentials, duration))
    return written


def capture_assertion(settings: LoginSettings, password: str, notify: Notify) -> CapturedPost:
    """Drive Firefox through the IdP and Duo pages and return the captured SAML POST."""
    from shibaws.walk import walk_to_assertion

    deadline = time.monotonic() + settings.timeout
    context = LoginContext(
        username=settings.username,
        password=password,
        notify=notify,
        trust_browser=settings.trust_browser,
        person_present=settings.browser_mode is BrowserMode.VISIBLE,
    )
    browser = BrowserSettings(mode=settings.browser_mode, page_load_timeout=settings.timeout)
    started = time.monotonic()
    with open_browser(browser) as driver:
        logger.debug("Firefox started in %.2f s", time.monotonic() - started)
        capture = SamlCapture(driver, settings.sign_in_urls)
        capture.start()
        captured = walk_to_assertion(driver, capture, settings.idp_url, context, deadline=deadline)
    logger.debug("browser part took %.2f s", time.monotonic() - started)
    return captured


def profile_names(profile: str, roles: list[Role]) -> list[str]:
    """Return one profile name per role: PROFILE itself, or PROFILE as a template."""
    if len(roles) == 1 and "{" not in profile:
        return [awsfiles.check_profile_name(profile)]
    if "{" not in profile:
        raise UsageError(
            f"{len(roles)} roles were chosen but --profile {profile!r} names one profile; "
            "use a template such as --profile '{account_id}-{role_name}'"
        )
    names = []
    for role in roles:
        try:
            name = profile.format(account_id=role.account_id, role_name=role.role_name)
        except (KeyError, IndexError, ValueError) as error:
            raise UsageError(
                f"invalid --profile template {profile!r} ({error}); "
                "use the fields {account_id} and {role_name}"
            ) from None
        names.append(awsfiles.check_profile_name(name))
    if len(set(names)) != len(names):
        raise UsageError(
            f"--profile template {profile!r} gives the same name to several roles; "
            "include both {account_id} and {role_name}"
        )
    return names


def write_profile(profile: str, credentials: Credentials, region: str | None) -> None:
    """Write the credentials to PROFILE, and its region to ~/.aws/config when known."""
    awsfiles.update_section(
        awsfiles.credentials_path(),
        profile,
        {
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
            "aws_session_token": credentials.session_token,
            # Older SDKs read this name; a stale value beside a new token breaks them.
            "aws_security_token": None,
            "shibaws_expiration": _iso(credentials.expiration),
        },
    )
    if region:
        awsfiles.update_section(
            awsfiles.config_path(), awsfiles.config_section(profile), {"region": region}
        )


def _signin_endpoint(assertion: SamlAssertion, captured: CapturedPost) -> SignInEndpoint:
    """Take the partition from the assertion's Destination, else from where it was posted."""
    endpoint = assertion.signin_endpoint or parse_signin_url(captured.url)
    if endpoint is None:
        logger.info(
            "the assertion's destination %s is not an AWS sign-in URL; assuming partition aws",
            assertion.destination,
        )
        return SignInEndpoint(PARTITIONS["aws"], None)
    return endpoint


def _sts_region(requested: str | None, endpoint: SignInEndpoint) -> str:
    if requested is None:
        return endpoint.region or endpoint.partition.default_sts_region
    _check_partition(requested, endpoint.partition)
    return requested


def _config_region(requested: str | None, endpoint: SignInEndpoint) -> str | None:
    """Return the region for ~/.aws/config: the user's, the sign-in URL's, or else the
    partition's own for GovCloud and China, where tools fail without one."""
    if requested or endpoint.region:
        return requested or endpoint.region
    if endpoint.partition.name != "aws":
        return endpoint.partition.default_sts_region
    return None


def _check_partition(region: str, partition: Partition) -> None:
    if partition_for_region(region).name != partition.name:
        raise UsageError(
            f"--region {region} is not in partition {partition.name}, where the IdP sends "
            f"the assertion; use a region such as {partition.default_sts_region}"
        )


def _summary(profile: str, role: Role, credentials: Credentials, requested: int) -> str:
    local = credentials.expiration.astimezone()
    line = f"Wrote profile [{profile}] for {role.role_arn}, valid until {local:%Y-%m-%d %H:%M %Z}"
    if credentials.duration != requested:
        line += f" (granted {credentials.duration} s instead of the {requested} s asked for)"
    return line


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

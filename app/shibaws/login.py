"""``shibaws login``: from the campus password and a Duo approval to credentials in ~/.aws."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
from shibaws.password import PasswordSource, passcode_reader, password_reader
from shibaws.profiles import (
    AssumeRequest,
    LoginOutcome,
    WrittenProfile,
    assume_roles,
    profile_names,
    summary_lines,
)
from shibaws.roles import Picker, choose_roles
from shibaws.saml import Role, SamlAssertion, parse_saml_response
from shibaws.sts import DEFAULT_DURATION

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
    duo_method: str = "push"
    duo_device: str | None = None
    passcode_stdin: bool = False
    retries: int = 0
    accept_consent: bool = False
    debug_dir: Path | None = None
    browser_profile: Path | None = None
    selectors_file: Path | None = None
    all_roles: bool = False
    # Account id -> name, from the shibaws_account_names setting.
    account_names: Mapping[str, str] = field(default_factory=dict)
    account_names_from_signin: bool = False
    # Where to POST the assertion for the account list; None means where the IdP posted it.
    signin_page_url: str | None = None


__all__ = ["LoginOutcome", "LoginSettings", "WrittenProfile", "run_login"]


def run_login(
    settings: LoginSettings,
    *,
    notify: Notify | None = None,
    picker: Picker | None = None,
    interactive: bool | None = None,
) -> LoginOutcome:
    """Log in through the browser, assume the chosen roles and write their profiles.

    Raises the first role's error when no role succeeded; otherwise the outcome lists
    the profiles written and those that failed.
    """
    tell = notify or _print_to_stderr
    _check_before_browser(settings)
    password = password_reader(settings.password_source, settings.username)

    captured = capture_assertion(settings, password, tell)
    assertion = parse_saml_response(captured.saml_response)
    endpoint = _signin_endpoint(assertion, captured)
    region = _sts_region(settings.region, endpoint)
    names = _account_names(settings, assertion, captured)

    can_ask = sys.stdin.isatty() and sys.stderr.isatty() if interactive is None else interactive
    roles = choose_roles(
        assertion,
        settings.roles,
        principal_arn=settings.principal_arn,
        interactive=can_ask,
        picker=picker,
        all_roles=settings.all_roles,
        account_names=names,
    )
    profiles = profile_names(settings.profile, roles, names)
    request = AssumeRequest(
        assertion=assertion.encoded,
        sts_region=region,
        duration=settings.duration or assertion.session_duration or DEFAULT_DURATION,
        config_region=_config_region(settings.region, endpoint),
        account_names=names,
    )

    outcome = assume_roles(roles, profiles, request, tell)
    if not outcome.written:
        raise outcome.failed[0].error
    if len(roles) > 1:
        for line in summary_lines(outcome):
            tell(line)
    return outcome


def _check_before_browser(settings: LoginSettings) -> None:
    """Reject what would otherwise only fail after the password and the Duo approval."""
    from botocore.configloader import raw_config_parse
    from botocore.exceptions import ConfigParseError

    example = Role(
        "arn:aws:iam::123456789012:role/Example",
        "arn:aws:iam::123456789012:saml-provider/Example",
    )
    profile_names(settings.profile, [example], {})
    for path in (awsfiles.credentials_path(), awsfiles.config_path()):
        if not path.exists():
            continue
        try:
            raw_config_parse(str(path))
        except ConfigParseError:
            raise UsageError(
                f"cannot parse {path}: fix the line that is not a [section] or a "
                "key = value pair, then log in again"
            ) from None


def _account_names(
    settings: LoginSettings, assertion: SamlAssertion, captured: CapturedPost
) -> dict[str, str]:
    """Return account names: the setting's, then the sign-in page's for accounts still unnamed."""
    from shibaws.accounts import fetch_signin_account_names

    names = dict(settings.account_names)
    unnamed = {role.account_id for role in assertion.roles} - set(names)
    if not settings.account_names_from_signin or not unnamed:
        return names
    url = settings.signin_page_url or captured.url
    for account_id, name in fetch_signin_account_names(url, assertion.encoded).items():
        names.setdefault(account_id, name)
    return names


def capture_assertion(
    settings: LoginSettings, password: Callable[[], str], notify: Notify
) -> CapturedPost:
    """Drive Firefox through the IdP and Duo pages and return the captured SAML POST."""
    from shibaws.pages.selectors import load_selectors
    from shibaws.walk import WalkOptions, walk_to_assertion

    deadline = time.monotonic() + settings.timeout
    context = LoginContext(
        username=settings.username,
        read_password=password,
        notify=notify,
        trust_browser=settings.trust_browser,
        person_present=settings.browser_mode is BrowserMode.VISIBLE,
        duo_method=settings.duo_method,
        duo_device=settings.duo_device,
        retries=settings.retries,
        accept_consent=settings.accept_consent,
        read_passcode=passcode_reader(settings.passcode_stdin),
    )
    selectors = load_selectors(settings.selectors_file)
    options = WalkOptions(settings.idp_url, deadline, settings.debug_dir)
    browser = BrowserSettings(
        mode=settings.browser_mode,
        page_load_timeout=settings.timeout,
        profile_dir=settings.browser_profile,
    )
    started = time.monotonic()
    with open_browser(browser) as driver:
        logger.debug("Firefox started in %.2f s", time.monotonic() - started)
        capture = SamlCapture(driver, settings.sign_in_urls)
        capture.start()
        captured = walk_to_assertion(driver, capture, options, context, selectors)
    logger.debug("browser part took %.2f s", time.monotonic() - started)
    return captured


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


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

"""The ``shibaws login`` sub-command: parse options into LoginSettings and run the login."""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shibaws.errors import UsageError

DEFAULT_TIMEOUT = 300
DUO_METHODS = ("push", "passcode", "call", "sms")
MAX_RETRIES = 5
MIN_DURATION, MAX_DURATION = 900, 43200


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``login`` and its options to SUBPARSERS."""
    parser = subparsers.add_parser(
        "login",
        parents=[common],
        help="log in through Shibboleth and Duo and write AWS credentials",
        description=(
            "Open Firefox, sign in at the IdP with your campus password and Duo, capture the "
            "SAML assertion, assume an IAM role with STS and write temporary credentials to "
            "~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) under a profile."
        ),
    )
    parser.set_defaults(handler=run)

    account = parser.add_argument_group("account")
    account.add_argument(
        "--idp-url",
        default=os.environ.get("SHIBAWS_IDP_URL"),
        type=_url,
        help="IdP-initiated sign-on URL for AWS [env SHIBAWS_IDP_URL]",
    )
    account.add_argument(
        "--username",
        default=os.environ.get("SHIBAWS_USERNAME"),
        help="campus username [env SHIBAWS_USERNAME]",
    )
    secret = account.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    secret.add_argument(
        "--password-file",
        type=Path,
        default=_env_path("SHIBAWS_PASSWORD_FILE"),
        help="read the password from the first line of FILE, such as a Docker secret "
        "[env SHIBAWS_PASSWORD_FILE]; without either option, a hidden prompt asks",
    )

    aws = parser.add_argument_group("AWS")
    aws.add_argument(
        "--profile",
        default="saml",
        help="profile to write (default: saml); with several roles, a template using "
        "{account_name}, {account_id} and {role_name}, such as '{account_name}-{role_name}'. "
        "Settings stored in this profile's ~/.aws/config section fill unset options",
    )
    aws.add_argument(
        "--role",
        dest="roles",
        metavar="ROLE_ARN",
        action="append",
        default=[],
        type=_role_arn,
        help="role to assume without asking; repeat for several roles",
    )
    aws.add_argument(
        "--principal-arn",
        metavar="PROVIDER_ARN",
        help="ARN of the IAM SAML provider; needed with --role when the IdP encrypts the assertion",
    )
    aws.add_argument(
        "--duration",
        type=_duration,
        help=f"session length in seconds, {MIN_DURATION} to {MAX_DURATION} (default: the "
        "assertion's SessionDuration, else 43200); above the role's maximum, the longest of "
        "28800, 14400, 7200 and 3600 that the role allows is used",
    )
    aws.add_argument(
        "--region",
        type=_region,
        help="region for the STS call and the profile in ~/.aws/config (default: from the "
        "sign-in URL, else us-east-1, us-gov-west-1 or cn-north-1 by partition)",
    )
    _add_profile_options(parser)

    browser = parser.add_argument_group("browser")
    browser.add_argument(
        "--browser-mode",
        choices=["headless", "xvfb", "visible"],
        default="headless",
        help="headless (default), xvfb (a headed Firefox on a virtual screen), or visible "
        "(a window on your desktop where you can finish steps by hand)",
    )
    browser.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        help=f"seconds the browser part of the login may take (default: {DEFAULT_TIMEOUT})",
    )
    browser.add_argument(
        "--sign-in-url",
        dest="sign_in_urls",
        metavar="URL",
        action="append",
        default=[],
        type=_url,
        help="extra endpoint where the IdP posts the SAML Response (matched as a prefix); "
        "AWS's own sign-in endpoints in every partition are always watched",
    )
    browser.add_argument(
        "--browser-profile",
        metavar="DIR",
        type=Path,
        default=_env_path("SHIBAWS_BROWSER_PROFILE"),
        help="keep the Firefox profile in DIR (created 0700) between runs, so the IdP's "
        "single sign-on session and Duo's remembered device can spare a password and a "
        "push [env SHIBAWS_BROWSER_PROFILE]; default: a fresh profile, removed afterwards",
    )
    browser.add_argument(
        "--accept-consent",
        action="store_true",
        help="accept the IdP's attribute-release consent page (default: stop and show it)",
    )
    browser.add_argument(
        "--debug-dir",
        metavar="DIR",
        type=Path,
        help="when the login stops on an error, save a screenshot and the page's HTML "
        "there, with passwords, passcodes and SAML values removed",
    )
    browser.add_argument(
        "--selectors",
        dest="selectors_file",
        metavar="FILE",
        type=Path,
        default=_env_path("SHIBAWS_SELECTORS"),
        help="TOML file overriding the packaged page selectors and texts, for an IdP "
        "that renames fields [env SHIBAWS_SELECTORS]",
    )

    duo = parser.add_argument_group("Duo")
    duo.add_argument(
        "--duo-method",
        choices=DUO_METHODS,
        default=os.environ.get("SHIBAWS_DUO_METHOD", "push"),
        help="how to verify with Duo: push (default), passcode (Duo Mobile or hardware "
        "token), call, or sms [env SHIBAWS_DUO_METHOD]",
    )
    duo.add_argument(
        "--duo-device",
        metavar="NAME",
        help="use the Duo device whose name contains NAME, when you have several",
    )
    duo.add_argument(
        "--passcode-stdin",
        action="store_true",
        help="read Duo passcodes from standard input, one per line (after the password "
        "line with --password-stdin); default: a hidden prompt",
    )
    duo.add_argument(
        "--retries",
        type=_retries,
        default=0,
        help=f"fresh Duo requests to send after a denied or timed-out one (0 to {MAX_RETRIES}, "
        "default 0)",
    )
    duo.add_argument(
        "--trust-browser",
        action="store_true",
        help="answer yes to Duo's 'Is this your device?' and tick 'Remember me' (default: "
        "no, since a fresh profile gains nothing from it; useful with --browser-profile)",
    )

    from shibaws.settings import defer_defaults

    defer_defaults(parser)


def _add_profile_options(parser: argparse.ArgumentParser) -> None:
    """Add the options for several roles, account names and skipping a needless login."""
    from shibaws.lifecycle import DEFAULT_MARGIN

    group = parser.add_argument_group("roles and lifecycle")
    group.add_argument(
        "--all-roles",
        action="store_true",
        help="assume every role in the assertion, one profile each (use a --profile template)",
    )
    group.add_argument(
        "--force",
        action="store_true",
        help="log in even when the profile's credentials are still valid",
    )
    group.add_argument(
        "--margin",
        type=_margin,
        default=DEFAULT_MARGIN,
        help="skip the login when the profile's credentials stay valid for more than this "
        f"many seconds (default: {DEFAULT_MARGIN})",
    )
    group.add_argument(
        "--account-names-from-signin",
        action="store_true",
        help="POST the assertion to the AWS sign-in page to read account names for the picker "
        "and {account_name}; ids are used when the page lists none",
    )
    group.add_argument(
        "--signin-page-url",
        metavar="URL",
        type=_url,
        help="where --account-names-from-signin posts (default: where the IdP posted)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the login described by ARGS, with stored settings filling unset options."""
    from shibaws.login_flow import run_login_command

    validators = {
        "idp_url": _url,
        "roles": _role_arn,
        "principal_arn": _principal_arn,
        "duration": _duration,
        "region": _region,
        "sign_in_urls": _url,
        "signin_page_url": _url,
        "browser_mode": _browser_mode,
    }
    return run_login_command(args, settings_from_args, validators)


def settings_from_args(args: argparse.Namespace) -> Any:
    """Check the options that depend on each other and return LoginSettings."""
    from shibaws.browser import BrowserMode
    from shibaws.login import LoginSettings
    from shibaws.password import PasswordSource

    if not args.idp_url:
        raise UsageError("missing --idp-url (or SHIBAWS_IDP_URL): the IdP's sign-on URL for AWS")
    if not args.username or not args.username.strip():
        raise UsageError("missing --username (or SHIBAWS_USERNAME): your campus username")
    if args.duo_method not in DUO_METHODS:
        raise UsageError(
            f"invalid SHIBAWS_DUO_METHOD {args.duo_method!r}: use one of {', '.join(DUO_METHODS)}"
        )
    if args.principal_arn and not args.roles:
        raise UsageError("--principal-arn needs --role")
    if args.password_stdin and args.password_file is not None:
        # SHIBAWS_PASSWORD_FILE set in the environment and --password-stdin given.
        args.password_file = None
    return LoginSettings(
        idp_url=args.idp_url,
        username=args.username.strip(),
        password_source=PasswordSource(file=args.password_file, stdin=args.password_stdin),
        profile=args.profile,
        roles=tuple(args.roles),
        principal_arn=args.principal_arn,
        duration=args.duration,
        region=args.region,
        browser_mode=BrowserMode(args.browser_mode),
        timeout=float(args.timeout),
        sign_in_urls=tuple(args.sign_in_urls),
        trust_browser=args.trust_browser,
        duo_method=args.duo_method,
        duo_device=args.duo_device,
        passcode_stdin=args.passcode_stdin,
        retries=args.retries,
        accept_consent=args.accept_consent,
        debug_dir=args.debug_dir,
        browser_profile=args.browser_profile,
        selectors_file=args.selectors_file,
    )


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid URL {value!r}: {error}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"invalid URL {value!r}: expected https://HOST/...")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise argparse.ArgumentTypeError(
            f"refusing plain http for {parts.hostname}: a password would cross the network "
            "unencrypted; use https"
        )
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _role_arn(value: str) -> str:
    from shibaws.roles import check_role_arn

    try:
        return check_role_arn(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(value: str) -> int:
    seconds = _integer(value, "--duration")
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise argparse.ArgumentTypeError(
            f"invalid duration {seconds}: STS accepts {MIN_DURATION} to {MAX_DURATION} seconds"
        )
    return seconds


def _timeout(value: str) -> int:
    seconds = _integer(value, "--timeout")
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"invalid timeout {seconds}: use 1 to 3600 seconds")
    return seconds


def _integer(value: str, option: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid {option} value {value!r}: expected a whole number of seconds"
        ) from None


def _retries(value: str) -> int:
    count = _integer(value, "--retries")
    if not 0 <= count <= MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"invalid retries {count}: use 0 to {MAX_RETRIES}")
    return count


def _margin(value: str) -> int:
    seconds = _integer(value, "--margin")
    if not 0 <= seconds <= MAX_DURATION:
        raise argparse.ArgumentTypeError(f"invalid margin {seconds}: use 0 to {MAX_DURATION}")
    return seconds


def _principal_arn(value: str) -> str:
    from shibaws.saml import PRINCIPAL_ARN_PATTERN

    if not PRINCIPAL_ARN_PATTERN.match(value.strip()):
        raise argparse.ArgumentTypeError(
            f"invalid provider ARN {value!r}: expected arn:aws:iam::123456789012:saml-provider/NAME"
        )
    return value.strip()


def _browser_mode(value: str) -> str:
    if value not in ("headless", "xvfb", "visible"):
        raise argparse.ArgumentTypeError(
            f"invalid browser mode {value!r}: use headless, xvfb or visible"
        )
    return value


def _region(value: str) -> str:
    from shibaws.partitions import is_region_name

    if not is_region_name(value):
        raise argparse.ArgumentTypeError(
            f"invalid region {value!r}: expected a name like us-east-1"
        )
    return value

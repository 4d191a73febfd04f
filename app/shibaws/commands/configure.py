"""``shibaws configure``: store a profile's login settings in ~/.aws/config.

With options it writes their values and prompts for nothing. With none, in a
terminal, it prompts with questionary, offering the stored values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shibaws import awsfiles, lifecycle
from shibaws.accounts import format_account_names, parse_account_names
from shibaws.commands import login as login_options
from shibaws.commands.common import add_profile_option
from shibaws.errors import Cancelled, UsageError
from shibaws.settings import (
    ACCOUNT_NAMES_KEY,
    config_section_values,
    format_value,
    stored_settings,
    write_settings,
)

# Option dest -> the key it sets.
KEYS = {
    "idp_url": "shibaws_idp_url",
    "username": "shibaws_username",
    "role_arn": "shibaws_role_arn",
    "principal_arn": "shibaws_principal_arn",
    "duration": "shibaws_duration",
    "duo_method": "shibaws_duo_method",
    "password_file": "shibaws_password_file",
    "account_names_from_signin": "shibaws_account_names_from_signin",
    "region": "region",
}


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``configure`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "configure",
        parents=[common],
        help="store a profile's login settings in ~/.aws/config",
        description=(
            "Write shibaws_* settings into the profile's ~/.aws/config section, so that "
            "shibaws login --profile NAME needs no other option. Without options, ask in a "
            "terminal. --credential-process makes the profile run shibaws credential-process "
            "instead of holding static keys."
        ),
    )
    add_profile_option(parser)
    parser.add_argument("--idp-url", type=login_options._url, help="IdP-initiated sign-on URL")
    parser.add_argument("--username", help="campus username")
    parser.add_argument(
        "--role", dest="role_arn", type=login_options._role_arn, help="role ARN to assume"
    )
    parser.add_argument(
        "--principal-arn",
        type=login_options._principal_arn,
        help="IAM SAML provider ARN (only for encrypted assertions)",
    )
    parser.add_argument("--duration", type=login_options._duration, help="session seconds")
    parser.add_argument("--duo-method", choices=login_options.DUO_METHODS, help="Duo factor")
    parser.add_argument("--region", type=login_options._region, help="the profile's region")
    parser.add_argument("--password-file", type=Path, help="file holding the password")
    parser.add_argument(
        "--account-name",
        dest="account_names",
        metavar="ID=NAME",
        action="append",
        default=[],
        help="name an account for the picker and {account_name}; repeat for several",
    )
    parser.add_argument(
        "--account-names-from-signin",
        action=argparse.BooleanOptionalAction,
        help="read account names from the AWS sign-in page at each login",
    )
    parser.add_argument(
        "--credential-process",
        action=argparse.BooleanOptionalAction,
        help="make the profile run shibaws credential-process (--no-credential-process: go "
        "back to static keys in ~/.aws/credentials); never both at once",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    values = values_from_options(args)
    switch = args.credential_process
    if not values and switch is None:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise UsageError(
                "nothing to configure: pass options such as --idp-url and --username, or run "
                "shibaws configure in a terminal to be asked"
            )
        values, switch = ask(args.profile)

    if values:
        write_settings(args.profile, values)
    if switch is True:
        lifecycle.use_credential_process(args.profile)
    elif switch is False:
        lifecycle.use_static_keys(args.profile)
    _report(args.profile, values, switch)
    return 0


def values_from_options(args: argparse.Namespace) -> dict[str, str | None]:
    """Return the keys to write for the options given."""
    values: dict[str, str | None] = {}
    for dest, key in KEYS.items():
        value = getattr(args, dest)
        if value is not None:
            values[key] = format_value(value)
    if args.account_names:
        names = _current_account_names(args.profile)
        for pair in args.account_names:
            try:
                names.update(parse_account_names(pair))
            except ValueError as error:
                raise UsageError(f"invalid --account-name {pair!r}: {error}") from None
        values[ACCOUNT_NAMES_KEY] = format_account_names(names)
    return values


def _current_account_names(profile: str) -> dict[str, str]:
    section = awsfiles.config_section(profile)
    text = config_section_values(awsfiles.config_path(), section).get(ACCOUNT_NAMES_KEY, "")
    try:
        return parse_account_names(text)
    except ValueError:
        return {}


def ask(profile: str) -> tuple[dict[str, str | None], bool | None]:
    """Ask for the main settings with questionary, offering the stored values."""
    import questionary

    stored = {key: value for key, (value, _) in stored_settings(profile).items()}
    questions = {
        "shibaws_idp_url": ("IdP sign-on URL for AWS:", login_options._url),
        "shibaws_username": ("Campus username:", None),
        "shibaws_role_arn": ("Role ARN (empty: choose at each login):", login_options._role_arn),
    }
    values: dict[str, str | None] = {}
    for key, (message, check) in questions.items():
        answer = questionary.text(
            message, default=stored.get(key, ""), validate=_validator(check)
        ).ask()
        if answer is None:
            raise Cancelled("configure cancelled")
        values[key] = answer.strip() or None
    method = questionary.select(
        "Duo method:",
        choices=list(login_options.DUO_METHODS),
        default=stored.get("shibaws_duo_method", "push"),
    ).ask()
    use_process = questionary.confirm(
        "Let AWS tools fetch credentials through credential_process?",
        default=lifecycle.process_command(profile) is not None,
    ).ask()
    if method is None or use_process is None:
        raise Cancelled("configure cancelled")
    values["shibaws_duo_method"] = method
    return values, bool(use_process)


def _validator(check: Any) -> Any:
    def validate(text: str) -> bool | str:
        if check is None or not text.strip():
            return True
        try:
            check(text.strip())
        except argparse.ArgumentTypeError as error:
            return str(error)
        return True

    return validate


def _report(profile: str, values: dict[str, str | None], switch: bool | None) -> None:
    written = ", ".join(sorted(key for key, value in values.items() if value is not None))
    if written:
        print(f"Stored {written} in profile [{profile}].", file=sys.stderr)
    if switch is True:
        print(
            f"Profile [{profile}] now runs: {lifecycle.credential_process_line(profile)}",
            file=sys.stderr,
        )
    elif switch is False:
        print(f"Profile [{profile}] now gets static keys at each login.", file=sys.stderr)

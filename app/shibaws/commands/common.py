"""Options and helpers shared by the commands that use a profile's credentials."""

from __future__ import annotations

import argparse
import os

from shibaws import awsfiles
from shibaws.lifecycle import DEFAULT_MARGIN
from shibaws.settings import config_section_values


def add_profile_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """Add ``--profile``, defaulting to AWS_PROFILE and then ``saml`` unless REQUIRED."""
    default = None if required else (os.environ.get("AWS_PROFILE") or "saml")
    parser.add_argument(
        "--profile",
        required=required,
        default=default,
        type=_profile,
        help="the shibaws profile" + ("" if required else " (default: AWS_PROFILE, else saml)"),
    )


def add_login_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--margin`` and ``--no-login`` for commands that may log in first."""
    parser.add_argument(
        "--margin",
        type=_margin,
        default=DEFAULT_MARGIN,
        help="log in first when the credentials expire within this many seconds "
        f"(default: {DEFAULT_MARGIN})",
    )
    parser.add_argument(
        "--no-login",
        action="store_true",
        help="fail instead of logging in when the credentials are missing or expiring",
    )


def profile_region(profile: str) -> str | None:
    """Return the ``region`` of PROFILE in ~/.aws/config, if set."""
    values = config_section_values(awsfiles.config_path(), awsfiles.config_section(profile))
    return values.get("region") or None


def _profile(value: str) -> str:
    try:
        return awsfiles.check_profile_name(value)
    except Exception as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _margin(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid --margin value {value!r}: expected a whole number of seconds"
        ) from None
    if not 0 <= seconds <= 43200:
        raise argparse.ArgumentTypeError(f"invalid margin {seconds}: use 0 to 43200 seconds")
    return seconds

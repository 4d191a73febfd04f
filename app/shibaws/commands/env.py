"""``shibaws env``: print ``export`` lines that put a profile's credentials in a shell."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from shibaws.commands.common import add_login_options, add_profile_option, profile_region
from shibaws.commands.exec_command import credential_environment


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``env`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "env",
        parents=[common],
        help="print export lines with a profile's credentials for a shell",
        description=(
            "Print shell-quoted export lines for AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
            "AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION and the profile's region, and unset "
            'AWS_PROFILE, for use as eval "$(shibaws env --profile NAME)". Logs in first '
            "when needed."
        ),
    )
    add_profile_option(parser)
    add_login_options(parser)
    parser.set_defaults(handler=run)


def export_lines(variables: dict[str, str]) -> list[str]:
    """Return POSIX shell lines that export VARIABLES, each value quoted."""
    return [f"export {name}={shlex.quote(value)}" for name, value in sorted(variables.items())]


def run(args: argparse.Namespace) -> int:
    from shibaws.login_flow import fresh_credentials

    stored = fresh_credentials(args.profile, args.margin, allow_login=not args.no_login)
    variables = credential_environment(stored, profile_region(args.profile), {})
    lines = ["unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SECURITY_TOKEN", *export_lines(variables)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

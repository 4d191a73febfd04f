"""``shibaws exec``: run a command with a profile's credentials in its environment."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

from shibaws.commands.common import add_login_options, add_profile_option, profile_region
from shibaws.errors import CommandNotFound, UsageError
from shibaws.lifecycle import StoredCredentials, format_time

logger = logging.getLogger(__name__)

# Variables that would make the child pick other credentials than ours.
_CONFLICTING = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``exec`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "exec",
        parents=[common],
        help="run a command with a profile's credentials in its environment",
        description=(
            "Run COMMAND with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and "
            "the profile's region set, logging in first when needed. The exit status is the "
            "command's own (128 + N when signal N ends it)."
        ),
        usage="%(prog)s [-h] [-v] [--profile PROFILE] [--margin SECONDS] [--no-login] "
        "-- COMMAND [ARG ...]",
    )
    add_profile_option(parser)
    add_login_options(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    parser.set_defaults(handler=run)


def credential_environment(
    stored: StoredCredentials, region: str | None, base: Mapping[str, str]
) -> dict[str, str]:
    """Return BASE with the credential variables set and conflicting ones removed."""
    env = {name: value for name, value in base.items() if name not in _CONFLICTING}
    env["AWS_ACCESS_KEY_ID"] = stored.access_key_id
    env["AWS_SECRET_ACCESS_KEY"] = stored.secret_access_key
    env["AWS_SESSION_TOKEN"] = stored.session_token
    if stored.expiration is not None:
        env["AWS_CREDENTIAL_EXPIRATION"] = format_time(stored.expiration)
    if region:
        env["AWS_REGION"] = region
        env["AWS_DEFAULT_REGION"] = region
    return env


def run(args: argparse.Namespace) -> int:
    from shibaws.login_flow import fresh_credentials

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("missing command: use shibaws exec --profile NAME -- COMMAND [ARG ...]")

    stored = fresh_credentials(args.profile, args.margin, allow_login=not args.no_login)
    env = credential_environment(stored, profile_region(args.profile), os.environ)
    logger.info("running %s with the credentials of profile %s", command[0], args.profile)
    try:
        completed = subprocess.run(command, env=env, check=False)
    except FileNotFoundError:
        raise CommandNotFound(f"command not found: {command[0]}; check its name and PATH") from None
    except PermissionError:
        raise CommandNotFound(f"cannot run {command[0]}: permission denied") from None
    return _exit_status(completed.returncode)


def _exit_status(returncode: int) -> int:
    """Map a child's status to ours: a signal N becomes 128 + N, as in shells."""
    if returncode < 0:
        number = -returncode
        logger.info("the command ended on signal %s", signal.Signals(number).name)
        return 128 + number
    return returncode

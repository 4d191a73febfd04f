"""The argument parser. Each sub-command module adds its own parser and handler."""

from __future__ import annotations

import argparse

from shibaws import __version__
from shibaws.commands import (
    backup,
    configure,
    console_command,
    credential_process,
    env,
    exec_command,
    login,
    logout,
    schedule,
    status,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for ``shibaws`` and all of its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="shibaws",
        description=(
            "Get temporary AWS credentials through Shibboleth and Duo, "
            "and back up file shares to S3."
        ),
    )
    parser.add_argument("--version", action="version", version=f"shibaws {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show more detail on stderr: -v for progress, -vv for debug",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    login.add_parser(subparsers, common)
    configure.add_parser(subparsers, common)
    status.add_parser(subparsers, common)
    logout.add_parser(subparsers, common)
    credential_process.add_parser(subparsers, common)
    exec_command.add_parser(subparsers, common)
    env.add_parser(subparsers, common)
    console_command.add_parser(subparsers, common)
    backup.add_parser(subparsers, common)
    schedule.add_parser(subparsers, common)
    return parser

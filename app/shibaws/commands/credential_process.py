"""``shibaws credential-process``: print a profile's credentials for the AWS SDKs and CLI.

Standard output carries the JSON document and nothing else, because the SDKs
parse all of it. A login, when one is needed, talks on the terminal instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from shibaws.commands.common import add_login_options, add_profile_option


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``credential-process`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "credential-process",
        parents=[common],
        help="print a profile's credentials as credential_process JSON",
        description=(
            "Print the profile's credentials as the JSON document that an AWS profile's "
            "credential_process line expects. When they are missing or expire within the "
            "margin and a terminal is available, log in first; without a terminal, fail with "
            "a message on stderr. Set it up with shibaws configure --credential-process."
        ),
    )
    add_profile_option(parser, required=True)
    add_login_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from shibaws.login_flow import fresh_credentials

    stored = fresh_credentials(args.profile, args.margin, allow_login=not args.no_login)
    sys.stdout.write(json.dumps(stored.process_output()))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0

"""``shibaws logout``: remove a profile's shibaws credentials and settings, and nothing else."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shibaws import awsfiles, lifecycle
from shibaws.commands.common import add_profile_option
from shibaws.settings import PREFIX, config_section_values, write_settings


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``logout`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "logout",
        parents=[common],
        help="remove a profile's shibaws credentials and settings",
        description=(
            "Remove the keys shibaws wrote for the profile from ~/.aws/credentials, its "
            "shibaws_* settings and shibaws credential_process line from ~/.aws/config, and its "
            "cached credentials. Other keys, profiles and comments stay. Credentials already "
            "handed out stay valid at AWS until they expire."
        ),
    )
    add_profile_option(parser, required=True)
    parser.set_defaults(handler=run)


def logout(profile: str) -> list[str]:
    """Remove PROFILE's shibaws keys and settings; return what was removed."""
    removed = []
    if lifecycle.remove_static_keys(profile):
        removed.append(f"credentials in {awsfiles.credentials_path()}")
    if lifecycle.remove_cache(profile):
        removed.append("cached credentials")

    section = awsfiles.config_section(profile)
    config = config_section_values(awsfiles.config_path(), section)
    ours: dict[str, str | None] = {key: None for key in config if key.startswith(PREFIX)}
    command = config.get(lifecycle.PROCESS_KEY)
    if command is not None and lifecycle.is_shibaws_process(command):
        ours[lifecycle.PROCESS_KEY] = None
    if ours:
        write_settings(profile, ours)
        removed.append(f"{', '.join(sorted(ours))} in {awsfiles.config_path()}")
    return removed


def run(args: argparse.Namespace) -> int:
    removed = logout(args.profile)
    if removed:
        print(f"Removed from profile [{args.profile}]: {'; '.join(removed)}", file=sys.stderr)
    else:
        print(f"Profile [{args.profile}] has no shibaws credentials or settings.", file=sys.stderr)
    return 0

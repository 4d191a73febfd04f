"""``shibaws status``: list shibaws profiles with their role, account and time left."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shibaws import awsfiles, lifecycle
from shibaws.accounts import account_label
from shibaws.errors import UsageError
from shibaws.settings import config_section_values


@dataclass(frozen=True)
class ProfileStatus:
    profile: str
    role_arn: str | None
    account_id: str | None
    account_name: str | None
    expiration: datetime | None
    seconds_left: float | None
    storage: str  # "credentials file", "credential_process" or "none"


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``status`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "status",
        parents=[common],
        help="list shibaws profiles with role, account and time left",
        description="List the profiles that shibaws manages, with their role, account, "
        "expiry time and time left. Results go to stdout.",
    )
    parser.add_argument("--profile", help="show only this profile")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.set_defaults(handler=run)


def profile_status(profile: str, now: datetime | None = None) -> ProfileStatus:
    """Return what is known about PROFILE's shibaws credentials."""
    section = awsfiles.config_section(profile)
    config = config_section_values(awsfiles.config_path(), section)
    role_arn = config.get("shibaws_role_arn")
    account_id = role_arn.split(":")[4] if role_arn and role_arn.count(":") >= 5 else None
    stored = lifecycle.load_credentials(profile)
    command = config.get(lifecycle.PROCESS_KEY)
    if command is not None and lifecycle.is_shibaws_process(command):
        storage = "credential_process"
    else:
        storage = "credentials file" if stored is not None else "none"
    return ProfileStatus(
        profile=profile,
        role_arn=role_arn,
        account_id=account_id,
        account_name=config.get("shibaws_account_name"),
        expiration=stored.expiration if stored else None,
        seconds_left=stored.seconds_left(now) if stored else None,
        storage=storage,
    )


def format_left(seconds: float | None) -> str:
    """Return SECONDS as "5h 02m", "expired" or "unknown"."""
    if seconds is None:
        return "unknown"
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"


def run(args: argparse.Namespace) -> int:
    profiles = lifecycle.profiles_with_credentials()
    if args.profile is not None:
        if args.profile not in profiles:
            raise UsageError(
                f"profile {args.profile!r} has no shibaws credentials; run "
                f"shibaws login --profile {args.profile}"
            )
        profiles = [args.profile]
    now = datetime.now(UTC)
    statuses = [profile_status(name, now) for name in profiles]
    if args.json:
        print(json.dumps([_as_json(status) for status in statuses], indent=2))
    elif not statuses:
        print("No shibaws profiles yet; run shibaws login.", file=sys.stderr)
    else:
        print(_table(statuses))
    return 0


def _as_json(status: ProfileStatus) -> dict[str, object]:
    return {
        "profile": status.profile,
        "role_arn": status.role_arn,
        "account_id": status.account_id,
        "account_name": status.account_name,
        "expiration": lifecycle.format_time(status.expiration) if status.expiration else None,
        "seconds_left": int(status.seconds_left) if status.seconds_left is not None else None,
        "storage": status.storage,
    }


def _table(statuses: list[ProfileStatus]) -> str:
    header = ("PROFILE", "ACCOUNT", "ROLE", "EXPIRES", "LEFT", "STORED IN")
    rows = [header]
    for status in statuses:
        account = "-"
        if status.account_id:
            names = {status.account_id: status.account_name} if status.account_name else {}
            account = account_label(status.account_id, names)
        role = status.role_arn.split(":role/", 1)[-1] if status.role_arn else "-"
        expires = (
            f"{status.expiration.astimezone():%Y-%m-%d %H:%M %Z}" if status.expiration else "-"
        )
        rows.append(
            (
                status.profile,
                account,
                role,
                expires,
                format_left(status.seconds_left),
                status.storage,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )

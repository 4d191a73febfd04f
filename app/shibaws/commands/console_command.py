"""``shibaws console``: print or open an AWS console sign-in URL for a profile."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from shibaws import awsfiles
from shibaws.commands.common import add_login_options, add_profile_option, profile_region
from shibaws.errors import UsageError
from shibaws.partitions import PARTITIONS, Partition, partition_for_region
from shibaws.settings import config_section_values

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``console`` to SUBPARSERS."""
    parser = subparsers.add_parser(
        "console",
        parents=[common],
        help="print (or open) an AWS console sign-in URL for a profile",
        description=(
            "Exchange the profile's credentials for a sign-in token at the federation endpoint "
            "of the profile's partition (aws, aws-us-gov or aws-cn) and print the console URL. "
            "The URL signs anyone who has it in; it stops working after 15 minutes."
        ),
    )
    add_profile_option(parser)
    add_login_options(parser)
    parser.add_argument(
        "--open", action="store_true", help="open the URL in the default web browser"
    )
    parser.add_argument("--region", help="console region to open (default: the profile's region)")
    parser.set_defaults(handler=run)


def profile_partition(profile: str, region: str | None) -> Partition:
    """Return the partition of PROFILE's role, else of REGION, else the aws partition."""
    section = awsfiles.config_section(profile)
    role_arn = config_section_values(awsfiles.config_path(), section).get("shibaws_role_arn")
    if role_arn and role_arn.count(":") >= 5 and role_arn.split(":")[1] in PARTITIONS:
        return PARTITIONS[role_arn.split(":")[1]]
    if region:
        return partition_for_region(region)
    return PARTITIONS["aws"]


def run(args: argparse.Namespace) -> int:
    import webbrowser

    from shibaws.console import console_url
    from shibaws.login_flow import fresh_credentials
    from shibaws.partitions import is_region_name

    if args.region is not None and not is_region_name(args.region):
        raise UsageError(f"invalid region {args.region!r}: expected a name like us-east-1")
    region = args.region or profile_region(args.profile)
    partition = profile_partition(args.profile, region)
    if region and partition_for_region(region).name != partition.name:
        raise UsageError(
            f"region {region} is not in partition {partition.name} of profile {args.profile}; "
            f"use a region such as {partition.default_sts_region}"
        )

    stored = fresh_credentials(args.profile, args.margin, allow_login=not args.no_login)
    url = console_url(stored, partition, region)
    if args.open:
        opened = webbrowser.open(url)
        if opened:
            print(
                f"Opened the {partition.name} console for profile {args.profile}.", file=sys.stderr
            )
            return 0
        logger.warning("no web browser could be started; open the URL below yourself")
    print(url)
    return 0

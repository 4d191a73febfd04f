"""``shibaws backup``: copy folders from a share, mount or local disk to S3.

Building the parser imports nothing heavy: every ``shibaws`` command builds
it, so the backup code and boto3 load only in ``run``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shibaws.backup.constants import DEFAULT_JOBS, Checksum


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``backup`` and its options to SUBPARSERS."""
    parser = subparsers.add_parser(
        "backup",
        parents=[common],
        help="copy a folder or SMB share to S3 (new and changed files)",
        description=(
            "Copy new and changed files from SOURCE (a local or mounted folder, or "
            "smb://[DOMAIN;]USER@SERVER[:PORT]/SHARE/PATH) to DESTINATION (s3://BUCKET/PREFIX), "
            "or run every folder listed in a settings file with --config. Exit status: 0 all "
            "done, 20 some files failed, 21 nothing done, 22 source missing, 23 credentials "
            "expired."
        ),
    )
    parser.set_defaults(handler=run)
    parser.add_argument("source", nargs="?", metavar="SOURCE", help="folder or smb:// URL")
    parser.add_argument("destination", nargs="?", metavar="DESTINATION", help="s3://BUCKET/PREFIX")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="run the folders listed in this backup.toml"
    )
    _add_sync_options(parser)
    _add_s3_options(parser)
    _add_source_options(parser)


def _add_sync_options(parser: argparse.ArgumentParser) -> None:
    sync = parser.add_argument_group("what is copied")
    sync.add_argument(
        "--exclude",
        action=_FilterAction,
        dest="filter_rules",
        metavar="GLOB",
        help="leave out paths matching GLOB (relative to SOURCE; * also matches /); "
        "--exclude and --include apply in the order given and the last match wins",
    )
    sync.add_argument(
        "--include",
        action=_FilterAction,
        dest="filter_rules",
        metavar="GLOB",
        help="take back paths matching GLOB that an earlier --exclude left out",
    )
    sync.add_argument(
        "--delete", action="store_true", help="delete objects whose source file is gone"
    )
    sync.add_argument(
        "--max-delete-percent",
        type=float,
        default=50.0,
        metavar="PCT",
        help="refuse to delete more than PCT percent of the destination's objects (default 50)",
    )
    sync.add_argument(
        "--force-delete",
        action="store_true",
        help="delete even above --max-delete-percent (the other guards still apply)",
    )
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be copied and deleted; change nothing",
    )
    sync.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report to FILE")


def _add_s3_options(parser: argparse.ArgumentParser) -> None:
    s3 = parser.add_argument_group("S3")
    s3.add_argument("--profile", help="AWS profile to use (default: boto3's credential chain)")
    s3.add_argument("--region", help="AWS region of the bucket")
    s3.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="S3 endpoint, e.g. an interface VPC endpoint or an S3-compatible server "
        "[env AWS_ENDPOINT_URL_S3]",
    )
    s3.add_argument(
        "--path-style",
        action="store_true",
        default=None,
        help="address buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT",
    )
    s3.add_argument(
        "--checksum",
        choices=[member.value for member in Checksum],
        type=str.upper,
        help="checksum the server verifies on every upload (default CRC32); MD5 sends only "
        "Content-MD5, for older S3-compatible servers that reject the new checksum headers",
    )
    s3.add_argument(
        "--storage-class", metavar="CLASS", help="S3 storage class, e.g. STANDARD_IA, GLACIER_IR"
    )
    s3.add_argument("--sse", choices=["AES256", "aws:kms"], help="server-side encryption")
    s3.add_argument("--sse-kms-key-id", metavar="KEY", help="KMS key id or ARN for --sse aws:kms")
    s3.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help=f"files uploaded at once, and parts of large files at once (default {DEFAULT_JOBS})",
    )
    s3.add_argument(
        "--part-size",
        type=int,
        default=8,
        metavar="MIB",
        help="multipart part size in MiB; files this size or larger go multipart (default 8)",
    )


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("source")
    source.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="follow symbolic links (loops are detected and reported); default: skip them",
    )
    source.add_argument(
        "--allow-empty-source",
        action="store_true",
        help="accept an empty source folder (by default it is an error: an unmounted share "
        "looks empty)",
    )
    source.add_argument(
        "--require-mount",
        action="store_true",
        help="fail unless the source folder is on a mounted file system, not the root one",
    )
    source.add_argument(
        "--smb-password-file",
        metavar="FILE",
        help="file holding the SMB password [env SHIBAWS_SMB_PASSWORD_FILE]",
    )
    source.add_argument(
        "--mount",
        choices=["cifs"],
        help="mount smb:// sources with the kernel's mount.cifs instead of reading them "
        "in user space (needs root or CAP_SYS_ADMIN)",
    )


class _FilterAction(argparse.Action):
    """Collect --exclude and --include into one ordered list of (include?, pattern)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        rules = list(getattr(namespace, self.dest, None) or [])
        rules.append((option_string == "--include", str(values)))
        setattr(namespace, self.dest, rules)


def run(args: argparse.Namespace) -> int:
    """Handle ``shibaws backup``."""
    from shibaws.backup.jobs import request_from_args, run_backup

    return run_backup(request_from_args(args))

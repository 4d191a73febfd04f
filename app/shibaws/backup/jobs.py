"""Run ``shibaws backup`` jobs: settings from argv or backup.toml, sources, S3 and reports.

``commands/backup.py`` imports this module only when a backup runs, so that
building the argument parser never loads boto3.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shibaws.backup.config import BackupConfig, FolderSettings, ShareSettings, load_config
from shibaws.backup.constants import DEFAULT_JOBS, MIB, Checksum
from shibaws.backup.delete import DeleteGuards
from shibaws.backup.errors import BackupConfigInvalid, BackupError, CredentialsExpired
from shibaws.backup.local import LocalSource
from shibaws.backup.plan import Filters
from shibaws.backup.report import JobStats, make_progress, summary_line, write_report
from shibaws.backup.run import JobOptions, run_job
from shibaws.backup.s3 import (
    S3Settings,
    credential_expiry,
    make_client,
    make_session,
    parse_destination,
)
from shibaws.backup.source import Source
from shibaws.backup.upload import UploadOptions
from shibaws.errors import ShibawsError
from shibaws.exitcodes import ExitCode

logger = logging.getLogger(__name__)

# Worse outcomes first; the run exits with the worst code among its jobs.
SEVERITY = [
    ExitCode.BACKUP_CREDENTIALS_EXPIRED,
    ExitCode.BACKUP_SOURCE_ERROR,
    ExitCode.USAGE,
    ExitCode.BACKUP_NOTHING_DONE,
    ExitCode.BACKUP_PARTIAL,
    ExitCode.OK,
]


@dataclass(frozen=True)
class BackupRequest:
    """Everything one ``shibaws backup`` run needs, whether from argv or backup.toml."""

    config: BackupConfig
    jobs: int = DEFAULT_JOBS
    dry_run: bool = False
    report: Path | None = None
    smb_password_file: str | None = None
    mount: str | None = None  # "cifs" to mount SMB shares with the kernel client
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


def request_from_args(args: argparse.Namespace) -> BackupRequest:
    """Turn parsed arguments into a ``BackupRequest``; a --config file gives the folders."""
    if args.config is not None:
        if args.source or args.destination:
            raise BackupConfigInvalid("give either SOURCE and DESTINATION or --config, not both")
        config = load_config(args.config)
    else:
        if not args.source or not args.destination:
            raise BackupConfigInvalid(
                "missing SOURCE and DESTINATION; run `shibaws backup FOLDER s3://BUCKET/PREFIX` "
                "or `shibaws backup --config backup.toml`"
            )
        config = BackupConfig(s3=S3Settings(), jobs=None, folders=[_folder_from_args(args)])

    s3 = config.s3
    overrides = {
        "profile": args.profile,
        "region": args.region,
        "endpoint_url": args.endpoint_url,
        "path_style": args.path_style,
        "checksum": Checksum(args.checksum) if args.checksum else None,
    }
    s3 = replace(s3, **{name: value for name, value in overrides.items() if value is not None})
    jobs = args.jobs if args.jobs is not None else (config.jobs or DEFAULT_JOBS)
    if jobs < 1:
        raise BackupConfigInvalid(f"--jobs {jobs}: must be 1 or more")
    s3 = replace(s3, pool_size=2 * jobs + 4)
    return BackupRequest(
        config=replace(config, s3=s3),
        jobs=jobs,
        dry_run=args.dry_run,
        report=args.report,
        smb_password_file=args.smb_password_file,
        mount=args.mount,
    )


def _folder_from_args(args: argparse.Namespace) -> FolderSettings:
    parse_destination(args.destination)
    if not 0 <= args.max_delete_percent <= 100:
        raise BackupConfigInvalid(f"--max-delete-percent {args.max_delete_percent}: use 0 to 100")
    if not 5 <= args.part_size <= 5120:
        raise BackupConfigInvalid(f"--part-size {args.part_size}: use 5 to 5120 (MiB)")
    if args.sse_kms_key_id and args.sse != "aws:kms":
        raise BackupConfigInvalid("--sse-kms-key-id needs --sse aws:kms")
    return FolderSettings(
        path=args.source,
        destination=args.destination,
        filters=Filters(tuple(args.filter_rules or ())),
        delete=args.delete,
        guards=DeleteGuards(max_percent=args.max_delete_percent, force=args.force_delete),
        upload=UploadOptions(
            storage_class=args.storage_class,
            sse=args.sse,
            sse_kms_key_id=args.sse_kms_key_id,
            part_size=args.part_size * MIB,
            multipart_threshold=args.part_size * MIB,
        ),
        follow_symlinks=args.follow_symlinks,
        allow_empty_source=args.allow_empty_source,
        require_mount=args.require_mount,
    )


def run_backup(request: BackupRequest) -> ExitCode:
    """Run every folder of REQUEST, print one summary line each, and return the exit code.

    Jobs continue after another job's error, except after expired
    credentials. The most severe error is raised at the end (after the
    report is written), so ``__main__`` prints it once.
    """
    s3 = request.config.s3
    session = make_session(s3)
    client = make_client(session, s3)
    expiry = credential_expiry(session)
    passwords = _PasswordCache(request)

    all_stats: list[JobStats] = []
    codes: list[ExitCode] = []
    errors: list[ShibawsError] = []
    for folder in request.config.folders:
        stats = JobStats(folder.path, folder.destination, dry_run=request.dry_run)
        all_stats.append(stats)
        try:
            _run_folder(folder, request, passwords, client, stats, expiry)
        except ShibawsError as error:
            stats.stopped = str(error)
            codes.append(error.exit_code)
            errors.append(error)
            if len(request.config.folders) > 1:
                logger.error("%s: %s", folder.path, error)
            if isinstance(error, CredentialsExpired):
                break
            continue

        print(summary_line(stats), flush=True)
        if stats.stopped:
            expired = CredentialsExpired(stats.stopped)
            codes.append(expired.exit_code)
            errors.append(expired)
            break
        codes.append(stats.exit_code())

    final = min(codes, key=_rank) if codes else ExitCode.OK
    if request.report is not None:
        write_report(request.report, all_stats, int(final))
    for failure in errors:
        if failure.exit_code == final:
            raise failure
    return final


def _rank(code: ExitCode) -> int:
    """Return CODE's place in SEVERITY; codes not listed there rank with USAGE."""
    return SEVERITY.index(code) if code in SEVERITY else SEVERITY.index(ExitCode.USAGE)


def _run_folder(
    folder: FolderSettings,
    request: BackupRequest,
    passwords: _PasswordCache,
    client: Any,
    stats: JobStats,
    expiry: Any,
) -> None:
    destination = parse_destination(folder.destination)
    options = JobOptions(
        filters=folder.filters,
        delete=folder.delete,
        guards=folder.guards,
        upload=replace(folder.upload, checksum=request.config.s3.checksum),
        jobs=request.jobs,
        dry_run=request.dry_run,
    )
    with open_source(folder, request, passwords) as source:
        stats.source = source.description
        progress = make_progress(stats)
        try:
            run_job(source, destination, client, options, stats, progress, expiry)
        finally:
            progress.close()


class _PasswordCache:
    """Asks for the SMB password at most once per run, and only when an SMB source needs it."""

    def __init__(self, request: BackupRequest) -> None:
        self.request = request
        self.value: str | None = None

    def get(self, account: str) -> str:
        if self.value is None:
            from shibaws.backup.password import resolve_smb_password

            share = self.request.config.share
            self.value = resolve_smb_password(
                option_file=self.request.smb_password_file,
                config_file=share.password_file if share else None,
                account=account,
                environ=self.request.environ,
            ).value
        return self.value


def smb_url(folder: FolderSettings, share: ShareSettings | None) -> str | None:
    """Return the smb:// URL of FOLDER, or None when it is a local path."""
    if share is None:
        return folder.path if folder.path.lower().startswith("smb://") else None
    from shibaws.backup.smburl import SmbLocation

    location = SmbLocation(
        server=share.server,
        port=share.port,
        share=share.share,
        path=folder.path.strip("/"),
        username=share.user,
        domain=share.domain,
    )
    return location.describe()


@contextmanager
def open_source(
    folder: FolderSettings, request: BackupRequest, passwords: _PasswordCache
) -> Iterator[Source]:
    """Open FOLDER's source (local folder, SMB in user space, or a CIFS mount) and close it."""
    url = smb_url(folder, request.config.share)
    if url is None:
        local = LocalSource(
            folder.path,
            follow_symlinks=folder.follow_symlinks,
            allow_empty=folder.allow_empty_source,
            require_mount=folder.require_mount,
        )
        yield local
        return

    from shibaws.backup.smburl import parse_smb_url

    location = parse_smb_url(url)
    password = passwords.get(f"{location.login_name}@{location.server}")
    if request.mount == "cifs":
        with _cifs_source(url, password, folder) as mounted:
            yield mounted
        return

    try:
        from shibaws.backup.smb import open_smb_source
    except ImportError as error:
        raise BackupError(f"SMB sources are not available: {error}") from error
    source: Source = open_smb_source(url, password)
    try:
        yield source
    finally:
        source.close()


@contextmanager
def _cifs_source(url: str, password: str, folder: FolderSettings) -> Iterator[Source]:
    """Mount URL with mount.cifs for the duration of the job and read it as a local folder."""
    # The CIFS module is optional: imported by name so this file works without it.
    try:
        mount_cifs = importlib.import_module("shibaws.backup.cifs").mount_cifs
    except (ImportError, AttributeError) as error:
        raise BackupError(f"--mount cifs is not available: {error}") from error
    with mount_cifs(url, password) as mount_point:
        yield LocalSource(
            mount_point,
            follow_symlinks=folder.follow_symlinks,
            allow_empty=folder.allow_empty_source,
            require_mount=True,
        )

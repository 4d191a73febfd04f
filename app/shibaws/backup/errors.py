"""Exceptions that end a backup run, each with its exit code."""

from __future__ import annotations

from shibaws.errors import ShibawsError, UsageError
from shibaws.exitcodes import ExitCode


class BackupError(ShibawsError):
    """A backup job could not run at all, so nothing was copied."""

    exit_code = ExitCode.BACKUP_NOTHING_DONE


class SourceUnavailable(BackupError):
    """The source folder, mount or share is missing or cannot be listed."""

    exit_code = ExitCode.BACKUP_SOURCE_ERROR


class DestinationUnavailable(BackupError):
    """The bucket cannot be listed (missing bucket, denied access, bad endpoint)."""


class CredentialsExpired(BackupError):
    """The AWS credentials expired before or during the run."""

    exit_code = ExitCode.BACKUP_CREDENTIALS_EXPIRED


class BackupConfigInvalid(UsageError):
    """The settings file or the command line names an invalid value."""

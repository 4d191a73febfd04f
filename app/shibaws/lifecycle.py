"""Storage, expiry and removal of the credentials of shibaws profiles.

A profile keeps its credentials in one of two places, never both, because
static keys in ~/.aws/credentials win over a ``credential_process`` line
and would hide it:

- static keys in ~/.aws/credentials, with ``shibaws_expiration`` beside them;
- for a profile whose ~/.aws/config section runs ``shibaws credential-process``,
  a JSON file in ``~/.aws/shibaws/cache/`` (folder 0700, file 0600) that
  ``credential-process`` prints from.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import logging
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from shibaws import awsfiles
from shibaws.errors import FileWriteFailed, UsageError
from shibaws.settings import config_section_values
from shibaws.sts import Credentials

logger = logging.getLogger(__name__)

# Seconds of validity below which credentials count as due for renewal. botocore
# refreshes credential_process output when less than 15 minutes remain.
# NOTE: sessions of 900 s (the STS minimum) are always due under this margin, so
# every login and credential-process call with --duration 900 logs in again.
DEFAULT_MARGIN = 900
STATIC_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "shibaws_expiration",
)
EXPIRATION_KEY = "shibaws_expiration"
PROCESS_KEY = "credential_process"
_PROCESS_COMMAND = "credential-process"


@dataclass(frozen=True)
class StoredCredentials:
    """A profile's credentials as stored. ``expiration`` is None when shibaws did not write them."""

    profile: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime | None
    location: str

    def seconds_left(self, now: datetime | None = None) -> float | None:
        if self.expiration is None:
            return None
        return (self.expiration - (now or datetime.now(UTC))).total_seconds()

    def valid_for(self, margin: float, now: datetime | None = None) -> bool:
        """Return whether the credentials stay valid for more than MARGIN seconds."""
        left = self.seconds_left(now)
        return left is not None and left > margin

    def process_output(self) -> dict[str, object]:
        """Return the document that a credential_process prints (Version 1)."""
        document: dict[str, object] = {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
        }
        if self.expiration is not None:
            document["Expiration"] = format_time(self.expiration)
        return document


def format_time(moment: datetime) -> str:
    """Return MOMENT as ISO 8601 UTC with a Z, as AWS tools write expiry times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def credential_process_line(profile: str) -> str:
    """Return the ``credential_process`` value that runs this shibaws for PROFILE."""
    return shlex.join([sys.executable, "-m", "shibaws", _PROCESS_COMMAND, "--profile", profile])


def process_command(profile: str) -> str | None:
    """Return PROFILE's ``credential_process`` value in ~/.aws/config, if any."""
    values = config_section_values(awsfiles.config_path(), awsfiles.config_section(profile))
    return values.get(PROCESS_KEY)


def is_shibaws_process(command: str) -> bool:
    """Return whether a ``credential_process`` value runs ``shibaws credential-process``."""
    words = command.split()
    return _PROCESS_COMMAND in words and any("shibaws" in word for word in words)


def cache_path(profile: str) -> Path:
    """Return the JSON file that contains PROFILE's credentials when it uses credential_process."""
    folder = awsfiles.credentials_path().parent / "shibaws" / "cache"
    return folder / f"{quote(profile, safe='')}.json"


def store_credentials(profile: str, credentials: Credentials) -> str:
    """Keep CREDENTIALS for PROFILE where the profile reads them; return where that is."""
    command = process_command(profile)
    if command is None:
        awsfiles.update_section(awsfiles.credentials_path(), profile, _static_values(credentials))
        return str(awsfiles.credentials_path())
    if not is_shibaws_process(command):
        raise FileWriteFailed(
            f"profile {profile} runs credential_process {command!r}, and static keys would "
            "override it, so shibaws writes none; choose another --profile"
        )
    stored = StoredCredentials(
        profile,
        credentials.access_key_id,
        credentials.secret_access_key,
        credentials.session_token,
        credentials.expiration,
        "cache",
    )
    path = write_cache(stored)
    remove_static_keys(profile)
    return str(path)


def _static_values(credentials: Credentials) -> dict[str, str | None]:
    return {
        "aws_access_key_id": credentials.access_key_id,
        "aws_secret_access_key": credentials.secret_access_key,
        "aws_session_token": credentials.session_token,
        # Older SDKs read this name; a stale value beside a new token breaks them.
        "aws_security_token": None,
        EXPIRATION_KEY: format_time(credentials.expiration),
    }


def write_cache(stored: StoredCredentials) -> Path:
    """Write STORED to its cache file atomically, 0600 in a 0700 folder."""
    path = cache_path(stored.profile)
    try:
        path.parent.mkdir(mode=awsfiles.DIRECTORY_MODE, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(stored.process_output(), handle)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise FileWriteFailed(f"cannot write {path}: {error.strerror}") from None
    return path


def remove_static_keys(profile: str) -> bool:
    """Remove shibaws's keys from PROFILE in ~/.aws/credentials; return whether any were there.

    Keys are removed only when ``shibaws_expiration`` marks them as written by shibaws.
    """
    path = awsfiles.credentials_path()
    values = config_section_values(path, profile)
    if EXPIRATION_KEY not in values:
        return False
    awsfiles.update_section(path, profile, dict.fromkeys(STATIC_KEYS))
    return True


def remove_cache(profile: str) -> bool:
    """Delete PROFILE's cache file; return whether there was one."""
    try:
        cache_path(profile).unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise FileWriteFailed(f"cannot remove {cache_path(profile)}: {error.strerror}") from None
    return True


def load_credentials(profile: str) -> StoredCredentials | None:
    """Return PROFILE's stored credentials, or None when it has none."""
    command = process_command(profile)
    if command is not None and is_shibaws_process(command):
        return _load_cache(profile)
    path = awsfiles.credentials_path()
    values = config_section_values(path, profile)
    keys = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
    if not all(values.get(key) for key in keys):
        return None
    return StoredCredentials(
        profile,
        values["aws_access_key_id"],
        values["aws_secret_access_key"],
        values["aws_session_token"],
        parse_time(values.get(EXPIRATION_KEY, "")),
        str(path),
    )


def _load_cache(profile: str) -> StoredCredentials | None:
    path = cache_path(profile)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return StoredCredentials(
            profile,
            str(document["AccessKeyId"]),
            str(document["SecretAccessKey"]),
            str(document["SessionToken"]),
            parse_time(str(document.get("Expiration", ""))),
            str(path),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("ignoring unreadable %s (%s); log in again", path, type(error).__name__)
        return None


def profiles_with_credentials() -> list[str]:
    """Return the profiles that hold shibaws credentials, in file order, each once."""
    found: list[str] = []
    path = awsfiles.credentials_path()
    for section in _sections(path):
        if EXPIRATION_KEY in config_section_values(path, section):
            found.append(section)
    for section in _sections(awsfiles.config_path()):
        profile = _profile_of(section)
        values = config_section_values(awsfiles.config_path(), section)
        command = values.get(PROCESS_KEY)
        ours = command is not None and is_shibaws_process(command)
        if profile and profile not in found and (ours or "shibaws_role_arn" in values):
            found.append(profile)
    return found


def _sections(path: Path) -> list[str]:
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    return parser.sections()


def _profile_of(section: str) -> str | None:
    if section == "default":
        return "default"
    if section.startswith("profile "):
        return section.removeprefix("profile ").strip()
    return None


def use_credential_process(profile: str) -> None:
    """Make PROFILE run ``shibaws credential-process``, moving its static keys to the cache.

    Raises UsageError when static keys that shibaws did not write, or another
    credential_process, would conflict.
    """
    command = process_command(profile)
    if command is not None and not is_shibaws_process(command):
        raise UsageError(
            f"profile {profile} already runs credential_process {command!r}; remove that "
            "line or choose another --profile"
        )
    values = config_section_values(awsfiles.credentials_path(), profile)
    if "aws_access_key_id" in values and EXPIRATION_KEY not in values:
        raise UsageError(
            f"profile {profile} has static keys in {awsfiles.credentials_path()} that shibaws "
            "did not write, and they would override credential_process; remove them or choose "
            "another --profile"
        )

    current = load_credentials(profile) if command is None else None
    if current is not None:
        write_cache(current)
    awsfiles.update_section(
        awsfiles.config_path(),
        awsfiles.config_section(profile),
        {PROCESS_KEY: credential_process_line(profile)},
    )
    remove_static_keys(profile)


def use_static_keys(profile: str) -> None:
    """Remove shibaws's credential_process line from PROFILE and put its cached keys back."""
    command = process_command(profile)
    if command is None:
        return
    if not is_shibaws_process(command):
        raise UsageError(
            f"profile {profile} runs credential_process {command!r}, which shibaws did not "
            "write; leaving it in place"
        )
    cached = _load_cache(profile)
    awsfiles.update_section(
        awsfiles.config_path(), awsfiles.config_section(profile), {PROCESS_KEY: None}
    )
    if cached is not None and cached.expiration is not None:
        values = {
            "aws_access_key_id": cached.access_key_id,
            "aws_secret_access_key": cached.secret_access_key,
            "aws_session_token": cached.session_token,
            EXPIRATION_KEY: format_time(cached.expiration),
        }
        awsfiles.update_section(awsfiles.credentials_path(), profile, values)
    remove_cache(profile)

"""backup.toml: one optional share, S3 settings, defaults, and a list of folders.

Example::

    [share]                       # optional; folder paths are then inside this share
    server = "fileserver.example.edu"
    share = "Backups"
    user = "backup-svc"
    domain = "CAMPUS"             # optional
    port = 445                    # optional
    password_file = "/run/secrets/smb_password"

    [s3]                          # optional
    profile = "saml"
    endpoint_url = "https://bucket.vpce-0abc-1234.s3.us-east-1.vpce.amazonaws.com"
    path_style = false
    checksum = "CRC32"            # CRC32, SHA256, SHA1 or MD5
    jobs = 16

    [defaults]                    # optional; every folder key may be set here
    exclude = ["*.tmp"]

    [[folder]]
    path = "SQL"                  # inside the share, or a local folder without [share]
    destination = "s3://dr-bucket/sql"
    delete = true

Excludes are applied before includes, so an include can take back part of
an exclude; within each list the order is kept.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shibaws.backup.delete import DeleteGuards
from shibaws.backup.errors import BackupConfigInvalid
from shibaws.backup.plan import Filters
from shibaws.backup.s3 import Checksum, S3Settings, parse_destination
from shibaws.backup.upload import MIB, UploadOptions

SHARE_KEYS = {"server", "share", "user", "domain", "port", "password_file"}
S3_KEYS = {"profile", "region", "endpoint_url", "path_style", "checksum", "jobs"}
FOLDER_KEYS = {
    "path",
    "destination",
    "exclude",
    "include",
    "delete",
    "max_delete_percent",
    "force_delete",
    "storage_class",
    "sse",
    "sse_kms_key_id",
    "follow_symlinks",
    "allow_empty_source",
    "require_mount",
    "part_size_mib",
}
SSE_VALUES = ("AES256", "aws:kms")


@dataclass(frozen=True)
class ShareSettings:
    server: str
    share: str
    user: str
    domain: str | None = None
    port: int = 445
    password_file: str | None = None


@dataclass(frozen=True)
class FolderSettings:
    """One folder to back up: where from, where to, and how."""

    path: str
    destination: str
    filters: Filters = field(default_factory=Filters)
    delete: bool = False
    guards: DeleteGuards = field(default_factory=DeleteGuards)
    upload: UploadOptions = field(default_factory=UploadOptions)
    follow_symlinks: bool = False
    allow_empty_source: bool = False
    require_mount: bool = False


@dataclass(frozen=True)
class BackupConfig:
    s3: S3Settings
    jobs: int | None
    folders: list[FolderSettings]
    share: ShareSettings | None = None


def load_config(path: Path) -> BackupConfig:
    """Read and check the settings file PATH; errors name the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BackupConfigInvalid(f"cannot read settings file {path}: {error.strerror}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BackupConfigInvalid(f"settings file {path} is not valid TOML: {error}") from error
    return parse_config(data, str(path))


def parse_config(data: Mapping[str, Any], origin: str) -> BackupConfig:
    """Build a ``BackupConfig`` from parsed TOML DATA; ORIGIN names the file in errors."""
    reader = _Reader(origin)
    reader.check_keys(data, {"share", "s3", "defaults", "folder"}, "")

    share = None
    if "share" in data:
        share = _share(reader, reader.table(data, "share", ""))
    s3_table = reader.table(data, "s3", "") if "s3" in data else {}
    reader.check_keys(s3_table, S3_KEYS, "s3.")
    checksum_name = reader.text(s3_table, "checksum", "s3.", "CRC32").upper()
    if checksum_name not in Checksum.__members__:
        reader.fail("s3.checksum", f"must be one of {', '.join(Checksum.__members__)}")
    s3 = S3Settings(
        profile=reader.text(s3_table, "profile", "s3.", None),
        region=reader.text(s3_table, "region", "s3.", None),
        endpoint_url=reader.text(s3_table, "endpoint_url", "s3.", None),
        path_style=reader.flag(s3_table, "path_style", "s3.", False),
        checksum=Checksum[checksum_name],
    )
    jobs = reader.number(s3_table, "jobs", "s3.", None)
    if jobs is not None and jobs < 1:
        reader.fail("s3.jobs", "must be 1 or more")

    defaults = reader.table(data, "defaults", "") if "defaults" in data else {}
    reader.check_keys(defaults, FOLDER_KEYS - {"path", "destination"}, "defaults.")
    folders_data = data.get("folder")
    if not isinstance(folders_data, list) or not folders_data:
        raise BackupConfigInvalid(
            f"{origin}: folder: missing; add at least one [[folder]] table with path "
            "and destination"
        )
    folders = [
        _folder(reader, {**defaults, **reader.table_item(item, f"folder[{index}]")}, index)
        for index, item in enumerate(folders_data)
    ]
    return BackupConfig(s3=s3, jobs=jobs, folders=folders, share=share)


def _share(reader: _Reader, table: Mapping[str, Any]) -> ShareSettings:
    reader.check_keys(table, SHARE_KEYS, "share.")
    port = reader.number(table, "port", "share.", 445)
    assert port is not None
    return ShareSettings(
        server=reader.required_text(table, "server", "share."),
        share=reader.required_text(table, "share", "share."),
        user=reader.required_text(table, "user", "share."),
        domain=reader.text(table, "domain", "share.", None),
        port=port,
        password_file=reader.text(table, "password_file", "share.", None),
    )


def _folder(reader: _Reader, table: Mapping[str, Any], index: int) -> FolderSettings:
    where = f"folder[{index}]."
    reader.check_keys(table, FOLDER_KEYS, where)
    destination = reader.required_text(table, "destination", where)
    try:
        parse_destination(destination)
    except BackupConfigInvalid as error:
        reader.fail(where + "destination", str(error))

    rules = [(False, pattern) for pattern in reader.patterns(table, "exclude", where)]
    rules += [(True, pattern) for pattern in reader.patterns(table, "include", where)]
    percent = reader.number(table, "max_delete_percent", where, 50)
    assert percent is not None
    if not 0 <= percent <= 100:
        reader.fail(where + "max_delete_percent", "must be between 0 and 100")

    sse = reader.text(table, "sse", where, None)
    if sse is not None and sse not in SSE_VALUES:
        reader.fail(where + "sse", f"must be one of {', '.join(SSE_VALUES)}")
    part_size = reader.number(table, "part_size_mib", where, 8)
    assert part_size is not None
    if not 5 <= part_size <= 5120:
        reader.fail(where + "part_size_mib", "must be between 5 and 5120 (MiB), S3's limits")

    return FolderSettings(
        path=reader.required_text(table, "path", where),
        destination=destination,
        filters=Filters(tuple(rules)),
        delete=reader.flag(table, "delete", where, False),
        guards=DeleteGuards(
            max_percent=float(percent), force=reader.flag(table, "force_delete", where, False)
        ),
        upload=UploadOptions(
            storage_class=reader.text(table, "storage_class", where, None),
            sse=sse,
            sse_kms_key_id=reader.text(table, "sse_kms_key_id", where, None),
            part_size=int(part_size * MIB),
            multipart_threshold=int(part_size * MIB),
        ),
        follow_symlinks=reader.flag(table, "follow_symlinks", where, False),
        allow_empty_source=reader.flag(table, "allow_empty_source", where, False),
        require_mount=reader.flag(table, "require_mount", where, False),
    )


class _Reader:
    """Typed access to TOML values, raising errors that name the file and the key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, key: str, message: str) -> Any:
        raise BackupConfigInvalid(f"{self.origin}: {key}: {message}")

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(where + key, f"unknown key; expected one of {', '.join(sorted(allowed))}")

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            self.fail(where + key, "must be a table")
        return value  # type: ignore[return-value]

    def table_item(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "must be a table")
        return value  # type: ignore[return-value]

    def text(self, table: Mapping[str, Any], key: str, where: str, default: Any) -> Any:
        value = table.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            self.fail(where + key, "must be a non-empty string")
        return value

    def required_text(self, table: Mapping[str, Any], key: str, where: str) -> str:
        if key not in table:
            self.fail(where + key, "missing")
        value: str = self.text(table, key, where, None)
        return value

    def flag(self, table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(where + key, "must be true or false")
        return bool(value)

    def number(self, table: Mapping[str, Any], key: str, where: str, default: int | None) -> Any:
        value = table.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            self.fail(where + key, "must be a number")
        return value

    def patterns(self, table: Mapping[str, Any], key: str, where: str) -> list[str]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(where + key, "must be a list of glob patterns")
        return list(value)

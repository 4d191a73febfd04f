"""Surgical edits of ~/.aws/credentials and ~/.aws/config.

Only the keys shibaws owns are changed. Every other profile, key and
comment stays byte for byte: configupdater keeps the lines it does not
touch. A parallel run is kept out with an advisory lock on the folder. The
new text replaces the file atomically, by renaming a temporary file over it.
Where the file itself is a bind mount, rename fails with EBUSY, so the file
is rewritten in place instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from configupdater import ConfigUpdater
from configupdater.parser import ParsingError

from shibaws.errors import FileWriteFailed, UsageError

logger = logging.getLogger(__name__)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
# Seconds to wait for another shibaws run to release the lock.
LOCK_TIMEOUT = 30.0
_PROFILE_NAME_FORBIDDEN = set("[]\r\n\t")


def credentials_path() -> Path:
    """Return the shared credentials file, honouring AWS_SHARED_CREDENTIALS_FILE."""
    value = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(value).expanduser() if value else Path.home() / ".aws" / "credentials"


def config_path() -> Path:
    """Return the shared config file, honouring AWS_CONFIG_FILE."""
    value = os.environ.get("AWS_CONFIG_FILE")
    return Path(value).expanduser() if value else Path.home() / ".aws" / "config"


def check_profile_name(name: str) -> str:
    """Return NAME, or raise UsageError when it cannot be an INI section name."""
    if not name or name != name.strip() or _PROFILE_NAME_FORBIDDEN & set(name):
        raise UsageError(
            f"invalid profile name {name!r}: use letters, digits and -_.@ without spaces"
        )
    return name


def config_section(profile: str) -> str:
    """Return the name of the ~/.aws/config section that contains PROFILE."""
    return "default" if profile == "default" else f"profile {profile}"


def update_section(path: Path, section: str, values: Mapping[str, str | None]) -> None:
    """Set VALUES in SECTION of the INI file at PATH; a None value removes the key.

    Creates the folder 0700 and the file 0600 when missing. Raises
    FileWriteFailed, leaving the file as it was, when anything goes wrong.
    """
    for key, value in values.items():
        _check_value(key, value)

    target = _resolve(path)
    _make_directory(target.parent)
    with _locked(target.parent):
        text = _read(target)
        new_text = _edit(text, section, values, target)
        if new_text == text:
            logger.debug("%s already up to date", target)
            return
        _write(target, new_text)
    logger.debug("updated [%s] in %s", section, target)


def _check_value(key: str, value: str | None) -> None:
    if value is None:
        return
    if value == "":
        raise FileWriteFailed(f"refusing to write an empty value for {key}")
    if "\n" in value or "\r" in value:
        raise FileWriteFailed(f"refusing to write {key}: its value contains a line break")


def _resolve(path: Path) -> Path:
    """Follow a symlinked file so the link is kept and its target is updated."""
    try:
        return path.resolve(strict=False)
    except OSError as error:
        raise FileWriteFailed(f"cannot resolve {path}: {error.strerror}") from None


def _make_directory(directory: Path) -> None:
    if directory.is_dir():
        return
    try:
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise FileWriteFailed(
            f"cannot create {directory}: {error.strerror}; create it or fix its permissions"
        ) from None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive flock on DIRECTORY, waiting at most LOCK_TIMEOUT seconds."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as error:
        raise FileWriteFailed(f"cannot open {directory} to lock it: {error.strerror}") from None
    try:
        _acquire(fd, directory)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, directory: Path) -> None:
    import time

    deadline = time.monotonic() + LOCK_TIMEOUT
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise FileWriteFailed(
                    f"another shibaws run has held the lock on {directory} for "
                    f"{LOCK_TIMEOUT:.0f} s; wait for it to finish and try again"
                ) from None
            time.sleep(delay)  # back off while the other run finishes its write
            delay = min(delay * 2, 0.2)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as error:
        raise FileWriteFailed(f"cannot read {path}: {error}") from None


def _edit(text: str, section: str, values: Mapping[str, str | None], path: Path) -> str:
    updater = ConfigUpdater(strict=False, allow_no_value=True, delimiters=("=",))
    try:
        updater.read_string(text)
    except ParsingError as error:
        raise FileWriteFailed(
            f"cannot parse {path} (line {_first_error_line(error)}); fix that line and try again"
        ) from None

    if not updater.has_section(section):
        if any(value is not None for value in values.values()):
            _append_section(updater, section)
        else:
            return text
    block = updater[section]
    for key, value in values.items():
        if value is None:
            if key in block:
                del block[key]
        elif key in block:
            block[key] = value
        else:
            _add_option(block, key, value)
    if _is_empty(block):
        # Only shibaws's keys were there: drop the header too rather than leave it bare.
        block.detach()
    return str(updater)


def _is_empty(block: Any) -> bool:
    """Return whether a section contains no option and no comment, only blank lines."""
    from configupdater import Option
    from configupdater.block import Comment

    return not any(isinstance(item, Option | Comment) for item in block.iter_blocks())


def _add_option(block: Any, key: str, value: str) -> None:
    """Add KEY after the section's last option, so it stays above any trailing blank line."""
    options = list(block.iter_options())
    if options:
        options[-1].add_after.option(key, value)
    else:
        block[key] = value


def _append_section(updater: ConfigUpdater, section: str) -> None:
    sections = updater.sections()
    if sections:
        last = updater[sections[-1]]
        # Keep one blank line between the previous section and ours.
        if not str(last).endswith("\n\n"):
            last.add_after.space(1)
    updater.add_section(section)


def _first_error_line(error: ParsingError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        return str(errors[0][0])
    return "unknown"


def _write(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    try:
        _replace_atomically(path, data)
    except OSError as error:
        if error.errno not in (errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.EROFS):
            raise FileWriteFailed(f"cannot write {path}: {error.strerror}") from None
        logger.debug("replacing %s failed (%s); writing in place", path, error.strerror)
        _write_in_place(path, data, error)


def _replace_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode_for(path))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_in_place(path: Path, data: bytes, first_error: OSError) -> None:
    if not path.exists():
        raise FileWriteFailed(
            f"cannot write {path}: {first_error.strerror}; check that its folder is writable"
        ) from None
    try:
        with open(path, "r+b") as handle:
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise FileWriteFailed(
            f"cannot write {path}: {error.strerror}; check the permissions of the file "
            "and its folder"
        ) from None


def _mode_for(path: Path) -> int:
    """Keep an existing file's mode when it is at least as strict as 0600."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return FILE_MODE
    return current if current & ~FILE_MODE == 0 else FILE_MODE

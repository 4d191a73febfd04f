"""Find the SMB password without ever taking it from argv or a URL.

Order, first match wins:

1. ``--smb-password-file FILE``
2. the ``SHIBAWS_SMB_PASSWORD_FILE`` environment variable (a Docker secret
   is a file, for example ``/run/secrets/smb_password``)
3. ``password_file`` in the share's section of ``backup.toml``
4. a hidden prompt, only when stdin is a terminal
"""

from __future__ import annotations

import getpass
import logging
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shibaws.backup.errors import BackupConfigInvalid

logger = logging.getLogger(__name__)

PASSWORD_FILE_ENV = "SHIBAWS_SMB_PASSWORD_FILE"
# A password file larger than this is certainly the wrong file.
MAX_PASSWORD_FILE_BYTES = 4096


@dataclass(frozen=True)
class SmbPassword:
    """The password and where it came from (for an info log line; never the value)."""

    value: str
    origin: str

    def __repr__(self) -> str:
        return f"SmbPassword(origin={self.origin!r})"


def resolve_smb_password(
    *,
    option_file: str | None,
    config_file: str | None,
    account: str,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    interactive: bool | None = None,
) -> SmbPassword:
    """Return the SMB password for ACCOUNT (shown in the prompt) from the first source set.

    OPTION_FILE comes from ``--smb-password-file`` and CONFIG_FILE from
    ``backup.toml``. PROMPT and INTERACTIVE default to ``getpass.getpass``
    and whether stdin is a terminal, and exist for tests.
    """
    environ = os.environ if environ is None else environ
    candidates = [
        (option_file, "--smb-password-file"),
        (environ.get(PASSWORD_FILE_ENV) or None, PASSWORD_FILE_ENV),
        (config_file, "password_file in the settings file"),
    ]
    for path, origin in candidates:
        if not path:
            continue
        value = read_password_file(Path(path), origin)
        logger.info("SMB password for %s read from %s (%s)", account, path, origin)
        return SmbPassword(value=value, origin=f"{origin} ({path})")

    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise BackupConfigInvalid(
            f"no SMB password for {account}: give --smb-password-file FILE, set "
            f"{PASSWORD_FILE_ENV}, or add password_file to the settings file"
        )
    ask = prompt or getpass.getpass
    value = ask(f"SMB password for {account}: ")
    if not value:
        raise BackupConfigInvalid(f"empty SMB password for {account}; run again and type it")
    return SmbPassword(value=value, origin="prompt")


def read_password_file(path: Path, origin: str = "password file") -> str:
    """Return the password stored in PATH: its text without one trailing line break."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise BackupConfigInvalid(
                f"SMB password file {path} (from {origin}) is not a regular file; "
                "give the path of a file that contains only the password"
            )
        if info.st_size > MAX_PASSWORD_FILE_BYTES:
            raise BackupConfigInvalid(
                f"SMB password file {path} (from {origin}) has {info.st_size} bytes, more than "
                f"{MAX_PASSWORD_FILE_BYTES}; give the file that contains only the password"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise BackupConfigInvalid(
            f"cannot read SMB password file {path} (from {origin}): {error.strerror}; "
            "check the path and its permissions"
        ) from error

    if info.st_mode & stat.S_IROTH and not str(path).startswith("/run/secrets/"):
        logger.warning(
            "SMB password file %s can be read by every local user; run chmod 600 %s", path, path
        )

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BackupConfigInvalid(
            f"SMB password file {path} (from {origin}) is not UTF-8 text; save it as UTF-8"
        ) from None
    # Editors and `echo` add one line break; a password never ends with one.
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise BackupConfigInvalid(f"SMB password file {path} (from {origin}) is empty")
    if "\n" in text or "\r" in text:
        raise BackupConfigInvalid(
            f"SMB password file {path} (from {origin}) has more than one line; "
            "keep only the password in it"
        )
    return text

"""Read the IdP password from a hidden prompt, standard input or a file; never from argv."""

from __future__ import annotations

import functools
import getpass
import logging
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shibaws.errors import UsageError

logger = logging.getLogger(__name__)

# A password file larger than this is not a password file.
MAX_PASSWORD_FILE_BYTES = 4096


@dataclass(frozen=True)
class PasswordSource:
    """Source of the password: a file, standard input, or else a prompt."""

    file: Path | None = None
    stdin: bool = False


def read_password(source: PasswordSource, username: str) -> str:
    """Return the password from SOURCE, without its line ending."""
    if source.file is not None:
        password = _read_file(source.file)
    elif source.stdin:
        password = _strip_line_end(sys.stdin.readline())
    else:
        password = _prompt(username)
    if not password:
        raise UsageError("the password is empty; give the password of your campus account")
    return password


def password_reader(source: PasswordSource, username: str) -> Callable[[], str]:
    """Return a function that gives the password, asking at most once.

    A file or standard input is read at once. The prompt waits until the IdP
    shows its password page, so a kept browser profile whose single sign-on
    session is still valid needs no password at all.
    """
    if source.file is not None or source.stdin:
        password = read_password(source, username)
        return lambda: password
    if not _has_terminal():
        raise UsageError(
            "no terminal to ask for the password: use --password-stdin or --password-file"
        )
    return functools.cache(lambda: read_password(source, username))


def _read_file(path: Path) -> str:
    try:
        info = path.stat()
        if info.st_size > MAX_PASSWORD_FILE_BYTES:
            raise UsageError(f"password file {path} is larger than {MAX_PASSWORD_FILE_BYTES} bytes")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) and stat.S_ISREG(info.st_mode):
            logger.warning(
                "password file %s can be read by other users; run: chmod 600 %s", path, path
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"password file {path} not found") from None
    except UnicodeDecodeError:
        raise UsageError(f"password file {path} is not UTF-8 text") from None
    except OSError as error:
        raise UsageError(f"cannot read password file {path}: {error.strerror}") from None
    return _strip_line_end(text.split("\n", 1)[0])


def _prompt(username: str) -> str:
    if not _has_terminal():
        raise UsageError(
            "no terminal to ask for the password: use --password-stdin or --password-file"
        )
    try:
        return getpass.getpass(f"Password for {username}: ", stream=sys.stderr)
    except EOFError:
        raise UsageError("no password given at the prompt") from None


def _has_terminal() -> bool:
    """Return whether getpass can read from a terminal (it opens /dev/tty)."""
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return False


def _strip_line_end(line: str) -> str:
    return line.rstrip("\r\n")


def passcode_reader(from_stdin: bool) -> Callable[[], str] | None:
    """Return a function that asks for a Duo passcode, or None when nothing can ask.

    With FROM_STDIN, each call reads the next line of standard input (after
    the password line when --password-stdin is also used).
    """
    if from_stdin:
        return _read_passcode_line
    if _has_terminal():
        return _prompt_passcode
    return None


def _read_passcode_line() -> str:
    passcode = _strip_line_end(sys.stdin.readline()).strip()
    if not passcode:
        raise UsageError("--passcode-stdin was given but standard input had no passcode line")
    return passcode


def _prompt_passcode() -> str:
    try:
        passcode = getpass.getpass("Duo passcode: ", stream=sys.stderr).strip()
    except EOFError:
        raise UsageError("no passcode given at the prompt") from None
    if not passcode:
        raise UsageError("the passcode is empty")
    return passcode

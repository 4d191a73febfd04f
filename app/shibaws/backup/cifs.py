"""``--mount cifs``: read the share through the kernel's CIFS client for one run.

``mount.cifs`` gets the account from a ``credentials=`` file of mode 0600
in a private 0700 temporary folder, so the password never appears on a
command line or in ``/proc/*/cmdline``. The file is removed as soon as the
mount exists, because the kernel keeps the credentials it needs. The mount
is read-only, checked in ``/proc/self/mountinfo`` before any file is read
(an unmounted mount point looks like an empty folder), and unmounted in
``close()``, which also runs after an error, Ctrl-C or SIGTERM.

Needs root (or CAP_SYS_ADMIN) and cifs-utils. In a container that means
SYS_ADMIN and DAC_READ_SEARCH plus relaxed seccomp and AppArmor profiles,
which is why reading ``smb://`` URLs in user space is the default.

NOTE: the development machine's kernel has no CIFS support, so a real
``mount.cifs`` has never run against this code. The tests replace
``mount.cifs`` with a script that checks the arguments and the credentials
file and bind-mounts a local folder, so everything around the mount call
(file content and mode, argv, mount check, error path, unmount) is tested.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from shibaws.backup.errors import BackupConfigInvalid, SourceUnavailable
from shibaws.backup.local import LocalSource
from shibaws.backup.smburl import DEFAULT_PORT, SmbLocation, parse_smb_url
from shibaws.backup.source import SourceEntry, SourceProblem
from shibaws.errors import Cancelled

logger = logging.getLogger(__name__)

MOUNT_TIMEOUT_S = 120
UMOUNT_TIMEOUT_S = 60
# Options that would carry the account on the command line; they belong in
# the credentials file.
FORBIDDEN_OPTIONS = {"user", "username", "pass", "password", "password2", "credentials", "cred"}
MOUNTINFO = Path("/proc/self/mountinfo")


def open_cifs_source(
    url: str,
    password: str,
    *,
    mount_options: Sequence[str] = (),
    mount_command: str = "mount.cifs",
    umount_command: str = "umount",
) -> CifsSource:
    """Return a ``Source`` that mounts the ``smb://`` URL's share in ``check()``."""
    return CifsSource(
        parse_smb_url(url),
        password,
        mount_options=mount_options,
        mount_command=mount_command,
        umount_command=umount_command,
    )


@contextmanager
def mount_cifs(
    url: str,
    password: str,
    *,
    mount_options: Sequence[str] = (),
    mount_command: str = "mount.cifs",
    umount_command: str = "umount",
) -> Iterator[Path]:
    """Mount the share of the ``smb://`` URL read-only and yield the URL's folder in it.

    The share is unmounted when the block ends, also after an exception.
    """
    source = open_cifs_source(
        url,
        password,
        mount_options=mount_options,
        mount_command=mount_command,
        umount_command=umount_command,
    )
    try:
        yield source.mount()
    finally:
        source.close()


def credentials_text(location: SmbLocation, password: str) -> str:
    """Return the content of a mount.cifs ``credentials=`` file for LOCATION's account."""
    for label, value in (("password", password), ("user name", location.username)):
        if "\n" in value or "\r" in value:
            raise BackupConfigInvalid(
                f"the SMB {label} contains a line break, which a mount.cifs credentials "
                "file cannot hold; use the smb:// mode without --mount cifs"
            )
    lines = [f"username={location.username}", f"password={password}"]
    if location.domain:
        lines.append(f"domain={location.domain}")
    return "\n".join(lines) + "\n"


def mount_argv(
    location: SmbLocation,
    mount_point: Path,
    credentials: Path,
    extra_options: Sequence[str] = (),
    mount_command: str = "mount.cifs",
) -> list[str]:
    """Return the mount.cifs command line: share, mount point and options, never the password."""
    for option in extra_options:
        name = option.split("=", 1)[0].strip().lower()
        if name in FORBIDDEN_OPTIONS:
            raise BackupConfigInvalid(
                f"mount option {name!r} is not allowed: the account and password go into "
                "a private credentials file; give the password with --smb-password-file"
            )
        if "," in option or not option:
            raise BackupConfigInvalid(
                f"mount option {option!r} is invalid; give one option per --mount-option"
            )
    options = ["ro", f"credentials={credentials}", "iocharset=utf8"]
    if location.port != DEFAULT_PORT:
        options.append(f"port={location.port}")
    options.extend(extra_options)
    share = f"//{location.server}/{location.share}"
    return [mount_command, share, str(mount_point), "-o", ",".join(options)]


def is_mount_point(path: Path) -> bool:
    """Return whether PATH is listed as a mount point in ``/proc/self/mountinfo``.

    ``os.path.ismount`` misses bind mounts inside one file system.
    """
    target = os.path.realpath(path)
    try:
        lines = MOUNTINFO.read_text().splitlines()
    except OSError:
        return os.path.ismount(target)
    for line in lines:
        fields = line.split(" ")
        # Field 5 is the mount point, with space, tab, newline and "\" as octal escapes.
        if len(fields) > 4 and _unescape_mountinfo(fields[4]) == target:
            return True
    return False


def _unescape_mountinfo(text: str) -> str:
    for escaped, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(escaped, char)
    return text


class CifsSource:
    """An SMB folder read through a CIFS mount that lives from ``check()`` to ``close()``."""

    sorted_walk = True  # the local walk yields paths in S3 key order

    def __init__(
        self,
        location: SmbLocation,
        password: str,
        *,
        mount_options: Sequence[str] = (),
        mount_command: str = "mount.cifs",
        umount_command: str = "umount",
    ) -> None:
        self.location = location
        self.description = f"{location.describe()} (mounted with mount.cifs)"
        self._password = password
        self._mount_options = list(mount_options)
        self._mount_command = mount_command
        self._umount_command = umount_command
        self._work_dir: Path | None = None
        self._mount_point: Path | None = None
        self._local: LocalSource | None = None
        self._previous_sigterm: signal.Handlers | None = None

    def check(self) -> None:
        """Mount the share, prove the mount and the folder exist, then list the folder."""
        if self._local is None:
            self.mount()
        try:
            self._mounted().check()
        except BaseException:
            self.close()  # a failed check leaves nothing mounted
            raise

    def walk(self) -> Iterator[SourceEntry | SourceProblem]:
        return self._mounted().walk()

    def open(self, path: str) -> BinaryIO:
        return self._mounted().open(path)

    def stat(self, path: str) -> SourceEntry:
        return self._mounted().stat(path)

    def close(self) -> None:
        """Unmount the share and remove the private folder; safe to call twice."""
        if self._local is not None:
            self._local.close()
            self._local = None
        try:
            if self._mount_point is not None and is_mount_point(self._mount_point):
                self._unmount(self._mount_point)
        finally:
            self._remove_work_dir()
            self._restore_sigterm()

    def _mounted(self) -> LocalSource:
        if self._local is None:
            raise SourceUnavailable(f"{self.description} is not mounted; call check() first")
        return self._local

    def mount(self) -> Path:
        """Mount the share and return the folder the URL names inside the mount point."""
        self._catch_sigterm()
        work_dir = Path(tempfile.mkdtemp(prefix="shibaws-cifs-"))  # mode 0700
        self._work_dir = work_dir
        mount_point = work_dir / "share"
        mount_point.mkdir(mode=0o700)
        self._mount_point = mount_point
        credentials = work_dir / "credentials"
        try:
            _write_private_file(credentials, credentials_text(self.location, self._password))
            argv = mount_argv(
                self.location, mount_point, credentials, self._mount_options, self._mount_command
            )
            self._run_mount(argv)
        except BaseException:
            self.close()
            raise
        finally:
            credentials.unlink(missing_ok=True)

        if not is_mount_point(mount_point):
            self.close()
            raise SourceUnavailable(
                f"{' '.join(argv[:3])} reported success but {mount_point} is not a mount point; "
                "nothing was read"
            )
        folder = mount_point / self.location.path if self.location.path else mount_point
        self._local = LocalSource(folder)
        logger.info("mounted %s on %s", self.location.describe(), mount_point)
        return folder

    def _run_mount(self, argv: list[str]) -> None:
        if shutil.which(argv[0]) is None:
            raise SourceUnavailable(
                f"{argv[0]} not found; install cifs-utils, or drop --mount cifs to read the "
                "share in user space"
            )
        logger.debug("running %s", " ".join(argv))
        try:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=MOUNT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SourceUnavailable(
                f"{argv[0]} {argv[1]} timed out after {MOUNT_TIMEOUT_S} s; "
                "check that the server is reachable"
            ) from None
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
            raise SourceUnavailable(
                f"{argv[0]} {argv[1]} failed: {detail}; check the server, share and password "
                "file (this kernel must support CIFS, and mounting needs root or CAP_SYS_ADMIN)"
            )

    def _unmount(self, mount_point: Path) -> None:
        argv = [self._umount_command, str(mount_point)]
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, timeout=UMOUNT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            logger.warning("umount %s timed out after %s s", mount_point, UMOUNT_TIMEOUT_S)
            return
        if result.returncode != 0:
            # A lazy unmount detaches it now and finishes when the last file closes.
            logger.warning(
                "umount %s failed (%s); detaching it", mount_point, result.stderr.strip()
            )
            subprocess.run(
                [self._umount_command, "-l", str(mount_point)],
                capture_output=True,
                timeout=UMOUNT_TIMEOUT_S,
                check=False,
            )
            return
        logger.info("unmounted %s", mount_point)

    def _remove_work_dir(self) -> None:
        """Remove the credentials file, mount point and folder, never files behind a mount."""
        work_dir, mount_point = self._work_dir, self._mount_point
        if work_dir is None:
            return
        (work_dir / "credentials").unlink(missing_ok=True)
        if mount_point is not None and is_mount_point(mount_point):
            logger.warning("%s is still mounted; leaving %s in place", mount_point, work_dir)
            return
        try:
            if mount_point is not None:
                mount_point.rmdir()
            work_dir.rmdir()
        except OSError as error:
            logger.warning("cannot remove %s: %s", work_dir, error)
            return
        self._work_dir = self._mount_point = None

    def _catch_sigterm(self) -> None:
        """Turn SIGTERM into ``Cancelled`` while mounted, so ``close()`` still unmounts.

        Only when no one else handles SIGTERM (the scheduler does) and only
        in the main thread, where Python runs signal handlers.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _raise_cancelled)
        self._previous_sigterm = signal.SIG_DFL

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is None:
            return
        signal.signal(signal.SIGTERM, self._previous_sigterm)
        self._previous_sigterm = None


def _raise_cancelled(signum: int, frame: FrameType | None) -> None:
    raise Cancelled("stopped by SIGTERM")


def _write_private_file(path: Path, text: str) -> None:
    """Create PATH with mode 0600 from the start (no window with wider permissions)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)

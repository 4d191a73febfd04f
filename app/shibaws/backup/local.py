"""A local folder or an already-mounted share (NFS, CIFS) as a backup source."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from shibaws.backup.errors import SourceUnavailable
from shibaws.backup.plan import key_order_name
from shibaws.backup.source import SourceEntry, SourceProblem

logger = logging.getLogger(__name__)


def display_name(path: str) -> str:
    """Return PATH printable, with bytes that are not valid UTF-8 shown as \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class LocalSource:
    """Files under a local folder, walked depth-first in S3 key order.

    Each folder's names are sorted with ``key_order_name``, so the walk
    yields keys in the order S3 lists them and the sync needs no sort of
    its own. Only names are kept per open folder (about 60 to 100 bytes
    each); sizes and mtimes are read as files are yielded.
    """

    sorted_walk = True  # walk() yields paths in S3 key order

    def __init__(
        self,
        root: str | Path,
        follow_symlinks: bool = False,
        allow_empty: bool = False,
        require_mount: bool = False,
    ) -> None:
        self.root = os.path.abspath(root)
        self.follow_symlinks = follow_symlinks
        self.allow_empty = allow_empty
        self.require_mount = require_mount
        self.description = self.root

    def check(self) -> None:
        """Raise ``SourceUnavailable`` unless the root is a folder that can be listed.

        An empty root is an error unless ``allow_empty`` is set, because an
        unmounted mount point looks exactly like an empty folder.
        """
        if not os.path.isdir(self.root):
            raise SourceUnavailable(
                f"source folder {self.root} not found or not a folder; "
                "check the path and that its share is mounted"
            )
        try:
            with os.scandir(self.root) as entries:
                empty = next(entries, None) is None
        except OSError as error:
            raise SourceUnavailable(
                f"cannot list source folder {self.root}: {error.strerror}"
            ) from error

        if self.require_mount and not self._on_mounted_filesystem():
            raise SourceUnavailable(
                f"source folder {self.root} is on the root file system, not on a mounted share; "
                "mount the share first"
            )
        if empty and not self.allow_empty:
            raise SourceUnavailable(
                f"source folder {self.root} is empty; if it is a mount point the share may not "
                "be mounted (pass --allow-empty-source if empty is expected)"
            )

    def _on_mounted_filesystem(self) -> bool:
        return os.stat(self.root).st_dev != os.stat("/").st_dev

    def walk(self) -> Iterator[SourceEntry | SourceProblem]:
        """Yield every regular file under the root in key order, and each problem met."""
        root_id = self._folder_id(self.root)
        # Each frame: relative prefix ("" or "dir/"), remaining sorted names, folder id.
        stack: list[tuple[str, Iterator[str], tuple[int, int]]] = []
        names = self._list_folder("")
        if isinstance(names, SourceProblem):
            yield names
            return
        stack.append(("", iter(names), root_id))

        while stack:
            prefix, remaining, _ = stack[-1]
            name = next(remaining, None)
            if name is None:
                stack.pop()
                continue

            if name.endswith("/"):
                yield from self._enter_folder(prefix + name, stack)
                continue
            yield self._file_entry(prefix + name)

    def _enter_folder(
        self, relative: str, stack: list[tuple[str, Iterator[str], tuple[int, int]]]
    ) -> Iterator[SourceProblem]:
        """Push the folder RELATIVE ("a/b/") onto STACK, or yield why it cannot be walked."""
        try:
            folder_id = self._folder_id(self._absolute(relative))
        except OSError as error:
            yield SourceProblem(display_name(relative), f"cannot read folder: {error.strerror}")
            return
        if any(frame[2] == folder_id for frame in stack):
            yield SourceProblem(display_name(relative), "symbolic link loop, not followed")
            return

        names = self._list_folder(relative)
        if isinstance(names, SourceProblem):
            yield names
            return
        stack.append((relative, iter(names), folder_id))

    def _list_folder(self, relative: str) -> list[str] | SourceProblem:
        """Return a folder's names in key order, folders marked with a trailing "/"."""
        names: list[str] = []
        try:
            with os.scandir(self._absolute(relative)) as entries:
                for entry in entries:
                    name = self._order_name(entry, relative)
                    if name is not None:
                        names.append(name)
        except OSError as error:
            shown = display_name(relative) or "."
            return SourceProblem(shown, f"cannot list folder: {error.strerror}")
        names.sort()
        return names

    def _order_name(self, entry: os.DirEntry[str], relative: str) -> str | None:
        try:
            if entry.is_symlink() and not self.follow_symlinks:
                logger.debug(
                    "skip %s: symbolic link (not followed)", display_name(relative + entry.name)
                )
                return None
            if entry.is_dir(follow_symlinks=self.follow_symlinks):
                return key_order_name(entry.name, is_dir=True)
            if entry.is_file(follow_symlinks=self.follow_symlinks):
                return key_order_name(entry.name, is_dir=False)
        except OSError:
            # A dangling link or a file removed since the listing: _file_entry reports it.
            return entry.name
        logger.debug("skip %s: not a regular file or folder", display_name(relative + entry.name))
        return None

    def _file_entry(self, relative: str) -> SourceEntry | SourceProblem:
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            return SourceEntry(display_name(relative), 0, 0, name_error="name is not valid UTF-8")
        try:
            info = os.stat(self._absolute(relative), follow_symlinks=self.follow_symlinks)
        except OSError as error:
            return SourceProblem(relative, f"cannot read file: {error.strerror}")
        if not stat.S_ISREG(info.st_mode):
            return SourceProblem(relative, "no longer a regular file")
        return SourceEntry(relative, info.st_size, info.st_mtime_ns)

    def _folder_id(self, path: str) -> tuple[int, int]:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)

    def _absolute(self, relative: str) -> str:
        return os.path.join(self.root, relative) if relative else self.root

    def open(self, path: str) -> BinaryIO:
        """Open PATH for reading (POSIX has no share modes, so others may keep writing)."""
        return open(self._absolute(path), "rb")

    def read_file(
        self, path: str, size_hint: int, limit: int
    ) -> tuple[bytes, SourceEntry, SourceEntry]:
        """Read PATH whole if it is smaller than LIMIT bytes; return the bytes, and size and
        mtime before and after the read (no bytes when it is not smaller).

        One byte more than the size is asked for, so a file that grew shows.
        Both stats come from the open file, so a file replaced meanwhile is
        read and described consistently. SIZE_HINT (the walk's size) is not
        needed here.
        """
        with self.open(path) as handle:
            before = os.fstat(handle.fileno())
            data = handle.read(before.st_size + 1) if before.st_size < limit else b""
            after = os.fstat(handle.fileno())
        return (
            data,
            SourceEntry(path, before.st_size, before.st_mtime_ns),
            SourceEntry(path, after.st_size, after.st_mtime_ns),
        )

    def stat(self, path: str) -> SourceEntry:
        """Return PATH's size and mtime now."""
        info = os.stat(self._absolute(path), follow_symlinks=self.follow_symlinks)
        return SourceEntry(path, info.st_size, info.st_mtime_ns)

    def close(self) -> None:
        """Nothing to release for a local folder."""

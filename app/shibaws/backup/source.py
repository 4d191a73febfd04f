"""What the sync engine needs from a place files are read from.

A local folder, an NFS mount and an SMB share read in user space all
implement ``Source``. Paths given to and returned by a source are relative,
use "/" as separator, and are ``str`` (names that cannot be decoded are
reported through ``SourceEntry.name_error`` instead of being dropped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class SourceEntry:
    """One regular file found in the source."""

    path: str
    size: int
    mtime_ns: int
    # Set when the name cannot become an S3 key (for example invalid UTF-8):
    # the entry is reported and skipped, never uploaded.
    name_error: str | None = None


@dataclass(frozen=True)
class SourceProblem:
    """A folder or file that could not be listed or read during the walk."""

    path: str
    message: str


class Source(Protocol):
    """A tree of files that a backup reads."""

    description: str  # for messages, with no password in it

    def check(self) -> None:
        """Raise ``SourceUnavailable`` unless the root folder exists and can be listed."""

    def walk(self) -> Iterator[SourceEntry | SourceProblem]:
        """Yield every regular file under the root, and every problem met on the way."""

    def open(self, path: str) -> BinaryIO:
        """Open PATH for reading, sharing it with other readers and writers."""

    def stat(self, path: str) -> SourceEntry:
        """Return size and mtime of PATH now, to detect a file that changed while read."""

    def close(self) -> None:
        """Release connections and mounts."""

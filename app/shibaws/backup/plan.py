"""Sync planning: which files to copy and which objects to delete. Pure, no I/O.

The source walk, the bucket listing and the manifest are three streams
sorted by key. ``merge_by_key`` walks them together in one pass, so memory
does not grow with the number of files, and ``decide`` chooses one action
per key with a reason that the run logs at debug level.

The rules, in order (``decide``):

1. No source file and no object: forget the manifest record.
2. No source file: the object is a delete candidate (used only with --delete).
3. No object: upload.
4. Sizes differ: upload.
5. No manifest record for this exact object (size and ETag): read the
   object's metadata first (``CHECK_METADATA``), then decide again.
6. The recorded source mtime differs from the file's mtime, newer or older:
   upload. Comparing for equality catches a same-size change with an older
   mtime, and a file with a future mtime is uploaded once, not on every run.
7. Otherwise skip.
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from itertools import groupby
from typing import NamedTuple, Protocol, TypeVar

MAX_KEY_BYTES = 1024  # S3's limit on a key's length in UTF-8
RESERVED_PREFIX = ".shibaws/"  # where the manifest lives, relative to the destination prefix


class ListedObject(NamedTuple):
    """One object from the bucket listing; key relative to the destination prefix."""

    key: str
    size: int
    etag: str


class Record(NamedTuple):
    """Manifest entry of one uploaded object."""

    key: str
    size: int
    etag: str
    mtime_ns: int


class FileState(NamedTuple):
    """A source file reduced to what the comparison needs."""

    key: str
    size: int
    mtime_ns: int


class Action(Enum):
    UPLOAD = "upload"
    SKIP = "skip"
    CHECK_METADATA = "check-metadata"
    DELETE = "delete"
    FORGET = "forget"


class Decision(NamedTuple):
    action: Action
    reason: str


def decide(
    file: FileState | None,
    listed: ListedObject | None,
    record: Record | None,
    metadata_checked: bool = False,
) -> Decision:
    """Choose what to do with one key, following the numbered rules in the module docstring.

    With METADATA_CHECKED, RECORD comes from the object's own metadata
    (or is None when the object has none), so rule 5 cannot apply again.
    """
    if file is None and listed is None:
        return Decision(Action.FORGET, "neither source file nor object exists")
    if file is None:
        return Decision(Action.DELETE, "source file no longer exists")
    if listed is None:
        return Decision(Action.UPLOAD, "not in the destination")
    if listed.size != file.size:
        return Decision(
            Action.UPLOAD, f"size differs: source {file.size}, destination {listed.size} bytes"
        )

    matches = record is not None and record.size == listed.size and record.etag == listed.etag
    if not matches and not metadata_checked:
        return Decision(Action.CHECK_METADATA, "no manifest record for the destination object")
    if record is None or not matches:
        return Decision(Action.UPLOAD, "destination object has no recorded source mtime")
    if record.mtime_ns != file.mtime_ns:
        return Decision(
            Action.UPLOAD,
            f"mtime differs from the backed-up copy: {file.mtime_ns} ns, "
            f"recorded {record.mtime_ns} ns",
        )
    return Decision(Action.SKIP, "unchanged: same size and mtime as the backed-up copy")


@dataclass(frozen=True)
class Filters:
    """Ordered --exclude/--include rules; the last rule that matches a key wins.

    Patterns use shell globs (``fnmatch``) against the key relative to the
    source root, with "/" separators. ``*`` also matches "/", so ``*.tmp``
    excludes .tmp files at any depth. A key that no rule matches is included.
    """

    rules: tuple[tuple[bool, str], ...] = ()  # (include?, pattern) in command-line order

    def includes(self, key: str) -> bool:
        """Return True when KEY takes part in the sync."""
        included = True
        for include, pattern in self.rules:
            if fnmatch.fnmatchcase(key, pattern):
                included = include
        return included


def key_problem(key: str, prefix: str) -> str | None:
    """Return why source path KEY cannot become an object under PREFIX, or None."""
    try:
        length = len((prefix + key).encode("utf-8"))
    except UnicodeEncodeError:
        return "name is not valid UTF-8"
    if length > MAX_KEY_BYTES:
        return f"key is {length} bytes long, over S3's limit of {MAX_KEY_BYTES}"
    if key.startswith(RESERVED_PREFIX):
        return f"{RESERVED_PREFIX} is reserved for the backup manifest"
    return None


def key_order_name(name: str, is_dir: bool) -> str:
    """Return the string to sort a folder's entry by, so a depth-first walk yields sorted keys.

    S3 lists keys in UTF-8 byte order, which is Python's ``str`` order. A
    folder's files come after its siblings that sort before "name/", so
    "a.txt" (".") comes before "a/b" ("/") and "a0" ("0") after it.
    """
    return name + "/" if is_dir else name


class OutOfOrder(Exception):
    """A stream that must be sorted by key was not."""


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


KeyedT = TypeVar("KeyedT", bound=Keyed)


def check_sorted(items: Iterable[KeyedT], what: str) -> Iterator[KeyedT]:
    """Pass ITEMS through, raising ``OutOfOrder`` when a key is not after the previous one."""
    previous: str | None = None
    for item in items:
        key = item.key
        if previous is not None and key <= previous:
            raise OutOfOrder(f"{what} is not sorted by key: {key!r} after {previous!r}")
        previous = key
        yield item


class Merged(NamedTuple):
    key: str
    file: FileState | None
    listed: ListedObject | None
    record: Record | None


def merge_by_key(
    files: Iterable[FileState], listed: Iterable[ListedObject], records: Iterable[Record]
) -> Iterator[Merged]:
    """Walk three key-sorted streams together, yielding each key once with what each holds."""
    tagged = heapq.merge(
        ((item.key, 0, item) for item in check_sorted(files, "the source walk")),
        ((item.key, 1, item) for item in check_sorted(listed, "the bucket listing")),
        ((item.key, 2, item) for item in check_sorted(records, "the manifest")),
        key=lambda entry: (entry[0], entry[1]),
    )
    for key, group in groupby(tagged, key=lambda entry: entry[0]):
        slots: list[object] = [None, None, None]
        for _, index, item in group:
            slots[index] = item
        file, obj, record = slots
        assert file is None or isinstance(file, FileState)
        assert obj is None or isinstance(obj, ListedObject)
        assert record is None or isinstance(record, Record)
        yield Merged(key, file, obj, record)
